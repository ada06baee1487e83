"""Certificates and keys, the trust store, signing requests and verification results.

Private keys are stored only encrypted (AES-256-GCM under the key-encryption key from the environment,
bound to the certificate's fingerprint; see `keys.py`) and never leave the signing task in clear."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Agency, AuthorityPrefix
from audit.services import TargetRef
from documents.models import Document, FileBlob


class CredentialKind(models.TextChoices):
    PERSONAL = "personal", _("Personal signature")
    SEAL = "seal", _("Agency seal")


class KeyStorage(models.TextChoices):
    STORED = "stored", _("Stored encrypted on the server")
    PKCS11 = "pkcs11", _("PKCS#11 token")
    EXTERNAL = "external", _("Held elsewhere (certificate only)")


class TrustAnchor(models.Model):
    """A root or intermediate CA certificate that administrators trust for signing and verification."""

    certificate_der = models.BinaryField(editable=False)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    subject = models.CharField(_("subject"), max_length=500)
    issuer = models.CharField(_("issuer"), max_length=500)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    is_root = models.BooleanField(_("root CA"), default=True)
    is_active = models.BooleanField(_("trusted"), default=True)
    # The CA's latest certificate revocation list, as the administrator uploaded it (the network is often
    # closed, so revocation data is brought in rather than fetched); used on import and in verification.
    crl_der = models.BinaryField(null=True, blank=True, editable=False)
    crl_next_update = models.DateTimeField(_("CRL next update"), null=True, blank=True)
    crl_sha256 = models.CharField(max_length=64, blank=True, editable=False)  # tells a new CRL from the old
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("trusted CA certificate")
        verbose_name_plural = _("trust store")
        ordering = ["-is_root", "subject"]

    def __str__(self) -> str:
        return self.subject


class SigningCredential(models.Model):
    """A person's signing certificate, or an agency's seal certificate, with where its key is."""

    kind = models.CharField(_("kind"), max_length=10, choices=CredentialKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="signing_credentials", verbose_name=_("person"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    certificate_der = models.BinaryField(editable=False)
    chain_pem = models.TextField(_("issuing CA certificates"), blank=True, editable=False)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64)
    subject = models.CharField(_("subject"), max_length=500)
    issuer = models.CharField(_("issuer"), max_length=500)
    serial = models.CharField(_("serial number"), max_length=100)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    key_storage = models.CharField(_("key storage"), max_length=10, choices=KeyStorage.choices)
    # AES-256-GCM blob (keys.encrypt_key_for); never shown, never serialised.
    encrypted_key = models.BinaryField(null=True, blank=True, editable=False)
    pkcs11_token_label = models.CharField(_("token label"), max_length=100, blank=True)
    pkcs11_key_label = models.CharField(_("key label on the token"), max_length=100, blank=True)
    encrypted_pin = models.BinaryField(null=True, blank=True, editable=False)
    image_png = models.BinaryField(_("signature or seal image (PNG)"), null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing certificate")
        verbose_name_plural = _("signing certificates")
        ordering = ["agency", "kind", "subject"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(kind="personal", is_active=True),
                                    name="sig_one_active_personal"),
            models.UniqueConstraint(fields=["agency"], condition=Q(kind="seal", is_active=True),
                                    name="sig_one_active_seal"),
            models.CheckConstraint(condition=Q(kind="seal") | Q(user__isnull=False), name="sig_personal_has_user"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.get_kind_display()})"

    def __repr__(self) -> str:  # never the key material
        return f"<SigningCredential {self.pk} {self.kind} {self.fingerprint[:16]}>"


class SigningKind(models.TextChoices):
    """What a signature is for; each kind has its Decree 30 placement (see `signing.py`)."""

    PERSONAL = "personal", _("Leader's signature")
    SEAL = "seal", _("Number, date and agency seal")
    ATTACHMENT = "attachment", _("Agency signature of an attachment")


class SigningState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SIGNING = "signing", pgettext_lazy("a signing request being worked on", "Signing")  # not the workflow step
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SigningRequest(models.Model):
    """The intent to sign one PDF blob for a caller's subject, stored before the task is queued, so a sweeper
    can re-queue what a dead broker lost, and a repeated task finds the work done.

    The subject (`subject_type`, `subject_id`: "workflows.draft", 12) is opaque here: the app that owns it
    registered a subscriber in `hooks` and is told the outcome. `key` is the caller's idempotency key (one
    request per key: the same version cannot be signed twice)."""

    kind = models.CharField(_("kind"), max_length=10, choices=SigningKind.choices)
    state = models.CharField(_("state"), max_length=10, choices=SigningState.choices, default=SigningState.QUEUED)
    key = models.CharField(_("idempotency key"), max_length=150, unique=True)
    subject_type = models.CharField(_("subject type"), max_length=100)
    subject_id = models.PositiveBigIntegerField(_("subject id"))
    subject_label = models.CharField(_("subject"), max_length=300, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    source_blob = models.ForeignKey(FileBlob, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("file signed"))
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="signing_requests")
    credential = models.ForeignKey(SigningCredential, on_delete=models.PROTECT, related_name="requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    authority_prefix = models.CharField(_("authority prefix"), max_length=5, choices=AuthorityPrefix.choices,
                                        blank=True)
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    signer_name = models.CharField(_("name shown under the signature"), max_length=200, blank=True)
    number_text = models.CharField(_("number and notation"), max_length=100, blank=True)
    date_text = models.CharField(_("place and date"), max_length=200, blank=True)
    # Files signed with the seal at the top right (PDFs) or passed through (others): [{"sha256", "name"}].
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    result_blob = models.ForeignKey(FileBlob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    result_attachments = models.JSONField(default=list, blank=True)
    error = models.TextField(_("reason of failure"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("signing request")
        verbose_name_plural = _("signing requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="sig_request_state_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="sig_request_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_type}:{self.subject_id}: {self.state}"

    def audit_target(self) -> models.Model | TargetRef:
        """What its audit events are about: the seal is an act on the issued document, any other signature
        an act on the caller's subject (known here only by reference)."""
        if self.document_id:
            return self.document
        return TargetRef(self.subject_type, self.subject_id, self.subject_label)


class SignaturePlacement(models.Model):
    """Where the marks go on one PDF for one signer name, found once (text search of the first and last
    pages costs more than the signature itself) and read by every signing of that content."""

    blob = models.ForeignKey(FileBlob, on_delete=models.CASCADE, related_name="+")
    signer_name = models.CharField(max_length=200, blank=True)
    boxes = models.JSONField(default=dict)
    found = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blob", "signer_name"], name="sig_placement_unique")]

    def __str__(self) -> str:
        return f"{self.blob_id[:12]} / {self.signer_name}"


class VerificationState(models.TextChoices):
    PENDING = "pending", _("Waiting to be verified")
    DONE = "done", _("Verified")


class FileVerification(models.Model):
    """The verification of one stored file version (blobs are content-addressed, so once per content)."""

    blob = models.OneToOneField(FileBlob, on_delete=models.CASCADE, related_name="verification")
    state = models.CharField(_("state"), max_length=10, choices=VerificationState.choices,
                             default=VerificationState.PENDING)
    verdict = models.CharField(_("verdict"), max_length=12, blank=True)
    signature_count = models.PositiveIntegerField(_("signatures"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signature verification")
        verbose_name_plural = _("signature verifications")
        indexes = [models.Index(fields=["state", "created_at"], name="sig_verification_state_idx")]

    def __str__(self) -> str:
        return f"{self.blob_id}: {self.verdict or self.state}"


class SignatureCheck(models.Model):
    """One signature of a verified file, with its own verdict (the file's verdict is the worst of them)."""

    verification = models.ForeignKey(FileVerification, on_delete=models.CASCADE, related_name="signatures")
    position = models.PositiveSmallIntegerField()
    field_name = models.CharField(max_length=200, blank=True)
    signer = models.CharField(_("signer"), max_length=500, blank=True)
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    trusted = models.BooleanField(default=False)
    intact = models.BooleanField(default=False)
    coverage = models.CharField(max_length=30, blank=True)
    modification_level = models.CharField(max_length=30, blank=True)
    signing_time = models.DateTimeField(null=True, blank=True)
    timestamp_time = models.DateTimeField(null=True, blank=True)
    revocation = models.CharField(max_length=20, blank=True)
    verdict = models.CharField(_("verdict"), max_length=12)

    class Meta:
        ordering = ["verification", "position"]
        constraints = [models.UniqueConstraint(fields=["verification", "position"], name="sig_check_unique")]

    def __str__(self) -> str:
        return f"{self.signer}: {self.verdict}"


class ExpiryReminder(models.Model):
    """One reminder sent that a signing certificate or a trusted CA certificate expires soon: one row per
    certificate and threshold (`key` is unique), so the daily task never sends the same reminder twice."""

    key = models.CharField(max_length=200, unique=True)
    target_type = models.CharField(_("certificate kind"), max_length=20)  # "credential" or "trust_anchor"
    target_id = models.PositiveBigIntegerField()
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64)
    threshold_days = models.PositiveSmallIntegerField(_("days before expiry"))
    not_after = models.DateTimeField(_("valid until"))
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("certificate expiry reminder")
        verbose_name_plural = _("certificate expiry reminders")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return self.key
