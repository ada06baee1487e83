"""Thin Celery tasks of the workflow; the work is in services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="workflows.tasks.mark_overdue", acks_late=True, ignore_result=True)
def mark_overdue() -> int:
    """Periodic (maintenance queue): idempotent, so a redelivered or doubled run changes nothing."""
    return services.mark_overdue()


@shared_task(name="workflows.tasks.store_notices", acks_late=True, ignore_result=True)
def store_notices(user_ids: list[int], document_id: int | None, kind: str, key: str) -> int:
    """Idempotent by (person, key): a redelivered task stores nothing twice."""
    return services.store_notices(user_ids, document_id, kind, key)
