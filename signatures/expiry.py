"""How a certificate's expiry is shown: the date and the days left, red once expired, amber within 30 days
(the certificates page and the admin lists)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

SOON = dt.timedelta(days=30)


def expiry_html(not_after: dt.datetime | None, now: dt.datetime | None = None) -> SafeString | str:
    if not_after is None:
        return "-"
    now = now or timezone.now()
    date = timezone.localtime(not_after).strftime("%d/%m/%Y")
    if not_after <= now:
        return format_html('<span class="expiry expiry-expired">{} ({})</span>', date, _("expired"))
    days = (not_after - now).days
    text = ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days}
    state = "soon" if not_after - now <= SOON else "ok"
    return format_html('<span class="expiry expiry-{}">{} ({})</span>', state, date, text)
