"""The periodic maintenance of the embedded mode (`make run`: no broker, no beat).

In production, beat publishes the sweepers of `beat_schedule` (lost extractions, signing requests a worker
dropped, audit events a dead process left unchained, overdue work, notice events and e-mails not processed in
time, the hourly notice digests). With tasks run in-process there is no
beat, so a file whose extraction failed would stay "pending" for good: here each finished request runs the
sweepers that are due (each at most once per its interval, remembered in the cache), in-process, after the
response. Nothing happens when a broker is configured."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished

logger = logging.getLogger(__name__)

_LAST_LOOK = {"at": 0.0}
LOOK_EVERY_SECONDS = 30  # at most one look at the schedule per process in this time, whatever the traffic


def run_due_maintenance(now: float | None = None) -> list[str]:
    """Run, in this process, every beat task whose interval has passed since it last ran here; return their
    names. Each task is idempotent, so two processes running one at the same moment do no harm."""
    from .celery import app

    now = time.time() if now is None else now
    ran = []
    for name, entry in app.conf.beat_schedule.items():
        interval = float(entry["schedule"])
        key = f"eoffice:embedded-maintenance:{name}"
        last = cache.get(key)
        if last is not None and now - last < interval:
            continue
        cache.set(key, now, timeout=int(interval) * 2 + 60)
        if last is None:
            continue  # the process just started: the first run waits one interval, as beat's would
        try:
            from .tasking import publish  # eager: runs the task body here

            publish(entry["task"])
            ran.append(entry["task"])
        except Exception:  # noqa: BLE001 - maintenance must never break a page
            logger.warning("Embedded maintenance task %s failed", entry["task"], exc_info=True)
    return ran


def _after_request(sender, **kwargs) -> None:
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return
    now = time.time()
    if now - _LAST_LOOK["at"] < LOOK_EVERY_SECONDS:
        return
    _LAST_LOOK["at"] = now
    run_due_maintenance(now)


def connect() -> None:
    """Called by the WSGI entry point (runserver and gunicorn load it); a no-op with a broker."""
    request_finished.connect(_after_request, dispatch_uid="eoffice.embedded_maintenance")
