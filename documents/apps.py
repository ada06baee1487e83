from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Document registry")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from audit.selectors import register_target_filter

        from . import tasks  # noqa: F401 - registers the Celery tasks, which processing publishes by name
        from .selectors import audit_target_filter, forget_permission_ids
        from .settings_section import register_settings_section

        post_migrate.connect(forget_permission_ids, dispatch_uid="documents.forget_permission_ids")
        # A secret document's events only for those who may see the document (visible_documents).
        register_target_filter("documents.document", audit_target_filter)
        register_settings_section()  # the registers on the administrator's settings page (accounts)
