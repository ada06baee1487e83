from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save, pre_save

        from . import notice_kinds, signals  # noqa: F401  (notice_kinds registers the kinds of notice told here)

        user_model = get_user_model()
        pre_save.connect(signals.remember_previous_unit, sender=user_model, dispatch_uid="workflows.previous_unit")
        post_save.connect(signals.sync_unit_groups_of_person, sender=user_model, dispatch_uid="workflows.unit_groups")
        from accounts.models import Agency

        post_save.connect(signals.seed_default_chain, sender=Agency, dispatch_uid="workflows.default_chain")

        # Draft PDFs are verified like documents' files; signatures of drafts come back to draft_signing.
        from signatures.signals import verify_attached_pdf

        from . import draft_signing
        from .drafting import DraftVersion

        post_save.connect(verify_attached_pdf, sender=DraftVersion, dispatch_uid="workflows.verify_draft_version")
        draft_signing.register()

        # A secret draft's events (signing ones included) only for those who may see the draft.
        from audit.selectors import register_target_filter

        from .drafting_selectors import audit_target_filter

        register_target_filter("workflows.draft", audit_target_filter)

        # The agencies' usual instruction phrases on the administrator's settings page (accounts).
        from .settings_section import register_settings_section

        register_settings_section()

        from .handling_settings import register_handling_section

        register_handling_section()
