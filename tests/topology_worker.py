"""Test-only launcher for tests/test_production_topology.py: a Celery worker whose signing engine step first
sleeps (TOPOLOGY_SLOW_SIGNING_SECONDS, default 120), so the test can kill -9 it in the middle of a task and
check that another worker finishes the request exactly once; with TOPOLOGY_SLOW_ARRIVAL_SECONDS, the arrival of
deliveries sleeps instead (tests/test_exchange_faults.py). Never used outside those tests.

    python tests/topology_worker.py worker --queues signing --hostname slow@%h --concurrency 1

The patch is made before the prefork pool forks its children, so they inherit it; the sleep happens after the
task has taken the request (state "signing"), which is what a worker dying mid-signature leaves behind."""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE_STEPS = ("sign_personal", "fill_and_seal", "sign_attachment")


def slow_down_signing(delay: float) -> list[str]:
    from signatures import engine

    patched = []
    for name in ENGINE_STEPS:
        original = getattr(engine, name, None)
        if original is None:
            continue

        @functools.wraps(original)
        def slow(*args, _original=original, _name=name, **kwargs):
            print(f"topology_worker: {_name} sleeping {delay:.0f} s before signing (pid {os.getpid()})", flush=True)
            time.sleep(delay)
            return _original(*args, **kwargs)

        setattr(engine, name, slow)
        patched.append(name)
    if not patched:
        raise SystemExit(f"topology_worker: none of {ENGINE_STEPS} found in signatures.engine: update this launcher")
    return patched


def slow_down_arrivals(delay: float) -> None:
    """For tests/test_exchange_faults.py: the arrival of deliveries sleeps inside its transaction (the rows
    are locked and updated, nothing is committed), so a kill -9 there leaves the fan-out half done."""
    import contextlib

    from exchange import services

    original = services.batched_events

    @contextlib.contextmanager
    def slow():
        print(f"topology_worker: arrival sleeping {delay:.0f} s inside its transaction (pid {os.getpid()})",
              flush=True)
        time.sleep(delay)
        with original():
            yield

    services.batched_events = slow


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")
    import django

    django.setup()
    from eoffice.celery import app

    if os.environ.get("TOPOLOGY_SLOW_ARRIVAL_SECONDS"):
        slow_down_arrivals(float(os.environ["TOPOLOGY_SLOW_ARRIVAL_SECONDS"]))
        print("topology_worker: slowed down the arrival of deliveries", flush=True)
    else:
        patched = slow_down_signing(float(os.environ.get("TOPOLOGY_SLOW_SIGNING_SECONDS", "120")))
        print(f"topology_worker: slowed down {', '.join(patched)}", flush=True)
    app.worker_main(argv or ["worker", "--queues", "signing", "--concurrency", "1"])


if __name__ == "__main__":
    main(sys.argv[1:])
