"""Thin Celery tasks of the records app, routed in eoffice/celery.py: the periodic fixity check (`maintenance`)
and the archival timestamps of a received work file's signed PDFs (`signing`: it talks to the TSA and the
CAs' revocation services, like signing does). Both are idempotent: a redelivered message redoes nothing done."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from eoffice.tasking import publish

from . import archiving, fixity, jobs, services

# Below the broker's visibility timeout, so a long batch is not delivered twice: the batch itself stops
# starting new blobs well before (max_seconds), the limits are a backstop.
_VISIBILITY = int(getattr(settings, "CELERY_VISIBILITY_TIMEOUT", 300))
_FIXITY_SECONDS = max(30, _VISIBILITY - 100)


@shared_task(name="records.tasks.fixity_check", acks_late=True, ignore_result=True,
             soft_time_limit=_VISIBILITY - 30, time_limit=_VISIBILITY - 10)
def fixity_check() -> dict[str, int]:
    max_blobs, max_bytes = fixity.batch_limits()
    summary = fixity.check_batch(max_blobs=max_blobs, max_bytes=max_bytes, max_seconds=_FIXITY_SECONDS)
    return {"checked": summary.checked, "ok": summary.ok, "mismatched": summary.mismatched,
            "missing": summary.missing}


@shared_task(name="records.tasks.timestamp_archived", acks_late=True, ignore_result=True,
             soft_time_limit=_VISIBILITY - 30, time_limit=_VISIBILITY - 10)
def timestamp_archived(work_file_id: int, resume: bool = False) -> dict[str, int]:
    result = archiving.timestamp_work_file(work_file_id, resume=resume, max_seconds=_FIXITY_SECONDS)
    if result.get("remaining"):  # a large file: the rest in another message, before the broker redelivers this one
        publish("records.tasks.timestamp_archived", work_file_id, True)
    return result


@shared_task(name="records.tasks.remind_transfers_due", acks_late=True, ignore_result=True)
def remind_transfers_due() -> int:
    """Maintenance queue, daily: tells each file's keeper and unit leaders 30 days before its transfer deadline
    (once per deadline: the file row is marked with the notice)."""
    return services.remind_transfers_due()


@shared_task(name="records.tasks.build_export", acks_late=True, ignore_result=True)
def build_export(export_id: int) -> None:
    """Default queue: builds one BagIt package; a redelivered job that is done returns at once."""
    jobs.build_export(export_id)


@shared_task(name="records.tasks.run_import", acks_late=True, ignore_result=True)
def run_import(import_id: int) -> None:
    """Default queue: validates and imports one uploaded package, all or nothing."""
    jobs.run_import(import_id)


@shared_task(name="records.tasks.remove_destroyed_content", acks_late=True, ignore_result=True)
def remove_destroyed_content(disposition_id: int) -> int:
    """Maintenance queue, after a disposition is executed: deletes the destroyed bytes from storage."""
    return services.remove_destroyed_content(disposition_id)


@shared_task(name="records.tasks.sweep_jobs", acks_late=True, ignore_result=True)
def sweep_jobs() -> int:
    """Maintenance queue: publishes again the export and import jobs whose message was lost (broker down)."""
    return jobs.sweep()
