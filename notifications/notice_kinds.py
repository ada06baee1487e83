"""This app's own kind: the reminders workflows stored as sentences before notices moved here (migration 0002).
Their text was stored in the site's language at the time; it is shown as it was. Not on the preferences page:
nothing new is ever told with it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from eoffice.notices import register_kind

LEGACY = "notifications.legacy"

register_kind(LEGACY, _("Earlier reminders"), "%(text)s", email=False)

UNLISTED = {LEGACY}
