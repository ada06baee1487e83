"""E-mails through Django's SMTP backend to a real SMTP server on loopback (aiosmtpd), checked as received."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts import roles
from eoffice import notices
from notifications import services
from notifications.models import EmailMode, EmailState, Notice, NoticeEmail, Preference
from tests.factories import make_user

from .conftest import KIND

pytestmark = pytest.mark.django_db


@override_settings(SITE_URL="https://eoffice.example.gov.vn", DEFAULT_FROM_EMAIL="thongbao@example.gov.vn")
def test_notices_are_received_by_the_smtp_server_with_subject_recipient_and_link(
    smtp_server, django_capture_on_commit_callbacks,
):
    people = [make_user(roles.STAFF) for _ in range(3)]
    english = people[0]
    services.save_preferences(english, [], language="en")
    with django_capture_on_commit_callbacks(execute=True):
        notices.tell(KIND, key="smtp-1", user_ids=[p.pk for p in people], params={"subject": "Báo cáo quý I"},
                     url="/work/drafts/7/")
    assert len(smtp_server) == 3
    received = {rcpt[0]: message for rcpt, message in smtp_server}
    assert set(received) == {p.email for p in people}
    for person in people:
        message = received[person.email]
        notice = Notice.objects.get(user=person)
        assert message["To"] == person.email and message["From"] == "thongbao@example.gov.vn"
        body = message.get_content()
        assert f"https://eoffice.example.gov.vn/notifications/{notice.pk}/open/" in body
        expected = ('Draft "Báo cáo quý I" waits for your review' if person == english
                    else 'Dự thảo "Báo cáo quý I" đang chờ đồng chí xem xét')
        assert expected in " ".join(str(message["Subject"]).split())
    assert set(NoticeEmail.objects.values_list("state", flat=True)) == {EmailState.SENT}
    # A redelivered sending task finds nothing left to send.
    assert services.send_pending_emails() == 0 and len(smtp_server) == 3


def test_the_daily_digest_is_received_as_one_message(smtp_server, django_capture_on_commit_callbacks):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    person = make_user(roles.STAFF)
    Preference.objects.create(user=person, kind=KIND, email=EmailMode.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(3):
            notices.tell(KIND, key=f"digest-{number}", user_ids=[person.pk], params={"subject": f"Dự thảo {number}"})
    assert smtp_server == []
    hcm = ZoneInfo("Asia/Ho_Chi_Minh")
    Notice.objects.update(created_at=datetime(2026, 3, 1, 9, 0, tzinfo=hcm))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_digests(datetime(2026, 3, 2, 7, 1, tzinfo=hcm)) == 1
    assert len(smtp_server) == 1
    recipients, message = smtp_server[0]
    assert recipients == [person.email]
    body = message.get_content()
    assert all(f"Dự thảo {number}" in body for number in range(3))
    assert body.count("/notifications/") == 3


def test_an_unreachable_server_keeps_the_email_pending(django_capture_on_commit_callbacks):
    from .conftest import _free_port

    person = make_user(roles.STAFF)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                           EMAIL_PORT=_free_port(), EMAIL_TIMEOUT=2):
        with django_capture_on_commit_callbacks(execute=True):
            notices.tell(KIND, key="down", user_ids=[person.pk], params={"subject": "x"})
    row = NoticeEmail.objects.get()
    assert (row.state, row.attempts) == (EmailState.PENDING, 1) and row.error
