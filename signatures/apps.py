from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignaturesConfig(AppConfig):
    name = "signatures"
    verbose_name = _("Digital signatures")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from accounts.two_factor import register_requirement
        from documents.models import DocumentFile

        # checks registers the key-encryption key's deploy check; notice_kinds the kinds of notice told here.
        from . import checks, notice_kinds, signals  # noqa: F401
        from .selectors import must_have_second_factor

        # Who signs or seals must have a second factor (OTP_REQUIRED); accounts asks, without importing us.
        register_requirement(must_have_second_factor)

        # Every PDF attached to a document is verified; apps above (drafts) connect their own files.
        post_save.connect(signals.verify_attached_pdf, sender=DocumentFile, dispatch_uid="signatures.verify_document_file")
