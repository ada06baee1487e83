"""Every file of the hostile corpus goes through registration: refused with a reason and nothing
written, or stored byte for byte and processed to a final state. The upload check must stay small and
fast on bombs (never expand them), whatever the file claims to be."""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from audit.models import AuditEvent
from audit.services import verify_all
from documents import events, services
from documents.models import Document, DocumentFile, ExtractionStatus, FileBlob
from documents.storage import blob_storage_name
from documents.uploads import PDF, UploadRejected, check_upload
from tests.conftest import CORPORA
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf

pytestmark = pytest.mark.django_db

HOSTILE = "hostile"
CHECK_PEAK_LIMIT = 64 * 1024 * 1024  # bytes traced by tracemalloc during check_upload
CHECK_TIME_LIMIT = 5.0  # seconds for check_upload alone (with tracemalloc on)
FILE_TIME_LIMIT = 20.0  # seconds for check + store + register + extraction of one file

REJECT = "reject"
ACCEPT = "accept"
EITHER = "either"

# Files whose outcome matters. `reason` is a fragment of the English refusal; `pages` the expected page count.
EXPECTED: dict[str, dict] = {
    "archives-office-xml/DoS__bomb.bz2": {"outcome": REJECT, "reason": "Unsupported file type"},
    "archives-office-xml/DoS__docx_bomb.docx": {"outcome": REJECT, "reason": "decompression bomb"},
    "archives-office-xml/DoS__xlsx_bomb.xlsx": {"outcome": REJECT, "reason": "decompression bomb"},
    "archives-office-xml/DoS__txt.png": {"outcome": REJECT, "reason": "decompression bomb"},
    "archives-office-xml/DoS__xmlbomb_billion_laughs.xml": {"outcome": REJECT, "reason": "Unsupported file type"},
    "archives-office-xml/DoS__zipbomb_nested_42style.zip": {"outcome": REJECT, "reason": ""},
    "archives-office-xml/DoS__zipbomb_overlapping_1k.zip": {"outcome": REJECT, "reason": "bomb"},
    "archives-office-xml/DoS__zipbomb_selfreference.zip": {"outcome": REJECT, "reason": ""},
    "archives-office-xml/DoS__zipbomb_zip64_petabyte.zip": {"outcome": REJECT, "reason": "decompression bomb"},
    "archives-office-xml/XXE__xxe_svg.svg": {"outcome": REJECT, "reason": "Unsupported file type"},
    "archives-office-xml/XXE__xxe_docx.docx": {"outcome": EITHER, "no_entities": True},
    "archives-office-xml/XXE__xxe_xlsx.xlsx": {"outcome": EITHER, "no_entities": True},
    "archives-office-xml/Test__test.docx": {"outcome": ACCEPT, "status": ExtractionStatus.DONE},
    "archives-office-xml/Test__test.jpg": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "archives-office-xml/Test__test.pdf": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "archives-office-xml/Test__test.png": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "archives-office-xml/Test__test.xlsx": {"outcome": ACCEPT, "status": ExtractionStatus.DONE},
    "baseline-benign/grayscale-image.pdf": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "baseline-benign/habibi.pdf": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "baseline-benign/imagemagick-CCITTFaxDecode.pdf": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "baseline-benign/libreoffice-writer-password.pdf": {"outcome": ACCEPT, "status": ExtractionStatus.FAILED},
    "baseline-benign/pdflatex-4-pages.pdf": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 4},
    "baseline-benign/with-attachment.pdf": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "images/decompression_bomb.gif": {"outcome": REJECT, "reason": "Unsupported file type"},
    "images/decompression_bomb.ico": {"outcome": REJECT, "reason": "Unsupported file type"},
    "images/decompression_bomb_extents.gif": {"outcome": REJECT, "reason": "Unsupported file type"},
    "images/reallybig.bmp": {"outcome": REJECT, "reason": "Unsupported file type"},
    "images/hopper.jpg": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "images/hopper.png": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
    "images/hopper.tif": {"outcome": ACCEPT, "status": ExtractionStatus.DONE, "pages": 1},
}


def _corpus_files() -> list[str]:
    root = CORPORA / HOSTILE
    if not root.is_dir():
        return ["<corpus missing>"]  # the `corpora` fixture skips (or fails in CI) with the reason
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_expectation_table_names_real_files(corpora):
    present = set(_corpus_files())
    assert set(EXPECTED) <= present, sorted(set(EXPECTED) - present)
    assert not [name for name in present if name.endswith(".gz")], "gzipped corpus files need unpacking first"


def _measure_check(path: Path, content: bytes):
    """Run check_upload alone; return (outcome, peak traced bytes, seconds)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = check_upload(SimpleUploadedFile(path.name, content))
    except UploadRejected as exc:
        outcome = exc
    finally:
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return outcome, peak, elapsed


@pytest.mark.filterwarnings("ignore:Truncated File Read")  # Pillow on the truncated TIFF crash reproducers
@pytest.mark.parametrize("relative", _corpus_files())
def test_hostile_file(corpora, relative, django_capture_on_commit_callbacks):
    path = corpora / HOSTILE / relative
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    expected = EXPECTED.get(relative, {"outcome": EITHER})

    with translation.override("en"):
        checked, peak, elapsed = _measure_check(path, content)
    assert peak < CHECK_PEAK_LIMIT, f"check_upload traced {peak / 2**20:.1f} MB"
    assert elapsed < CHECK_TIME_LIMIT, f"check_upload took {elapsed:.2f} s"

    user = clerk(AgencyFactory())
    data = services.OutgoingInput(document_type_id=doc_type().pk, subject=f"Tệp thử nghiệm {path.name}")
    started = time.perf_counter()
    with translation.override("en"):
        try:
            with django_capture_on_commit_callbacks(execute=True):
                document = services.register_outgoing(user, data, [SimpleUploadedFile(path.name, content)])
        except UploadRejected as exc:
            document, rejection = None, exc
        else:
            rejection = None
    assert time.perf_counter() - started < FILE_TIME_LIMIT

    # The service and check_upload agree.
    assert isinstance(checked, UploadRejected) == (rejection is not None)

    if rejection is not None:
        assert expected["outcome"] in (REJECT, EITHER), f"refused: {rejection.reason}"
        assert rejection.reason.strip() and rejection.file_name == path.name
        assert expected.get("reason", "") in rejection.reason
        assert Document.objects.count() == 0
        assert DocumentFile.objects.count() == 0
        assert FileBlob.objects.count() == 0
        assert AuditEvent.objects.count() == 0
        assert not default_storage.exists(blob_storage_name(digest))
        return

    assert expected["outcome"] in (ACCEPT, EITHER), "a file that must be refused was accepted"
    doc_file = DocumentFile.objects.select_related("blob").get(document=document)
    assert doc_file.original_name == path.name
    assert doc_file.blob.sha256 == digest and doc_file.blob.size == len(content)
    with default_storage.open(doc_file.blob.storage_name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == digest
    assert doc_file.extraction_status in (ExtractionStatus.DONE, ExtractionStatus.FAILED)
    if doc_file.extraction_status == ExtractionStatus.FAILED:
        assert doc_file.extraction_error.strip()
    if "status" in expected:
        assert doc_file.extraction_status == expected["status"], doc_file.extraction_error
    if "pages" in expected:
        assert doc_file.page_count == expected["pages"]
    if expected.get("no_entities"):
        assert "root:" not in doc_file.text and "&xxe;" not in doc_file.text
    verbs = list(AuditEvent.objects.filter(target_id=str(document.pk)).order_by("id").values_list("verb", flat=True))
    assert verbs == [events.DOCUMENT_REGISTERED_OUTGOING, events.DOCUMENT_FILE_ATTACHED, events.DOCUMENT_FILE_PROCESSED]
    assert verify_all() == []


# --- limits that do not need the corpus ---------------------------------------------------------


def _refused(upload) -> str:
    with translation.override("en"), pytest.raises(UploadRejected) as info:
        check_upload(upload)
    assert info.value.reason.strip()
    return info.value.reason


def _register_refused(upload) -> str:
    user = clerk(AgencyFactory())
    data = services.OutgoingInput(document_type_id=doc_type().pk, subject="Tệp bị từ chối")
    with translation.override("en"), pytest.raises(UploadRejected) as info:
        services.register_outgoing(user, data, [upload])
    assert (Document.objects.count(), DocumentFile.objects.count(), FileBlob.objects.count(),
            AuditEvent.objects.count()) == (0, 0, 0, 0)
    return info.value.reason


def test_file_over_the_size_limit_is_refused(settings):
    settings.MAX_UPLOAD_BYTES = 4096
    content = make_pdf(pages=3)
    assert len(content) > 4096
    reason = _register_refused(SimpleUploadedFile("big.pdf", content))
    assert "larger than the limit of 4.0\xa0KB" in reason  # filesizeformat puts a no-break space


def test_stream_that_understates_its_size_is_refused(settings):
    settings.MAX_UPLOAD_BYTES = 4096
    upload = SimpleUploadedFile("big.pdf", make_pdf(pages=3))
    upload.size = 1000  # a stream that lies about its length is measured while hashing
    assert "larger than the limit" in _refused(upload)


def test_file_at_the_limit_is_accepted(settings):
    content = make_pdf(pages=1)
    settings.MAX_UPLOAD_BYTES = len(content)
    checked = check_upload(SimpleUploadedFile("ok.pdf", content))
    assert (checked.size, checked.content_type) == (len(content), PDF)


def test_empty_file_is_refused():
    assert _register_refused(SimpleUploadedFile("empty.pdf", b"")) == "The file is empty."


@pytest.mark.parametrize(
    ("name", "maker", "ext"),
    [
        ("qd.docx", lambda: make_pdf(), ".docx"),
        ("scan.pdf", lambda: _png(), ".pdf"),
        ("bang.xlsx", lambda: _docx(), ".xlsx"),
        ("anh.jpg", lambda: _png(), ".jpg"),
    ],
)
def test_extension_and_content_must_agree(name, maker, ext):
    reason = _register_refused(SimpleUploadedFile(name, maker(), content_type="application/pdf"))
    assert f"ends in {ext}" in reason


def test_declared_content_type_is_ignored():
    upload = SimpleUploadedFile("note.pdf", b"just words, not a PDF at all", content_type="application/pdf")
    assert _refused(upload).startswith("Unsupported file type")


def test_pdf_without_end_marker_is_refused():
    assert "incomplete" in _refused(SimpleUploadedFile("cut.pdf", make_pdf()[:-200]))


def test_generated_office_bomb_is_refused_from_the_directory_alone():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (8 * 1024 * 1024))  # 8 MB of zeros: ratio ~1000
    tracemalloc.start()
    try:
        reason = _refused(SimpleUploadedFile("bomb.docx", buffer.getvalue()))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "compressed suspiciously well" in reason
    assert peak < 4 * 1024 * 1024  # the 8 MB entry was never inflated


def test_nested_archive_inside_an_office_file_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/embeddings/inner.zip", b"PK\x05\x06" + b"\0" * 18)
    assert _refused(SimpleUploadedFile("x.docx", buffer.getvalue())) == "Nested archives are not accepted."


def test_archive_with_too_many_parts_is_refused(settings):
    settings.MAX_ZIP_ENTRIES = 10
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for index in range(12):
            archive.writestr(f"word/part{index}.xml", "<x/>")
    assert "too many parts" in _refused(SimpleUploadedFile("x.docx", buffer.getvalue()))


def test_image_with_too_many_pixels_is_refused(settings):
    settings.MAX_IMAGE_PIXELS = 100
    assert "too large" in _refused(SimpleUploadedFile("big.png", _png(size=(20, 20))))


def test_plain_zip_is_not_an_office_file():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert _refused(SimpleUploadedFile("x.zip", buffer.getvalue())).startswith("Unsupported file type")


def _png(size=(8, 8)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()
