"""Fixity: stored files are re-hashed periodically, so damage at rest is found before someone needs the file.

`check_batch` takes the least recently checked blobs (never-checked first), bounded by a count and a number of
bytes, streams each through SHA-256 with large reads from Django's default storage (filesystem or S3 alike) and
compares with the hash the blob is named after. Each blob's last result is kept in `FixityRecord`; a failure
keeps its `failed_since` across repeated checks and is cleared when a later check finds the bytes intact (a
restore from backup). A blob that *starts* failing is recorded in the audit trail of every agency whose
documents use it and reported to that agency's archivists (one notice per agency and batch, keyed by the first
blob and the moment it began failing, so a redelivered task or a second run tells nobody twice). The work
files holding those documents get their `fixity` summary updated."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import TargetRef, record_event
from documents.models import DocumentFile, FileBlob
from eoffice.notices import tell

from . import events
from .models import FixityRecord, FixityStatus, WorkFile, WorkFileDocument, WorkFileState
from .notice_kinds import FIXITY_FAILED
from .selectors import MANAGE_PERMISSION

CHUNK_SIZE = 4 * 1024 * 1024
"""Large reads: per-call overhead (storage wrapper, Python loop) stays negligible against hashing."""
DEFAULT_BATCH_BLOBS = 2000
DEFAULT_BATCH_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class FixityFailure:
    sha256: str
    status: str
    detail: str
    documents: tuple[str, ...] = ()
    """The documents whose files use the blob, as "number/notation (id)"."""
    newly_failing: bool = False


@dataclass
class FixitySummary:
    checked: int = 0
    bytes: int = 0
    ok: int = 0
    mismatched: int = 0
    missing: int = 0
    seconds: float = 0.0
    failures: list[FixityFailure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.mismatched + self.missing

    @property
    def megabytes(self) -> float:
        return self.bytes / 1_000_000

    @property
    def mb_per_second(self) -> float:
        return self.megabytes / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Result:
    sha256: str
    status: str
    size: int
    detail: str = ""


def batch_limits() -> tuple[int, int]:
    """The periodic task's bounds (FIXITY_BATCH_BLOBS, FIXITY_BATCH_BYTES)."""
    return (int(getattr(settings, "FIXITY_BATCH_BLOBS", DEFAULT_BATCH_BLOBS)),
            int(getattr(settings, "FIXITY_BATCH_BYTES", DEFAULT_BATCH_BYTES)))


def due_blobs(max_blobs: int, max_bytes: int) -> list[tuple[str, str, int]]:
    """(sha256, storage_name, size) of the next blobs to check: never checked first, then the oldest check;
    at most `max_blobs`, and no more than `max_bytes` in total (but always at least one blob)."""
    # Two queries rather than one sort of every blob: the never checked (anti-join), then the records by
    # their checked_at index.
    rows = list(FileBlob.objects.filter(destroyed_at__isnull=True, fixity__isnull=True).order_by("sha256")
                .values_list("sha256", "storage_name", "size")[:max_blobs])
    if len(rows) < max_blobs:
        rows += list(FixityRecord.objects.filter(blob__destroyed_at__isnull=True).order_by("checked_at", "blob_id")
                     .values_list("blob_id", "blob__storage_name", "blob__size")[:max_blobs - len(rows)])
    chosen: list[tuple[str, str, int]] = []
    total = 0
    for sha256, name, size in rows:
        if chosen and total + size > max_bytes:
            break
        chosen.append((sha256, name, size))
        total += size
    return chosen


def hash_stored(name: str, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    """SHA-256 and length of a stored file, read through the default storage in large chunks (into one
    reused buffer when the storage's file object supports it). Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    size = 0
    with default_storage.open(name, "rb") as handle:
        readinto = getattr(handle, "readinto", None)
        if readinto is not None:
            buffer = bytearray(chunk_size)
            view = memoryview(buffer)
            while count := readinto(buffer):
                digest.update(view[:count])
                size += count
        else:
            while chunk := handle.read(chunk_size):
                digest.update(chunk)
                size += len(chunk)
    return digest.hexdigest(), size


def _check_one(sha256: str, name: str) -> _Result:
    try:
        actual, size = hash_stored(name)
    except FileNotFoundError:
        return _Result(sha256, FixityStatus.MISSING, 0, "not found in storage")
    except Exception as exc:  # noqa: BLE001 - every storage backend raises its own kinds (S3: botocore)
        if not _exists(name):
            return _Result(sha256, FixityStatus.MISSING, 0, "not found in storage")
        return _Result(sha256, FixityStatus.MISSING, 0, f"could not be read: {type(exc).__name__}: {exc}"[:300])
    if actual != sha256:
        return _Result(sha256, FixityStatus.MISMATCH, size, f"stored bytes hash to {actual} ({size} bytes)")
    return _Result(sha256, FixityStatus.OK, size)


def _exists(name: str) -> bool:
    try:
        return default_storage.exists(name)
    except Exception:  # noqa: BLE001 - the storage itself is unreachable: the caller reports it unreadable
        return True


def check_batch(*, max_blobs: int | None = None, max_bytes: int | None = None, now: datetime | None = None,
                max_seconds: float | None = None) -> FixitySummary:
    """Re-hash the least recently checked blobs (bounded), record the results, report new failures.
    Idempotent: run again, it checks the next blobs; a failure already known is not reported again.
    `max_seconds`: start no new blob after that long (a task must end before the broker redelivers it)."""
    default_blobs, default_bytes = batch_limits()
    max_blobs = default_blobs if max_blobs is None else max_blobs
    max_bytes = default_bytes if max_bytes is None else max_bytes
    summary = FixitySummary()
    started = time.perf_counter()
    results = []
    for sha256, name, _size in due_blobs(max_blobs, max_bytes):
        if max_seconds is not None and results and time.perf_counter() - started > max_seconds:
            break
        results.append(_check_one(sha256, name))
    summary.seconds = time.perf_counter() - started
    if not results:
        return summary
    now = now or timezone.now()
    summary.failures = _record(results, now)
    summary.checked = len(results)
    summary.bytes = sum(result.size for result in results)
    summary.ok = sum(result.status == FixityStatus.OK for result in results)
    summary.mismatched = sum(result.status == FixityStatus.MISMATCH for result in results)
    summary.missing = sum(result.status == FixityStatus.MISSING for result in results)
    return summary


def _record(results: list[_Result], now: datetime) -> list[FixityFailure]:
    """One transaction: the records, the audit events and notices of new failures, the work files' summary."""
    shas = [result.sha256 for result in results]
    failing = [result for result in results if result.status != FixityStatus.OK]
    with transaction.atomic():
        # Lock the failing blobs' rows: two batches running at once cannot both report the same new failure.
        list(FileBlob.objects.select_for_update().filter(sha256__in=[r.sha256 for r in failing]).values_list("pk"))
        previous = FixityRecord.objects.in_bulk(shas)
        rows, newly_failing, restored = [], [], []
        for result in results:
            before = previous.get(result.sha256)
            was_failing = before is not None and before.status != FixityStatus.OK
            if result.status == FixityStatus.OK:
                failed_since = None
                if was_failing:
                    restored.append(result)
            else:
                failed_since = before.failed_since if was_failing and before.failed_since else now
                if not was_failing:
                    newly_failing.append((result, failed_since))
            rows.append(FixityRecord(blob_id=result.sha256, status=result.status, checked_at=now,
                                     failed_since=failed_since, detail=result.detail))
        FixityRecord.objects.bulk_create(rows, update_conflicts=True, unique_fields=["blob"],
                                         update_fields=["status", "checked_at", "failed_since", "detail"])
        uses = _uses([r.sha256 for r in failing] + [r.sha256 for r in restored])
        _report_new_failures(newly_failing, uses)
        _report_restored(restored, uses)
        _update_work_files(shas)
    new = {result.sha256 for result, _since in newly_failing}
    return [FixityFailure(sha256=r.sha256, status=r.status, detail=r.detail,
                          documents=tuple(_document_label(use) for use in uses.get(r.sha256, ())),
                          newly_failing=r.sha256 in new) for r in failing]


def _uses(shas: list[str]) -> dict[str, list[DocumentFile]]:
    found: dict[str, list[DocumentFile]] = defaultdict(list)
    if not shas:
        return found
    for doc_file in (DocumentFile.objects.filter(blob_id__in=set(shas)).select_related("document")
                     .order_by("document_id", "id")):
        found[doc_file.blob_id].append(doc_file)
    return found


def _document_label(doc_file: DocumentFile) -> str:
    return f"{doc_file.document.number_notation} (#{doc_file.document_id}, {doc_file.original_name})"


def _work_file_codes(document_ids: set[int]) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = defaultdict(list)
    items = (WorkFileDocument.objects.filter(document_id__in=document_ids)
             .select_related("work_file__agency").order_by("work_file_id"))
    for item in items:
        codes[item.document_id].append(item.work_file.file_code)
    return codes


def _report_new_failures(newly_failing: list[tuple[_Result, datetime]], uses: dict[str, list[DocumentFile]]) -> None:
    if not newly_failing:
        return
    codes = _work_file_codes({f.document_id for result, _ in newly_failing for f in uses.get(result.sha256, ())})
    by_agency: dict[int, list[tuple[_Result, datetime, DocumentFile]]] = defaultdict(list)
    for result, failed_since in newly_failing:
        doc_files = uses.get(result.sha256, [])
        data = {"sha256": result.sha256, "status": str(result.status), "detail": result.detail,
                "failed_since": failed_since}
        if not doc_files:  # a blob no registered document uses (a draft's file): the system's own chain
            record_event(actor=None, verb=events.FIXITY_FAILED, target=TargetRef("documents.fileblob", result.sha256,
                         result.sha256[:12]), agency_id=None, data=data)
            continue
        for doc_file in doc_files:
            record_event(actor=None, verb=events.FIXITY_FAILED, target=TargetRef.of(doc_file),
                         agency_id=doc_file.document.agency_id,
                         data={**data, "document_id": doc_file.document_id, "file": doc_file.original_name,
                               "work_files": codes.get(doc_file.document_id, [])})
            by_agency[doc_file.document.agency_id].append((result, failed_since, doc_file))
    for agency_id, entries in by_agency.items():
        first, failed_since, doc_file = entries[0]
        where = (codes.get(doc_file.document_id) or [doc_file.document.number_notation])[0]
        tell(FIXITY_FAILED, key=f"{FIXITY_FAILED}:{agency_id}:{first.sha256}:{int(failed_since.timestamp())}",
             agency_ids=(agency_id,), permission=MANAGE_PERMISSION,
             params={"count": len({result.sha256 for result, _since, _f in entries}), "where": where},
             url=reverse("documents:detail", args=[doc_file.document_id]), document_id=doc_file.document_id)


def _report_restored(restored: list[_Result], uses: dict[str, list[DocumentFile]]) -> None:
    """A blob found intact again (restored from backup) is recorded too: the failure's end is evidence."""
    for result in restored:
        for doc_file in uses.get(result.sha256, []):
            record_event(actor=None, verb=events.FIXITY_RESTORED, target=TargetRef.of(doc_file),
                         agency_id=doc_file.document.agency_id,
                         data={"sha256": result.sha256, "document_id": doc_file.document_id})


def _update_work_files(shas: list[str]) -> None:
    """`WorkFile.fixity` of the files holding documents that use these blobs: "failed" when any of their
    blobs is failing, "ok" when every one was checked and found intact, "" while some were never checked."""
    work_file_ids = set(WorkFileDocument.objects.filter(document__files__blob_id__in=shas)
                        .exclude(work_file__state=WorkFileState.DESTROYED).values_list("work_file_id", flat=True))
    if not work_file_ids:
        return
    files = DocumentFile.objects.filter(document__work_file_items__work_file_id__in=work_file_ids,
                                        blob__destroyed_at__isnull=True)
    failed = set(files.filter(blob__fixity__status__in=[FixityStatus.MISMATCH, FixityStatus.MISSING])
                 .values_list("document__work_file_items__work_file_id", flat=True))
    unchecked = set(files.filter(blob__fixity__isnull=True)
                    .values_list("document__work_file_items__work_file_id", flat=True)) & work_file_ids
    failed &= work_file_ids
    WorkFile.objects.filter(pk__in=failed).exclude(fixity="failed").update(fixity="failed")
    WorkFile.objects.filter(pk__in=unchecked - failed).exclude(fixity="").update(fixity="")
    WorkFile.objects.filter(pk__in=work_file_ids - failed - unchecked).exclude(fixity="ok").update(fixity="ok")


__all__ = ["FixityFailure", "FixitySummary", "batch_limits", "check_batch", "due_blobs", "hash_stored"]
