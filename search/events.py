"""Audit verbs of the search app, with their labels (audit's verb_label reads LABELS)."""

from django.utils.translation import gettext_lazy as _

SEARCH_SAVED = "search.saved"
SEARCH_SAVED_DELETED = "search.saved_deleted"

LABELS = {
    SEARCH_SAVED: _("Search saved"),
    SEARCH_SAVED_DELETED: _("Saved search removed"),
}
