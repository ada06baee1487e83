"""`manage.py verify_files` re-reads every stored blob through the verified reader: intact stores pass, a
changed byte and a lost file are each reported with the documents that use them, and the command fails."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from documents import services
from documents.storage import store_blob
from documents.uploads import checked_bytes
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_files", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args: str) -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_files", *args, stdout=io.StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


@pytest.fixture
def stored():
    """A registered document with a PDF, and two more blobs."""
    user = clerk(AgencyFactory(abbreviation="UBND"))
    document = services.register_outgoing(
        user, services.OutgoingInput(document_type_id=doc_type().pk, subject="Về việc kiểm tra lưu trữ"),
        [SimpleUploadedFile("quyet-dinh.pdf", make_pdf(pages=1), content_type="application/pdf")],
    )
    main = document.files.get().blob
    others = [store_blob(checked_bytes(f"tệp {n}".encode() * 1000, f"t{n}.txt", "text/plain")) for n in (1, 2)]
    return document, main, others


def test_intact_store_passes(stored):
    out, err = run()
    assert "All 3 stored files intact" in out and err == ""


def test_damaged_and_missing_files_are_reported_with_their_documents(stored):
    document, main, (other, lost) = stored
    with default_storage.open(main.storage_name, "rb") as handle:
        data = bytearray(handle.read())
    data[len(data) // 2] ^= 0x01  # one bit flipped at rest
    default_storage.delete(main.storage_name)
    default_storage.save(main.storage_name, io.BytesIO(bytes(data)))
    default_storage.delete(lost.storage_name)

    message, err = fails()
    assert "2 of 3 stored files damaged, missing or unreadable" in message
    assert f"DAMAGED: {main.sha256}" in err and f"document {document.pk} (quyet-dinh.pdf)" in err
    assert f"MISSING: {lost.sha256}" in err
    assert other.sha256 not in err

    out, _err = run("--prefix", other.sha256[:10])  # one blob only
    assert "All 1 stored files intact" in out
