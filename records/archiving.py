"""The archival timestamp (PAdES B-LTA) of the signed PDFs a work file brings into the agency archive.

When the archive receives a transfer, `records.tasks.timestamp_archived` (queue `signing`: it talks to the TSA
and the CAs) runs `timestamp_work_file` for each file: every PDF of its documents that carries signatures gets
a copy with the signatures' validation data and document timestamps (`signatures.archival`), stored as a new
content-addressed blob beside the untouched original and recorded in `ArchivalTimestamp`.

Idempotent: a row already `done` is left alone, so a redelivered task or a second transfer of the same
document asks the TSA nothing; `failed` and `skipped` rows are tried again (the TSA may be back, or configured
now). The reason of a failure or a skip is stored as an English message id, translated when shown."""

from __future__ import annotations

import logging
import time
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.services import TargetRef, record_event
from documents.models import DocumentFile
from documents.storage import IntegrityFailure, read_blob, store_blob
from documents.uploads import PDF, checked_bytes
from signatures.archival import ERR_NO_SIGNATURES, ArchivalTimestampError, add_archival_timestamp
from signatures.models import FileVerification, VerificationState
from signatures.verification import has_signatures
from signatures.verifying import request_verification

from . import events
from .models import ArchivalTimestamp

logger = logging.getLogger(__name__)

DONE, FAILED, SKIPPED, PENDING = "done", "failed", "skipped", "pending"
SKIP_NOT_PDF = gettext_noop("Not a PDF file.")
SKIP_NO_TSA = gettext_noop("No timestamp authority is configured for archiving (ARCHIVE_TSA_URL).")
FAIL_DAMAGED = gettext_noop("The stored file is damaged or missing; restore it from the backup first.")
LTA_SUFFIX = "-lta.pdf"


def timestamp_work_file(work_file_id: int, *, resume: bool = False,
                        max_seconds: float | None = None) -> dict[str, int]:
    """Timestamp every PDF of the work file's documents; returns how many ended in each state, and under
    "remaining" how many were left when `max_seconds` ran out (the task then queues itself again with
    `resume`, which takes only the files not tried yet, so a failing TSA is not asked in a loop)."""
    files = DocumentFile.objects.filter(document__work_file_items__work_file_id=work_file_id)
    if resume:
        files = files.filter(Q(archival_timestamp__isnull=True) | Q(archival_timestamp__state=PENDING))
    file_ids = list(files.order_by("id").values_list("id", flat=True).distinct())
    started = time.monotonic()
    states: Counter[str] = Counter()
    for index, file_id in enumerate(file_ids):
        if max_seconds is not None and index and time.monotonic() - started > max_seconds:
            states["remaining"] = len(file_ids) - index
            break
        states[timestamp_archived_file(file_id)] += 1
    return dict(states)


def timestamp_archived_file(document_file_id: int) -> str:
    """Make (or leave alone, if done) the B-LTA copy of one stored PDF; returns the row's state."""
    doc_file = DocumentFile.objects.select_related("blob", "document").get(pk=document_file_id)
    row, _created = ArchivalTimestamp.objects.get_or_create(document_file=doc_file)
    if row.state == DONE:
        return DONE
    if doc_file.blob.content_type != PDF:
        return _finish(row, SKIPPED, SKIP_NOT_PDF)
    if _known_unsigned(doc_file):
        return _finish(row, SKIPPED, ERR_NO_SIGNATURES)
    tsa_url = getattr(settings, "ARCHIVE_TSA_URL", "")
    if not tsa_url:
        return _finish(row, SKIPPED, SKIP_NO_TSA)
    try:
        original = read_blob(doc_file.blob)
    except (IntegrityFailure, OSError):
        return _finish(row, FAILED, FAIL_DAMAGED)
    if not has_signatures(original):
        return _finish(row, SKIPPED, ERR_NO_SIGNATURES)
    try:
        archived = add_archival_timestamp(original, tsa_url=tsa_url)
    except ArchivalTimestampError as error:
        logger.warning("Archival timestamp of document file %s failed: %s (%s)", doc_file.pk, error.reason,
                       error.detail)
        state = SKIPPED if error.reason == ERR_NO_SIGNATURES else FAILED
        return _finish(row, state, error.reason, tsa_url=tsa_url)
    name = f"{doc_file.original_name.rsplit('.', 1)[0]}{LTA_SUFFIX}"
    with transaction.atomic():
        row = ArchivalTimestamp.objects.select_for_update().get(pk=row.pk)
        if row.state == DONE:  # another worker finished first: its copy stands
            return DONE
        blob = store_blob(checked_bytes(archived, name, PDF))
        row.blob, row.state, row.detail = blob, DONE, ""
        row.timestamped_at, row.tsa_url = timezone.now(), tsa_url[:300]
        row.save(update_fields=["blob", "state", "detail", "timestamped_at", "tsa_url"])
        record_event(actor=None, verb=events.ARCHIVAL_TIMESTAMPED, target=TargetRef.of(doc_file),
                     agency_id=doc_file.document.agency_id,
                     data={"document_id": doc_file.document_id, "original_sha256": doc_file.blob_id,
                           "sha256": blob.sha256, "size": blob.size, "tsa": tsa_url})
        request_verification(blob)  # the copy gets its own verification report (B-LTA)
    return DONE


def _known_unsigned(doc_file: DocumentFile) -> bool:
    """The stored verification already found no signature (cheaper than reading the file)."""
    verification = FileVerification.objects.filter(blob_id=doc_file.blob_id).only("state", "signature_count").first()
    return (verification is not None and verification.state == VerificationState.DONE
            and verification.signature_count == 0)


def _finish(row: ArchivalTimestamp, state: str, detail: str, *, tsa_url: str = "") -> str:
    ArchivalTimestamp.objects.filter(pk=row.pk).exclude(state=DONE).update(
        state=state, detail=str(detail)[:300], tsa_url=tsa_url[:300])
    return state
