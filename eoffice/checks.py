"""System checks: a deployment must not run on the development secret key, every Celery task
must be routed to a named queue (an unrouted task is a start-up error), and the compiled translations must match
their sources (eoffice/translations.py). The signatures app checks its own key-encryption key (signatures/checks.py)."""

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


@register(Tags.translation)
def check_compiled_translations(app_configs, **kwargs):
    """A missing or stale .mo makes the interface half English without any error: make it an error."""
    from .translations import FIX_COMMAND, stale_catalogues

    errors = []
    for catalogue in stale_catalogues():
        state = "missing" if catalogue.missing else "older than its source " + catalogue.po.name
        errors.append(Error(
            f"The compiled translation catalogue {catalogue.mo} is {state}: the interface would show English text.",
            hint=f"Run `{FIX_COMMAND}` (or `make setup`), or make {catalogue.mo.parent} writable so that it is "
                 "compiled at start-up.",
            id="eoffice.E005",
        ))
    return errors
