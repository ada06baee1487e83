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
RESULT_FILE_ADDED = "incoming.result_file_added"
RESULT_FILE_OPENED = "incoming.result_file_opened"
RESULT_SUBMITTED = "incoming.result_submitted"
RESULT_ACCEPTED = "incoming.result_accepted"
RESULT_RETURNED = "incoming.result_returned"
HANDLING_SETTINGS_CHANGED = "incoming.settings_changed"
PHRASES_CHANGED = "incoming.phrases_changed"

# Outgoing drafts (events target the draft: its page shows them as its timeline).
DRAFT_CREATED = "draft.created"
DRAFT_VERSION_UPLOADED = "draft.version_uploaded"
DRAFT_SUBMITTED = "draft.submitted"
DRAFT_APPROVED = "draft.step_approved"
DRAFT_RETURNED = "draft.returned"
DRAFT_FORWARDED = "draft.forwarded"
DRAFT_SIGNED = "draft.signed"
DRAFT_ISSUED = "draft.issued"
DRAFT_REAPPROVAL = "draft.sent_for_reapproval"
DRAFT_ATTACHMENT_ADDED = "draft.attachment_added"

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
    RESULT_FILE_ADDED: _("result file attached"),
    RESULT_FILE_OPENED: _("result file opened"),
    RESULT_SUBMITTED: _("result submitted to the unit head"),
    RESULT_ACCEPTED: _("result accepted by the unit head"),
    RESULT_RETURNED: _("result returned by the unit head"),
    HANDLING_SETTINGS_CHANGED: _("handling settings changed"),
    PHRASES_CHANGED: _("usual instruction phrases changed"),
    DRAFT_CREATED: _("draft created"),
    DRAFT_VERSION_UPLOADED: _("new version uploaded"),
    DRAFT_SUBMITTED: _("submitted for review"),
    DRAFT_APPROVED: _("step approved"),
    DRAFT_RETURNED: _("returned with a comment"),
    DRAFT_FORWARDED: _("forwarded"),
    DRAFT_SIGNED: _("signed"),
    DRAFT_ISSUED: _("issued"),
    DRAFT_REAPPROVAL: _("changed after approval: sent back for re-approval"),
    DRAFT_ATTACHMENT_ADDED: _("attachment added"),
}
