"""The kinds of notice workflows tells (eoffice.notices), imported once from WorkflowsConfig.ready().

Each text names the document through parameters filled when the notice is shown, in the reader's language:
`number` (the sender's number/notation of an incoming document), `subject`, and the kind's own ones."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from eoffice.notices import register_kind

PRESENTED = "incoming.presented"
DIRECTED = "incoming.directed"
ASSIGNED = "incoming.assigned"
EXTENSION_REQUESTED = "incoming.extension_requested"
EXTENSION_APPROVED = "incoming.extension_approved"
EXTENSION_REFUSED = "incoming.extension_refused"
COMPLETED = "incoming.completed"
RETURNED = "incoming.returned"
OVERDUE = "incoming.overdue"
DUE_TOMORROW = "incoming.due_tomorrow"
RESULT_SUBMITTED = "incoming.result_submitted"
RESULT_ACCEPTED = "incoming.result_accepted"
RESULT_RETURNED = "incoming.result_returned"
DRAFT_REVIEW = "draft.review"
DRAFT_SIGNATURE = "draft.signature"
DRAFT_RETURNED = "draft.returned"
DRAFT_FORWARDED = "draft.forwarded"
DRAFT_SIGNED = "draft.signed"
DRAFT_ISSUED = "draft.issued"

register_kind(PRESENTED, _("An incoming document waits for my direction"),
              _("Incoming document %(number)s - %(subject)s waits for your direction. %(has_proposal)s %(proposal)s"),
              choices={"has_proposal": {"1": _("The clerk proposes:")}})
register_kind(DIRECTED, _("An incoming document was directed to me or my unit"),
              _("Incoming document %(number)s - %(subject)s was directed to you or your unit."))
register_kind(ASSIGNED, _("An incoming document was assigned to me"),
              _("Incoming document %(number)s - %(subject)s was assigned to you for handling, due %(deadline)s."))
register_kind(EXTENSION_REQUESTED, _("A deadline extension waits for my decision"),
              _("%(requester)s asks to extend the deadline of incoming document %(number)s - %(subject)s "
                "to %(deadline)s."))
register_kind(EXTENSION_APPROVED, _("My deadline extension was approved"),
              _("Your deadline extension for incoming document %(number)s - %(subject)s was approved: "
                "due %(deadline)s."))
register_kind(EXTENSION_REFUSED, _("My deadline extension was refused"),
              _("Your deadline extension for incoming document %(number)s - %(subject)s was refused."))
register_kind(COMPLETED, _("An incoming document I entered or directed was handled"),
              _("Incoming document %(number)s - %(subject)s has been handled."), email=False)
register_kind(RETURNED, _("An incoming document presented to me was returned"),
              _("Incoming document %(number)s - %(subject)s was returned: %(reason)s"), email=False)
register_kind(OVERDUE, _("The handling of a document is overdue"),
              _("The handling of incoming document %(number)s - %(subject)s is overdue (deadline %(deadline)s)."))
register_kind(DUE_TOMORROW, _("The handling of a document is due tomorrow"),
              _("The handling of incoming document %(number)s - %(subject)s is due tomorrow (%(deadline)s)."))
register_kind(RESULT_SUBMITTED, _("A handling result waits for my acceptance"),
              _("%(handler)s submitted the result of incoming document %(number)s - %(subject)s for your "
                "acceptance."))
register_kind(RESULT_ACCEPTED, _("My handling result was accepted"),
              _("Your result for incoming document %(number)s - %(subject)s was accepted."), email=False)
register_kind(RESULT_RETURNED, _("My handling result was returned"),
              _("Your result for incoming document %(number)s - %(subject)s was returned: %(comment)s"))
register_kind(DRAFT_REVIEW, _("A draft waits for my review"),
              _('Draft "%(subject)s" waits for your review.'))
register_kind(DRAFT_SIGNATURE, _("A draft waits for my signature"),
              _('Draft "%(subject)s" waits for your signature.'))
register_kind(DRAFT_RETURNED, _("My draft was returned"),
              _('Your draft "%(subject)s" was returned: %(comment)s'))
register_kind(DRAFT_FORWARDED, _("A draft was forwarded to me"),
              _('Draft "%(subject)s" was forwarded to you by %(sender)s.'))
register_kind(DRAFT_SIGNED, _("A draft of my agency was signed and waits to be issued (clerks)"),
              _('Draft "%(subject)s" was signed and waits to be issued.'))
register_kind(DRAFT_ISSUED, _("My draft was issued"),
              _('Your draft "%(subject)s" was issued as document %(number)s.'), email=False)
