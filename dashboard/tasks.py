"""Thin Celery task of the dashboard; the work is in services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="dashboard.tasks.build_report", acks_late=True, ignore_result=True)
def build_report(job_id: int) -> None:
    """Default queue: builds one report job's file; a redelivered job that is done returns at once."""
    services.build_report(job_id)
