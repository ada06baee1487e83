"""Keeping the index in step with the registry.

A change to a document (its row, recipients, files, handling case, lead unit, signature verdicts) or a draft
is recorded **in the same transaction** (a PendingChange row: one INSERT, which waits for nobody's lock), and
what a transaction changed is indexed once, right after it commits (one batch, not once per saved row). If the
process stops in between, the pending row stays and the maintenance sweep (search.tasks.index_stale) indexes it;
`manage.py rebuild_search_index` re-creates everything.

The files' words are read again only when a file changed (extraction done, a file added); a change of state or
metadata re-indexes the head and keeps the files' words.

Files without text (a scanned PDF) are marked "no text layer". OCR is not done here; an installation that has
it registers a text source (`register_text_source`) that is asked for the text of such files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Max, Q
from django.utils import timezone

from documents.models import Direction, Document, DocumentFile, ExtractionStatus
from records.models import WorkFile
from signatures.models import FileVerification
from workflows.drafting import Draft, DraftState
from workflows.models import Assignment, IncomingCase, TargetRole

from .backends import IndexRow, backend
from .models import EntryKind, PendingChange, SearchEntry, SignatureState, TextState, WorkFileEntry
from .text import exact_index_text, fold, index_text, notation_key

logger = logging.getLogger(__name__)

MAX_BODY_CHARS = 400_000  # of all files' text together (PostgreSQL's tsvector holds at most 1 MB)
DRAFT_DIRECTION = "draft"
_VALID_VERDICTS = {"valid", "warnings"}
_FAILED_VERDICTS = {"invalid", "unverifiable"}

TextSource = Callable[[DocumentFile], "str | None"]
_text_sources: list[TextSource] = []


def register_text_source(source: TextSource) -> None:
    """Add a source of text for files the extraction found none in (an OCR engine, say)."""
    if source not in _text_sources:
        _text_sources.append(source)


# --- marking ---------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """The entries a transaction changed; called once after it commits (transaction.on_commit)."""

    documents: set[int] = field(default_factory=set)
    bodies: set[int] = field(default_factory=set)
    drafts: set[int] = field(default_factory=set)
    done: bool = False

    def __post_init__(self) -> None:
        self.__qualname__ = "search.indexing.after_commit"  # Django names a failing robust callback by it

    def __call__(self) -> None:
        self.done = True
        index_documents(self.documents, bodies=self.bodies)
        index_drafts(self.drafts)


def _pending() -> _Pending | None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    for _sids, func, _robust in connection.run_on_commit:
        if isinstance(func, _Pending) and not func.done:
            return func
    pending = _Pending()
    transaction.on_commit(pending, robust=True)
    return pending


def _mark(kind: str, subject_id: int, files: bool = False) -> None:
    lookup = {"document_id": subject_id} if kind == EntryKind.DOCUMENT else {"draft_id": subject_id}
    PendingChange.objects.create(files=files, **lookup)


def document_changed(document_id: int, *, files: bool = False) -> None:
    """Mark a document's entry stale now, index it after the commit (`files`: its files' text changed)."""
    pending = _pending()
    if pending is None:
        _mark(EntryKind.DOCUMENT, document_id, files)
        index_documents([document_id], bodies={document_id} if files else set())
        return
    if document_id not in pending.documents or (files and document_id not in pending.bodies):
        _mark(EntryKind.DOCUMENT, document_id, files)
        pending.documents.add(document_id)
    if files:
        pending.bodies.add(document_id)


def draft_changed(draft_id: int) -> None:
    pending = _pending()
    if pending is None:
        _mark(EntryKind.DRAFT, draft_id)
        index_drafts([draft_id])
        return
    if draft_id not in pending.drafts:
        _mark(EntryKind.DRAFT, draft_id)
        pending.drafts.add(draft_id)


# --- indexing --------------------------------------------------------------------------------------


def _signature(verdicts: Iterable[str]) -> str:
    verdicts = set(verdicts)
    if verdicts & _VALID_VERDICTS:
        return SignatureState.VALID
    if verdicts & _FAILED_VERDICTS:
        return SignatureState.NOT_VALID
    return SignatureState.UNSIGNED


def _text_state(files: list[dict]) -> str:
    if not files:
        return TextState.NO_FILES
    if any(file["has_text"] for file in files):
        return TextState.TEXT
    if any(file["extraction_status"] == ExtractionStatus.PENDING for file in files):
        return TextState.PENDING
    return TextState.NO_TEXT


def _body(files: list[DocumentFile]) -> str:
    parts, size = [], 0
    for file in files:
        text = file.text
        if not text.strip():
            for source in _text_sources:
                text = source(file) or ""
                if text:
                    break
        parts.append(text)
        size += len(text)
        if size >= MAX_BODY_CHARS:
            break
    return "\n".join(parts)[:MAX_BODY_CHARS]


def index_documents(document_ids: Iterable[int], *, bodies: Iterable[int] = ()) -> int:
    """(Re-)index these documents: facets, head words and, for those in `bodies` (or never indexed), the
    files' words. Returns how many were indexed."""
    ids = sorted(set(document_ids))
    if not ids:
        return 0
    bodies = set(bodies)
    with transaction.atomic():
        # Locked in id order, so that two indexings of overlapping documents never wait for each other in a circle.
        pending_up_to = _pending_up_to("document_id", ids)
        entries = {
            entry.document_id: entry
            for entry in SearchEntry.objects.select_for_update().filter(document_id__in=ids).order_by("id")
        }
        missing = [doc_id for doc_id in ids if doc_id not in entries]
        if missing:
            SearchEntry.objects.bulk_create(
                [SearchEntry(kind=EntryKind.DOCUMENT, document_id=doc_id) for doc_id in missing], ignore_conflicts=True)
            entries = {entry.document_id: entry for entry in SearchEntry.objects.select_for_update()
                       .filter(document_id__in=ids).order_by("id")}
            bodies.update(missing)
        bodies.update(doc_id for doc_id, entry in entries.items() if entry.indexed_at is None)
        documents = (Document.objects.filter(id__in=ids).select_related("document_type", "register", "agency")
                     .prefetch_related("recipients"))
        states = dict(IncomingCase.objects.filter(document_id__in=ids).values_list("document_id", "state"))
        lead_units = dict(
            Assignment.objects.filter(case__document_id__in=ids, role=TargetRole.LEAD, unit__isnull=False)
            .order_by("id").values_list("case__document_id", "unit_id")
        )
        files: dict[int, list[dict]] = {}
        for row in (DocumentFile.objects.filter(document_id__in=ids)
                    .annotate(has_text=ExpressionWrapper(~Q(text=""), output_field=BooleanField()))
                    .values("document_id", "blob_id", "extraction_status", "has_text")):
            files.setdefault(row["document_id"], []).append(row)
        blob_ids = [row["blob_id"] for rows in files.values() for row in rows]
        verdicts = dict(FileVerification.objects.filter(blob_id__in=blob_ids).values_list("blob_id", "verdict"))
        texts: dict[int, list[DocumentFile]] = {}
        for file in DocumentFile.objects.filter(document_id__in=bodies & set(ids)).only("document_id", "text", "blob_id"):
            texts.setdefault(file.document_id, []).append(file)

        now = timezone.now()
        rows: list[IndexRow] = []
        changed: list[SearchEntry] = []
        for document in documents:
            entry = entries[document.pk]
            own_files = files.get(document.pk, [])
            head = f"{document.number_notation} {document.subject}"
            meta = " ".join([
                document.organ_name, document.signer_position, document.signer_name, document.to_places,
                document.description, document.identifier, document.document_type.name, document.agency.name,
                *(recipient.name for recipient in document.recipients.all()),
            ])
            entry.agency_id = document.agency_id
            entry.direction = document.direction
            entry.document_type_id = document.document_type_id
            entry.register_id = document.register_id
            entry.unit_id = (lead_units.get(document.pk) if document.direction == Direction.INCOMING
                             else document.drafting_unit_id)
            entry.issued_date = document.issued_date
            entry.year = document.issued_date.year if document.issued_date else None
            entry.urgency = document.urgency
            entry.state = states.get(document.pk, "" if document.direction == Direction.INCOMING else "issued")
            entry.signature = _signature(verdicts.get(row["blob_id"], "") for row in own_files)
            entry.text_state = _text_state(own_files)
            entry.title = f"{document.number_notation} – {document.subject}"[:600]
            entry.notation_key = notation_key(document.number_notation)[:60]
            entry.names_key = index_text(f"{document.organ_name} {document.signer_name}")[:600]
            entry.stale = False
            entry.indexed_at = now
            changed.append(entry)
            body = index_text(_body(texts.get(document.pk, []))) if document.pk in bodies else None
            rows.append(IndexRow(entry.pk, exact_index_text(head), index_text(head), index_text(meta), body))
        _save_facets(changed)
        backend().write(rows)
        _done("document_id", ids, pending_up_to)
    return len(rows)


def _pending_up_to(column: str, ids: list[int]) -> int | None:
    """The last pending change of these subjects now: indexing takes it and every one before it."""
    return PendingChange.objects.filter(**{f"{column}__in": ids}).aggregate(last=Max("id"))["last"]


def _done(column: str, ids: list[int], up_to: int | None) -> None:
    if up_to is not None:
        PendingChange.objects.filter(**{f"{column}__in": ids}, id__lte=up_to).delete()


def _save_facets(entries: list[SearchEntry]) -> None:
    """One UPDATE per entry through executemany: bulk_update's CASE per field and row cost more Python time
    than the rows cost the database (1.5x the indexing speed, bench/README.md)."""
    if not entries:
        return
    fields = [SearchEntry._meta.get_field(name) for name in _FACET_FIELDS]
    columns = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    rows = [[field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields] + [entry.pk]
            for entry in entries]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {SearchEntry._meta.db_table} SET {columns} WHERE id = %s", rows)


_FACET_FIELDS = [
    "agency", "direction", "document_type", "register", "unit", "issued_date", "year", "urgency", "state",
    "signature", "text_state", "title", "notation_key", "names_key", "stale", "indexed_at",
]


def index_drafts(draft_ids: Iterable[int]) -> int:
    """(Re-)index drafts; an issued draft leaves the index (its document is there)."""
    ids = sorted(set(draft_ids))
    if not ids:
        return 0
    with transaction.atomic():
        pending_up_to = _pending_up_to("draft_id", ids)
        drafts = {d.pk: d for d in Draft.objects.filter(id__in=ids).select_related("document_type", "drafter",
                                                                                   "drafting_unit", "agency")}
        gone = [pk for pk in ids if pk not in drafts or drafts[pk].state == DraftState.ISSUED]
        if gone:
            delete_entries(SearchEntry.objects.filter(draft_id__in=gone))
        live = [pk for pk in ids if pk not in gone]
        if not live:
            _done("draft_id", ids, pending_up_to)
            return 0
        SearchEntry.objects.bulk_create([SearchEntry(kind=EntryKind.DRAFT, draft_id=pk) for pk in live],
                                        ignore_conflicts=True)
        entries = {e.draft_id: e for e in SearchEntry.objects.select_for_update().filter(draft_id__in=live)
                   .order_by("id")}
        now = timezone.now()
        rows, changed = [], []
        for pk in live:
            draft, entry = drafts[pk], entries[pk]
            recipients = " ".join(str(r.get("name", "")) if isinstance(r, dict) else str(r) for r in draft.recipients)
            meta = " ".join([draft.document_type.name, draft.drafter.get_full_name(), draft.drafting_unit.name,
                             draft.last_comment, recipients])
            entry.agency_id = draft.agency_id
            entry.direction = DRAFT_DIRECTION
            entry.document_type_id = draft.document_type_id
            entry.register_id = None
            entry.unit_id = draft.drafting_unit_id
            entry.issued_date = timezone.localtime(draft.created_at).date()
            entry.year = entry.issued_date.year
            entry.urgency = draft.urgency
            entry.state = draft.state
            entry.signature = SignatureState.UNSIGNED
            entry.text_state = TextState.NO_FILES
            entry.title = draft.subject[:600]
            entry.notation_key = ""
            entry.names_key = index_text(draft.drafter.get_full_name())[:600]
            entry.stale = False
            entry.indexed_at = now
            changed.append(entry)
            rows.append(IndexRow(entry.pk, exact_index_text(draft.subject), index_text(draft.subject),
                                 index_text(meta), ""))
        _save_facets(changed)
        backend().write(rows)
        _done("draft_id", ids, pending_up_to)
    return len(rows)


def delete_entries(entries) -> None:
    ids = list(entries.values_list("id", flat=True))
    if ids:
        backend().delete(ids)
        SearchEntry.objects.filter(id__in=ids).delete()


def index_stale(limit: int = 500) -> int:
    """Index up to `limit` documents or drafts whose change was not indexed (what a stopped process left, or an
    entry marked stale); returns how many."""
    waiting = list(PendingChange.objects.order_by("id").values_list("document_id", "draft_id")[:limit])
    waiting += list(SearchEntry.objects.filter(stale=True).order_by("id").values_list("document_id", "draft_id")[:limit])
    documents = sorted({doc for doc, _draft in waiting if doc})
    drafts = sorted({draft for _doc, draft in waiting if draft})
    existing = set(Document.objects.filter(id__in=documents).values_list("id", flat=True))
    PendingChange.objects.filter(document_id__in=set(documents) - existing).delete()  # deleted since
    # A change left behind may have been one of the files: read them again.
    return index_documents(existing, bodies=existing) + index_drafts(drafts)


WORK_FILE_WORD_FIELDS = frozenset({"file_notation", "title", "description", "year", "unit"})


def work_file_words(work_file: WorkFile) -> str:
    """The folded words a work file is found by: number, title, description, year, unit."""
    unit = work_file.unit.name if work_file.unit_id and work_file.unit else ""
    return fold(" ".join([work_file.file_notation, work_file.title, work_file.description, str(work_file.year),
                          unit]))


def index_work_file(work_file: WorkFile) -> None:
    """One small row per work file, written in the saving transaction (a few hundred bytes)."""
    WorkFileEntry.objects.update_or_create(work_file_id=work_file.pk, defaults={"words": work_file_words(work_file)})


def rebuild(batch: int = 500, progress: Callable[[int, int], None] | None = None) -> int:
    """Index every document and every unissued draft again, files included, in batches (and the work files)."""
    for work_file in WorkFile.objects.select_related("unit").iterator(chunk_size=500):
        index_work_file(work_file)
    SearchEntry.objects.filter(document__isnull=True, draft__isnull=True).delete()
    document_ids = list(Document.objects.order_by("id").values_list("id", flat=True))
    draft_ids = list(Draft.objects.exclude(state=DraftState.ISSUED).order_by("id").values_list("id", flat=True))
    delete_entries(SearchEntry.objects.filter(draft__state=DraftState.ISSUED))
    total, done = len(document_ids) + len(draft_ids), 0
    for start in range(0, len(document_ids), batch):
        chunk = document_ids[start:start + batch]
        done += index_documents(chunk, bodies=chunk)
        if progress:
            progress(done, total)
    for start in range(0, len(draft_ids), batch):
        done += index_drafts(draft_ids[start:start + batch])
        if progress:
            progress(done, total)
    return done


@dataclass
class Consistency:
    documents: int
    missing: int  # documents with no entry
    stale: int  # entries waiting to be indexed
    without_words: int  # entries whose word index is missing

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.without_words)


def check() -> Consistency:
    """What the index lacks: documents with no entry, entries not indexed yet, entries without words."""
    return Consistency(
        documents=Document.objects.count(),
        missing=Document.objects.filter(search_entry__isnull=True).count(),
        stale=SearchEntry.objects.filter(stale=True).count() + PendingChange.objects.count(),
        without_words=SearchEntry.objects.filter(backend().missing_words_condition()).count(),
    )
