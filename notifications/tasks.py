"""Thin Celery tasks of notifications; the work (idempotent) is in services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.fan_out", acks_late=True, ignore_result=True)
def fan_out(event_key: str) -> int:
    """Notifications queue: a redelivered or doubled run finds the event processed and writes nothing."""
    return services.fan_out(event_key)


@shared_task(name="notifications.tasks.send_emails", acks_late=True, ignore_result=True)
def send_emails() -> int:
    """Notifications queue: rows are taken with SKIP LOCKED and marked sent, so doubled runs share the work."""
    return services.send_pending_emails()


@shared_task(name="notifications.tasks.send_digests", acks_late=True, ignore_result=True)
def send_digests() -> int:
    """Maintenance queue, hourly: one digest per person per period, whatever the number of runs."""
    return services.send_digests()


@shared_task(name="notifications.tasks.sweep", acks_late=True, ignore_result=True)
def sweep() -> dict[str, int]:
    """Maintenance queue, every minute: publishes again what a dead broker or worker dropped."""
    return services.sweep()
