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

from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Left
from django.utils.translation import gettext, pgettext

from accounts.models import Agency, Unit
from documents.models import Direction, Document, DocumentFile, DocumentType, Register, Urgency
from documents.selectors import visible_documents
from records.models import WorkFile
from records.selectors import visible_work_files
from workflows.drafting import DraftState
from workflows.drafting_selectors import drafts_for
from workflows.models import CaseState

from .backends import backend
from .models import SearchEntry, SignatureState
from .text import ParsedQuery, Segment, fold, highlight, index_text, keywords, notation_key, parse_query

PER_PAGE = 20
SNIPPET_SOURCE = 30_000  # characters of a file searched for its snippet
SORTS = ("relevance", "newest", "oldest")
# Facet name -> entry field; the first group is counted in one grouped query.
SMALL_FACETS = ("direction", "document_type", "year", "urgency", "state", "signature")
LARGE_FACETS = ("agency", "unit", "register")


def visible_entries(user, *, plan_with_index: bool = False) -> QuerySet[SearchEntry]:
    """Index entries of the documents and drafts `user` may see (the registry's permission rules).

    The permitted ids are read once, as `= ANY(ARRAY(subquery))` (documents.lookups): with `IN (subquery)`
    PostgreSQL tested the words of all 200,000 entries before the permission (bench/README.md, Search).
    `plan_with_index`: keep `IN`, for a look-up that an index answers first (a notation)."""
    if not user.is_authenticated or not user.is_active:
        return SearchEntry.objects.none()
    lookup = "in" if plan_with_index else "any_of"
    return SearchEntry.objects.filter(
        Q(**{f"document_id__{lookup}": visible_documents(user).order_by().values("id")})
        | Q(**{f"draft_id__{lookup}": drafts_for(user).order_by().values("id")}),
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
    entries = filters.apply(visible_entries(user, plan_with_index=bool(query.notations) and not query.terms))
    match = None if query.is_empty else backend().match(query)
    if match is not None:
        entries = entries.filter(match.condition)
    page = max(1, page)
    if sort == "newest" or (sort == "relevance" and match is None):
        order = ("-issued_date", "-id")
    elif sort == "oldest":
        order = ("issued_date", "id")
    else:
        entries = entries.annotate(rank=match.rank)
        order = ("-rank", "-issued_date", "-id")
    if facets and connection.vendor == "postgresql":
        page_ids, ranks, facet_counts = _page_and_facets(entries, order, page, per_page)
        by_id = SearchEntry.objects.select_related("document_type", "agency").in_bulk(page_ids)
        rows = [by_id[pk] for pk in page_ids if pk in by_id]
        for row in rows:
            row.rank = ranks[row.pk]
    else:
        facet_counts = _facets(entries) if facets else {}
        rows = list(entries.order_by(*order).select_related("document_type", "agency")
                    [(page - 1) * per_page: page * per_page])
    total = sum(item.count for item in facet_counts["direction"]) if facets else entries.count()
    return Results(query=query, total=total, hits=_hits(rows, query), facets=facet_counts, page=page,
                   per_page=per_page)


_FACET_COLUMNS = {"document_type": "document_type_id", "agency": "agency_id", "unit": "unit_id",
                  "register": "register_id"}


def _facet_columns() -> tuple[tuple[str, ...], list[str]]:
    names = (*SMALL_FACETS, *LARGE_FACETS)
    return names, [_FACET_COLUMNS.get(name, name) for name in names]


def _page_and_facets(entries: QuerySet[SearchEntry], order: tuple[str, ...], page: int,
                     per_page: int) -> tuple[list[int], dict[int, float], dict[str, list[FacetValue]]]:
    """PostgreSQL: the page's ids and the facets in one statement, over the match computed once
    (a MATERIALIZED CTE): testing the words of the visible entries is most of a search's time, and the page and
    the facets would each do it again (bench/README.md, Search)."""
    names, columns = _facet_columns()
    ranked = "rank" in order[0]
    selected = ["id", "issued_date", *columns]
    inner, params = entries.order_by().values(*selected, *(["rank"] if ranked else [])).query.sql_with_params()
    quote = connection.ops.quote_name
    quoted = [quote(column) for column in columns]
    sort_sql = ", ".join(
        f"{quote(field.lstrip('-'))} {'DESC NULLS LAST' if field.startswith('-') else 'ASC NULLS LAST'}"
        for field in order)
    blanks = ", ".join(["NULL"] * len(columns) * 2)
    sql = (
        f"WITH matched AS MATERIALIZED ({inner}) "
        f"SELECT 1 AS part, NULL::bigint AS id, NULL::float8 AS rank, {', '.join(quoted)}, "
        f"{', '.join(f'GROUPING({column})' for column in quoted)}, COUNT(*) FROM matched "
        f"GROUP BY GROUPING SETS ({', '.join(f'({column})' for column in quoted)}) "
        f"UNION ALL (SELECT 0, id, {'rank' if ranked else '0'}, {blanks}, NULL FROM matched "
        f"ORDER BY {sort_sql} LIMIT %s OFFSET %s)"
    )
    counts: dict[str, dict] = {name: defaultdict(int) for name in names}
    page_ids: list[int] = []
    ranks: dict[int, float] = {}
    width = len(columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, per_page, (page - 1) * per_page])
        for row in cursor.fetchall():
            if row[0] == 0:
                page_ids.append(row[1])
                ranks[row[1]] = float(row[2] or 0)
                continue
            values, grouped, count = row[3:3 + width], row[3 + width:3 + 2 * width], row[-1]
            index = grouped.index(0)  # the one column this row is grouped by
            counts[names[index]][values[index]] += count
    return page_ids, ranks, {name: _labelled(name, values) for name, values in counts.items()}


def _facets(entries: QuerySet[SearchEntry]) -> dict[str, list[FacetValue]]:
    """Counts per value of each facet over the whole (permission-filtered) match, in two grouped queries
    (SQLite; PostgreSQL takes them with the page, `_page_and_facets`)."""
    names, _columns = _facet_columns()
    counts: dict[str, dict] = {name: defaultdict(int) for name in names}
    for group in (SMALL_FACETS, LARGE_FACETS):
        group_columns = [_FACET_COLUMNS.get(name, name) for name in group]
        for row in entries.order_by().values(*group_columns).annotate(n=Count("id")):
            for name, column in zip(group, group_columns, strict=True):
                counts[name][row[column]] += row["n"]
    return {name: _labelled(name, values) for name, values in counts.items()}


def _labelled(name: str, values: dict) -> list[FacetValue]:
    labels: dict = {}
    ids = [value for value in values if value is not None]
    if name == "direction":
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
        # The start of each file is enough for a snippet (and a 200-page file is not read for 220 characters).
        for document_id, text in (DocumentFile.objects.filter(document_id__in=document_ids).exclude(text="")
                                  .order_by("-is_main", "id").values_list("document_id", Left("text", SNIPPET_SOURCE))):
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


def matching_work_files(user, query: str, limit: int = 10) -> list[WorkFile]:
    """Work files `user` may see (records' own rule) whose folded words contain every term of the query."""
    parsed = parse_query(query)
    terms = [" ".join(term.folded) for term in parsed.terms] + [
        " ".join(words) for words in parsed.highlight_phrases()[len(parsed.terms):]]
    if not terms:
        return []
    files = visible_work_files(user).exclude(search_entry=None)
    for term in terms:
        files = files.filter(search_entry__words__contains=term)
    return list(files.select_related("unit").order_by("-year", "file_notation")[:limit])
