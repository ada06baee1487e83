"""Read queries of the signatures app."""

from __future__ import annotations

from django.db.models import QuerySet

from workflows.drafting_selectors import drafts_for

from .models import SigningRequest

# The verification page and endpoint check an upload in the request; bigger files are refused.
MAX_VERIFY_BYTES = 50 * 1024 * 1024


def visible_signing_requests(user) -> QuerySet[SigningRequest]:
    """Requests of the drafts this person may see (the drafts' single visibility rule)."""
    return SigningRequest.objects.filter(draft__in=drafts_for(user).values("pk")).select_related("draft")
