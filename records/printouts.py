"""Printouts of the records (Decree 30 Art. 28–30, PL V): the document index of a work file, the annual file
catalogue, the transfer list and hand-over record of a transfer to the archive, and lists of archive records.

Pure functions from database rows to bytes (PDF with reportlab, XLSX with openpyxl): the caller has already
checked who may print what. Labels are gettext strings rendered in the active language; the fonts and the line
wrapper are documents.printouts' (the shipped DejaVu fonts keep Vietnamese diacritics on any server).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from accounts.models import Agency
from documents.models import Document, DocumentFile
from documents.pdf import register_fonts
from documents.printouts import _LineWrapper, format_date, numbered_canvas, set_landscape_print
from signatures.sample_documents import MOTTO, NATIONAL_NAME

from .models import CatalogueEntry, CatalogueHeading, FileCatalogue, Transfer, WorkFile, WorkFileDocument

_FONT = "DejaVuSans"
_FONT_BOLD = "DejaVuSans-Bold"
_SIZE = 8.5
_PADDING = 2.5  # points, each side of a cell
# Text widths in millimetres: A4 with a 20 mm binding margin on the left and 10 mm on the right.
PORTRAIT_WIDTH = 180
LANDSCAPE_WIDTH = 267


@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # millimetres
    prose: bool = False  # wrapped and left-aligned; the others are short and centred


# --- small formatting helpers ---------------------------------------------------------------------------------


def _nfc(value) -> str:
    return unicodedata.normalize("NFC", "" if value is None else str(value))


def period_text(start: date | None, end: date | None) -> str:
    """"01/02/2026 – 30/11/2026"; an open end stays open ("01/02/2026 – ")."""
    if not start and not end:
        return ""
    return f"{format_date(start)} – {format_date(end)}"


def to_roman(number: int) -> str:
    numerals = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
                (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, letters in numerals:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


def _agency_lines(agency: Agency | None) -> list[str]:
    """The issuing-agency block of the top-left corner: the governing agency, then the agency, upper-case."""
    if agency is None:
        return []
    lines = [agency.parent.name.upper()] if agency.parent_id else []
    return [*lines, agency.name.upper()]


def _totals_line(*, files: int | None = None, documents: int | None = None, pages: int | None = None) -> str:
    """"Number of files: 2. Number of documents: 5. Number of pages: 12." (a None count is left out)."""
    parts = []
    if files is not None:
        parts.append(_("Number of files: %(count)d.") % {"count": files})
    if documents is not None:
        parts.append(_("Number of documents: %(count)d.") % {"count": documents})
    if pages is not None:
        parts.append(_("Number of pages: %(count)d.") % {"count": pages})
    return " ".join(parts)


def _person(user) -> str:
    return user.name_and_position if user else ""


# --- PDF building blocks --------------------------------------------------------------------------------------


def _style(name: str, size: float = 10, bold: bool = False, align: int = TA_CENTER, space: float = 0
           ) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=_FONT_BOLD if bold else _FONT, fontSize=size, leading=size * 1.3,
                          alignment=align, spaceAfter=space)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(_nfc(text)).replace("\n", "<br/>"), style)


def _heading_flowables(agency: Agency | None, title: str, subtitle_lines: Sequence[str] = (),
                       info_lines: Sequence[tuple[str, str]] = ()) -> list:
    """Agency block top-left, the title centred, optional centred sub-titles, then "Label: value" lines."""
    register_fonts()
    story: list = []
    if agency is not None:
        story += [_agency_block(agency), Spacer(1, 5 * mm)]
    story.append(_para(title.upper(), _style("title", 13, bold=True, space=1.5 * mm)))
    story += [_para(line, _style("subtitle", 10.5, space=1 * mm)) for line in subtitle_lines if line]
    if info_lines:
        story.append(Spacer(1, 3 * mm))
        info = _style("info", 10, align=TA_LEFT, space=0.8 * mm)
        story += [Paragraph(f"<b>{escape(_nfc(label))}:</b> {escape(_nfc(value))}", info)
                  for label, value in info_lines]
    story.append(Spacer(1, 4 * mm))
    return story


def _agency_block(agency: Agency, width: float = 95) -> Table:
    lines = _agency_lines(agency)
    names = [_para(line, _style(f"agency{i}", 10, bold=i == len(lines) - 1)) for i, line in enumerate(lines)]
    names.append(_para("———————", _style("rule", 8)))
    return Table([[names]], colWidths=[width * mm], hAlign="LEFT",
                 style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))


def _table(columns: Sequence[Column], rows: Sequence[Sequence], *, bold_rows: Iterable[int] = (),
           empty_text: str = "") -> LongTable:
    """The bordered table of a list: headings and their column numbers "(1)…(n)" repeated on every page, cells
    pre-wrapped as plain text (fast for long lists: see documents.printouts.build_register_pdf)."""
    register_fonts()
    bold_rows = set(bold_rows)
    widths = [c.width * mm for c in columns]
    inner = [w - 2 * _PADDING for w in widths]
    wrap, wrap_bold = _LineWrapper(_FONT, _SIZE), _LineWrapper(_FONT_BOLD, _SIZE)
    head = ParagraphStyle("head", fontName=_FONT_BOLD, fontSize=_SIZE, leading=_SIZE * 1.2, alignment=TA_CENTER)
    data: list[list] = [[Paragraph(escape(c.heading), head) for c in columns],
                        [f"({i})" for i in range(1, len(columns) + 1)]]
    for r, row in enumerate(rows):
        wrapper = wrap_bold if r in bold_rows else wrap
        data.append([wrapper(_nfc(value), inner[i]) for i, value in enumerate(row)])
    style = [
        ("FONT", (0, 0), (-1, -1), _FONT, _SIZE, _SIZE * 1.2),
        ("FONT", (0, 1), (-1, 1), _FONT, _SIZE - 1),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#eeeeee")),
        ("LEFTPADDING", (0, 0), (-1, -1), _PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    style += [("ALIGN", (i, 2), (i, -1), "LEFT") for i, c in enumerate(columns) if c.prose]
    style += [("FONT", (0, r + 2), (-1, r + 2), _FONT_BOLD, _SIZE, _SIZE * 1.2) for r in bold_rows]
    if not rows:
        data.append([wrap(empty_text, sum(inner))] + [""] * (len(columns) - 1))
        style += [("SPAN", (0, 2), (-1, 2)), ("ALIGN", (0, 2), (-1, 2), "CENTER")]
    return LongTable(data, colWidths=widths, repeatRows=2, style=TableStyle(style), splitInRow=1)


def _signature_blocks(blocks: Sequence[tuple[str, str]]) -> Table:
    """Side-by-side signature blocks: an upper-case role, "(signature, full name)", room to sign, the name."""
    cells = []
    for role, name in blocks:
        if not role:  # an empty place keeps the other blocks on the right
            cells.append("")
            continue
        cells.append([_para(role.upper(), _style("sig-role", 10, bold=True)),
                      _para(_("(Signature, full name)"), _style("sig-hint", 8.5)),
                      Spacer(1, 18 * mm),
                      _para(name, _style("sig-name", 10, bold=True))])
    width = PORTRAIT_WIDTH * mm / max(len(blocks), 1)
    return Table([cells], colWidths=[width] * len(blocks),
                 style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))


def _build_pdf(story: list, *, title: str, agency: Agency | None, wide: bool = False) -> bytes:
    register_fonts()
    page = landscape(A4) if wide else A4
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=page, leftMargin=20 * mm, rightMargin=10 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=_nfc(title), author=_nfc(agency.name if agency else ""),
                            creator="E-office")
    footer = f"{title} – {agency.name}" if agency else title
    doc.build(story, canvasmaker=numbered_canvas(_nfc(footer), page, page_label=_("Page %(number)s of %(total)s"),
                                                 number_first=True))
    return buffer.getvalue()


# --- XLSX building blocks -------------------------------------------------------------------------------------

_MM_PER_CHAR = 1.9  # Excel column widths are in characters of the default font


def _build_xlsx(sheet_title: str, agency: Agency | None, title: str, subtitle_lines: Sequence[str],
                columns: Sequence[Column], rows: Sequence[Sequence], *, bold_rows: Iterable[int] = (),
                closing_lines: Sequence[str] = ()) -> bytes:
    """One worksheet: agency block, title, the headings and column numbers (repeated on every printed page),
    the rows, closing lines; A4 fitted to the page width."""
    bold_rows = set(bold_rows)
    wb = Workbook()
    ws = wb.active
    ws.title = _nfc(sheet_title)[:31]
    ncols = len(columns)
    normal = Font(name="Times New Roman", size=11)
    bold = Font(name="Times New Roman", size=11, bold=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    centre_top = Alignment(horizontal="center", vertical="top", wrap_text=True)
    left_top = Alignment(horizontal="left", vertical="top", wrap_text=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    shade = PatternFill("solid", fgColor="EEEEEE")

    def banner(row: int, text: str, font: Font, last: int = ncols, align: Alignment = centre) -> None:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
        cell = ws.cell(row=row, column=1, value=_nfc(text))
        cell.font, cell.alignment = font, align

    row = 1
    agency_lines = _agency_lines(agency)
    for i, line in enumerate(agency_lines):
        banner(row, line, bold if i == len(agency_lines) - 1 else normal, last=min(2, ncols))
        row += 1
    if agency_lines:
        row += 1
    banner(row, title.upper(), Font(name="Times New Roman", size=14, bold=True))
    row += 1
    for line in subtitle_lines:
        if line:
            banner(row, line, normal)
            row += 1
    row += 1
    head_row = row
    for column, spec in enumerate(columns, start=1):
        for r, value in ((head_row, spec.heading), (head_row + 1, f"({column})")):
            cell = ws.cell(row=r, column=column, value=_nfc(value))
            cell.font, cell.alignment, cell.border, cell.fill = bold if r == head_row else normal, centre, box, shade
        ws.column_dimensions[get_column_letter(column)].width = round(spec.width / _MM_PER_CHAR + 1, 1)
    ws.row_dimensions[head_row].height = 45
    for i, values in enumerate(rows):
        r = head_row + 2 + i
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=column, value=_nfc(value) if isinstance(value, str) else value)
            cell.font = bold if i in bold_rows else normal
            cell.alignment = left_top if columns[column - 1].prose else centre_top
            cell.border = box
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
    last_row = head_row + 1 + len(rows)
    row = last_row + 2
    for line in closing_lines:
        banner(row, line, normal, align=Alignment(horizontal="left", vertical="top", wrap_text=True))
        row += 1
    set_landscape_print(ws, head_row)
    if sum(c.width for c in columns) <= PORTRAIT_WIDTH:
        ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
    ws.oddFooter.center.text = _("Page %(number)s of %(total)s") % {"number": "&P", "total": "&N"}
    ws.print_area = f"A1:{get_column_letter(ncols)}{max(ws.max_row, last_row)}"
    wb.properties.title = _nfc(title)
    wb.properties.creator = "E-office"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- 1. the document index of a work file (mục lục văn bản trong hồ sơ) ---------------------------------------


def document_index_columns() -> list[Column]:
    return [
        Column(_("No."), 9),
        Column(_("Number and notation"), 26),
        Column(_("Date"), 21),
        Column(_("Type and summary"), 57, prose=True),
        Column(_("Author"), 30, prose=True),
        Column(_("Sheet/page no."), 18),
        Column(_("Notes"), 19, prose=True),
    ]


def _document_pages(document: Document) -> int | None:
    """The document's page count: the registered one, else the main file's counted one (prefetched files)."""
    if document.page_amount:
        return document.page_amount
    for file in document.files.all():
        if file.is_main:
            return file.page_count or None
    return None


def document_index_rows(work_file: WorkFile) -> list[list]:
    """One row per document of the file, in file order. Page ranges run on from the previous document; once one
    document's page count is unknown the later ranges are unknown too, so they are left blank, never guessed."""
    items = (WorkFileDocument.objects.filter(work_file=work_file).order_by("ordinal", "id")
             .select_related("document__document_type")
             .prefetch_related(Prefetch("document__files", queryset=DocumentFile.objects.only(
                 "id", "document_id", "is_main", "page_count"))))
    rows = []
    next_page: int | None = 1
    for position, item in enumerate(items, start=1):
        document = item.document
        pages = _document_pages(document)
        if next_page is not None and pages:
            page_range = f"{next_page}-{next_page + pages - 1}"
            next_page += pages
        else:
            page_range, next_page = "", None
        rows.append([
            position,
            document.number_notation,
            format_date(document.issued_date),
            f"{document.document_type.name} {document.subject}".strip(),
            document.organ_name,
            page_range,
            document.description,
        ])
    return rows


def document_index_pdf(work_file: WorkFile) -> bytes:
    """"Mục lục văn bản trong hồ sơ" (Art. 29, PL V): the file's identity, then one line per document with its
    place in the file (sheet/page numbers), A4 portrait."""
    agency = work_file.agency
    title = _("Index of documents in the file")
    info = [
        (_("File code"), work_file.file_code),
        (_("File title"), work_file.title),
        (_("Year"), str(work_file.year)),
        (_("Time span of the records"), period_text(work_file.start_date, work_file.end_date)),
        (_("Retention period"), work_file.retention_text),
    ]
    if work_file.unit_id:
        info.insert(2, (_("Unit"), work_file.unit.name))
    rows = document_index_rows(work_file)
    story = _heading_flowables(agency, title, info_lines=info)
    story.append(_table(document_index_columns(), rows, empty_text=_("This file holds no documents.")))
    # The last range ends on the file's last page when every count is known.
    pages = int(rows[-1][5].split("-")[1]) if rows and all(r[5] for r in rows) else 0
    story += [Spacer(1, 4 * mm), _para(_totals_line(documents=len(rows), pages=pages or None),
                                       _style("closing", 10, align=TA_LEFT))]
    return _build_pdf(story, title=f"{title} {work_file.file_code}", agency=agency)


# --- 2. the annual file catalogue (danh mục hồ sơ) -------------------------------------------------------------


def heading_numbers(catalogue: FileCatalogue) -> dict[int, str]:
    """The number of every heading: major headings I, II, III…, their sub-headings 1, 2, 3… (restarting under
    each major heading); a deeper level, should one exist, continues its parent's number (1.1, 1.2)."""
    children: dict[int | None, list[CatalogueHeading]] = {}
    for heading in CatalogueHeading.objects.filter(catalogue=catalogue).order_by("order", "id"):
        children.setdefault(heading.parent_id, []).append(heading)
    numbers: dict[int, str] = {}

    def walk(parent_id: int | None, prefix: str, depth: int) -> None:
        for position, heading in enumerate(children.get(parent_id, ()), start=1):
            number = to_roman(position) if depth == 0 else str(position) if depth == 1 else f"{prefix}.{position}"
            numbers[heading.id] = number
            walk(heading.id, number, depth + 1)

    walk(None, "", 0)
    return numbers


def catalogue_columns() -> list[Column]:
    return [
        Column(_("File number"), 24),
        Column(_("Heading and file title"), 78, prose=True),
        Column(_("Retention period"), 24),
        Column(_("File keeper"), 34, prose=True),
        Column(_("Notes"), 20, prose=True),
    ]


def _entry_keeper(entry: CatalogueEntry) -> str:
    if entry.responsible_id:
        return entry.responsible.name_and_position
    return entry.unit.name if entry.unit_id else ""


def catalogue_rows(catalogue: FileCatalogue) -> tuple[list[list], set[int], list[CatalogueEntry]]:
    """The catalogue's lines, heading by heading (each heading, the entries directly under it, then its
    sub-headings), the indexes of the heading lines (printed bold) and the entries in printed order."""
    numbers = heading_numbers(catalogue)
    headings = list(CatalogueHeading.objects.filter(catalogue=catalogue).order_by("order", "id"))
    children: dict[int | None, list[CatalogueHeading]] = {}
    for heading in headings:
        children.setdefault(heading.parent_id, []).append(heading)
    entries: dict[int, list[CatalogueEntry]] = {}
    for entry in (CatalogueEntry.objects.filter(catalogue=catalogue).order_by("order", "id")
                  .select_related("responsible", "unit")):
        entries.setdefault(entry.heading_id, []).append(entry)
    rows: list[list] = []
    bold: set[int] = set()
    printed: list[CatalogueEntry] = []

    def walk(parent_id: int | None) -> None:
        for heading in children.get(parent_id, ()):
            bold.add(len(rows))
            title = heading.title.upper() if heading.parent_id is None else heading.title
            rows.append(["", f"{numbers[heading.id]}. {title}", "", "", ""])
            for entry in entries.get(heading.id, ()):
                rows.append([entry.file_notation, entry.title, entry.retention_text, _entry_keeper(entry), entry.note])
                printed.append(entry)
            walk(heading.id)

    walk(None)
    return rows, bold, printed


def _catalogue_texts(catalogue: FileCatalogue, entries: Sequence[CatalogueEntry]) -> tuple[str, list[str], str]:
    title = _("File catalogue for %(year)s") % {"year": catalogue.year}
    subtitles = [] if catalogue.is_published else [_("(Draft)")]
    permanent = sum(1 for e in entries if e.retention_years is None)
    summary = _("Files in this catalogue: %(count)d (kept permanently: %(permanent)d; kept for a limited "
                "period: %(limited)d).") % {"count": len(entries), "permanent": permanent,
                                      "limited": len(entries) - permanent}
    return title, subtitles, summary


def catalogue_pdf(catalogue: FileCatalogue) -> bytes:
    """"Danh mục hồ sơ năm YYYY" (Art. 28, PL V): the headings numbered I, II… and 1, 2…, the planned files
    under them, the count of files by retention and the approving head's signature block; A4 portrait."""
    agency = catalogue.agency
    rows, bold, entries = catalogue_rows(catalogue)
    title, subtitles, summary = _catalogue_texts(catalogue, entries)
    story = _heading_flowables(agency, title, subtitles)
    story.append(_table(catalogue_columns(), rows, bold_rows=bold,
                        empty_text=_("This catalogue has no headings yet.")))
    story += [Spacer(1, 4 * mm), _para(summary, _style("summary", 10, align=TA_LEFT)), Spacer(1, 6 * mm)]
    signature: list = [_signature_blocks([("", ""), (_("Head of the agency"), catalogue.approved_by_name)])]
    if catalogue.published_at:
        when = _long_date(agency.place_name, timezone.localdate(catalogue.published_at))
        signature.insert(0, _para(when, _style("when", 10, align=TA_RIGHT)))
    story.append(KeepTogether(signature))
    return _build_pdf(story, title=title, agency=agency)


def catalogue_xlsx(catalogue: FileCatalogue) -> bytes:
    """The same catalogue as one worksheet (for the archivist to edit or print)."""
    agency = catalogue.agency
    rows, bold, entries = catalogue_rows(catalogue)
    title, subtitles, summary = _catalogue_texts(catalogue, entries)
    closing = [summary, f"{_('Head of the agency')}: {catalogue.approved_by_name}"]
    return _build_xlsx(_("Catalogue %(year)s") % {"year": catalogue.year}, agency, title, subtitles,
                       catalogue_columns(), rows, bold_rows=bold, closing_lines=closing)


# --- 3. the transfer list (mục lục hồ sơ, tài liệu nộp lưu) ---------------------------------------------------


def transfer_list_columns() -> list[Column]:
    return [
        Column(_("No."), 9),
        Column(_("File number"), 22),
        Column(_("Title"), 56, prose=True),
        Column(_("Time span of the records"), 40),
        Column(_("Retention period"), 20),
        Column(_("Sheets/pages"), 15),
        Column(_("Notes"), 18, prose=True),
    ]


def _transfer_files(transfer: Transfer) -> list[WorkFile]:
    return list(transfer.files.order_by("file_notation", "year", "id").select_related("agency", "unit"))


def transfer_list_rows(transfer: Transfer) -> list[list]:
    return [[position, f.file_notation, f.title, period_text(f.start_date, f.end_date), f.retention_text,
             f.page_total, f.description]
            for position, f in enumerate(_transfer_files(transfer), start=1)]


def _transfer_day(transfer: Transfer) -> date:
    moment = transfer.received_at or transfer.submitted_at
    return timezone.localdate(moment) if moment else timezone.localdate()


def transfer_list_pdf(transfer: Transfer) -> bytes:
    """"Mục lục hồ sơ, tài liệu nộp lưu" (Art. 30.3): one line per transferred file, A4 portrait; made in two
    copies with the hand-over record."""
    agency = transfer.agency
    title = _("List of files transferred to the archive")
    subtitles = [transfer.unit.name if transfer.unit_id else "",
                 _("Submitted on %(date)s") % {"date": format_date(_transfer_day(transfer))}]
    rows = transfer_list_rows(transfer)
    pages = sum(r[5] or 0 for r in rows)
    summary = _totals_line(files=len(rows), pages=pages)
    story = _heading_flowables(agency, title, subtitles)
    story += [_table(transfer_list_columns(), rows, empty_text=_("No files in this transfer.")),
              Spacer(1, 4 * mm), _para(summary, _style("summary", 10, align=TA_LEFT))]
    return _build_pdf(story, title=title, agency=agency)


# --- 4. the hand-over record (biên bản giao nhận tài liệu) -----------------------------------------------------


@dataclass(frozen=True)
class TransferTotals:
    files: int
    documents: int
    digital_files: int
    pages: int
    start: date | None
    end: date | None


def transfer_totals(transfer: Transfer) -> TransferTotals:
    """What the hand-over record counts (PL V): files, their documents and digital files (a document filed
    in two of the transferred files counts once), pages and the period the records cover."""
    files = _transfer_files(transfer)
    digital = (DocumentFile.objects.filter(document__work_file_items__work_file__in=[f.pk for f in files])
               .values("pk").distinct().count()) if files else 0
    documents = (Document.objects.filter(work_file_items__work_file__in=[f.pk for f in files])
                 .aggregate(n=Count("pk", distinct=True))["n"]) if files else 0
    starts = [f.start_date for f in files if f.start_date]
    ends = [f.end_date or f.start_date for f in files if f.end_date or f.start_date]
    return TransferTotals(files=len(files), documents=documents, digital_files=digital,
                          pages=sum(f.page_total for f in files), start=min(starts, default=None),
                          end=max(ends, default=None))


def _long_date(place: str, day: date) -> str:
    text = _("%(place)s, %(day)s/%(month)s/%(year)s") % {"place": place, "day": f"{day.day:02d}",
                                                         "month": f"{day.month:02d}", "year": day.year}
    return text.lstrip(", ")


def handover_record_pdf(transfer: Transfer) -> bytes:
    """"Biên bản giao nhận tài liệu" (Art. 30.3, PL V): who delivered and who received, on which day, the
    totals (files, digital files, pages, the period covered) and both parties' signature blocks; A4 portrait."""
    agency = transfer.agency
    day = _transfer_day(transfer)
    totals = transfer_totals(transfer)
    title = _("Record of the hand-over of documents")
    body = _style("body", 10.5, align=TA_LEFT, space=1.5 * mm)
    bullet = ParagraphStyle("bullet", parent=body, leftIndent=8 * mm)
    dots = "…………………………"
    unit_name = transfer.unit.name if transfer.unit_id else agency.name

    national = [_para(NATIONAL_NAME, _style("national", 10, bold=True)), _para(MOTTO, _style("motto", 10, bold=True)),
                _para("———————", _style("rule2", 8))]
    top = Table([[_agency_block(agency, 80), national]], colWidths=[80 * mm, 100 * mm],
                style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story: list = [top, Spacer(1, 2 * mm),
                   _para(_long_date(agency.place_name, day), ParagraphStyle("date", parent=body, alignment=TA_RIGHT,
                                                                            fontName=_FONT)),
                   Spacer(1, 4 * mm), _para(title.upper(), _style("title", 13, bold=True, space=5 * mm))]

    def line(text: str, style: ParagraphStyle = body) -> None:
        story.append(_para(text, style))

    def labelled(label: str, value: str, style: ParagraphStyle = body) -> None:
        story.append(Paragraph(f"<b>{escape(_nfc(label))}:</b> {escape(_nfc(value) or dots)}", style))

    line(_("Pursuant to Decree 30/2020/ND-CP of 5 March 2020 on clerical work;"))
    line(_("Today, %(date)s, at %(agency)s, we the undersigned:") % {"date": format_date(day), "agency": agency.name})
    labelled(_("Delivering party"), unit_name)
    labelled(_("Represented by"), _person(transfer.submitted_by), bullet)
    labelled(_("Receiving party"), _("The archive of %(agency)s") % {"agency": agency.name})
    labelled(_("Represented by"), _person(transfer.received_by), bullet)
    line(_("agreed to record the hand-over of documents as follows:"))
    labelled("1. " + _("Records handed over"), _("Records of %(unit)s") % {"unit": unit_name})
    labelled("2. " + _("Time span of the records"), period_text(totals.start, totals.end))
    story.append(Paragraph(f"<b>3. {escape(_('Quantity'))}:</b>", body))
    labelled("- " + _("Total number of files"), str(totals.files), bullet)
    labelled("- " + _("Total number of documents"), str(totals.documents), bullet)
    labelled("- " + _("Total number of digital files"), str(totals.digital_files), bullet)
    labelled("- " + _("Total number of pages"), str(totals.pages), bullet)
    if transfer.paper_boxes is not None or transfer.shelf_metres is not None:
        labelled("- " + _("Paper originals: boxes"), str(transfer.paper_boxes or 0), bullet)
        labelled("- " + _("Paper originals: metres of shelf"),
                 f"{transfer.shelf_metres or 0:.2f}".replace(".", ","), bullet)
    line("4. " + _("The list of files transferred to the archive is attached."))
    if transfer.note.strip():
        labelled(_("Note"), transfer.note.strip())
    line(_("This record is made in two copies: the delivering party keeps one, the receiving party keeps one."))
    story += [Spacer(1, 6 * mm), KeepTogether(_signature_blocks([
        (_("Delivering party's representative"), transfer.submitted_by.display_name),
        (_("Receiving party's representative"), transfer.received_by.display_name if transfer.received_by else ""),
    ]))]
    return _build_pdf(story, title=title, agency=agency)


# --- 5. lists of archive records -------------------------------------------------------------------------------


def archive_list_columns() -> list[Column]:
    return [
        Column(_("No."), 10),
        Column(_("File code"), 38),
        Column(_("Title"), 70, prose=True),
        Column(_("Year"), 13),
        Column(_("Time span of the records"), 40),
        Column(_("Retention period"), 22),
        Column(_("Unit"), 42, prose=True),
        Column(_("Number of documents"), 16),
        Column(_("Number of pages"), 16),
    ]


def archive_list_rows(work_files: Iterable[WorkFile]) -> list[list]:
    if hasattr(work_files, "select_related"):
        work_files = work_files.select_related("agency", "unit")
    return [[position, f.file_code, f.title, f.year, period_text(f.start_date, f.end_date), f.retention_text,
             f.unit.name if f.unit_id else "", f.doc_total, f.page_total]
            for position, f in enumerate(work_files, start=1)]


def _archive_summary(rows: Sequence[Sequence]) -> str:
    return _totals_line(files=len(rows), documents=sum(r[7] for r in rows), pages=sum(r[8] for r in rows))


def _list_agency(work_files: Sequence[WorkFile], agency: Agency | None) -> Agency | None:
    if agency is not None or not work_files:
        return agency
    first = work_files[0].agency
    return first if all(f.agency_id == first.pk for f in work_files) else None


def archive_list_pdf(work_files: Iterable[WorkFile], title: str, agency: Agency | None = None) -> bytes:
    """A printed list of archive records (a search result, the files due for transfer or destruction…):
    A4 landscape. The agency heads it when given, or when all the files belong to one agency."""
    files = list(work_files.select_related("agency", "unit") if hasattr(work_files, "select_related")
                 else work_files)
    agency = _list_agency(files, agency)
    rows = archive_list_rows(files)
    story = _heading_flowables(agency, title, [_("Printed on %(date)s") % {
        "date": format_date(timezone.localdate())}])
    story += [_table(archive_list_columns(), rows, empty_text=_("No files to list.")), Spacer(1, 4 * mm),
              _para(_archive_summary(rows), _style("summary", 10, align=TA_LEFT))]
    return _build_pdf(story, title=title, agency=agency, wide=True)


def archive_list_xlsx(work_files: Iterable[WorkFile], title: str, agency: Agency | None = None) -> bytes:
    """The same list as one worksheet, numbers as numbers."""
    files = list(work_files.select_related("agency", "unit") if hasattr(work_files, "select_related")
                 else work_files)
    agency = _list_agency(files, agency)
    rows = archive_list_rows(files)
    return _build_xlsx(_("Archive records"), agency, title,
                       [_("Printed on %(date)s") % {"date": format_date(timezone.localdate())}],
                       archive_list_columns(), rows, closing_lines=[_archive_summary(rows)])
