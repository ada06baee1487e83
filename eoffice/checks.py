"""System checks: a deployment must not run on the development secret key, and every Celery task
must be routed to a named queue (an unrouted task is a start-up error). The signatures app checks its own
key-encryption key (signatures/checks.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    from .settings import _INSECURE_DEV_KEY

    if settings.SECRET_KEY == _INSECURE_DEV_KEY:
        return [Error("SECRET_KEY is the development default.", hint="Set SECRET_KEY in the environment.",
                      id="eoffice.E001")]
    return []


@register()
def check_task_routes(app_configs, **kwargs):
    from .celery import unrouted_tasks

    missing = unrouted_tasks()
    if missing:
        return [Error(f"Celery tasks without a queue route: {', '.join(missing)}",
                      hint="Add them to TASK_ROUTES in eoffice/celery.py.", id="eoffice.E002")]
    return []
