"""Records (Decree 30/2020 Art. 28–31, PL V, PL VI): the annual file catalogue and its retention table, work
files holding registered documents, hold-backs, transfers to the agency archive, disposition and fixity.

A work file never copies a document: `WorkFileDocument` links it, so one document can sit in several files.
State only moves forward (open → closed → archived → destroyed); closed and later files are read-only, which
`records.services` enforces (every change goes through it)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency, Unit
from documents.models import Document, DocumentFile, FileBlob


class RetentionPeriod(models.Model):
    """One row of the retention table (Circular 10/2022/TT-BNV and the agency's own additions), kept as
    data: archivists edit it; the catalogue copies the years it chose, so later edits never move a file."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    title = models.CharField(_("group of records"), max_length=300)
    years = models.PositiveSmallIntegerField(
        _("years"), null=True, blank=True, help_text=_("Empty for permanent retention.")
    )
    source = models.CharField(_("source"), max_length=200, blank=True,
                              help_text=_("The regulation and item, e.g. Circular 10/2022/TT-BNV, Annex I item 3."))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("retention period")
        verbose_name_plural = _("retention table")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title} ({retention_label(self.years)})"


def retention_label(years: int | None) -> str:
    """'Vĩnh viễn' / 'Permanent', or 'N năm' / 'N years', in the active language."""
    from django.utils.translation import gettext, ngettext

    if years is None:
        return gettext("Permanent")
    return ngettext("%(years)d year", "%(years)d years", years) % {"years": years}


class CatalogueState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class FileCatalogue(models.Model):
    """The annual file catalogue (Danh mục hồ sơ) of one agency for one year, approved by its head and
    published at the start of the year; once published its entries are fixed (new files are opened ad hoc)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    year = models.PositiveSmallIntegerField(_("year"))
    state = models.CharField(_("state"), max_length=10, choices=CatalogueState.choices, default=CatalogueState.DRAFT)
    approved_by_name = models.CharField(_("approved by"), max_length=150, blank=True,
                                        help_text=_("The head of the agency who approved the catalogue."))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("published by"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("file catalogue")
        verbose_name_plural = _("file catalogues")
        ordering = ["agency", "-year"]
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="records_catalogue_once_a_year")]
        permissions = [("manage_records", _("Can keep the file catalogue, the archive and dispositions"))]

    def __str__(self) -> str:
        return f"{self.agency} {self.year}"

    @property
    def is_published(self) -> bool:
        return self.state == CatalogueState.PUBLISHED


class CatalogueHeading(models.Model):
    """A heading of the catalogue: major headings (no parent) are numbered I, II, III…, sub-headings 1, 2, 3…;
    `abbreviation` (e.g. TCCB) ends the file numbers under the major heading."""

    catalogue = models.ForeignKey(FileCatalogue, on_delete=models.CASCADE, related_name="headings")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("heading"), max_length=300)
    abbreviation = models.CharField(_("abbreviation"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("catalogue heading")
        verbose_name_plural = _("catalogue headings")
        ordering = ["catalogue", "parent_id", "order", "id"]

    def __str__(self) -> str:
        return self.title


class CatalogueEntry(models.Model):
    """A planned file of the catalogue: its number (01.TCCB), title, retention, unit and person responsible."""

    catalogue = models.ForeignKey(FileCatalogue, on_delete=models.CASCADE, related_name="entries")
    heading = models.ForeignKey(CatalogueHeading, on_delete=models.PROTECT, related_name="entries",
                                verbose_name=_("heading"))
    order = models.PositiveSmallIntegerField(_("order"))
    file_notation = models.CharField(_("file number"), max_length=20)
    title = models.CharField(_("title"), max_length=500)
    retention = models.ForeignKey(RetentionPeriod, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("retention group"))
    retention_years = models.PositiveSmallIntegerField(_("retention (years)"), null=True, blank=True,
                                                       help_text=_("Empty for permanent retention."))
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit responsible"))
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("person responsible"))
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("catalogue entry")
        verbose_name_plural = _("catalogue entries")
        ordering = ["catalogue", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "file_notation"], name="records_entry_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.file_notation} {self.title}"

    @property
    def retention_text(self) -> str:
        return retention_label(self.retention_years)


class WorkFileState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("In the agency archive")
    DESTROYED = "destroyed", _("Destroyed")


class WorkFile(models.Model):
    """A work file (hồ sơ công việc) with the PL VI file metadata: FileCode = OrganId + FileCatalog (year) +
    FileNotation; Title, Maintenance (retention), Rights, Creator, Language, StartDate/EndDate, DocTotal,
    PageTotal, Description. The totals and the end date are fixed when the file is closed."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit"))
    catalogue_entry = models.ForeignKey(CatalogueEntry, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="work_files", verbose_name=_("catalogue entry"))
    year = models.PositiveSmallIntegerField(_("year"))  # FileCatalog
    file_notation = models.CharField(_("file number"), max_length=20)  # FileNotation
    title = models.CharField(_("title"), max_length=500)
    retention_years = models.PositiveSmallIntegerField(_("retention (years)"), null=True, blank=True,
                                                       help_text=_("Empty for permanent retention."))
    rights = models.CharField(_("access regime"), max_length=30, blank=True)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("file keeper"))
    language = models.CharField(_("language"), max_length=50, default="Tiếng Việt")
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    doc_total = models.PositiveIntegerField(_("documents"), default=0)
    page_total = models.PositiveIntegerField(_("pages"), default=0)
    description = models.CharField(_("description"), max_length=500, blank=True)
    capital_construction = models.BooleanField(
        _("capital construction file"), default=False,
        help_text=_("Transferred within 3 months of the project's final settlement instead of 1 year."),
    )
    settlement_date = models.DateField(_("final settlement date"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=WorkFileState.choices, default=WorkFileState.OPEN,
                             db_index=True)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("closed by"))
    # Fixed at closing from the end date (Art. 30.2), moved by an approved hold-back (Art. 31.3).
    transfer_due = models.DateField(_("transfer due"), null=True, blank=True, db_index=True)
    held_until = models.DateField(_("held in the unit until"), null=True, blank=True)
    transfer_reminded_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    # Disposition: when the retention ends (end date + years); a leader may keep it longer.
    kept_until = models.DateField(_("kept longer until"), null=True, blank=True)
    destroyed_at = models.DateTimeField(_("destroyed at"), null=True, blank=True)
    imported_from = models.CharField(_("imported from"), max_length=200, blank=True)
    # The last fixity check of every file in the record (see FixityRecord): "" never checked, "ok", "failed".
    fixity = models.CharField(_("fixity"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("work file")
        verbose_name_plural = _("work files")
        ordering = ["-year", "file_notation", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "year", "file_notation"], name="records_file_unique_code"),
        ]
        indexes = [
            models.Index(fields=["agency", "state", "unit"], name="records_file_agency_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_notation} {self.title[:80]}"

    @property
    def file_code(self) -> str:
        """PL VI FileCode: OrganId + FileCatalog + FileNotation."""
        return f"{self.agency.organ_id}.{self.year}.{self.file_notation}"

    @property
    def is_permanent(self) -> bool:
        return self.retention_years is None

    @property
    def retention_text(self) -> str:
        return retention_label(self.retention_years)

    @property
    def is_locked(self) -> bool:
        return self.state != WorkFileState.OPEN

    @property
    def retention_ends(self) -> date | None:
        """The day after which the file may be proposed for destruction (never for permanent files)."""
        if self.retention_years is None or self.end_date is None:
            return None
        try:
            ends = self.end_date.replace(year=self.end_date.year + self.retention_years)
        except ValueError:  # 29 February
            ends = self.end_date.replace(year=self.end_date.year + self.retention_years, day=28)
        if self.kept_until and self.kept_until > ends:
            return self.kept_until
        return ends


class WorkFileDocument(models.Model):
    """A registered document in a work file (linked, not copied); `ordinal` is PL VI DocOrdinal, renumbered by
    date and number whenever the list changes while the file is open."""

    work_file = models.ForeignKey(WorkFile, on_delete=models.CASCADE, related_name="items")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="work_file_items")
    ordinal = models.PositiveIntegerField(_("order in file"), default=0)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document in a work file")
        verbose_name_plural = _("documents in work files")
        ordering = ["work_file", "ordinal", "id"]
        constraints = [
            models.UniqueConstraint(fields=["work_file", "document"], name="records_item_once_per_file"),
        ]

    def __str__(self) -> str:
        return f"{self.work_file_id}#{self.ordinal}"


class DecisionState(models.TextChoices):
    REQUESTED = "requested", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class HoldBack(models.Model):
    """A unit's request to keep a closed file past its transfer deadline (Art. 31.3: at most 2 more years,
    with the head's approval, recorded)."""

    work_file = models.ForeignKey(WorkFile, on_delete=models.PROTECT, related_name="hold_backs")
    until = models.DateField(_("keep until"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(_("state"), max_length=10, choices=DecisionState.choices,
                             default=DecisionState.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("hold-back")
        verbose_name_plural = _("hold-backs")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["work_file"], condition=Q(state="requested"),
                                    name="records_one_open_holdback"),
        ]

    def __str__(self) -> str:
        return f"{self.work_file_id} → {self.until}"


class TransferState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted to the archive")
    RECEIVED = "received", _("Received")
    RETURNED = "returned", _("Returned to the unit")


class Transfer(models.Model):
    """A transfer of closed files from a unit to the agency archive (nộp lưu): the transfer list (Mục lục hồ
    sơ nộp lưu) and the hand-over record (Biên bản giao nhận) are generated from these rows."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("delivering unit"))
    state = models.CharField(_("state"), max_length=10, choices=TransferState.choices,
                             default=TransferState.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("delivered by"))
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("received by"))
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    files = models.ManyToManyField(WorkFile, related_name="transfers", verbose_name=_("files"))
    # Paper originals handed over with the electronic files (PL V: the hand-over record counts them), entered
    # by the archivist when receiving; empty for a purely electronic transfer.
    paper_boxes = models.PositiveIntegerField(_("boxes (paper)"), null=True, blank=True)
    shelf_metres = models.DecimalField(_("metres of shelf (paper)"), max_digits=7, decimal_places=2, null=True,
                                       blank=True)

    class Meta:
        verbose_name = _("transfer to the archive")
        verbose_name_plural = _("transfers to the archive")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.agency} {self.submitted_at:%d/%m/%Y}" if self.submitted_at else str(self.agency)


class DispositionState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    DECIDED = "decided", _("Decided")
    EXECUTED = "executed", _("Executed")


class Disposition(models.Model):
    """A proposal to destroy files whose retention has ended, the leader's decision per file, and the
    execution. Never deleted (no delete path, PROTECT everywhere): it is the destruction record kept forever."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    state = models.CharField(_("state"), max_length=10, choices=DispositionState.choices,
                             default=DispositionState.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("approved by"))
    decided_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("executed by"))
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    # What was destroyed, frozen at execution: files, their documents and the blobs removed from storage.
    destroyed = models.JSONField(_("destroyed"), default=dict, blank=True)
    # When the task removed the destroyed bytes from storage (after the execution committed).
    content_removed_at = models.DateTimeField(_("content removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        ordering = ["-proposed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.agency} {self.proposed_at:%d/%m/%Y}" if self.proposed_at else str(self.agency)


class ItemDecision(models.TextChoices):
    PENDING = "pending", _("Not decided")
    DESTROY = "destroy", _("Destroy")
    KEEP = "keep", _("Keep longer")


class DispositionItem(models.Model):
    disposition = models.ForeignKey(Disposition, on_delete=models.PROTECT, related_name="items")
    work_file = models.ForeignKey(WorkFile, on_delete=models.PROTECT, related_name="disposition_items")
    decision = models.CharField(_("decision"), max_length=10, choices=ItemDecision.choices,
                                default=ItemDecision.PENDING)
    keep_until = models.DateField(_("keep until"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("file proposed for destruction")
        verbose_name_plural = _("files proposed for destruction")
        ordering = ["disposition", "id"]
        constraints = [
            models.UniqueConstraint(fields=["disposition", "work_file"], name="records_disposition_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.work_file_id}: {self.decision}"


class FixityStatus(models.TextChoices):
    OK = "ok", _("Intact")
    MISMATCH = "mismatch", _("Altered (hash differs)")
    MISSING = "missing", _("Missing from storage")


class FixityRecord(models.Model):
    """The last fixity check of one stored blob: the periodic task re-hashes the least recently checked
    blobs in bounded batches; a failure is kept until a later check finds the bytes intact again."""

    blob = models.OneToOneField(FileBlob, on_delete=models.CASCADE, related_name="fixity", primary_key=True)
    status = models.CharField(_("status"), max_length=10, choices=FixityStatus.choices)
    checked_at = models.DateTimeField(_("checked at"), db_index=True)
    failed_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("fixity check")
        verbose_name_plural = _("fixity checks")

    def __str__(self) -> str:
        return f"{self.blob_id[:12]}: {self.status}"


class ArchivalTimestamp(models.Model):
    """The B-LTA copy of a signed PDF made at archiving: the original bytes plus, as incremental updates, a
    document timestamp (the trusted time, when the signature has none), the validation data (DSS) of the
    signatures and timestamps, and a document timestamp (RFC 3161) over it, so the signature stays provable
    after the certificates expire. The original file is kept untouched beside it."""

    document_file = models.OneToOneField(DocumentFile, on_delete=models.PROTECT, related_name="archival_timestamp")
    blob = models.ForeignKey(FileBlob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, default="pending")  # pending / done / failed / skipped
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    timestamped_at = models.DateTimeField(_("timestamped at"), null=True, blank=True)
    tsa_url = models.CharField(_("timestamp authority"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("archival timestamp")
        verbose_name_plural = _("archival timestamps")

    def __str__(self) -> str:
        return f"{self.document_file_id}: {self.state}"


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class BagExport(models.Model):
    """A BagIt package of one work file asked for by one person, built by a task (the intent is stored before
    the task is queued, so a redelivered task finds the package done). Requester-only download."""

    work_file = models.ForeignKey(WorkFile, on_delete=models.PROTECT, related_name="exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(_("state"), max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    file = models.FileField(_("package"), upload_to="records/exports/%Y/%m/", max_length=300, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    error = models.CharField(_("reason"), max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("BagIt export")
        verbose_name_plural = _("BagIt exports")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.work_file_id}: {self.state}"


class BagImport(models.Model):
    """A BagIt package uploaded to be imported as a work file of this installation: validated by bagit first,
    then created in one transaction (all or nothing); the reason is kept when it is refused."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    upload = models.FileField(_("package"), upload_to="records/imports/%Y/%m/", max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    state = models.CharField(_("state"), max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    work_file = models.ForeignKey(WorkFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    error = models.TextField(_("reason"), blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("BagIt import")
        verbose_name_plural = _("BagIt imports")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name}: {self.state}"
