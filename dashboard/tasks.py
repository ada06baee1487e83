"""Thin Celery tasks of the dashboard; the work is in services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="dashboard.tasks.build_report", acks_late=True, ignore_result=True)
def build_report(job_id: int) -> None:
    """Default queue: builds one report job's file; a redelivered job that is done returns at once."""
    services.build_report(job_id)


@shared_task(name="dashboard.tasks.refresh_tallies", acks_late=True, ignore_result=True)
def refresh_tallies() -> None:
    """Maintenance queue, every 5 minutes (beat): rebuilds the dashboard's summary tables. Idempotent: a
    redelivered or overlapping run rebuilds the same rows (runs wait for each other)."""
    services.refresh_tallies()
