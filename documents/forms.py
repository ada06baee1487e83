"""Web forms of the registry. They only collect and validate input; services do the work."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Agency, AuthorityPrefix, Unit
from eoffice.widgets import DATE_INPUT_FORMATS, DateField  # noqa: F401  (DATE_INPUT_FORMATS: register_views)

from .models import Confidentiality, Direction, DocumentType, Register, RegisterKind, Urgency


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; content checks happen in documents.uploads, not here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.odt,.png,.jpg,.jpeg,.tif,.tiff"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class _RegistrationForm(forms.Form):
    document_type = forms.ModelChoiceField(
        label=_("Document type"), queryset=DocumentType.objects.filter(is_active=True)
    )
    subject = forms.CharField(label=_("Subject"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.NORMAL)
    confidentiality = forms.TypedChoiceField(
        label=_("Confidentiality"), choices=Confidentiality.choices, coerce=int, initial=Confidentiality.NORMAL
    )
    page_amount = forms.IntegerField(label=_("Page count"), min_value=1, max_value=9999, required=False,
                                     help_text=_("Leave empty to count the pages of the main PDF automatically."))
    due_date = DateField(label=_("Due date"), required=False)
    description = forms.CharField(label=_("Notes"), max_length=500, required=False)
    files = MultipleFileField(
        label=_("Files"), required=False,
        help_text=_("PDF, DOCX, XLSX, ODT, PNG, JPEG or TIFF. The first file is the main file."),
    )
    confirm_duplicate = forms.BooleanField(label=_("Register anyway (I checked the possible duplicate)"), required=False)

    register_kinds: tuple[str, ...] = ()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["register"] = forms.ModelChoiceField(
            label=_("Register"), required=False, empty_label=_("Main register of the year"),
            queryset=Register.objects.filter(
                agency_id=user.agency_id, kind__in=self.register_kinds, year=timezone.localdate().year, is_active=True
            ),
        )


class OutgoingForm(_RegistrationForm):
    register_kinds = (RegisterKind.OUTGOING, RegisterKind.SECRET_OUTGOING)

    internal = forms.BooleanField(label=_("Internal document (to units of this agency)"), required=False)
    signer_position = forms.CharField(label=_("Signer position"), max_length=100, required=False)
    signer_name = forms.CharField(label=_("Signer name"), max_length=50, required=False)
    authority_prefix = forms.ChoiceField(label=_("Authority prefix"), choices=AuthorityPrefix.choices, required=False)
    recipient_agencies = forms.ModelMultipleChoiceField(
        label=_("Recipient agencies"), queryset=Agency.objects.filter(is_active=True), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    recipient_units = forms.ModelMultipleChoiceField(
        label=_("Recipient units (internal documents)"), queryset=Unit.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Internal documents are delivered to the leaders of the units ticked here."),
    )
    recipient_places = forms.CharField(
        label=_("Other recipients"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. the copy kept by the clerk's office."),
    )
    issued_amount = forms.IntegerField(label=_("Copies issued"), min_value=1, max_value=999, required=False)

    field_order = [
        "document_type", "internal", "subject", "drafting_unit", "signer_position", "signer_name", "authority_prefix",
        "urgency", "confidentiality", "recipient_agencies", "recipient_units", "recipient_places", "page_amount",
        "issued_amount",
        "due_date", "register", "description", "files", "confirm_duplicate",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["drafting_unit"] = forms.ModelChoiceField(
            label=_("Drafting unit"), required=False,
            queryset=Unit.objects.filter(agency_id=user.agency_id, is_active=True),
            help_text=_("Needed for official letters: their notation is the agency's and the unit's abbreviations."),
        )
        self.fields["recipient_units"].queryset = Unit.objects.filter(agency_id=user.agency_id, is_active=True)
        self.order_fields(self.field_order)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("recipient_units") and not cleaned.get("internal"):
            self.add_error("recipient_units", _("Units of the agency receive internal documents only."))
        return cleaned

    def recipient_names(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("recipient_places", "").splitlines() if line.strip()]


class IncomingForm(_RegistrationForm):
    register_kinds = (RegisterKind.INCOMING, RegisterKind.SECRET_INCOMING)

    organ_name = forms.CharField(label=_("Issuing body"), max_length=200)
    organ_id = forms.CharField(label=_("Issuing body identifier"), max_length=35, required=False)
    code_number = forms.CharField(label=_("Number"), max_length=11)
    code_notation = forms.CharField(label=_("Notation"), max_length=30, required=False)
    issued_date = DateField(label=_("Document date"))
    identifier = forms.CharField(label=_("Document identifier"), max_length=120, required=False,
                                 help_text=_("If the document carries one (OrganId,yyyy/MM/dd,number/notation)."))
    arrival_date = DateField(label=_("Arrival date"), required=False,
                             help_text=_("Today if left empty."))
    signer_position = forms.CharField(label=_("Signer position"), max_length=100, required=False)
    signer_name = forms.CharField(label=_("Signer name"), max_length=50, required=False)
    to_places = forms.CharField(label=_("Receiving units or people"), max_length=1000, required=False)

    field_order = [
        "organ_name", "organ_id", "document_type", "code_number", "code_notation", "issued_date", "identifier",
        "subject", "signer_position", "signer_name", "arrival_date", "urgency", "confidentiality", "to_places",
        "page_amount", "due_date", "register", "description", "files", "confirm_duplicate",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.order_fields(self.field_order)


class DocumentFilterForm(forms.Form):
    """Filters of the document list (GET parameters shared with the API: same names)."""

    q = forms.CharField(label=_("Text"), required=False)
    direction = forms.ChoiceField(
        label=pgettext_lazy("incoming or outgoing", "Direction"), choices=[("", _("All"))] + Direction.choices,
        required=False,
    )
    document_type = forms.ModelChoiceField(
        label=_("Document type"), queryset=DocumentType.objects.all(), required=False, empty_label=_("All")
    )
    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=[("", _("All"))] + Urgency.choices, coerce=int,
                                     required=False, empty_value=None)
    confidentiality = forms.TypedChoiceField(
        label=_("Confidentiality"), choices=[("", _("All"))] + Confidentiality.choices, coerce=int, required=False,
        empty_value=None,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import registers_for

        if user.has_perm("documents.view_register"):  # people without register access get no empty filter
            self.fields["register"] = forms.ModelChoiceField(
                label=_("Register"), queryset=registers_for(user), required=False, empty_label=_("All")
            )


class GrantForm(forms.Form):
    username = forms.CharField(label=_("Username of the person to share with"), max_length=150)
    # Set by the confirmation step of a secret document (the page shows who will see it first).
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class PeriodForm(forms.Form):
    """A period (from / to, both optional) for registers and reports; ISO or Vietnamese dd/mm/yyyy."""

    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return cleaned
