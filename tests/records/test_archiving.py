"""The archival timestamp of a received work file's signed PDFs, end to end against the local CA and TSA
(tests/signatures/revocation_pki.py): skipped without a TSA, done once with one (the copy stored beside the
untouched original, audited), left alone when the task runs again; unsigned PDFs are skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from documents import services as documents_services
from documents.storage import read_blob
from records import archiving, events
from records.models import ArchivalTimestamp, WorkFile, WorkFileDocument
from records.tasks import timestamp_archived
from signatures import services as signature_services
from tests.factories import clerk, doc_type, make_pdf
from tests.signatures.revocation_pki import LocalCA, local_ca, signed_pdf


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCA]:
    with local_ca(tmp_path_factory.mktemp("local-ca-archive")) as served:
        yield served


def _register(user, number: str, content: bytes):
    data = documents_services.IncomingInput(
        document_type_id=doc_type("quyet-dinh").pk, subject=f"Quyết định số {number}", organ_name="UBND tỉnh",
        code_number=number, code_notation="QĐ-UBND", issued_date=date.today() - timedelta(days=3))
    return documents_services.register_incoming(
        user, data, [SimpleUploadedFile(f"qd-{number}.pdf", content, "application/pdf")])


@pytest.mark.django_db
def test_received_work_file_gets_its_b_lta_copies_once(ca, settings, django_user_model):
    settings.SIGNATURE_REVOCATION_CHECKING = True
    settings.SIGNATURE_REVOCATION_TIMEOUT = 2
    settings.ARCHIVE_TSA_URL = ""
    admin = django_user_model.objects.create_superuser("quantri.luutru", password="x-Pass-12345")
    signature_services.add_trust_anchors(admin, ca.root.public_bytes(serialization.Encoding.PEM))
    user = clerk()
    original = signed_pdf(ca, "alice", make_pdf(1, "Quyết định đã ký"))
    signed_doc, plain_doc = _register(user, "12", original), _register(user, "13", make_pdf())
    work_file = WorkFile.objects.create(agency=user.agency, year=2026, file_notation="02.VP", title="Quyết định",
                                        creator=user, start_date=date(2026, 1, 5), state="archived")
    for document in (signed_doc, plain_doc):
        WorkFileDocument.objects.create(work_file=work_file, document=document, added_by=user)
    signed_file = signed_doc.files.get()

    # A time budget spent after the first file leaves the rest to the resumed task (only files not tried yet).
    assert archiving.timestamp_work_file(work_file.pk, max_seconds=0) == {"skipped": 1, "remaining": 1}
    assert archiving.timestamp_work_file(work_file.pk, resume=True) == {"skipped": 1}
    assert archiving.timestamp_work_file(work_file.pk, resume=True) == {}
    assert timestamp_archived(work_file.pk) == {"skipped": 2}
    assert ArchivalTimestamp.objects.get(document_file=signed_file).detail == archiving.SKIP_NO_TSA

    settings.ARCHIVE_TSA_URL = ca.tsa_url
    assert timestamp_archived(work_file.pk) == {"done": 1, "skipped": 1}
    row = ArchivalTimestamp.objects.get(document_file=signed_file)
    assert row.state == "done" and row.tsa_url == ca.tsa_url and row.timestamped_at is not None
    archived = read_blob(row.blob)
    assert archived.startswith(original) and row.blob_id != signed_file.blob_id
    assert read_blob(signed_file.blob) == original  # the original is untouched
    event = AuditEvent.objects.get(verb=events.ARCHIVAL_TIMESTAMPED)
    assert event.agency_id == signed_doc.agency_id and event.data["sha256"] == row.blob_id
    plain = ArchivalTimestamp.objects.get(document_file=plain_doc.files.get())
    assert plain.state == "skipped" and plain.blob is None

    before = ca.request_count
    assert timestamp_archived(work_file.pk) == {"done": 1, "skipped": 1}
    assert ca.request_count == before  # done is left alone: the TSA was not asked again
    assert AuditEvent.objects.filter(verb=events.ARCHIVAL_TIMESTAMPED).count() == 1
