"""The dashboard's period and scope form, and the report request form (dates as dd/mm/yyyy or ISO)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.forms import PeriodForm

from .models import ReportFormat, ReportKind


def default_period() -> tuple[date, date]:
    """This year so far: 1 January to today."""
    today = timezone.localdate()
    return date(today.year, 1, 1), today


class DashboardForm(PeriodForm):
    """Period (default: this year) and, for the provincial scope, one agency or all."""

    agency = forms.TypedChoiceField(label=_("Agency"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", _("All agencies"))] + [(a.pk, a.name) for a in agencies]

    def period(self) -> tuple[date, date]:
        start, end = default_period()
        cleaned = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return cleaned.get("date_from") or start, cleaned.get("date_to") or end


class ReportRequestForm(DashboardForm):
    kind = forms.ChoiceField(label=_("Report"), choices=ReportKind.choices)
    format = forms.ChoiceField(label=_("Format"), choices=ReportFormat.choices, initial=ReportFormat.XLSX)

    def __init__(self, *args, province: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not province:
            self.fields["kind"].choices = [c for c in ReportKind.choices if c[0] != ReportKind.AGENCIES]
