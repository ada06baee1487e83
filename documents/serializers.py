"""API shapes of the registry. Input serializers only parse (types, lengths, choices); the rules of
registration live in documents.services, which the views call with the parsed values."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.reverse import reverse
from rest_framework.utils import html

from accounts.models import Agency, AuthorityPrefix

from .models import (
    Confidentiality,
    Direction,
    Document,
    DocumentFile,
    DocumentRecipient,
    DocumentType,
    Register,
    RegisterKind,
    Urgency,
)


def _max_length(name: str) -> int:
    return Document._meta.get_field(name).max_length


def _text(name: str, **kwargs) -> serializers.CharField:
    """An optional text input as long as the model column allows (the database never truncates)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("default", "")
    return serializers.CharField(max_length=_max_length(name), **kwargs)


# --- reference data -----------------------------------------------------------------------------


class DocumentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentType
        fields = ["id", "code", "name", "abbreviation"]


class RegisterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Register
        fields = ["id", "agency", "kind", "year", "code", "name", "volume", "last_number", "is_active", "created_at"]
        read_only_fields = fields


class RegisterCreateSerializer(serializers.Serializer):
    agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())
    kind = serializers.ChoiceField(choices=RegisterKind.choices)
    year = serializers.IntegerField(min_value=1945, max_value=2200)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    volume = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class DateRangeSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": _("The end date is before the start date.")})
        return attrs


class PrintQuerySerializer(DateRangeSerializer):
    format = serializers.ChoiceField(choices=[("pdf", "PDF"), ("xlsx", "XLSX")], default="pdf")


class RegisterEntrySerializer(serializers.ModelSerializer):
    """One row of a register (PL IV columns): for incoming registers `register_number` is the arrival number."""

    number_notation = serializers.CharField(read_only=True)
    document_type_name = serializers.CharField(source="document_type.name", read_only=True)
    drafting_unit_name = serializers.CharField(source="drafting_unit.name", read_only=True, default="")
    registered_by = serializers.CharField(source="created_by.display_name", read_only=True)
    recipients = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id", "register_number", "number_notation", "code_number", "code_notation", "issued_date", "arrival_date",
            "document_type", "document_type_name", "subject", "organ_name", "signer_name", "signer_position",
            "recipients", "to_places", "drafting_unit_name", "page_amount", "issued_amount", "due_date", "urgency",
            "confidentiality", "description", "registered_by",
        ]
        read_only_fields = fields

    def get_recipients(self, document: Document) -> list[str]:
        return [recipient.name for recipient in document.recipients.all()]


# --- documents ----------------------------------------------------------------------------------


class _DocumentFieldsSerializer(serializers.ModelSerializer):
    """The fields of a document in the list, and the first ones of its detail."""

    number_notation = serializers.CharField(read_only=True)
    document_type_name = serializers.CharField(source="document_type.name", read_only=True)
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    register_name = serializers.CharField(source="register.name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id", "url", "direction", "agency", "agency_name", "register", "register_name", "register_number",
            "code_number", "code_notation", "number_notation", "identifier", "issued_date", "arrival_date",
            "document_type", "document_type_name", "subject", "organ_name", "urgency", "confidentiality", "due_date",
            "created_at",
        ]
        read_only_fields = fields

    def get_url(self, document: Document) -> str:
        return reverse("document-detail", kwargs={"pk": document.pk}, request=self.context.get("request"))


# What DocumentListSerializer reads: the list loads these values only (one query, no model instances; the
# search text, notes and the related rows' other columns stay in the database).
LIST_VALUES = (
    "id", "direction", "agency_id", "agency__name", "register_id", "register__name", "register_number",
    "code_number", "code_notation", "identifier", "issued_date", "arrival_date", "document_type_id",
    "document_type__name", "subject", "organ_name", "urgency", "confidentiality", "due_date", "created_at",
)


def _iso_date(value):
    return None if value is None else value.isoformat()


class DocumentListSerializer(_DocumentFieldsSerializer):
    """A row of the document list: the same fields, names and values as DRF's generic serializer gives
    (tests/documents/test_document_list_api.py compares them), built directly from the row's values.
    The generic path (model instances for the document and its three related rows, then field by field,
    a reverse() per row) cost about half of the request for a page of 50 (bench/README.md)."""

    @staticmethod
    def prepare(queryset):
        """The rows `to_representation` reads, in the page's one query (documents.api applies it to the
        page's slice only, after counting)."""
        return queryset.values(*LIST_VALUES)

    def to_representation(self, row: dict) -> dict:
        notation = row["code_notation"]
        return {
            "id": row["id"],
            "url": self._detail_url(row["id"]),
            "direction": row["direction"],
            "agency": row["agency_id"],
            "agency_name": row["agency__name"],
            "register": row["register_id"],
            "register_name": row["register__name"],
            "register_number": row["register_number"],
            "code_number": row["code_number"],
            "code_notation": notation,
            # Document.number_notation
            "number_notation": f"{row['code_number']}/{notation}" if notation else row["code_number"],
            "identifier": row["identifier"],
            "issued_date": _iso_date(row["issued_date"]),
            "arrival_date": _iso_date(row["arrival_date"]),
            "document_type": row["document_type_id"],
            "document_type_name": row["document_type__name"],
            "subject": row["subject"],
            "organ_name": row["organ_name"],
            "urgency": row["urgency"],
            "confidentiality": row["confidentiality"],
            "due_date": _iso_date(row["due_date"]),
            "created_at": self._datetime_field().to_representation(row["created_at"]),
        }

    def _datetime_field(self) -> serializers.DateTimeField:
        # DRF's own conversion (the current time zone, ISO 8601), with the zone looked up once per page
        # instead of once per row.
        field = getattr(self, "_datetime", None)
        if field is None:
            zone = timezone.get_current_timezone() if settings.USE_TZ else None
            field = self._datetime = serializers.DateTimeField(read_only=True, default_timezone=zone)
        return field

    def _detail_url(self, pk: int) -> str:
        # One reverse() per page, not per row: the detail route with a placeholder, then the id put in.
        parts = getattr(self, "_url_parts", None)
        if parts is None:
            url = reverse("document-detail", kwargs={"pk": "0pk0"}, request=self.context.get("request"))
            head, _placeholder, tail = url.rpartition("0pk0")
            parts = self._url_parts = (head, tail)
        return f"{parts[0]}{pk}{parts[1]}"


class RecipientSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentRecipient
        fields = ["id", "agency", "unit", "name"]
        read_only_fields = fields


class DocumentFileSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    size = serializers.IntegerField(source="blob.size", read_only=True)
    content_type = serializers.CharField(source="blob.content_type", read_only=True)
    sha256 = serializers.CharField(source="blob_id", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DocumentFile
        fields = [
            "id", "name", "is_main", "size", "content_type", "sha256", "page_count", "extraction_status",
            "uploaded_at", "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, doc_file: DocumentFile) -> str:
        return reverse(
            "document-file-download", kwargs={"pk": doc_file.document_id, "file_id": doc_file.pk},
            request=self.context.get("request"),
        )


class DocumentDetailSerializer(_DocumentFieldsSerializer):
    drafting_unit_name = serializers.CharField(source="drafting_unit.name", read_only=True, default="")
    registered_by = serializers.CharField(source="created_by.display_name", read_only=True)
    recipients = RecipientSerializer(many=True, read_only=True)
    files = DocumentFileSerializer(many=True, read_only=True)

    class Meta(_DocumentFieldsSerializer.Meta):
        fields = _DocumentFieldsSerializer.Meta.fields + [
            "organ_id", "language", "page_amount", "issued_amount", "description", "signer_position", "signer_name",
            "authority_prefix", "drafting_unit", "drafting_unit_name", "to_places", "created_by", "registered_by",
            "recipients", "files",
        ]
        read_only_fields = fields


class DocumentFilterSerializer(serializers.Serializer):
    """Query parameters of the document list (the same filters as the web list)."""

    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    document_type = serializers.IntegerField(required=False, min_value=1)
    date_from = serializers.DateField(required=False, help_text="Issued on or after this date.")
    date_to = serializers.DateField(required=False, help_text="Issued on or before this date.")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    confidentiality = serializers.ChoiceField(choices=Confidentiality.choices, required=False)
    register = serializers.IntegerField(required=False, min_value=1)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Words of the subject, number/notation, issuing body, identifier or signer.")


# --- registration input -------------------------------------------------------------------------


class RecipientInputSerializer(serializers.Serializer):
    """A place the document is sent to: an agency of the tree, a unit of the issuing agency (internal
    documents), or a name in free text."""

    agency = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    unit = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("agency") and not attrs.get("unit") and not attrs.get("name", "").strip():
            raise serializers.ValidationError(_("Give an agency, a unit or a name."))
        return attrs


class RecipientListField(serializers.ListField):
    """A JSON list of recipients; in multipart forms, either one field holding that JSON list,
    fields each holding one JSON object, or `recipients[0]agency=…` style fields."""

    child = RecipientInputSerializer()

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            values = dictionary.getlist(self.field_name)
            if len(values) == 1 and isinstance(values[0], str) and values[0].lstrip().startswith("["):
                return values[0]
            return values
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = self._json(data)
        if isinstance(data, list):
            data = [self._json(item) if isinstance(item, str) else item for item in data]
        return super().to_internal_value(data)

    def _json(self, text: str):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise serializers.ValidationError(_("Recipients must be JSON, e.g. [{\"agency\": 12}].")) from exc


class _RegistrationSerializer(serializers.Serializer):
    document_type = serializers.IntegerField(min_value=1)
    subject = serializers.CharField(max_length=_max_length("subject"))
    signer_name = _text("signer_name")
    signer_position = _text("signer_position")
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = serializers.ChoiceField(choices=Confidentiality.choices, default=Confidentiality.NORMAL)
    page_amount = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=32767, default=None)
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    description = _text("description")
    register = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, default=None,
        help_text="A register (series) of your agency; leave out for the agency's main series of this year.",
    )
    confirm_duplicate = serializers.BooleanField(
        default=False, help_text="Register even though a document with the same number is already registered.",
    )
    files = serializers.ListField(
        child=serializers.FileField(), required=False, default=list,
        help_text="Multipart only: the files, the first being the main one. PDF, DOCX, XLSX, ODT, PNG, JPEG, TIFF.",
    )


class OutgoingSerializer(_RegistrationSerializer):
    authority_prefix = serializers.ChoiceField(choices=AuthorityPrefix.choices, required=False, default="")
    drafting_unit = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)
    recipients = RecipientListField(required=False, default=list)
    issued_amount = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=32767, default=None)
    internal = serializers.BooleanField(default=False, help_text="An internal document (numbered, not sent out).")


class IncomingSerializer(_RegistrationSerializer):
    organ_name = serializers.CharField(max_length=_max_length("organ_name"))
    code_number = serializers.CharField(max_length=_max_length("code_number"))
    code_notation = _text("code_notation")
    issued_date = serializers.DateField(required=False, allow_null=True, default=None)
    organ_id = _text("organ_id")
    identifier = _text("identifier")
    arrival_date = serializers.DateField(required=False, allow_null=True, default=None)
    to_places = _text("to_places")


class GrantSerializer(serializers.Serializer):
    user = serializers.IntegerField(required=False, allow_null=True, min_value=1, help_text="A person's id.")
    group = serializers.CharField(required=False, allow_blank=True, max_length=150, help_text="A group (role) name.")
    confirm = serializers.BooleanField(
        required=False, default=False,
        help_text="Required (true) to share a secret or top-secret document: without it the answer is 400 and "
        "its message says who would see the document. Secret documents go to people only, never to a group.",
    )

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("user")) == bool(attrs.get("group")):
            raise serializers.ValidationError(_("Choose exactly one person or group."))
        return attrs


class FileOpeningSerializer(serializers.Serializer):
    """One audited opening or download of a file of a confidential document."""

    at = serializers.DateTimeField(help_text="When.")
    name = serializers.CharField(help_text="Who (full name).")
    position = serializers.CharField(help_text="Their position.")
    file = serializers.CharField(help_text="The file's name.")
    via = serializers.ChoiceField(choices=["preview", "download", "api"], help_text="How it was opened.")


class DuplicateSerializer(serializers.ModelSerializer):
    number_notation = serializers.CharField(read_only=True)

    class Meta:
        model = Document
        fields = ["id", "number_notation", "organ_name", "issued_date"]
        read_only_fields = fields


class DuplicateResponseSerializer(serializers.Serializer):
    message = serializers.CharField()
    duplicates = DuplicateSerializer(many=True)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()
    errors = serializers.DictField(required=False)
