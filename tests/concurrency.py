"""Running jobs in threads that start at the same moment, each with its own database connection."""

from __future__ import annotations

import threading

from django.db import connection


def run_at_once(jobs: list, *, timeout: float = 180) -> tuple[list, list[BaseException]]:
    """Start every job together (a barrier); return their results and the exceptions they raised.
    Fails if a thread is still running after `timeout` seconds (a deadlock)."""
    barrier = threading.Barrier(len(jobs))
    lock = threading.Lock()
    results: list = []
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            barrier.wait(timeout=60)
            value = job()
            with lock:
                results.append(value)
        except BaseException as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not [t for t in threads if t.is_alive()], "a job hung (deadlock?)"
    return results, errors
