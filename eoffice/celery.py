"""The Celery app: named queues, late acks, and a refusal to start with an unrouted task."""

from __future__ import annotations

import os

from celery import Celery, signals
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")

QUEUES = ("signing", "exchange", "notifications", "default", "maintenance")

# Every project task is routed explicitly; `check_routes` refuses to start otherwise.
TASK_ROUTES = {
    "documents.tasks.extract_file_content": {"queue": "default"},
    "documents.tasks.sweep_pending_extractions": {"queue": "maintenance"},
    "search.tasks.index_stale": {"queue": "maintenance"},
    "workflows.tasks.mark_overdue": {"queue": "maintenance"},
    "exchange.tasks.deliver": {"queue": "exchange"},
    "exchange.tasks.sweep": {"queue": "maintenance"},
    "exchange.tasks.flag_late_registrations": {"queue": "maintenance"},
    "exchange.tasks.send_package": {"queue": "exchange"},
    "exchange.tasks.sweep_outbound": {"queue": "maintenance"},
    "signatures.tasks.sign": {"queue": "signing"},
    "signatures.tasks.place": {"queue": "default"},
    "signatures.tasks.verify_file": {"queue": "default"},
    "signatures.tasks.sweep": {"queue": "maintenance"},
    "signatures.tasks.remind_expiring_certificates": {"queue": "maintenance"},
    "audit.tasks.chain_pending": {"queue": "maintenance"},
    "audit.tasks.anchor_chains": {"queue": "maintenance"},
    "accounts.tasks.send_password_reset": {"queue": "notifications"},
    "accounts.tasks.send_password_reset_to": {"queue": "notifications"},
    "notifications.tasks.fan_out": {"queue": "notifications"},
    "notifications.tasks.send_emails": {"queue": "notifications"},
    "notifications.tasks.send_digests": {"queue": "maintenance"},
    "notifications.tasks.sweep": {"queue": "maintenance"},
    "dashboard.tasks.build_report": {"queue": "default"},
    "dashboard.tasks.refresh_tallies": {"queue": "maintenance"},
    "records.tasks.fixity_check": {"queue": "maintenance"},
    "records.tasks.timestamp_archived": {"queue": "signing"},
    "records.tasks.remind_transfers_due": {"queue": "maintenance"},
    "records.tasks.build_export": {"queue": "default"},
    "records.tasks.run_import": {"queue": "default"},
    "records.tasks.sweep_jobs": {"queue": "maintenance"},
    "records.tasks.remove_destroyed_content": {"queue": "maintenance"},
}

app = Celery("eoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_routes=TASK_ROUTES,
    task_default_queue="default",
    task_queues=None,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    task_eager_propagates=False,
    broker_connection_retry_on_startup=True,
    # A hard-killed worker's task returns after the visibility timeout: keep it short but longer
    # than the longest task (see shared/reference/stack-facts.md).
    broker_transport_options={
        "visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 1,
    },
    result_backend_transport_options={"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT},
    beat_schedule={
        "sweep-pending-extractions": {
            "task": "documents.tasks.sweep_pending_extractions",
            "schedule": 300.0,
        },
        "index-stale-search-entries": {
            "task": "search.tasks.index_stale",
            "schedule": 120.0,  # entries whose process stopped between their commit and their indexing
        },
        "mark-overdue-assignments": {
            "task": "workflows.tasks.mark_overdue",
            "schedule": 3600.0,  # idempotent: one reminder per assignment per day, however often it runs
        },
        "chain-audit-events": {
            "task": "audit.tasks.chain_pending",
            "schedule": 60.0,  # only events whose process died between its commit and their chaining
        },
        "anchor-audit-chains": {
            "task": "audit.tasks.anchor_chains",
            # Daily (a plain interval: the embedded mode runs the same schedule after requests, eoffice/embedded.py).
            "schedule": 86400.0,
        },
        "remind-expiring-certificates": {
            "task": "signatures.tasks.remind_expiring_certificates",
            "schedule": 86400.0,  # daily; idempotent: one reminder per certificate and threshold
        },
        "sweep-exchange-packages": {
            "task": "exchange.tasks.sweep_outbound",
            # edXML packages to other systems due for another attempt (exchange/outbound.py backs off).
            "schedule": float(os.environ.get("SWEEP_INTERVAL_SECONDS", "") or 60),
        },
        "sweep-exchange-arrivals": {
            "task": "exchange.tasks.sweep",
            # Deliveries whose arrival message a dead broker or worker lost (tests shorten it too).
            "schedule": float(os.environ.get("SWEEP_INTERVAL_SECONDS", "") or 60),
        },
        "flag-late-registrations": {
            "task": "exchange.tasks.flag_late_registrations",
            "schedule": 1800.0,  # idempotent: each late delivery is flagged once
        },
        "sweep-signing-and-verification": {
            "task": "signatures.tasks.sweep",
            # Re-queues signing requests a dead worker or broker dropped; tests shorten it (SWEEP_INTERVAL_SECONDS).
            "schedule": float(os.environ.get("SWEEP_INTERVAL_SECONDS", "") or 120),
        },
        "sweep-notices": {
            "task": "notifications.tasks.sweep",
            # Notice events and e-mails a dead broker or worker dropped (tests shorten it too).
            "schedule": float(os.environ.get("SWEEP_INTERVAL_SECONDS", "") or 60),
        },
        "refresh-dashboard-tallies": {
            "task": "dashboard.tasks.refresh_tallies",
            # The dashboard's summary tables; a page reads them while under 10 minutes old (else it counts
            # live), so they are rebuilt well within that. Idempotent.
            "schedule": 300.0,
        },
        "check-stored-file-fixity": {
            "task": "records.tasks.fixity_check",
            # Hourly: the least recently checked blobs, bounded (FIXITY_BATCH_BLOBS / FIXITY_BATCH_BYTES).
            "schedule": 3600.0,
        },
        "remind-records-transfer-due": {
            "task": "records.tasks.remind_transfers_due",
            # Daily is enough for a 30-day notice; once per file and deadline, however often it runs.
            "schedule": 6 * 3600.0,
        },
        "sweep-records-jobs": {
            "task": "records.tasks.sweep_jobs",
            "schedule": 600.0,  # BagIt jobs whose message was lost while the broker was down
        },
        "send-notice-digests": {
            "task": "notifications.tasks.send_digests",
            # Hourly: each person's digest at their hour (a missed hour is caught up by the next run).
            "schedule": 3600.0,
        },
    },
    timezone="Asia/Ho_Chi_Minh",
)
app.autodiscover_tasks()


def unrouted_tasks(celery_app: Celery = app) -> list[str]:
    """Names of project tasks with no queue route (Celery's own tasks are exempt)."""
    # Import each app's tasks module directly: the loader's import_default_modules would run Django's
    # system checks again through Celery's Django fixup (and so this function, recursively).
    from importlib import import_module

    from django.apps import apps

    for config in apps.get_app_configs():
        try:
            import_module(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.tasks":
                raise
    return sorted(
        name
        for name in celery_app.tasks
        if not name.startswith("celery.") and name not in celery_app.conf.task_routes
    )


@signals.worker_init.connect
def check_routes(**_kwargs) -> None:
    missing = unrouted_tasks()
    if missing:
        raise RuntimeError(f"Tasks without a queue route in eoffice/celery.py: {', '.join(missing)}")
