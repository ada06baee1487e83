"""The handling section of the administrator's settings page (accounts/settings_sections.py): whether unit
heads accept their handlers' results before the work counts as completed, per agency. Registered from
WorkflowsConfig.ready()."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Agency
from accounts.selectors import administered_agencies
from accounts.settings_sections import SettingsSection, register_section

from . import services
from .models import HandlingSettings

KEY = "handling"


class HandlingSettingsForm(forms.Form):
    agency = forms.ModelChoiceField(label=gettext_lazy("Agency"), queryset=Agency.objects.none())
    unit_head_accepts_results = forms.BooleanField(
        label=gettext_lazy("Unit heads accept results before the work is completed"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = administered_agencies(user).filter(is_active=True)


def handling_context(request) -> dict:
    agencies = list(administered_agencies(request.user).filter(is_active=True).order_by("name"))
    accepting = set(HandlingSettings.objects.filter(agency__in=agencies, unit_head_accepts_results=True)
                    .values_list("agency_id", flat=True))
    initial = {"agency": agencies[0].pk} if len(agencies) == 1 else {}
    if len(agencies) == 1:
        initial["unit_head_accepts_results"] = agencies[0].pk in accepting
    return {
        "rows": [(agency, agency.pk in accepting) for agency in agencies],
        "form": HandlingSettingsForm(initial=initial, user=request.user),
    }


def save_handling_settings(request):
    form = HandlingSettingsForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.set_handling_settings(request.user, form.cleaned_data["agency"],
                                           unit_head_accepts_results=form.cleaned_data["unit_head_accepts_results"])
        except PermissionDenied as exc:
            form.add_error("agency", str(exc))
        else:
            messages.success(request, _("The handling settings of %(agency)s were saved.")
                             % {"agency": form.cleaned_data["agency"].name})
            return redirect("accounts:settings")
    return {"form": form}


def register_handling_section() -> None:
    register_section(SettingsSection(
        key=KEY, title=gettext_lazy("Handling of incoming documents"), template="workflows/settings_handling.html",
        context=handling_context, post=save_handling_settings, order=35,
    ))
