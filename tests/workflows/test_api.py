"""The workflow API: the whole incoming flow over HTTP, 404 for what you cannot see, 403 for steps that
are not yours, 409 for a stale version."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from workflows import events
from workflows.models import Assignment, CaseState

from .helpers import fresh, in_days, incoming, office

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(fresh(user))
    return client


def test_incoming_flow_over_the_api():
    o = office()
    document = incoming(o)
    clerk = client_for(o.clerk)
    opened = clerk.post("/api/v1/incoming-cases/", {"document": document.pk}, format="json")
    assert opened.status_code == 201, opened.json()
    case_id = opened.json()["id"]
    assert clerk.get("/api/v1/my-work/incoming/").json()["counts"]["to_present"]["total"] == 1
    presented = clerk.post(f"/api/v1/incoming-cases/{case_id}/present/", {"leader": o.leader.pk, "version": 1},
                           format="json")
    assert presented.status_code == 200 and presented.json()["state"] == CaseState.PRESENTED

    leader = client_for(o.leader)
    work = leader.get("/api/v1/my-work/incoming/").json()
    assert work["counts"]["to_direct"]["total"] == 1 and work["items"]["to_direct"][0]["case_version"] == 2
    body = {"instruction": "Phòng chủ trì", "version": 2,
            "targets": [{"role": "lead", "unit": o.unit.pk, "deadline": str(in_days(4))}]}
    assert client_for(o.deputy).post(f"/api/v1/incoming-cases/{case_id}/direct/", body, format="json").status_code == 403
    directed = leader.post(f"/api/v1/incoming-cases/{case_id}/direct/", body, format="json")
    assert directed.status_code == 200 and directed.json()["state"] == CaseState.DIRECTED
    again = leader.post(f"/api/v1/incoming-cases/{case_id}/direct/", body, format="json")
    assert again.status_code == 400 and again.json()["message"]

    assignment_id = directed.json()["assignments"][0]["id"]
    unit_leader = client_for(o.unit_leader)
    stale = unit_leader.post(f"/api/v1/assignments/{assignment_id}/assign/",
                             {"assignee": o.handler.pk, "deadline": str(in_days(3)), "version": 9}, format="json")
    assert stale.status_code == 409
    assigned = unit_leader.post(f"/api/v1/assignments/{assignment_id}/assign/",
                                {"assignee": o.handler.pk, "deadline": str(in_days(3)), "version": 1}, format="json")
    assert assigned.status_code == 200 and assigned.json()["assignee"] == o.handler.pk

    handler = client_for(o.handler)
    assert handler.get("/api/v1/my-work/incoming/").json()["counts"]["to_handle"]["total"] == 1
    progress = handler.post(f"/api/v1/assignments/{assignment_id}/progress/",
                            {"note": "Đang làm", "proposal": "Trả lời Bộ", "version": 2}, format="json")
    assert progress.status_code == 200 and progress.json()["proposal"] == "Trả lời Bộ"
    extension = handler.post(f"/api/v1/assignments/{assignment_id}/extension/",
                             {"new_deadline": str(in_days(4)), "reason": "Cần số liệu"}, format="json")
    assert extension.status_code == 200
    request_id = extension.json()["id"]
    assert handler.post(f"/api/v1/extension-requests/{request_id}/decide/", {"approve": True},
                        format="json").status_code == 403
    decided = unit_leader.post(f"/api/v1/extension-requests/{request_id}/decide/", {"approve": True}, format="json")
    assert decided.status_code == 200 and decided.json()["state"] == "approved"
    done = handler.post(f"/api/v1/assignments/{assignment_id}/complete/", {"outcome": "Đã trả lời"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "completed"
    assert leader.get(f"/api/v1/incoming-cases/{case_id}/").json()["state"] == CaseState.COMPLETED
    assert AuditEvent.objects.filter(verb=events.CASE_COMPLETED, actor=o.handler).count() == 1


def test_what_you_cannot_see_is_404_and_not_listed():
    o = office()
    document = incoming(o, secret=True)
    clerk = client_for(o.clerk)
    case_id = clerk.post("/api/v1/incoming-cases/", {"document": document.pk}, format="json").json()["id"]
    outsider = client_for(o.outsider)
    staff = client_for(o.handler)  # same agency, but the document is secret
    for client in (outsider, staff):
        assert client.get(f"/api/v1/incoming-cases/{case_id}/").status_code == 404
        assert client.get("/api/v1/incoming-cases/").json()["results"] == []
        assert client.post(f"/api/v1/incoming-cases/{case_id}/present/", {"leader": o.leader.pk},
                           format="json").status_code == 404
        assert client.post("/api/v1/incoming-cases/", {"document": document.pk}, format="json").status_code == 404
    assert APIClient().get("/api/v1/my-work/incoming/").status_code in (401, 403)
    # Not a clerk: 403 even on a document one can see.
    normal = incoming(o, number="2")
    assert staff.post("/api/v1/incoming-cases/", {"document": normal.pk}, format="json").status_code == 403
    assert not Assignment.objects.exists()


def test_schema_with_the_workflow_api_has_no_warnings(api_schema_text):
    text = api_schema_text  # generated with --validate --fail-on-warn (tests/conftest.py)
    for route in ("/api/v1/incoming-cases/{id}/direct/", "/api/v1/assignments/{id}/complete/",
                  "/api/v1/extension-requests/{id}/decide/", "/api/v1/my-work/incoming/"):
        assert route in text
