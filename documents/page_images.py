"""Pages of a stored PDF as images, drawn on the server, so that the processing slip, the draft page and the
signing step show the document itself on any screen, a phone included, without a PDF viewer in the browser.

Why server-side images: a browser's built-in PDF viewer is missing on most phones and inside the app's
sandboxed frames, and a JavaScript PDF renderer would be a large vendored dependency. PDFium (pypdfium2) draws
the page in a child process (documents/pdf_render_worker.py) with a time, memory and page limit, so a hostile
PDF costs a killed child and a clear message, never a 500. Images are derived data, cached in the file storage
under the blob's SHA-256, page and width (shared by every web node), the page count in Django's cache.

Permission is the caller's: each route serving a page image first finds the file through the selector of
its object (a document's file, a draft's version) and answers 404 otherwise, like the file itself."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from .models import FileBlob
from .storage import IntegrityFailure, read_blob
from .uploads import PDF

logger = logging.getLogger(__name__)

NORMAL_WIDTH = 900
LARGE_WIDTH = 1600  # the zoom: the same page opened on its own
WIDTHS = (NORMAL_WIDTH, LARGE_WIDTH)
# Bounds for hostile or merely huge files (overridable in settings).
MAX_PAGES = getattr(settings, "PAGE_IMAGES_MAX_PAGES", 60)  # pages drawn for one file; the rest: open the PDF
MAX_PIXELS = getattr(settings, "PAGE_IMAGES_MAX_PIXELS", 1600 * 2400)  # per image
MAX_BYTES = getattr(settings, "PAGE_IMAGES_MAX_BYTES", 60 * 1024 * 1024)  # a larger PDF is not drawn
TIMEOUT_SECONDS = getattr(settings, "PAGE_IMAGES_TIMEOUT", 20)
COUNT_CACHE_SECONDS = 30 * 24 * 3600
FAILURE_CACHE_SECONDS = 600  # a timeout under load may pass; a broken file is asked again only now and then
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RenderFailed(Exception):
    """The PDF cannot be drawn (broken, hostile, too large, too slow, or damaged at rest); str() is for people."""


@dataclass(frozen=True)
class PagesView:
    """What the `documents/_pdf_pages.html` include needs: the pages to show, or why none can be."""

    count: int
    pages: list[dict]
    download_url: str
    name: str
    error: str = ""

    @property
    def truncated(self) -> bool:
        return self.count > len(self.pages)


def _image_name(sha256: str, page: int, width: int) -> str:
    return f"page-images/{sha256[:2]}/{sha256}/p{page}-w{width}.webp"


def _count_key(sha256: str) -> str:
    return f"page-images:count:{sha256}"


def _run_worker(data: bytes, page: int, width: int) -> tuple[dict, bytes]:
    """Draw in a child process with the limits; raises RenderFailed."""
    command = [sys.executable, "-m", "documents.pdf_render_worker", str(page), str(width), str(MAX_PIXELS),
               str(MAX_PAGES)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=TIMEOUT_SECONDS,
                              cwd=_PROJECT_ROOT, check=False)
    except subprocess.TimeoutExpired as error:
        raise RenderFailed(_("The PDF takes too long to draw.")) from error
    if done.returncode != 0:
        logger.info("page image: PDF not drawn (exit %s): %s", done.returncode, done.stderr[:300])
        raise RenderFailed(_("This PDF cannot be shown as pages (it is damaged or uses features we do not draw)."))
    header, _sep, image = done.stdout.partition(b"\n")
    info = json.loads(header)
    return info, image[: info.get("length", len(image))]


def _pdf_bytes(blob: FileBlob) -> bytes:
    if blob.content_type != PDF:
        raise RenderFailed(_("Only PDF files are shown as pages."))
    if blob.size > MAX_BYTES:
        raise RenderFailed(_("This PDF is too large to show as pages."))
    try:
        return read_blob(blob)
    except (IntegrityFailure, OSError) as error:
        raise RenderFailed(_("The stored copy of this file is damaged and is not shown. Please tell the "
                             "administrator.")) from error


def page_count(blob: FileBlob) -> int:
    """Pages of the PDF (cached by its hash); raises RenderFailed when it cannot be drawn."""
    key = _count_key(blob.sha256)
    cached = cache.get(key)
    if isinstance(cached, int):
        return cached
    if isinstance(cached, str):
        raise RenderFailed(cached)
    try:
        info, _image = _run_worker(_pdf_bytes(blob), 0, NORMAL_WIDTH)
    except RenderFailed as failure:
        cache.set(key, str(failure), FAILURE_CACHE_SECONDS)
        raise
    count = int(info["pages"])
    cache.set(key, count, COUNT_CACHE_SECONDS)
    return count


def page_image(blob: FileBlob, page: int, width: int) -> bytes:
    """WebP bytes of page `page` (1-based) at `width` pixels, drawn once and then read from the storage."""
    if width not in WIDTHS or page < 1 or page > MAX_PAGES:
        raise RenderFailed(_("This page is not shown."))
    name = _image_name(blob.sha256, page, width)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    info, image = _run_worker(_pdf_bytes(blob), page, width)
    cache.set(_count_key(blob.sha256), int(info["pages"]), COUNT_CACHE_SECONDS)
    saved = default_storage.save(name, ContentFile(image))
    if saved != name:  # a concurrent request drew the same page: keep one copy
        default_storage.delete(saved)
    return image


def page_image_response(blob: FileBlob, page: int, width: int) -> HttpResponse:
    """The image for a route that has already checked who may see the file: 404 for a page that is not
    there, 422 with a short text when the PDF cannot be drawn (the include shows the message and the link)."""
    if page < 1 or page > MAX_PAGES:
        raise Http404
    try:
        if page > page_count(blob):
            raise Http404
        image = page_image(blob, page, width)
    except RenderFailed as failure:
        response = HttpResponse(str(failure), status=422, content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(image, content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def requested_width(request) -> int:
    """The width asked for (?w=1600 for the zoom); any other value is the normal width."""
    return LARGE_WIDTH if request.GET.get("w") == str(LARGE_WIDTH) else NORMAL_WIDTH


def pages_view(blob: FileBlob | None, page_url: Callable[[int], str], download_url: str, name: str) -> PagesView:
    """The pages to show for `blob` (the first MAX_PAGES), each with its normal and large image URLs;
    `page_url(n)` is the caller's permission-checked route for page n."""
    if blob is None:
        return PagesView(0, [], download_url, name, _("No PDF to show."))
    try:
        count = page_count(blob)
    except RenderFailed as failure:
        return PagesView(0, [], download_url, name, str(failure))
    pages = []
    for number in range(1, min(count, MAX_PAGES) + 1):
        url = page_url(number)
        pages.append({"number": number, "url": url, "large_url": f"{url}?w={LARGE_WIDTH}"})
    return PagesView(count, pages, download_url, name)
