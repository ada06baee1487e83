"""The statistical reports as files (XLSX with openpyxl, PDF with reportlab), built by the report task:

- the **statistics of clerical work** (documents in and out by type and channel, per register, the shares
  received electronically and signed digitally);
- the **handling report** by unit and person: workflows.reports' own, reused as is;
- the **comparison of agencies** a provincial office sends upward (provincial scope only).

The table builders, the legal headings and the fonts are workflows.reports' (documents.pdf register_fonts):
the headings are Vietnamese in every UI language, as the law writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.db.models import Model

from accounts.models import Agency
from documents.models import DocumentType, Register
from workflows import reports as handling_reports

from . import selectors
from .models import ReportKind

CLERICAL_TITLE = "BÁO CÁO THỐNG KÊ CÔNG TÁC VĂN THƯ"
AGENCIES_TITLE = "BÁO CÁO TỔNG HỢP TÌNH HÌNH XỬ LÝ VĂN BẢN CỦA CÁC CƠ QUAN"

# Column headings (legal Vietnamese) and widths in millimetres (A4 landscape text width 267 mm).
CLERICAL_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Loại văn bản / Sổ đăng ký", 74),
    ("Văn bản đến: tổng số", 21),
    ("Đến qua mạng (điện tử)", 21),
    ("Đến bằng bản giấy", 21),
    ("Văn bản đi: tổng số", 21),
    ("Đi điện tử (ký số, gửi qua mạng)", 25),
    ("Đi bằng bản giấy", 21),
    ("Đi cả giấy và điện tử", 21),
    ("Văn bản đi được ký số", 21),
    ("Văn bản nội bộ", 21),
)
CLERICAL_FIGURES = (selectors.IN, selectors.IN_ELECTRONIC, selectors.IN_PAPER, selectors.OUT,
                    selectors.OUT_ELECTRONIC, selectors.OUT_PAPER, selectors.OUT_BOTH, selectors.OUT_SIGNED,
                    selectors.INTERNAL)
AGENCY_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Cơ quan", 64),
    ("Văn bản đến", 20),
    ("Đến qua mạng", 20),
    ("Tỷ lệ đến qua mạng (%)", 23),
    ("Văn bản đi", 20),
    ("Đi được ký số", 20),
    ("Tỷ lệ ký số (%)", 20),
    ("Đi gửi qua mạng", 20),
    ("Tỷ lệ đi điện tử toàn trình (%)", 25),
    ("Văn bản nội bộ", 17),
    ("Văn bản đến quá hạn xử lý", 18),
)
BY_TYPE = "Theo loại văn bản"
BY_REGISTER = "Theo sổ đăng ký"
TOTAL = "Tổng cộng"
SHARE_IN = "Tỷ lệ văn bản đến nhận qua mạng (%)"
SHARE_SIGNED = "Tỷ lệ văn bản đi được ký số (%)"
SHARE_ELECTRONIC = "Tỷ lệ văn bản đi điện tử toàn trình (%)"

Progress = Callable[[int], None]


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "–"


def _named(model: type[Model], ids) -> dict:
    return dict(model.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", "name"))


def clerical_rows(user, scope: selectors.Scope, date_from: date, date_to: date) -> tuple[list[list], set[int]]:
    """The clerical statistics' lines (per type, per register, the totals and the shares) and which are bold.
    Three grouped queries."""
    by_type = selectors.document_counts(user, scope, date_from, date_to, group_by="document_type_id")
    by_register = selectors.document_counts(user, scope, date_from, date_to, group_by="register_id")
    totals = selectors.document_counts(user, scope, date_from, date_to)[0]
    type_names = _named(DocumentType, [r["document_type_id"] for r in by_type])
    registers = {r.pk: r for r in Register.objects.filter(pk__in=[r["register_id"] for r in by_register])
                 .select_related("agency")}
    rows: list[list] = [[BY_TYPE, *[""] * len(CLERICAL_FIGURES)]]
    bold = {0}
    for row in sorted(by_type, key=lambda r: type_names.get(r["document_type_id"], "")):
        rows.append([type_names.get(row["document_type_id"], ""), *(row[f] for f in CLERICAL_FIGURES)])
    bold.add(len(rows))
    rows.append([BY_REGISTER, *[""] * len(CLERICAL_FIGURES)])

    def register_label(pk: int) -> str:
        register = registers.get(pk)
        if register is None:
            return ""
        label = f"{register.name} ({register.year})"
        return f"{label} – {register.agency.abbreviation}" if scope.province else label

    for row in sorted(by_register, key=lambda r: register_label(r["register_id"])):
        rows.append([register_label(row["register_id"]), *(row[f] for f in CLERICAL_FIGURES)])
    bold.add(len(rows))
    rows.append([TOTAL, *(totals[f] for f in CLERICAL_FIGURES)])
    rows.append([SHARE_IN, _share(totals[selectors.IN_ELECTRONIC], totals[selectors.IN]), *[""] * 8])
    rows.append([SHARE_SIGNED, *[""] * 7, _share(totals[selectors.OUT_SIGNED], totals[selectors.OUT]), ""])
    rows.append([SHARE_ELECTRONIC, *[""] * 4, _share(totals[selectors.OUT_ELECTRONIC], totals[selectors.OUT]),
                 *[""] * 4])
    return rows, bold


def agency_rows(user, scope: selectors.Scope, date_from: date, date_to: date,
                as_of: date | None = None) -> tuple[list[list], set[int]]:
    """One line per agency and the total: in, received electronically, out, signed, sent, shares, overdue."""
    counts = selectors.document_counts(user, scope, date_from, date_to, group_by="agency_id")
    handling = {row["group"]: row for row in selectors.handling_counts(user, scope, date_from, date_to, as_of)}
    names = _named(Agency, [r["agency_id"] for r in counts] + list(handling))
    ids = sorted({r["agency_id"] for r in counts} | {k for k in handling if k is not None},
                 key=lambda pk: names.get(pk, ""))
    by_id = {r["agency_id"]: r for r in counts}
    empty = dict.fromkeys(selectors.DOCUMENT_FIGURES, 0)
    rows, total = [], {**empty, "overdue": 0}
    for pk in ids:
        c = by_id.get(pk, empty)
        overdue = handling.get(pk, {}).get(handling_reports.OVERDUE, 0)
        rows.append(_agency_line(names.get(pk, ""), c, overdue))
        for key in selectors.DOCUMENT_FIGURES:
            total[key] += c[key]
        total["overdue"] += overdue
    rows.append(_agency_line(TOTAL, total, total["overdue"]))
    return rows, {len(rows) - 1}


def _agency_line(label: str, c: dict, overdue: int) -> list:
    return [label, c[selectors.IN], c[selectors.IN_ELECTRONIC], _share(c[selectors.IN_ELECTRONIC], c[selectors.IN]),
            c[selectors.OUT], c[selectors.OUT_SIGNED], _share(c[selectors.OUT_SIGNED], c[selectors.OUT]),
            c[selectors.OUT_SENT], _share(c[selectors.OUT_ELECTRONIC], c[selectors.OUT]), c[selectors.INTERNAL],
            overdue]


def build(kind: str, fmt: str, user, scope: selectors.Scope, date_from: date, date_to: date,
          progress: Progress = lambda _p: None) -> bytes:
    """One report file; `progress` is told the share done after the figures (50) and after drawing (90)."""
    agency = user.agency
    if kind == ReportKind.HANDLING:
        access = handling_reports.report_access(user)
        report = handling_reports.handling_report(user, date_from, date_to,
                                                  unit_id=access.unit_id if access else None)
        progress(50)
        content = handling_reports.build_handling(fmt, agency, report)
    else:
        if kind == ReportKind.CLERICAL:
            rows, bold = clerical_rows(user, scope, date_from, date_to)
            title, spec = CLERICAL_TITLE, CLERICAL_COLUMNS
        else:
            rows, bold = agency_rows(user, scope, date_from, date_to)
            title, spec = AGENCIES_TITLE, AGENCY_COLUMNS
        progress(50)
        builder = handling_reports._pdf if fmt == "pdf" else handling_reports._xlsx  # noqa: SLF001 - the shared table layout
        content = builder(agency, title, date_from, date_to, spec, rows, {0}, bold)
    progress(90)
    return content


FILE_STEMS = {
    ReportKind.CLERICAL: "thong-ke-cong-tac-van-thu",
    ReportKind.HANDLING: "bao-cao-giai-quyet-van-ban-den",
    ReportKind.AGENCIES: "tong-hop-cac-co-quan",
}
