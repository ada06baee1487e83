"""The daily reminder that a certificate expires soon: to the right people, once per certificate and threshold,
audited; nothing for an expired certificate or one far off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts import roles
from audit.models import AuditEvent
from signatures import events, reminders
from signatures.models import ExpiryReminder, KeyStorage, SigningCredential, TrustAnchor
from tests.factories import AgencyFactory, make_user

pytestmark = pytest.mark.django_db(transaction=False)


def credential(kind, agency, user=None, days=20, fingerprint="a", **extra):
    now = timezone.now()
    return SigningCredential.objects.create(
        kind=kind, agency=agency, user=user, certificate_der=b"x", fingerprint=fingerprint * 64,
        subject=f"CN={kind} {fingerprint}", issuer="CN=CA", serial="1", not_before=now - dt.timedelta(days=300),
        not_after=now + dt.timedelta(days=days), key_storage=KeyStorage.EXTERNAL, **extra)


@pytest.fixture
def people():
    agency, other = AgencyFactory(), AgencyFactory()
    admin = make_user(roles.ADMINISTRATOR, agency)
    other_admin = make_user(roles.ADMINISTRATOR, other)
    leader = make_user(roles.AGENCY_LEADER, agency)
    return agency, admin, other_admin, leader


def _sent_to(messages) -> set[str]:
    return {address for message in messages for address in message.to}


def test_a_personal_certificate_expiring_in_20_days_reminds_its_owner_and_the_agency_administrators(
        people, django_capture_on_commit_callbacks):
    agency, admin, other_admin, leader = people
    item = credential("personal", agency, leader, days=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_expiry_reminders() == 1
    assert _sent_to(mail.outbox) == {admin.email, leader.email}
    assert len(mail.outbox) == 2
    reminder = ExpiryReminder.objects.get()
    assert (reminder.target_type, reminder.target_id, reminder.threshold_days) == ("credential", item.pk, 30)
    assert AuditEvent.objects.filter(verb=events.EXPIRY_REMINDER_SENT, target_id=str(item.pk),
                                     agency_id=agency.pk).count() == 1

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_expiry_reminders() == 0
        assert reminders.send_expiry_reminders(now=timezone.now() + dt.timedelta(days=5)) == 0
    assert mail.outbox == []
    assert ExpiryReminder.objects.count() == 1


def test_a_seal_reminds_the_agency_administrators_only(people, django_capture_on_commit_callbacks):
    agency, admin, other_admin, leader = people
    credential("seal", agency, days=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_expiry_reminders() == 1
    assert _sent_to(mail.outbox) == {admin.email}


def test_expired_far_off_or_inactive_certificates_send_nothing(people, django_capture_on_commit_callbacks):
    agency, admin, other_admin, leader = people
    credential("personal", agency, leader, days=-1, fingerprint="b")
    credential("seal", agency, days=90, fingerprint="c")
    credential("personal", agency, admin, days=15, fingerprint="d", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_expiry_reminders() == 0
    assert mail.outbox == []
    assert not ExpiryReminder.objects.exists()


def test_a_trusted_ca_certificate_reminds_the_superusers(people, django_user_model,
                                                         django_capture_on_commit_callbacks):
    root = django_user_model.objects.create_superuser("root.test", email="root@example.gov.vn", password="x")
    now = timezone.now()
    TrustAnchor.objects.create(certificate_der=b"x", fingerprint="e" * 64, subject="CN=Root", issuer="CN=Root",
                               not_before=now - dt.timedelta(days=3000), not_after=now + dt.timedelta(days=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_expiry_reminders() == 1
        assert reminders.send_expiry_reminders() == 0
    assert _sent_to(mail.outbox) == {root.email}


def test_the_task_is_routed_to_maintenance_and_runs_daily():
    from eoffice.celery import TASK_ROUTES, app

    assert TASK_ROUTES["signatures.tasks.remind_expiring_certificates"] == {"queue": "maintenance"}
    schedule = app.conf.beat_schedule["remind-expiring-certificates"]
    assert schedule == {"task": "signatures.tasks.remind_expiring_certificates", "schedule": 86400.0}


def test_the_reminder_is_a_notice_in_each_readers_language_not_a_stored_sentence(
        people, django_capture_on_commit_callbacks):
    from django.utils import translation

    from eoffice import notices
    from notifications.models import Notice, NotificationSettings
    from signatures import notice_kinds

    agency, admin, other_admin, leader = people
    NotificationSettings.objects.create(user=leader, language="en")
    credential("personal", agency, leader, days=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_expiry_reminders() == 1
    stored = {notice.user_id: notice for notice in Notice.objects.filter(kind=notice_kinds.PERSONAL_EXPIRING)}
    assert set(stored) == {admin.pk, leader.pk}
    params = stored[admin.pk].params
    assert set(params) == {"subject", "date", "days"} and params["date"].count("/") == 2  # values, no sentence
    with translation.override("vi"):
        assert notices.render(notice_kinds.PERSONAL_EXPIRING, params).startswith("Chứng thư số cá nhân")
    with translation.override("en"):
        assert notices.render(notice_kinds.PERSONAL_EXPIRING, params).startswith("The personal signing certificate")
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "Chứng thư số cá nhân" in bodies[admin.email]
    assert "The personal signing certificate" in bodies[leader.email]
