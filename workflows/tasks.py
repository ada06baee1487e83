"""Thin Celery tasks of the workflow; the work is in services."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="workflows.tasks.mark_overdue", acks_late=True, ignore_result=True)
def mark_overdue() -> int:
    """Periodic (maintenance queue): idempotent, so a redelivered or doubled run changes nothing."""
    from .services import mark_overdue as mark

    return mark()


@shared_task(name="workflows.tasks.store_notices", acks_late=True, ignore_result=True)
def store_notices(user_ids: list[int], document_id: int | None, kind: str, key: str) -> int:
    """Idempotent by (person, key): a redelivered task stores nothing twice."""
    from .services import store_notices as store

    return store(user_ids, document_id, kind, key)


def enqueue_notices(user_ids: list[int], document_id: int | None, kind: str, key: str) -> None:
    """Called on commit. A lost notice is not lost work: the person's work list is computed from the
    workflow rows, the notice is only a reminder."""
    try:
        store_notices.delay(user_ids, document_id, kind, key)
    except Exception:  # noqa: BLE001 - kombu raises many kinds when the broker is unreachable
        logger.warning("Could not enqueue notices %s.", key, exc_info=True)
