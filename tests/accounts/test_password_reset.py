"""Forgot password: the mail is sent by a worker, never by the web process; an unknown address gets the same
answer; the link works once; the new password ends every session and the API token, audited; the lock-out still
applies. The log-in page names the installation (and the agency) and offers the reset."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts import events, password_reset
from accounts.models import User
from audit.models import AuditEvent
from tests.factories import PASSWORD, AgencyFactory, clerk

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Mat-khau-moi-2026"


@pytest.fixture
def queued(monkeypatch):
    """The tasks the web process publishes, kept instead of run: proves nothing is sent inline."""
    published: list[tuple] = []
    monkeypatch.setattr(password_reset, "publish", lambda name, *args: published.append((name, *args)) or True)
    cache.clear()
    return published


def run_queued(queued: list[tuple]) -> None:
    """What the worker does with them (accounts.tasks.send_password_reset)."""
    from accounts.tasks import send_password_reset

    for name, *args in queued:
        assert name == "accounts.tasks.send_password_reset"
        send_password_reset(*args)
    queued.clear()


def ask(client: Client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def link_path(message) -> str:
    """The path of the one-time link in a reset mail (the mail carries SITE_URL before it)."""
    return re.search(r"https?://[^/\s]+(/password-reset/\S+/\S+/)", message.body).group(1)


def set_password(client: Client, path: str, password: str = NEW_PASSWORD):
    """Open the link (Django moves the token into the session and redirects) and post the new password."""
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    return client.post(form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_the_reset_mail_is_queued_not_sent_inline_and_unknown_addresses_get_the_same_answer(client, queued):
    person = clerk(AgencyFactory(), email="van.thu@example.gov.vn")
    known = ask(client, "Van.Thu@example.gov.vn")
    unknown = ask(client, "nobody@example.gov.vn")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert mail.outbox == []  # the web process sent nothing
    assert [args[1] for args in queued] == ["Van.Thu@example.gov.vn", "nobody@example.gov.vn"]
    done = client.get(reverse("password_reset_done")).content.decode()
    assert "Nếu có tài khoản" in done or "If an account has this address" in done

    run_queued(queued)
    assert [message.to for message in mail.outbox] == [[person.email]]  # one mail, to the known person only
    assert AuditEvent.objects.filter(verb=events.PASSWORD_RESET_MAILED, target_id=str(person.pk)).count() == 1


def test_the_link_sets_a_new_password_once_and_ends_every_session_and_token(client, queued):
    person = clerk(AgencyFactory())
    other_device = Client()
    assert other_device.login(username=person.username, password=PASSWORD)
    Token.objects.create(user=person)
    ask(client, person.email)
    run_queued(queued)
    path = link_path(mail.outbox[0])
    answer = set_password(client, path)
    assert answer.status_code == 302 and answer["Location"] == reverse("password_reset_complete")

    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD) and person.sessions_revoked_at is not None
    assert not Token.objects.filter(user=person).exists()
    assert other_device.get(reverse("documents:list")).status_code == 302  # the other session ended
    assert "_auth_user_id" not in client.session  # not logged in by the reset: the second factor still applies
    event = AuditEvent.objects.filter(verb=events.USER_CHANGED, target_id=str(person.pk)).latest("id")
    assert event.actor_id == person.pk
    assert event.data["password_reset_by_email"] is True and event.data["sessions_revoked"] is True

    again = Client().get(path, follow=True)  # the same link a second time
    assert again.context["validlink"] is False
    assert Client().login(username=person.username, password=NEW_PASSWORD)


def test_the_new_password_passes_the_validators(client, queued):
    person = clerk(AgencyFactory())
    ask(client, person.email)
    run_queued(queued)
    answer = set_password(client, link_path(mail.outbox[0]), "12345678")
    assert answer.status_code == 200
    assert User.objects.get(pk=person.pk).check_password(PASSWORD)


def test_people_without_a_usable_password_or_inactive_get_no_mail(client, queued):
    agency = AgencyFactory()
    inactive = clerk(agency, email="nghi@example.gov.vn", is_active=False)
    no_password = clerk(agency, email="moi@example.gov.vn")
    no_password.set_unusable_password()
    no_password.save()
    for person in (inactive, no_password):
        ask(client, person.email)
    run_queued(queued)
    assert mail.outbox == []


def test_a_stranger_cannot_flood_a_mailbox(client, queued, settings):
    settings.PASSWORD_RESET_MAILS_PER_HOUR = 2
    person = clerk(AgencyFactory())
    for _ in range(4):
        ask(client, person.email)
    run_queued(queued)
    assert len(mail.outbox) == 2


def test_the_mail_speaks_the_language_of_the_page(client, queued):
    person = clerk(AgencyFactory())
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    ask(client, person.email)
    run_queued(queued)
    assert "Set a new password" in mail.outbox[0].subject
    assert "ignore this e-mail" in mail.outbox[0].body


def test_the_lockout_still_applies_after_a_reset(client, queued, settings):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 2
    person = clerk(AgencyFactory())
    for _ in range(2):
        Client().post(reverse("login"), {"username": person.username, "password": "wrong"})
    ask(client, person.email)
    run_queued(queued)
    set_password(client, link_path(mail.outbox[0]))
    assert User.objects.get(pk=person.pk).check_password(NEW_PASSWORD)
    locked = Client().post(reverse("login"), {"username": person.username, "password": NEW_PASSWORD})
    assert locked.status_code == 429  # still locked until the lock-out time has passed


def test_the_login_page_names_the_installation_and_the_agency_and_offers_the_reset(client, settings):
    settings.INSTALLATION_NAME = ""
    province = AgencyFactory(name="Ủy ban nhân dân tỉnh Hòa Bình", abbreviation="UBND")
    department = AgencyFactory(name="Sở Nội vụ", abbreviation="SNV", parent=province)
    page = client.get(reverse("login")).content.decode()
    assert "Hệ thống quản lý văn bản và điều hành" in page
    assert province.name in page and department.name not in page  # the province: the only top agency
    assert reverse("password_reset") in page
    page = client.get(reverse("login") + "?agency=snv").content.decode()
    assert department.name in page
    settings.INSTALLATION_NAME = "Hệ thống văn bản tỉnh Hòa Bình"
    page = client.get(reverse("login")).content.decode()
    assert "<title>Đăng nhập · Hệ thống văn bản tỉnh Hòa Bình</title>" in page


def test_the_favicon_is_linked_and_served(client):
    page = client.get(reverse("login")).content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in page
    assert client.get("/static/favicon.svg").status_code == 200
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 301 and redirect["Location"].endswith("favicon.ico")
    assert client.get(redirect["Location"]).status_code == 200


def test_the_admin_carries_the_installation_name(client, settings):
    settings.INSTALLATION_NAME = "Hệ thống văn bản tỉnh Hòa Bình"
    admin = User.objects.create_superuser("quantri", "qt@example.gov.vn", PASSWORD)
    assert client.login(username=admin.username, password=PASSWORD)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Hệ thống văn bản tỉnh Hòa Bình" in page and "admin-brand.css" in page
    assert "Django" not in page.split("<body", 1)[1].split("</header>", 1)[0]


def test_sessions_table_is_untouched_by_asking(client, queued):
    """Asking for a link changes nothing in the account (a stranger can ask for anyone)."""
    person = clerk(AgencyFactory())
    other = Client()
    assert other.login(username=person.username, password=PASSWORD)
    sessions = Session.objects.count()
    ask(client, person.email)
    run_queued(queued)
    assert Session.objects.count() >= sessions and other.get(reverse("documents:list")).status_code == 200
    assert User.objects.get(pk=person.pk).check_password(PASSWORD)


# --- or by the agency's administrator ----------------------------------------------------------------------------


def test_an_agency_administrator_sends_a_reset_link_from_the_people_page(client, monkeypatch):
    from django.core.exceptions import PermissionDenied

    from accounts.tasks import send_password_reset_to
    from tests.scoping import build_province

    w = build_province()
    published: list[tuple] = []
    monkeypatch.setattr(password_reset, "publish_on_commit", lambda name, *args: published.append((name, *args)))
    assert client.login(username=w.admin.username, password=PASSWORD)
    answer = client.post(reverse("admin:accounts_user_changelist"), {
        "action": "send_password_reset_link", "_selected_action": [w.own_clerk.pk]}, follow=True)
    assert answer.status_code == 200
    assert published == [("accounts.tasks.send_password_reset_to", w.own_clerk.pk, "vi")]
    assert mail.outbox == []  # the worker sends it
    event = AuditEvent.objects.get(verb=events.PASSWORD_RESET_LINK_SENT)
    assert (event.actor_id, event.target_id) == (w.admin.pk, str(w.own_clerk.pk))

    with pytest.raises(PermissionDenied):  # another agency's person: not this administrator's
        password_reset.mail_reset_link(w.admin, w.foreign_clerk, "vi")
    with pytest.raises(PermissionDenied):  # a clerk administers no one
        password_reset.mail_reset_link(w.own_clerk, w.own_clerk, "vi")
    assert AuditEvent.objects.filter(verb=events.PASSWORD_RESET_LINK_SENT).count() == 1
    assert published == [("accounts.tasks.send_password_reset_to", w.own_clerk.pk, "vi")]

    assert send_password_reset_to(w.own_clerk.pk, "vi") == 1
    assert [message.to for message in mail.outbox] == [[w.own_clerk.email]]
    assert set_password(Client(), link_path(mail.outbox[0])).status_code == 302
