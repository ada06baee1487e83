from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from eoffice.notices import notice_requested

        from . import notice_kinds, signals  # noqa: F401  (notice_kinds registers this app's own kind)

        # The intent row is written by this receiver, inside the transaction of the change that told it.
        notice_requested.connect(signals.store_intent, dispatch_uid="notifications.store_intent")
