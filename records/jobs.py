"""The BagIt jobs' task bodies: find the job row, leave a done one alone, run it (records/bags.py sets its
state, file and reason); and the sweeper that publishes again a job (or an archive record's timestamping)
whose message was lost."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from eoffice.tasking import publish

from . import bags
from .models import BagExport, BagImport, JobState, WorkFile, WorkFileDocument, WorkFileState

STUCK_AFTER = timedelta(minutes=5)


def build_export(export_id: int) -> None:
    job = BagExport.objects.filter(pk=export_id).select_related("work_file").first()
    if job is None or job.state == JobState.DONE:
        return
    bags.run_export(job)


def run_import(import_id: int) -> None:
    job = BagImport.objects.filter(pk=import_id).first()
    if job is None or job.state == JobState.DONE:
        return
    bags.run_import(job)


def sweep(now=None) -> int:
    """Queued jobs older than a few minutes were never picked up: publish them again (idempotent bodies)."""
    before = (now or timezone.now()) - STUCK_AFTER
    published = 0
    for pk in BagExport.objects.filter(state=JobState.QUEUED, requested_at__lt=before).values_list("pk", flat=True):
        published += publish("records.tasks.build_export", pk)
    for pk in BagImport.objects.filter(state=JobState.QUEUED, requested_at__lt=before).values_list("pk", flat=True):
        published += publish("records.tasks.run_import", pk)
    # Archive records whose timestamping task never ran (no row at all for one of their files).
    untried = WorkFileDocument.objects.filter(work_file=OuterRef("pk"), document__files__archival_timestamp=None)
    for pk in (WorkFile.objects.filter(state=WorkFileState.ARCHIVED, archived_at__lt=before)
               .filter(Exists(untried)).values_list("pk", flat=True)[:50]):
        published += publish("records.tasks.timestamp_archived", pk)
    return published
