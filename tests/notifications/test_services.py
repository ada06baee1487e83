"""The intent row, the fan-out, preferences, digests, the sweeper and e-mail retries (services level)."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts import roles
from eoffice import notices
from notifications import services
from notifications.models import EmailMode, EmailState, Notice, NoticeEmail, NoticeEvent, Preference
from tests.factories import AgencyFactory, clerk, make_user

from .conftest import KIND, QUIET

pytestmark = pytest.mark.django_db
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def tell(key: str = "k1", **kwargs) -> None:
    kwargs.setdefault("params", {"subject": "Kế hoạch năm 2027"})
    kwargs.setdefault("url", "/work/drafts/1/")
    notices.tell(KIND, key=key, **kwargs)


def test_the_intent_is_written_in_the_callers_transaction_and_fanned_out_after_commit(
    django_capture_on_commit_callbacks,
):
    person = make_user(roles.STAFF)
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            tell(user_ids=[person.pk])
            assert NoticeEvent.objects.filter(key="k1", processed_at__isnull=True).exists()
            assert not Notice.objects.exists()  # nothing is fanned out inside the request's transaction
    assert len(callbacks) == 1
    callbacks[0]()
    notice = Notice.objects.get(user=person)
    assert notice.event.processed_at is not None and notice.url == "/work/drafts/1/"


def test_a_rolled_back_change_leaves_no_event_and_no_notice(django_capture_on_commit_callbacks):
    person = make_user(roles.STAFF)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            tell(user_ids=[person.pk])
            raise RuntimeError("the change failed")
    assert callbacks == []
    assert not NoticeEvent.objects.exists() and not Notice.objects.exists()


def test_telling_the_same_key_twice_stores_one_event(django_capture_on_commit_callbacks):
    person = make_user(roles.STAFF)
    with django_capture_on_commit_callbacks() as callbacks:
        tell(user_ids=[person.pk])
        tell(user_ids=[person.pk])
    assert len(callbacks) == 1  # one fan-out published
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert NoticeEvent.objects.count() == 1 and Notice.objects.count() == 1


def test_unknown_kinds_are_refused_and_an_empty_audience_tells_nobody(django_capture_on_commit_callbacks):
    with pytest.raises(ValueError, match="Unknown notice kind"):
        notices.tell("nobody.registered.this", key="x", user_ids=[1])
    with django_capture_on_commit_callbacks() as callbacks:
        notices.tell(KIND, key="x", user_ids=[None], agency_ids=[1])  # agencies without a permission: nobody
    assert callbacks == [] and not NoticeEvent.objects.exists()


def test_fan_out_is_idempotent_one_notice_per_person_one_email_per_notice(django_capture_on_commit_callbacks):
    people = [make_user(roles.STAFF) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        tell(user_ids=[p.pk for p in people])
    assert Notice.objects.count() == 3 and NoticeEmail.objects.count() == 3
    assert len(mail.outbox) == 3
    event = NoticeEvent.objects.get()
    # A redelivered task: the event is processed, nothing is written.
    assert services.fan_out(event.key) == 0
    # Even a task that finds the event unprocessed again (its mark lost) writes nothing twice.
    NoticeEvent.objects.filter(pk=event.pk).update(processed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.fan_out(event.key)
    assert Notice.objects.count() == 3 and NoticeEmail.objects.count() == 3
    assert services.send_pending_emails() == 0
    assert len(mail.outbox) == 3
    assert set(NoticeEmail.objects.values_list("state", flat=True)) == {EmailState.SENT}


def test_audience_by_agency_and_permission_directly_or_through_a_group():
    agency, other = AgencyFactory(), AgencyFactory()
    clerk_ = clerk(agency)  # through the Clerk group
    direct = make_user(roles.STAFF, agency)
    direct.user_permissions.add(Permission.objects.get(codename="register_incoming"))
    make_user(roles.STAFF, agency)  # no permission
    clerk(other)  # another agency
    clerk(agency, is_active=False)  # left
    make_user(None, agency, is_superuser=True)  # a superuser holds every permission but is nobody's clerk
    named = make_user(roles.STAFF, other)
    audience = notices.Audience(user_ids=(named.pk,), agency_ids=(agency.pk,), permission="documents.register_incoming")
    assert {pk for pk, _email in services.audience_of(audience)} == {clerk_.pk, direct.pk, named.pk}
    assert {pk for pk, _email in services.audience_of(audience, [clerk_.pk])} == {direct.pk, named.pk}


def test_the_actor_is_excluded(django_capture_on_commit_callbacks):
    actor, other = make_user(roles.STAFF), make_user(roles.STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        tell(user_ids=[actor.pk, other.pk], exclude=[actor.pk])
    assert list(Notice.objects.values_list("user_id", flat=True)) == [other.pk]


def test_preferences_in_app_off_email_off_and_kind_defaults(django_capture_on_commit_callbacks):
    mail_only, app_only, nothing, default = (make_user(roles.STAFF) for _ in range(4))
    no_address = make_user(roles.STAFF, email="")
    Preference.objects.create(user=mail_only, kind=KIND, in_app=False, email=EmailMode.IMMEDIATE)
    Preference.objects.create(user=app_only, kind=KIND, in_app=True, email=EmailMode.OFF)
    Preference.objects.create(user=nothing, kind=KIND, in_app=False, email=EmailMode.OFF)
    everyone = [mail_only.pk, app_only.pk, nothing.pk, default.pk, no_address.pk]
    with django_capture_on_commit_callbacks(execute=True):
        tell(user_ids=everyone)
        notices.tell(QUIET, key="quiet", user_ids=[default.pk], params={"subject": "x"})
    rows = {n.user_id: n for n in Notice.objects.filter(kind=KIND)}
    assert set(rows) == {mail_only.pk, app_only.pk, default.pk, no_address.pk}  # "nothing" wants nothing
    assert rows[mail_only.pk].in_app is False  # kept as the record and the e-mail's anchor, never shown
    assert set(NoticeEmail.objects.values_list("user_id", flat=True)) == {mail_only.pk, default.pk}
    assert Notice.objects.get(kind=QUIET).in_app and not NoticeEmail.objects.filter(notice__kind=QUIET).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([mail_only.email, default.email])


def test_digest_collects_unread_notices_once_per_period_at_the_persons_hour(django_capture_on_commit_callbacks):
    person = make_user(roles.STAFF)
    Preference.objects.create(user=person, kind=KIND, email=EmailMode.DIGEST)
    services.save_preferences(person, [], digest_hour=17)
    with django_capture_on_commit_callbacks(execute=True):
        tell("a", user_ids=[person.pk], params={"subject": "Thứ nhất"})
        tell("b", user_ids=[person.pk], params={"subject": "Thứ hai"})
        tell("c", user_ids=[person.pk], params={"subject": "Đã đọc"})
    assert not NoticeEmail.objects.exists() and mail.outbox == []
    services.mark_read(person, Notice.objects.get(event__key="c").pk)
    Notice.objects.update(created_at=datetime(2026, 3, 1, 9, 0, tzinfo=HCM))
    before = datetime(2026, 3, 1, 16, 30, tzinfo=HCM)
    assert services.send_digests(before) == 0  # not yet their hour (the last digest moment was before the notices)
    at_hour = datetime(2026, 3, 1, 17, 5, tzinfo=HCM)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_digests(at_hour) == 1
        assert services.send_digests(at_hour) == 0  # a second run in the hour: nothing more
    digest = NoticeEmail.objects.get()
    assert digest.period == datetime(2026, 3, 1, 17, 0, tzinfo=HCM) and digest.notice_id is None
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Thứ nhất" in body and "Thứ hai" in body and "Đã đọc" not in body
    assert mail.outbox[0].to == [person.email]
    assert not Notice.objects.filter(digest_pending=True).exists()


def test_a_missed_digest_hour_is_caught_up_by_the_next_run(django_capture_on_commit_callbacks):
    person = make_user(roles.STAFF)
    Preference.objects.create(user=person, kind=KIND, email=EmailMode.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        tell(user_ids=[person.pk])
    Notice.objects.update(created_at=datetime(2026, 3, 1, 9, 0, tzinfo=HCM))
    late = datetime(2026, 3, 2, 10, 0, tzinfo=HCM)  # default hour 7: the 7 to 9 o'clock runs were lost
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_digests(late) == 1
    assert NoticeEmail.objects.get().period.astimezone(HCM).hour == 7
    assert len(mail.outbox) == 1


def test_digest_period_is_the_latest_digest_moment():
    now = datetime(2026, 3, 2, 6, 59, tzinfo=HCM)
    assert services.digest_period(now, 7) == datetime(2026, 3, 1, 7, 0, tzinfo=HCM)
    assert services.digest_period(now.replace(hour=7, minute=0), 7) == datetime(2026, 3, 2, 7, 0, tzinfo=HCM)


def test_an_english_reader_gets_english_a_vietnamese_reader_vietnamese(django_capture_on_commit_callbacks):
    english, vietnamese = make_user(roles.STAFF), make_user(roles.STAFF)
    services.save_preferences(english, [], language="en")
    with django_capture_on_commit_callbacks(execute=True):
        tell(user_ids=[english.pk, vietnamese.pk], params={"subject": "Kế hoạch"})
    by_address = {m.to[0]: m for m in mail.outbox}
    assert 'Draft "Kế hoạch" waits for your review.' in by_address[english.email].subject
    assert 'Dự thảo "Kế hoạch" đang chờ đồng chí xem xét.' in by_address[vietnamese.email].subject


def test_sweeper_publishes_a_lost_event_and_pending_emails_again(django_capture_on_commit_callbacks):
    person = make_user(roles.STAFF)
    with mock.patch("eoffice.tasking.publish", return_value=False):  # the broker is down at commit
        with django_capture_on_commit_callbacks(execute=True):
            tell(user_ids=[person.pk])
    assert NoticeEvent.objects.get().processed_at is None and not Notice.objects.exists()
    assert services.sweep() == {"events": 0, "emails": 0}  # not a minute old yet
    later = timezone.now() + timedelta(minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep(later) == {"events": 1, "emails": 0}
    assert Notice.objects.filter(user=person).count() == 1
    assert NoticeEvent.objects.get().processed_at is not None
    assert len(mail.outbox) == 1


def test_a_failed_email_stays_pending_is_retried_then_given_up(django_capture_on_commit_callbacks):
    person = make_user(roles.STAFF)
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages",
                    side_effect=OSError("connection refused")):
        with django_capture_on_commit_callbacks(execute=True):
            tell(user_ids=[person.pk])
        row = NoticeEmail.objects.get()
        assert (row.state, row.attempts) == (EmailState.PENDING, 1) and "connection refused" in row.error
        later = timezone.now() + timedelta(minutes=2)
        assert services.sweep(later)["emails"] == 1  # published again (run eagerly here: attempt 2)
        for _ in range(NoticeEmail.MAX_ATTEMPTS):
            services.send_pending_emails()
    row.refresh_from_db()
    assert (row.state, row.attempts) == (EmailState.FAILED, NoticeEmail.MAX_ATTEMPTS)
    assert services.send_pending_emails() == 0 and mail.outbox == []


def test_mark_read_only_ones_own(django_capture_on_commit_callbacks):
    owner, other = make_user(roles.STAFF), make_user(roles.STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        tell(user_ids=[owner.pk])
    notice = Notice.objects.get()
    with pytest.raises(Notice.DoesNotExist):
        services.mark_read(other, notice.pk)
    assert services.mark_all_read(other) == 0
    assert services.mark_read(owner, notice.pk).read_at is not None
    assert services.mark_all_read(owner) == 0
