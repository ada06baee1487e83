"""The printed verification sheet (phiếu kết quả kiểm tra chữ ký số): the same words as the page and the API,
each later revision's changes included, Vietnamese text intact; the stored file's sheet only for people who
may see the document."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from pypdf import PdfReader

from signatures.models import FileVerification, SigningState
from signatures.verification import VERDICT_LABELS, VerificationReport, verify_pdf
from signatures.verification_sheet import render_sheet
from signatures.verification_text import change_text, revision_lines
from tests.factories import PASSWORD

from .test_verification import (  # noqa: F401  (pytest fixtures)
    CHECKED,
    LEADER,
    _draw_on_page,
    _fill_number,
    draft_pdf,
    pki,
    signed_pdf,
)
from .test_web_and_api import api_for, client_for

SHA = "ab" * 32


def pdf_text(content: bytes) -> str:
    """The sheet's text, one space between words (lines wrap anywhere), Vietnamese composed (NFC)."""
    assert content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text))


def _words(text: str) -> str:
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", str(text)))


@pytest.fixture(scope="module")
def changed_report(pki, signed_pdf) -> VerificationReport:  # noqa: F811
    """Signed, then the number field filled (one revision), then text drawn on the page (another)."""
    changed = _draw_on_page(_fill_number(signed_pdf, "123/QD-UBND"))
    report = verify_pdf(changed, trust_roots=[pki.root], validation_time=CHECKED)
    assert len(report.changes_after(report.signatures[0])) == 2
    return report


@pytest.mark.parametrize("language", ["en", "vi"])
def test_sheet_lists_signer_verdict_reasons_and_each_later_revisions_changes(changed_report, language):
    sheet = render_sheet(changed_report, file_name="Quyết định số 12.pdf", sha256=SHA, printed_by="Trần Văn Bình",
                         language=language)
    text = pdf_text(sheet)
    signature = changed_report.signatures[0]
    later = changed_report.changes_after(signature)
    with translation.override(language):
        assert _words(translation.gettext("Signature verification sheet")) in text
        assert _words(VERDICT_LABELS[changed_report.verdict]) in text
        assert _words(VERDICT_LABELS[signature.verdict]) in text
        for reason in signature.reasons:
            assert _words(translation.gettext(reason)) in text
        for (label, _joined), revision in zip(revision_lines(later), later, strict=True):
            assert _words(label) in text
            for change in revision.changes:
                assert _words(change_text(change)) in text
        kinds = {change.kind for revision in later for change in revision.changes}
        assert {"field_filled", "content_drawn_over"} <= kinds, kinds
    assert LEADER in text and "Quyết định số 12.pdf" in text and SHA in text and "Trần Văn Bình" in text
    if language == "vi":  # Vietnamese survives the fonts and the text extraction
        assert "Điền trường biểu mẫu: number" in text
        assert "Chữ ký 1" in text and "Người ký" in text


def test_sheet_of_a_file_not_verified_yet_says_so():
    text = pdf_text(render_sheet(None, file_name="a.pdf", sha256=SHA, printed_by="x", language="en"))
    assert "Not verified yet" in text and "Valid" not in text


# --- the routes ------------------------------------------------------------------------------------------


@pytest.fixture
def issued(signed_setup, django_capture_on_commit_callbacks):
    """The leader signs, the clerk seals: a document whose main file was verified, with a later revision."""
    from documents.models import Document
    from documents.storage import open_verified
    from workflows import draft_signing

    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=True):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    seal.refresh_from_db()
    assert seal.state == SigningState.DONE, seal.error
    document = Document.objects.get(pk=seal.document_id)
    main = document.files.select_related("blob").get(is_main=True)
    with open_verified(main.blob) as handle:
        pdf = handle.read()
    assert FileVerification.objects.get(blob=main.blob).state == "done"
    return o, document, main, pdf


@pytest.mark.django_db
def test_stored_file_sheet_only_for_people_who_see_the_document(issued):
    o, document, main, _pdf = issued
    url = f"/signatures/files/{main.blob_id}/verification.pdf?document={document.pk}"
    detail = client_for(o.clerk).get(f"/documents/{document.pk}/").content.decode()
    assert url.replace("&", "&amp;") in detail or url in detail

    answer = client_for(o.clerk).get(url)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert answer["Content-Disposition"].startswith("attachment")
    text = pdf_text(answer.content)
    assert "Điền trường biểu mẫu: SoKyHieu" in text and "Điền trường biểu mẫu: NgayBanHanh" in text
    assert o.leader.display_name in text and o.clerk.display_name in text  # signer; who printed it
    assert main.blob_id in text

    outsider = client_for(o.outsider)
    assert outsider.get(url).status_code == 404
    unknown = "0" * 64
    for other in (f"/signatures/files/{unknown}/verification.pdf?document={document.pk}",
                  f"/signatures/files/{main.blob_id}/verification.pdf",
                  f"/signatures/files/{main.blob_id}/verification.pdf?document=x",
                  f"/signatures/files/{main.blob_id}/verification.pdf?document={10**30}",
                  f"/signatures/files/{main.blob_id}/verification.pdf?document={document.pk + 1000}"):
        assert client_for(o.clerk).get(other).status_code == 404, other

    api = f"/api/v1/signatures/files/{main.blob_id}/verification.pdf?document={document.pk}"
    assert api_for(o.clerk).get(api).status_code == 200
    assert api_for(o.clerk).get(api)["Content-Type"] == "application/pdf"
    assert api_for(o.outsider).get(api).status_code == 404
    assert api_for(o.clerk).get(api.replace(main.blob_id, unknown)).status_code == 404

    FileVerification.objects.filter(blob=main.blob).update(state="pending")
    with translation.override("vi"):
        waiting = _words(translation.gettext("Not verified yet: the file is waiting to be checked."))
    assert waiting in pdf_text(client_for(o.clerk).get(url).content)


@pytest.mark.django_db
def test_upload_page_and_api_print_the_sheet(issued):
    o, _document, _main, pdf = issued
    page = client_for(o.outsider).post("/signatures/verify/", {"file": SimpleUploadedFile("đã ký.pdf", pdf),
                                                                "format": "pdf"})
    assert page.status_code == 200 and page["Content-Type"] == "application/pdf"
    assert page["Content-Security-Policy"] == "default-src 'none'; sandbox"
    text = pdf_text(page.content)
    assert "Điền trường biểu mẫu: SoKyHieu" in text and o.leader.display_name in text and "đã ký.pdf" in text
    assert 'name="format" value="pdf"' in client_for(o.outsider).get("/signatures/verify/").content.decode()

    answer = api_for(o.outsider).post("/api/v1/signatures/verify/sheet/", {"file": io.BytesIO(pdf)},
                                      format="multipart")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert "Điền trường biểu mẫu: NgayBanHanh" in pdf_text(answer.content)
