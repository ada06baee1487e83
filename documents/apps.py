from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Document registry")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .selectors import forget_permission_ids

        post_migrate.connect(forget_permission_ids, dispatch_uid="documents.forget_permission_ids")
