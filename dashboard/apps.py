from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The leaders' dashboard and the statistical reports: aggregate figures over the registry, the handling,
    the signatures and the exchange, each linked to the documents behind it. Reads only; nothing imports it."""

    name = "dashboard"
    verbose_name = _("Dashboard and reports")
    default_auto_field = "django.db.models.BigAutoField"
