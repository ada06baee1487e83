"""The handling of an incoming document (phiếu giải quyết văn bản đến, Decree 30 Art. 20–24) as an
explicit state machine: one `IncomingCase` per document, one `Assignment` per target of the direction.

Rows change only through workflows.services, which lock the case row and compare `version`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency, AuthorityPrefix, Unit
from documents.models import Document, FileBlob


class CaseState(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    PRESENTED = "presented", _("Presented to the leader")
    DIRECTED = "directed", _("Directed")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    RETURNED = "returned", _("Returned")


class IncomingCase(models.Model):
    """The workflow instance of one incoming document: its state and the agency leader's direction."""

    document = models.OneToOneField(
        Document, on_delete=models.PROTECT, related_name="incoming_case", verbose_name=_("document")
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    state = models.CharField(_("state"), max_length=12, choices=CaseState.choices, default=CaseState.REGISTERED)
    # Incremented by every transition: a caller acting on what it saw passes the version it saw.
    version = models.PositiveIntegerField(_("version"), default=1)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    presented_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("presented to"),
    )
    presented_at = models.DateTimeField(_("presented at"), null=True, blank=True)
    # The clerk's proposal when presenting (ý kiến đề xuất của văn thư), shown to the leader with the document.
    proposal_note = models.TextField(_("clerk's proposal"), blank=True)
    instruction = models.TextField(_("instruction"), blank=True)
    directed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("directed by"),
    )
    directed_on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("on behalf of"),
    )
    direction_authority_prefix = models.CharField(
        _("authority prefix"), max_length=5, choices=AuthorityPrefix.choices, blank=True
    )
    directed_at = models.DateTimeField(_("directed at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("incoming document handling")
        verbose_name_plural = _("incoming document handling")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["agency", "state"], name="wf_case_agency_state_idx"),
            models.Index(fields=["presented_to", "state"], name="wf_case_presented_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.state}"


class TargetRole(models.TextChoices):
    LEAD = "lead", _("Lead (in charge)")
    COORDINATE = "coordinate", _("Co-ordinating")
    INFORM = "inform", _("For information")


class AssignmentState(models.TextChoices):
    WAITING = "waiting", _("Waiting for assignment in the unit")
    HANDLING = "handling", _("Being handled")
    # The handler's result waits for the unit head's acceptance (agencies that ask for it: HandlingSettings).
    SUBMITTED = "submitted", _("Result submitted to the unit head")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed with the case")
    # A co-ordinating target that recorded nothing (no progress, proposal or result file) when the lead
    # completed the case: reported apart, never as "completed on time".
    NOT_ACTED = "not_acted", _("Closed with the case, not acted")
    FOR_INFORMATION = "for_information", _("For information")


OPEN_ASSIGNMENT_STATES = (AssignmentState.WAITING, AssignmentState.HANDLING, AssignmentState.SUBMITTED)


class Assignment(models.Model):
    """One target of the direction (a unit or a person) and, for a unit, the person its leader assigned.

    `due_date` is the deadline the current step-holder must meet (the unit's deadline while waiting for
    assignment, the handler's afterwards); `deadline_set_by` decides extension requests on it."""

    case = models.ForeignKey(IncomingCase, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("role"), max_length=10, choices=TargetRole.choices)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("person"),
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=AssignmentState.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="incoming_assignments",
        verbose_name=_("handler"),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    assignment_note = models.TextField(_("unit leader's note"), blank=True)
    handler_deadline = models.DateField(_("handler's deadline"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    deadline_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    progress_note = models.TextField(_("progress"), blank=True)
    proposal = models.TextField(_("handler's proposal"), blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    reply_document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("reply document")
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("result submitted at"), null=True, blank=True)
    # The unit head's comment when returning a submitted result (shown to the handler until the next one).
    result_comment = models.TextField(_("unit head's comment on the result"), blank=True)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    # The document's urgency, copied when directed (a registered document does not change): the work queues
    # sort by it, and reading it here lets an index give the first page without joining every document.
    urgency = models.PositiveSmallIntegerField(_("urgency"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["case", "role", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(user__isnull=True)) | (Q(unit__isnull=True) & Q(user__isnull=False)),
                name="wf_assignment_one_target",
            ),
            models.UniqueConstraint(fields=["case"], condition=Q(role="lead"), name="wf_assignment_one_lead"),
        ]
        indexes = [
            models.Index(fields=["assignee", "state"], name="wf_asg_assignee_state_idx"),
            models.Index(fields=["unit", "state"], name="wf_asg_unit_state_idx"),
            models.Index(fields=["state", "due_date"], name="wf_asg_state_due_idx"),
            models.Index(fields=["unit", "state", "-urgency", "due_date", "id"], name="wf_asg_unit_queue_idx"),
            models.Index(fields=["assignee", "state", "-urgency", "due_date", "id"], name="wf_asg_handler_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.role} {self.unit_id or self.user_id}"

    @property
    def target(self):
        return self.unit if self.unit_id else self.user


class AssignmentResultFile(models.Model):
    """A file of the handler's result (a report, a reply draft...), stored content-addressed like every file
    and shown on the processing slip to whoever may see the case."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="result_files")
    blob = models.ForeignKey(FileBlob, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("result file")
        verbose_name_plural = _("result files")
        ordering = ["assignment", "id"]

    def __str__(self) -> str:
        return self.file_name


class HandlingSettings(models.Model):
    """An agency's choices for the handling of incoming documents (a section of the agency settings)."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="+", verbose_name=_("agency"))
    unit_head_accepts_results = models.BooleanField(
        _("unit heads accept results"), default=False,
        help_text=_("A handler in a unit submits the result; the unit head accepts it (completing the work) or "
                    "returns it with a comment."),
    )

    class Meta:
        verbose_name = _("handling settings")
        verbose_name_plural = _("handling settings")

    def __str__(self) -> str:
        return str(self.agency_id)


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ExtensionRequest(models.Model):
    """A handler's request for a later deadline, decided by whoever set that deadline."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extension_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    current_deadline = models.DateField(_("current deadline"))
    requested_deadline = models.DateField(_("requested deadline"))
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(state="pending"), name="wf_one_pending_extension"
            ),
        ]
        indexes = [models.Index(fields=["approver", "state"], name="wf_ext_approver_state_idx")]

    def __str__(self) -> str:
        return f"{self.assignment_id} → {self.requested_deadline} ({self.state})"


class InstructionPhrase(models.Model):
    """One of an agency's usual instruction phrases (e.g. "Để biết"), offered to its leaders on the direction
    form so that a common direction is one click. Edited on the agency's settings page."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+", verbose_name=_("agency"))
    text = models.CharField(_("phrase"), max_length=300)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("instruction phrase")
        verbose_name_plural = _("instruction phrases")
        ordering = ["agency", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "text"], name="wf_phrase_unique_text"),
        ]

    def __str__(self) -> str:
        return self.text


from .drafting import *  # noqa
