from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and organisation")

    def ready(self) -> None:
        from audit.selectors import register_agency_scope

        from .roles import sync_role_groups
        from .selectors import administered_agency_ids
        from .views import register_settings_sections

        # The audit log shows the chains of the agencies a person administers (the same rule as everything else).
        register_agency_scope(administered_agency_ids)

        # Permissions are created in post_migrate, so role groups are synced after them.
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
        register_settings_sections()  # accounts' own parts of the settings page; other apps add theirs
