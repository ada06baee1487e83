"""Background processing of stored files: publishing the extraction of a file, doing it, and re-publishing
what a dead broker or worker dropped. Idempotent.

The chain of imports runs one way, tasks → processing → models: the Celery tasks (documents.tasks) are
thin wrappers that call into this module, and this module publishes the extraction task by its
registered name (routed in eoffice/celery.py), never by importing documents.tasks.
DocumentsConfig.ready() imports documents.tasks so the task is registered in every process."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import record_event
from eoffice.tasking import publish

from . import events
from .extraction import extract
from .models import Document, DocumentFile, ExtractionStatus
from .storage import IntegrityFailure, read_blob

MAX_ATTEMPTS = 5
GIVE_UP_AFTER = timedelta(days=1)
EXTRACT_TASK = "documents.tasks.extract_file_content"

def enqueue_extraction(file_id: int) -> None:
    """Publish the extraction of one file (call it after commit). If the broker is down the row stays
    `pending` and the sweeper retries: the upload itself has already succeeded and loses nothing (the
    failure is logged by eoffice.tasking)."""
    publish(EXTRACT_TASK, file_id)


def process_file(file_id: int) -> str:
    """Extract page count and text of one file. A redelivered task finds the work done and returns."""
    doc_file = DocumentFile.objects.select_related("blob").filter(pk=file_id).first()
    if doc_file is None:
        return "missing"
    if doc_file.extraction_status != ExtractionStatus.PENDING:
        return "already-done"
    try:
        content = read_blob(doc_file.blob)
    except (IntegrityFailure, OSError) as exc:
        if doc_file.extraction_attempts + 1 < MAX_ATTEMPTS:
            # Possibly still being written by a concurrent upload of the same bytes (the storage API
            # writes in place): stay pending, the sweeper retries; only repeated failures are final.
            DocumentFile.objects.filter(pk=file_id).update(extraction_attempts=F("extraction_attempts") + 1)
            return "retry-later"
        result_status, page_count, text, error = ExtractionStatus.FAILED, None, "", f"stored file unreadable: {exc.__class__.__name__}"
    else:
        extracted = extract(content, doc_file.blob.content_type)
        result_status = ExtractionStatus.FAILED if extracted.error and extracted.page_count is None and not extracted.text else ExtractionStatus.DONE
        page_count, text, error = extracted.page_count, extracted.text, extracted.error[:300]
    with transaction.atomic():
        locked = DocumentFile.objects.select_for_update().get(pk=file_id)
        if locked.extraction_status != ExtractionStatus.PENDING:
            return "already-done"
        locked.extraction_status = result_status
        locked.page_count = page_count
        locked.text = text.replace("\x00", "")
        locked.extraction_error = error
        locked.extraction_attempts += 1
        locked.save(update_fields=["extraction_status", "page_count", "text", "extraction_error", "extraction_attempts"])
        document = Document.objects.select_for_update().get(pk=locked.document_id)
        if locked.is_main and document.page_amount is None and page_count:
            # PL VI: the System fills PageAmount from the main file.
            document.page_amount = min(page_count, 32767)
            document.save(update_fields=["page_amount"])
        record_event(
            actor=None, verb=events.DOCUMENT_FILE_PROCESSED, target=document, agency_id=document.agency_id,
            data={"file_id": locked.pk, "status": result_status, "page_count": page_count, "error": error},
        )
    return str(result_status)


def requeue_stale_files(older_than: timedelta = timedelta(minutes=2)) -> int:
    """Re-publish extractions a dead broker or worker dropped (the intent is the `pending` row).

    Each re-publication counts as an attempt and stops at MAX_ATTEMPTS. A file still pending a day
    later is marked failed, so it does not show "waiting" for ever (a long queue backlog alone also
    spends the attempts, hence the day: the message may still be on its way)."""
    now = timezone.now()
    pending = DocumentFile.objects.filter(extraction_status=ExtractionStatus.PENDING, uploaded_at__lt=now - older_than)
    abandoned = pending.filter(extraction_attempts__gte=MAX_ATTEMPTS, uploaded_at__lt=now - GIVE_UP_AFTER)
    for file_id in abandoned.values_list("pk", flat=True)[:500]:
        _give_up(file_id)
    stale = list(pending.filter(extraction_attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)[:500])
    DocumentFile.objects.filter(pk__in=stale).update(extraction_attempts=F("extraction_attempts") + 1)
    for file_id in stale:
        enqueue_extraction(file_id)
    return len(stale)


def _give_up(file_id: int) -> None:
    with transaction.atomic():
        locked = DocumentFile.objects.select_for_update().filter(pk=file_id).first()
        if locked is None or locked.extraction_status != ExtractionStatus.PENDING:
            return
        error = f"gave up after {locked.extraction_attempts} attempts"
        locked.extraction_status = ExtractionStatus.FAILED
        locked.extraction_error = error
        locked.save(update_fields=["extraction_status", "extraction_error"])
        document = Document.objects.get(pk=locked.document_id)
        record_event(
            actor=None, verb=events.DOCUMENT_FILE_PROCESSED, target=document, agency_id=document.agency_id,
            data={"file_id": locked.pk, "status": ExtractionStatus.FAILED, "page_count": None, "error": error},
        )
