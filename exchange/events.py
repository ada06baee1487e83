"""The exchange's audit verbs (recorded in the sender's and the recipient's chains as the rule says)."""

from django.utils.translation import gettext_lazy as _

DELIVERIES_CREATED = "exchange.deliveries_created"
ARRIVED = "exchange.arrived"
REGISTERED = "exchange.registered"
ACKNOWLEDGED = "exchange.acknowledged"
RETURNED = "exchange.returned"
STATUS_REPORTED = "exchange.status_reported"
RECALLED = "exchange.recalled"
RECALL_RECEIVED = "exchange.recall_received"
TAKE_BACK_REQUESTED = "exchange.take_back_requested"
TAKE_BACK_ANSWERED = "exchange.take_back_answered"
REPLACEMENT_LINKED = "exchange.replacement_linked"
LATE_FLAGGED = "exchange.late_registration_flagged"

LABELS = {
    DELIVERIES_CREATED: _("sent to the recipients"),
    ARRIVED: _("delivery arrived"),
    REGISTERED: _("delivery registered as incoming"),
    ACKNOWLEDGED: _("internal document received by the unit"),
    RETURNED: _("delivery returned to the sender"),
    STATUS_REPORTED: _("handling status reported to the sender"),
    RECALLED: _("document recalled from its recipients"),
    RECALL_RECEIVED: _("recall received"),
    TAKE_BACK_REQUESTED: _("sender asked for the document back"),
    TAKE_BACK_ANSWERED: _("answer to the request for the document back"),
    REPLACEMENT_LINKED: _("document marked as updating or replacing an earlier one"),
    LATE_FLAGGED: _("delivery not registered within the working day"),
}

# Packages to and from other systems (edXML, exchange/peers.py, outbound.py, inbound.py).
PACKAGE_SENT = "exchange.package_sent"
PACKAGE_FAILED = "exchange.package_failed"
PACKAGE_RECEIVED = "exchange.package_received"
LABELS.update({
    PACKAGE_SENT: _("package accepted by the other system"),
    PACKAGE_FAILED: _("package refused by the other system (given up)"),
    PACKAGE_RECEIVED: _("package received from another system"),
})
