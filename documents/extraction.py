"""Page count and text of stored files, read defensively: hostile files give an error message, never
an exception out of here, and nothing is expanded beyond fixed caps.

The parsers (pypdf, Pillow, defusedxml) are pure Python or well fuzzed, but a crafted file can still
make them loop, allocate without bound or crash in C. So on POSIX each extraction runs in a forked
child with a CPU-time limit, an address-space limit and a wall-clock deadline: whatever the file does,
the worker gets an `Extracted` back within the deadline and stays alive. Settings (optional):
EXTRACTION_ISOLATED (default True), EXTRACTION_TIME_LIMIT seconds (60), EXTRACTION_MEMORY_LIMIT bytes
(1 GiB on top of what the worker already maps).
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import logging
import os
import re
import select
import signal
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from django.conf import settings
from django.utils.translation import gettext_noop

from . import uploads

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 200_000
MAX_TEXT_PAGES = 100
MAX_XML_PART_BYTES = 20 * 1024 * 1024
# The child's answer is JSON of at most MAX_TEXT_CHARS characters (up to 6 bytes each when escaped).
_MAX_ANSWER_BYTES = MAX_TEXT_CHARS * 6 + 64 * 1024

# Stored in DocumentFile.extraction_error; marked for translation so pages can show them translated.
ENCRYPTED = gettext_noop("The PDF is encrypted; its text cannot be read.")
PASSWORD_PROTECTED = gettext_noop("The PDF is password-protected; its text cannot be read.")
TOO_SLOW = gettext_noop("Reading the file took too long; it was stopped.")
TOO_MUCH_MEMORY = gettext_noop("Reading the file needed too much memory; it was stopped.")
CRASHED = gettext_noop("The file could not be read: the reader stopped unexpectedly.")
PART_TOO_LARGE = gettext_noop("The document's text part is too large to index.")
PARTIAL_TEXT = gettext_noop("Only the text of the first pages was read.")
UNSUPPORTED = gettext_noop("unsupported type")
XML_DTD = gettext_noop("The document declares XML entities, which are refused; its text was not read.")


@dataclass
class Extracted:
    page_count: int | None = None
    text: str = ""
    error: str = ""


def extract(content: bytes, content_type: str) -> Extracted:
    """Page count and text of `content`. Whatever the file holds, this returns (an error in the result)
    within the configured limits; it raises only when the machine cannot start the sandbox (OSError)."""
    if getattr(settings, "EXTRACTION_ISOLATED", True) and hasattr(os, "fork"):
        result = _extract_in_child(content, content_type)
    else:
        result = _extract_inline(content, content_type, deadline=time.monotonic() + _time_limit())
    result.text = _storable(result.text)
    return result


def _storable(text: str) -> str:
    # PostgreSQL text takes neither NUL nor lone surrogates (which broken PDF fonts produce).
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _time_limit() -> float:
    return float(getattr(settings, "EXTRACTION_TIME_LIMIT", 60))


def _extract_inline(content: bytes, content_type: str, deadline: float) -> Extracted:
    try:
        if content_type == uploads.PDF:
            return _pdf(content, deadline)
        if content_type == uploads.DOCX:
            return _office_xml(content, _DOCX)
        if content_type == uploads.XLSX:
            return _office_xml(content, _XLSX)
        if content_type == uploads.ODT:
            return _office_xml(content, _ODT)
        if content_type in (uploads.PNG, uploads.JPEG, uploads.TIFF):
            return _image(content)
        return Extracted(error=UNSUPPORTED)
    except MemoryError:
        return Extracted(error=TOO_MUCH_MEMORY)
    except Exception as exc:  # noqa: BLE001 - a hostile file must never crash the worker
        logger.info("extraction failed: %s", exc.__class__.__name__)
        if exc.__class__.__name__ == "FileNotDecryptedError":
            return Extracted(error=PASSWORD_PROTECTED)
        if exc.__class__.__name__ in ("DTDForbidden", "EntitiesForbidden", "ExternalReferenceForbidden"):
            return Extracted(error=XML_DTD)
        return Extracted(error=f"{exc.__class__.__name__}: {str(exc)[:200]}")


# --- the sandbox ----------------------------------------------------------------------------------


def _preload() -> None:
    # Import the parsers in the parent: a forked child then starts with them loaded instead of paying
    # the import on every file (and the parent keeps them for the next one).
    import defusedxml.ElementTree  # noqa: F401
    import PIL.Image  # noqa: F401
    import pypdf  # noqa: F401


def _mapped_bytes() -> int | None:
    """The address space this process already maps (Linux); the child's limit is added on top."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _limit_child(time_limit: float, memory_limit: int) -> None:
    import resource

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGALRM):
        signal.signal(signum, signal.SIG_DFL)
    cpu = max(1, int(time_limit) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mapped = _mapped_bytes()
    if mapped is not None and memory_limit > 0:
        limit = mapped + memory_limit
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _extract_in_child(content: bytes, content_type: str) -> Extracted:
    _preload()
    time_limit = _time_limit()
    memory_limit = int(getattr(settings, "EXTRACTION_MEMORY_LIMIT", 1024 * 1024 * 1024))
    deadline = time.monotonic() + time_limit
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to spare (pids or memory): leave the file pending for a later attempt
        os.close(read_fd)
        os.close(write_fd)
        raise
    if pid == 0:  # the child: never returns, never runs the parent's cleanup (os._exit)
        status = 70
        try:
            os.close(read_fd)
            faulthandler.disable()  # a crash here is reported by exit status, not by a traceback dump
            _limit_child(time_limit, memory_limit)
            # Stop page by page a little before the hard deadline so a slow file still yields a partial result.
            result = _extract_inline(content, content_type, deadline=deadline - min(5.0, time_limit / 4))
            payload = json.dumps(asdict(result), ensure_ascii=True).encode("ascii")
            view = memoryview(payload)
            while view:
                view = view[os.write(write_fd, view):]
            status = 0
        except MemoryError:
            status = 71
        except BaseException:  # noqa: BLE001 - the child reports by exit status, never by exception
            status = 70
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        answer, outcome = _read_answer(read_fd, deadline)
    finally:
        os.close(read_fd)
        exit_status = _reap(pid)
    if outcome == "timeout":
        logger.warning("extraction stopped after %.0f s", time_limit)
        return Extracted(error=TOO_SLOW)
    if outcome == "ok" and exit_status == 0 and answer:
        try:
            return Extracted(**json.loads(answer))
        except (ValueError, TypeError):
            return Extracted(error=CRASHED)
    if exit_status == 71:
        return Extracted(error=TOO_MUCH_MEMORY)
    if outcome == "ok" and exit_status in (-signal.SIGXCPU, -signal.SIGKILL):
        return Extracted(error=TOO_SLOW)
    logger.warning("extraction child ended with status %s", exit_status)
    return Extracted(error=CRASHED)


def _read_answer(read_fd: int, deadline: float) -> tuple[bytes, str]:
    """Read the child's answer until EOF: (data, "ok" | "timeout" | "oversize")."""
    chunks: list[bytes] = []
    received = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"", "timeout"
        ready, _w, _x = select.select([read_fd], [], [], remaining)
        if not ready:
            return b"", "timeout"
        chunk = os.read(read_fd, 65536)
        if not chunk:
            return b"".join(chunks), "ok"
        received += len(chunk)
        if received > _MAX_ANSWER_BYTES:
            return b"", "oversize"
        chunks.append(chunk)


def _reap(pid: int) -> int | None:
    """Wait for the child (killing it if it is still running); its exit code, or -signal if killed."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _done, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                return -signal.SIGKILL
    except ChildProcessError:  # someone else's SIGCHLD handler reaped it
        return None
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


# --- the readers ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _pypdf_quiet() -> Iterator[None]:
    # A broken PDF makes pypdf log every object it cannot parse: qpdf's issue-202.pdf logs ten thousand
    # lines. Our result says what went wrong; silence the flood while reading.
    pypdf_logger = logging.getLogger("pypdf")
    previous = pypdf_logger.level
    pypdf_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        pypdf_logger.setLevel(previous)


def _pdf(content: bytes, deadline: float) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    with _pypdf_quiet():
        try:
            reader = PdfReader(io.BytesIO(content), strict=False)
        except DependencyError:  # AES-encrypted, and the optional crypto provider is missing
            return Extracted(error=ENCRYPTED)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    return Extracted(error=PASSWORD_PROTECTED)
            except Exception:  # noqa: BLE001
                return Extracted(error=ENCRYPTED)
        page_count = len(reader.pages)
        texts: list[str] = []
        total = 0
        error = ""
        for index, page in enumerate(reader.pages):
            if index >= MAX_TEXT_PAGES or total >= MAX_TEXT_CHARS:
                break
            if time.monotonic() > deadline:
                error = PARTIAL_TEXT
                break
            try:
                text = page.extract_text() or ""
            except Exception:  # noqa: BLE001 - one bad page does not lose the others
                continue
            texts.append(text)
            total += len(text)
    return Extracted(page_count=page_count, text="\n".join(texts)[:MAX_TEXT_CHARS], error=error)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


@dataclass(frozen=True)
class _Layout:
    """Where the text of one office format lives: runs are joined as they are (a word may be split
    across runs), blocks (paragraphs, strings) end with a line break."""

    parts: tuple[str, ...]
    part_pattern: str = ""  # further parts, e.g. every worksheet
    run_tags: frozenset[str] = frozenset()
    block_tags: frozenset[str] = frozenset()
    tab_tags: frozenset[str] = frozenset()
    whole_tags: frozenset[str] = frozenset()  # blocks whose whole text is taken at their end (ODF)
    clear_tags: frozenset[str] = frozenset()  # elements dropped once read, so big parts stay small in memory


_DOCX = _Layout(
    ("word/document.xml",), run_tags=frozenset({f"{_W}t"}), block_tags=frozenset({f"{_W}p", f"{_W}br"}),
    tab_tags=frozenset({f"{_W}tab"}), clear_tags=frozenset({f"{_W}p"}),
)
# Shared strings, and the inline strings some writers (openpyxl among them) put in the sheets themselves.
_XLSX = _Layout(
    ("xl/sharedStrings.xml",), part_pattern=r"xl/worksheets/sheet\d{1,4}\.xml", run_tags=frozenset({f"{_S}t"}),
    block_tags=frozenset({f"{_S}si", f"{_S}is"}), clear_tags=frozenset({f"{_S}si", f"{_S}row"}),
)
_ODT = _Layout(("content.xml",), whole_tags=frozenset({f"{_ODF_TEXT}p", f"{_ODF_TEXT}h"}))
_MAX_PARTS = 50


def _office_xml(content: bytes, layout: _Layout) -> Extracted:
    from defusedxml import ElementTree

    archive = zipfile.ZipFile(io.BytesIO(content))
    names = [name for name in layout.parts if name in archive.NameToInfo]
    if layout.part_pattern:
        pattern = re.compile(layout.part_pattern)
        extra = [name for name in archive.namelist() if pattern.fullmatch(name)]
        names += sorted(extra, key=lambda name: (len(name), name))
    pieces: list[str] = []
    total = 0
    for name in names[:_MAX_PARTS]:
        info = archive.getinfo(name)
        if info.file_size > MAX_XML_PART_BYTES:
            return Extracted(error=PART_TOO_LARGE)
        with archive.open(info) as handle:
            data = handle.read(MAX_XML_PART_BYTES + 1)
        if len(data) > MAX_XML_PART_BYTES:
            return Extracted(error=PART_TOO_LARGE)
        # No DTD at all: no entity expansion (billion laughs) and no external entity (XXE) can apply.
        for _event, element in ElementTree.iterparse(io.BytesIO(data), events=("end",), forbid_dtd=True):
            tag = element.tag
            if tag in layout.run_tags:
                piece = element.text or ""
            elif tag in layout.tab_tags:
                piece = "\t"
            elif tag in layout.whole_tags:
                piece = "".join(element.itertext()) + "\n"
            elif tag in layout.block_tags:
                piece = "\n"
            else:
                piece = ""
            if tag in layout.clear_tags:
                element.clear()
            if piece:
                pieces.append(piece)
                total += len(piece)
                if total > MAX_TEXT_CHARS:
                    break
        if total > MAX_TEXT_CHARS:
            break
    lines = (" ".join(line.split()) for line in "".join(pieces).splitlines())
    return Extracted(page_count=None, text="\n".join(line for line in lines if line)[:MAX_TEXT_CHARS])


def _image(content: bytes) -> Extracted:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
    with Image.open(io.BytesIO(content)) as image:
        frames = getattr(image, "n_frames", 1)
    return Extracted(page_count=min(frames, 10_000))
