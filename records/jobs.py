"""The BagIt jobs' task bodies: find the job row, leave a done one alone, run it (records/bags.py sets its
state, file and reason); and the sweeper that publishes again a job (or an archive record's timestamping)
whose message was lost."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from audit.services import record_event
from eoffice.tasking import publish

from . import bags, events
from .models import (
    BagExport,
    BagImport,
    Disposition,
    DispositionState,
    JobState,
    WorkFile,
    WorkFileDocument,
    WorkFileState,
)

STUCK_AFTER = timedelta(minutes=5)
# A job left "running" by a worker that died: longer than any job runs (the broker redelivers unacked
# messages after its visibility timeout; this is the backstop). Re-running is safe (idempotent bodies).
ABANDONED_AFTER = timedelta(minutes=30)


def build_export(export_id: int) -> None:
    job = BagExport.objects.filter(pk=export_id).first()
    if job is not None:
        bags.run_export(job)  # returns at once when the job is done


def run_import(import_id: int) -> None:
    job = BagImport.objects.filter(pk=import_id).select_related("requested_by").first()
    if job is None:
        return

    def imported(work_file) -> None:  # inside the import's transaction
        record_event(actor=job.requested_by, verb=events.IMPORTED, target=work_file, agency_id=work_file.agency_id,
                     data={"from": work_file.imported_from, "documents": work_file.items.count(),
                           "package": job.original_name})

    bags.run_import(job, on_created=imported)


def sweep(now=None) -> int:
    """Queued jobs older than a few minutes were never picked up: publish them again (idempotent bodies)."""
    now = now or timezone.now()
    before = now - STUCK_AFTER
    lost = Q(state=JobState.QUEUED, requested_at__lt=before) | Q(state=JobState.RUNNING,
                                                                  requested_at__lt=now - ABANDONED_AFTER)
    published = 0
    for pk in BagExport.objects.filter(lost).values_list("pk", flat=True)[:50]:
        published += publish("records.tasks.build_export", pk)
    for pk in BagImport.objects.filter(lost).values_list("pk", flat=True)[:50]:
        published += publish("records.tasks.run_import", pk)
    # Archive records whose timestamping task never ran (no row at all for one of their files).
    untried = WorkFileDocument.objects.filter(work_file=OuterRef("pk"), document__files__archival_timestamp=None)
    for pk in (WorkFile.objects.filter(state=WorkFileState.ARCHIVED, archived_at__lt=before)
               .filter(Exists(untried)).values_list("pk", flat=True)[:50]):
        published += publish("records.tasks.timestamp_archived", pk)
    # Executed dispositions whose bytes were not removed yet (the task's message was lost).
    for pk in Disposition.objects.filter(state=DispositionState.EXECUTED, content_removed_at=None,
                                         executed_at__lt=before).values_list("pk", flat=True)[:50]:
        published += publish("records.tasks.remove_destroyed_content", pk)
    return published
