"""Draft pages: new draft, list with what waits for me, the draft page and its actions, 404 for drafts
one cannot see, refusals shown as messages that change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from documents.models import Direction, Document
from tests.factories import doc_type
from workflows import drafting_services as ds
from workflows import events as wf_events
from workflows.models import Draft, DraftState

from .helpers import office
from .test_drafting import pdf_upload, submitted

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_new_draft_then_whole_path_through_the_pages():
    o = office()
    ds.ensure_default_chain(o.agency)
    drafter = browser(o.handler)
    assert drafter.get("/work/drafts/new/").status_code == 200
    response = drafter.post("/work/drafts/new/", {
        "document_type": doc_type("cong-van").pk, "subject": "Về việc tổ chức hội nghị", "urgency": 1,
        "confidentiality": 0, "proposed_signer": o.leader.pk, "recipients": "Như trên\nLưu: VT",
        "internal": "on", "file": pdf_upload(),
    })
    draft = Draft.objects.get(subject="Về việc tổ chức hội nghị")
    assert response.status_code == 302 and response["Location"] == f"/work/drafts/{draft.pk}/"
    assert draft.recipients == [{"name": "Như trên"}, {"name": "Lưu: VT"}]
    page = drafter.get(f"/work/drafts/{draft.pk}/").content.decode()
    assert "/submit/" in page and "du-thao.pdf" in page
    drafter.post(f"/work/drafts/{draft.pk}/submit/", {"version": draft.version})

    leader = browser(o.unit_leader)
    listing = leader.get("/work/drafts/").content.decode()
    assert "Về việc tổ chức hội nghị" in listing
    page = leader.get(f"/work/drafts/{draft.pk}/").content.decode()
    assert "/approve/" in page and "/return/" in page
    draft.refresh_from_db()
    leader.post(f"/work/drafts/{draft.pk}/approve/", {"version": draft.version, "comment": "Đồng ý"})
    draft.refresh_from_db()
    assert draft.current_holder == o.clerk
    browser(o.clerk).post(f"/work/drafts/{draft.pk}/approve/", {"version": draft.version})
    draft.refresh_from_db()
    signer = browser(o.leader)
    # The signer's page is focused: sign or return; paper signing is the clerk's explicit choice.
    assert "/sign-paper/" not in signer.get(f"/work/drafts/{draft.pk}/").content.decode()
    signer.post(f"/work/drafts/{draft.pk}/sign-paper/", {"version": draft.version})  # the route stays (API parity)
    draft.refresh_from_db()
    assert draft.state == DraftState.SIGNED
    clerk = browser(o.clerk)
    assert f"/work/drafts/{draft.pk}/issuing/" in clerk.get(f"/work/drafts/{draft.pk}/").content.decode()
    clerk.post(f"/work/drafts/{draft.pk}/issuing/", {"version": draft.version, "method": "paper",
                                                     "file": pdf_upload("final.pdf")})
    draft.refresh_from_db()
    assert draft.state == DraftState.ISSUED
    issued = Document.objects.get(pk=draft.issued_document_id)
    assert issued.subject == "Về việc tổ chức hội nghị" and issued.direction == Direction.INTERNAL
    version = drafter.get(f"/work/drafts/{draft.pk}/versions/1/")
    assert version.status_code == 200 and b"".join(version.streaming_content).startswith(b"%PDF")


def test_others_get_404_and_refusals_change_nothing():
    o = office()
    draft = submitted(o)
    for person in (o.outsider, o.colleague, o.other_unit_staff):
        client = browser(person)
        assert client.get(f"/work/drafts/{draft.pk}/").status_code == 404
        assert client.post(f"/work/drafts/{draft.pk}/approve/", {"version": draft.version}).status_code == 404
        assert client.get(f"/work/drafts/{draft.pk}/versions/1/").status_code == 404
        assert draft.subject not in client.get("/work/drafts/").content.decode()
    # The drafter sees the draft but may not approve it: 403, nothing changes.
    assert browser(o.handler).post(f"/work/drafts/{draft.pk}/approve/", {"version": draft.version}).status_code == 403
    # A stale version comes back as a message.
    response = browser(o.unit_leader).post(f"/work/drafts/{draft.pk}/approve/", {"version": 1}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    fresh = Draft.objects.get(pk=draft.pk)
    assert (fresh.state, fresh.version) == (draft.state, draft.version)
    assert not AuditEvent.objects.filter(target_type="workflows.draft", target_id=str(draft.pk),
                                         verb=wf_events.DRAFT_APPROVED).exists()
    assert browser(o.unit_leader).post(f"/work/drafts/{draft.pk}/nonsense/").status_code == 404
