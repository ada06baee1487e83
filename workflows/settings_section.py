"""The workflow's section of the administrator's settings page (accounts/settings_sections.py): the usual
instruction phrases each agency's leaders are offered on the direction form. Registered from
WorkflowsConfig.ready()."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.selectors import administered_agencies
from accounts.settings_sections import SettingsSection, register_section

from . import selectors, services

KEY = "instruction_phrases"


class PhrasesForm(forms.Form):
    agency = forms.ModelChoiceField(label=gettext_lazy("Agency"), queryset=None)
    phrases = forms.CharField(
        label=gettext_lazy("Usual instruction phrases, one per line"), required=False,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=gettext_lazy('Write "..." where the leader completes the phrase, e.g. the unit\'s name.'),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = administered_agencies(user).filter(is_active=True).order_by("name")

    def lines(self) -> list[str]:
        return [line for line in self.cleaned_data["phrases"].splitlines() if line.strip()]


def _agency_for(request, form: PhrasesForm):
    """The agency shown: the one asked for (?phrases_agency=), else the person's own, else the first."""
    agencies = form.fields["agency"].queryset
    asked = request.GET.get("phrases_agency", "")
    chosen = agencies.filter(pk=int(asked)).first() if asked.isdigit() else None
    return chosen or agencies.filter(pk=request.user.agency_id).first() or agencies.first()


def phrases_context(request) -> dict:
    form = PhrasesForm(user=request.user)
    agency = _agency_for(request, form)
    if agency is not None:
        form.initial = {"agency": agency.pk, "phrases": "\n".join(selectors.instruction_phrases(agency.pk))}
    return {"form": form, "agency": agency}


def save_phrases(request):
    form = PhrasesForm(request.POST, user=request.user)
    if form.is_valid():
        agency = form.cleaned_data["agency"]
        try:
            saved = services.set_instruction_phrases(request.user, agency, form.lines())
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error("phrases" if hasattr(exc, "error_dict") else None, exc.messages)
        else:
            messages.success(request, _("%(agency)s: %(count)d usual instruction phrases saved; its leaders see "
                                        "them on the direction form.") % {"agency": agency.name, "count": len(saved)})
            return redirect(f"{request.path}?phrases_agency={agency.pk}#section-{KEY}")
    return {"form": form, "agency": form.cleaned_data.get("agency")}


def register_settings_section() -> None:
    register_section(SettingsSection(
        key=KEY, title=gettext_lazy("Usual instruction phrases"), template="workflows/settings_phrases.html",
        context=phrases_context, post=save_phrases, order=37,
    ))
