"""Fewer screens for the clerk and the leader (issue 13): register + enter + present in one submit, several
waiting documents entered at once, the direction form (deadline from registration, usual phrases, grouped
pickers), and messages that say who has the document now."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone, translation

from accounts import roles
from audit.models import AuditEvent
from documents import events as document_events
from documents import services as documents_services
from documents.models import Document
from eoffice import notices
from notifications.models import Notice
from tests.factories import doc_type, make_user
from workflows import events, notice_kinds, services
from workflows.models import CaseState, IncomingCase, InstructionPhrase
from workflows.selectors import DEFAULT_INSTRUCTION_PHRASES, instruction_phrases, usual_leader

from .helpers import in_days, incoming, office, verbs

pytestmark = pytest.mark.django_db

URL = "/work/incoming/register/"


@pytest.fixture(autouse=True)
def english():
    # The messages are compared in English (the pages' default language is Vietnamese).
    with translation.override("en"):
        yield


def browser(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def _form(o, **extra) -> dict:
    data = {
        "organ_name": "Bộ Nội vụ", "document_type": doc_type("cong-van").pk, "code_number": "15",
        "code_notation": "BNV-VP", "issued_date": str(timezone.localdate()), "subject": "Về việc tuyển dụng công chức",
        "urgency": 0, "confidentiality": 0, "leader": o.leader.pk, "note": "Đề nghị giao Phòng Tổ chức chủ trì",
        "then": "open",
    }
    data.update(extra)
    return data


def _named(o, user) -> str:
    return f"{user.full_name} ({user.position})"


# --- register + enter + present in one submit ---------------------------------------------------------


def test_one_submit_registers_enters_and_presents_with_the_proposal(django_capture_on_commit_callbacks):
    o = office()
    o.leader.position = "Giám đốc"
    o.leader.save()
    clerk = browser(o.clerk)
    page = clerk.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    offered = dict(page.context["present_form"].fields["leader"].choices)
    assert offered == {"": "Choose a leader", o.leader.pk: _named(o, o.leader), o.deputy.pk: _named(o, o.deputy)}
    assert _named(o, o.leader) in body  # full name and position; another agency's leader is not offered
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk.post(URL, _form(o, due_date=str(in_days(10))), follow=True)
    case = IncomingCase.objects.get()
    document = case.document
    assert response.redirect_chain[-1][0] == f"/work/incoming/{case.pk}/"
    assert (case.state, case.presented_to, case.opened_by) == (CaseState.PRESENTED, o.leader, o.clerk)
    assert case.proposal_note == "Đề nghị giao Phòng Tổ chức chủ trì"
    assert document.arrival_number and document.due_date == in_days(10)
    assert verbs(document) == [document_events.DOCUMENT_REGISTERED_INCOMING, events.CASE_OPENED,
                               events.CASE_PRESENTED]
    presented = AuditEvent.objects.get(verb=events.CASE_PRESENTED)
    assert presented.data["note"] == "Đề nghị giao Phòng Tổ chức chủ trì" and presented.data["leader_id"] == o.leader.pk
    # The message names the number and the person who has it now; the slip shows the proposal.
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [f"Registered with arrival number {document.arrival_number} and presented to "
                     f"{_named(o, o.leader)} for direction."]
    assert "Đề nghị giao Phòng Tổ chức chủ trì" in response.content.decode()
    # The leader is told, and the notice carries the proposal.
    notice = Notice.objects.get(user=o.leader)
    assert notice.document_id == document.pk
    text = notices.render(notice.kind, notice.params)
    assert "Đề nghị giao Phòng Tổ chức chủ trì" in text and "The clerk proposes:" in text
    assert not Notice.objects.filter(user=o.clerk).exists()


def test_the_next_button_comes_back_to_an_empty_form():
    o = office()
    response = browser(o.clerk).post(URL, _form(o, then="next"))
    assert response.status_code == 302 and response["Location"] == URL
    assert IncomingCase.objects.get().state == CaseState.PRESENTED


def test_a_refused_presentation_registers_nothing_and_uses_no_number():
    o = office()
    before = Document.objects.count()
    data = documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Về việc A", organ_name="Bộ Nội vụ", code_number="7")
    # present() refuses inside the transaction (a staff member is no leader): the registration rolls back.
    with pytest.raises(ValidationError):
        services.register_and_present(o.clerk, data, leader=o.handler)
    with pytest.raises(ValidationError):
        services.register_and_present(o.clerk, data, leader=o.outsider)
    # Refused at the very last step (the proposal too long): still nothing, and the number is not used.
    with pytest.raises(ValidationError):
        services.register_and_present(o.clerk, data, leader=o.leader, note="x" * 3000)
    assert Document.objects.count() == before and not IncomingCase.objects.exists()
    assert not AuditEvent.objects.filter(verb__in=[document_events.DOCUMENT_REGISTERED_INCOMING,
                                                   events.CASE_OPENED]).exists()
    case = services.register_and_present(o.clerk, data, leader=o.leader)
    assert case.document.register_number == 1  # the refused attempts used no arrival number


def test_a_refused_presentation_on_the_page_comes_back_on_the_form_and_saves_nothing():
    o = office()
    response = browser(o.clerk).post(URL, _form(o, note="x" * 3000))
    assert response.status_code == 400
    assert response.context["present_form"].errors
    assert not Document.objects.exists()
    # A leader of another agency cannot be chosen: the choice is refused by the form.
    response = browser(o.clerk).post(URL, _form(o, leader=o.outsider.pk))
    assert response.status_code == 400 and "leader" in response.context["present_form"].errors
    assert not Document.objects.exists()


def test_a_possible_duplicate_is_shown_and_can_be_confirmed():
    o = office()
    clerk = browser(o.clerk)
    clerk.post(URL, _form(o))
    response = clerk.post(URL, _form(o))
    assert response.status_code == 400 and response.context["duplicates"]
    assert 'id="duplicate-warning"' in response.content.decode()
    assert Document.objects.count() == 1
    response = clerk.post(URL, _form(o, confirm_duplicate="on"))
    assert response.status_code == 302
    assert IncomingCase.objects.filter(state=CaseState.PRESENTED).count() == 2


def test_people_without_register_incoming_get_403_and_the_menu_goes_to_the_one_screen():
    o = office()
    assert browser(o.handler).get(URL).status_code == 403
    assert browser(o.leader).post(URL, _form(o)).status_code == 403
    assert not Document.objects.exists()
    home = browser(o.clerk).get("/work/").content.decode()
    assert f'href="{URL}"' in home


def test_the_usual_leader_is_offered_first_when_one_choice_is_obvious():
    o = office()
    assert usual_leader(o.agency.pk) is None  # two leaders, no history: the clerk chooses
    for number in ("1", "2", "3"):
        services.enter_and_present(o.clerk, incoming(o, number=number), o.deputy)
    assert usual_leader(o.agency.pk) == o.deputy
    page = browser(o.clerk).get(URL)
    assert page.context["present_form"]["leader"].value() == o.deputy.pk


# --- several documents entered at once -----------------------------------------------------------------


def test_bulk_entry_opens_each_and_names_the_refused_one():
    o = office()
    first, second, taken = incoming(o, number="1"), incoming(o, number="2"), incoming(o, number="3")
    services.open_case(o.clerk, taken)
    response = browser(o.clerk).post("/work/incoming/open/", {"document": [first.pk, second.pk, taken.pk]},
                                     follow=True)
    assert set(IncomingCase.objects.values_list("document_id", flat=True)) == {first.pk, second.pk, taken.pk}
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert shown[0] == ("success", "2 documents entered for handling: they wait for you to present them to a "
                                   "leader.")
    assert shown[1] == ("error", f"{taken.number_notation} was not entered: This document is already being handled.")
    assert AuditEvent.objects.filter(verb=events.CASE_OPENED).count() == 3


def test_bulk_entry_service_refuses_what_open_case_refuses():
    o = office()
    mine = incoming(o, number="1")
    other = office()
    theirs = incoming(other, number="2")
    result = services.open_cases(o.clerk, [mine, theirs])
    assert [c.document for c in result.opened] == [mine]
    assert [(d, reason) for d, reason in result.refused] == [(theirs, "This document belongs to another agency.")]
    with pytest.raises(PermissionDenied):
        services.open_case(o.handler, incoming(o, number="3"))


def test_bulk_entry_is_for_clerks_and_never_names_what_one_cannot_see():
    o = office()
    document = incoming(o)
    assert browser(o.handler).post("/work/incoming/open/", {"document": [document.pk]}).status_code == 403
    other = office()
    response = browser(other.clerk).post("/work/incoming/open/", {"document": [document.pk]}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["1 document was not found."] and document.number_notation not in " ".join(shown)
    assert not IncomingCase.objects.exists()


# --- the leader's direction form ------------------------------------------------------------------------


def _presented_with_due(o, due):
    data = documents_services.IncomingInput(document_type_id=doc_type("cong-van").pk, subject="Về việc B",
                                            organ_name="Bộ Tài chính", code_number="9", due_date=due)
    return services.register_and_present(o.clerk, data, leader=o.leader)


def test_the_direction_form_has_the_registered_deadline_and_the_usual_phrases():
    o = office()
    due = in_days(12)
    case = _presented_with_due(o, due)
    page = browser(o.leader).get(f"/work/incoming/{case.pk}/")
    form = page.context["direct_form"]
    assert form["lead_deadline"].value() == due
    body = page.content.decode()
    assert due.strftime("%d/%m/%Y") in body
    for phrase in DEFAULT_INSTRUCTION_PHRASES:
        assert f'data-phrase="{phrase}"' in body
    # Units and people as radio buttons and checkboxes (no multi-select), grouped by unit, with their position.
    assert "<select" not in body.split('id="direct-form"')[1].split("</form>")[0]
    assert f'type="radio" name="lead" value="unit:{o.unit.pk}"' in body
    assert f'type="checkbox" name="coordinate" value="user:{o.handler.pk}"' in body
    assert f'type="checkbox" name="inform" value="unit:{o.other_unit.pk}"' in body
    assert _named(o, o.handler) in body and 'data-filter="direct-picker"' in body and "direction.js" in body


def test_a_past_registered_deadline_is_not_offered():
    o = office()
    case = _presented_with_due(o, timezone.localdate() - timedelta(days=1))
    form = browser(o.leader).get(f"/work/incoming/{case.pk}/").context["direct_form"]
    assert form["lead_deadline"].value() is None


def test_the_agencys_own_phrases_replace_the_defaults():
    o = office()
    services.set_instruction_phrases(make_user(roles.ADMINISTRATOR, o.agency), o.agency,
                                     ["Giao Phòng Tổ chức xử lý.", "  Để biết.  ", "Giao Phòng Tổ chức xử lý."])
    assert instruction_phrases(o.agency.pk) == ["Giao Phòng Tổ chức xử lý.", "Để biết."]
    assert AuditEvent.objects.get(verb=events.PHRASES_CHANGED).data["phrases"] == instruction_phrases(o.agency.pk)
    services.set_instruction_phrases(make_user(roles.ADMINISTRATOR, o.agency), o.agency, [])
    assert instruction_phrases(o.agency.pk) == []  # emptied stays empty, not back to the defaults
    assert InstructionPhrase.objects.filter(agency=o.agency).count() == 2
    assert instruction_phrases(office().agency.pk) == list(DEFAULT_INSTRUCTION_PHRASES)
    with pytest.raises(PermissionDenied):
        services.set_instruction_phrases(o.leader, o.agency, ["x"])
    with pytest.raises(PermissionDenied):
        services.set_instruction_phrases(make_user(roles.ADMINISTRATOR), o.agency, ["x"])


def test_the_direction_message_names_who_has_it_and_the_deadline():
    o = office()
    case = _presented_with_due(o, in_days(12))
    due = in_days(5)
    response = browser(o.leader).post(f"/work/incoming/{case.pk}/direct/", {
        "instruction": "Giao Phòng chủ trì", "version": case.version, "lead": f"unit:{o.unit.pk}",
        "lead_deadline": due.strftime("%d/%m/%Y"), "coordinate": [f"user:{o.other_unit_staff.pk}"],
        "coordinate_deadline": str(due), "inform": [f"user:{o.deputy.pk}"],
    }, follow=True)
    case.refresh_from_db()
    assert case.state == CaseState.DIRECTED and case.assignments.count() == 3
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [f"Directed {o.unit.name} to take charge, deadline {due:%d/%m/%Y}. "
                     f"Co-ordinating: {_named(o, o.other_unit_staff)}. For information: {_named(o, o.deputy)}."]


def test_messages_of_the_steps_name_the_person():
    o = office()
    case = services.open_case(o.clerk, incoming(o))
    clerk = browser(o.clerk)
    response = clerk.post(f"/work/incoming/{case.pk}/present/", {"leader": o.leader.pk, "version": case.version,
                                                                 "note": "Đề xuất giao Phòng 1"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [f"Presented to {_named(o, o.leader)} for direction."]
    case.refresh_from_db()
    assert case.proposal_note == "Đề xuất giao Phòng 1"
    services.direct(o.leader, case, instruction="x",
                    targets=[services.TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(5))])
    lead = case.assignments.get()
    response = browser(o.unit_leader).post(f"/work/assignments/{lead.pk}/assign/", {
        "assignee": o.handler.pk, "deadline": in_days(3).strftime("%d/%m/%Y"), "version": lead.version}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"Assigned to {_named(o, o.handler)}, deadline {in_days(3):%d/%m/%Y}."]
    lead.refresh_from_db()
    response = browser(o.handler).post(f"/work/assignments/{lead.pk}/extension/", {
        "new_deadline": str(in_days(4)), "reason": "Cần thêm thời gian", "version": lead.version}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"Asked {_named(o, o.unit_leader)} to extend the deadline to {in_days(4):%d/%m/%Y}."]
    lead.refresh_from_db()
    response = browser(o.handler).post(f"/work/assignments/{lead.pk}/complete/", {
        "outcome": "Đã xong", "version": lead.version}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"Handling completed: the document is closed and {_named(o, o.leader)}, who directed it, is told."]



def test_the_administrator_edits_the_phrases_on_the_settings_page():
    o = office()
    admin = make_user(roles.ADMINISTRATOR, o.agency)
    page = browser(admin).get("/settings/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="instruction_phrases"' in body and DEFAULT_INSTRUCTION_PHRASES[0] in body
    response = browser(admin).post("/settings/", {
        "section": "instruction_phrases", "agency": o.agency.pk, "phrases": "Giao ... xử lý.\nĐể biết, theo dõi.\n"})
    assert response.status_code == 302
    assert instruction_phrases(o.agency.pk) == ["Giao ... xử lý.", "Để biết, theo dõi."]
    # Another agency's administrator cannot change them (the agency is not among the form's choices).
    other_admin = make_user(roles.ADMINISTRATOR, office().agency)
    refused = browser(other_admin).post("/settings/", {
        "section": "instruction_phrases", "agency": o.agency.pk, "phrases": "x"})
    assert refused.status_code == 200 and instruction_phrases(o.agency.pk) == ["Giao ... xử lý.", "Để biết, theo dõi."]
    assert browser(o.leader).post("/settings/", {
        "section": "instruction_phrases", "agency": o.agency.pk, "phrases": "x"}).status_code == 403


def test_the_api_presents_with_the_proposal_too():
    from rest_framework.test import APIClient

    o = office()
    case = services.open_case(o.clerk, incoming(o))
    api = APIClient()
    api.force_authenticate(o.clerk)
    answer = api.post(f"/api/v1/incoming-cases/{case.pk}/present/",
                      {"leader": o.leader.pk, "version": case.version, "note": "Đề xuất giao Phòng 1"}, format="json")
    assert answer.status_code == 200 and answer.json()["proposal_note"] == "Đề xuất giao Phòng 1"
    assert AuditEvent.objects.get(verb=events.CASE_PRESENTED).data["note"] == "Đề xuất giao Phòng 1"


def test_a_secret_documents_proposal_stays_out_of_the_notice(django_capture_on_commit_callbacks):
    o = office()
    case = services.open_case(o.clerk, incoming(o, secret=True))
    with django_capture_on_commit_callbacks(execute=True):
        services.present(o.clerk, case, o.leader, note="Nội dung mật", expected_version=case.version)
    notice = Notice.objects.get(user=o.leader)
    assert "Nội dung mật" not in notices.render(notice.kind, notice.params)
    case.refresh_from_db()
    assert case.proposal_note == "Nội dung mật"  # on the slip, for those who may see the document


def test_a_presentation_without_a_proposal_reads_as_one_sentence():
    """The proposal part of the notice is optional: left empty it leaves no stray spaces."""
    with translation.override("en"):
        text = notices.render(notice_kinds.PRESENTED, {"number": "15/QĐ-UBND", "subject": "Về việc A"})
    assert text == "Incoming document 15/QĐ-UBND - Về việc A waits for your direction."
