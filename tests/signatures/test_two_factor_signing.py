"""Each signature or seal is confirmed with the password and a fresh one-time code
(signatures.services.confirm_signer): without a second factor, with no code, a wrong or a reused code the
signature is refused with a clear message, the refusal is audited and nothing else changes; a fresh code signs,
through the services, the draft page and the API (`otp`)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from rest_framework.test import APIClient

from accounts import two_factor
from audit.models import AuditEvent
from signatures import events, services
from signatures.models import SigningRequest, SigningState
from tests.factories import PASSWORD
from tests.otp import code_for, enrol, verified_client
from workflows import draft_signing
from workflows.drafting import DraftState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_otp_required")]


@pytest.fixture
def _otp_required():
    with override_settings(OTP_REQUIRED=True, OTP_TOTP_THROTTLE_FACTOR=0):
        yield


def refused_codes() -> list[dict]:
    return list(AuditEvent.objects.filter(verb=events.SIGNING_CODE_REFUSED).values("actor_id", "data"))


def assert_nothing_signed(draft) -> None:
    draft.refresh_from_db()
    assert draft.state == DraftState.READY_TO_SIGN
    assert not SigningRequest.objects.exists()
    assert not AuditEvent.objects.filter(verb=events.SIGNING_REQUESTED).exists()


def test_signers_and_sealing_clerks_must_have_a_second_factor(signed_setup):
    o, _draft = signed_setup
    assert two_factor.must_have_second_factor(o.leader)  # an active personal certificate
    assert two_factor.must_have_second_factor(o.clerk)  # seals: the agency has an active seal
    assert not two_factor.must_have_second_factor(o.handler)


def test_signing_without_a_second_factor_is_refused(signed_setup):
    o, draft = signed_setup
    with pytest.raises(PermissionDenied, match="xác thực hai yếu tố|two-factor"):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD, otp_code="123456")
    assert_nothing_signed(draft)


@pytest.mark.parametrize("code", ["", "000000x", "12345678"])
def test_signing_with_no_or_a_wrong_code_is_refused_and_audited(signed_setup, code):
    o, draft = signed_setup
    enrol(o.leader)
    with pytest.raises(PermissionDenied, match="Mã dùng một lần|one-time code"):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD, otp_code=code)
    assert_nothing_signed(draft)
    assert refused_codes() == [{"actor_id": o.leader.pk, "data": {"code_given": bool(code)}}]


def test_a_wrong_password_is_refused_before_the_code_is_spent(signed_setup):
    o, draft = signed_setup
    device = enrol(o.leader)
    code = code_for(device)
    with pytest.raises(PermissionDenied):
        draft_signing.request_personal_signature(o.leader, draft, password="wrong", otp_code=code)
    assert_nothing_signed(draft)
    draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD, otp_code=code)
    assert SigningRequest.objects.count() == 1


def test_a_fresh_code_signs_and_a_reused_code_is_refused(signed_setup, django_capture_on_commit_callbacks):
    o, draft = signed_setup
    leader_app, clerk_app = enrol(o.leader), enrol(o.clerk)
    code = code_for(leader_app)
    with django_capture_on_commit_callbacks(execute=True):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD, otp_code=code)
    request.refresh_from_db()
    assert request.state == SigningState.DONE, request.error

    # The same code again (replayed by whoever saw it) is refused: nothing new is asked for.
    with pytest.raises(PermissionDenied):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD, otp_code=code)
    assert SigningRequest.objects.count() == 1
    assert len(refused_codes()) == 1

    # The clerk seals with their own fresh code.
    with django_capture_on_commit_callbacks(execute=True):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD, otp_code=code_for(clerk_app))
    seal.refresh_from_db()
    assert seal.state == SigningState.DONE, seal.error


def test_retry_needs_a_fresh_code(signed_setup, django_capture_on_commit_callbacks):
    o, draft = signed_setup
    device = enrol(o.leader)
    with django_capture_on_commit_callbacks(execute=False):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD,
                                                           otp_code=code_for(device))
    SigningRequest.objects.filter(pk=request.pk).update(state=SigningState.FAILED)
    request.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.retry(o.leader, request, password=PASSWORD, otp_code=code_for(device))  # the code just used
    request.refresh_from_db()
    assert request.state == SigningState.FAILED
    with django_capture_on_commit_callbacks(execute=False):
        retried = services.retry(o.leader, request, password=PASSWORD, otp_code=code_for(device, step=1))
    assert retried.state == SigningState.QUEUED


def test_the_draft_page_asks_for_the_code_and_signs_with_it(signed_setup, django_capture_on_commit_callbacks):
    o, draft = signed_setup
    device = enrol(o.leader)
    page = verified_client(o.leader, device)
    body = page.get(f"/work/drafts/{draft.pk}/").content.decode()
    assert 'name="otp"' in body
    page.post(f"/work/drafts/{draft.pk}/sign/", {"password": PASSWORD, "otp": "000000x"})
    assert_nothing_signed(draft)
    with django_capture_on_commit_callbacks(execute=False):
        response = page.post(f"/work/drafts/{draft.pk}/sign/", {"password": PASSWORD, "otp": code_for(device)})
    assert response.status_code == 302
    assert SigningRequest.objects.count() == 1


def test_the_api_signs_with_the_otp_field(signed_setup, django_capture_on_commit_callbacks):
    o, draft = signed_setup
    device = enrol(o.leader)
    client = APIClient()
    client.force_authenticate(o.leader)
    refused = client.post(f"/api/v1/drafts/{draft.pk}/sign/", {"password": PASSWORD}, format="json")
    assert refused.status_code == 403
    assert_nothing_signed(draft)
    with django_capture_on_commit_callbacks(execute=False):
        answer = client.post(f"/api/v1/drafts/{draft.pk}/sign/", {"password": PASSWORD, "otp": code_for(device)},
                             format="json")
    assert answer.status_code == 202, answer.content
    assert answer.json()["state"] == SigningState.QUEUED
