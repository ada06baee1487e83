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


# --- A missing or stale compiled catalogue cannot go unnoticed (eoffice/translations.py, eoffice.checks) ----------

def _locale_copy(tmp_path: Path) -> Path:
    """A locale folder with the project's Vietnamese .po and no .mo."""
    folder = tmp_path / "locale" / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.po").write_bytes(PO.read_bytes())
    return tmp_path / "locale"


def test_the_system_check_fails_on_a_missing_or_stale_catalogue_with_the_command_to_fix_it(tmp_path, settings):
    import os

    from eoffice.checks import check_compiled_translations
    from eoffice.translations import compile_stale_catalogues

    settings.LOCALE_PATHS = [_locale_copy(tmp_path)]
    errors = check_compiled_translations(None)
    assert [error.id for error in errors] == ["eoffice.E005"]
    assert "missing" in errors[0].msg and "python manage.py compile_translations" in errors[0].hint

    compiled, failed = compile_stale_catalogues()
    assert len(compiled) == 1 and failed == [] and check_compiled_translations(None) == []

    po = tmp_path / "locale" / "vi" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    os.utime(mo, (mo.stat().st_mtime - 60, mo.stat().st_mtime - 60))  # the .po was edited after compiling
    errors = check_compiled_translations(None)
    assert [error.id for error in errors] == ["eoffice.E005"] and "older than its source" in errors[0].msg


def test_manage_py_check_refuses_to_go_on_with_a_missing_catalogue(tmp_path, settings):
    """What `runserver` and `migrate` run first."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.LOCALE_PATHS = [_locale_copy(tmp_path)]
    with pytest.raises(SystemCheckError, match="eoffice.E005"):
        call_command("check")


def test_start_up_compiles_a_missing_catalogue_and_the_interface_is_vietnamese(tmp_path, settings):
    from django.apps import apps
    from django.utils import translation

    locale = _locale_copy(tmp_path)
    settings.LOCALE_PATHS = [locale]
    mo = locale / "vi" / "LC_MESSAGES" / "django.mo"
    try:
        apps.get_app_config("eoffice").ready()  # what every process start does
        assert mo.exists()
        with translation.override("vi"):
            assert translation.gettext("Register incoming") == "Đăng ký văn bản đến"
        before = mo.stat().st_mtime_ns
        apps.get_app_config("eoffice").ready()  # up to date: left alone
        assert mo.stat().st_mtime_ns == before
    finally:  # the settings fixture puts LOCALE_PATHS back; the catalogues loaded from tmp_path go
        from eoffice.translations import _forget_loaded_catalogues

        _forget_loaded_catalogues()


def test_a_catalogue_that_cannot_be_written_is_left_to_the_check(tmp_path, settings, caplog, monkeypatch):
    from eoffice import translations
    from eoffice.checks import check_compiled_translations

    settings.LOCALE_PATHS = [_locale_copy(tmp_path)]
    monkeypatch.setattr(translations.os, "access", lambda path, mode: False)  # a read-only image
    compiled, failed = translations.compile_stale_catalogues()
    assert compiled == [] and len(failed) == 1 and "not writable" in failed[0][1]
    assert "python manage.py compile_translations" in caplog.text
    assert [error.id for error in check_compiled_translations(None)] == ["eoffice.E005"]


def test_the_checked_in_catalogues_are_compiled():
    """The project's own catalogues as the check sees them (compiled by `make` or at start-up)."""
    from eoffice.translations import stale_catalogues

    assert stale_catalogues() == []


# --- One word, two meanings: contexts (pgettext) ------------------------------------------------------------------

@pytest.mark.django_db
def test_the_registration_button_says_enter_in_the_register_not_the_register_itself(client):
    user = clerk(AgencyFactory())
    assert client.login(username=user.username, password=PASSWORD)
    page = client.get(reverse("documents:register_incoming")).content.decode()
    assert '<button type="submit">Vào sổ</button>' in page
    assert '<label for="id_register">Sổ:</label>' in page or '<label for="id_register">Sổ</label>' in page  # the noun


def test_contexts_give_distinct_translations():
    from django.utils import translation

    with translation.override("vi"):
        assert translation.pgettext("verb: enter a document in the register", "Register") == "Vào sổ"
        assert translation.gettext("Register") == "Sổ"
        assert translation.pgettext("open a new register", "Open") == "Mở sổ"
        assert translation.pgettext("signature verification", "Report") == "Kết quả kiểm tra"
        assert translation.pgettext("a signing request being worked on", "Signing") == "Đang ký số"
        assert translation.gettext("Signing") == "Ký ban hành"  # the step of a review chain
    with translation.override("en"):
        assert translation.pgettext("verb: enter a document in the register", "Register") == "Register"
