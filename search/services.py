"""Saved searches: a person keeps a search under a name, and removes it. Audited like every change."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import record_event

from .events import SEARCH_SAVED, SEARCH_SAVED_DELETED
from .models import SavedSearch

MAX_SAVED = 50
# Only the search's own parameters are kept (never the page).
KEPT_PARAMETERS = {"q", "notation", "names", "direction", "date_from", "date_to", "urgency", "signature", "sort",
                   "document_type", "agency", "unit", "register", "year", "state"}


def clean_query_string(query: str) -> str:
    """The query string of a search, with only its own parameters, in a stable order."""
    pairs = [(key, value) for key, value in parse_qsl(query or "", keep_blank_values=False) if key in KEPT_PARAMETERS]
    return urlencode(sorted(pairs))


def save_search(actor, *, name: str, query: str) -> SavedSearch:
    """Keep `query` (a search page's query string) under `name` for `actor`."""
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied
    name = (name or "").strip()
    query = clean_query_string(query)
    if not name:
        raise ValidationError(_("Give the search a name."))
    if not query:
        raise ValidationError(_("There is nothing to save: search for something first."))
    with transaction.atomic():
        if SavedSearch.objects.filter(owner=actor).count() >= MAX_SAVED:
            raise ValidationError(_("You can keep at most %(count)d searches; remove one first.") % {"count": MAX_SAVED})
        try:
            with transaction.atomic():
                saved = SavedSearch.objects.create(owner=actor, name=name[:100], query=query)
        except IntegrityError:
            raise ValidationError(_("You already have a search with this name.")) from None
        record_event(actor=actor, verb=SEARCH_SAVED, target=saved, agency_id=actor.agency_id,
                     data={"name": saved.name, "query": query})
    return saved


def delete_saved_search(actor, saved: SavedSearch) -> None:
    if saved.owner_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        record_event(actor=actor, verb=SEARCH_SAVED_DELETED, target=saved, agency_id=actor.agency_id,
                     data={"name": saved.name})
        saved.delete()
