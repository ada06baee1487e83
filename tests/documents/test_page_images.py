"""Pages of stored PDFs drawn as images (documents/page_images.py): the right size, drawn once, a broken or
hostile PDF answered with a clear message (never a 500), and the same permission as the file itself."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from accounts import roles
from audit.models import AuditEvent
from documents import events, page_images, services
from documents.models import Confidentiality, Document, DocumentFile, FileBlob
from documents.storage import blob_storage_name
from tests.factories import PASSWORD, AgencyFactory, clerk, doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def stored_blob(data: bytes) -> FileBlob:
    """A blob written straight to the storage (a hostile file would not pass the upload checks)."""
    sha = hashlib.sha256(data).hexdigest()
    name = blob_storage_name(sha)
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    blob, _created = FileBlob.objects.get_or_create(
        sha256=sha, defaults={"size": len(data), "content_type": "application/pdf", "storage_name": name})
    return blob


def document_with(user, data: bytes, **extra) -> tuple[Document, DocumentFile]:
    document = services.register_outgoing(user, services.OutgoingInput(
        document_type_id=doc_type().pk, subject="Quyết định phê duyệt kế hoạch", **extra))
    doc_file = DocumentFile.objects.create(document=document, blob=stored_blob(data), original_name="qd.pdf",
                                           is_main=True, uploaded_by=user)
    return document, doc_file


def page_url(document, doc_file, page: int = 1) -> str:
    return reverse("documents:file_page", args=[document.pk, doc_file.pk, page])


def test_a_corpus_pdf_is_drawn_at_the_chosen_width(corpora):
    blob = stored_blob((corpora / "hostile/baseline-benign/pdflatex-4-pages.pdf").read_bytes())
    assert page_images.page_count(blob) == 4
    normal = Image.open(io.BytesIO(page_images.page_image(blob, 2, page_images.NORMAL_WIDTH)))
    large = Image.open(io.BytesIO(page_images.page_image(blob, 2, page_images.LARGE_WIDTH)))
    assert normal.format == "WEBP" and abs(normal.width - 900) <= 1
    assert abs(large.width - 1600) <= 1 and large.height > normal.height > normal.width  # a portrait page
    with pytest.raises(page_images.RenderFailed):
        page_images.page_image(blob, 1, 5000)  # only the offered widths


def test_a_page_is_drawn_once_then_read_from_the_cache(monkeypatch):
    blob = stored_blob(make_pdf(2))
    calls = []
    real = page_images._run_worker

    def counting(data, page, width):
        calls.append((page, width))
        return real(data, page, width)

    monkeypatch.setattr(page_images, "_run_worker", counting)
    first = page_images.page_image(blob, 1, page_images.NORMAL_WIDTH)
    again = page_images.page_image(blob, 1, page_images.NORMAL_WIDTH)
    assert first == again and calls == [(1, 900)]
    assert page_images.page_count(blob) == 2 and calls == [(1, 900)]  # the count came with the drawing


def test_a_broken_pdf_gives_the_clear_message_and_the_link_never_a_500(client, corpora):
    user = clerk(AgencyFactory())
    document, doc_file = document_with(user, (corpora / "hostile/qpdf/bad1.pdf").read_bytes())
    login(client, user)
    response = client.get(page_url(document, doc_file))
    assert response.status_code == 422 and "Không hiển thị được các trang" in response.content.decode()
    assert response["Cache-Control"].startswith("private")
    detail = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert "pdf-pages-error" in detail and "Không hiển thị được các trang" in detail
    assert reverse("documents:file_download", args=[document.pk, doc_file.pk]) in detail


@pytest.mark.parametrize("name", ["pdfjs/poppler-937-0-fuzzed.pdf", "pdfjs/issue6010_1.pdf",
                                  "qpdf/issue-146.pdf", "pdfjs/poppler-85140-0.pdf"])
def test_hostile_pdfs_are_drawn_or_refused_with_a_reason(corpora, name):
    blob = stored_blob((corpora / "hostile" / name).read_bytes())
    view = page_images.pages_view(blob, lambda n: f"/p/{n}/", "/download/", name)
    assert view.error or view.pages  # never an exception
    if not view.error:  # counted: page 1 is drawn within the bounds, or refused with a reason (422)
        response = page_images.page_image_response(blob, 1, page_images.NORMAL_WIDTH)
        assert response.status_code in (200, 422)
        if response.status_code == 200:
            image = Image.open(io.BytesIO(response.content))
            assert image.width * image.height <= page_images.MAX_PIXELS * 1.01
        else:
            assert "Không hiển thị được" in response.content.decode()


def test_the_page_image_has_the_files_permission(client):
    agency = AgencyFactory()
    owner = clerk(agency)
    document, doc_file = document_with(owner, make_pdf(2))
    colleague = make_user(roles.STAFF, agency)
    login(client, colleague)
    response = client.get(page_url(document, doc_file, 2))
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["Cache-Control"].startswith("private")
    assert client.get(page_url(document, doc_file, 3)).status_code == 404  # no such page
    zoom = client.get(page_url(document, doc_file) + "?w=1600")
    assert Image.open(io.BytesIO(zoom.content)).width in (1600, 1601)
    client.logout()
    for outsider in (make_user(roles.CLERK, AgencyFactory()), make_user(roles.AGENCY_LEADER, AgencyFactory())):
        login(client, outsider)
        assert client.get(page_url(document, doc_file)).status_code == 404
        client.logout()
    # A file of another document is not reachable through this document's address.
    other, other_file = document_with(owner, make_pdf(1, "Công văn khác"))
    login(client, colleague)
    assert client.get(page_url(document, other_file)).status_code == 404


def test_a_secret_documents_pages_are_seen_by_grantees_only_and_the_opening_is_recorded(client):
    agency = AgencyFactory()
    owner = clerk(agency)
    document, doc_file = document_with(owner, make_pdf(1), confidentiality=Confidentiality.SECRET)
    login(client, make_user(roles.STAFF, agency))
    assert client.get(page_url(document, doc_file)).status_code == 404
    client.logout()
    login(client, owner)
    assert client.get(page_url(document, doc_file)).status_code == 200
    opened = AuditEvent.objects.filter(verb=events.DOCUMENT_FILE_OPENED, target_id=str(document.pk))
    assert [e.data["via"] for e in opened] == ["preview"]
    client.get(page_url(document, doc_file) + "?w=1600")  # the zoom of a page already opened
    assert opened.count() == 1


def test_the_detail_page_shows_the_pages_lazily(client):
    user = clerk(AgencyFactory())
    document = services.register_outgoing(
        user, services.OutgoingInput(document_type_id=doc_type().pk, subject="Quyết định"),
        [SimpleUploadedFile("qd.pdf", make_pdf(3))],
    )
    doc_file = document.files.get()
    login(client, user)
    body = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert body.count('loading="lazy"') >= 3 and page_url(document, doc_file, 3) in body
    assert f"{page_url(document, doc_file, 1)}?w=1600" in body  # the zoom


@pytest.fixture
def english():
    """The reasons as written."""
    with translation.override("en"):
        yield


def test_bounds_a_slow_or_huge_pdf_is_refused_with_a_reason(monkeypatch, english):
    blob = stored_blob(make_pdf(1, "Chậm"))
    monkeypatch.setattr(page_images, "TIMEOUT_SECONDS", 0.001)
    with pytest.raises(page_images.RenderFailed, match="too long"):
        page_images.page_image(blob, 1, page_images.NORMAL_WIDTH)
    assert "too long" in page_images.pages_view(blob, str, "/download/", "x.pdf").error
    monkeypatch.setattr(page_images, "TIMEOUT_SECONDS", 20)
    monkeypatch.setattr(page_images, "MAX_BYTES", 10)
    big = stored_blob(make_pdf(1, "Lớn"))
    assert "too large" in page_images.pages_view(big, str, "/download/", "x.pdf").error
    monkeypatch.setattr(page_images, "MAX_PAGES", 1)
    with pytest.raises(page_images.RenderFailed):
        page_images.page_image(blob, 2, page_images.NORMAL_WIDTH)  # beyond the page cap
