"""Thin Celery tasks of the registry: each calls into documents.processing, which does the work (and
publishes these tasks by name; it never imports this module). Task names are routed in eoffice/celery.py."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .processing import EXTRACT_TASK, process_file, requeue_stale_files

# A backstop only: the extraction itself is stopped after EXTRACTION_TIME_LIMIT (documents.extraction).
# Both limits stay below the broker's visibility timeout, or a slow task would be delivered twice.
_EXTRACTION_TASK_LIMIT = int(getattr(settings, "EXTRACTION_TIME_LIMIT", 60)) + 60


@shared_task(
    name=EXTRACT_TASK, acks_late=True, ignore_result=True,
    soft_time_limit=_EXTRACTION_TASK_LIMIT, time_limit=_EXTRACTION_TASK_LIMIT + 30,
)
def extract_file_content(file_id: int) -> str:
    return process_file(file_id)


@shared_task(name="documents.tasks.sweep_pending_extractions", acks_late=True, ignore_result=True)
def sweep_pending_extractions() -> int:
    return requeue_stale_files()
