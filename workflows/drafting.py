"""Outgoing documents before they are issued (Decree 30 Art. 10–14): a `Draft` walks the agency's
`ReviewChain` (data, editable in the admin) step by step until it is signed and the clerk issues it.

Rows change only through workflows.drafting_services, which lock the draft row and compare `version`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.models import Agency, AuthorityPrefix, Unit
from documents.models import Confidentiality, Document, DocumentType, FileBlob, Urgency

__all__ = ["StepAction", "ReviewChain", "ReviewStep", "DraftState", "Draft", "DraftVersion", "DraftAttachment"]


class StepAction(models.TextChoices):
    REVIEW = "review", _("Review")
    APPROVE = "approve", _("Content approval")
    FORMAT_CHECK = "format_check", _("Format check")
    SIGN = "sign", _("Signing")


ROLE_CHOICES = [(name, label) for name, label in roles.ROLE_LABELS.items()]


class ReviewChain(models.Model):
    """The ordered steps a draft of one document type (or any type, when blank) goes through in an agency."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    document_type = models.ForeignKey(
        DocumentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("document type"), help_text=_("Leave blank for the agency's default chain."),
    )
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("review chain")
        verbose_name_plural = _("review chains")
        ordering = ["agency", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "document_type"], condition=Q(is_active=True), name="wf_chain_one_active_per_type"
            ),
            models.UniqueConstraint(
                fields=["agency"], condition=Q(document_type__isnull=True, is_active=True),
                name="wf_chain_one_active_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReviewStep(models.Model):
    """One step: who holds it (a person, or a role of the agency; the unit leader role means the leader of
    the drafting unit) and what they do."""

    chain = models.ForeignKey(ReviewChain, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("order"))
    action = models.CharField(_("action"), max_length=12, choices=StepAction.choices)
    role = models.CharField(_("role"), max_length=50, choices=ROLE_CHOICES, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("person"),
    )

    class Meta:
        verbose_name = _("review step")
        verbose_name_plural = _("review steps")
        ordering = ["chain", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "order"], name="wf_step_unique_order"),
            models.CheckConstraint(condition=~Q(role="") | Q(user__isnull=False), name="wf_step_has_holder"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.get_action_display()} ({self.user or self.get_role_display()})"


class DraftState(models.TextChoices):
    DRAFTING = "drafting", _("Drafting")
    IN_REVIEW = "in_review", _("In review")
    READY_TO_SIGN = "ready_to_sign", _("Ready to sign")
    SIGNED = "signed", _("Signed")
    ISSUED = "issued", _("Issued")


class Draft(models.Model):
    """One outgoing document being drafted; `current_step` and `current_holder` say who must act now
    (a blank holder means any holder of the step's role in scope)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    drafting_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("drafting unit"))
    drafter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drafts", verbose_name=_("drafter")
    )
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("document type"))
    subject = models.CharField(_("subject"), max_length=500)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = models.PositiveSmallIntegerField(
        _("confidentiality"), choices=Confidentiality.choices, default=Confidentiality.NORMAL
    )
    proposed_signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("proposed signer"),
    )
    # [{"agency_id": 3} or {"name": "Như trên"}]
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    internal = models.BooleanField(_("internal document"), default=False)
    in_response_to = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("in response to")
    )
    chain = models.ForeignKey(ReviewChain, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=14, choices=DraftState.choices, default=DraftState.DRAFTING)
    version = models.PositiveIntegerField(_("version"), default=1)
    current_step = models.ForeignKey(ReviewStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    current_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("current holder"),
    )
    last_comment = models.TextField(_("last comment"), blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signing_authority_prefix = models.CharField(
        _("authority prefix"), max_length=5, choices=AuthorityPrefix.choices, blank=True
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    issued_document = models.OneToOneField(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="draft",
        verbose_name=_("issued document"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")
        ordering = ["-urgency", "-updated_at", "-id"]
        indexes = [
            models.Index(fields=["current_holder", "state"], name="wf_draft_holder_state_idx"),
            models.Index(fields=["agency", "state"], name="wf_draft_agency_state_idx"),
            models.Index(fields=["drafter", "state"], name="wf_draft_drafter_state_idx"),
        ]

    def __str__(self) -> str:
        return self.subject[:100]

    @property
    def urgent(self) -> bool:
        return self.urgency > Urgency.NORMAL


class DraftVersion(models.Model):
    """One upload of the draft file; earlier versions stay readable."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    blob = models.ForeignKey(FileBlob, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("draft version")
        verbose_name_plural = _("draft versions")
        ordering = ["draft", "-number"]
        constraints = [models.UniqueConstraint(fields=["draft", "number"], name="wf_draft_version_unique")]

    def __str__(self) -> str:
        return f"{self.draft_id} v{self.number}"


class DraftAttachment(models.Model):
    """An attachment or appendix filed separately from the draft (Decree 30 PL I §II.8.b): issued with the
    document as its own file, and, on the digital path, signed by the agency at the top right of page 1."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="attachments")
    blob = models.ForeignKey(FileBlob, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("draft attachment")
        verbose_name_plural = _("draft attachments")
        ordering = ["draft", "id"]

    def __str__(self) -> str:
        return self.file_name
