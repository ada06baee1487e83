"""Page count and text of stored files, read defensively: hostile files give an error message, never
an exception out of here, and nothing is expanded beyond fixed caps."""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

from django.conf import settings

from . import uploads

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 200_000
MAX_TEXT_PAGES = 100
MAX_XML_PART_BYTES = 20 * 1024 * 1024


@dataclass
class Extracted:
    page_count: int | None = None
    text: str = ""
    error: str = ""


def extract(content: bytes, content_type: str) -> Extracted:
    try:
        if content_type == uploads.PDF:
            return _pdf(content)
        if content_type == uploads.DOCX:
            return _office_xml(content, ["word/document.xml"], "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t")
        if content_type == uploads.XLSX:
            return _office_xml(content, ["xl/sharedStrings.xml"], "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}t")
        if content_type == uploads.ODT:
            return _office_xml(content, ["content.xml"], None)
        if content_type in (uploads.PNG, uploads.JPEG, uploads.TIFF):
            return _image(content)
        return Extracted(error="unsupported type")
    except Exception as exc:  # noqa: BLE001 - a hostile file must never crash the worker
        logger.info("extraction failed: %s", exc.__class__.__name__)
        return Extracted(error=f"{exc.__class__.__name__}: {str(exc)[:200]}")


def _pdf(content: bytes) -> Extracted:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content), strict=False)
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                return Extracted(error="The PDF is password-protected; its text cannot be read.")
        except Exception:  # noqa: BLE001
            return Extracted(error="The PDF is encrypted; its text cannot be read.")
    page_count = len(reader.pages)
    texts: list[str] = []
    total = 0
    for index, page in enumerate(reader.pages):
        if index >= MAX_TEXT_PAGES or total >= MAX_TEXT_CHARS:
            break
        try:
            text = page.extract_text() or ""
        except Exception:  # noqa: BLE001 - one bad page does not lose the others
            continue
        texts.append(text)
        total += len(text)
    return Extracted(page_count=page_count, text="\n".join(texts)[:MAX_TEXT_CHARS])


def _office_xml(content: bytes, parts: list[str], text_tag: str | None) -> Extracted:
    from defusedxml import ElementTree

    archive = zipfile.ZipFile(io.BytesIO(content))
    texts: list[str] = []
    for part in parts:
        try:
            info = archive.getinfo(part)
        except KeyError:
            continue
        if info.file_size > MAX_XML_PART_BYTES:
            return Extracted(error="The document's text part is too large to index.")
        with archive.open(info) as handle:
            data = handle.read(MAX_XML_PART_BYTES + 1)
        if len(data) > MAX_XML_PART_BYTES:
            return Extracted(error="The document's text part is too large to index.")
        root = ElementTree.fromstring(data, forbid_dtd=True)
        if text_tag:
            texts.extend(node.text or "" for node in root.iter(text_tag))
        else:
            texts.extend(t for t in root.itertext())
    return Extracted(page_count=None, text=" ".join(t for t in texts if t)[:MAX_TEXT_CHARS])


def _image(content: bytes) -> Extracted:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
    with Image.open(io.BytesIO(content)) as image:
        frames = getattr(image, "n_frames", 1)
    return Extracted(page_count=min(frames, 10_000))
