"""The search index: one row per document or draft, beside the registry (never instead of it).

The row holds what the result list shows and filters on (the facets), the comparable forms of the number and
notation and of the names (trigram-indexed on PostgreSQL), and a `stale` flag written in the same transaction as
the change it follows, so that a change is never lost from the index even if the process stops before indexing it
(search.indexing). The word index itself is outside the ORM: `tsvector` columns with a GIN index on PostgreSQL,
an FTS5 table on SQLite (search/backends.py, created by migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Agency, Unit
from documents.lookups import AnyOf
from documents.models import Direction, Document, DocumentType, Register
from workflows.drafting import Draft


class EntryKind(models.TextChoices):
    DOCUMENT = "document", _("Document")
    DRAFT = "draft", _("Draft")


DIRECTIONS = [*Direction.choices, ("draft", _("Draft"))]


class TextState(models.TextChoices):
    NO_FILES = "none", _("No files")
    PENDING = "pending", _("Text not read yet")
    TEXT = "text", _("Text searchable")
    NO_TEXT = "no_text", _("No text layer (scanned)")


class SignatureState(models.TextChoices):
    VALID = "valid", pgettext_lazy("signature", "Valid signature")
    NOT_VALID = "not_valid", _("Signature not valid")
    UNSIGNED = "unsigned", _("Not signed")


class SearchEntry(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    document = models.OneToOneField(Document, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="search_entry")
    draft = models.OneToOneField(Draft, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # Facets: copied from the document (or draft) when indexed.
    agency = models.ForeignKey(Agency, null=True, on_delete=models.SET_NULL, related_name="+")
    direction = models.CharField(_("direction"), max_length=10, choices=DIRECTIONS, blank=True)
    document_type = models.ForeignKey(DocumentType, null=True, on_delete=models.SET_NULL, related_name="+")
    register = models.ForeignKey(Register, null=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, on_delete=models.SET_NULL, related_name="+")
    issued_date = models.DateField(null=True)
    year = models.PositiveSmallIntegerField(null=True)
    urgency = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=16, blank=True)
    signature = models.CharField(max_length=10, choices=SignatureState.choices, default=SignatureState.UNSIGNED)
    text_state = models.CharField(max_length=8, choices=TextState.choices, default=TextState.NO_FILES)
    # What the list shows, and the keys of the look-ups that are not word searches.
    title = models.CharField(max_length=600, blank=True)
    notation_key = models.CharField(max_length=60, blank=True, db_index=True)
    names_key = models.CharField(max_length=600, blank=True)
    stale = models.BooleanField(default=True)
    indexed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("search index entry")
        verbose_name_plural = _("search index entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(document__isnull=False, draft__isnull=True) | Q(document__isnull=True, draft__isnull=False),
                name="search_entry_one_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["stale"], condition=Q(stale=True), name="search_entry_stale_idx"),
            models.Index(fields=["-issued_date", "-id"], name="search_entry_date_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class PendingChange(models.Model):
    """A change the index has not taken yet: written in the transaction of the change (an INSERT, which waits
    for no other transaction's lock, where marking the entry itself made concurrent writers deadlock), deleted
    once the document or draft is indexed (right after the commit, or by the maintenance sweep). Plain ids, no
    foreign keys: a row must never hold up the registry."""

    document_id = models.BigIntegerField(null=True)
    draft_id = models.BigIntegerField(null=True)
    files = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("change waiting for the search index")
        verbose_name_plural = _("changes waiting for the search index")

    def __str__(self) -> str:
        return f"document {self.document_id}" if self.document_id else f"draft {self.draft_id}"


# `document_id__any_of` / `draft_id__any_of`: the permission filter's `= ANY(ARRAY(subquery))` (search.selectors).
for _field in ("document", "draft"):
    SearchEntry._meta.get_field(_field).register_lookup(AnyOf)


class WorkFileEntry(models.Model):
    """A work file's folded words (number, title, description, year, unit): the search page lists the work
    files a person may see whose words contain every folded term of the query. Kept by a signal of records'
    WorkFile (records does not import search); work files are few (hundreds per agency and year), so a
    contains-match over the person's own files is enough."""

    work_file = models.OneToOneField("records.WorkFile", on_delete=models.CASCADE, related_name="search_entry",
                                     primary_key=True)
    words = models.TextField(blank=True)

    class Meta:
        verbose_name = _("work file search entry")
        verbose_name_plural = _("work file search entries")

    def __str__(self) -> str:
        return self.words[:80]


class SavedSearch(models.Model):
    """A search a person keeps under a name: its query string, run again each time it is opened."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("search"), max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="search_saved_unique_name")]

    def __str__(self) -> str:
        return self.name
