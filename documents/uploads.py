"""Upload checks: size, type by content (never by name), and archive/image bombs refused unexpanded.

Accepted: PDF, DOCX, XLSX, ODT, PNG, JPEG, TIFF. Everything runs on headers and the ZIP central
directory only; no file is decompressed or parsed in full during the request.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

EXTENSIONS = {
    PDF: {".pdf"},
    DOCX: {".docx"},
    XLSX: {".xlsx"},
    ODT: {".odt"},
    PNG: {".png"},
    JPEG: {".jpg", ".jpeg"},
    TIFF: {".tif", ".tiff"},
}
ALLOWED_LABEL = "PDF, DOCX, XLSX, ODT, PNG, JPEG, TIFF"


class UploadRejected(Exception):
    """The file is refused; the message is shown to the user as is."""

    def __init__(self, file_name: str, reason: str):
        self.file_name = file_name
        self.reason = reason
        super().__init__(f"{file_name}: {reason}")


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    content_type: str
    size: int
    sha256: str
    file: IO[bytes]


def checked_bytes(content: bytes, name: str, content_type: str) -> CheckedUpload:
    """Bytes the system produced itself (a signed PDF), described like a checked upload so that they are
    stored and attached the same way. Never for user input: that goes through `check_upload`."""
    import hashlib
    import io

    return CheckedUpload(name=name[:255], content_type=content_type, size=len(content),
                         sha256=hashlib.sha256(content).hexdigest(), file=io.BytesIO(content))


def _sniff(head: bytes) -> str | None:
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return TIFF
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def _office_type(name: str, stream: IO[bytes]) -> str:
    """Tell DOCX/XLSX/ODT apart by their parts, refusing bombs from the central directory alone."""
    try:
        archive = zipfile.ZipFile(stream)
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise UploadRejected(name, _("The file is a damaged or unsupported ZIP archive.")) from exc
    if len(entries) > settings.MAX_ZIP_ENTRIES:
        raise UploadRejected(name, _("The archive has too many parts (%(count)d).") % {"count": len(entries)})
    declared_total = 0
    spans = []
    for entry in entries:
        declared_total += entry.file_size
        if entry.file_size > settings.MAX_UNCOMPRESSED_BYTES or declared_total > settings.MAX_UNCOMPRESSED_BYTES:
            raise UploadRejected(
                name, _("The file would expand to more than %(limit)d MB; it looks like a decompression bomb.")
                % {"limit": settings.MAX_UNCOMPRESSED_BYTES // (1024 * 1024)},
            )
        if entry.compress_size and entry.file_size / entry.compress_size > settings.MAX_COMPRESSION_RATIO:
            raise UploadRejected(name, _("The file is compressed suspiciously well; it looks like a decompression bomb."))
        if entry.filename.lower().endswith((".zip", ".jar", ".7z", ".rar", ".gz", ".bz2")):
            raise UploadRejected(name, _("Nested archives are not accepted."))
        spans.append((entry.header_offset, entry.header_offset + len(entry.filename) + 30 + entry.compress_size))
    spans.sort()
    for (_start_a, end_a), (start_b, _end_b) in zip(spans, spans[1:], strict=False):
        if start_b < end_a:
            raise UploadRejected(name, _("The archive's parts overlap; it looks like a decompression bomb."))
    names = {entry.filename for entry in entries}
    if "mimetype" in names:
        try:
            with archive.open("mimetype") as handle:
                mimetype = handle.read(100).decode("ascii", "replace").strip()
        except Exception as exc:  # noqa: BLE001 - any failure here means a damaged file
            raise UploadRejected(name, _("The file is a damaged OpenDocument file.")) from exc
        if mimetype == ODT:
            return ODT
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
    raise UploadRejected(
        name, _("Unsupported file type. Accepted types: %(types)s.") % {"types": ALLOWED_LABEL}
    )


def _check_image(name: str, stream: IO[bytes]) -> None:
    from PIL import Image

    # Pillow's bomb limit is process-wide: set it for this check only and put the previous one back.
    previous_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, settings.MAX_IMAGE_PIXELS
    try:
        with Image.open(stream) as image:
            width, height = image.size
            if width * height > settings.MAX_IMAGE_PIXELS:
                raise UploadRejected(name, _("The image is too large (%(w)d x %(h)d pixels).") % {"w": width, "h": height})
            image.verify()
    except UploadRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise UploadRejected(name, _("The image is too large; it looks like a decompression bomb.")) from exc
    except ValueError as exc:
        # Pillow refuses compressed text chunks (PNG zTXt/iTXt) that would expand beyond its cap.
        if "too large" in str(exc).lower():
            raise UploadRejected(
                name, _("The image carries compressed data that expands too much; it looks like a decompression bomb.")
            ) from exc
        raise UploadRejected(name, _("The image is damaged and cannot be read.")) from exc
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for damaged images
        raise UploadRejected(name, _("The image is damaged and cannot be read.")) from exc
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit


def check_upload(upload) -> CheckedUpload:
    """Validate one uploaded file (Django UploadedFile or any named binary stream)."""
    name = os.path.basename(getattr(upload, "name", "") or "file")[:255] or "file"
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, os.SEEK_END)
        size = upload.tell()
    if size == 0:
        raise UploadRejected(name, _("The file is empty."))
    if size > settings.MAX_UPLOAD_BYTES:
        raise _too_large(name)
    upload.seek(0)
    head = upload.read(2048)
    kind = _sniff(head)
    upload.seek(0)
    if kind is None:
        raise UploadRejected(name, _("Unsupported file type. Accepted types: %(types)s.") % {"types": ALLOWED_LABEL})
    if kind == "zip":
        kind = _office_type(name, upload)
    elif kind in (PNG, JPEG, TIFF):
        _check_image(name, upload)
    elif kind == PDF and b"%%EOF" not in _tail(upload):
        raise UploadRejected(name, _("The PDF file is incomplete (no end-of-file marker)."))
    extension = os.path.splitext(name)[1].lower()
    if extension and extension not in EXTENSIONS[kind]:
        raise UploadRejected(
            name, _("The file name ends in %(ext)s but its content is %(kind)s.")
            % {"ext": extension, "kind": sorted(EXTENSIONS[kind])[0].lstrip(".").upper()},
        )
    # Hash what is actually there and count it: a stream whose declared size is smaller than its content
    # must not slip past the size limit.
    digest = hashlib.sha256()
    counted = 0
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        counted += len(chunk)
        if counted > settings.MAX_UPLOAD_BYTES:
            raise _too_large(name)
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(name=name, content_type=kind, size=counted, sha256=digest.hexdigest(), file=upload)


def _too_large(name: str) -> UploadRejected:
    from django.template.defaultfilters import filesizeformat

    return UploadRejected(
        name, _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(settings.MAX_UPLOAD_BYTES)}
    )


def _tail(stream: IO[bytes]) -> bytes:
    stream.seek(0, os.SEEK_END)
    end = stream.tell()
    stream.seek(max(0, end - 2048))
    data = stream.read()
    stream.seek(0)
    return data
