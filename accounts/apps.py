from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and organisation")

    def ready(self) -> None:
        from .roles import sync_role_groups
        from .views import register_settings_sections

        # Permissions are created in post_migrate, so role groups are synced after them.
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
        register_settings_sections()  # accounts' own parts of the settings page; other apps add theirs
