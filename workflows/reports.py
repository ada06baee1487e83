"""Printouts of incoming-document handling (Decree 30 PL IV and Art. 24).

- The **Sổ theo dõi giải quyết văn bản đến**: seven legal columns, one row per incoming document in handling.
- The **report of incoming document handling**: per unit and per person, how many handled targets were
  completed on time, completed late, are open past their deadline (overdue) or still in progress.

Both start from documents.selectors.visible_documents, so a printout never shows a document its reader
cannot open. Headings are the legal Vietnamese ones in every UI language (like documents.printouts).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from accounts import roles
from documents.models import Direction
from documents.pdf import register_fonts
from documents.printouts import (
    _SECRECY_NOTES,
    _URGENCY_NOTES,
    _LineWrapper,
    format_date,
    format_number,
    numbered_canvas,
    set_landscape_print,
)
from documents.selectors import visible_documents

from .models import Assignment, AssignmentState, CaseState, IncomingCase, TargetRole

TRACKING_TITLE = "SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN"
HANDLING_TITLE = "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT VĂN BẢN ĐẾN"

# PL IV headings of the tracking register; widths in millimetres (A4 landscape text width 267 mm).
TRACKING_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Số đến", 15),
    ("Tên loại, số, ký hiệu, ngày, cơ quan ban hành", 70),
    ("Đơn vị/người nhận", 45),
    ("Thời hạn giải quyết", 22),
    ("Tiến độ giải quyết", 50),
    ("Số, ký hiệu văn bản trả lời", 30),
    ("Ghi chú", 35),
)
_TRACKING_PROSE = {1, 2, 4, 5, 6}

# Outcome classes of one handled target (lead or co-ordinating assignment).
ON_TIME = "on_time"
LATE = "late"
OVERDUE = "overdue"
IN_PROGRESS = "in_progress"
# A co-ordinating unit or person that recorded nothing before the lead completed the case: not "on time".
NOT_ACTED = "not_acted"
CLASSES = (ON_TIME, LATE, OVERDUE, IN_PROGRESS, NOT_ACTED)
CLASS_HEADINGS = {
    ON_TIME: "Hoàn thành đúng hạn",
    LATE: "Hoàn thành quá hạn",
    OVERDUE: "Chưa hoàn thành, quá hạn",
    IN_PROGRESS: "Đang giải quyết, trong hạn",
    NOT_ACTED: "Phối hợp nhưng không thực hiện",
}
HANDLING_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Đơn vị / người giải quyết", 77),
    ("Tổng số", 25),
    *((CLASS_HEADINGS[c], 33) for c in CLASSES),
)

# Vietnamese by law (the model labels are translated to the UI language).
_CASE_PROGRESS = {
    CaseState.REGISTERED: "Đã tiếp nhận, chờ trình",
    CaseState.PRESENTED: "Đã trình lãnh đạo, chờ cho ý kiến",
    CaseState.DIRECTED: "Đã có ý kiến chỉ đạo, chờ phân công",
    CaseState.IN_PROGRESS: "Đang giải quyết",
    CaseState.COMPLETED: "Đã hoàn thành",
    CaseState.RETURNED: "Đã trả lại",
}
NOT_ASSIGNED = "Chưa phân công cá nhân"


# --- who may open them ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportAccess:
    """What a person may open: the reports of the whole agency (`unit_id` None) or of one unit, and whether
    they may take them away as PDF/XLSX (audited)."""

    unit_id: int | None
    can_print: bool


def report_access(user) -> ReportAccess | None:
    """The one rule for the tracking register and the handling report (the menu, the page, the printouts and
    the lists behind the figures ask it): those who keep or read the registers (clerks, archivists:
    `documents.view_register`) see the agency's, printing with `documents.print_register`; an agency leader
    sees and prints the agency's; a unit leader sees and prints their unit's; nobody else (None)."""
    if not user.is_authenticated or not user.is_active or not user.agency_id:
        return None
    cached = getattr(user, "_report_access", False)
    if cached is not False:
        return cached
    access = None
    if user.has_perm("documents.view_register"):
        access = ReportAccess(unit_id=None, can_print=user.has_perm("documents.print_register"))
    else:
        role_names = set(user.groups.values_list("name", flat=True))
        if roles.AGENCY_LEADER in role_names:
            access = ReportAccess(unit_id=None, can_print=True)
        elif roles.UNIT_LEADER in role_names and user.unit_id:
            access = ReportAccess(unit_id=user.unit_id, can_print=True)
    user._report_access = access
    return access


def unit_work(unit_id: int, prefix: str = "") -> Q:
    """Work of a unit: directed to the unit, or to one of its people personally (as the oversight counts it)."""
    return Q(**{f"{prefix}unit_id": unit_id}) | Q(**{f"{prefix}unit__isnull": True, f"{prefix}user__unit_id": unit_id})


# --- selection -----------------------------------------------------------------------------------


def tracked_cases(user, date_from: date, date_to: date, unit_id: int | None = None) -> QuerySet[IncomingCase]:
    """Cases of incoming documents of the viewer's agency that arrived in the period and that the viewer
    may see, in arrival-number order; `unit_id` keeps the cases directed to that unit (or its people)."""
    cases = (
        IncomingCase.objects.filter(
            agency_id=user.agency_id,
            document__in=visible_documents(user).values("id"),
            document__direction=Direction.INCOMING,
            document__arrival_date__gte=date_from,
            document__arrival_date__lte=date_to,
        )
        .select_related("document", "document__document_type")
        .prefetch_related(Prefetch(
            "assignments",
            queryset=Assignment.objects.select_related("unit", "user", "assignee", "reply_document").order_by("id"),
        ))
        .order_by("document__arrival_date", "document__register_number", "id")
    )
    if unit_id is not None:
        cases = cases.filter(id__in=Assignment.objects.filter(unit_work(unit_id)).values("case_id"))
    return cases


def classify(state: str, due: date | None, completed_at: datetime | None, as_of: date) -> str:
    """On time / late (completed after the deadline) / overdue (open past the deadline) / in progress /
    not acted (a co-ordinator closed with the case having recorded nothing)."""
    if state == AssignmentState.NOT_ACTED:
        return NOT_ACTED
    if state in (AssignmentState.COMPLETED, AssignmentState.CLOSED):
        done = timezone.localdate(completed_at) if completed_at else as_of
        return LATE if due is not None and done > due else ON_TIME
    return OVERDUE if due is not None and due < as_of else IN_PROGRESS


# --- the tracking register -----------------------------------------------------------------------


def _person(user) -> str:
    """A person as the printouts name them: full name and position, never the username."""
    return user.name_and_position if user is not None else ""


def _target_name(assignment: Assignment) -> str:
    return assignment.unit.name if assignment.unit_id else _person(assignment.user)


def _lead(case: IncomingCase) -> Assignment | None:
    return next((a for a in case.assignments.all() if a.role == TargetRole.LEAD), None)


def tracking_row(case: IncomingCase, as_of: date) -> list:
    """One line of the seven columns; dates stay `date` so XLSX keeps them as dates."""
    document = case.document
    assignments = list(case.assignments.all())
    lead = _lead(case)
    identity = ", ".join(p for p in (
        document.document_type.name, f"số {document.number_notation}" if document.number_notation else "",
        f"ngày {format_date(document.issued_date)}" if document.issued_date else "", document.organ_name,
    ) if p)
    receivers = []
    for a in assignments:
        label = {TargetRole.LEAD: "Chủ trì", TargetRole.COORDINATE: "Phối hợp", TargetRole.INFORM: "Để biết"}[a.role]
        line = f"{label}: {_target_name(a)}"
        if a.unit_id and a.assignee_id:
            line += f" ({_person(a.assignee)})"
        receivers.append(line)
    deadline = lead.due_date if lead is not None else None
    progress = _CASE_PROGRESS.get(case.state, case.state)
    if case.state == CaseState.COMPLETED and case.completed_at:
        progress += f" ngày {format_date(timezone.localdate(case.completed_at))}"
    elif lead is not None and lead.progress_note:
        progress += f": {lead.progress_note}"
    if lead is not None and case.state != CaseState.RETURNED:
        cls = classify(lead.state, lead.due_date, lead.completed_at or case.completed_at, as_of)
        if cls in (LATE, OVERDUE):
            progress += f" ({CLASS_HEADINGS[cls].lower()})"
    reply = lead.reply_document.number_notation if lead is not None and lead.reply_document_id else ""
    notes = [_URGENCY_NOTES.get(document.urgency, ""), _SECRECY_NOTES.get(document.confidentiality, "")]
    if case.state == CaseState.RETURNED and case.return_reason:
        notes.append(f"Trả lại: {case.return_reason}")
    if case.instruction:
        notes.append(f"Ý kiến chỉ đạo: {case.instruction}")
    return [format_number(document.register_number), identity, "\n".join(receivers), deadline, progress, reply,
            "; ".join(n for n in notes if n)]


def tracking_table(cases, as_of: date | None = None) -> list[list]:
    as_of = as_of or timezone.localdate()
    return [tracking_row(case, as_of) for case in cases]


# --- the handling report -------------------------------------------------------------------------


@dataclass
class Tally:
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    # What the line counts, as the list behind its figures filters it: {"unit": "12" or "none", "person": ...}.
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, cls: str) -> None:
        self.counts[cls] += 1

    def cells(self) -> list:
        return [self.label, self.total, *(self.counts[c] for c in CLASSES)]


@dataclass
class UnitTally(Tally):
    people: list[Tally] = field(default_factory=list)


@dataclass
class HandlingReport:
    date_from: date
    date_to: date
    as_of: date
    units: list[UnitTally]
    total: Tally


def handled_targets(user, date_from: date, date_to: date, unit_id: int | None = None) -> QuerySet[Assignment]:
    """The rows the handling report counts (and the list behind each of its figures shows): lead and
    co-ordinating targets of the visible cases of the agency that arrived in the period; `unit_id` keeps a
    unit's work."""
    rows = (
        Assignment.objects.filter(
            case__agency_id=user.agency_id,
            case__document__in=visible_documents(user).values("id"),
            case__document__arrival_date__gte=date_from,
            case__document__arrival_date__lte=date_to,
            role__in=(TargetRole.LEAD, TargetRole.COORDINATE),
        )
        .exclude(state=AssignmentState.FOR_INFORMATION)
        .select_related("unit", "user", "user__unit", "assignee", "case__document", "case__document__document_type")
        .order_by("id")
    )
    return rows.filter(unit_work(unit_id)) if unit_id is not None else rows


def _keys(a: Assignment) -> tuple[int | None, int | None]:
    """(unit id, handler id) a target counts under: a person directed personally counts under their unit."""
    unit_id = a.unit_id if a.unit_id else a.user.unit_id
    handler_id = a.assignee_id or a.user_id
    return unit_id, handler_id


def _key_text(pk: int | None) -> str:
    return str(pk) if pk is not None else "none"


def handled_targets_in(rows, *, unit: str | None = None, person: str | None = None, cls: str | None = None,
                       as_of: date | None = None) -> list[Assignment]:
    """The targets behind one figure of the handling report: those of `rows` (handled_targets) counted under
    the unit / person ("none" for the report's "no unit" or "not assigned" line) and in the class."""
    as_of = as_of or timezone.localdate()
    picked = []
    for a in rows:
        unit_id, handler_id = _keys(a)
        if unit is not None and _key_text(unit_id) != unit:
            continue
        if person is not None and _key_text(handler_id) != person:
            continue
        if cls is not None and classify(a.state, a.due_date, a.completed_at, as_of) != cls:
            continue
        picked.append(a)
    return picked


def handling_report(user, date_from: date, date_to: date, as_of: date | None = None,
                    unit_id: int | None = None) -> HandlingReport:
    """Lead and co-ordinating targets of the visible cases that arrived in the period, classified as of
    `as_of` (default today), per unit and per handler within it. A person directed personally counts
    under their own unit. One query, whatever the number of rows; `unit_id` keeps a unit's work."""
    as_of = as_of or timezone.localdate()
    rows = handled_targets(user, date_from, date_to, unit_id)
    units: dict[object, UnitTally] = {}
    people: dict[tuple, Tally] = {}
    total = Tally("Tổng cộng")
    for a in rows:
        unit = a.unit if a.unit_id else (a.user.unit if a.user.unit_id else None)
        key = unit.pk if unit is not None else None
        if key not in units:
            units[key] = UnitTally(unit.name if unit is not None else "Cá nhân ngoài đơn vị",
                                   filters={"unit": _key_text(key)})
        handler = a.assignee or a.user
        person_key = (key, handler.pk if handler is not None else None)
        if person_key not in people:
            people[person_key] = Tally(_person(handler) if handler is not None else NOT_ASSIGNED,
                                       filters={"unit": _key_text(key), "person": _key_text(person_key[1])})
            units[key].people.append(people[person_key])
        cls = classify(a.state, a.due_date, a.completed_at, as_of)
        units[key].add(cls)
        people[person_key].add(cls)
        total.add(cls)
    ordered = sorted(units.values(), key=lambda u: u.label)
    for u in ordered:
        u.people.sort(key=lambda p: (p.label == NOT_ASSIGNED, p.label))
    return HandlingReport(date_from=date_from, date_to=date_to, as_of=as_of, units=ordered, total=total)


def handling_rows(report: HandlingReport) -> list[tuple[str, list]]:
    """(kind, cells) lines in print order: "unit", then its "person" lines, then the "total"."""
    lines: list[tuple[str, list]] = []
    for unit in report.units:
        lines.append(("unit", unit.cells()))
        lines.extend(("person", ["    " + p.label, *p.cells()[1:]]) for p in unit.people)
    lines.append(("total", report.total.cells()))
    return lines


# --- output --------------------------------------------------------------------------------------

_FONT = "DejaVuSans"
_FONT_BOLD = "DejaVuSans-Bold"
_SIZE = 8


def as_text(value) -> str:
    """A cell as plain text: dates as DD/MM/YYYY (web preview and PDF)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def _heading_lines(agency, title: str, date_from: date, date_to: date) -> list[str]:
    lines = [agency.parent.name.upper()] if agency.parent_id else []
    return [*lines, agency.name.upper(), "", title,
            f"Từ ngày {format_date(date_from)} đến ngày {format_date(date_to)}"]


def _pdf(agency, title: str, date_from: date, date_to: date, spec, rows: list[list], prose: set[int],
         bold_rows: set[int] = frozenset()) -> bytes:
    register_fonts()
    widths = [w * mm for _n, w in spec]
    wrap = _LineWrapper(_FONT, _SIZE)
    head = ParagraphStyle("head", fontName=_FONT_BOLD, fontSize=_SIZE, leading=_SIZE * 1.2, alignment=1)
    data = [[Paragraph(name, head) for name, _w in spec], [f"({i})" for i in range(1, len(spec) + 1)]]
    for row in rows:
        data.append([wrap(as_text(v), widths[i] - 5) for i, v in enumerate(row)])
    if not rows:
        data.append(["Không có văn bản nào trong khoảng thời gian này."] + [""] * (len(spec) - 1))
    style = [
        ("FONT", (0, 0), (-1, -1), _FONT, _SIZE, _SIZE * 1.2),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#eeeeee")),
    ]
    style += [("ALIGN", (c, 2), (c, -1), "LEFT") for c in prose]
    style += [("FONT", (0, r + 2), (-1, r + 2), _FONT_BOLD, _SIZE, _SIZE * 1.2) for r in bold_rows]
    if not rows:
        style.append(("SPAN", (0, 2), (-1, 2)))
    title_style = ParagraphStyle("t", fontName=_FONT_BOLD, fontSize=13, leading=17, alignment=1)
    line_style = ParagraphStyle("l", fontName=_FONT, fontSize=10, leading=13, alignment=1)
    heading = _heading_lines(agency, title, date_from, date_to)
    story = [Paragraph(line, title_style if line == title else line_style) for line in heading if line]
    story += [Spacer(1, 5 * mm), LongTable(data, colWidths=widths, repeatRows=2, style=TableStyle(style),
                                           splitInRow=1)]
    buffer = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(buffer, pagesize=page, leftMargin=20 * mm, rightMargin=10 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=title, author=agency.name, creator="E-office")
    canvas = numbered_canvas(f"{title} – {agency.name}", page)
    doc.build(story, canvasmaker=canvas)
    return buffer.getvalue()


def _xlsx(agency, title: str, date_from: date, date_to: date, spec, rows: list[list], prose: set[int],
          bold_rows: set[int] = frozenset()) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ncols = len(spec)
    normal = Font(name="Times New Roman", size=11)
    bold = Font(name="Times New Roman", size=11, bold=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="top", wrap_text=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    row = 1
    for line in _heading_lines(agency, title, date_from, date_to):
        if line:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
            cell = ws.cell(row=row, column=1, value=line)
            cell.font = Font(name="Times New Roman", size=14, bold=True) if line == title else bold
            cell.alignment = centre
        row += 1
    row += 1
    head_row = row
    for column, (name, width) in enumerate(spec, start=1):
        for r, value in ((head_row, name), (head_row + 1, f"({column})")):
            cell = ws.cell(row=r, column=column, value=value)
            cell.font, cell.alignment, cell.border = bold if r == head_row else normal, centre, box
            cell.fill = PatternFill("solid", fgColor="EEEEEE")
        ws.column_dimensions[get_column_letter(column)].width = round(width / 1.9 + 1, 1)
    for i, values in enumerate(rows):
        r = head_row + 2 + i
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=column, value=value)
            cell.font = bold if i in bold_rows else normal
            cell.alignment = left if column - 1 in prose else centre
            cell.border = box
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
    set_landscape_print(ws, head_row)
    ws.oddFooter.center.text = "Trang &P/&N"
    wb.properties.title = title
    wb.properties.creator = "E-office"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def build_tracking(fmt: str, agency, cases, date_from: date, date_to: date, as_of: date | None = None) -> bytes:
    """The seven-column tracking register as "pdf" or "xlsx"."""
    rows = tracking_table(cases, as_of)
    build = _pdf if fmt == "pdf" else _xlsx
    return build(agency, TRACKING_TITLE, date_from, date_to, TRACKING_COLUMNS, rows, _TRACKING_PROSE)


def build_handling(fmt: str, agency, report: HandlingReport) -> bytes:
    """The handling report as "pdf" or "xlsx": unit lines in bold, their people below, the total last."""
    lines = handling_rows(report)
    bold = {i for i, (kind, _cells) in enumerate(lines) if kind != "person"}
    build = _pdf if fmt == "pdf" else _xlsx
    return build(agency, HANDLING_TITLE, report.date_from, report.date_to, HANDLING_COLUMNS,
                 [cells for _kind, cells in lines], {0}, bold)


# --- audit ---------------------------------------------------------------------------------------

REPORT_PRINTED = "workflows.report_printed"


def record_report_printed(actor, report: str, *, fmt: str, date_from: date, date_to: date, rows: int,
                          unit_id: int | None = None) -> None:
    """Printing a tracking register or handling report is logged, like the registers themselves: it lists
    documents by number and names the people handling them."""
    from django.core.exceptions import PermissionDenied
    from django.db import transaction

    from audit.services import record_event

    access = report_access(actor)
    if access is None or not access.can_print:
        raise PermissionDenied
    with transaction.atomic():
        record_event(
            actor=actor, verb=REPORT_PRINTED, target=actor.agency, agency_id=actor.agency_id,
            data={"report": report, "format": fmt, "from": date_from, "to": date_to, "rows": rows,
                  "unit_id": unit_id},
        )
