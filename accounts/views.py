"""The administrator's settings page: the organisation tree, delegations and what other apps contribute
(documents: the registers), with links into the admin for editing.

The page is composed of sections (accounts/settings_sections.py); accounts contributes its own here,
registered from AccountsConfig.ready(), and knows nothing of the apps that add theirs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Agency, Delegation, Unit, User
from .selectors import in_administered_agencies
from .settings_sections import (
    SettingsLink,
    SettingsSection,
    get_links,
    get_sections,
    register_section,
    section_for_post,
)


def _is_settings_admin(user) -> bool:
    return user.is_superuser or user.has_perm("accounts.change_agency")


@login_required
def settings_overview(request):
    if not _is_settings_admin(request.user):
        raise PermissionDenied(_("Only administrators can open the settings."))
    posted: dict[str, dict] = {}
    if request.method == "POST":
        section = section_for_post(request.POST.get("section"))
        if section is None:
            return HttpResponseBadRequest(_("The request was refused."))
        answer = section.post(request)
        if isinstance(answer, HttpResponseBase):
            return answer
        posted[section.key] = dict(answer or {})
    links = [{"label": link.label, "url": reverse(link.url_name)} for link in get_links()]
    sections = []
    for section in get_sections():
        context = {"links": links, **(section.context(request) if section.context else {}), **posted.get(section.key, {})}
        sections.append({"key": section.key, "title": section.title,
                         "html": render_to_string(section.template, context, request)})
    return render(request, "accounts/settings.html", {"sections": sections})


# --- the sections of accounts -------------------------------------------------------------------------


def _overview_context(request) -> dict:
    # The agencies the person administers (accounts.selectors); the tree below is everyone's to read.
    return {
        "unit_count": in_administered_agencies(Unit.objects.all(), request.user).count(),
        "user_count": in_administered_agencies(User.objects.filter(is_active=True), request.user).count(),
    }


def _tree_context(request) -> dict:
    agencies = list(Agency.objects.select_related("parent").order_by("name"))
    children: dict[int | None, list[Agency]] = {}
    for agency in agencies:
        children.setdefault(agency.parent_id, []).append(agency)

    def walk(parent_id, depth):
        for agency in children.get(parent_id, []):
            yield agency, depth
            yield from walk(agency.pk, depth + 1)

    return {"tree": [{"agency": a, "depth": min(depth, 8)} for a, depth in walk(None, 0)]}


def _delegations_context(request) -> dict:
    today = timezone.localdate()
    delegations = in_administered_agencies(Delegation.objects.active_on(today), request.user)
    return {"delegations": delegations.select_related("delegator", "delegate", "agency")}


def register_settings_sections() -> None:
    """accounts' part of the settings page (called from AccountsConfig.ready())."""
    register_section(SettingsSection(
        key="overview", title="", template="accounts/settings_overview.html", context=_overview_context, order=10,
        links=[
            SettingsLink(gettext_lazy("Agencies"), "admin:accounts_agency_changelist", order=10),
            SettingsLink(gettext_lazy("Units"), "admin:accounts_unit_changelist", order=20),
            SettingsLink(gettext_lazy("People and roles"), "admin:accounts_user_changelist", order=30),
            SettingsLink(gettext_lazy("Delegations"), "admin:accounts_delegation_changelist", order=50),
            SettingsLink(gettext_lazy("Audit trail"), "admin:audit_auditevent_changelist", order=70),
        ],
    ))
    register_section(SettingsSection(
        key="organisation", title=gettext_lazy("Organisation tree"), template="accounts/settings_organisation.html",
        context=_tree_context, order=20,
    ))
    register_section(SettingsSection(
        key="delegations", title=gettext_lazy("Delegations in force today"),
        template="accounts/settings_delegations.html", context=_delegations_context, order=40,
    ))
