"""The web pages: My work, the processing slip with the viewer's actions, 404 for what one cannot see,
403 for a step that is not one's own, and refusals shown as messages that change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from workflows import events
from workflows.models import Assignment, AssignmentState, CaseState, IncomingCase

from .helpers import directed_case, in_days, incoming, office, presented_case

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_clerk_enters_presents_leader_directs_unit_assigns_handler_completes():
    o = office()
    document = incoming(o)
    clerk = browser(o.clerk)
    page = clerk.get("/work/")
    assert page.status_code == 200 and document.subject in page.content.decode()
    response = clerk.post(f"/work/incoming/open/{document.pk}/")
    case = IncomingCase.objects.get(document=document)
    assert response.status_code == 302 and response["Location"] == f"/work/incoming/{case.pk}/"
    slip = clerk.get(f"/work/incoming/{case.pk}/").content.decode()
    assert f'value="{o.leader.pk}"' in slip and "/present/" in slip
    clerk.post(f"/work/incoming/{case.pk}/present/", {"leader": o.leader.pk, "version": 1})

    leader = browser(o.leader)
    assert document.subject in leader.get("/work/").content.decode()
    slip = leader.get(f"/work/incoming/{case.pk}/").content.decode()
    assert 'name="instruction"' in slip
    leader.post(f"/work/incoming/{case.pk}/direct/", {
        "instruction": "Giao phòng chủ trì", "version": 2, "lead": f"unit:{o.unit.pk}",
        "lead_deadline": str(in_days(5)), "inform": [f"user:{o.deputy.pk}"],
    })
    case.refresh_from_db()
    assert case.state == CaseState.DIRECTED and case.assignments.count() == 2

    lead = case.assignments.get(role="lead")
    unit_leader = browser(o.unit_leader)
    slip = unit_leader.get(f"/work/incoming/{case.pk}/").content.decode()
    assert f'value="{o.handler.pk}"' in slip
    unit_leader.post(f"/work/assignments/{lead.pk}/assign/",
                     {"assignee": o.handler.pk, "deadline": str(in_days(3)), "version": 1})
    lead.refresh_from_db()
    assert (lead.state, lead.assignee) == (AssignmentState.HANDLING, o.handler)

    handler = browser(o.handler)
    handler.post(f"/work/assignments/{lead.pk}/progress/", {"note": "Đang làm", "proposal": "Đề xuất", "version": 2})
    handler.post(f"/work/assignments/{lead.pk}/complete/", {"outcome": "Xong", "version": 3})
    case.refresh_from_db()
    assert case.state == CaseState.COMPLETED
    slip = handler.get(f"/work/incoming/{case.pk}/").content.decode()
    assert "Giao phòng chủ trì" in slip and "Đề xuất" in slip and "Xong" in slip
    assert AuditEvent.objects.filter(verb=events.CASE_COMPLETED).count() == 1


def test_refusals_come_back_as_messages_and_change_nothing():
    o = office()
    case = directed_case(o)
    lead = case.assignments.get()
    unit_leader = browser(o.unit_leader)
    response = unit_leader.post(f"/work/assignments/{lead.pk}/assign/",
                                {"assignee": o.handler.pk, "deadline": str(in_days(9)), "version": 1}, follow=True)
    assert response.status_code == 200
    assert len(list(response.context["messages"])) == 1
    stale = unit_leader.post(f"/work/assignments/{lead.pk}/assign/",
                             {"assignee": o.handler.pk, "deadline": str(in_days(2)), "version": 4}, follow=True)
    assert len(list(stale.context["messages"])) == 1
    lead.refresh_from_db()
    assert lead.state == AssignmentState.WAITING and lead.version == 1


def test_not_yours_is_403_and_not_visible_is_404():
    o = office()
    case = presented_case(o, secret=True)
    # The deputy is in the agency but the document is secret: not found, and not in their work.
    deputy = browser(o.deputy)
    assert deputy.get(f"/work/incoming/{case.pk}/").status_code == 404
    assert deputy.post(f"/work/incoming/{case.pk}/return/", {"reason": "x"}).status_code == 404
    assert case.document.subject not in deputy.get("/work/").content.decode()
    assert browser(o.outsider).get(f"/work/incoming/{case.pk}/").status_code == 404
    # The leader sees it but may not return it (a clerk's step): 403.
    assert browser(o.leader).post(f"/work/incoming/{case.pk}/return/", {"reason": "x"}).status_code == 403
    case.refresh_from_db()
    assert case.state == CaseState.PRESENTED
    assert Client().get("/work/").status_code == 302
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("leader", ["abc", "", "99999999"])
def test_a_malformed_or_unknown_person_is_404_and_changes_nothing(leader):
    o = office()
    document = incoming(o)
    clerk = browser(o.clerk)
    clerk.post(f"/work/incoming/open/{document.pk}/")
    case = IncomingCase.objects.get(document=document)
    events_before = AuditEvent.objects.count()
    response = clerk.post(f"/work/incoming/{case.pk}/present/", {"leader": leader, "version": "x"})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED and AuditEvent.objects.count() == events_before
