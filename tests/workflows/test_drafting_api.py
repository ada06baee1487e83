"""The drafts API: the whole outgoing flow over HTTP, 404 for drafts you cannot see, 403 for steps that are
not yours, 409 for a stale version."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from documents.models import Document
from tests.factories import doc_type
from workflows import drafting_services as ds
from workflows import events as wf_events
from workflows.models import DraftState

from .helpers import fresh, office
from .test_drafting import pdf_upload

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(fresh(user))
    return client


def test_outgoing_flow_over_the_api():
    o = office()
    ds.ensure_default_chain(o.agency)
    drafter = client_for(o.handler)
    created = drafter.post("/api/v1/drafts/", {
        "document_type": doc_type("cong-van").pk, "subject": "Về việc góp ý dự thảo", "urgency": 2,
        "proposed_signer": o.leader.pk, "file": pdf_upload(),
    }, format="multipart")
    assert created.status_code == 201, created.json()
    body = created.json()
    pk = body["id"]
    assert body["state"] == DraftState.DRAFTING and [v["number"] for v in body["versions"]] == [1]
    submitted = drafter.post(f"/api/v1/drafts/{pk}/submit/", {"version": body["version"]}, format="json").json()
    assert submitted["state"] == DraftState.IN_REVIEW and submitted["current_action"] == "review"

    leader = client_for(o.unit_leader)
    work = leader.get("/api/v1/my-work/drafts/").json()
    assert work["counts"]["review"] == 1 and work["items"]["review"][0]["draft"] == pk
    stale = leader.post(f"/api/v1/drafts/{pk}/approve/", {"version": 1}, format="json")
    assert stale.status_code == 409
    returned = leader.post(f"/api/v1/drafts/{pk}/return/", {"version": submitted["version"], "comment": "Bổ sung"},
                           format="json").json()
    assert returned["state"] == DraftState.DRAFTING and returned["last_comment"] == "Bổ sung"
    uploaded = drafter.post(f"/api/v1/drafts/{pk}/upload/", {"file": pdf_upload("v2.pdf", "Hai")}, format="multipart")
    assert [v["number"] for v in uploaded.json()["versions"]] == [2, 1]
    state = drafter.post(f"/api/v1/drafts/{pk}/submit/", {}, format="json").json()
    state = leader.post(f"/api/v1/drafts/{pk}/approve/", {"version": state["version"]}, format="json").json()
    state = client_for(o.clerk).post(f"/api/v1/drafts/{pk}/approve/", {}, format="json").json()
    assert state["state"] == DraftState.READY_TO_SIGN
    forwarded = client_for(o.leader).post(f"/api/v1/drafts/{pk}/forward/", {"to_user": o.deputy.pk}, format="json")
    assert forwarded.json()["current_holder"] == o.deputy.pk
    signed = client_for(o.deputy).post(f"/api/v1/drafts/{pk}/sign-on-paper/", {}, format="json").json()
    assert signed["state"] == DraftState.SIGNED and signed["signed_by"] == o.deputy.pk
    issued = client_for(o.clerk).post(f"/api/v1/drafts/{pk}/issue/", {"file": pdf_upload("final.pdf")},
                                      format="multipart")
    assert issued.status_code == 200, issued.json()
    document = Document.objects.get(pk=issued.json()["issued_document"])
    assert document.subject == "Về việc góp ý dự thảo" and document.urgency == 2
    assert AuditEvent.objects.filter(target_type="workflows.draft", target_id=str(pk),
                                     verb=wf_events.DRAFT_ISSUED).count() == 1


def test_api_refusals():
    o = office()
    ds.ensure_default_chain(o.agency)
    draft = ds.submit(o.handler, ds.create_draft(o.handler, ds.DraftInput(
        document_type_id=doc_type("cong-van").pk, subject="Không được xem"), pdf_upload()))
    for person in (o.outsider, o.colleague):
        client = client_for(person)
        assert client.get(f"/api/v1/drafts/{draft.pk}/").status_code == 404
        assert client.post(f"/api/v1/drafts/{draft.pk}/approve/", {}, format="json").status_code == 404
        assert client.get("/api/v1/drafts/").json()["count"] == 0
    assert client_for(o.handler).post(f"/api/v1/drafts/{draft.pk}/approve/", {}, format="json").status_code == 403
    assert client_for(o.clerk).post(f"/api/v1/drafts/{draft.pk}/sign-on-paper/", {}, format="json").status_code == 403
    draft.refresh_from_db()
    assert draft.state == DraftState.IN_REVIEW and draft.version == 2
