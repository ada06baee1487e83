"""The registry's section of the administrator's settings page (accounts/settings_sections.py): the
registers of this year and the last, and a form to open a register (e.g. next year's). Registered from
DocumentsConfig.ready()."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Agency
from accounts.selectors import administered_agencies, in_administered_agencies
from accounts.settings_sections import SettingsLink, SettingsSection, register_section

from . import services
from .models import Register, RegisterKind

KEY = "registers"


class OpenRegisterForm(forms.Form):
    agency = forms.ModelChoiceField(label=gettext_lazy("Agency"), queryset=Agency.objects.none())
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=RegisterKind.choices)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    code = forms.CharField(label=gettext_lazy("Series code (optional)"), max_length=20, required=False)
    name = forms.CharField(label=gettext_lazy("Name (optional)"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The active agencies the person administers (accounts.selectors), not every agency.
        self.fields["agency"].queryset = administered_agencies(user).filter(is_active=True)


def registers_context(request) -> dict:
    year = timezone.localdate().year
    return {
        "registers": in_administered_agencies(Register.objects.filter(year__gte=year - 1), request.user)
        .select_related("agency").order_by("agency__name", "-year", "kind"),
        "form": OpenRegisterForm(initial={"year": year + 1, "kind": RegisterKind.OUTGOING}, user=request.user),
    }


def open_register(request):
    """Open a register (services.create_register checks the permission, the year and duplicates). On
    success back to the page with a message; otherwise the bound form with its errors."""
    form = OpenRegisterForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            register = services.create_register(
                request.user, agency=data["agency"], kind=data["kind"], year=data["year"],
                code=data["code"], name=data["name"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Register \"%(name)s\" opened.") % {"name": register})
            return redirect("accounts:settings")
    return {"form": form}


def register_settings_section() -> None:
    register_section(SettingsSection(
        key=KEY, title=gettext_lazy("Registers"), template="documents/settings_registers.html",
        context=registers_context, post=open_register, order=30,
        links=[
            SettingsLink(gettext_lazy("Registers"), "admin:documents_register_changelist", order=40),
            SettingsLink(gettext_lazy("Document types"), "admin:documents_documenttype_changelist", order=60),
        ],
    ))
