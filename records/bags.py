"""BagIt (RFC 8493) export and import of a work file: the way a file leaves this installation for another one
or for the historical archive, and comes back in, with every byte provable.

The payload (`data/`) is `hoso.xml` (the PL VI metadata of the file and of each document, in our namespace),
`muc-luc-van-ban.pdf` (the document index) and `documents/NNN/<file name>`: the stored bytes untouched, with
the B-LTA copy of a timestamped file beside it as `<name>.lta.pdf`. The bag's SHA-256 manifests let anyone
check the package with any BagIt tool; the import refuses a package bagit does not validate before it reads
anything else, and creates the file and its documents in one transaction (all or nothing).

Pure functions: the permission checks, audit events of the work file, job rows and tasks are records.services'.
`bagit.make_bag` and `Bag.validate` change the process's working directory while they run: call them from a
task worker (one job per process at a time), not from a threaded web request.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

import bagit
from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Agency
from documents.models import Direction, DocumentFile, DocumentRecipient
from documents.services import import_document_record
from documents.storage import ContentDestroyed, IntegrityFailure, read_blob_chunks, store_blob
from documents.uploads import UploadRejected, check_upload
from signatures.models import FileVerification

from .models import (
    ArchivalTimestamp,
    BagExport,
    BagImport,
    JobState,
    WorkFile,
    WorkFileDocument,
    WorkFileState,
)
from .printouts import document_index_pdf

log = logging.getLogger(__name__)
# bagit logs a line per payload file at INFO: thousands of lines in the worker's log for one package.
logging.getLogger("bagit").setLevel(logging.WARNING)

NS = "urn:x-eoffice:records:hoso:1"
FORMAT_VERSION = "1"
METADATA_NAME = "hoso.xml"
INDEX_NAME = "muc-luc-van-ban.pdf"
DOCUMENTS_DIR = "documents"
LTA_SUFFIX = ".lta.pdf"
CHECKSUMS = ["sha256"]
# Bytes that are compressed already are stored in the ZIP as they are: deflating them costs time for nothing.
_STORED_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".docx", ".xlsx", ".odt", ".zip")
_UNSAFE_CHARS = re.compile(r'[\\/:*?"<>|]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_MAX_NAME_BYTES = 180  # well under the 255 bytes most file systems allow for one name, room for " (2)"

ET.register_namespace("", NS)


class BagRefused(Exception):
    """The package cannot be built or imported; the message says why (shown to the user as is) and `files`
    names the payload files at fault, when there are some."""

    def __init__(self, message: str, files: Iterable[str] = ()):
        self.files = list(files)
        super().__init__(message)


# --- file names -------------------------------------------------------------------------------------


def safe_file_name(name: str, fallback: str = "file") -> str:
    """A name safe as one path component on any system: no directory part, no separators or control
    characters, no leading dots, not a reserved Windows device name; Vietnamese letters kept (NFC)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name or name in {".", ".."}:
        name = fallback
    if _WINDOWS_RESERVED.match(name):
        name = "_" + name
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        stem, ext = os.path.splitext(name)
        ext = ext if len(ext.encode("utf-8")) <= 16 else ""
        budget = _MAX_NAME_BYTES - len(ext.encode("utf-8"))
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .") or fallback
        name = stem + ext
    return name


def _unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name (2).ext`, `name (3).ext`… so that no two files of a folder collide (compared
    case-insensitively: the bag may be unpacked on a case-insensitive file system)."""
    stem, ext = os.path.splitext(name)
    if name.lower().endswith(LTA_SUFFIX):
        stem, ext = name[: -len(LTA_SUFFIX)], LTA_SUFFIX
    candidate, counter = name, 1
    while candidate.lower() in taken:
        counter += 1
        candidate = f"{stem} ({counter}){ext}"
    taken.add(candidate.lower())
    return candidate


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    return re.sub(r"[^A-Za-z0-9.]+", "-", folded.encode("ascii", "ignore").decode("ascii")).strip("-.") or "hoso"


def bag_name(work_file: WorkFile) -> str:
    """ASCII folder and download name of the bag, e.g. `hoso-H10.01-2026-01.TCCB`."""
    return "hoso-" + _ascii(f"{work_file.agency.organ_id}-{work_file.year}-{work_file.file_notation}")


# --- export ------------------------------------------------------------------------------------------


@dataclass
class _PayloadFile:
    document_file: DocumentFile
    path: str  # relative to data/
    lta_path: str = ""
    lta: ArchivalTimestamp | None = None


@dataclass
class _PayloadDocument:
    item: WorkFileDocument
    folder: str
    files: list[_PayloadFile] = field(default_factory=list)


def _items(work_file: WorkFile) -> list[WorkFileDocument]:
    files = DocumentFile.objects.select_related("blob").order_by("-is_main", "id")
    return list(
        WorkFileDocument.objects.filter(work_file=work_file)
        .select_related("document__document_type")
        .prefetch_related(
            Prefetch("document__files", queryset=files),
            Prefetch("document__recipients", queryset=DocumentRecipient.objects.select_related("agency")),
        )
        .order_by("ordinal", "id")
    )


def _plan(items: list[WorkFileDocument]) -> list[_PayloadDocument]:
    width = max(3, len(str(len(items))))
    timestamps = {
        ts.document_file_id: ts
        for ts in ArchivalTimestamp.objects.filter(
            document_file__document__in=[i.document_id for i in items], state="done", blob__isnull=False
        ).select_related("blob")
    }
    planned = []
    for position, item in enumerate(items, start=1):
        folder = f"{DOCUMENTS_DIR}/{position:0{width}d}"
        taken: set[str] = set()
        entry = _PayloadDocument(item=item, folder=folder)
        for doc_file in item.document.files.all():
            name = _unique_name(safe_file_name(doc_file.original_name), taken)
            payload = _PayloadFile(document_file=doc_file, path=f"{folder}/{name}")
            lta = timestamps.get(doc_file.pk)
            if lta is not None:
                lta_name = _unique_name(os.path.splitext(name)[0] + LTA_SUFFIX, taken)
                payload.lta, payload.lta_path = lta, f"{folder}/{lta_name}"
            entry.files.append(payload)
        planned.append(entry)
    return planned


def _text(parent: ET.Element, tag: str, value, **attrs) -> ET.Element | None:
    """A child element with `value` as text; nothing for an empty value (None or "")."""
    if value is None or value == "":
        return None
    element = ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v not in (None, "")})
    if isinstance(value, datetime):
        element.text = (value.astimezone(UTC) if timezone.is_aware(value) else value).isoformat()
    elif isinstance(value, date):
        element.text = value.isoformat()
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)
    return element


def _group(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v not in (None, "")})


def metadata_xml(work_file: WorkFile, planned: list[_PayloadDocument]) -> ET.ElementTree:
    """The PL VI metadata of the file (HỒ SƠ) and of each document in order, with each file's hash and the
    verdict of its signatures: what an archive needs to catalogue the package without this system."""
    agency = work_file.agency
    blobs = [f.document_file.blob_id for d in planned for f in d.files]
    verifications = {
        v.blob_id: v for v in FileVerification.objects.filter(blob_id__in=blobs).prefetch_related("signatures")
    }
    root = ET.Element(f"{{{NS}}}HoSo", {"version": FORMAT_VERSION})
    source = _group(root, "Source")
    _text(source, "OrganId", agency.organ_id)
    _text(source, "OrganName", agency.name)
    _text(source, "ExportedAt", timezone.now())
    code = _group(root, "FileCode")
    _text(code, "OrganId", agency.organ_id)
    _text(code, "FileCatalog", work_file.year)
    _text(code, "FileNotation", work_file.file_notation)
    _text(root, "Title", work_file.title)
    # PL VI values are Vietnamese whatever the interface language (the years attribute is for machines).
    years = work_file.retention_years
    _text(root, "Maintenance", "Vĩnh viễn" if years is None else f"{years} năm", years=years)
    _text(root, "Rights", work_file.rights)
    creator = work_file.creator
    _text(root, "Creator", (creator.full_name or creator.get_username())[:30] if creator else "")
    _text(root, "Language", work_file.language)
    _text(root, "StartDate", work_file.start_date)
    _text(root, "EndDate", work_file.end_date)
    documents = [d.item.document for d in planned]
    _text(root, "DocTotal", work_file.doc_total or len(documents))
    _text(root, "PageTotal", work_file.page_total or sum(d.page_amount or 0 for d in documents))
    _text(root, "Description", work_file.description)
    _text(root, "State", work_file.state)
    listing = _group(root, "Documents")
    for entry in planned:
        _document_xml(listing, entry, verifications)
    ET.indent(root)
    return ET.ElementTree(root)


def _document_xml(parent: ET.Element, entry: _PayloadDocument, verifications: dict) -> None:
    doc = entry.item.document
    element = _group(parent, "Document", direction=doc.direction)
    _text(element, "DocOrdinal", entry.item.ordinal)
    _text(element, "TypeName", doc.document_type.name, code=doc.document_type.code)
    _text(element, "CodeNumber", doc.code_number)
    _text(element, "CodeNotation", doc.code_notation)
    _text(element, "Identifier", doc.identifier)
    _text(element, "IssuedDate", doc.issued_date)
    _text(element, "OrganName", doc.organ_name)
    _text(element, "OrganId", doc.organ_id)
    _text(element, "Subject", doc.subject)
    _text(element, "Language", doc.language)
    _text(element, "PageAmount", doc.page_amount)
    _text(element, "Description", doc.description)
    if doc.signer_name or doc.signer_position or doc.authority_prefix:
        signer = _group(element, "SignerInfo")
        _text(signer, "Competence", doc.authority_prefix)
        _text(signer, "Position", doc.signer_position)
        _text(signer, "FullName", doc.signer_name)
    recipients = list(doc.recipients.all())
    if recipients:
        to = _group(element, "To")
        for recipient in recipients:
            place = _group(to, "Recipient")
            _text(place, "OrganId", recipient.agency.organ_id if recipient.agency_id else "")
            _text(place, "OrganName", recipient.name)
    _text(element, "Priority", doc.urgency)
    _text(element, "Confidentiality", doc.confidentiality)
    _text(element, "IssuedAmount", doc.issued_amount)
    _text(element, "DueDate", doc.due_date)
    if doc.direction == Direction.INCOMING:
        _text(element, "ArrivalDate", doc.arrival_date)
        _text(element, "ArrivalNumber", doc.register_number)
        _text(element, "ToPlaces", doc.to_places)
    files = _group(element, "Files")
    for payload in entry.files:
        doc_file, blob = payload.document_file, payload.document_file.blob
        item = _group(files, "File", main="true" if doc_file.is_main else "false")
        _text(item, "Name", doc_file.original_name)
        _text(item, "Path", payload.path)
        _text(item, "Sha256", blob.sha256)
        _text(item, "Size", blob.size)
        _text(item, "ContentType", blob.content_type)
        _text(item, "PageCount", doc_file.page_count)
        verification = verifications.get(blob.sha256)
        if verification is not None:
            checked = _group(item, "SignatureVerification", state=verification.state,
                             verdict=verification.verdict, signatures=verification.signature_count)
            _text(checked, "VerifiedAt", verification.verified_at)
            for check in verification.signatures.all():
                signature = _group(checked, "Signature", position=check.position)
                _text(signature, "Signer", check.signer)
                _text(signature, "Verdict", check.verdict)
                _text(signature, "SigningTime", check.signing_time)
                _text(signature, "TimestampTime", check.timestamp_time)
                _text(signature, "CertificateSha256", check.certificate_sha256)
        if payload.lta is not None:
            copy = _group(item, "ArchivalCopy")
            _text(copy, "Path", payload.lta_path)
            _text(copy, "Sha256", payload.lta.blob.sha256)
            _text(copy, "Size", payload.lta.blob.size)
            _text(copy, "TimestampedAt", payload.lta.timestamped_at)


def _copy_blob(blob, target: Path, label: str) -> None:
    """Write the stored bytes to `target`, verified against their hash while they are copied."""
    try:
        with open(target, "wb") as out:
            for chunk in read_blob_chunks(blob):
                out.write(chunk)
    except ContentDestroyed as exc:
        raise BagRefused(_("The file %(name)s was destroyed by a disposition; the package cannot be made.")
                         % {"name": label}, [label]) from exc
    except IntegrityFailure as exc:
        raise BagRefused(_("The stored file %(name)s is damaged (its hash no longer matches); the package "
                           "cannot be made.") % {"name": label}, [label]) from exc
    except FileNotFoundError as exc:
        raise BagRefused(_("The stored file %(name)s is missing from storage; the package cannot be made.")
                         % {"name": label}, [label]) from exc


def build_bag(work_file: WorkFile, destination_dir: str | Path) -> Path:
    """Build the bag of `work_file` as a folder inside `destination_dir` (which must exist) and return it.
    Stored bytes are copied untouched (and checked against their hash on the way)."""
    work_file = WorkFile.objects.select_related("agency", "creator").get(pk=work_file.pk)
    bag_dir = Path(destination_dir) / bag_name(work_file)
    if bag_dir.exists():
        shutil.rmtree(bag_dir)
    bag_dir.mkdir()
    planned = _plan(_items(work_file))
    # make_bag moves whatever is in the folder into data/: the payload is written at the top first.
    for entry in planned:
        (bag_dir / entry.folder).mkdir(parents=True)
        for payload in entry.files:
            _copy_blob(payload.document_file.blob, bag_dir / payload.path, payload.path)
            if payload.lta is not None:
                _copy_blob(payload.lta.blob, bag_dir / payload.lta_path, payload.lta_path)
    metadata_xml(work_file, planned).write(bag_dir / METADATA_NAME, encoding="utf-8", xml_declaration=True)
    with translation.override("vi"):
        (bag_dir / INDEX_NAME).write_bytes(document_index_pdf(work_file))
    info = {
        "Source-Organization": work_file.agency.name,
        "Organization-Address": " ".join(work_file.agency.address.split()),
        "External-Identifier": work_file.file_code,
        "External-Description": " ".join(work_file.title.split()),
        "Bag-Group-Identifier": f"{work_file.agency.organ_id}.{work_file.year}",
    }
    bagit.make_bag(str(bag_dir), bag_info={k: v for k, v in info.items() if v}, checksums=CHECKSUMS)
    return bag_dir


def zip_bag(bag_dir: Path, zip_path: str | Path) -> Path:
    """Pack a bag folder into a ZIP (the bag's folder at the top, as BagIt serialization asks), written to
    disk file by file: PDFs and other compressed formats stored, text deflated."""
    zip_path = Path(zip_path)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for path in sorted(bag_dir.rglob("*")):
            if path.is_dir():
                continue
            arcname = f"{bag_dir.name}/{path.relative_to(bag_dir).as_posix()}"
            stored = path.name.lower().endswith(_STORED_SUFFIXES)
            archive.write(path, arcname, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return zip_path


def build_bag_zip(work_file: WorkFile, destination_dir: str | Path) -> Path:
    """The bag of `work_file` as `<bag name>.zip` in `destination_dir`, for download (built in a scratch
    folder beside it and streamed to disk, never held in memory)."""
    destination_dir = Path(destination_dir)
    with tempfile.TemporaryDirectory(dir=destination_dir, prefix=".bag-") as scratch:
        bag_dir = build_bag(work_file, scratch)
        return zip_bag(bag_dir, destination_dir / f"{bag_dir.name}.zip")


def run_export(export: BagExport) -> None:
    """Build the package of a BagExport job and attach it (state DONE), or record why not (FAILED). A job
    already DONE returns at once, so a redelivered task does nothing."""
    export = BagExport.objects.select_related("work_file").get(pk=export.pk)
    if export.state == JobState.DONE:
        return
    BagExport.objects.filter(pk=export.pk).update(state=JobState.RUNNING, error="")
    try:
        with tempfile.TemporaryDirectory(prefix="eoffice-bag-") as scratch:
            zip_path = build_bag_zip(export.work_file, scratch)
            size = zip_path.stat().st_size
            with open(zip_path, "rb") as handle:
                export.file.save(zip_path.name, File(handle, name=zip_path.name), save=False)
    except BagRefused as exc:
        _export_failed(export, str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - the job records every failure; the log keeps the traceback
        log.exception("BagIt export %s failed", export.pk)
        _export_failed(export, _("The package could not be built: %(error)s") % {"error": exc})
        return
    export.state, export.size, export.error, export.finished_at = JobState.DONE, size, "", timezone.now()
    export.save(update_fields=["file", "state", "size", "error", "finished_at"])


def _export_failed(export: BagExport, reason: str) -> None:
    BagExport.objects.filter(pk=export.pk).update(state=JobState.FAILED, error=reason[:500],
                                                  finished_at=timezone.now())
    export.state, export.error = JobState.FAILED, reason[:500]


# --- import: unpacking and validation ------------------------------------------------------------------


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name or "\x00" in name
            or ".." in parts):
        raise BagRefused(_("The package contains an unsafe path: %(name)s.") % {"name": name}, [name])
    if stat.S_ISLNK(info.external_attr >> 16):
        raise BagRefused(_("The package contains a symbolic link: %(name)s.") % {"name": name}, [name])
    if info.flag_bits & 0x1:
        raise BagRefused(_("The package contains an encrypted entry: %(name)s.") % {"name": name}, [name])


def unpack_bag(source: str | Path | IO[bytes], destination_dir: str | Path) -> Path:
    """Unpack a zipped bag safely into `destination_dir` and return the bag's folder: absolute paths, `..`,
    symbolic links and encrypted entries are refused, and so are packages that expand beyond
    RECORDS_BAG_MAX_BYTES or hold more than RECORDS_BAG_MAX_FILES entries (counted on the bytes actually
    written, not on what the ZIP declares)."""
    max_bytes, max_files = settings.RECORDS_BAG_MAX_BYTES, settings.RECORDS_BAG_MAX_FILES
    destination = Path(destination_dir).resolve()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BagRefused(_("The package is not a readable ZIP file.")) from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > max_files:
            raise BagRefused(_("The package holds too many files (%(count)d; at most %(limit)d).")
                             % {"count": len(entries), "limit": max_files})
        declared = 0
        for info in entries:
            _check_member(info)
            declared += info.file_size
            if info.compress_size and info.file_size / info.compress_size > settings.MAX_COMPRESSION_RATIO:
                raise BagRefused(_("The entry %(name)s is compressed suspiciously well; the package looks like a "
                                   "decompression bomb.") % {"name": info.filename}, [info.filename])
        if declared > max_bytes:
            raise BagRefused(_("The package would expand to more than %(limit)d MB.")
                             % {"limit": max_bytes // (1024 * 1024)})
        written = 0
        for info in entries:
            target = (destination / info.filename).resolve()
            if target != destination and destination not in target.parents:
                raise BagRefused(_("The package contains an unsafe path: %(name)s.") % {"name": info.filename},
                                 [info.filename])
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1024 * 1024):
                        written += len(chunk)
                        if written > max_bytes:
                            raise BagRefused(_("The package would expand to more than %(limit)d MB.")
                                             % {"limit": max_bytes // (1024 * 1024)})
                        out.write(chunk)
            except FileExistsError as exc:
                raise BagRefused(_("The package contains the same path twice: %(name)s.") % {"name": info.filename},
                                 [info.filename]) from exc
            except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
                raise BagRefused(_("The entry %(name)s of the package is damaged.") % {"name": info.filename},
                                 [info.filename]) from exc
    if (destination / "bagit.txt").is_file():
        return destination
    tops = [p for p in destination.iterdir()]
    if len(tops) == 1 and tops[0].is_dir() and (tops[0] / "bagit.txt").is_file():
        return tops[0]
    raise BagRefused(_("The package is not a BagIt bag (no bagit.txt at its top)."))


def validate_bag(bag_dir: str | Path) -> bagit.Bag:
    """bagit's full validation (every checksum, no extra or missing file); a damaged bag is refused with the
    payload files at fault named."""
    try:
        bag = bagit.Bag(str(bag_dir))
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = list(exc.details or [])
        files = sorted({str(getattr(detail, "path", "")) for detail in details if getattr(detail, "path", "")})
        if files:
            message = _("The package is damaged; these files do not match its manifest: %(files)s.") % {
                "files": "; ".join(_describe(detail) for detail in details)}
        else:
            message = _("The package is damaged: %(error)s") % {"error": exc.message}
        raise BagRefused(message, files) from exc
    except bagit.BagError as exc:
        raise BagRefused(_("The package is not a valid BagIt bag: %(error)s") % {"error": exc}) from exc
    return bag


def _describe(detail: bagit.BagError) -> str:
    path = str(getattr(detail, "path", ""))
    if isinstance(detail, bagit.ChecksumMismatch):
        return _("%(path)s (content altered)") % {"path": path}
    if isinstance(detail, bagit.FileMissing):
        return _("%(path)s (missing)") % {"path": path}
    if isinstance(detail, bagit.UnexpectedFile):
        return _("%(path)s (not in the manifest)") % {"path": path}
    return str(detail)


# --- import: the records --------------------------------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _get(element: ET.Element | None, path: str, default: str = "") -> str:
    if element is None:
        return default
    found = element.find("/".join(_q(part) for part in path.split("/")))
    return (found.text or "").strip() if found is not None and found.text else default


def _int(value: str, label: str) -> int | None:
    if value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise BagRefused(_("%(field)s is not a number in hoso.xml: %(value)s.") % {"field": label, "value": value}) \
            from exc


def _date(value: str, label: str) -> date | None:
    if value == "":
        return None
    try:
        parsed = parse_date(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise BagRefused(_("%(field)s is not a date in hoso.xml: %(value)s.") % {"field": label, "value": value})
    return parsed


@dataclass
class _ImportFile:
    name: str
    path: Path
    sha256: str
    lta_path: Path | None = None
    lta_sha256: str = ""
    timestamped_at: datetime | None = None


@dataclass
class _ImportDocument:
    ordinal: int
    fields: dict
    files: list[_ImportFile]


def _payload_file(bag: bagit.Bag, bag_dir: Path, relative: str, expected_sha256: str) -> Path:
    """A payload file named by hoso.xml: it must be in the validated manifest with the same hash."""
    key = f"data/{relative}"
    entry = bag.entries.get(key) or bag.entries.get(unicodedata.normalize("NFC", key))
    if entry is None or ".." in relative.split("/") or relative.startswith("/"):
        raise BagRefused(_("hoso.xml names a file that is not in the package: %(name)s.") % {"name": relative},
                         [relative])
    if expected_sha256 and entry.get("sha256", "").lower() != expected_sha256.lower():
        raise BagRefused(_("The hash of %(name)s in hoso.xml differs from the package manifest.")
                         % {"name": relative}, [relative])
    return bag_dir / key


def parse_metadata(bag: bagit.Bag, bag_dir: Path) -> tuple[dict, list[_ImportDocument]]:
    """The work file's fields and its documents, in order, from the bag's hoso.xml (parsed without entity
    expansion or external references)."""
    metadata = Path(bag_dir) / "data" / METADATA_NAME
    if f"data/{METADATA_NAME}" not in bag.entries:
        raise BagRefused(_("The package has no hoso.xml."))
    try:
        root = SafeET.parse(str(metadata)).getroot()
    except Exception as exc:  # noqa: BLE001 - defusedxml and expat raise several kinds
        raise BagRefused(_("hoso.xml cannot be read: %(error)s") % {"error": exc}) from exc
    if root.tag != _q("HoSo"):
        raise BagRefused(_("hoso.xml is not a work file of this format."))
    maintenance = root.find(_q("Maintenance"))
    work = {
        "organ_id": _get(root, "FileCode/OrganId"),
        "year": _int(_get(root, "FileCode/FileCatalog"), "FileCatalog"),
        "file_notation": _get(root, "FileCode/FileNotation"),
        "title": _get(root, "Title"),
        "retention_years": _int(maintenance.get("years", "") if maintenance is not None else "", "Maintenance"),
        "rights": _get(root, "Rights"),
        "creator": _get(root, "Creator"),
        "language": _get(root, "Language"),
        "start_date": _date(_get(root, "StartDate"), "StartDate"),
        "end_date": _date(_get(root, "EndDate"), "EndDate"),
        "doc_total": _int(_get(root, "DocTotal"), "DocTotal"),
        "page_total": _int(_get(root, "PageTotal"), "PageTotal"),
        "description": _get(root, "Description"),
        "source_name": _get(root, "Source/OrganName") or bag.info.get("Source-Organization", ""),
    }
    if not work["year"] or not work["file_notation"] or not work["title"] or not work["start_date"]:
        raise BagRefused(_("hoso.xml lacks the file's year, number, title or start date."))
    documents = []
    for position, element in enumerate(root.iterfind(f"{_q('Documents')}/{_q('Document')}"), start=1):
        type_element = element.find(_q("TypeName"))
        recipients = [_get(place, "OrganName") for place in element.iterfind(f"{_q('To')}/{_q('Recipient')}")]
        fields = {
            "direction": element.get("direction", ""),
            "document_type": (type_element.get("code") or type_element.text or "") if type_element is not None else "",
            "code_number": _get(element, "CodeNumber"),
            "code_notation": _get(element, "CodeNotation"),
            "identifier": _get(element, "Identifier"),
            "issued_date": _date(_get(element, "IssuedDate"), "IssuedDate"),
            "organ_name": _get(element, "OrganName"),
            "organ_id": _get(element, "OrganId"),
            "subject": _get(element, "Subject"),
            "language": _get(element, "Language"),
            "page_amount": _int(_get(element, "PageAmount"), "PageAmount"),
            "description": _get(element, "Description"),
            "authority_prefix": _get(element, "SignerInfo/Competence"),
            "signer_position": _get(element, "SignerInfo/Position"),
            "signer_name": _get(element, "SignerInfo/FullName"),
            "urgency": _int(_get(element, "Priority"), "Priority"),
            "confidentiality": _int(_get(element, "Confidentiality"), "Confidentiality"),
            "issued_amount": _int(_get(element, "IssuedAmount"), "IssuedAmount"),
            "due_date": _date(_get(element, "DueDate"), "DueDate"),
            "arrival_date": _date(_get(element, "ArrivalDate"), "ArrivalDate"),
            "to_places": _get(element, "ToPlaces"),
            "recipients": recipients,
            "arrival_number": _get(element, "ArrivalNumber"),
        }
        files = []
        for item in element.iterfind(f"{_q('Files')}/{_q('File')}"):
            relative = _get(item, "Path")
            sha256 = _get(item, "Sha256")
            entry = _ImportFile(name=_get(item, "Name") or relative.rsplit("/", 1)[-1], sha256=sha256,
                                path=_payload_file(bag, bag_dir, relative, sha256))
            copy = item.find(_q("ArchivalCopy"))
            if copy is not None:
                entry.lta_sha256 = _get(copy, "Sha256")
                entry.lta_path = _payload_file(bag, bag_dir, _get(copy, "Path"), entry.lta_sha256)
                stamped = _get(copy, "TimestampedAt")
                entry.timestamped_at = parse_datetime(stamped) if stamped else None
            files.append(entry)
        ordinal = _int(_get(element, "DocOrdinal"), "DocOrdinal") or position
        documents.append(_ImportDocument(ordinal=ordinal, fields=fields, files=files))
    return work, documents


def _create_records(work: dict, documents: list[_ImportDocument], agency: Agency, actor, source: str,
                    on_created: Callable[[WorkFile], None] | None) -> WorkFile:
    now = timezone.now()
    with transaction.atomic():
        if WorkFile.objects.filter(agency=agency, year=work["year"], file_notation=work["file_notation"]).exists():
            raise BagRefused(_("A work file %(number)s of %(year)d already exists in this agency.")
                             % {"number": work["file_notation"], "year": work["year"]})
        work_file = WorkFile.objects.create(
            agency=agency, year=work["year"], file_notation=work["file_notation"][:20], title=work["title"][:500],
            retention_years=work["retention_years"], rights=work["rights"][:30], creator=actor,
            language=(work["language"] or "Tiếng Việt")[:50], start_date=work["start_date"],
            end_date=work["end_date"], doc_total=work["doc_total"] or len(documents),
            page_total=work["page_total"] or 0, description=work["description"][:500],
            state=WorkFileState.CLOSED, closed_at=now, closed_by=actor, imported_from=source[:200],
        )
        for entry in documents:
            with ExitStack() as stack:
                handles = [(f.name, stack.enter_context(open(f.path, "rb")), "") for f in entry.files]
                fields = {**entry.fields, "source": source}
                try:
                    document = import_document_record(actor, agency, fields, handles)
                except ValidationError as exc:
                    raise BagRefused(_("Document %(ordinal)d of the file cannot be imported: %(error)s")
                                     % {"ordinal": entry.ordinal, "error": _validation_text(exc)}) from exc
            attached = list(document.files.order_by("id"))
            for imported, doc_file in zip(entry.files, attached, strict=True):
                if doc_file.blob_id != imported.sha256 and imported.sha256:
                    raise BagRefused(_("The file %(name)s changed while it was imported.") % {"name": imported.name},
                                     [imported.name])
                if imported.lta_path is not None:
                    with open(imported.lta_path, "rb") as handle:
                        blob = store_blob(check_upload(File(handle, name=imported.lta_path.name)))
                    ArchivalTimestamp.objects.create(
                        document_file=doc_file, blob=blob, state="done", timestamped_at=imported.timestamped_at,
                        detail=(_("Imported with the work file from %(source)s.") % {"source": source})[:300],
                    )
            WorkFileDocument.objects.create(work_file=work_file, document=document, ordinal=entry.ordinal,
                                            added_by=actor)
        if on_created is not None:
            on_created(work_file)
    return work_file


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def import_bag(zip_path: str | Path | IO[bytes], agency: Agency, actor, *,
               on_created: Callable[[WorkFile], None] | None = None) -> WorkFile:
    """Import a zipped bag as a closed work file of `agency`: unpacked safely, validated by bagit before
    anything is read, then the file, its documents (each numbered in the agency's imported-records register,
    keeping its original number, date and issuing body), their files (content-checked, stored once) and the
    order, in one transaction. `on_created(work_file)` runs inside that transaction (the caller's audit
    event, its job row). Raises BagRefused; nothing is created then."""
    with tempfile.TemporaryDirectory(prefix="eoffice-bag-in-") as scratch:
        bag_dir = unpack_bag(zip_path, scratch)
        bag = validate_bag(bag_dir)
        work, documents = parse_metadata(bag, bag_dir)
        code = f"{work['organ_id']}.{work['year']}.{work['file_notation']}" if work["organ_id"] else \
            bag.info.get("External-Identifier", "")
        source = " ".join(p for p in (work["source_name"], code) if p)
        try:
            return _create_records(work, documents, agency, actor, source, on_created)
        except UploadRejected as exc:
            raise BagRefused(_("A file of the package is refused: %(error)s") % {"error": exc}, [exc.file_name]) \
                from exc


def run_import(job: BagImport, *, on_created: Callable[[WorkFile], None] | None = None) -> None:
    """Import the package of a BagImport job (state DONE with its work file, in the same transaction), or
    record why it was refused (FAILED, nothing created). A job already DONE returns at once."""
    job = BagImport.objects.select_related("agency", "requested_by").get(pk=job.pk)
    if job.state == JobState.DONE:
        return
    BagImport.objects.filter(pk=job.pk).update(state=JobState.RUNNING, error="")

    def finish(work_file: WorkFile) -> None:
        locked = BagImport.objects.select_for_update().get(pk=job.pk)
        if locked.state == JobState.DONE:  # a concurrent delivery of the same job finished first
            raise _AlreadyDone
        BagImport.objects.filter(pk=job.pk).update(state=JobState.DONE, work_file=work_file, error="",
                                                   finished_at=timezone.now())
        if on_created is not None:
            on_created(work_file)

    try:
        with job.upload.open("rb") as handle:
            import_bag(handle, job.agency, job.requested_by, on_created=finish)
    except _AlreadyDone:
        return
    except BagRefused as exc:
        _import_failed(job, str(exc))
    except Exception as exc:  # noqa: BLE001 - the job records every failure; the log keeps the traceback
        log.exception("BagIt import %s failed", job.pk)
        _import_failed(job, _("The package could not be imported: %(error)s") % {"error": exc})


class _AlreadyDone(Exception):
    pass


def _import_failed(job: BagImport, reason: str) -> None:
    BagImport.objects.filter(pk=job.pk).update(state=JobState.FAILED, error=reason, finished_at=timezone.now())
