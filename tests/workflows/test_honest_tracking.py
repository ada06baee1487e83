"""Honest tracking (issue 13): leaders open the reports of their agency or unit; every figure of the
oversight table and of the handling report opens the list behind it; a co-ordinator that never acted is not
"completed on time"; handlers attach result files; unit heads accept results where the agency asks for it;
people are shown by name and position, never by username."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent
from desk.selectors import work_counts
from notifications.models import Notice
from tests.factories import AgencyFactory, UnitFactory, make_pdf, make_user
from workflows import events, reports, selectors, services
from workflows.models import Assignment, AssignmentResultFile, AssignmentState, HandlingSettings
from workflows.services import TargetInput

from .helpers import directed_case, fresh, in_days, office, verbs

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assigned(o, number: str, *, more=(), secret: bool = False) -> Assignment:
    """A case led by o.unit (assigned to o.handler), with optional co-ordinating targets."""
    case = directed_case(o, number=number, secret=secret, targets=[
        TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(5)), *more])
    lead = case.assignments.get(role="lead")
    return services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(4))


def figure_links(html: str) -> list[tuple[str, str]]:
    """(href, text) of the figure links of a page."""
    return [(unescape(href), re.sub(r"<[^>]+>", "", text).strip())
            for href, text in re.findall(r'<a class="figure" href="([^"]+)">(.*?)</a>', html, re.S)]


def listed(client: Client, href: str) -> list[int]:
    page = client.get(href)
    assert page.status_code == 200
    return [int(pk) for pk in re.findall(r'data-assignment="(\d+)"', page.content.decode())]


# --- who opens the reports ----------------------------------------------------------------------


def test_leaders_open_the_reports_of_their_agency_or_unit_staff_do_not():
    o = office()
    mine = assigned(o, "1")
    theirs = directed_case(o, number="2", targets=[TargetInput(role="lead", unit_id=o.other_unit.pk,
                                                               deadline=in_days(3))])
    for user in (o.leader, o.unit_leader, o.clerk):
        page = browser(user).get("/work/reports/")
        assert page.status_code == 200
        # The menu's Reports entry opens the dashboard (issue 14), which links to these reports.
        assert 'href="/dashboard/"' in page.content.decode()
        assert 'href="/work/reports/"' in browser(user).get("/dashboard/").content.decode()
    staff_page = browser(o.handler).get(reverse("documents:list")).content.decode()
    assert 'href="/work/reports/"' not in staff_page and 'href="/dashboard/"' not in staff_page
    assert browser(o.handler).get("/work/reports/").status_code == 403
    assert browser(o.handler).get("/work/reports/handling.pdf").status_code == 403
    assert browser(o.handler).get("/work/reports/targets/").status_code == 403

    today = timezone.localdate()
    # The unit leader's report and register hold the unit's work only; the agency leader's the agency's.
    unit_report = reports.handling_report(fresh(o.unit_leader), today, today, unit_id=o.unit.pk)
    assert [u.label for u in unit_report.units] == [o.unit.name] and unit_report.total.total == 1
    page = browser(o.unit_leader).get("/work/reports/").content.decode()
    assert mine.case.document.number_notation in page and theirs.document.number_notation not in page
    page = browser(o.leader).get("/work/reports/").content.decode()
    assert mine.case.document.number_notation in page and theirs.document.number_notation in page
    # Another unit (of the agency, for the unit leader; of another agency, for anyone): 404.
    assert browser(o.unit_leader).get(f"/work/reports/?unit={o.other_unit.pk}").status_code == 404
    foreign = UnitFactory(agency=AgencyFactory())
    for user in (o.leader, o.unit_leader):
        assert browser(user).get(f"/work/reports/?unit={foreign.pk}").status_code == 404
        assert browser(user).get(f"/work/reports/tracking.pdf?unit={foreign.pk}").status_code == 404
    # Leaders take them away as files, audited, the unit leader's limited to the unit.
    response = browser(o.unit_leader).get("/work/reports/tracking.xlsx")
    assert response.status_code == 200
    event = AuditEvent.objects.get(verb=reports.REPORT_PRINTED)
    assert event.actor_id == o.unit_leader.pk and event.data["unit_id"] == o.unit.pk and event.data["rows"] == 1


def test_report_access_is_one_rule():
    o = office()
    assert reports.report_access(fresh(o.leader)) == reports.ReportAccess(unit_id=None, can_print=True)
    assert reports.report_access(fresh(o.unit_leader)) == reports.ReportAccess(unit_id=o.unit.pk, can_print=True)
    assert reports.report_access(fresh(o.clerk)) == reports.ReportAccess(unit_id=None, can_print=True)
    assert reports.report_access(fresh(o.handler)) is None
    with pytest.raises(PermissionDenied):
        reports.record_report_printed(fresh(o.handler), "tracking", fmt="pdf", date_from=timezone.localdate(),
                                      date_to=timezone.localdate(), rows=0)


# --- figures open their lists -------------------------------------------------------------------


def test_every_oversight_figure_opens_the_rows_it_counts():
    o = office()
    assigned(o, "1")
    overdue = assigned(o, "2", more=[TargetInput(role="coordinate", unit_id=o.other_unit.pk, deadline=in_days(1))])
    Assignment.objects.filter(pk=overdue.pk).update(due_date=in_days(-1))
    directed_case(o, number="3")  # waiting in o.unit
    # Work of another agency never shows.
    other = office()
    assigned(other, "9")
    for user in (o.leader, o.unit_leader):
        client = browser(user)
        links = figure_links(client.get("/work/oversight/").content.decode())
        assert links and all(href.startswith("/work/oversight/") for href, _text in links)
        for href, text in links:
            assert len(listed(client, href)) == int(text), href
    # The agency leader's overdue figure of o.unit lists exactly the overdue lead.
    client = browser(o.leader)
    assert listed(client, f"/work/oversight/overdue/?group={o.unit.pk}") == [overdue.pk]
    assert browser(o.handler).get("/work/oversight/overdue/").status_code == 403
    assert client.get("/work/oversight/nonsense/").status_code == 404
    assert client.get("/work/oversight/overdue/?group=x").status_code == 404


def test_every_handling_report_figure_opens_the_rows_it_counts():
    o = office()
    done = assigned(o, "1")
    services.complete_assignment(o.handler, done, outcome="Đã báo cáo")
    late = assigned(o, "2")
    Assignment.objects.filter(pk=late.pk).update(due_date=in_days(-2))
    assigned(o, "3", more=[TargetInput(role="coordinate", user_id=o.other_unit_staff.pk, deadline=in_days(2))])
    for user in (o.leader, o.unit_leader, o.clerk):
        client = browser(user)
        links = figure_links(client.get("/work/reports/").content.decode())
        assert links
        for href, text in links:
            assert href.startswith("/work/reports/targets/?")
            assert len(listed(client, href)) == int(text), href
    today = timezone.localdate().isoformat()
    client = browser(o.leader)
    assert listed(client, f"/work/reports/targets/?date_from={today}&date_to={today}&class=overdue") == [late.pk]
    assert client.get("/work/reports/targets/?class=nonsense").status_code == 404
    foreign = UnitFactory(agency=AgencyFactory())
    assert client.get(f"/work/reports/targets/?unit={foreign.pk}").status_code == 404
    assert browser(o.unit_leader).get(f"/work/reports/targets/?unit={o.other_unit.pk}").status_code == 404


# --- a co-ordinator that never acted -------------------------------------------------------------


def test_a_coordinator_that_never_acted_is_not_completed_on_time():
    o = office()
    silent_unit = UnitFactory(agency=o.agency)
    lead = assigned(o, "1", more=[
        TargetInput(role="coordinate", unit_id=o.other_unit.pk, deadline=in_days(2)),
        TargetInput(role="coordinate", unit_id=silent_unit.pk, deadline=in_days(2)),
    ])
    case = lead.case
    helper = case.assignments.get(unit=o.other_unit)
    other_leader = make_user("Unit leader", o.agency, unit=o.other_unit)
    helper = services.assign_within_unit(other_leader, helper, o.other_unit_staff, deadline=in_days(2))
    services.record_progress(o.other_unit_staff, helper, note="Đã gửi số liệu")
    services.complete_assignment(o.handler, lead, outcome="Đã trả lời")
    states = dict(case.assignments.values_list("unit_id", "state"))
    assert states == {o.unit.pk: AssignmentState.COMPLETED, o.other_unit.pk: AssignmentState.CLOSED,
                      silent_unit.pk: AssignmentState.NOT_ACTED}
    completed = AuditEvent.objects.get(verb=events.CASE_COMPLETED, target_id=str(case.document_id))
    silent = case.assignments.get(unit=silent_unit)
    assert completed.data["not_acted_assignments"] == [silent.pk]
    assert completed.data["closed_assignments"] == [helper.pk]
    today = timezone.localdate()
    report = reports.handling_report(o.clerk, today, today)
    assert report.total.counts == {"on_time": 2, "late": 0, "overdue": 0, "in_progress": 0, "not_acted": 1}
    by_unit = {u.label: u.counts for u in report.units}
    assert by_unit[silent_unit.name]["not_acted"] == 1 and by_unit[silent_unit.name]["on_time"] == 0
    assert reports.handling_rows(report)[-1] == ("total", ["Tổng cộng", 3, 2, 0, 0, 0, 1])
    pdf = browser(o.clerk).get("/work/reports/handling.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "Phối hợp nhưng không thực hiện" in text


# --- result files -------------------------------------------------------------------------------


def _pdf(name: str = "bao-cao.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_pdf(text="Báo cáo kết quả"), content_type="application/pdf")


def test_the_handler_attaches_result_files_listed_and_downloadable_by_those_who_see_the_case():
    o = office()
    lead = assigned(o, "1", secret=True)  # seen by the people it was directed to, not the whole agency
    client = browser(o.handler)
    response = client.post(f"/work/assignments/{lead.pk}/result/files/", {"files": [_pdf()]})
    assert response.status_code == 302
    result = AssignmentResultFile.objects.get(assignment=lead)
    assert result.file_name == "bao-cao.pdf" and result.uploaded_by == o.handler
    assert result.blob.content_type == "application/pdf"
    event = AuditEvent.objects.get(verb=events.RESULT_FILE_ADDED)
    assert event.actor_id == o.handler.pk and event.data["name"] == "bao-cao.pdf"
    assert event.data["sha256"] == result.blob.sha256
    page = browser(o.leader).get(f"/work/incoming/{lead.case_id}/").content.decode()
    assert f"/work/results/{result.pk}/" in page and o.handler.name_and_position in page
    download = browser(o.leader).get(f"/work/results/{result.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert download["Content-Security-Policy"].endswith("sandbox")
    # People who cannot see the case: 404, nothing handed out.
    for outsider in (o.outsider, o.other_unit_staff):
        assert browser(outsider).get(f"/work/results/{result.pk}/").status_code == 404
    # A confidential document's result file handed out is audited.
    opened = AuditEvent.objects.get(verb=events.RESULT_FILE_OPENED)
    assert opened.actor_id == o.leader.pk and opened.data["file_id"] == result.pk
    # Only the handler attaches; others are refused and nothing is stored.
    refused = browser(o.colleague).post(f"/work/assignments/{lead.pk}/result/files/", {"files": [_pdf("x.pdf")]})
    assert refused.status_code == 403
    assert browser(o.outsider).post(f"/work/assignments/{lead.pk}/result/files/",
                                    {"files": [_pdf("y.pdf")]}).status_code == 404
    assert AssignmentResultFile.objects.count() == 1


def test_a_hostile_result_file_is_refused_whatever_the_client_says():
    o = office()
    lead = assigned(o, "1")
    fake = SimpleUploadedFile("bao-cao.pdf", b"<script>alert(1)</script>", content_type="application/pdf")
    with pytest.raises(Exception) as refused:
        services.add_result_files(o.handler, lead, [fake])
    assert "files" in refused.value.message_dict
    client = browser(o.handler)
    response = client.post(f"/work/assignments/{lead.pk}/result/files/", {"files": [
        SimpleUploadedFile("trang.html", b"<html><body>hi</body></html>", content_type="application/pdf")]},
        follow=True)
    assert response.status_code == 200
    assert not AssignmentResultFile.objects.exists()
    assert events.RESULT_FILE_ADDED not in verbs(lead.case.document)


def test_a_coordinator_with_a_result_file_has_acted():
    o = office()
    lead = assigned(o, "1", more=[TargetInput(role="coordinate", user_id=o.colleague.pk, deadline=in_days(2))])
    helper = lead.case.assignments.get(user=o.colleague)
    services.add_result_files(o.colleague, helper, [_pdf()])
    services.complete_assignment(o.handler, lead, outcome="Xong")
    helper.refresh_from_db()
    assert helper.state == AssignmentState.CLOSED


# --- the unit head's acceptance -------------------------------------------------------------------


def test_without_acceptance_the_handler_completes():
    o = office()
    lead = assigned(o, "1")
    page = browser(o.handler).get(f"/work/incoming/{lead.case_id}/").content.decode()
    assert 'data-action="complete"' in page and 'data-action="submit-result"' not in page
    done = services.complete_assignment(o.handler, lead, outcome="Xong")
    assert done.state == AssignmentState.COMPLETED


def test_with_acceptance_the_unit_head_accepts_or_returns_the_result(django_capture_on_commit_callbacks):
    o = office()
    admin = make_user("Administrator", o.agency)
    services.set_handling_settings(fresh(admin), o.agency, unit_head_accepts_results=True)
    assert HandlingSettings.objects.get(agency=o.agency).unit_head_accepts_results
    assert AuditEvent.objects.filter(verb=events.HANDLING_SETTINGS_CHANGED, actor_id=admin.pk).exists()
    with pytest.raises(PermissionDenied):
        services.set_handling_settings(fresh(o.outsider), o.agency, unit_head_accepts_results=False)

    lead = assigned(o, "1")
    page = browser(o.handler).get(f"/work/incoming/{lead.case_id}/").content.decode()
    assert 'data-action="submit-result"' in page
    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.complete_assignment(o.handler, lead, outcome="Dự thảo công văn trả lời")
    assert submitted.state == AssignmentState.SUBMITTED and submitted.case.state != "completed"
    assert Notice.objects.filter(user=o.unit_leader, kind="incoming.result_submitted").exists()
    # The result waits in the unit head's work list and in the menu's count.
    work = selectors.my_incoming_work(fresh(o.unit_leader))
    assert [item.assignment.pk for item in work.items[selectors.TO_ACCEPT_RESULT]] == [lead.pk]
    assert work_counts(fresh(o.unit_leader))["to_accept"] == 1
    assert not selectors.my_incoming_work(fresh(o.handler)).items[selectors.TO_ACCEPT_RESULT]
    # Nobody but the unit's leader decides.
    for outsider in (o.handler, o.leader, o.colleague):
        with pytest.raises(PermissionDenied):
            services.accept_result(fresh(outsider), submitted)
    page = browser(o.unit_leader).get(f"/work/incoming/{lead.case_id}/").content.decode()
    assert f"/work/assignments/{lead.pk}/result/accept/" in page and f"/work/assignments/{lead.pk}/result/return/" in page
    assert "/result/accept/" not in browser(o.handler).get(f"/work/incoming/{lead.case_id}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        returned = services.return_result(o.unit_leader, submitted, comment="Bổ sung số liệu quý III")
    assert returned.state == AssignmentState.HANDLING and returned.result_comment == "Bổ sung số liệu quý III"
    assert Notice.objects.filter(user=o.handler, kind="incoming.result_returned").exists()
    with pytest.raises(services.TransitionError):
        services.accept_result(o.unit_leader, returned)

    again = services.complete_assignment(o.handler, returned, outcome="Đã bổ sung")
    response = browser(o.unit_leader).post(f"/work/assignments/{again.pk}/result/accept/",
                                           {"version": again.version})
    assert response.status_code == 302
    again.refresh_from_db()
    again.case.refresh_from_db()
    assert again.state == AssignmentState.COMPLETED and again.case.state == "completed"
    assert [v for v in verbs(again.case.document) if v.startswith("incoming.result")] == [
        events.RESULT_SUBMITTED, events.RESULT_RETURNED, events.RESULT_SUBMITTED, events.RESULT_ACCEPTED]
    assert AuditEvent.objects.get(verb=events.CASE_COMPLETED).actor_id == o.unit_leader.pk


def test_acceptance_applies_to_unit_work_only_and_can_be_turned_off():
    o = office()
    admin = make_user("Administrator", o.agency)
    services.set_handling_settings(fresh(admin), o.agency, unit_head_accepts_results=True)
    personal = directed_case(o, number="2", targets=[TargetInput(role="lead", user_id=o.handler.pk,
                                                                 deadline=in_days(3))]).assignments.get()
    assert services.complete_assignment(o.handler, personal, outcome="Xong").state == AssignmentState.COMPLETED
    services.set_handling_settings(fresh(admin), o.agency, unit_head_accepts_results=False)
    lead = assigned(o, "1")
    assert services.complete_assignment(o.handler, lead, outcome="Xong").state == AssignmentState.COMPLETED


# --- names, not usernames --------------------------------------------------------------------------


def test_history_and_report_pdf_name_people_by_name_and_position():
    o = office()
    lead = assigned(o, "1")
    services.record_progress(o.handler, lead, note="Đang tổng hợp")
    page = browser(o.leader).get(f"/work/incoming/{lead.case_id}/").content.decode()
    timeline = page[page.index('id="timeline"'):]
    for person in (o.clerk, o.leader, o.unit_leader, o.handler):
        assert person.name_and_position in timeline
        assert f">{person.username}<" not in timeline and person.username not in timeline
    event = AuditEvent.objects.filter(verb=events.CASE_PROGRESS).get()
    assert event.actor_name == o.handler.name_and_position == f"{o.handler.full_name} ({o.handler.position})"

    pdf = browser(o.clerk).get("/work/reports/handling.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert o.handler.full_name in text and o.handler.username not in text
    tracking = browser(o.clerk).get("/work/reports/tracking.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(tracking.content)).pages).split())
    assert o.handler.full_name in text and o.handler.username not in text


def test_old_events_with_a_username_are_shown_by_name():
    o = office()
    lead = assigned(o, "1")
    AuditEvent.objects.filter(actor_id=o.unit_leader.pk).update(actor_name=o.unit_leader.username)
    from documents.selectors import document_timeline

    who = {entry.who for entry in document_timeline(lead.case.document)}
    assert o.unit_leader.name_and_position in who and o.unit_leader.username not in who


def test_overdue_figure_counts_after_a_day(settings):
    """The overdue list follows the table as days pass (the same filters, computed for today)."""
    o = office()
    lead = assigned(o, "1")
    Assignment.objects.filter(pk=lead.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    from workflows.selectors import oversight, oversight_targets

    view = oversight(fresh(o.unit_leader))
    assert view.total.overdue == 1
    assert [a.pk for a in oversight_targets(fresh(o.unit_leader), figure="overdue")] == [lead.pk]
