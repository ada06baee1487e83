"""Thin Celery tasks of the workflow; the work is in services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="workflows.tasks.mark_overdue", acks_late=True, ignore_result=True)
def mark_overdue() -> int:
    """Periodic (maintenance queue): idempotent, so a redelivered or doubled run changes nothing."""
    return services.mark_overdue()

