"""Sessions and API tokens end when they should: tokens expire; a password change (API, admin) or reset, a
deactivation and "log out everywhere" (web, API) end the person's sessions and tokens at the next request,
each audited; sessions end after SESSION_IDLE_MINUTES without activity; passwords pass Django's validators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import events, roles
from accounts.models import User
from audit.models import AuditEvent
from tests.factories import PASSWORD, AgencyFactory, clerk, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Mat-khau-moi-2026"


def events_of(verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=verb).order_by("id"))


def obtain_token(user: User, password: str = PASSWORD) -> dict:
    response = APIClient().post("/api/v1/auth/token/", {"username": user.username, "password": password},
                                format="json")
    assert response.status_code == 200, response.content
    return response.json()


def token_client(key: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def web_session(user: User, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": password})
    assert response.status_code == 302
    return client


def logged_in(client: Client) -> bool:
    return client.get(reverse("documents:list")).status_code == 200


# --- expiry ---------------------------------------------------------------------------------------------------


def test_a_token_expires_and_the_endpoint_then_issues_a_new_one(settings):
    person = clerk(AgencyFactory())
    first = obtain_token(person)
    assert timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS - 1) < \
        timezone.datetime.fromisoformat(first["expires_at"])
    assert token_client(first["token"]).get("/api/v1/me/").status_code == 200
    assert obtain_token(person)["token"] == first["token"]  # still valid: the same one
    Token.objects.filter(key=first["token"]).update(
        created=timezone.now() - timedelta(hours=settings.API_TOKEN_TTL_HOURS, minutes=1))
    response = token_client(first["token"]).get("/api/v1/me/")
    assert response.status_code == 401 and "hết hạn" in response.json()["message"]
    second = obtain_token(person)
    assert second["token"] != first["token"]
    assert token_client(second["token"]).get("/api/v1/me/").json()["username"] == person.username


# --- password changes ------------------------------------------------------------------------------------------


def test_a_password_set_through_the_api_ends_the_persons_tokens_and_sessions():
    agency = AgencyFactory()
    person = clerk(agency)
    token = obtain_token(person)["token"]
    browser = web_session(person)
    administrator = make_user(roles.ADMINISTRATOR, agency)
    admin_api = token_client(obtain_token(administrator)["token"])
    response = admin_api.patch(f"/api/v1/users/{person.pk}/", {"password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert token_client(token).get("/api/v1/me/").status_code == 401
    assert not logged_in(browser)
    [changed] = events_of(events.USER_CHANGED)
    assert changed.actor_id == administrator.pk and changed.target_id == str(person.pk)
    assert changed.data["password_set"] is True and changed.data["sessions_revoked"] is True
    assert "sessions_revoked_at" not in changed.data["changes"]
    assert obtain_token(person, NEW_PASSWORD)["token"] != token
    # The administrator's own token is untouched.
    assert admin_api.get("/api/v1/me/").status_code == 200


def test_a_weak_password_is_refused_by_the_validators():
    agency = AgencyFactory()
    person = clerk(agency)
    admin_api = token_client(obtain_token(make_user(roles.ADMINISTRATOR, agency))["token"])
    for weak in ("12345678", "password", "abc"):
        response = admin_api.patch(f"/api/v1/users/{person.pk}/", {"password": weak}, format="json")
        assert response.status_code == 400 and response.json()["errors"]["password"], weak
    assert events_of(events.USER_CHANGED) == []


def test_the_admins_password_form_goes_through_the_services():
    agency = AgencyFactory()
    person = clerk(agency)
    token = obtain_token(person)["token"]
    browser = web_session(person)
    administrator = make_user(roles.ADMINISTRATOR, agency, is_staff=True)
    admin_browser = web_session(administrator)
    response = admin_browser.post(reverse("admin:auth_user_password_change", args=[person.pk]), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert not Token.objects.filter(key=token).exists() and not logged_in(browser)
    [changed] = events_of(events.USER_CHANGED)
    assert changed.actor_id == administrator.pk and changed.data["password_set"] is True
    assert changed.data["sessions_revoked"] is True
    assert logged_in(admin_browser)


def test_a_password_set_anywhere_else_still_ends_the_token():
    # e.g. `manage.py changepassword`: no service, but the model drops the token.
    person = clerk(AgencyFactory())
    token = obtain_token(person)["token"]
    person.set_password(NEW_PASSWORD)
    person.save()
    assert token_client(token).get("/api/v1/me/").status_code == 401


# --- deactivation ------------------------------------------------------------------------------------------------


def test_a_deactivated_person_is_refused_at_the_next_request():
    agency = AgencyFactory()
    person = clerk(agency)
    token = obtain_token(person)["token"]
    browser = web_session(person)
    assert logged_in(browser)
    administrator = make_user(roles.ADMINISTRATOR, agency)
    response = token_client(obtain_token(administrator)["token"]).patch(
        f"/api/v1/users/{person.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200, response.content
    assert token_client(token).get("/api/v1/me/").status_code == 401
    assert not logged_in(browser)
    [changed] = events_of(events.USER_CHANGED)
    assert changed.data["changes"] == {"is_active": [True, False]} and changed.data["sessions_revoked"] is True
    # Even made active again, the old sessions stay ended.
    User.objects.filter(pk=person.pk).update(is_active=True)
    assert not logged_in(browser)


# --- log out everywhere ---------------------------------------------------------------------------------------


def test_log_out_all_my_sessions_from_the_web_page():
    person = clerk(AgencyFactory())
    token = obtain_token(person)["token"]
    other_browser = web_session(person)
    browser = Client(enforce_csrf_checks=True)
    login_page = browser.get(reverse("login"))
    browser.post(reverse("login"), {"username": person.username, "password": PASSWORD,
                                    "csrfmiddlewaretoken": login_page.context["csrf_token"]})
    page = browser.get(reverse("accounts:account"))
    assert page.status_code == 200 and "Đăng xuất khỏi mọi phiên" in page.content.decode()
    url = reverse("accounts:logout_everywhere")
    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403  # no CSRF token
    assert events_of(events.USER_SESSIONS_REVOKED) == []
    response = browser.post(url, {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not logged_in(browser) and not logged_in(other_browser)
    assert token_client(token).get("/api/v1/me/").status_code == 401
    [revoked] = events_of(events.USER_SESSIONS_REVOKED)
    assert revoked.actor_id == person.pk and revoked.target_id == str(person.pk)
    assert revoked.agency_id == person.agency_id and revoked.data == {"tokens_revoked": 1, "by_self": True}
    # Logging in again works.
    assert logged_in(web_session(person))


def test_log_out_everywhere_through_the_api():
    person = clerk(AgencyFactory())
    token = obtain_token(person)["token"]
    browser = web_session(person)
    response = token_client(token).post("/api/v1/me/logout-everywhere/")
    assert response.status_code == 200 and response.json()["message"]
    assert token_client(token).get("/api/v1/me/").status_code == 401
    assert not logged_in(browser)
    [revoked] = events_of(events.USER_SESSIONS_REVOKED)
    assert revoked.actor_id == person.pk and revoked.data["tokens_revoked"] == 1
    assert APIClient().post("/api/v1/me/logout-everywhere/").status_code == 401


def test_an_administrator_logs_a_person_out_everywhere_from_the_admin():
    agency = AgencyFactory()
    person = clerk(agency)
    browser = web_session(person)
    administrator = make_user(roles.ADMINISTRATOR, agency, is_staff=True)
    admin_browser = Client()
    admin_browser.force_login(administrator)
    response = admin_browser.post(reverse("admin:accounts_user_changelist"),
                                  {"action": "log_out_everywhere", "_selected_action": [person.pk]})
    assert response.status_code == 302
    assert not logged_in(browser)
    [revoked] = events_of(events.USER_SESSIONS_REVOKED)
    assert revoked.actor_id == administrator.pk and revoked.data["by_self"] is False


# --- idle sessions -----------------------------------------------------------------------------------------------


def test_a_session_ends_after_the_idle_time_and_each_request_renews_it(settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60 == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is False  # renewed at most once a minute (IdleSessionMiddleware)
    person = clerk(AgencyFactory())
    browser = web_session(person)
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=1))
    import time
    from unittest import mock

    with mock.patch("eoffice.middleware.time.time", return_value=time.time() + 120):  # the next minute
        assert logged_in(browser)
    assert Session.objects.get().expire_date > timezone.now() + timedelta(minutes=29)  # renewed
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert not logged_in(browser)


def test_the_person_changes_their_own_password_and_keeps_only_this_session():
    person = clerk(AgencyFactory())
    token = obtain_token(person)["token"]
    other_browser = web_session(person)
    browser = web_session(person)
    page = browser.get(reverse("accounts:account"))
    assert "Đổi mật khẩu" in page.content.decode()
    url = reverse("accounts:change_password")
    wrong = browser.post(url, {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    weak = browser.post(url, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"})
    assert wrong.status_code == weak.status_code == 400 and events_of(events.USER_CHANGED) == []
    response = browser.post(url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                  "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert logged_in(browser) and not logged_in(other_browser)
    assert token_client(token).get("/api/v1/me/").status_code == 401
    [changed] = events_of(events.USER_CHANGED)
    assert changed.actor_id == person.pk and changed.target_id == str(person.pk)
    assert changed.data == {"changes": {}, "password_set": True, "sessions_revoked": True}
    assert logged_in(web_session(person, NEW_PASSWORD))
