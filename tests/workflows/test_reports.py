"""The tracking register (Sổ theo dõi giải quyết văn bản đến) and the handling report: the seven columns,
the on-time / late / overdue / in-progress classification, the period, PDF/XLSX read back, the audit of
each printout, and the refusals (403 without the permission, 404 for another agency's unit, nothing of
another agency or of a document the reader cannot see)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts import roles
from audit.models import AuditEvent
from documents.models import Document
from tests.factories import AgencyFactory, UnitFactory, clerk, make_user
from workflows import reports, services
from workflows.models import Assignment, AssignmentState

from .helpers import directed_case, in_days, office, outgoing

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf_text(content: bytes) -> str:
    """The PDF's text with wrapped lines joined (cells wrap inside their column)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def lead_of(case) -> Assignment:
    return case.assignments.get(role="lead")


def handled(o, number: str, days: int = 5) -> Assignment:
    """A case directed to the unit and assigned to the handler (deadline in `days`)."""
    case = directed_case(o, number=number)
    assignment = lead_of(case)
    return services.assign_within_unit(o.unit_leader, assignment, o.handler, deadline=in_days(min(days, 5)))


def mix(o):
    """One target of each class, as of today: on time, late, overdue, in progress (assigned), in progress
    (waiting in the unit)."""
    today = timezone.localdate()
    on_time = handled(o, "1")
    services.complete_assignment(o.handler, on_time, outcome="Đã báo cáo")
    late = handled(o, "2")
    services.complete_assignment(o.handler, late, outcome="Đã báo cáo muộn")
    Assignment.objects.filter(pk=late.pk).update(due_date=today - timedelta(days=3))
    overdue = handled(o, "3")
    Assignment.objects.filter(pk=overdue.pk).update(due_date=today - timedelta(days=1))
    in_progress = handled(o, "4")
    waiting = lead_of(directed_case(o, number="5"))
    return on_time, late, overdue, in_progress, waiting


def test_classify_on_time_late_overdue_in_progress():
    today = date(2026, 3, 10)
    done = timezone.make_aware(timezone.datetime(2026, 3, 10, 9, 0))
    assert reports.classify(AssignmentState.COMPLETED, date(2026, 3, 10), done, today) == reports.ON_TIME
    assert reports.classify(AssignmentState.COMPLETED, date(2026, 3, 9), done, today) == reports.LATE
    assert reports.classify(AssignmentState.CLOSED, date(2026, 3, 9), done, today) == reports.LATE
    assert reports.classify(AssignmentState.HANDLING, date(2026, 3, 9), None, today) == reports.OVERDUE
    assert reports.classify(AssignmentState.WAITING, date(2026, 3, 10), None, today) == reports.IN_PROGRESS
    assert reports.classify(AssignmentState.HANDLING, None, None, today) == reports.IN_PROGRESS


def test_handling_report_per_unit_and_person_with_totals():
    o = office()
    mix(o)
    # A personal target in the other unit, co-ordinating; and one for information (not counted).
    case = directed_case(o, number="6", targets=[
        services.TargetInput(role="lead", user_id=o.other_unit_staff.pk, deadline=in_days(3)),
        services.TargetInput(role="inform", unit_id=o.unit.pk),
    ])
    assert case.assignments.count() == 2
    today = timezone.localdate()
    report = reports.handling_report(o.clerk, date(today.year, 1, 1), today)
    assert report.total.counts == {"on_time": 1, "late": 1, "overdue": 1, "in_progress": 3, "not_acted": 0}
    assert report.total.total == 6
    by_unit = {u.label: u for u in report.units}
    unit = by_unit[o.unit.name]
    assert unit.counts == {"on_time": 1, "late": 1, "overdue": 1, "in_progress": 2, "not_acted": 0}
    people = {p.label: p.counts for p in unit.people}
    handler = o.handler.name_and_position
    assert people[handler] == {"on_time": 1, "late": 1, "overdue": 1, "in_progress": 1, "not_acted": 0}
    assert people[reports.NOT_ASSIGNED] == {"on_time": 0, "late": 0, "overdue": 0, "in_progress": 1, "not_acted": 0}
    assert by_unit[o.other_unit.name].counts["in_progress"] == 1
    lines = reports.handling_rows(report)
    assert lines[-1] == ("total", ["Tổng cộng", 6, 1, 1, 1, 3, 0])


def test_period_filter_uses_the_arrival_date():
    o = office()
    on_time, late, *_rest = mix(o)
    Document.objects.filter(pk=late.case.document_id).update(arrival_date=date(2020, 5, 4))
    today = timezone.localdate()
    report = reports.handling_report(o.clerk, today - timedelta(days=1), today)
    assert report.total.counts["late"] == 0 and report.total.total == 4
    old = reports.handling_report(o.clerk, date(2020, 1, 1), date(2020, 12, 31))
    assert old.total.counts == {"on_time": 0, "late": 1, "overdue": 0, "in_progress": 0, "not_acted": 0}
    cases = list(reports.tracked_cases(o.clerk, date(2020, 1, 1), date(2020, 12, 31)))
    assert [c.pk for c in cases] == [late.case_id]


def test_tracking_register_seven_columns():
    o = office()
    on_time, late, overdue, in_progress, waiting = mix(o)
    reply = outgoing(o)
    services.complete_assignment(o.handler, in_progress, outcome="Xong", reply_document_id=reply.pk)
    today = timezone.localdate()
    cases = list(reports.tracked_cases(o.clerk, today, today))
    rows = {c.pk: row for c, row in zip(cases, reports.tracking_table(cases), strict=True)}
    assert len(reports.TRACKING_COLUMNS) == 7 and all(len(r) == 7 for r in rows.values())
    row = rows[in_progress.case_id]
    document = in_progress.case.document
    assert row[0] == f"{document.register_number:02d}"
    assert document.number_notation in row[1] and "Bộ Nội vụ" in row[1]
    assert f"Chủ trì: {o.unit.name}" in row[2]
    assert row[3] == in_days(5)
    assert row[4].startswith("Đã hoàn thành")
    assert row[5] == reply.number_notation
    assert "quá hạn" in rows[overdue.case_id][4] and "hoàn thành quá hạn" in rows[late.case_id][4]
    assert rows[waiting.case_id][4].startswith("Đã có ý kiến chỉ đạo")
    # The unit filter keeps the cases directed to the unit.
    assert len(reports.tracked_cases(o.clerk, today, today, o.other_unit.pk)) == 0


def test_pdf_and_xlsx_read_back_and_are_audited():
    o = office()
    on_time, *_rest = mix(o)
    client = browser(o.clerk)
    today = timezone.localdate().isoformat()
    query = f"?date_from={today}&date_to={today}"
    response = client.get(f"/work/reports/tracking.pdf{query}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response.content)
    assert "SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN" in text and "Thời hạn giải quyết" in text
    assert on_time.case.document.number_notation in text

    response = client.get(f"/work/reports/tracking.xlsx{query}")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    ws = load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(values) if r[0] == "Số đến")
    assert list(values[head][:7]) == [name for name, _w in reports.TRACKING_COLUMNS]
    assert len([r for r in values[head + 2:] if r[0]]) == 5

    response = client.get(f"/work/reports/handling.xlsx{query}")
    ws = load_workbook(io.BytesIO(response.content)).active
    total = [r for r in ws.iter_rows(values_only=True) if r[0] == "Tổng cộng"]
    assert total == [("Tổng cộng", 5, 1, 1, 1, 2, 0)]
    response = client.get(f"/work/reports/handling.pdf{query}")
    text = pdf_text(response.content)
    assert "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT VĂN BẢN ĐẾN" in text and o.unit.name in text

    events = list(AuditEvent.objects.filter(verb=reports.REPORT_PRINTED).order_by("id"))
    assert [(e.data["report"], e.data["format"]) for e in events] == [
        ("tracking", "pdf"), ("tracking", "xlsx"), ("handling", "xlsx"), ("handling", "pdf")]
    assert all(e.actor_id == o.clerk.pk and e.agency_id == o.agency.pk for e in events)
    assert events[0].data["rows"] == 5 and events[2].data["rows"] == 5 and events[0].data["from"] == today


def test_page_shows_the_tables_to_viewers_and_links_only_for_printers():
    o = office()
    mix(o)
    archivist = make_user(roles.ARCHIVIST, o.agency)
    page = browser(archivist).get("/work/reports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN" in html and "Tổng cộng" in html and o.unit.name in html
    assert "/work/reports/tracking.pdf" not in html
    assert "/work/reports/tracking.pdf" in browser(o.clerk).get("/work/reports/").content.decode()
    bad = browser(o.clerk).get("/work/reports/?date_from=2026-05-02&date_to=2026-05-01")
    assert bad.status_code == 400


def test_refusals_403_404_and_nothing_printed():
    o = office()
    mix(o)
    archivist = make_user(roles.ARCHIVIST, o.agency)
    for user in (o.handler, o.colleague, o.other_unit_staff):
        assert browser(user).get("/work/reports/").status_code == 403
        assert browser(user).get("/work/reports/tracking.pdf").status_code == 403
    assert browser(archivist).get("/work/reports/tracking.pdf").status_code == 403
    assert browser(archivist).get("/work/reports/handling.xlsx").status_code == 403
    foreign_unit = UnitFactory(agency=AgencyFactory())
    assert browser(o.clerk).get(f"/work/reports/?unit={foreign_unit.pk}").status_code == 404
    assert browser(o.clerk).get(f"/work/reports/tracking.xlsx?unit={foreign_unit.pk}").status_code == 404
    assert browser(o.clerk).get("/work/reports/other.pdf").status_code == 404
    assert Client().get("/work/reports/").status_code == 302
    assert not AuditEvent.objects.filter(verb=reports.REPORT_PRINTED).exists()


def test_other_agencies_and_unseen_documents_do_not_leak():
    o = office()
    mix(o)
    secret = directed_case(o, number="77", secret=True)
    other = office()
    mix(other)
    second_clerk = clerk(o.agency)
    today = timezone.localdate()
    seen = {c.pk for c in reports.tracked_cases(second_clerk, today, today)}
    assert secret.pk not in seen and len(seen) == 5
    assert not seen & {c.pk for c in reports.tracked_cases(other.clerk, today, today)}
    assert reports.handling_report(second_clerk, today, today).total.total == 5
    client = browser(second_clerk)
    response = client.get(f"/work/reports/tracking.xlsx?date_from={today}&date_to={today}")
    cells = " ".join(str(c) for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
                     for c in row if c)
    assert secret.document.number_notation not in cells
    assert other.agency.name.upper() not in cells and o.agency.name.upper() in cells
