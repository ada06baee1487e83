"""Deliveries of issued documents to the agencies (and, for internal documents, the units) they are sent to,
and each delivery's status trace in the codes of the national exchange (QCVN 102, reference §2.4).

A delivery row is written in the transaction that issues the document (the intent: it cannot be lost once
the issue commits); the arrival task then makes it arrive (01) in the recipient's queue. The sender's
document is immutable and read through the delivery: the recipient sees its metadata and the very same
content-addressed file blobs, never copies. Registering the delivery creates the recipient's own incoming
document (03); the handling of that document reports 04–06 back through workflows' announcements."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency, Unit
from documents.models import Document


class StatusCode(models.TextChoices):
    """The status codes of the exchange (reference §2.4), with the labels clerks know them by."""

    ARRIVED = "01", _("Arrived")
    RETURNED = "02", _("Returned (refused)")
    REGISTERED = "03", _("Registered")
    ASSIGNED = "04", _("Assigned for handling")
    IN_PROGRESS = "05", _("In progress")
    COMPLETED = "06", _("Completed")
    TAKE_BACK_REQUESTED = "13", _("Asked back by the sender")
    TAKE_BACK_ACCEPTED = "15", _("Giving back accepted")
    TAKE_BACK_REFUSED = "16", _("Giving back refused")


class BusinessType(models.IntegerChoices):
    """Bussiness.BussinessDocType of edXML: why this document is sent."""

    NEW = 0, _("New document")
    REVOKE = 1, _("Recall")
    UPDATE = 2, _("Update")
    REPLACE = 3, _("Replacement")


PROGRESS_ORDER = ["01", "03", "04", "05", "06"]
"""The forward path: a delivery's status only moves forward along it (a late 04 never hides a 06)."""


class Delivery(models.Model):
    """One issued document sent to one recipient agency (or unit of the issuing agency)."""

    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("document sent")
    )
    sender_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("sending agency")
    )
    recipient_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="received_deliveries", verbose_name=_("recipient agency")
    )
    recipient_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("recipient unit"),
        help_text=_("Internal documents: the unit of the issuing agency that receives it."),
    )
    business_type = models.PositiveSmallIntegerField(
        _("kind of sending"), choices=BusinessType.choices, default=BusinessType.NEW
    )
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by",
        verbose_name=_("updates or replaces"),
        help_text=_("The earlier delivery (of the older document) to the same recipient that this one updates "
                    "or replaces."),
    )
    status = models.CharField(_("status"), max_length=2, choices=StatusCode.choices, blank=True)
    """Blank until the arrival task has made it arrive; then the latest status on the forward path, or 02."""
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    received_document = models.OneToOneField(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="received_through",
        verbose_name=_("registered as"),
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.CharField(_("reason for return"), max_length=500, blank=True)
    recalled_at = models.DateTimeField(_("recalled at"), null=True, blank=True)
    recall_reason = models.CharField(_("reason for recall"), max_length=500, blank=True)
    take_back_state = models.CharField(
        _("asked back"), max_length=2, blank=True,
        choices=[(c.value, c.label) for c in (StatusCode.TAKE_BACK_REQUESTED, StatusCode.TAKE_BACK_ACCEPTED,
                                               StatusCode.TAKE_BACK_REFUSED)],
    )
    late_flagged_at = models.DateTimeField(null=True, blank=True, editable=False)
    """When both clerks were told it was not registered within the working day (once)."""
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "recipient_agency"], condition=Q(recipient_unit__isnull=True),
                name="exchange_one_delivery_per_agency",
            ),
            models.UniqueConstraint(
                fields=["document", "recipient_unit"], condition=Q(recipient_unit__isnull=False),
                name="exchange_one_delivery_per_unit",
            ),
        ]
        indexes = [
            # The recipient clerks' queue: their agency's deliveries waiting, newest first.
            models.Index(fields=["recipient_agency", "status", "-created_at"], name="exchange_inbox_idx"),
            models.Index(fields=["recipient_unit", "status"], name="exchange_unit_inbox_idx"),
            # The arrival task and its sweeper: deliveries not yet arrived.
            models.Index(fields=["status", "created_at"], name="exchange_pending_idx",
                         condition=Q(status="")),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} → {self.recipient_unit_id or self.recipient_agency_id} ({self.status or '…'})"

    @property
    def is_recalled(self) -> bool:
        return self.recalled_at is not None

    @property
    def is_internal(self) -> bool:
        return self.recipient_unit_id is not None

    @property
    def is_waiting(self) -> bool:
        """In the recipient clerks' queue: arrived, neither registered, returned nor recalled."""
        return self.status == StatusCode.ARRIVED and not self.is_recalled

    @property
    def recipient_name(self) -> str:
        return self.recipient_unit.name if self.recipient_unit_id else self.recipient_agency.name


class StatusTrace(models.Model):
    """One status of one delivery: who, when, why. Written once per `key` (a redelivered task or a repeated
    event adds nothing); read in order of `at`, then id."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="traces")
    code = models.CharField(_("status"), max_length=2, choices=StatusCode.choices)
    key = models.CharField(max_length=40)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=200, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("status trace")
        verbose_name_plural = _("status traces")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["delivery", "key"], name="exchange_one_trace_per_key")]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.code}"


# --- other installations (edXML, QCVN 102) ------------------------------------------------------------


class Peer(models.Model):
    """An agency served by another document-management system, reached by posting signed edXML packages to
    that system's inbound endpoint. The agency stays a node of our tree (so a recipient list names it like any
    other): its deliveries leave through the peer instead of arriving here, and the packages the peer sends are
    accepted only when signed with the certificate configured here."""

    organ_id = models.CharField(
        _("organ id (edXML OrganId)"), max_length=35, unique=True,
        validators=[RegexValidator(r"^[.0-9A-Z]{1,35}$", _("Up to 35 characters: dots, digits and capital letters."))],
        help_text=_("The agency's identifier under Decision 20/2020, as the other system sends it."),
    )
    name = models.CharField(_("name"), max_length=200)
    agency = models.OneToOneField(
        Agency, on_delete=models.PROTECT, related_name="exchange_peer", verbose_name=_("agency in our tree"),
        help_text=_("Documents sent to this agency are posted to the other system instead of arriving here."),
    )
    inbound_url = models.URLField(_("inbound endpoint"), max_length=500,
                                  help_text=_("Where the other system receives edXML packages (HTTPS in production)."))
    certificate_pem = models.TextField(
        _("seal certificate (PEM)"),
        help_text=_("The other system signs its packages with this certificate; any other signature is refused."),
    )
    certificate_fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("other system (edXML peer)")
        verbose_name_plural = _("other systems (edXML peers)")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organ_id})"

    def save(self, *args, **kwargs) -> None:
        self.certificate_fingerprint = self.certificate().fingerprint(hashes.SHA256()).hex()
        super().save(*args, **kwargs)

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode("ascii"))

    def clean(self) -> None:
        errors = {}
        try:
            certificate = self.certificate()
        except (ValueError, UnicodeEncodeError):
            errors["certificate_pem"] = _("This is not a PEM certificate.")
        else:
            self.certificate_fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        if self.agency_id and self.organ_id and self.agency.identifier != self.organ_id:
            errors["organ_id"] = _("The organ id must be the identifier of the agency in our tree (%(identifier)s).") % {
                "identifier": self.agency.identifier}
        if errors:
            raise ValidationError(errors)


class OutboundKind(models.TextChoices):
    EDOC = "edoc", _("Document")
    STATUS = "status", _("Status")


class OutboundState(models.TextChoices):
    PENDING = "pending", _("Waiting to be accepted")
    SENT = "sent", _("Accepted by the other system")
    FAILED = "failed", _("Given up")


class OutboundMessage(models.Model):
    """The intent to post one package to a peer (the outbox row, written in the transaction that causes it).
    The send task signs and posts it; until the peer accepts, the sweeper publishes it again with exponential
    backoff. `timestamp` is fixed here so every attempt is the very same package (a repeat the peer already
    accepted is answered "already received")."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="outbound")
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="outbound_messages")
    kind = models.CharField(_("kind"), max_length=10, choices=OutboundKind.choices)
    business_type = models.PositiveSmallIntegerField(_("kind of sending"), choices=BusinessType.choices, null=True,
                                                     blank=True)
    status_code = models.CharField(_("status"), max_length=2, choices=StatusCode.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    key = models.CharField(max_length=80, unique=True)
    """Idempotency: one row per delivery and kind of document package, per status trace."""
    timestamp = models.DateTimeField(_("package time"))
    state = models.CharField(_("state"), max_length=10, choices=OutboundState.choices, default=OutboundState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    leased_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=1000, blank=True)
    sent_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("package sent to another system")
        verbose_name_plural = _("packages sent to other systems")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="exchange_outbound_due_idx",
                         condition=Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.business_type if self.kind == OutboundKind.EDOC else self.status_code} → {self.peer_id}"


class InboundPackage(models.Model):
    """A package a peer posted and we accepted. Its `replay_key` (sender, recipient, document, time, kind and
    code, all under the signature) is unique: the same package posted again is refused as a replay."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="inbound")
    replay_key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=OutboundKind.choices)
    document_identifier = models.CharField(_("document identifier"), max_length=120)
    business_type = models.PositiveSmallIntegerField(null=True, blank=True)
    status_code = models.CharField(max_length=2, blank=True)
    package_timestamp = models.DateTimeField(_("package time"))
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("package received from another system")
        verbose_name_plural = _("packages received from other systems")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.document_identifier} ← {self.peer_id}"
