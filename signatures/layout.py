"""Where on a PDF the signature, the agency seal, the number and the date go (Decree 30, PL I).

The personal signature image sits in the empty space between the position title and the signer's name
(box 7c); the agency seal covers about the left third of it (box 8, Art. 33.1.b); the Văn thư writes the
number after "Số:" (box 3) and the place and date on the line under the motto (box 4). We find those
texts with pypdf's text extraction (no extra dependency) and derive the boxes from them. When a file does
not have them (a scan, another layout, a hostile file) the boxes fall back to standard positions and
`found` says so: the caller then lets a person place the signature.

All boxes are in PDF user space (points, origin at the lower-left of the MediaBox), the coordinates
pyHanko's field boxes and any content stream drawn on the page use; pages are counted from 0.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from io import BytesIO

from reportlab.lib.units import mm

from .geometry import Box

logger = logging.getLogger(__name__)

A4_WIDTH, A4_HEIGHT = 595.2756, 841.8898

SEAL_DIAMETER = 36 * mm
"""A real round seal is 35–40 mm across; the seal image is drawn at its actual size (PL I §II.8.a)."""

SIGNATURE_MIN_WIDTH = 50 * mm
SIGNATURE_MAX_WIDTH = 80 * mm
SIGNATURE_STANDARD_HEIGHT = 28 * mm
ATTACHMENT_WIDTH = 60 * mm
ATTACHMENT_HEIGHT = 15 * mm
ATTACHMENT_RIGHT_MARGIN = 15 * mm  # the smallest right margin PL I allows
ATTACHMENT_TOP_MARGIN = 10 * mm  # the box then lies in the top margin band, clear of the text

MAX_PAGES_SCANNED = 100
"""Pages searched backwards for the signer's name: enough for a document followed by its appendices."""

MAX_TITLE_DISTANCE = 90 * mm
"""How far above the name the position title may be; farther text is not part of the signature block."""

HEADER_FRACTION = 0.45
""""Số:" and the date are in the header: the top part of the first page."""

LINE_BOX_BELOW = 0.35
LINE_BOX_ABOVE = 1.25
"""The number and date boxes reach this many font sizes below and above the line's baseline: room for the
descenders and dots below (ạ, ỵ) and for the stacked marks of Vietnamese capitals (Ấ, Ể). The engine reads
the baseline back from a box with `baseline_in_box`, so the filled number sits on the line of "Số:"."""


@dataclass(frozen=True)
class TextLine:
    """A line of text found on a page, so a filler can write over it in the same place and size."""

    page: int
    x1: float
    x2: float
    baseline: float
    font_size: float
    text: str


@dataclass(frozen=True)
class SignatureLayout:
    """Where each mark goes. `found` is False when the signature box is a fallback position."""

    signature_box: Box
    number_box: Box | None
    date_box: Box | None
    seal_box: Box
    found: bool
    notes: list[str] = field(default_factory=list)
    number_line: TextLine | None = None
    """The whole "Số: …/QĐ-UBND" line (baseline and size for writing the number)."""
    date_line: TextLine | None = None
    """The whole place-and-date line; the fill rewrites it, so `date_box` covers all of it."""


def find_layout(pdf: bytes, *, signer_name: str | None = None) -> SignatureLayout:
    """Locate the signature space, seal, number and date boxes; never raises, falls back with notes.

    The signature box is the gap between the signer's name and the position title above it, on the last
    page that has the name (or, without a name, the last page that has a title-gap-name block), centred
    on the name.
    """
    notes: list[str] = []
    try:
        reader = _open(pdf, notes)
    except Exception as exception:  # hostile input: anything pypdf raises means "no layout"
        notes.append(f"PDF could not be read ({type(exception).__name__}: {exception}); standard positions used")
        return _fallback_layout(None, notes)
    try:
        return _find_layout(reader, signer_name, notes)
    except Exception as exception:
        logger.info("layout search failed", exc_info=True)
        notes.append(f"layout search failed ({type(exception).__name__}: {exception}); standard positions used")
        return _fallback_layout(reader, notes)


def attachment_box(pdf: bytes) -> Box:
    """The top-right corner of the first page as the reader sees it, for the agency signature text on a
    separate attachment file (PL I §II.8.b): about 60 × 15 mm, right-aligned on the 15 mm margin, in
    the top margin band. Rotation and CropBox are honoured; unreadable files get the A4 position."""
    frame = _PageFrame.a4()
    try:
        reader = _open(pdf, [])
        frame = _PageFrame.of(reader.pages[0])
    except Exception:
        logger.info("attachment box: page geometry unreadable, A4 assumed", exc_info=True)
    width = min(ATTACHMENT_WIDTH, frame.display_width)
    height = min(ATTACHMENT_HEIGHT, frame.display_height)
    right = max(width, frame.display_width - ATTACHMENT_RIGHT_MARGIN)
    top = max(height, frame.display_height - ATTACHMENT_TOP_MARGIN)
    return frame.display_box(0, right - width, top - height, right, top)


@dataclass(frozen=True)
class SignedForm:
    """What the clerk's fill-and-seal needs from a leader-signed PDF, read from its form alone."""

    field_names: frozenset[str]
    """Names of the top-level form fields."""
    seal_box: Box | None
    """Over the left third of the signature widget, placed as `find_layout` places it; None if unreadable."""


def read_signed_form(pdf: bytes, signature_field: str) -> SignedForm:
    """The field names, and the seal box over `signature_field`'s widget, without searching the text again.

    The seal belongs over the signature the leader actually made, so that widget's rectangle is the
    signature box (running `find_layout` again on the signed file cost 15-30 ms per seal). Field values are
    not read: a signature's /V holds its whole CMS as a hex string, which pypdf's `get_fields` decodes in
    pure Python (about 9 ms with embedded CRLs). Never raises.
    """
    try:
        reader = _open(pdf, [])
        form = reader.trailer["/Root"].get("/AcroForm")
        fields = form.get_object().get("/Fields") if form is not None else None
        entries = [reference.get_object() for reference in (fields.get_object() if fields is not None else [])]
        names = frozenset(str(entry.get("/T", "")) for entry in entries)
        widget = next((entry for entry in entries if str(entry.get("/T", "")) == signature_field), None)
    except Exception:
        logger.info("form of the signed PDF unreadable", exc_info=True)
        return SignedForm(frozenset(), None)
    return SignedForm(names, _seal_box_over(reader, widget) if widget is not None else None)


def _seal_box_over(reader, widget) -> Box | None:
    """The seal box for a signature field merged with its widget (/Rect and /P on the field, as the engine
    writes it); None for anything else, and the caller then searches the text as before."""
    try:
        page_reference = widget.raw_get("/P")
        index = next(i for i, page in enumerate(reader.pages) if page.indirect_reference == page_reference)
        x1, y1, x2, y2 = (float(value) for value in widget["/Rect"])
        frame = _PageFrame.of(reader.pages[index])
        signature = frame.clip(Box(index, min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)))
        return _seal_box(signature, frame)
    except Exception:
        logger.info("signature widget of the signed PDF unreadable", exc_info=True)
        return None


# --- the search ------------------------------------------------------------------------------------


def _open(pdf: bytes, notes: list[str]):
    from pypdf import PdfReader

    reader = PdfReader(BytesIO(bytes(pdf)), strict=False)
    if reader.is_encrypted:
        # Many "protected" PDFs have an empty user password and open in any viewer.
        if not reader.decrypt(""):
            raise ValueError("encrypted with a password")
        notes.append("PDF is encrypted with an empty user password")
    if len(reader.pages) == 0:
        raise ValueError("no pages")
    return reader


def _find_layout(reader, signer_name: str | None, notes: list[str]) -> SignatureLayout:
    page_count = len(reader.pages)
    lines_cache: dict[int, list[_Line]] = {}
    widths = _WidthTable()  # one per document: its pages share their font objects

    def lines_of(index: int) -> list[_Line]:
        if index not in lines_cache:
            try:
                lines_cache[index] = _page_lines(reader.pages[index], index, widths)
            except Exception as exception:
                notes.append(f"text of page {index + 1} unreadable ({type(exception).__name__})")
                lines_cache[index] = []
        return lines_cache[index]

    block = _find_signature_block(page_count, lines_of, signer_name, notes)
    number_box = number_line = date_box = date_line = None
    try:
        first_frame = _PageFrame.of(reader.pages[0])
        header = [line for line in lines_of(0) if _in_header(line, first_frame)]
        number_box, number_line = _number_box(header, notes)
        date_box, date_line = _date_box(header, notes)
    except Exception as exception:
        notes.append(f"header of page 1 unreadable ({type(exception).__name__}: {exception})")

    if block is None:
        layout = _fallback_layout(reader, notes)
        return SignatureLayout(
            layout.signature_box, number_box, date_box, layout.seal_box, False, notes, number_line, date_line
        )
    frame = _PageFrame.of(reader.pages[block.page])
    signature = frame.clip(block.box)
    return SignatureLayout(
        signature, number_box, date_box, _seal_box(signature, frame), True, notes, number_line, date_line
    )


@dataclass(frozen=True)
class _Block:
    page: int
    box: Box


def _find_signature_block(
    page_count: int, lines_of: Callable[[int], list[_Line]], signer_name: str | None, notes: list[str]
) -> _Block | None:
    """Search backwards; an exact name line beats an accent-insensitive one, which beats a name inside a
    longer line, which beats the anonymous title-gap-name pattern."""
    wanted = _normalise(signer_name or "")
    wanted_folded = _fold(wanted)
    candidates: dict[str, tuple[int, _Line]] = {}
    last = page_count - 1
    first = max(0, page_count - MAX_PAGES_SCANNED)
    for index in range(last, first - 1, -1):
        lines = lines_of(index)
        if wanted:
            for kind, matches in (
                ("exact", lambda line: _normalise(line.text) == wanted),
                ("folded", lambda line: _fold(_normalise(line.text)) == wanted_folded),
                ("inside", lambda line: wanted in _normalise(line.text)),
            ):
                if kind not in candidates:
                    hits = [line for line in lines if matches(line)]
                    if hits:
                        candidates[kind] = (index, min(hits, key=lambda line: line.baseline))
            if "exact" in candidates:
                break
        if "pattern" not in candidates:
            pattern = _title_gap_name(lines)
            if pattern is not None:
                candidates["pattern"] = (index, pattern)
                if not wanted:
                    break
    if first > 0 and "exact" not in candidates:
        notes.append(f"only the last {MAX_PAGES_SCANNED} pages were searched for the signature block")
    for kind in ("exact", "folded", "inside", "pattern"):
        if kind in candidates:
            index, name_line = candidates[kind]
            if kind == "folded":
                notes.append("signer name matched without diacritics")
            elif kind == "inside":
                notes.append("signer name found only inside a longer line")
            elif kind == "pattern" and wanted:
                notes.append("signer name not found; used the title, empty space and name pattern")
            return _Block(index, _gap_box(index, name_line, lines_of(index), notes))
    if wanted:
        notes.append("signer name not found in the text")
    else:
        notes.append("no position title, empty space and name pattern found")
    return None


def _gap_box(page: int, name: _Line, lines: list[_Line], notes: list[str]) -> Box:
    """The empty space between the title above the name and the name, centred on the name."""
    title = _line_above(name, lines)
    name_top = name.baseline + 0.95 * name.font_size
    if title is None:
        notes.append("no position title above the signer's name; standard signature height used")
        bottom, top = name_top + 1, name_top + 1 + SIGNATURE_STANDARD_HEIGHT
        widest = name.width
    else:
        bottom = name_top + 1
        top = title.baseline - 0.3 * title.font_size - 1
        if top - bottom < 10 * mm:
            notes.append(f"space between title and name is only {max(0.0, (top - bottom) / mm):.0f} mm")
            top = max(top, bottom + 10 * mm)
        widest = max(name.width, title.width)
    width = min(max(widest, SIGNATURE_MIN_WIDTH), SIGNATURE_MAX_WIDTH)
    centre = (name.x1 + name.x2) / 2
    return Box(page, centre - width / 2, bottom, centre + width / 2, top)


def _line_above(name: _Line, lines: list[_Line]) -> _Line | None:
    """The nearest line above the name that shares its column (horizontal overlap)."""
    above = [
        line
        for line in lines
        if name.baseline + 0.5 * name.font_size < line.baseline <= name.baseline + MAX_TITLE_DISTANCE
        and min(line.x2, name.x2) - max(line.x1, name.x1) > 0
    ]
    return min(above, key=lambda line: line.baseline) if above else None


def _title_gap_name(lines: list[_Line]) -> _Line | None:
    """Without a name to look for: the lowest name-like line under a capitalised title and a gap."""
    found: list[_Line] = []
    for line in lines:
        if not _looks_like_name(line.text):
            continue
        title = _line_above(line, lines)
        if title is None or not _is_capitalised(title.text):
            continue
        if title.baseline - line.baseline >= 15 * mm:
            found.append(line)
    return min(found, key=lambda line: line.baseline) if found else None


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return (
        2 <= len(words) <= 7
        and len(text) <= 60
        and all(word[0].isupper() and word[0].isalpha() for word in words)
        and any(char.islower() for char in text)
        and not any(char.isdigit() for char in text)
    )


def _is_capitalised(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    return bool(letters) and all(char.isupper() for char in letters)


# --- number and date -------------------------------------------------------------------------------

_NUMBER_LABEL = re.compile(r"^\s*số\s*:", re.IGNORECASE)
_DATE_WORDS = re.compile(r"ngày\b.*tháng\b.*năm", re.IGNORECASE)


def _in_header(line: _Line, frame: _PageFrame) -> bool:
    if frame.rotation:
        return True  # "top" is not a y range on a turned page; the topmost match wins below
    return line.baseline >= frame.y0 + frame.height * (1 - HEADER_FRACTION)


def _number_box(header: list[_Line], notes: list[str]) -> tuple[Box | None, TextLine | None]:
    labelled = [line for line in header if _NUMBER_LABEL.match(line.text)]
    if not labelled:
        notes.append('"Số:" not found at the top of page 1')
        return None, None
    line = max(labelled, key=lambda candidate: (candidate.baseline, -candidate.x1))
    colon = line.text.index(":")
    start = line.char_x(colon + 1)
    slash = line.text.find("/", colon)
    if slash >= 0:
        end = line.char_x(slash)
        if line.text[colon + 1 : slash].strip():
            notes.append('a number is already written after "Số:"')
    else:
        # The notation may be a separate text run on the same baseline ("Số:" | "/QĐ-UBND").
        notations = [
            other
            for other in header
            if other is not line
            and abs(other.baseline - line.baseline) < 0.3 * line.font_size
            and line.x2 <= other.x1 <= line.x2 + 60 * mm
            and other.text.lstrip().startswith("/")
        ]
        end = min(other.x1 for other in notations) if notations else start + 20 * mm
    if end - start < 6 * mm:
        notes.append(f"the blank for the number is only {max(0.0, (end - start) / mm):.0f} mm wide")
        end = max(end, start + 6 * mm)
    box = line_box(0, start + 0.5, end - 0.5, line.baseline, line.font_size)
    return box, line.as_text_line()


def _date_box(header: list[_Line], notes: list[str]) -> tuple[Box | None, TextLine | None]:
    dated = [line for line in header if _DATE_WORDS.search(line.text)]
    if not dated:
        notes.append('"ngày … tháng … năm" not found at the top of page 1')
        return None, None
    line = max(dated, key=lambda candidate: (round(candidate.baseline), candidate.x1))
    slant_overhang = max(0.0, line.slant) * line.font_size
    box = line_box(0, line.x1 - 2, line.x2 + 2 + slant_overhang, line.baseline, line.font_size)
    return box, line.as_text_line()


def line_box(page: int, x1: float, x2: float, baseline: float, font_size: float) -> Box:
    """The box of a one-line field written on `baseline` (see LINE_BOX_BELOW/ABOVE)."""
    return Box(page, x1, baseline - LINE_BOX_BELOW * font_size, x2, baseline + LINE_BOX_ABOVE * font_size)


def baseline_in_box(height: float) -> tuple[float, float]:
    """(height of the baseline above the bottom, font size) of a `line_box` of this height: all the engine
    knows when filling is the field's /Rect."""
    size = abs(height) / (LINE_BOX_BELOW + LINE_BOX_ABOVE)
    return LINE_BOX_BELOW * size, size


# --- seal and fallbacks ----------------------------------------------------------------------------


def _seal_box(signature: Box, frame: _PageFrame) -> Box:
    """A seal-sized square whose right edge is a third of the way into the signature box, vertically
    centred on it; moved (not shrunk) to stay on the page when the signature is near an edge."""
    right = signature.x1 + signature.width / 3
    centre_y = (signature.y1 + signature.y2) / 2
    x1, y1 = right - SEAL_DIAMETER, centre_y - SEAL_DIAMETER / 2
    x1 = min(max(x1, frame.x0), frame.x0 + frame.width - SEAL_DIAMETER)
    y1 = min(max(y1, frame.y0), frame.y0 + frame.height - SEAL_DIAMETER)
    return frame.clip(Box(signature.page, x1, y1, x1 + SEAL_DIAMETER, y1 + SEAL_DIAMETER))


def _fallback_layout(reader, notes: list[str]) -> SignatureLayout:
    """Right half of the last page, above the bottom margin: where a signature block usually ends."""
    page, frame = 0, _PageFrame.a4()
    if reader is not None:
        try:
            page = max(0, len(reader.pages) - 1)
            frame = _PageFrame.of(reader.pages[page])
        except Exception:
            page, frame = 0, _PageFrame.a4()
    right_margin = min(20 * mm, frame.display_width / 10)
    width = min(60 * mm, frame.display_width / 2 - right_margin)
    centre = (frame.display_width / 2 + frame.display_width - right_margin) / 2
    bottom = min(50 * mm, frame.display_height / 3)
    height = min(SIGNATURE_STANDARD_HEIGHT, frame.display_height / 3)
    signature = frame.display_box(page, centre - width / 2, bottom, centre + width / 2, bottom + height)
    return SignatureLayout(signature, None, None, _seal_box(signature, frame), False, notes)


# --- page geometry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PageFrame:
    """The visible part of a page (CropBox within MediaBox) and how the viewer turns it."""

    x0: float
    y0: float
    width: float
    height: float
    rotation: int

    @classmethod
    def a4(cls) -> _PageFrame:
        return cls(0.0, 0.0, A4_WIDTH, A4_HEIGHT, 0)

    @classmethod
    def of(cls, page) -> _PageFrame:
        try:
            media = [float(value) for value in page.mediabox]
            crop = [float(value) for value in page.cropbox]
            mx1, mx2 = sorted((media[0], media[2]))
            my1, my2 = sorted((media[1], media[3]))
            cx1, cx2 = sorted((crop[0], crop[2]))
            cy1, cy2 = sorted((crop[1], crop[3]))
            x1, y1, x2, y2 = max(mx1, cx1), max(my1, cy1), min(mx2, cx2), min(my2, cy2)
            if not all(map(math.isfinite, (x1, y1, x2, y2))) or x2 - x1 < 1 or y2 - y1 < 1:
                x1, y1, x2, y2 = mx1, my1, mx2, my2
            if not all(map(math.isfinite, (x1, y1, x2, y2))) or x2 - x1 < 1 or y2 - y1 < 1:
                return cls.a4()
        except Exception:
            return cls.a4()
        try:
            rotation = int(page.rotation) % 360
        except Exception:
            rotation = 0
        return cls(x1, y1, x2 - x1, y2 - y1, rotation if rotation in (0, 90, 180, 270) else 0)

    @property
    def display_width(self) -> float:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> float:
        return self.width if self.rotation in (90, 270) else self.height

    def to_user(self, u: float, v: float) -> tuple[float, float]:
        """A point as the reader sees it (origin lower-left of the shown page) into user space."""
        w, h = self.width, self.height
        if self.rotation == 90:
            x, y = w - v, u
        elif self.rotation == 180:
            x, y = w - u, h - v
        elif self.rotation == 270:
            x, y = v, h - u
        else:
            x, y = u, v
        return self.x0 + x, self.y0 + y

    def display_box(self, page: int, u1: float, v1: float, u2: float, v2: float) -> Box:
        (ax, ay), (bx, by) = self.to_user(u1, v1), self.to_user(u2, v2)
        return self.clip(Box(page, min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))

    def clip(self, box: Box) -> Box:
        x1 = min(max(box.x1, self.x0), self.x0 + self.width)
        x2 = min(max(box.x2, self.x0), self.x0 + self.width)
        y1 = min(max(box.y1, self.y0), self.y0 + self.height)
        y2 = min(max(box.y2, self.y0), self.y0 + self.height)
        return Box(box.page, x1, y1, x2, y2)


# --- text with positions ---------------------------------------------------------------------------


@dataclass
class _Line:
    """Text on one baseline with the x where each character starts (for "where does '/' begin")."""

    page: int
    text: str
    xs: list[float]
    x2: float
    baseline: float
    font_size: float
    slant: float = 0.0

    @property
    def x1(self) -> float:
        return self.xs[0]

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    def char_x(self, index: int) -> float:
        return self.xs[index] if index < len(self.xs) else self.x2

    def as_text_line(self) -> TextLine:
        return TextLine(self.page, self.x1, self.x2, self.baseline, self.font_size, self.text)


def _page_lines(page, index: int, widths: _WidthTable | None = None) -> list[_Line]:
    """Upright text runs of a page with their positions, merged into lines where runs touch."""
    runs: list[_Line] = []
    widths = widths if widths is not None else _WidthTable()

    def visit(text, cm, tm, font_dict, font_size) -> None:
        if not isinstance(text, str) or not text.strip():
            return
        try:
            matrix = _multiply(tm, cm)
            scale_x = math.hypot(matrix[0], matrix[1])
            if scale_x <= 0:
                return
            # Height of an em: |det| / horizontal scale, so a synthetic italic (skew) does not inflate it.
            scale_y = abs(matrix[0] * matrix[3] - matrix[1] * matrix[2]) / math.hypot(matrix[0], matrix[1])
            size = float(font_size)
        except (TypeError, ValueError, IndexError):
            return
        # Only text that reads left to right, upright (turned text is not part of a signature block).
        if scale_x <= 0 or matrix[0] <= 0 or abs(matrix[1]) > 0.05 * scale_x or matrix[3] <= 0:
            return
        piece = text.split("\n", 1)[0]  # later pieces of a multi-line chunk have no known position
        run = _run(index, piece, matrix, size * scale_x, size * scale_y, font_dict, widths)
        if run is not None:
            runs.append(run)

    page.extract_text(visitor_text=visit)
    return _merge_runs(runs)


def _run(
    page: int, raw: str, matrix: list[float], size_x: float, size_y: float, font_dict, widths: _WidthTable
) -> _Line | None:
    leading = len(raw) - len(raw.lstrip())
    start = matrix[4]
    advance = widths.of(font_dict)
    for char in raw[:leading]:
        start += advance(char) * size_x
    text = unicodedata.normalize("NFC", raw.strip())
    if not text:
        return None
    xs, x = [], start
    for char in text:
        xs.append(x)
        x += advance(char) * size_x
    slant = matrix[2] / matrix[3] if matrix[3] else 0.0
    return _Line(page, text, xs, x, matrix[5], size_y, slant)


def _merge_runs(runs: list[_Line]) -> list[_Line]:
    """Join runs on one baseline that follow each other closely: a line split by font or kerning."""
    ordered = sorted(runs, key=lambda run: (-round(run.baseline, 0), run.x1))
    lines: list[_Line] = []
    for run in ordered:
        previous = lines[-1] if lines else None
        if (
            previous is not None
            and abs(previous.baseline - run.baseline) < 0.3 * max(previous.font_size, run.font_size)
            and -0.5 * run.font_size <= run.x1 - previous.x2 <= 1.0 * run.font_size
        ):
            gap = run.x1 - previous.x2
            if gap > 0.15 * run.font_size and not previous.text.endswith(" "):
                previous.text += " "
                previous.xs.append(previous.x2)
            previous.text += run.text
            previous.xs.extend(run.xs)
            previous.x2 = run.x2
            previous.font_size = max(previous.font_size, run.font_size)
            continue
        lines.append(_Line(run.page, run.text, list(run.xs), run.x2, run.baseline, run.font_size, run.slant))
    return lines


def _multiply(tm: Iterable[float], cm: Iterable[float]) -> list[float]:
    """tm × cm for PDF row-vector matrices [a b c d e f]: text space to user space."""
    a, b, c, d, e, f = (float(value) for value in tm)
    g, h, i, j, k, l_ = (float(value) for value in cm)
    return [a * g + b * i, a * h + b * j, c * g + d * i, c * h + d * j, e * g + f * i + k, e * h + f * j + l_]


class _WidthTable:
    """Glyph advances per Unicode character (in 1/1000 em), read from each font's widths and maps.

    pypdf hands the visitor decoded text but not widths; its `Font` class reads /Widths, /W and the
    ToUnicode map. It is not public API, so any failure falls back to typical proportional widths.
    """

    def __init__(self) -> None:
        # The font dictionary is kept with its table so that its id() cannot be reused by another object.
        self._tables: dict[int, tuple[object, Callable[[str], float]]] = {}

    def of(self, font_dict) -> Callable[[str], float]:
        key = id(font_dict)
        if key not in self._tables:
            self._tables[key] = (font_dict, self._build(font_dict))
        return self._tables[key][1]

    @staticmethod
    def _build(font_dict) -> Callable[[str], float]:
        by_unicode: dict[str, float] = {}
        default = 0.5
        try:
            from pypdf.generic._font import Font

            font = Font.from_font_resource(font_dict)
            widths = font.character_widths
            default = float(widths.get("default", 500)) / 1000 or 0.5
            if isinstance(font.encoding, dict):
                for code, char in font.encoding.items():
                    if isinstance(char, str) and chr(code) in widths:
                        by_unicode.setdefault(char, float(widths[chr(code)]) / 1000)
            for code, char in font.character_map.items():
                if isinstance(code, str) and isinstance(char, str) and code in widths:
                    by_unicode[char] = float(widths[code]) / 1000
        except Exception:
            by_unicode = {}

        def advance(char: str) -> float:
            if char in by_unicode:
                return by_unicode[char]
            if by_unicode:
                # A precomposed letter the font maps as base + combining marks (marks have no advance).
                base = unicodedata.normalize("NFD", char)[:1]
                if base in by_unicode:
                    return by_unicode[base]
                return by_unicode.get(" ", default * 0.5) if char.isspace() else default
            return 0.28 if char.isspace() else 0.55

        return advance


# --- text matching ---------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """NFC, one case, single spaces, Ð (U+00D0, a common mistake) read as Đ."""
    text = unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110").casefold()
    return " ".join(text.split())


def _fold(text: str) -> str:
    """Without diacritics, for names typed without accents or in broken encodings."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))
