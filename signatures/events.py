"""Audit verbs of the signatures app, with their labels for the history timelines."""

from django.utils.translation import gettext_lazy as _

CREDENTIAL_IMPORTED = "signatures.credential_imported"
CREDENTIAL_DEACTIVATED = "signatures.credential_deactivated"
TRUST_ANCHOR_ADDED = "signatures.trust_anchor_added"
TRUST_ANCHOR_REMOVED = "signatures.trust_anchor_removed"
SIGNING_REQUESTED = "signatures.signing_requested"
SIGNING_DONE = "signatures.signing_done"
SIGNING_FAILED = "signatures.signing_failed"
CRL_STORED = "signatures.crl_stored"
# A signature or seal refused for a wrong, reused or missing one-time code (nothing else changed).
SIGNING_CODE_REFUSED = "signatures.signing_code_refused"
EXPIRY_REMINDER_SENT = "signatures.expiry_reminder_sent"

LABELS = {
    CREDENTIAL_IMPORTED: _("signing certificate imported"),
    CREDENTIAL_DEACTIVATED: _("signing certificate deactivated"),
    TRUST_ANCHOR_ADDED: _("trusted CA certificate added"),
    TRUST_ANCHOR_REMOVED: _("trusted CA certificate removed"),
    SIGNING_REQUESTED: _("digital signature requested"),
    SIGNING_DONE: _("signed digitally"),
    SIGNING_FAILED: _("digital signing failed"),
    CRL_STORED: _("revocation list stored"),
    SIGNING_CODE_REFUSED: _("signing refused: wrong one-time code"),
    EXPIRY_REMINDER_SENT: _("certificate expiry reminder sent"),
}
