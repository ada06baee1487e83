"""Printable registers (sổ đăng ký văn bản đi / đến, Decree 30 PL IV) as PDF and XLSX.

When an agency registers in the System instead of on paper, the System's entries must be printed with
all the register columns and bound as the register (Art. 16.2.b; incoming printouts are also signed,
Art. 22.3.b). The headings are therefore the legal Vietnamese ones in every UI language.

The web page, the PDF and the XLSX all take their cells from `register_table`, so the three can never
disagree about what a column holds.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .models import Confidentiality, Document, Register, RegisterKind, Urgency
from .pdf import register_fonts
from .services import REGISTER_NAMES

# --- what a register holds -------------------------------------------------------------------------

REGISTER_TITLES = {
    RegisterKind.OUTGOING: "SỔ ĐĂNG KÝ VĂN BẢN ĐI",
    RegisterKind.INCOMING: "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN",
    # Secret documents are registered under the Law on Protection of State Secrets (Art. 16.3, 22.4).
    RegisterKind.SECRET_OUTGOING: "SỔ ĐĂNG KÝ VĂN BẢN MẬT ĐI",
    RegisterKind.SECRET_INCOMING: "SỔ ĐĂNG KÝ VĂN BẢN MẬT ĐẾN",
    RegisterKind.COPIES: "SỔ ĐĂNG KÝ BẢN SAO VĂN BẢN",
    RegisterKind.IMPORTED: "SỔ ĐĂNG KÝ VĂN BẢN THUỘC HỒ SƠ TIẾP NHẬN",
}

_FILE_STEMS = {
    RegisterKind.OUTGOING: "so-van-ban-di",
    RegisterKind.INCOMING: "so-van-ban-den",
    RegisterKind.SECRET_OUTGOING: "so-van-ban-mat-di",
    RegisterKind.SECRET_INCOMING: "so-van-ban-mat-den",
    RegisterKind.COPIES: "so-ban-sao",
    RegisterKind.IMPORTED: "so-van-ban-ho-so-tiep-nhan",
}

# PL IV column headings; widths in millimetres, summing to the A4-landscape text width below.
OUTGOING_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Số, ký hiệu văn bản", 27),
    ("Ngày tháng văn bản", 20),
    ("Tên loại và trích yếu nội dung", 63),
    ("Người ký", 30),
    ("Nơi nhận văn bản", 40),
    ("Đơn vị, người nhận bản lưu", 25),
    ("Số lượng bản", 13),
    ("Ngày chuyển", 16),
    ("Ký nhận", 18),
    ("Ghi chú", 15),
)
INCOMING_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Ngày đến", 20),
    ("Số đến", 12),
    ("Tác giả", 34),
    ("Số, ký hiệu", 27),
    ("Ngày tháng", 20),
    ("Tên loại và trích yếu nội dung", 66),
    ("Đơn vị hoặc người nhận", 30),
    ("Ngày chuyển", 16),
    ("Ký nhận", 20),
    ("Ghi chú", 22),
)

# Vietnamese by law, whatever the UI language (the model labels are translated).
_URGENCY_NOTES = {Urgency.URGENT: "Khẩn", Urgency.VERY_URGENT: "Thượng khẩn", Urgency.EXPRESS: "Hỏa tốc"}
_SECRECY_NOTES = {Confidentiality.SECRET: "Mật", Confidentiality.TOP_SECRET: "Tối mật",
                  Confidentiality.ABSOLUTE_SECRET: "Tuyệt mật"}

# Columns whose text is run-on prose (wrapped and left-aligned); the rest are short and centred.
_OUTGOING_PROSE = {2, 3, 4, 5, 9}
_INCOMING_PROSE = {2, 5, 6, 9}


class RegisterNumber(int):
    """A number in the register (arrival number): shown with a leading zero below 10, like "05"."""


@dataclass(frozen=True)
class Cover:
    """The cover block of PL IV: who keeps the register, which register, which period and numbers."""

    parent_name: str
    agency_name: str
    title: str
    subtitle: str
    year: int
    date_from: date
    date_to: date
    first_number: str
    last_number: str
    volume: str


def register_columns(register: Register) -> list[str]:
    """The ten PL IV column headings of this register's kind."""
    return [name for name, _width in _column_spec(register)]


def register_layout(register: Register) -> list[dict]:
    """Heading, share of the width (percent) and kind of text of each column, for the web preview:
    the same proportions as the PDF, prose left-aligned, dates and numbers centred."""
    spec = _column_spec(register)
    total = sum(width for _name, width in spec)
    prose = _INCOMING_PROSE if register.is_incoming else _OUTGOING_PROSE
    return [{"name": name, "width": round(100 * width / total, 2), "prose": i in prose}
            for i, (name, width) in enumerate(spec)]


def _column_spec(register: Register) -> tuple[tuple[str, float], ...]:
    return INCOMING_COLUMNS if register.is_incoming else OUTGOING_COLUMNS


def format_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def format_number(number: int | None) -> str:
    """Numbers below 10 take a leading zero (PL I §II.3), as on the documents themselves."""
    return f"{number:02d}" if number is not None else ""


def _notes(document: Document) -> str:
    parts = [_URGENCY_NOTES.get(document.urgency, ""), _SECRECY_NOTES.get(document.confidentiality, ""),
             document.description.strip()]
    return "; ".join(p for p in parts if p)


def _signer(document: Document) -> str:
    position = " ".join(p for p in (document.authority_prefix, document.signer_position.strip()) if p)
    return "\n".join(p for p in (position, document.signer_name.strip()) if p)


def _recipients(document: Document) -> str:
    # `.all()` uses the prefetch of register_entries: no query per row.
    names = [r.name for r in document.recipients.all() if r.name]
    return "; ".join(names) if names else document.to_places


def _type_and_subject(document: Document) -> tuple[str, str]:
    return document.document_type.name, document.subject


def register_row(register: Register, document: Document) -> list:
    """One register line: dates as `date`, counts as `int`, everything else text; "Ngày chuyển" and
    "Ký nhận" stay empty for the hand-written transfer date and signature. Column 3 (outgoing) or 6
    (incoming) is a (type name, subject) pair so each format can set the type name apart."""
    if register.is_incoming:
        return [
            document.arrival_date,
            RegisterNumber(document.register_number),
            document.organ_name,
            document.number_notation,
            document.issued_date,
            _type_and_subject(document),
            document.to_places,
            "",
            "",
            _notes(document),
        ]
    return [
        document.number_notation,
        document.issued_date,
        _type_and_subject(document),
        _signer(document),
        _recipients(document),
        document.drafting_unit.name if document.drafting_unit_id else "",
        document.issued_amount,
        "",
        "",
        _notes(document),
    ]


def cell_text(value) -> str:
    """A register cell as plain text (web preview, PDF fast path)."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return " – ".join(p for p in value if p)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, RegisterNumber):
        return format_number(value)
    return str(value)


def register_table(register: Register, entries: Iterable[Document]) -> tuple[list[str], list[list]]:
    """Column headings and typed rows, in the order given (register_entries orders by number)."""
    return register_columns(register), [register_row(register, d) for d in entries]


def default_period(register: Register) -> tuple[date, date]:
    """1 January of the register's year to today (31 December for another year's register)."""
    today = timezone.localdate()
    return date(register.year, 1, 1), today if today.year == register.year else date(register.year, 12, 31)


def build_cover(register: Register, entries: Sequence[Document], date_from: date | None, date_to: date | None) -> Cover:
    agency = register.agency
    default_from, default_to = default_period(register)
    start, end = date_from or default_from, date_to or default_to
    title = REGISTER_TITLES.get(register.kind, register.name.upper())
    # A separate series (advisory body, legal normative documents) keeps its own name under the legal title.
    subtitle = register.name.strip() if register.name.strip() != REGISTER_NAMES.get(register.kind) else ""
    if register.code and not subtitle:
        subtitle = register.code
    numbers = [d.register_number for d in entries]
    return Cover(
        parent_name=agency.parent.name.upper() if agency.parent_id else "",
        agency_name=agency.name.upper(),
        title=title,
        subtitle=subtitle,
        year=register.year,
        date_from=start,
        date_to=end,
        first_number=format_number(min(numbers)) if numbers else "",
        last_number=format_number(max(numbers)) if numbers else "",
        volume=register.volume,
    )


def register_filename(register: Register, fmt: str) -> str:
    """ASCII-only download name, e.g. "so-van-ban-di-2026-UBND.pdf" (safe in any Content-Disposition)."""
    stem = _FILE_STEMS.get(register.kind, "so-dang-ky")
    parts = [stem, _ascii(register.code), str(register.year), _ascii(register.agency.abbreviation)]
    return "-".join(p for p in parts if p) + "." + _ascii(fmt).lower()


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    folded = folded.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-")


# --- PDF -----------------------------------------------------------------------------------------

_FONT = "DejaVuSans"
_FONT_BOLD = "DejaVuSans-Bold"
_BODY_SIZE = 8
_CELL_PADDING = 2.5  # points, each side


def build_register_pdf(
    register: Register, entries: Iterable[Document], date_from: date | None, date_to: date | None
) -> bytes:
    """The register as an A4-landscape PDF: a PL IV cover page, then the ten-column table with its
    heading repeated on every page, numbered pages, wrapped cells. Fonts are the shipped DejaVu ones,
    so Vietnamese renders on any server."""
    register_fonts()
    entries = list(entries)
    cover = build_cover(register, entries, date_from, date_to)
    spec = _column_spec(register)
    widths = [w * mm for _name, w in spec]
    prose = _INCOMING_PROSE if register.is_incoming else _OUTGOING_PROSE

    cell = ParagraphStyle("cell", fontName=_FONT, fontSize=_BODY_SIZE, leading=_BODY_SIZE * 1.2)
    head = ParagraphStyle("head", parent=cell, fontName=_FONT_BOLD, alignment=TA_CENTER)
    wrap = _LineWrapper(_FONT, _BODY_SIZE)
    inner = [w - 2 * _CELL_PADDING for w in widths]

    def pdf_cell(value, column: int) -> str:
        # Cells are pre-wrapped plain strings, not Paragraphs: a table of strings is measured by counting
        # lines and drawn line by line, which keeps a register of thousands of rows to a few seconds
        # (Paragraph layout made 2,000 rows take ~9 s, each cell being wrapped three times by the table).
        return wrap(unicodedata.normalize("NFC", cell_text(value)), inner[column])

    header = [Paragraph(escape(name), head) for name, _w in spec]
    numbering = [f"({i})" for i in range(1, len(spec) + 1)]
    data = [header, numbering]
    for document in entries:
        row = register_row(register, document)
        data.append([pdf_cell(value, i) for i, value in enumerate(row)])
    if not entries:
        data.append(["Không có văn bản nào trong khoảng thời gian này."] + [""] * (len(spec) - 1))

    style = [
        ("FONT", (0, 0), (-1, -1), _FONT, _BODY_SIZE, _BODY_SIZE * 1.2),
        ("FONT", (0, 1), (-1, 1), _FONT, _BODY_SIZE - 1),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#eeeeee")),
        ("LEFTPADDING", (0, 0), (-1, -1), _CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for column in prose:
        style.append(("ALIGN", (column, 2), (column, -1), "LEFT"))
    if not entries:
        style.append(("SPAN", (0, 2), (-1, 2)))
    # LongTable only measures the rows that fit on the current page when splitting; a plain Table
    # re-measures the whole remainder at every page break (quadratic in the number of rows).
    # splitInRow: a row taller than a page (a công văn sent to every commune) continues on the next page
    # instead of failing the whole printout.
    table = LongTable(data, colWidths=widths, repeatRows=2, style=TableStyle(style), splitInRow=1)

    buffer = io.BytesIO()
    page_size = landscape(A4)
    # Wider inner margin for binding the printed register.
    doc = SimpleDocTemplate(
        buffer, pagesize=page_size, leftMargin=20 * mm, rightMargin=10 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=f"{cover.title} – {cover.year}", author=register.agency.name, subject=register.name,
        creator="E-office",
    )
    story = [*_cover_flowables(cover), PageBreak(), table]
    footer_text = f"{cover.title} – Năm {cover.year} – {register.agency.name}"
    doc.build(story, canvasmaker=numbered_canvas(footer_text, page_size))
    return buffer.getvalue()


def _cover_flowables(cover: Cover) -> list:
    """The PL IV cover: agency names top-left, the register title and its period in the middle."""

    def style(name: str, size: float, bold: bool = False, align: int = TA_CENTER, space: float = 0) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=_FONT_BOLD if bold else _FONT, fontSize=size, leading=size * 1.3,
                              alignment=align, spaceAfter=space)

    names = []
    if cover.parent_name:
        names.append(Paragraph(escape(cover.parent_name), style("parent", 12)))
    names.append(Paragraph(escape(cover.agency_name), style("agency", 12, bold=True)))
    names.append(Paragraph("———————", style("rule", 10)))
    agency_block = Table([[names]], colWidths=[110 * mm], hAlign="LEFT")

    dots = "……"
    lines = [
        Spacer(1, 30 * mm),
        Paragraph(escape(cover.title), style("title", 26, bold=True, space=4 * mm)),
    ]
    if cover.subtitle:
        lines.append(Paragraph(escape(cover.subtitle), style("subtitle", 14, space=4 * mm)))
    detail = style("detail", 14, space=2.5 * mm)
    lines += [
        Spacer(1, 8 * mm),
        Paragraph(f"Năm: {cover.year}", detail),
        Paragraph(f"Từ ngày {format_date(cover.date_from)} đến ngày {format_date(cover.date_to)}", detail),
        Paragraph(f"Từ số {cover.first_number or dots} đến số {cover.last_number or dots}", detail),
        Paragraph(f"Quyển số: {escape(cover.volume) or dots}", detail),
    ]
    return [agency_block, *lines]


def numbered_canvas(footer_text: str, page_size: tuple[float, float], *,
                    page_label: str = "Trang %(number)s/%(total)s", number_first: bool = False) -> type[Canvas]:
    """A canvas class that knows the page count when each page is finished and prints `footer_text` and
    `page_label` ("Trang 3/57"; the records' printouts pass a translated "Page 3 of 57") at the foot of every
    page, the first (a register's cover) only when `number_first`. Pages are kept as drawing state until the
    end: a few hundred pages of text, not a memory concern."""
    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab API)
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                if number_first or self._pageNumber > 1:
                    self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            width, _height = page_size
            self.setFont(_FONT, 7.5)
            self.setFillGray(0.3)
            self.drawString(20 * mm, 8 * mm, footer_text[:150])
            self.drawRightString(width - 10 * mm, 8 * mm, page_label % {"number": self._pageNumber, "total": total})

    return NumberedCanvas


class _LineWrapper:
    """Greedy word wrap measured with the PDF font. Word widths are cached for the whole printout:
    registers repeat the same words (agency names, "Về việc", "Quyết định") thousands of times."""

    def __init__(self, font: str, size: float):
        self.font, self.size = font, size
        self.space = stringWidth(" ", font, size)
        self.widths: dict[str, float] = {}

    def width(self, word: str) -> float:
        found = self.widths.get(word)
        if found is None:
            found = self.widths[word] = stringWidth(word, self.font, self.size)
        return found

    def __call__(self, text: str, max_width: float) -> str:
        if not text:
            return ""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line: list[str] = []
            used = 0.0
            for word in paragraph.split():
                width = self.width(word)
                if width > max_width:  # a word longer than the column (a long notation): break it by characters
                    if line:
                        lines.append(" ".join(line))
                    pieces = self._break_word(word, max_width)
                    lines.extend(pieces[:-1])
                    line, used = [pieces[-1]], self.width(pieces[-1])
                elif line and used + self.space + width > max_width:
                    lines.append(" ".join(line))
                    line, used = [word], width
                else:
                    used += width + (self.space if line else 0)
                    line.append(word)
            lines.append(" ".join(line))
        return "\n".join(lines)

    def _break_word(self, word: str, max_width: float) -> list[str]:
        pieces, current = [], ""
        for char in word:
            if current and stringWidth(current + char, self.font, self.size) > max_width:
                pieces.append(current)
                current = char
            else:
                current += char
        pieces.append(current)
        return pieces


# --- XLSX ----------------------------------------------------------------------------------------

# Excel column widths are in characters of the default font; about 2 mm each.
_MM_PER_CHAR = 1.9


def build_register_xlsx(
    register: Register, entries: Iterable[Document], date_from: date | None, date_to: date | None
) -> bytes:
    """The register as one worksheet: the cover block, the ten headings (repeated on every printed
    page), one row per document; landscape A4, fitted to the page width."""
    entries = list(entries)
    cover = build_cover(register, entries, date_from, date_to)
    spec = _column_spec(register)
    ncols = len(spec)
    last_col = get_column_letter(ncols)
    prose = _INCOMING_PROSE if register.is_incoming else _OUTGOING_PROSE

    wb = Workbook()
    ws = wb.active
    ws.title = "Sổ đến" if register.is_incoming else "Sổ đi"

    bold = Font(name="Times New Roman", bold=True, size=12)
    normal = Font(name="Times New Roman", size=11)
    title_font = Font(name="Times New Roman", bold=True, size=16)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left_top = Alignment(horizontal="left", vertical="top", wrap_text=True)
    centre_top = Alignment(horizontal="center", vertical="top", wrap_text=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    shade = PatternFill("solid", fgColor="EEEEEE")

    def banner(row: int, text: str, font: Font, first: int = 1, last: int = ncols, align: Alignment = centre) -> None:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        target = ws.cell(row=row, column=first, value=text)
        target.font = font
        target.alignment = align

    row = 1
    agency_span = min(4, ncols)
    if cover.parent_name:
        banner(row, cover.parent_name, normal, last=agency_span)
        row += 1
    banner(row, cover.agency_name, bold, last=agency_span)
    row += 2
    banner(row, cover.title, title_font)
    row += 1
    if cover.subtitle:
        banner(row, cover.subtitle, bold)
        row += 1
    dots = "……"
    for text in (
        f"Năm: {cover.year}",
        f"Từ ngày {format_date(cover.date_from)} đến ngày {format_date(cover.date_to)}",
        f"Từ số {cover.first_number or dots} đến số {cover.last_number or dots}",
        f"Quyển số: {cover.volume or dots}",
    ):
        banner(row, text, normal)
        row += 1
    row += 1

    head_row = row
    for column, (name, _width) in enumerate(spec, start=1):
        heading = ws.cell(row=head_row, column=column, value=name)
        heading.font, heading.alignment, heading.border, heading.fill = bold, centre, box, shade
        numbered = ws.cell(row=head_row + 1, column=column, value=f"({column})")
        numbered.font, numbered.alignment, numbered.border, numbered.fill = normal, centre, box, shade
    ws.row_dimensions[head_row].height = 45

    # One style per (column, number format), copied onto each cell: assigning font/alignment/border to
    # every cell would hash the style objects 60,000 times for a 2,000-row register.
    templates: dict[tuple[int, str], object] = {}

    def styled(column: int, value) -> Cell:
        number_format = "DD/MM/YYYY" if isinstance(value, date) else "00" if isinstance(value, RegisterNumber) else ""
        key = (column, number_format)
        if key not in templates:
            template = Cell(ws)
            template.font, template.border = normal, box
            template.alignment = left_top if column in prose else centre_top
            if number_format:
                template.number_format = number_format
            templates[key] = template._style
        target = Cell(ws, value=_xlsx_value(value))
        target._style = copy(templates[key])
        return target

    for document in entries:
        ws.append([styled(column, value) for column, value in enumerate(register_row(register, document))])

    for column, (_name, width_mm) in enumerate(spec, start=1):
        ws.column_dimensions[get_column_letter(column)].width = round(width_mm / _MM_PER_CHAR + 1, 1)

    set_landscape_print(ws, head_row)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left, ws.page_margins.right = 0.8, 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.left.text = f"{cover.title} – Năm {cover.year}"
    ws.print_area = f"A1:{last_col}{max(ws.max_row, head_row + 1)}"
    wb.properties.title = f"{cover.title} – {cover.year}"
    wb.properties.creator = "E-office"

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value):
    if isinstance(value, tuple):
        return " – ".join(p for p in value if p)
    if isinstance(value, RegisterNumber):
        return int(value)
    return value


def set_landscape_print(ws, head_row: int) -> None:
    """Print set-up shared by the legal registers and reports: A4 landscape, fitted to the page width,
    the two heading rows (names and column numbers) repeated on every page and frozen on screen."""
    ws.print_title_rows = f"{head_row}:{head_row + 1}"
    ws.freeze_panes = ws.cell(row=head_row + 2, column=1)
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
