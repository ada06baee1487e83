"""Thin Celery tasks of the registry; the work is in services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


# A backstop only: the extraction itself is stopped after EXTRACTION_TIME_LIMIT (documents.extraction).
# Both limits stay below the broker's visibility timeout, or a slow task would be delivered twice.
_EXTRACTION_TASK_LIMIT = int(getattr(settings, "EXTRACTION_TIME_LIMIT", 60)) + 60


@shared_task(
    name="documents.tasks.extract_file_content", acks_late=True, ignore_result=True,
    soft_time_limit=_EXTRACTION_TASK_LIMIT, time_limit=_EXTRACTION_TASK_LIMIT + 30,
)
def extract_file_content(file_id: int) -> str:
    from .processing import process_file

    return process_file(file_id)


@shared_task(name="documents.tasks.sweep_pending_extractions", acks_late=True, ignore_result=True)
def sweep_pending_extractions() -> int:
    from .processing import requeue_stale_files

    return requeue_stale_files()


def enqueue_extraction(file_id: int) -> None:
    """Publish after commit. If the broker is down the row stays `pending` and the sweeper retries:
    the upload itself has already succeeded and loses nothing."""
    try:
        extract_file_content.delay(file_id)
    except Exception:  # noqa: BLE001 - kombu raises many kinds when the broker is unreachable
        logger.warning("Could not enqueue extraction of file %s; the sweeper will retry.", file_id, exc_info=True)
