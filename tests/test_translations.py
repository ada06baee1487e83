"""The UI is Vietnamese by default: every message has a translation, and English stays switchable."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD, AgencyFactory, clerk

PO = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_vietnamese_translation():
    catalogue = polib.pofile(str(PO))
    missing = [entry.msgid for entry in catalogue if not entry.translated() and not entry.obsolete]
    assert missing == []
    assert all(all(ord(c) < 128 for c in entry.msgid) for entry in catalogue), "msgids must be ASCII (xgettext)"


@pytest.mark.django_db
def test_vietnamese_by_default_whatever_the_browser_asks_and_english_on_request(client):
    user = clerk(AgencyFactory())
    assert client.login(username=user.username, password=PASSWORD)
    page = client.get(reverse("documents:list"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Đăng ký văn bản đi" in page.content.decode() and page["Content-Language"] == "vi"
    client.post(reverse("set_language"), {"language": "en", "next": "/documents/"})
    page = client.get(reverse("documents:list"))
    assert "Register outgoing" in page.content.decode() and page["Content-Language"] == "en"
