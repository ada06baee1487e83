from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The daily desk: the landing page, the counts on the menu and the folders. Reads only, above the apps
    whose work it gathers (workflows, exchange, notifications); nothing imports it."""

    name = "desk"
    verbose_name = _("My desk")
    default_auto_field = "django.db.models.BigAutoField"
