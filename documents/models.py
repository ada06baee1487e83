"""Document types, registers (sổ) with their counters, documents, files and object grants."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import Agency, AuthorityPrefix, Unit


class DocumentType(models.Model):
    """One of the 29 Decree 30 types (Art. 7, abbreviations from PL III); loaded by a data migration."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    abbreviation = models.CharField(
        _("abbreviation"), max_length=10, blank=True, help_text=_("Empty for official letters (cong van) and public letters (thu cong).")
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("document type")
        verbose_name_plural = _("document types")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.abbreviation})" if self.abbreviation else self.name


class RegisterKind(models.TextChoices):
    OUTGOING = "outgoing", _("Outgoing documents")
    INCOMING = "incoming", _("Incoming documents")
    SECRET_OUTGOING = "secret_outgoing", _("Secret outgoing documents")
    SECRET_INCOMING = "secret_incoming", _("Secret incoming documents")
    COPIES = "copies", _("Copies")
    # Documents that came in with a work file imported from another installation (records/ BagIt import): they
    # keep their original number, notation, date and issuing body; this series only numbers their intake.
    IMPORTED = "imported", _("Imported records")


class Register(models.Model):
    """A numbered series (sổ) of one agency for one year. `last_number` is the counter row:
    it is only ever advanced under SELECT ... FOR UPDATE in the registering transaction."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="registers", verbose_name=_("agency"))
    kind = models.CharField(_("kind"), max_length=20, choices=RegisterKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    code = models.CharField(
        _("series code"), max_length=20, blank=True, help_text=_("Empty for the agency's main series of this kind.")
    )
    name = models.CharField(_("name"), max_length=200)
    volume = models.CharField(_("volume"), max_length=20, blank=True)
    last_number = models.PositiveIntegerField(_("last number issued"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("register")
        verbose_name_plural = _("registers")
        ordering = ["agency__name", "-year", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "kind", "year", "code"], name="register_unique_series"),
        ]
        permissions = [("print_register", _("Can print and export registers"))]

    def __str__(self) -> str:
        return f"{self.name} {self.year}"

    @property
    def is_incoming(self) -> bool:
        return self.kind in (RegisterKind.INCOMING, RegisterKind.SECRET_INCOMING)


class Direction(models.TextChoices):
    OUTGOING = "outgoing", _("Outgoing")
    INCOMING = "incoming", _("Incoming")
    INTERNAL = "internal", _("Internal")


class Urgency(models.IntegerChoices):
    """edXML priority codes 0–3 (§2.3)."""

    NORMAL = 0, _("Normal")
    URGENT = 1, _("Urgent")
    VERY_URGENT = 2, _("Very urgent")
    EXPRESS = 3, _("Express")


class Confidentiality(models.IntegerChoices):
    NORMAL = 0, _("Not secret")
    SECRET = 1, _("Secret")
    TOP_SECRET = 2, _("Top secret")
    ABSOLUTE_SECRET = 3, _("Absolute secret")


class Document(models.Model):
    """A registered document. Field names follow PL VI metadata where one exists.

    Registered documents are immutable: corrections are new documents (later issues)."""

    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="documents", verbose_name=_("owning agency"),
        help_text=_("The issuing agency of an outgoing document, the receiving agency of an incoming one."),
    )
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="documents", verbose_name=_("register"))
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="documents", verbose_name=_("document type")
    )
    # Number and notation as printed on the document (CodeNumber, CodeNotation).
    code_number = models.CharField(_("number"), max_length=11)
    code_notation = models.CharField(_("notation"), max_length=30, blank=True)
    issued_date = models.DateField(_("issued date"))
    organ_name = models.CharField(_("issuing body"), max_length=200)
    organ_id = models.CharField(_("issuing body identifier"), max_length=35, blank=True)
    identifier = models.CharField(_("document identifier"), max_length=120, db_index=True)
    subject = models.CharField(_("subject"), max_length=500)
    language = models.CharField(_("language"), max_length=30, default="Tiếng Việt")
    page_amount = models.PositiveSmallIntegerField(_("page count"), null=True, blank=True)
    description = models.CharField(_("notes"), max_length=500, blank=True)
    signer_position = models.CharField(_("signer position"), max_length=100, blank=True)
    signer_name = models.CharField(_("signer name"), max_length=50, blank=True)
    authority_prefix = models.CharField(
        _("authority prefix"), max_length=5, choices=AuthorityPrefix.choices, blank=True
    )
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = models.PositiveSmallIntegerField(
        _("confidentiality"), choices=Confidentiality.choices, default=Confidentiality.NORMAL
    )
    issued_amount = models.PositiveSmallIntegerField(_("copies issued"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    drafting_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="drafted_documents",
        verbose_name=_("drafting unit"),
    )
    # Outgoing: numbered in the register (CodeNumber is the formatted form). Incoming: the arrival number.
    register_number = models.PositiveIntegerField(_("number in register"))
    arrival_date = models.DateField(_("arrival date"), null=True, blank=True)
    to_places = models.CharField(_("receiving units or people"), max_length=1000, blank=True)
    search_text = models.TextField(editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registered_documents",
        verbose_name=_("registered by"),
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["register", "register_number"], name="document_unique_number_in_register"),
        ]
        indexes = [
            # The list's order: the first page of a large agency is read in index order (bench/README.md).
            models.Index(fields=["-urgency", "-created_at", "-id"], name="doc_list_order_idx"),
            # An agency's incoming (or outgoing) documents in list order: the clerk's "to enter for handling"
            # walks them newest first and stops at a page (workflows.selectors.my_incoming_work).
            models.Index(fields=["agency", "direction", "-urgency", "-created_at", "-id"],
                         name="doc_agency_dir_order_idx"),
            models.Index(fields=["agency", "direction", "issued_date"], name="doc_agency_dir_date_idx"),
            models.Index(fields=["register", "register_number"], name="doc_register_number_idx"),
            models.Index(fields=["code_number", "code_notation"], name="doc_number_notation_idx"),
        ]
        permissions = [
            ("register_outgoing", _("Can register outgoing documents")),
            ("register_incoming", _("Can register incoming documents")),
        ]

    def __str__(self) -> str:
        return f"{self.number_notation} – {self.subject[:80]}"

    @property
    def number_notation(self) -> str:
        return f"{self.code_number}/{self.code_notation}" if self.code_notation else self.code_number

    @property
    def is_incoming(self) -> bool:
        return self.direction == Direction.INCOMING

    @property
    def arrival_number(self) -> int | None:
        return self.register_number if self.is_incoming else None


class DocumentRecipient(models.Model):
    """A place an outgoing document is sent to (Nơi nhận): an agency of the tree, a unit of the issuing agency
    (internal documents), or free text. Agencies and units get an electronic delivery (exchange/)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="recipients")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("A unit of the issuing agency (internal documents are delivered to units)."),
    )
    name = models.CharField(_("recipient"), max_length=200)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(agency__isnull=False) | Q(unit__isnull=False) | ~Q(name=""),
                                   name="recipient_has_target")
        ]

    def __str__(self) -> str:
        return self.name


class FileBlob(models.Model):
    """File content, stored once under its SHA-256 and checked against it on every read."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    storage_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a disposition removed the bytes from storage (records/): the row stays, so what existed and its
    # hash remain provable, and reading it says why the content is gone instead of failing as damage.
    destroyed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.sha256


class ExtractionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for processing")
    DONE = "done", _("Processed")
    FAILED = "failed", _("Could not be processed")


class DocumentFile(models.Model):
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="files")
    blob = models.ForeignKey(FileBlob, on_delete=models.PROTECT, related_name="uses")
    original_name = models.CharField(_("file name"), max_length=255)
    is_main = models.BooleanField(_("main file"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Filled by the extraction task (default queue), never in the request.
    extraction_status = models.CharField(
        max_length=10, choices=ExtractionStatus.choices, default=ExtractionStatus.PENDING, db_index=True
    )
    extraction_error = models.CharField(max_length=300, blank=True)
    extraction_attempts = models.PositiveSmallIntegerField(default=0)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("document file")
        verbose_name_plural = _("document files")
        ordering = ["-is_main", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_pdf(self) -> bool:
        return self.blob.content_type == "application/pdf"


# Direct foreign-key permission tables (django-guardian): joins on an integer key, not a text object_pk.
class DocumentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"], name="doc_uperm_user_idx")]


class DocumentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "permission", "content_object"], name="doc_gperm_group_idx")]


class DocumentOpening(models.Model):
    """Who opened a document and when: the "opened" entries of its timeline.

    A read log, not an audit event: opening changes nothing, and a row per person (first and last time,
    how often) keeps the hash-chained audit trail free of page views."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="openings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    first_opened_at = models.DateTimeField(_("first opened at"))
    last_opened_at = models.DateTimeField(_("last opened at"))
    times = models.PositiveIntegerField(_("times opened"), default=1)

    class Meta:
        verbose_name = _("document opening")
        verbose_name_plural = _("document openings")
        constraints = [models.UniqueConstraint(fields=["document", "user"], name="doc_opening_once_per_person")]

    def __str__(self) -> str:
        return f"{self.document_id} {self.user_id}"
