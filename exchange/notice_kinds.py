"""The exchange's kinds of notice (eoffice.notices): texts are rendered in the reader's language."""

from django.utils.translation import gettext_lazy as _

from eoffice.notices import register_kind

from .models import BusinessType, StatusCode

ARRIVED = register_kind(
    "exchange.arrived", _("A document arrived for my agency or unit"),
    _("Document %(number)s from %(sender)s arrived: %(subject)s"),
)
RETURNED = register_kind(
    "exchange.returned", _("A recipient returned a document I sent"),
    _("%(recipient)s returned document %(number)s: %(reason)s"),
)
STATUS = register_kind(
    "exchange.status", _("A recipient's handling of a document I sent moved on"),
    _("%(recipient)s: %(status)s - document %(number)s"), email=False,
    choices={"status": dict(StatusCode.choices)},
)
RECALLED = register_kind(
    "exchange.recalled", _("A document I hold was recalled by its sender"),
    _("%(sender)s recalled document %(number)s: %(reason)s"),
)
TAKE_BACK_REQUESTED = register_kind(
    "exchange.take_back_requested", _("A sender asks for a document back"),
    _("%(sender)s asks for document %(number)s back: %(reason)s"),
)
TAKE_BACK_ANSWERED = register_kind(
    "exchange.take_back_answered", _("A recipient answered my request for a document back"),
    _("%(recipient)s: %(status)s - document %(number)s %(reason)s"),
    choices={"status": dict(StatusCode.choices)},
)
REPLACED = register_kind(
    "exchange.replaced", _("A document I hold was updated or replaced"),
    _("Document %(number)s from %(sender)s - %(kind)s of document %(old_number)s"),
    choices={"kind": {str(value): label for value, label in BusinessType.choices}},
)
LATE = register_kind(
    "exchange.late", _("A delivery was not registered within the working day"),
    _("Document %(number)s from %(sender)s to %(recipient)s is not registered yet"),
)
PACKAGE_FAILED = register_kind(
    "exchange.package_failed", _("A package to another system failed"),
    _("Document %(number)s could not be delivered to %(recipient)s: %(reason)s"),
)
