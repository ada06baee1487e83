"""Audit verbs of the dashboard's reports."""

REPORT_REQUESTED = "dashboard.report_requested"
REPORT_DOWNLOADED = "dashboard.report_downloaded"

from django.utils.translation import gettext_lazy as _  # noqa: E402

LABELS = {
    REPORT_REQUESTED: _("Report requested"),
    REPORT_DOWNLOADED: _("Report downloaded"),
}
