"""Two-factor authentication (accounts.two_factor, django-otp): who must have it, enrolment with a QR code and a
first code, backup codes, removal with a code, the code after the password at log-in, and an administrator's
reset (audited, scoped to the agencies they administer: another agency's person is 404)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import events, roles, two_factor
from audit.models import AuditEvent
from tests.factories import PASSWORD, make_user
from tests.otp import code_for, enrol, verified_client
from tests.scoping import api, build_province

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_otp_required")]


@pytest.fixture
def _otp_required():
    with override_settings(OTP_REQUIRED=True, OTP_TOTP_THROTTLE_FACTOR=0, OTP_STATIC_THROTTLE_FACTOR=0):
        yield


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def verbs(user) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(user.pk)).order_by("id").values_list("verb", flat=True))


def test_who_must_have_a_second_factor():
    administrator = make_user(roles.ADMINISTRATOR, is_staff=False)
    staff = make_user(roles.STAFF)
    assert two_factor.must_have_second_factor(administrator)
    assert two_factor.must_have_second_factor(make_user(roles.STAFF, is_staff=True))
    assert not two_factor.must_have_second_factor(staff)
    with override_settings(OTP_REQUIRED=False):
        assert not two_factor.must_have_second_factor(administrator)


def test_administrator_is_sent_to_enrolment_and_enrols_with_a_first_code():
    person = make_user(roles.ADMINISTRATOR, is_staff=True)
    client = logged_in(person)
    page = client.get(reverse("documents:list"))
    assert page.status_code == 302 and page.url.startswith(reverse("accounts:two_factor"))
    # A session-authenticated API call is refused, not redirected.
    assert client.get("/api/v1/me/").status_code == 403

    assert client.post(reverse("accounts:two_factor_start")).status_code == 302
    body = client.get(reverse("accounts:two_factor")).content.decode()
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    assert "<svg" in body and "otpauth://totp/" in body and 'id="otp-secret"' in body
    assert "cdn" not in body.lower()

    refused = client.post(reverse("accounts:two_factor_confirm"), {"code": "000000" if code_for(device) != "000000"
                                                                    else "111111"})
    assert refused.status_code == 400 and not two_factor.has_second_factor(person)
    assert verbs(person) == []

    done = client.post(reverse("accounts:two_factor_confirm"), {"code": code_for(device)})
    assert done.status_code == 200
    codes = list(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    assert len(codes) == two_factor.BACKUP_CODE_COUNT and all(code in done.content.decode() for code in codes)
    assert two_factor.has_second_factor(person)
    assert verbs(person) == [events.OTP_ENROLLED]
    # The first code verified this session.
    assert client.get(reverse("documents:list")).status_code == 200


def test_enrolment_page_is_in_vietnamese():
    person = make_user(roles.ADMINISTRATOR, is_staff=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(person)
    client.post(reverse("accounts:two_factor_start"))
    body = client.get(reverse("accounts:two_factor"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Xác thực hai yếu tố" in body


def test_login_asks_for_the_code_after_the_password():
    person = make_user(roles.STAFF)  # not required, but enrolled: the code is asked all the same
    device = enrol(person)
    client = logged_in(person)
    page = client.get(reverse("documents:list"))
    assert page.status_code == 302 and page.url.startswith(reverse("accounts:otp_verify"))
    assert client.post(reverse("accounts:otp_verify"), {"code": "12345x"}).status_code == 400
    assert client.get(reverse("documents:list")).status_code == 302
    refused = AuditEvent.objects.get(verb=events.OTP_CODE_REFUSED, target_id=str(person.pk))
    assert refused.data["purpose"] == "login" and refused.data["code_given"] is True and refused.data["address"]
    answer = client.post(reverse("accounts:otp_verify"), {"code": code_for(device), "next": "/documents/"})
    assert answer.status_code == 302 and answer.url == "/documents/"
    assert client.get(reverse("documents:list")).status_code == 200
    # The same code cannot open another session.
    other = logged_in(person)
    assert other.post(reverse("accounts:otp_verify"), {"code": code_for(device)}).status_code == 400


def test_a_backup_code_logs_in_once():
    person = make_user(roles.STAFF)
    device = enrol(person)
    client = verified_client(person, device)
    page = client.post(reverse("accounts:two_factor_regenerate"), {"code": code_for(device)})
    assert page.status_code == 200
    code = StaticToken.objects.filter(device__user=person).values_list("token", flat=True)[0]
    assert verbs(person) == [events.OTP_BACKUP_CODES_REGENERATED]

    first = logged_in(person)
    assert first.post(reverse("accounts:otp_verify"), {"code": code}).status_code == 302
    assert first.get(reverse("documents:list")).status_code == 200
    second = logged_in(person)
    assert second.post(reverse("accounts:otp_verify"), {"code": code}).status_code == 400


def test_removing_the_second_factor_needs_a_code_and_is_audited():
    person = make_user(roles.STAFF)
    device = enrol(person)
    client = verified_client(person, device)
    assert client.post(reverse("accounts:two_factor_remove"), {"code": "999999x"}).status_code == 400
    assert two_factor.has_second_factor(person) and verbs(person) == []
    assert client.post(reverse("accounts:two_factor_remove"), {"code": code_for(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert verbs(person) == [events.OTP_REMOVED]


@pytest.fixture
def w():
    return build_province()


def test_administrator_resets_a_second_factor_in_their_agency_audited(w):
    person = w.own_leaders[0]
    enrol(person)
    answer = api(w.admin).post(f"/api/v1/users/{person.pk}/reset-second-factor/")
    assert answer.status_code == 200, answer.content
    assert not two_factor.has_second_factor(person)
    (event,) = AuditEvent.objects.filter(verb=events.OTP_RESET)
    assert event.actor_id == w.admin.pk and event.target_id == str(person.pk) and event.agency_id == w.own.pk


def test_reset_of_another_agencys_person_is_not_found_and_changes_nothing(w):
    person = w.foreign_leaders[0]
    enrol(person)
    assert api(w.admin).post(f"/api/v1/users/{person.pk}/reset-second-factor/").status_code == 404
    assert two_factor.has_second_factor(person)
    assert not AuditEvent.objects.filter(verb=events.OTP_RESET).exists()
    # Without the role: refused before anything is looked at.
    assert api(w.own_leaders[1]).post(f"/api/v1/users/{w.own_leaders[0].pk}/reset-second-factor/").status_code == 403


def test_admin_action_resets_only_people_of_the_administered_agency(w):
    own, foreign = w.own_leaders[0], w.foreign_leaders[0]
    enrol(own), enrol(foreign)
    client = verified_client(w.admin, enrol(w.admin))
    response = client.post(reverse("admin:accounts_user_changelist"), {
        "action": "reset_second_factor", "_selected_action": [own.pk, foreign.pk]})
    assert response.status_code == 302
    assert not two_factor.has_second_factor(own) and two_factor.has_second_factor(foreign)
    assert list(AuditEvent.objects.filter(verb=events.OTP_RESET).values_list("target_id", flat=True)) == [str(own.pk)]


def test_the_api_token_needs_a_fresh_code_when_the_person_has_a_second_factor():
    person = make_user(roles.STAFF)
    device = enrol(person)
    client = APIClient()
    missing = client.post("/api/v1/auth/token/", {"username": person.username, "password": PASSWORD}, format="json")
    assert missing.status_code == 400 and "otp" in missing.json()["errors"]
    code = code_for(device)
    given = client.post("/api/v1/auth/token/", {"username": person.username, "password": PASSWORD, "otp": code},
                        format="json")
    assert given.status_code == 200 and given.json()["token"]
    again = client.post("/api/v1/auth/token/", {"username": person.username, "password": PASSWORD, "otp": code},
                        format="json")
    assert again.status_code == 400
    refusals = AuditEvent.objects.filter(verb=events.OTP_CODE_REFUSED, target_id=str(person.pk)).order_by("id")
    assert [(e.data["purpose"], e.data["code_given"]) for e in refusals] == [("api_token", False), ("api_token", True)]
    # Who must have a second factor and has none enrols first.
    administrator = make_user(roles.ADMINISTRATOR, is_staff=True)
    assert client.post("/api/v1/auth/token/", {"username": administrator.username, "password": PASSWORD},
                       format="json").status_code == 403
