from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Document registry")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import tasks  # noqa: F401 - registers the Celery tasks, which processing publishes by name
        from .selectors import forget_permission_ids
        from .settings_section import register_settings_section

        post_migrate.connect(forget_permission_ids, dispatch_uid="documents.forget_permission_ids")
        register_settings_section()  # the registers on the administrator's settings page (accounts)
