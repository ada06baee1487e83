"""The draft page for the signer (sign or return, beside the rendered document; no upload), the clerk's one
issuing form (digital by default, paper as the explicit choice), the "Signing..." state, and flash messages
that say who has the draft now."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from signatures.models import SigningKind, SigningRequest
from signatures.tasks import sign
from tests.factories import PASSWORD
from tests.signatures.conftest import make_signed_setup
from workflows import drafting_services as ds
from workflows import events as wf_events
from workflows.models import Draft, DraftState

from .helpers import office
from .test_drafting import new_draft, pdf_upload, ready_to_sign

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_signer_sees_sign_and_return_beside_the_document_and_no_upload():
    o = office()
    draft = ready_to_sign(o)
    page = browser(o.leader).get(f"/work/drafts/{draft.pk}/").content.decode()
    assert 'id="signer-actions"' in page and 'id="return-form"' in page
    assert page.index('id="signer-actions"') < page.index('id="attachments"')  # the actions come first
    assert f"/work/drafts/{draft.pk}/versions/1/pages/1/" in page  # the rendered document
    for hidden in ("/upload/", "/attach/", "/sign-paper/", "/issuing/"):
        assert hidden not in page, hidden


def test_the_drafter_sees_upload_and_the_pages_and_not_the_signers_actions():
    o = office()
    draft = new_draft(o)
    page = browser(o.handler).get(f"/work/drafts/{draft.pk}/").content.decode()
    assert "/upload/" in page and "/attach/" in page and 'id="signer-actions"' not in page
    assert f"/work/drafts/{draft.pk}/versions/1/pages/1/" in page


def test_draft_page_images_follow_the_drafts_visibility():
    o = office()
    draft = ds.submit(o.handler, new_draft(o))
    url = f"/work/drafts/{draft.pk}/versions/1/pages/1/"
    answer = browser(o.unit_leader).get(url)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/webp"
    assert answer["Cache-Control"].startswith("private")
    for person in (o.outsider, o.colleague, o.other_unit_staff):
        assert browser(person).get(url).status_code == 404
        assert browser(person).get(f"/work/drafts/{draft.pk}/signing-state/").status_code == 404
    assert browser(o.unit_leader).get(f"/work/drafts/{draft.pk}/versions/9/pages/1/").status_code == 404


def test_flash_messages_name_who_has_the_draft_now():
    o = office()
    o.unit_leader.first_name, o.unit_leader.last_name, o.unit_leader.position = "Thành", "Xa Văn", "Trưởng phòng"
    o.unit_leader.save()
    draft = new_draft(o)
    drafter = browser(o.handler)
    sent = drafter.post(f"/work/drafts/{draft.pk}/submit/", {"version": draft.version}, follow=True)
    assert any(o.unit_leader.name_and_position in m for m in messages_of(sent)), messages_of(sent)
    draft.refresh_from_db()
    returned = browser(o.unit_leader).post(f"/work/drafts/{draft.pk}/return/",
                                           {"version": draft.version, "comment": "Sửa lại trích yếu"}, follow=True)
    assert any(o.handler.name_and_position in m for m in messages_of(returned)), messages_of(returned)
    draft = ready_to_sign(o)
    assert draft.current_holder == o.leader
    clerk = browser(o.clerk)
    issued = clerk.post(f"/work/drafts/{draft.pk}/issuing/", {"version": draft.version, "method": "paper",
                                                              "file": pdf_upload("ban-ky.pdf")}, follow=True)
    draft.refresh_from_db()
    assert any(draft.issued_document.number_notation in m for m in messages_of(issued)), messages_of(issued)


def test_the_clerk_issues_a_paper_signed_original_in_one_step():
    o = office()
    draft = ready_to_sign(o)
    page = browser(o.clerk).get(f"/work/drafts/{draft.pk}/").content.decode()
    assert 'id="issue-form"' in page and 'value="paper" checked' in page and 'value="digital"' not in page
    missing = browser(o.clerk).post(f"/work/drafts/{draft.pk}/issuing/", {"version": draft.version,
                                                                          "method": "paper"}, follow=True)
    assert messages_of(missing) and Draft.objects.get(pk=draft.pk).state == DraftState.READY_TO_SIGN
    browser(o.clerk).post(f"/work/drafts/{draft.pk}/issuing/", {"version": draft.version, "method": "paper",
                                                                "file": pdf_upload("ban-ky.pdf")})
    draft.refresh_from_db()
    assert draft.state == DraftState.ISSUED and draft.signed_by == o.leader
    signed = AuditEvent.objects.get(target_type="workflows.draft", target_id=str(draft.pk),
                                    verb=wf_events.DRAFT_SIGNED)
    assert signed.actor_id == o.clerk.pk and signed.data["method"] == "paper"
    assert signed.data["signed_by"] == o.leader.pk
    # Others may not issue: the drafter's post changes nothing.
    o2 = office()
    other = ready_to_sign(o2)
    browser(o2.handler).post(f"/work/drafts/{other.pk}/issuing/", {"version": other.version, "method": "paper",
                                                                   "file": pdf_upload("x.pdf")})
    assert Draft.objects.get(pk=other.pk).state == DraftState.READY_TO_SIGN
    assert browser(o.outsider).post(f"/work/drafts/{other.pk}/issuing/", {"method": "paper"}).status_code == 404


@pytest.fixture
def signed_setup(django_user_model):
    return make_signed_setup(django_user_model.objects.create_superuser("quantri.h3", password=PASSWORD))


def test_the_clerk_issues_digitally_by_default_and_the_state_is_polled(signed_setup,
                                                                      django_capture_on_commit_callbacks):
    o, draft = signed_setup
    leader = browser(o.leader)
    assert leader.get(f"/work/drafts/{draft.pk}/signing-state/").json()["state"] == "none"
    with django_capture_on_commit_callbacks(execute=False):
        leader.post(f"/work/drafts/{draft.pk}/sign/", {"password": PASSWORD})
    queued = leader.get(f"/work/drafts/{draft.pk}/").content.decode()
    assert "signing-progress" in queued and "js/draft_signing.js" in queued and 'id="sign-form"' not in queued
    state = leader.get(f"/work/drafts/{draft.pk}/signing-state/").json()
    assert state["running"] is True and state["message"]
    request = SigningRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        sign.apply(args=[request.pk])  # the queued task, run as the signing worker would
    done = leader.get(f"/work/drafts/{draft.pk}/signing-state/").json()
    assert done["state"] == "done" and not done["running"] and done["message"]
    draft.refresh_from_db()
    assert draft.state == DraftState.SIGNED

    clerk = browser(o.clerk)
    page = clerk.get(f"/work/drafts/{draft.pk}/").content.decode()
    assert 'value="digital" checked' in page and 'value="paper"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk.post(f"/work/drafts/{draft.pk}/issuing/", {"password": PASSWORD}, follow=True)
    seal = SigningRequest.objects.get(kind=SigningKind.SEAL)
    assert seal.document is not None
    assert any(seal.document.number_notation in m for m in messages_of(response)), messages_of(response)
    draft.refresh_from_db()
    assert draft.state == DraftState.ISSUED
