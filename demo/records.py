"""The records area of the demo: last year's file catalogue with its files in every state the archivist meets
— due for transfer (overdue, due within 30 days, held back with the head's approval), transferred and received
into the archive, past retention (one proposed for destruction) — and this year's catalogue with open files.
Replayed through records.services with the clock set to each step's day, like the rest of the demo."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from documents.models import Confidentiality, Direction, Document
from records import services
from records.models import CatalogueEntry, FileCatalogue, RetentionPeriod, WorkFile
from workflows.drafting import Draft, DraftState
from workflows.models import CaseState, IncomingCase

from .context import Context, clock

# Agencies with an archivist in the demo, and who plays each part there.
CAST = {
    "snv": {"archivist": "luutru.snv", "leader": "lanhdao.snv", "chief": "truongphong.snv",
            "staff": "chuyenvien.snv"},
    "ubnd": {"archivist": "luutru.ubnd", "leader": "lanhdao.ubnd", "chief": "truongphong.ubnd",
             "staff": "chuyenvien.ubnd"},
}

# (heading abbreviation, heading title)
HEADINGS = (
    ("TCCB", "Tổ chức, cán bộ"),
    ("VP", "Hành chính, văn phòng"),
    ("CCHC", "Cải cách hành chính"),
)

# (heading, title, retention code or years, months of last year whose documents go in, what happens to it)
FILES = (
    ("TCCB", "Hồ sơ tuyển dụng công chức năm {year}", "TC.02", (1, 2, 3), "held back"),
    ("TCCB", "Hồ sơ thi đua, khen thưởng năm {year}", "TC.03", (11, 12), "due soon"),
    ("VP", "Kế hoạch, báo cáo công tác năm {year}", "TH.02", (1, 6, 12), "archived"),
    ("VP", "Văn bản gửi để biết quý I năm {year}", 1, (1, 2), "past retention"),
    ("VP", "Giấy mời, giấy giới thiệu quý I năm {year}", 1, (3,), "proposed for destruction"),
    ("CCHC", "Hồ sơ rà soát thủ tục hành chính năm {year}", "TT.01", (4, 5), "overdue"),
)


def seed(ctx: Context) -> None:
    last_year = timezone.localtime(ctx.now).year - 1
    for key, cast in CAST.items():
        agency = ctx.agencies.get(key)
        people = {part: ctx.users.get(username) for part, username in cast.items()}
        if agency is None or None in people.values():
            continue
        if FileCatalogue.objects.filter(agency=agency).exists():
            continue
        _annual_cycle(ctx, agency, people, last_year)


def totals(ctx: Context) -> dict[str, int]:
    files = WorkFile.objects.filter(agency_id__in=ctx.agency_ids)
    return {"work files": files.count(), "archive records": files.filter(state="archived").count()}


def _at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _documents(agency, year: int, months: tuple[int, ...]) -> list[Document]:
    """Handled, non-secret documents of those months: nothing in handling or waiting for an answer."""
    open_cases = IncomingCase.objects.exclude(state__in=[CaseState.COMPLETED, CaseState.RETURNED]).values(
        "document_id")
    answering = Draft.objects.exclude(state=DraftState.ISSUED).exclude(in_response_to=None).values("in_response_to_id")
    chosen: list[Document] = []
    for month in months:
        chosen += list(
            Document.objects.filter(agency=agency, issued_date__year=year, issued_date__month=month,
                                    confidentiality=Confidentiality.NORMAL,
                                    direction__in=[Direction.OUTGOING, Direction.INCOMING])
            .exclude(pk__in=open_cases).exclude(pk__in=answering).order_by("issued_date", "pk")[:3]
        )
    return chosen


def _annual_cycle(ctx: Context, agency, people: dict[str, User], year: int) -> None:
    archivist, leader, chief = (people[p] for p in ("archivist", "leader", "chief"))
    units = {unit.abbreviation: unit for unit in ctx.units.values() if unit.agency_id == agency.pk}
    chief_unit = chief.unit
    with clock(_at(date(year, 1, 5))):
        catalogue = services.create_catalogue(archivist, agency.pk, year)
        headings = {abbr: services.add_heading(archivist, catalogue, title=title, abbreviation=abbr)
                    for abbr, title in HEADINGS}
        planned: list[tuple[CatalogueEntry, tuple, str]] = []
        for abbr, title, retention, months, fate in FILES:
            period = RetentionPeriod.objects.filter(code=retention).first() if isinstance(retention, str) else None
            entry = services.add_entry(archivist, catalogue, services.EntryInput(
                title=title.format(year=year), heading=headings[abbr], retention=period,
                retention_years=retention if isinstance(retention, int) else None,
                unit=chief_unit if abbr == "TCCB" else units.get(abbr) or archivist.unit,
                responsible=chief if abbr == "TCCB" else None,
            ))
            planned.append((entry, months, fate))
        services.publish_catalogue(archivist, catalogue, approved_by_name=leader.name_and_position)
    ctx.created["file catalogues"] += 1
    proposed: list[WorkFile] = []
    for entry, months, fate in planned:
        documents = _documents(agency, year, months)
        if not documents:
            continue
        with clock(_at(date(year, 1, 10))):
            work_file = services.open_from_catalogue(archivist, entry, start_date=date(year, 1, 10))
        for document in documents:
            with clock(_at(max(document.issued_date, date(year, 1, 10)), 15)):
                services.add_document(archivist, work_file, document)
        closing_day = min(max(d.issued_date for d in documents) + timedelta(days=7), date(year, 12, 31))
        with clock(_at(closing_day, 16)):
            work_file = services.close_work_file(archivist, work_file)
        ctx.created[f"work files ({fate})"] += 1
        if fate == "held back" and work_file.transfer_due:
            with clock(_at(work_file.transfer_due - timedelta(days=20))):
                hold = services.request_hold_back(chief, work_file, until=work_file.transfer_due + timedelta(days=365),
                                                  reason="Phòng còn sử dụng để giải quyết khiếu nại về kết quả tuyển dụng.")
            with clock(_at(work_file.transfer_due - timedelta(days=18))):
                services.decide_hold_back(leader, hold, approve=True, note="Đồng ý giữ lại 01 năm.")
        elif fate == "archived":
            with clock(_at(date(year + 1, 3, 2))):
                transfer = services.submit_transfer(archivist, [work_file], note="Nộp lưu hồ sơ năm " + str(year))
            with clock(_at(date(year + 1, 3, 4))):
                services.receive_transfer(archivist, transfer)
        elif fate == "proposed for destruction":
            proposed.append(work_file)
    if proposed:
        with clock(ctx.now - timedelta(days=2)):
            services.propose_disposition(archivist, proposed, note="Tài liệu hết giá trị, đề nghị hủy.")
    # This year: the catalogue copied from last year's, published, with two files open.
    this_year = year + 1
    with clock(_at(date(this_year, 1, 6))):
        current = services.create_catalogue(archivist, agency.pk, this_year, copy_from=catalogue)
        services.publish_catalogue(archivist, current, approved_by_name=leader.name_and_position)
    for entry in current.entries.order_by("order")[:2]:
        with clock(_at(date(this_year, 1, 12))):
            work_file = services.open_from_catalogue(archivist, entry, start_date=date(this_year, 1, 12))
        for document in _documents(agency, this_year, (1, 2))[:4]:
            with clock(_at(max(document.issued_date, date(this_year, 1, 12)), 15)):
                services.add_document(archivist, work_file, document)
    ctx.created["file catalogues"] += 1
