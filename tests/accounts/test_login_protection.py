"""Log-in guessing is limited: the client's address is the connection's unless a trusted proxy vouches for it,
the token endpoint's throttle and the lock-out cannot be escaped by changing X-Forwarded-For, an account is
locked after LOGIN_FAILURE_LIMIT failures and an address after LOGIN_FAILURE_LIMIT_PER_ADDRESS, on the web
log-in and the API token alike; the right password is refused while locked, and locks and unlocks are
audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import events, roles
from audit.models import AuditEvent
from eoffice.http import client_address
from tests.factories import PASSWORD, AgencyFactory, clerk, make_user

TOKEN_URL = "/api/v1/auth/token/"


def events_of(verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=verb).order_by("id"))


def web_login(client: Client, username: str, password: str, **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def token_login(username: str, password: str, **headers):
    return APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        TOKEN_URL, {"username": username, "password": password}, format="json", **headers
    )


def logged_in(client: Client) -> bool:
    return client.get(reverse("documents:list")).status_code == 200


# --- the client's address ----------------------------------------------------------------------------


def _request(remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_forwarded_for_is_ignored_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    assert client_address(_request("::ffff:203.0.113.7")) == "203.0.113.7"


def test_a_trusted_proxy_is_believed_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    # The client wrote "1.2.3.4" itself; the proxies appended what they saw, the nearest last.
    assert client_address(_request("10.0.0.5", "1.2.3.4, 198.51.100.9, 192.0.2.1")) == "198.51.100.9"
    assert client_address(_request("10.0.0.5", "198.51.100.9")) == "198.51.100.9"
    # No header, or garbage in it: the nearest address a trusted proxy vouched for.
    assert client_address(_request("10.0.0.5")) == "10.0.0.5"
    assert client_address(_request("10.0.0.5", "1.2.3.4, not-an-address")) == "10.0.0.5"
    # A request not from a trusted proxy: its header is anyone's.
    assert client_address(_request("203.0.113.7", "198.51.100.9")) == "203.0.113.7"


# --- the token endpoint's throttle --------------------------------------------------------------------


@pytest.mark.django_db
def test_changing_forwarded_for_does_not_escape_the_token_throttle():
    # Ten tries a minute per address (API_TOKEN_RATE), each for another name so the lock-out stays out of it.
    for number in range(10):
        response = token_login(f"nobody{number}", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
        assert response.status_code == 400, response.content
    response = token_login("nobody-else", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert response.status_code == 429 and response.json()["message"]


# --- lock-out per account -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_token_endpoint_locks_the_account_whatever_forwarded_for_says(settings):
    person = clerk(AgencyFactory())
    for number in range(settings.LOGIN_FAILURE_LIMIT - 1):
        response = token_login(person.username, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
        assert response.status_code == 400
    response = token_login(person.username, "wrong", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429
    assert "bị khóa" in response.json()["message"] and response["Retry-After"] == str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    # The right password is refused too while the lock lasts.
    response = token_login(person.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.100")
    assert response.status_code == 429 and "token" not in response.json()
    [locked] = events_of(events.LOGIN_LOCKED)
    assert locked.target_id == str(person.pk) and locked.agency_id == person.agency_id and locked.actor_id is None
    assert locked.data["locked"] == "account" and locked.data["failures"] == settings.LOGIN_FAILURE_LIMIT
    assert locked.data["address"] == "127.0.0.1"  # the connection's, not any header's


@pytest.mark.django_db
def test_the_web_login_locks_the_account_in_vietnamese_and_the_lock_expires(settings):
    person = clerk(AgencyFactory())
    client = Client()
    for _try in range(settings.LOGIN_FAILURE_LIMIT - 1):
        response = web_login(client, person.username, "wrong", HTTP_X_FORWARDED_FOR="198.51.100.1")
        assert response.status_code == 200 and "alert" in response.content.decode()
    response = web_login(client, person.username, "wrong", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in response.content.decode()
    # Right password, another "address": still locked, not logged in.
    response = web_login(client, person.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.3")
    assert response.status_code == 429 and not logged_in(client)
    assert len(events_of(events.LOGIN_LOCKED)) == 1  # refused tries during the lock are not new locks
    # LOGIN_LOCKOUT_MINUTES after the last counted failure, the lock has expired.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1))
    response = web_login(client, person.username, PASSWORD)
    assert response.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_the_lock_message_is_in_english_on_request(settings):
    person = clerk(AgencyFactory())
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _try in range(settings.LOGIN_FAILURE_LIMIT):
        response = web_login(client, person.username, "wrong")
    assert response.status_code == 429 and "Too many failed log-in attempts" in response.content.decode()


# --- lock-out per address (spraying) -----------------------------------------------------------------------


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_locked_but_others_are_not(settings):
    agency = AgencyFactory()
    victim = clerk(agency)
    sprayer = Client(REMOTE_ADDR="203.0.113.50")
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        response = web_login(sprayer, f"guess{number}", "Password1!")
    assert response.status_code == 429
    [locked] = events_of(events.LOGIN_LOCKED)
    assert locked.data["locked"] == "address" and locked.data["address"] == "203.0.113.50"
    assert locked.agency_id is None  # an address is no agency's: the installation's chain
    # The address is refused even with a right password; the person elsewhere is not.
    assert web_login(sprayer, victim.username, PASSWORD).status_code == 429 and not logged_in(sprayer)
    elsewhere = Client(REMOTE_ADDR="203.0.113.51")
    assert web_login(elsewhere, victim.username, PASSWORD).status_code == 302 and logged_in(elsewhere)


@pytest.mark.django_db
def test_an_office_behind_one_address_survives_a_few_typing_errors(settings):
    agency = AgencyFactory()
    people = [clerk(agency) for _n in range(4)]
    office = "203.0.113.60"
    for person in people:  # a wrong try each, then the right password
        assert web_login(Client(REMOTE_ADDR=office), person.username, "typo").status_code == 200
    for person in people:
        client = Client(REMOTE_ADDR=office)
        assert web_login(client, person.username, PASSWORD).status_code == 302 and logged_in(client)
    assert events_of(events.LOGIN_LOCKED) == []


@pytest.mark.django_db
def test_a_trusted_proxy_gives_each_client_behind_it_its_own_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    person = clerk(AgencyFactory())
    for _try in range(settings.LOGIN_FAILURE_LIMIT):
        web_login(Client(REMOTE_ADDR="10.0.0.1"), person.username, "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7")
    [locked] = events_of(events.LOGIN_LOCKED)
    assert locked.data["address"] == "198.51.100.7"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


# --- unlocking ----------------------------------------------------------------------------------------------


def _lock(settings, person) -> None:
    for _try in range(settings.LOGIN_FAILURE_LIMIT):
        response = token_login(person.username, "wrong")
    assert response.status_code == 429


@pytest.mark.django_db
def test_an_administrator_unlocks_a_person_through_the_api_and_it_is_audited(settings):
    agency = AgencyFactory()
    person = clerk(agency)
    _lock(settings, person)
    administrator = make_user(roles.ADMINISTRATOR, agency)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(administrator)
    # Another agency's administrator does not find the person; a colleague without the role may not.
    outsider = APIClient()
    outsider.force_authenticate(make_user(roles.ADMINISTRATOR, AgencyFactory()))
    assert outsider.post(f"/api/v1/users/{person.pk}/unlock/").status_code == 404
    colleague = APIClient()
    colleague.force_authenticate(clerk(agency))
    assert colleague.post(f"/api/v1/users/{person.pk}/unlock/").status_code == 403
    assert events_of(events.LOGIN_UNLOCKED) == []

    response = client.post(f"/api/v1/users/{person.pk}/unlock/")
    assert response.status_code == 200 and response.json()["unlocked"] == 1
    [unlocked] = events_of(events.LOGIN_UNLOCKED)
    assert unlocked.actor_id == administrator.pk and unlocked.target_id == str(person.pk)
    assert unlocked.agency_id == agency.pk and unlocked.data["failures"] == settings.LOGIN_FAILURE_LIMIT
    assert token_login(person.username, PASSWORD).status_code == 200
    # Nothing left to unlock: nothing recorded.
    assert client.post(f"/api/v1/users/{person.pk}/unlock/").json()["unlocked"] == 0
    assert len(events_of(events.LOGIN_UNLOCKED)) == 1


@pytest.mark.django_db
def test_an_administrator_unlocks_from_the_people_page_of_the_admin(settings):
    agency = AgencyFactory()
    person = clerk(agency)
    _lock(settings, person)
    administrator = make_user(roles.ADMINISTRATOR, agency, is_staff=True)
    client = Client()
    client.force_login(administrator)
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "unlock_login", "_selected_action": [person.pk]})
    assert response.status_code == 302
    [unlocked] = events_of(events.LOGIN_UNLOCKED)
    assert unlocked.actor_id == administrator.pk and unlocked.target_id == str(person.pk)
    assert not AccessAttempt.objects.exists()


@pytest.mark.django_db
def test_the_installation_administrator_sees_failed_logins_and_unlocks_an_address_in_the_admin(settings):
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        web_login(Client(REMOTE_ADDR="203.0.113.70"), f"guess{number}", "wrong")
    root = make_user(None, None, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "203.0.113.70" in listing.content.decode()
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = client.post(reverse("admin:axes_accessattempt_changelist"),
                           {"action": "delete_selected", "_selected_action": attempts, "post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    unlocked = events_of(events.LOGIN_UNLOCKED)
    assert len(unlocked) == settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS  # one per log-in name tried
    assert all(event.actor_id == root.pk and event.data["addresses"] == ["203.0.113.70"] for event in unlocked)
    assert web_login(Client(REMOTE_ADDR="203.0.113.70"), "guess0", "wrong").status_code == 200


@pytest.mark.django_db
def test_a_request_without_an_address_is_still_counted(settings):
    person = clerk(AgencyFactory())
    client = Client(REMOTE_ADDR="")
    for _try in range(settings.LOGIN_FAILURE_LIMIT):
        response = web_login(client, person.username, "wrong")
    assert response.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [None]
