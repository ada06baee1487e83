"""Fixity checks of stored files: intact, altered (audit event and one notice, however often it runs), missing,
the batch bounds, the work file's summary, and the command's exit code."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import roles
from audit.models import AuditEvent
from documents import services as documents_services
from documents.models import FileBlob
from notifications.models import NoticeEvent
from records import events, fixity
from records.models import FixityRecord, FixityStatus, WorkFile, WorkFileDocument
from tests.factories import clerk, doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db


def _register(user, number: str):
    data = documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject=f"Công văn số {number}", organ_name="Bộ Nội vụ",
        code_number=number, code_notation="BNV-VP", issued_date=date.today() - timedelta(days=2))
    upload = SimpleUploadedFile(f"cv-{number}.pdf", make_pdf(1, f"Công văn {number}"), "application/pdf")
    return documents_services.register_incoming(user, data, [upload])


@pytest.fixture
def stored():
    """Three registered documents with a file each, the first two in a work file; an archivist to tell."""
    user = clerk()
    make_user(roles.ARCHIVIST, user.agency)
    documents = [_register(user, str(100 + i)) for i in range(3)]
    work_file = WorkFile.objects.create(agency=user.agency, year=2026, file_notation="01.VP", title="Công văn đến",
                                        creator=user, start_date=date(2026, 1, 5))
    for document in documents[:2]:
        WorkFileDocument.objects.create(work_file=work_file, document=document, added_by=user)
    blobs = [document.files.get().blob for document in documents]
    return documents, blobs, work_file


def _corrupt(blob: FileBlob) -> None:
    path = default_storage.path(blob.storage_name)
    with open(path, "r+b") as handle:
        handle.seek(200)
        byte = handle.read(1)
        handle.seek(200)
        handle.write(bytes([byte[0] ^ 0xFF]))


def test_intact_blobs_are_ok_and_the_work_file_says_so(stored):
    documents, blobs, work_file = stored
    summary = fixity.check_batch()
    assert (summary.checked, summary.ok, summary.failed) == (3, 3, 0)
    assert summary.bytes == sum(blob.size for blob in blobs) and summary.mb_per_second > 0
    assert set(FixityRecord.objects.values_list("status", flat=True)) == {FixityStatus.OK}
    work_file.refresh_from_db()
    assert work_file.fixity == "ok"
    assert not AuditEvent.objects.filter(verb=events.FIXITY_FAILED).exists()


def test_an_altered_byte_is_a_mismatch_reported_once(stored):
    documents, blobs, work_file = stored
    _corrupt(blobs[0])
    first = fixity.check_batch()
    assert (first.ok, first.mismatched, first.missing) == (2, 1, 0)
    (failure,) = first.failures
    assert failure.sha256 == blobs[0].sha256 and failure.newly_failing
    assert "101" not in failure.documents[0] and "100/BNV-VP" in failure.documents[0]
    record = FixityRecord.objects.get(blob=blobs[0])
    assert record.status == FixityStatus.MISMATCH and record.failed_since is not None
    (event,) = AuditEvent.objects.filter(verb=events.FIXITY_FAILED)
    assert event.agency_id == documents[0].agency_id and event.target_type == "documents.documentfile"
    assert event.data["sha256"] == blobs[0].sha256 and event.data["work_files"] == [work_file.file_code]
    (notice,) = NoticeEvent.objects.filter(kind="records.fixity_failed")
    assert notice.params == {"count": 1, "where": work_file.file_code}
    assert notice.audience["permission"] == "records.manage_records"
    work_file.refresh_from_db()
    assert work_file.fixity == "failed"

    second = fixity.check_batch(now=timezone.now() + timedelta(hours=1))
    assert second.mismatched == 1 and not second.failures[0].newly_failing
    assert FixityRecord.objects.get(blob=blobs[0]).failed_since == record.failed_since  # kept
    assert AuditEvent.objects.filter(verb=events.FIXITY_FAILED).count() == 1
    assert NoticeEvent.objects.filter(kind="records.fixity_failed").count() == 1

    _corrupt(blobs[0])  # restored (the same flip again)
    fixity.check_batch(now=timezone.now() + timedelta(hours=2))
    record.refresh_from_db()
    assert record.status == FixityStatus.OK and record.failed_since is None
    assert AuditEvent.objects.filter(verb=events.FIXITY_RESTORED).count() == 1
    work_file.refresh_from_db()
    assert work_file.fixity == "ok"


def test_a_deleted_file_is_missing_and_the_command_fails(stored, capsys):
    documents, blobs, work_file = stored
    default_storage.delete(blobs[2].storage_name)
    with pytest.raises(CommandError, match="1 stored file"):
        call_command("fixity_check", "--all")
    out = capsys.readouterr().out
    assert "Checked 3 file(s)" in out and f"MISSING (new) {blobs[2].sha256}" in out
    assert FixityRecord.objects.get(blob=blobs[2]).status == FixityStatus.MISSING
    work_file.refresh_from_db()
    assert work_file.fixity == "ok"  # the missing file is not in the work file
    assert NoticeEvent.objects.filter(kind="records.fixity_failed").count() == 1


def test_the_batch_is_bounded_and_takes_the_least_recently_checked(stored):
    documents, blobs, work_file = stored
    assert fixity.check_batch(max_blobs=2).checked == 2
    work_file.refresh_from_db()
    never_checked = FileBlob.objects.exclude(fixity__isnull=False).get()
    later = fixity.check_batch(max_blobs=1, now=timezone.now() + timedelta(minutes=5))
    assert later.checked == 1 and FixityRecord.objects.count() == 3
    assert FixityRecord.objects.get(blob=never_checked).checked_at > min(
        FixityRecord.objects.exclude(blob=never_checked).values_list("checked_at", flat=True))
    smallest = min(blob.size for blob in blobs)
    assert fixity.check_batch(max_bytes=smallest).checked == 1  # bytes bound (always at least one)
    FileBlob.objects.filter(pk=blobs[0].pk).update(destroyed_at=timezone.now())
    assert fixity.check_batch().checked == 2  # destroyed content is not checked


def test_the_command_succeeds_when_intact(stored, capsys):
    call_command("fixity_check", "--limit", "2")
    assert "Checked 2 file(s)" in capsys.readouterr().out
