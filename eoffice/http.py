"""Small helpers every app's web views share for reading posted form values safely."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.shortcuts import get_object_or_404


def posted_int(request: HttpRequest, name: str) -> int | None:
    """A posted id or version, or None: a non-number must give a clear refusal, not a 500."""
    value = request.POST.get(name, "").strip()
    # At most 18 digits: any such number fits a bigint column, so a huge one finds nothing instead of a 500.
    return int(value) if value.isdigit() and len(value) <= 18 else None


def posted_person_or_404(request: HttpRequest, name: str, **filters):
    """The person whose id was posted under `name` (404 when missing, unknown or not a number)."""
    return get_object_or_404(get_user_model(), pk=posted_int(request, name) or 0, **filters)
