"""Extraction of page count and text (PDF, DOCX, XLSX, ODT, images), its idempotence, tampered blobs,
and the sandbox caps (time, memory, crash) that keep a hostile file from taking the worker down."""

from __future__ import annotations

import io
import os
import time
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import verify_all
from documents import events, extraction, processing, services, uploads
from documents.models import DocumentFile, ExtractionStatus
from documents.storage import IntegrityFailure, open_verified
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf

pytestmark = pytest.mark.django_db

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _register(files: list[tuple[str, bytes]], *, process: bool, capture=None):
    """Register an outgoing document with `files`; with process=True the eager extraction runs on commit."""
    user = clerk(AgencyFactory())
    data = services.OutgoingInput(document_type_id=doc_type().pk, subject="Kế hoạch chuyển đổi số năm 2026")
    file_uploads = [SimpleUploadedFile(name, content) for name, content in files]
    if process:
        with capture(execute=True):
            document = services.register_outgoing(user, data, file_uploads)
    else:
        document = services.register_outgoing(user, data, file_uploads)
    return document


def _processed_events(document) -> list[dict]:
    return list(
        AuditEvent.objects.filter(target_id=str(document.pk), verb=events.DOCUMENT_FILE_PROCESSED)
        .order_by("id").values_list("data", flat=True)
    )


def make_docx(paragraphs: list[list[str]], doctype: str = "") -> bytes:
    """A minimal DOCX: each paragraph is a list of runs (a word may be split across runs, as Word does)."""
    body = "".join(
        "<w:p>" + "".join(f"<w:r><w:t xml:space=\"preserve\">{run}</w:t></w:r>" for run in runs) + "</w:p>"
        for runs in paragraphs
    )
    document = f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def make_odt(paragraphs: list[str]) -> bytes:
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    office_ns = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    body = "".join(f"<text:p>{p[:4]}<text:span>{p[4:]}</text:span></text:p>" for p in paragraphs)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{office_ns}" '
               f'xmlns:text="{text_ns}"><office:body><office:text>{body}</office:text></office:body></office:document-content>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), uploads.ODT)  # stored, first, as ODF requires
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def make_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_image(fmt: str, frames: int = 1) -> bytes:
    from PIL import Image

    images = [Image.new("RGB", (40, 30), (i * 60, 100, 150)) for i in range(frames)]
    buffer = io.BytesIO()
    if frames > 1:
        images[0].save(buffer, format=fmt, save_all=True, append_images=images[1:])
    else:
        images[0].save(buffer, format=fmt)
    return buffer.getvalue()


# --- formats ------------------------------------------------------------------------------------


def test_multi_page_pdf_gives_page_count_text_and_page_amount(django_capture_on_commit_callbacks):
    document = _register([("qd.pdf", make_pdf(pages=3))], process=True, capture=django_capture_on_commit_callbacks)
    doc_file = document.files.get()
    assert doc_file.extraction_status == ExtractionStatus.DONE
    assert doc_file.page_count == 3
    assert doc_file.extraction_error == ""
    assert "Quyết định phê duyệt kế hoạch – trang 1" in doc_file.text
    assert "trang 3" in doc_file.text
    document.refresh_from_db()
    assert document.page_amount == 3  # PL VI: PageAmount filled from the main file
    assert _processed_events(document) == [
        {"file_id": doc_file.pk, "status": "done", "page_count": 3, "error": ""}
    ]
    verbs = list(AuditEvent.objects.filter(target_id=str(document.pk)).order_by("id").values_list("verb", flat=True))
    assert verbs == [events.DOCUMENT_REGISTERED_OUTGOING, events.DOCUMENT_FILE_ATTACHED, events.DOCUMENT_FILE_PROCESSED]
    assert verify_all() == []


def test_docx_runs_are_joined_and_paragraphs_separated(django_capture_on_commit_callbacks):
    content = make_docx([["Quyết đ", "ịnh số 12/QĐ-UBND"], ["Về việc phê ", "duyệt"]])
    document = _register([("qd.docx", content)], process=True, capture=django_capture_on_commit_callbacks)
    doc_file = document.files.get()
    assert doc_file.blob.content_type == uploads.DOCX
    assert doc_file.extraction_status == ExtractionStatus.DONE
    assert doc_file.text == "Quyết định số 12/QĐ-UBND\nVề việc phê duyệt"
    assert doc_file.page_count is None


def test_xlsx_shared_strings_are_extracted(django_capture_on_commit_callbacks):
    content = make_xlsx([["Số đến", "Trích yếu"], [1, "Báo cáo tình hình kinh tế"], [2, "Kế hoạch phòng chống lụt bão"]])
    document = _register([("so-den.xlsx", content)], process=True, capture=django_capture_on_commit_callbacks)
    doc_file = document.files.get()
    assert doc_file.blob.content_type == uploads.XLSX
    assert doc_file.extraction_status == ExtractionStatus.DONE
    for phrase in ("Số đến", "Trích yếu", "Báo cáo tình hình kinh tế", "Kế hoạch phòng chống lụt bão"):
        assert phrase in doc_file.text


def test_odt_paragraphs_with_spans(django_capture_on_commit_callbacks):
    content = make_odt(["Thông báo kết luận", "Giao Sở Tài chính chủ trì"])
    document = _register([("tb.odt", content)], process=True, capture=django_capture_on_commit_callbacks)
    doc_file = document.files.get()
    assert doc_file.blob.content_type == uploads.ODT
    assert doc_file.text == "Thông báo kết luận\nGiao Sở Tài chính chủ trì"


@pytest.mark.parametrize(
    ("name", "fmt", "frames", "content_type"),
    [("scan.png", "PNG", 1, uploads.PNG), ("scan.jpg", "JPEG", 1, uploads.JPEG), ("scan.tif", "TIFF", 3, uploads.TIFF)],
)
def test_images_give_their_frame_count(django_capture_on_commit_callbacks, name, fmt, frames, content_type):
    document = _register([(name, make_image(fmt, frames))], process=True, capture=django_capture_on_commit_callbacks)
    doc_file = document.files.get()
    assert doc_file.blob.content_type == content_type
    assert doc_file.extraction_status == ExtractionStatus.DONE
    assert doc_file.page_count == frames
    assert doc_file.text == ""


def test_only_the_main_file_fills_page_amount(django_capture_on_commit_callbacks):
    document = _register([("main.pdf", make_pdf(pages=2)), ("annex.pdf", make_pdf(pages=5, text="Phụ lục"))],
                         process=True, capture=django_capture_on_commit_callbacks)
    main, annex = document.files.order_by("id")
    assert (main.is_main, main.page_count, annex.is_main, annex.page_count) == (True, 2, False, 5)
    document.refresh_from_db()
    assert document.page_amount == 2
    assert len(_processed_events(document)) == 2


def test_password_protected_pdf_fails_with_a_reason(django_capture_on_commit_callbacks):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(pages=2))))
    writer.encrypt(user_password="mat-khau", owner_password="chu-so-huu", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    document = _register([("mat.pdf", buffer.getvalue())], process=True, capture=django_capture_on_commit_callbacks)
    doc_file = document.files.get()
    assert doc_file.extraction_status == ExtractionStatus.FAILED
    assert doc_file.extraction_error == extraction.PASSWORD_PROTECTED
    assert doc_file.text == ""


def test_owner_password_only_pdf_is_read():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(pages=1))))
    writer.encrypt(user_password="", owner_password="chu-so-huu", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    result = extraction.extract(buffer.getvalue(), uploads.PDF)
    assert (result.page_count, result.error) == (1, "")
    assert "trang 1" in result.text


def test_docx_with_a_dtd_is_not_parsed():
    doctype = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    result = extraction.extract(make_docx([["&xxe;"]], doctype=doctype), uploads.DOCX)
    assert result.error == extraction.XML_DTD
    assert result.text == ""


# --- idempotence and integrity ------------------------------------------------------------------


def test_processing_twice_records_one_event():
    document = _register([("qd.pdf", make_pdf(pages=2))], process=False)
    doc_file = document.files.get()
    assert doc_file.extraction_status == ExtractionStatus.PENDING  # nothing ran: no commit callbacks here
    assert processing.process_file(doc_file.pk) == ExtractionStatus.DONE
    assert processing.process_file(doc_file.pk) == "already-done"
    doc_file.refresh_from_db()
    assert (doc_file.extraction_status, doc_file.page_count, doc_file.extraction_attempts) == ("done", 2, 1)
    assert len(_processed_events(document)) == 1
    assert processing.process_file(10**9) == "missing"


def test_tampered_blob_fails_as_unreadable_and_is_refused_on_read():
    document = _register([("qd.pdf", make_pdf(pages=1))], process=False)
    doc_file = document.files.get()
    blob = doc_file.blob
    with open(default_storage.path(blob.storage_name), "r+b") as handle:  # someone edits the stored file
        handle.seek(20)
        handle.write(b"TAMPERED")
    # The first reads may race a concurrent writer of the same bytes: they stay pending and count attempts.
    for _attempt in range(processing.MAX_ATTEMPTS - 1):
        assert processing.process_file(doc_file.pk) == "retry-later"
    assert not _processed_events(document)
    assert processing.process_file(doc_file.pk) == ExtractionStatus.FAILED
    doc_file.refresh_from_db()
    assert doc_file.extraction_status == ExtractionStatus.FAILED
    assert "unreadable" in doc_file.extraction_error
    assert doc_file.text == "" and doc_file.page_count is None
    with pytest.raises(IntegrityFailure):
        open_verified(blob)
    [event] = _processed_events(document)
    assert event["status"] == "failed" and "unreadable" in event["error"]


def test_missing_blob_fails_as_unreadable():
    document = _register([("qd.pdf", make_pdf(pages=1, text="Tệp bị xóa"))], process=False)
    doc_file = document.files.get()
    default_storage.delete(doc_file.blob.storage_name)
    DocumentFile.objects.filter(pk=doc_file.pk).update(extraction_attempts=processing.MAX_ATTEMPTS - 1)
    assert processing.process_file(doc_file.pk) == ExtractionStatus.FAILED
    doc_file.refresh_from_db()
    assert "unreadable" in doc_file.extraction_error


def test_sweeper_gives_up_after_max_attempts_and_a_day():
    document = _register([("qd.pdf", make_pdf(pages=1, text="Chờ xử lý"))], process=False)
    doc_file = document.files.get()
    DocumentFile.objects.filter(pk=doc_file.pk).update(extraction_attempts=processing.MAX_ATTEMPTS)
    # Attempts spent, but only minutes old: the message may still be queued behind a backlog.
    assert processing.requeue_stale_files(older_than=timedelta(0)) == 0
    doc_file.refresh_from_db()
    assert doc_file.extraction_status == ExtractionStatus.PENDING
    a_day_ago = timezone.now() - processing.GIVE_UP_AFTER - timedelta(minutes=1)
    DocumentFile.objects.filter(pk=doc_file.pk).update(uploaded_at=a_day_ago)
    assert processing.requeue_stale_files(older_than=timedelta(0)) == 0
    doc_file.refresh_from_db()
    assert doc_file.extraction_status == ExtractionStatus.FAILED
    assert doc_file.extraction_error == f"gave up after {processing.MAX_ATTEMPTS} attempts"
    [event] = _processed_events(document)
    assert event["status"] == "failed"
    assert verify_all() == []


# --- the sandbox --------------------------------------------------------------------------------


needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="the extraction sandbox needs os.fork (POSIX)")


@needs_fork
def test_a_reader_that_hangs_is_stopped_at_the_time_limit(settings, monkeypatch):
    settings.EXTRACTION_TIME_LIMIT = 1

    def hang(content, deadline):
        while True:
            time.sleep(0.05)

    monkeypatch.setattr(extraction, "_pdf", hang)
    started = time.monotonic()
    result = extraction.extract(make_pdf(), uploads.PDF)
    assert time.monotonic() - started < 5
    assert result == extraction.Extracted(error=extraction.TOO_SLOW)


@needs_fork
def test_a_reader_that_burns_cpu_is_stopped(settings, monkeypatch):
    settings.EXTRACTION_TIME_LIMIT = 1

    def spin(content, deadline):
        while True:
            pass

    monkeypatch.setattr(extraction, "_pdf", spin)
    started = time.monotonic()
    assert extraction.extract(make_pdf(), uploads.PDF).error == extraction.TOO_SLOW
    assert time.monotonic() - started < 5


@needs_fork
def test_a_reader_that_allocates_without_bound_is_stopped(settings, monkeypatch):
    settings.EXTRACTION_MEMORY_LIMIT = 64 * 1024 * 1024

    def hog(content, deadline):
        blocks = []
        while True:
            blocks.append(bytearray(16 * 1024 * 1024))

    monkeypatch.setattr(extraction, "_pdf", hog)
    result = extraction.extract(make_pdf(), uploads.PDF)
    assert result == extraction.Extracted(error=extraction.TOO_MUCH_MEMORY)


@needs_fork
def test_a_reader_that_crashes_leaves_the_worker_alive(monkeypatch):
    monkeypatch.setattr(extraction, "_pdf", lambda content, deadline: os.abort())
    result = extraction.extract(make_pdf(), uploads.PDF)
    assert result == extraction.Extracted(error=extraction.CRASHED)


@needs_fork
def test_crash_during_processing_marks_the_file_failed(monkeypatch):
    document = _register([("qd.pdf", make_pdf(pages=1, text="Sập"))], process=False)
    doc_file = document.files.get()
    monkeypatch.setattr(extraction, "_pdf", lambda content, deadline: os.kill(os.getpid(), 11))
    assert processing.process_file(doc_file.pk) == ExtractionStatus.FAILED
    doc_file.refresh_from_db()
    assert doc_file.extraction_error == extraction.CRASHED


def test_slow_pdf_keeps_its_page_count_and_says_the_text_is_partial():
    result = extraction._pdf(make_pdf(pages=3), deadline=0)  # the deadline has passed before the first page
    assert (result.page_count, result.text, result.error) == (3, "", extraction.PARTIAL_TEXT)


def test_inline_and_isolated_extraction_agree(settings):
    content = make_pdf(pages=2, text="Công văn về việc cải cách hành chính")
    isolated = extraction.extract(content, uploads.PDF)
    settings.EXTRACTION_ISOLATED = False
    inline = extraction.extract(content, uploads.PDF)
    assert isolated == inline
    assert isolated.page_count == 2 and "cải cách hành chính" in isolated.text


def test_text_is_made_storable():
    assert extraction._storable("a\x00b\ud800c") == "ab?c"
