"""API shapes of the records cycle. Work files and their documents are described with the PL VI metadata names
(FileCode, Title, Maintenance, StartDate, EndDate, DocTotal, PageTotal, DocOrdinal, CodeNumber…), the way the
decree names them; everything else keeps this project's snake_case. Input serializers only parse: the rules live in
records.services, which the views call with the parsed values."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from .models import (
    BagExport,
    BagImport,
    CatalogueEntry,
    CatalogueHeading,
    Disposition,
    DispositionItem,
    FileCatalogue,
    HoldBack,
    JobState,
    RetentionPeriod,
    Transfer,
    WorkFile,
    WorkFileDocument,
    WorkFileState,
    retention_label,
)

# --- the retention table ----------------------------------------------------------------------------------



# Ids within the database's integer range: a larger number is a 400 (it cannot name anything), not a 500.
MAX_ID = 2**63 - 1


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class RetentionPeriodSerializer(serializers.ModelSerializer):
    """A row of the retention table; `years` null means permanent."""

    label = serializers.SerializerMethodField()

    class Meta:
        model = RetentionPeriod
        fields = ["id", "code", "title", "years", "label", "source", "is_active", "sort_order"]
        read_only_fields = ["id", "label"]

    def get_label(self, period: RetentionPeriod) -> str:
        return retention_label(period.years)


# --- the annual file catalogue ----------------------------------------------------------------------------


class CatalogueSerializer(serializers.ModelSerializer):
    class Meta:
        model = FileCatalogue
        fields = ["id", "agency", "year", "state", "approved_by_name", "published_by", "published_at", "created_at"]
        read_only_fields = fields


class HeadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogueHeading
        fields = ["id", "parent", "order", "title", "abbreviation"]
        read_only_fields = fields


class EntrySerializer(serializers.ModelSerializer):
    Maintenance = serializers.CharField(source="retention_text", read_only=True,
                                        help_text="The retention as text (permanent or N years).")

    class Meta:
        model = CatalogueEntry
        fields = ["id", "heading", "order", "file_notation", "title", "retention", "retention_years", "Maintenance",
                  "unit", "responsible", "note"]
        read_only_fields = fields


class CatalogueDetailSerializer(CatalogueSerializer):
    headings = HeadingSerializer(many=True, read_only=True)
    entries = EntrySerializer(many=True, read_only=True)

    class Meta(CatalogueSerializer.Meta):
        fields = [*CatalogueSerializer.Meta.fields, "headings", "entries"]
        read_only_fields = fields


class CatalogueCreateSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=1900, max_value=2200)
    copy_from = IdField(required=False, allow_null=True, default=None,
                                         help_text="A catalogue of the agency whose headings and entries are copied.")


class HeadingCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    abbreviation = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                         help_text="Required for a major heading (e.g. TCCB): it ends the file numbers.")
    parent = IdField(required=False, allow_null=True, default=None,
                                      help_text="A major heading of this catalogue: the new one is its sub-heading.")


class EntryCreateSerializer(serializers.Serializer):
    heading = IdField()
    title = serializers.CharField(max_length=500)
    retention = IdField(required=False, allow_null=True, default=None,
                                         help_text="A row of the retention table (its years are copied).")
    retention_years = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                               max_value=100)
    permanent = serializers.BooleanField(required=False, default=False)
    unit = IdField(required=False, allow_null=True, default=None)
    responsible = IdField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    file_notation = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                          help_text="Empty: the next number under the major heading (01.TCCB).")


class PublishSerializer(serializers.Serializer):
    approved_by_name = serializers.CharField(max_length=150, help_text="The head of the agency who approved it.")


# --- work files -------------------------------------------------------------------------------------------


class WorkFileListSerializer(serializers.ModelSerializer):
    """A work file in a list: its PL VI code and title, retention, dates and where it is in the cycle."""

    FileCode = serializers.CharField(source="file_code", read_only=True)
    FileCatalog = serializers.IntegerField(source="year", read_only=True)
    FileNotation = serializers.CharField(source="file_notation", read_only=True)
    Title = serializers.CharField(source="title", read_only=True)
    Maintenance = serializers.CharField(source="retention_text", read_only=True)
    StartDate = serializers.DateField(source="start_date", read_only=True)
    EndDate = serializers.DateField(source="end_date", read_only=True)
    DocTotal = serializers.IntegerField(source="doc_total", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True, default="")

    class Meta:
        model = WorkFile
        fields = ["id", "FileCode", "FileCatalog", "FileNotation", "Title", "Maintenance", "retention_years",
                  "unit", "unit_name", "state", "StartDate", "EndDate", "DocTotal", "transfer_due", "held_until"]
        read_only_fields = fields


class FileDocumentSerializer(serializers.ModelSerializer):
    """A document of the file (PL VI names); only documents the caller may open are listed."""

    DocOrdinal = serializers.IntegerField(source="ordinal", read_only=True)
    TypeName = serializers.CharField(source="document.document_type.name", read_only=True)
    CodeNumber = serializers.CharField(source="document.code_number", read_only=True)
    CodeNotation = serializers.CharField(source="document.code_notation", read_only=True)
    IssuedDate = serializers.DateField(source="document.issued_date", read_only=True)
    OrganName = serializers.CharField(source="document.organ_name", read_only=True)
    Subject = serializers.CharField(source="document.subject", read_only=True)
    PageAmount = serializers.IntegerField(source="document.page_amount", read_only=True, allow_null=True)

    class Meta:
        model = WorkFileDocument
        fields = ["DocOrdinal", "document", "TypeName", "CodeNumber", "CodeNotation", "IssuedDate", "OrganName",
                  "Subject", "PageAmount", "added_at"]
        read_only_fields = fields


class HoldBackSerializer(serializers.ModelSerializer):
    file_notation = serializers.CharField(source="work_file.file_notation", read_only=True)
    file_title = serializers.CharField(source="work_file.title", read_only=True)
    transfer_due = serializers.DateField(source="work_file.transfer_due", read_only=True)

    class Meta:
        model = HoldBack
        fields = ["id", "work_file", "file_notation", "file_title", "transfer_due", "until", "reason",
                  "requested_by", "requested_at", "state", "decided_by", "decided_at", "decision_note"]
        read_only_fields = fields


class WorkFileDetailSerializer(WorkFileListSerializer):
    """The PL VI file metadata, where the file is in the cycle, and the documents the caller may open
    (`hidden_documents` counts the others). Give `documents` and `hidden_documents` in the context."""

    OrganId = serializers.CharField(source="agency.organ_id", read_only=True)
    Rights = serializers.CharField(source="rights", read_only=True)
    Creator = serializers.CharField(source="creator.display_name", read_only=True)
    Language = serializers.CharField(source="language", read_only=True)
    PageTotal = serializers.IntegerField(source="page_total", read_only=True)
    Description = serializers.CharField(source="description", read_only=True)
    retention_ends = serializers.DateField(read_only=True)
    documents = serializers.SerializerMethodField()
    hidden_documents = serializers.SerializerMethodField()
    hold_backs = HoldBackSerializer(many=True, read_only=True)

    class Meta(WorkFileListSerializer.Meta):
        fields = [
            "id", "FileCode", "OrganId", "FileCatalog", "FileNotation", "Title", "Maintenance", "retention_years",
            "Rights", "Creator", "creator", "Language", "StartDate", "EndDate", "DocTotal", "PageTotal",
            "Description", "agency", "unit", "unit_name", "catalogue_entry", "capital_construction",
            "settlement_date", "state", "opened_at", "closed_at", "closed_by", "transfer_due", "held_until",
            "archived_at", "retention_ends", "kept_until", "destroyed_at", "imported_from", "fixity", "documents",
            "hidden_documents", "hold_backs",
        ]
        read_only_fields = fields

    @extend_schema_field(FileDocumentSerializer(many=True))
    def get_documents(self, work_file: WorkFile) -> list[dict]:
        return FileDocumentSerializer(self.context.get("documents", []), many=True).data

    def get_hidden_documents(self, work_file: WorkFile) -> int:
        return self.context.get("hidden_documents", 0)


RETENTION_FILTER = re.compile(r"^(permanent|[0-9]{1,3})$")


class WorkFileFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=WorkFileState.choices, required=False)
    year = serializers.IntegerField(required=False, min_value=1900, max_value=2200)
    unit = IdField(required=False)
    q = serializers.CharField(required=False, max_length=200, help_text="The title or the file number contains this.")
    retention = serializers.CharField(required=False, max_length=9,
                                      help_text="`permanent`, or a number of years (e.g. 10).")

    def validate_retention(self, value: str) -> str:
        if not RETENTION_FILTER.match(value):
            raise serializers.ValidationError(_("Give permanent or a number of years."))
        return value


class ArchiveFilterSerializer(WorkFileFilterSerializer):
    state = None


class DueFilterSerializer(serializers.Serializer):
    unit = IdField(required=False)


class OpenFromEntrySerializer(serializers.Serializer):
    entry = IdField(help_text="An entry of a published catalogue.")
    start_date = serializers.DateField(required=False, allow_null=True, default=None)


class WorkFileCreateSerializer(serializers.Serializer):
    """An ad hoc file, not in the catalogue (Art. 29)."""

    title = serializers.CharField(max_length=500)
    file_notation = serializers.CharField(max_length=20)
    start_date = serializers.DateField()
    retention = IdField(required=False, allow_null=True, default=None)
    retention_years = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                               max_value=100)
    permanent = serializers.BooleanField(required=False, default=False)
    unit = IdField(required=False, allow_null=True, default=None)
    rights = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    capital_construction = serializers.BooleanField(required=False, default=False)


class WorkFileChangeSerializer(serializers.Serializer):
    """The fields of an open file that may be corrected; send only those that change."""

    title = serializers.CharField(max_length=500, required=False)
    retention_years = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100,
                                               help_text="null for permanent retention.")
    rights = serializers.CharField(max_length=30, required=False, allow_blank=True)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    capital_construction = serializers.BooleanField(required=False)
    settlement_date = serializers.DateField(required=False, allow_null=True)
    language = serializers.CharField(max_length=50, required=False)


class FileDocumentAddSerializer(serializers.Serializer):
    document = IdField(help_text="A registered document of the agency that you may open.")


class HoldBackRequestSerializer(serializers.Serializer):
    until = serializers.DateField()
    reason = serializers.CharField(max_length=2000)


class HoldBackDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                 help_text="Required when refusing.")


# --- transfers and dispositions -----------------------------------------------------------------------------


class FileBriefSerializer(serializers.ModelSerializer):
    FileCode = serializers.CharField(source="file_code", read_only=True)
    FileNotation = serializers.CharField(source="file_notation", read_only=True)
    Title = serializers.CharField(source="title", read_only=True)

    class Meta:
        model = WorkFile
        fields = ["id", "FileCode", "FileNotation", "Title", "state"]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    file_count = serializers.SerializerMethodField()

    class Meta:
        model = Transfer
        fields = ["id", "agency", "unit", "state", "submitted_by", "submitted_at", "received_by", "received_at",
                  "note", "paper_boxes", "shelf_metres", "file_count"]
        read_only_fields = fields

    def get_file_count(self, transfer: Transfer) -> int:
        total = getattr(transfer, "file_total", None)  # annotated on lists
        return transfer.files.count() if total is None else total


class TransferDetailSerializer(TransferSerializer):
    """A transfer and the files of it that the caller may see (give them as `files` in the context)."""

    files = serializers.SerializerMethodField()

    class Meta(TransferSerializer.Meta):
        fields = [*TransferSerializer.Meta.fields, "files"]
        read_only_fields = fields

    @extend_schema_field(FileBriefSerializer(many=True))
    def get_files(self, transfer: Transfer) -> list[dict]:
        return FileBriefSerializer(self.context.get("files", []), many=True).data


class TransferReceiveSerializer(serializers.Serializer):
    """Paper originals handed over with the files, if any (the hand-over record counts them)."""

    paper_boxes = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0,
                                           max_value=100000)
    shelf_metres = serializers.DecimalField(required=False, allow_null=True, default=None, max_digits=7,
                                            decimal_places=2, min_value=0)


class FileIdsSerializer(serializers.Serializer):
    files = serializers.ListField(child=IdField(), min_length=1, max_length=500)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TransferReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="What the unit must correct.")


class DispositionItemSerializer(serializers.ModelSerializer):
    file = FileBriefSerializer(source="work_file", read_only=True)
    EndDate = serializers.DateField(source="work_file.end_date", read_only=True)
    retention_years = serializers.IntegerField(source="work_file.retention_years", read_only=True)
    retention_ends = serializers.DateField(source="work_file.retention_ends", read_only=True)

    class Meta:
        model = DispositionItem
        fields = ["id", "work_file", "file", "EndDate", "retention_years", "retention_ends", "decision",
                  "keep_until", "reason"]
        read_only_fields = fields


class DispositionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disposition
        fields = ["id", "agency", "state", "proposed_by", "proposed_at", "note", "decided_by", "decided_at",
                  "executed_by", "executed_at"]
        read_only_fields = fields


class DispositionDetailSerializer(DispositionSerializer):
    items = DispositionItemSerializer(many=True, read_only=True)

    class Meta(DispositionSerializer.Meta):
        fields = [*DispositionSerializer.Meta.fields, "items", "destroyed"]
        read_only_fields = fields


class ItemDecisionSerializer(serializers.Serializer):
    item = IdField(help_text="An item (file) of the proposal.")
    destroy = serializers.BooleanField()
    keep_until = serializers.DateField(required=False, allow_null=True, default=None,
                                       help_text="When kept: the day until which it is kept.")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DispositionDecisionSerializer(serializers.Serializer):
    decisions = ItemDecisionSerializer(many=True, help_text="One decision for every file of the proposal.")


# --- BagIt jobs ---------------------------------------------------------------------------------------------


class ExportJobSerializer(serializers.ModelSerializer):
    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = BagExport
        fields = ["id", "work_file", "state", "size", "error", "requested_at", "finished_at", "status_url",
                  "download_url"]
        read_only_fields = fields

    def get_status_url(self, job: BagExport) -> str:
        return reverse("records-export-detail", args=[job.pk], request=self.context.get("request"))

    def get_download_url(self, job: BagExport) -> str | None:
        if job.state != JobState.DONE:
            return None
        return reverse("records-export-download", args=[job.pk], request=self.context.get("request"))


class ImportJobSerializer(serializers.ModelSerializer):
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = BagImport
        fields = ["id", "original_name", "state", "work_file", "error", "requested_at", "finished_at", "status_url"]
        read_only_fields = fields

    def get_status_url(self, job: BagImport) -> str:
        return reverse("records-import-detail", args=[job.pk], request=self.context.get("request"))


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A BagIt package as a .zip file.")


class DueFileSerializer(serializers.Serializer):
    """A closed file due for transfer to the archive: its deadline after any approved hold-back."""

    file = WorkFileListSerializer(source="work_file", read_only=True)
    due = serializers.DateField(read_only=True)
    days_left = serializers.IntegerField(read_only=True, help_text="Negative when overdue.")
    pending_hold_back = serializers.SerializerMethodField(help_text="A request to keep it longer, waiting.")

    def get_pending_hold_back(self, row) -> int | None:
        return row.pending_hold_back.pk if row.pending_hold_back else None
