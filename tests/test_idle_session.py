"""Sessions end after SESSION_IDLE_MINUTES without a request; the session row is renewed at most once a minute,
not written on every request (a log-in counts as a renewal)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.sessions.models import Session

from eoffice.middleware import SESSION_TOUCHED_KEY
from tests.factories import PASSWORD, AgencyFactory, clerk

pytestmark = pytest.mark.django_db


def test_a_session_is_renewed_once_a_minute_and_expires_when_idle(client, settings):
    user = clerk(AgencyFactory())
    assert client.login(username=user.username, password=PASSWORD)
    logged_in_at = Session.objects.get().get_decoded()[SESSION_TOUCHED_KEY]
    first_expiry = Session.objects.get().expire_date
    with mock.patch("eoffice.middleware.time.time", return_value=logged_in_at + 30):
        client.get("/work/")  # within the minute of the log-in: no write
    assert Session.objects.get().expire_date == first_expiry
    with mock.patch("eoffice.middleware.time.time", return_value=logged_in_at + 90):
        client.get("/work/")  # a minute later: renewed
    assert Session.objects.get().get_decoded()[SESSION_TOUCHED_KEY] == logged_in_at + 90
    assert Session.objects.get().expire_date > first_expiry
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60
