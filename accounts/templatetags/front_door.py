"""The log-in page's heading: whose system this is."""

from __future__ import annotations

from django import template
from django.db.models import Q
from django.http import HttpRequest

from accounts.models import Agency

register = template.Library()


@register.simple_tag
def login_agency_name(request: HttpRequest | None) -> str:
    """The agency named on the log-in page: `?agency=<abbreviation or identifier>` (a link on the agency's own
    site), else the only agency of the installation, else the only top agency (the province); empty when none
    fits (the installation's name alone then)."""
    active = Agency.objects.filter(is_active=True)
    wanted = (request.GET.get("agency", "") if request is not None else "").strip()
    if wanted:
        # An abbreviation may be shared (every district's UBND): then the unique identifier names it.
        matches = active.filter(Q(abbreviation__iexact=wanted[:20]) | Q(identifier__iexact=wanted[:35]))
        names = list(matches.values_list("name", flat=True)[:2])
        if len(names) == 1:
            return names[0]
    for candidates in (active, active.filter(parent__isnull=True)):
        names = list(candidates.values_list("name", flat=True)[:2])
        if len(names) == 1:
            return names[0]
    return ""
