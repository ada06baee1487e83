from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Document exchange")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from documents import holds, page_sections
        from documents.signals import document_issued
        from workflows.announcements import incoming_case_changed

        from . import notice_kinds  # noqa: F401  (registers the exchange's kinds of notice)
        from .page_section import document_section
        from .receivers import on_document_issued, on_incoming_case_changed
        from .services import recalled_reason

        page_sections.register(document_section, order=50, name="exchange")
        holds.register("exchange.recalled", recalled_reason)
        document_issued.connect(on_document_issued, dispatch_uid="exchange.document_issued")
        incoming_case_changed.connect(on_incoming_case_changed, dispatch_uid="exchange.incoming_case_changed")
        from .peers import connect as connect_peers  # edXML: statuses to and from other systems

        connect_peers()
