"""Audit verbs of the registry."""

REGISTER_CREATED = "register.created"
REGISTER_CHANGED = "register.changed"
DOCUMENT_REGISTERED_OUTGOING = "document.registered_outgoing"
DOCUMENT_REGISTERED_INCOMING = "document.registered_incoming"
DOCUMENT_FILE_ATTACHED = "document.file_attached"
DOCUMENT_ACCESS_GRANTED = "document.access_granted"
DOCUMENT_ACCESS_REVOKED = "document.access_revoked"
DOCUMENT_DUPLICATE_CONFIRMED = "document.duplicate_confirmed"
REGISTER_PRINTED = "register.printed"
DOCUMENT_FILE_PROCESSED = "document.file_processed"
# A file of a confidential document (confidentiality above "Not secret") opened or downloaded: who, when, which
# file. Not shown in the document's history: only its agency's clerks and leaders see who opened it.
DOCUMENT_FILE_OPENED = "document.file_opened"
# A document registered as part of a work file imported from another installation (records/ BagIt import).
DOCUMENT_IMPORTED = "document.imported"

from django.utils.translation import gettext_lazy as _  # noqa: E402

LABELS = {
    REGISTER_CREATED: _("register opened"),
    REGISTER_CHANGED: _("register changed"),
    DOCUMENT_REGISTERED_OUTGOING: _("registered as outgoing document"),
    DOCUMENT_REGISTERED_INCOMING: _("registered as incoming document"),
    DOCUMENT_FILE_ATTACHED: _("file attached"),
    DOCUMENT_FILE_PROCESSED: _("file processed (pages and text)"),
    DOCUMENT_ACCESS_GRANTED: _("access granted"),
    DOCUMENT_ACCESS_REVOKED: _("access revoked"),
    DOCUMENT_DUPLICATE_CONFIRMED: _("registered despite a possible duplicate"),
    REGISTER_PRINTED: _("register printed"),
    DOCUMENT_FILE_OPENED: _("confidential file opened"),
    DOCUMENT_IMPORTED: _("registered from an imported work file"),
}
