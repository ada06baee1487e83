"""Publishing a Celery task by its name, from a service, after the transaction commits.

Services never import their app's `tasks` module (tasks call services, so the other way round would make a
circle): they publish by the task's registered name, as Celery's `send_task` does, but through the task
object so that the embedded mode's eager execution still applies. The intent is always a database row
written first, so a broker that is down loses nothing: the failure is logged and the app's sweeper
publishes the row again later.
"""

from __future__ import annotations

import logging
from importlib import import_module

from django.db import transaction

logger = logging.getLogger(__name__)


def publish(task_name: str, *args: object) -> bool:
    """Send `task_name` ("app.tasks.function") now; False (logged) when the broker cannot be reached."""
    from .celery import app

    module_name = task_name.rsplit(".", 1)[0]
    import_module(module_name)  # registers the app's tasks in a process that has not imported them yet
    try:
        app.tasks[task_name].apply_async(args=args)
    except Exception:  # noqa: BLE001 - kombu raises many kinds when the broker is unreachable
        logger.warning("Could not publish %s%r; the sweeper will publish it again.", task_name, args, exc_info=True)
        return False
    return True


def publish_on_commit(task_name: str, *args: object) -> None:
    """Publish once the surrounding transaction has committed (never a task for a row that was rolled back)."""
    transaction.on_commit(lambda: publish(task_name, *args))
