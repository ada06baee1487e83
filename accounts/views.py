"""The administrator's settings page: the organisation tree, registers and delegations at a glance,
with links into the admin for editing and a form to open next year's registers."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from documents import services as document_services
from documents.models import Register, RegisterKind

from .models import Agency, Delegation, Unit, User


class OpenRegisterForm(forms.Form):
    agency = forms.ModelChoiceField(label=gettext_lazy("Agency"), queryset=Agency.objects.filter(is_active=True))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=RegisterKind.choices)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    code = forms.CharField(label=gettext_lazy("Series code (optional)"), max_length=20, required=False)
    name = forms.CharField(label=gettext_lazy("Name (optional)"), max_length=200, required=False)


def _is_settings_admin(user) -> bool:
    return user.is_superuser or user.has_perm("accounts.change_agency")


@login_required
def settings_overview(request):
    if not _is_settings_admin(request.user):
        raise PermissionDenied(_("Only administrators can open the settings."))
    year = timezone.localdate().year
    form = OpenRegisterForm(initial={"year": year + 1, "kind": RegisterKind.OUTGOING})
    if request.method == "POST":
        form = OpenRegisterForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                register = document_services.create_register(
                    request.user, agency=data["agency"], kind=data["kind"], year=data["year"],
                    code=data["code"], name=data["name"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Register \"%(name)s\" opened.") % {"name": register})
                return redirect("accounts:settings")
    agencies = list(Agency.objects.select_related("parent").order_by("name"))
    children: dict[int | None, list[Agency]] = {}
    for agency in agencies:
        children.setdefault(agency.parent_id, []).append(agency)

    def walk(parent_id, depth):
        for agency in children.get(parent_id, []):
            yield agency, depth
            yield from walk(agency.pk, depth + 1)

    tree = [{"agency": a, "indent": depth * 1.5} for a, depth in walk(None, 0)]
    context = {
        "tree": tree,
        "unit_count": Unit.objects.count(),
        "user_count": User.objects.filter(is_active=True).count(),
        "registers": Register.objects.filter(year__gte=year - 1).select_related("agency").order_by("agency__name", "-year", "kind"),
        "delegations": Delegation.objects.active_on(timezone.localdate()).select_related("delegator", "delegate", "agency"),
        "form": form,
    }
    return render(request, "accounts/settings.html", context)
