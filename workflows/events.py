"""Audit verbs of the incoming-document workflow. Every event targets the document, so the document's
history on its detail page is the processing timeline."""

CASE_OPENED = "incoming.opened"
CASE_PRESENTED = "incoming.presented"
CASE_RETURNED = "incoming.returned"
CASE_DIRECTED = "incoming.directed"
CASE_ASSIGNED = "incoming.assigned"
CASE_PROGRESS = "incoming.progress"
EXTENSION_REQUESTED = "incoming.extension_requested"
EXTENSION_APPROVED = "incoming.extension_approved"
EXTENSION_REFUSED = "incoming.extension_refused"
ASSIGNMENT_COMPLETED = "incoming.assignment_completed"
ASSIGNMENT_OVERDUE = "incoming.assignment_overdue"
CASE_COMPLETED = "incoming.completed"

from django.utils.translation import gettext_lazy as _  # noqa: E402

LABELS = {
    CASE_OPENED: _("entered for handling"),
    CASE_PRESENTED: _("presented to the agency leader"),
    CASE_RETURNED: _("returned with a reason"),
    CASE_DIRECTED: _("directed by the agency leader"),
    CASE_ASSIGNED: _("assigned within the unit"),
    CASE_PROGRESS: _("progress recorded"),
    EXTENSION_REQUESTED: _("deadline extension requested"),
    EXTENSION_APPROVED: _("deadline extension approved"),
    EXTENSION_REFUSED: _("deadline extension refused"),
    ASSIGNMENT_COMPLETED: _("handling completed"),
    ASSIGNMENT_OVERDUE: _("handling overdue"),
    CASE_COMPLETED: _("document handling completed"),
}
