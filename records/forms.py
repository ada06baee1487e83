"""Forms of the records pages: they only shape input for records.services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit
from eoffice.widgets import DateField

from .models import CatalogueHeading, RetentionPeriod, WorkFileState
from .selectors import narrow_files


class RetentionChoiceMixin:
    """A retention group from the table, or permanent / N years typed in."""

    def _add_retention_fields(self) -> None:
        self.fields["retention"] = forms.ModelChoiceField(
            RetentionPeriod.objects.filter(is_active=True), required=False, label=_("Retention group"),
            empty_label=_("(set the retention below)"),
        )
        self.fields["retention_years"] = forms.IntegerField(
            label=_("Retention (years)"), required=False, min_value=1, max_value=100,
        )
        self.fields["permanent"] = forms.BooleanField(label=_("Permanent"), required=False)


class CatalogueForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    copy_previous = forms.BooleanField(label=_("Copy the headings and files of the previous year's catalogue"),
                                       required=False, initial=True)


class HeadingForm(forms.Form):
    title = forms.CharField(label=_("Heading"), max_length=300)
    abbreviation = forms.CharField(label=_("Abbreviation"), max_length=20, required=False,
                                   help_text=_("For a major heading, e.g. TCCB: it ends the file numbers."))
    parent = forms.ModelChoiceField(CatalogueHeading.objects.none(), required=False, label=_("Under the heading"),
                                    empty_label=_("(a major heading)"))

    def __init__(self, *args, catalogue=None, **kwargs):
        super().__init__(*args, **kwargs)
        if catalogue is not None:
            self.fields["parent"].queryset = catalogue.headings.filter(parent__isnull=True)


class EntryForm(RetentionChoiceMixin, forms.Form):
    heading = forms.ModelChoiceField(CatalogueHeading.objects.none(), label=_("Heading"))
    title = forms.CharField(label=_("File title"), max_length=500)
    file_notation = forms.CharField(label=_("File number"), max_length=20, required=False,
                                    help_text=_("Leave empty to number it automatically (01.TCCB, 02.TCCB...)."))
    unit = forms.ModelChoiceField(Unit.objects.none(), label=_("Unit responsible"), required=False)
    responsible = forms.ModelChoiceField(get_user_model().objects.none(), label=_("Person responsible"),
                                         required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, catalogue=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_retention_fields()
        if catalogue is not None:
            self.fields["heading"].queryset = catalogue.headings.all()
            self.fields["unit"].queryset = Unit.objects.filter(agency_id=catalogue.agency_id)
            self.fields["responsible"].queryset = get_user_model().objects.filter(
                agency_id=catalogue.agency_id, is_active=True).order_by("full_name")
            self.fields["responsible"].label_from_instance = lambda user: user.name_and_position


class PublishForm(forms.Form):
    approved_by_name = forms.CharField(label=_("Approved by (head of the agency)"), max_length=150)


class AdHocFileForm(RetentionChoiceMixin, forms.Form):
    title = forms.CharField(label=_("File title"), max_length=500)
    file_notation = forms.CharField(label=_("File number"), max_length=20, help_text=_("e.g. 15.VP"))
    start_date = DateField(label=_("Start date"))
    rights = forms.CharField(label=_("Access regime"), max_length=30, required=False)
    description = forms.CharField(label=_("Description"), max_length=500, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    capital_construction = forms.BooleanField(label=_("Capital construction file"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_retention_fields()
        self.fields["start_date"].initial = timezone.localdate()


class FileChangeForm(forms.Form):
    title = forms.CharField(label=_("File title"), max_length=500)
    retention_years = forms.IntegerField(label=_("Retention (years)"), min_value=1, max_value=100, required=False,
                                         help_text=_("Empty for permanent retention."))
    rights = forms.CharField(label=_("Access regime"), max_length=30, required=False)
    description = forms.CharField(label=_("Description"), max_length=500, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    capital_construction = forms.BooleanField(label=_("Capital construction file"), required=False)
    settlement_date = DateField(label=_("Final settlement date"), required=False)


class HoldBackForm(forms.Form):
    until = DateField(label=_("Keep in the unit until"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(label=_("Decision"), coerce=lambda value: value == "yes",
                                     choices=[("yes", _("Approve")), ("no", _("Refuse"))], widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReceiveForm(forms.Form):
    paper_boxes = forms.IntegerField(label=_("Boxes of paper originals"), required=False, min_value=0,
                                     max_value=100000)
    shelf_metres = forms.DecimalField(label=_("Metres of shelf (paper)"), required=False, min_value=0,
                                      max_value=99999, decimal_places=2,
                                      help_text=_("Leave both empty for a purely electronic transfer."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ArchiveFilterForm(forms.Form):
    q = forms.CharField(label=_("Number or title contains"), required=False, max_length=200)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1900, max_value=2100)
    retention = forms.ChoiceField(label=_("Retention"), required=False, choices=[
        ("", _("Any")), ("permanent", _("Permanent")), ("limited", _("Limited period")),
    ])
    unit = forms.ModelChoiceField(Unit.objects.none(), label=_("Unit"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("Any"))] + list(WorkFileState.choices))

    def __init__(self, *args, agency_id=None, with_state: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(agency_id=agency_id)
        if not with_state:
            del self.fields["state"]

    def apply(self, files):
        if not self.is_valid():
            return files
        data = self.cleaned_data
        return narrow_files(files, q=data.get("q") or "", year=data.get("year"),
                            unit_id=data["unit"].pk if data.get("unit") else None,
                            retention=data.get("retention") or None, state=data.get("state") or "")


class ImportForm(forms.Form):
    package = forms.FileField(label=_("BagIt package (.zip)"))


class RetentionForm(forms.ModelForm):
    class Meta:
        model = RetentionPeriod
        fields = ["code", "title", "years", "source", "is_active", "sort_order"]
