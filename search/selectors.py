"""Searching what a person may see.

`visible_entries(user)` is the index restricted by the registry's own rules: documents through
`documents.selectors.visible_documents`, drafts through `workflows.drafting_selectors.drafts_for`, as
subqueries of one SQL statement. The match, the filters, the count, the facets and the page are all taken from
that one restricted queryset, so a document the person may not see is never counted, faceted or quoted.

Per search: the page (one query), the facets (one grouped query for the small dimensions, one for agency, unit
and register), the snippets of the page (one query for the files' text of at most `per_page` documents).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from accounts.models import Agency, Unit
from documents.models import Document, DocumentFile, DocumentType, Register
from documents.selectors import visible_documents
from workflows.drafting_selectors import drafts_for

from .backends import backend
from .models import SearchEntry
from .text import ParsedQuery, Segment, fold, highlight, keywords, parse_query

PER_PAGE = 20
SORTS = ("relevance", "newest", "oldest")
# Facet name -> entry field; the first group is counted in one grouped query.
SMALL_FACETS = ("direction", "document_type", "year", "urgency", "state", "signature")
LARGE_FACETS = ("agency", "unit", "register")


def visible_entries(user) -> QuerySet[SearchEntry]:
    """Index entries of the documents and drafts `user` may see (the registry's permission rules)."""
    if not user.is_authenticated or not user.is_active:
        return SearchEntry.objects.none()
    return SearchEntry.objects.filter(
        Q(document_id__in=visible_documents(user).values("id")) | Q(draft_id__in=drafts_for(user).values("id")),
        indexed_at__isnull=False,
    )


@dataclass
class Filters:
    direction: str = ""
    document_type: int | None = None
    agency: int | None = None
    unit: int | None = None
    register: int | None = None
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    urgency: int | None = None
    state: str = ""
    signature: str = ""
    notation: str = ""  # contains, on the folded number and notation (trigram index)
    names: str = ""  # contains, on the folded issuing body and signer (trigram index)

    def apply(self, entries: QuerySet[SearchEntry]) -> QuerySet[SearchEntry]:
        from .text import index_text, notation_key

        exact = {
            "direction": self.direction, "document_type_id": self.document_type, "agency_id": self.agency,
            "unit_id": self.unit, "register_id": self.register, "year": self.year, "urgency": self.urgency,
            "state": self.state, "signature": self.signature,
        }
        entries = entries.filter(**{key: value for key, value in exact.items() if value not in (None, "")})
        if self.date_from:
            entries = entries.filter(issued_date__gte=self.date_from)
        if self.date_to:
            entries = entries.filter(issued_date__lte=self.date_to)
        if self.notation and (key := notation_key(self.notation)):
            entries = entries.filter(notation_key__contains=key)
        if self.names and (names := index_text(self.names)):
            entries = entries.filter(names_key__contains=names)
        return entries


@dataclass
class FacetValue:
    value: object
    label: str
    count: int


@dataclass
class Hit:
    entry: SearchEntry
    title: list[Segment]
    snippet: list[Segment]
    rank: float

    @property
    def is_document(self) -> bool:
        return self.entry.document_id is not None


@dataclass
class Results:
    query: ParsedQuery
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(user, text: str, filters: Filters | None = None, *, sort: str = "relevance", page: int = 1,
           per_page: int = PER_PAGE, facets: bool = True) -> Results:
    """One page of what `user` may see that matches `text` and `filters`, ranked (the number and subject above
    the metadata, those above the files' text; exact diacritics above folded ones), with the facets of the
    whole match."""
    query = parse_query(text)
    filters = filters or Filters()
    entries = filters.apply(visible_entries(user))
    match = None if query.is_empty else backend().match(query)
    if match is not None:
        entries = entries.filter(match.condition)
    facet_counts = _facets(entries) if facets else {}
    total = (sum(item.count for item in facet_counts["direction"]) if facets
             else entries.count())
    if sort == "newest" or (sort == "relevance" and query.is_empty):
        ordered = entries.order_by("-issued_date", "-id")
    elif sort == "oldest":
        ordered = entries.order_by("issued_date", "id")
    else:
        ordered = entries.annotate(rank=match.rank).order_by("-rank", "-issued_date", "-id")
    page = max(1, page)
    rows = list(ordered.select_related("document_type", "agency")[(page - 1) * per_page: page * per_page])
    return Results(query=query, total=total, hits=_hits(rows, query), facets=facet_counts, page=page,
                   per_page=per_page)


def _facets(entries: QuerySet[SearchEntry]) -> dict[str, list[FacetValue]]:
    """Counts per value of each facet, over the whole (permission-filtered) match: two grouped queries."""
    counts: dict[str, dict] = {name: defaultdict(int) for name in (*SMALL_FACETS, *LARGE_FACETS)}
    fields = {"document_type": "document_type_id"}
    small = [fields.get(name, name) for name in SMALL_FACETS]
    for row in entries.order_by().values(*small).annotate(n=Count("id")):
        for name, column in zip(SMALL_FACETS, small, strict=True):
            counts[name][row[column]] += row["n"]
    large = [f"{name}_id" for name in LARGE_FACETS]
    for row in entries.order_by().values(*large).annotate(n=Count("id")):
        for name, column in zip(LARGE_FACETS, large, strict=True):
            if row[column] is not None:
                counts[name][row[column]] += row["n"]
    return {name: _labelled(name, values) for name, values in counts.items()}


def _labelled(name: str, values: dict) -> list[FacetValue]:
    from documents.models import Confidentiality, Direction, Urgency  # noqa: F401 - labels only
    from workflows.drafting import DraftState
    from workflows.models import CaseState

    from .models import SignatureState

    labels: dict = {}
    ids = [value for value in values if value is not None]
    if name == "direction":
        from django.utils.translation import gettext

        labels = {**dict(Direction.choices), "draft": gettext("Drafts")}
    elif name == "document_type":
        labels = dict(DocumentType.objects.filter(id__in=ids).values_list("id", "name"))
    elif name == "agency":
        labels = dict(Agency.objects.filter(id__in=ids).values_list("id", "name"))
    elif name == "unit":
        labels = dict(Unit.objects.filter(id__in=ids).values_list("id", "name"))
    elif name == "register":
        labels = {pk: f"{name} ({year})" for pk, name, year in
                  Register.objects.filter(id__in=ids).values_list("id", "name", "year")}
    elif name == "urgency":
        labels = dict(Urgency.choices)
    elif name == "state":
        from django.utils.translation import pgettext

        labels = {**dict(CaseState.choices), **dict(DraftState.choices), "issued": pgettext("document", "Issued")}
    elif name == "signature":
        labels = dict(SignatureState.choices)
    items = [FacetValue(value, str(labels.get(value, value)), count) for value, count in values.items()
             if value not in (None, "") and count]
    if name == "year":
        items.sort(key=lambda item: -int(item.value))
    else:
        items.sort(key=lambda item: (-item.count, item.label))
    return items


def _hits(rows: list[SearchEntry], query: ParsedQuery) -> list[Hit]:
    words = query.highlight_phrases()
    texts: dict[int, list[str]] = defaultdict(list)
    document_ids = [row.document_id for row in rows if row.document_id]
    if words and document_ids:
        for document_id, text in DocumentFile.objects.filter(document_id__in=document_ids).exclude(text="") \
                .order_by("-is_main", "id").values_list("document_id", "text"):
            texts[document_id].append(text)
    hits = []
    for row in rows:
        snippet: list[Segment] = []
        for text in texts.get(row.document_id, []):
            snippet = highlight(text, words)
            if snippet:
                break
        hits.append(Hit(entry=row, title=highlight(row.title, words, whole=True, width=600), snippet=snippet,
                        rank=float(getattr(row, "rank", 0) or 0)))
    return hits


def similar_documents(user, document: Document, *, limit: int = 5) -> list[SearchEntry]:
    """"Documents like this one": those the person may see sharing word pairs of the subject (Vietnamese words
    are mostly two syllables, so pairs, not syllables, say what a subject is about), ranked by them, with the
    same issuing body or type first."""
    words = [fold(word) for word in keywords(document.subject)]
    phrases = [f"{first} {second}" for first, second in zip(words, words[1:], strict=False)] or words
    if not phrases:
        return []
    match = backend().any_of(phrases)
    same = Q(document__organ_name=document.organ_name) | Q(document_type_id=document.document_type_id)
    entries = (visible_entries(user).filter(match.condition).exclude(document_id=document.pk)
               .filter(document__isnull=False).annotate(rank=match.rank)
               .annotate(same=Case(When(same, then=Value(1)), default=Value(0), output_field=IntegerField())))
    return list(entries.order_by("-same", "-rank", "-issued_date", "-id").select_related("document_type")[:limit])
