from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    """Work files, the annual file catalogue, retention, transfer to the agency archive, disposition and
    fixity (Decree 30/2020 Art. 28–31). Above documents, signatures and workflows; nothing imports it."""

    name = "records"
    verbose_name = _("Records and archive")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from documents import page_sections

        from . import notice_kinds  # noqa: F401 - registers the kinds of notice records tells
        from .views import document_section

        page_sections.register(document_section, order=150, name="records.work_files")
