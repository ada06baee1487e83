"""Every change of the records cycle (Decree 30/2020 Art. 28–31): catalogue, work files, hold-backs, transfers,
dispositions, BagIt jobs. Each takes the acting person, checks what they may do, locks the rows it changes,
writes its audit event in the same transaction and queues its Celery work after the commit. A refused change
raises `RecordsError` (or PermissionDenied) and changes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Unit
from accounts.selectors import unit_leader_ids
from audit.services import record_event
from documents.models import Document, DocumentFile, FileBlob
from documents.selectors import visible_documents
from documents.storage import remove_destroyed_bytes
from eoffice import notices
from eoffice.tasking import publish_on_commit
from signatures.models import SigningRequest
from workflows.drafting import Draft, DraftAttachment, DraftState, DraftVersion
from workflows.models import AssignmentResultFile, CaseState, IncomingCase
from workflows.selectors import presenting_leaders

from . import events, notice_kinds, selectors
from .models import (
    ArchivalTimestamp,
    BagExport,
    BagImport,
    CatalogueEntry,
    CatalogueHeading,
    CatalogueState,
    DecisionState,
    Disposition,
    DispositionItem,
    DispositionState,
    FileCatalogue,
    HoldBack,
    ItemDecision,
    RetentionPeriod,
    Transfer,
    TransferState,
    WorkFile,
    WorkFileDocument,
    WorkFileState,
)

FILE_NOTATION = re.compile(r"^[0-9A-Za-zĐđ.\-/]{1,20}$")
OPEN_CASE_STATES = (CaseState.REGISTERED, CaseState.PRESENTED, CaseState.DIRECTED, CaseState.IN_PROGRESS)


class RecordsError(ValidationError):
    """The change is not allowed in the record's current state (nothing was changed)."""


def _today() -> date:
    return timezone.localdate()


def _require_manager(actor, agency_id: int) -> None:
    if not selectors.manages_records(actor, agency_id):
        raise PermissionDenied(_("Only the agency's archivists and administrators may do this."))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=last)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _audit(actor, verb: str, target, agency_id: int, **data) -> None:
    record_event(actor=actor, verb=verb, target=target, agency_id=agency_id, data=data)


def _leader_ids(agency_id: int) -> list[int]:
    """The head and deputy heads: who decides hold-backs and destructions."""
    return list(presenting_leaders(agency_id).values_list("pk", flat=True))


def _lock_file(work_file: WorkFile) -> WorkFile:
    # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the outer join to the unit.
    return WorkFile.objects.select_for_update(of=("self",)).select_related("agency", "unit").get(pk=work_file.pk)


# --- the retention table ------------------------------------------------------------------------------


def save_retention_period(actor, period: RetentionPeriod, changed: list[str] | None = None) -> RetentionPeriod:
    """Add or change a row of the retention table (kept as data, edited by the archivists)."""
    if not (actor.is_superuser or actor.has_perm("records.change_retentionperiod")):
        raise PermissionDenied(_("Only archivists and administrators may edit the retention table."))
    if period.years is not None and not 1 <= period.years <= 100:
        raise RecordsError(_("Retention is permanent or between 1 and 100 years."))
    with transaction.atomic():
        created = period.pk is None
        period.save()
        record_event(actor=actor, verb=events.RETENTION_SAVED, target=period, agency_id=actor.agency_id,
                     data={"code": period.code, "years": period.years, "created": created,
                           "changed": changed or []})
    return period


# --- the annual file catalogue -------------------------------------------------------------------------


def create_catalogue(actor, agency_id: int, year: int, *, copy_from: FileCatalogue | None = None) -> FileCatalogue:
    """A draft catalogue for the year; copying last year's headings and entries is what a clerk does."""
    _require_manager(actor, agency_id)
    if not 2000 <= year <= _today().year + 1:
        raise RecordsError(_("Choose a year between 2000 and next year."))
    with transaction.atomic():
        if FileCatalogue.objects.filter(agency_id=agency_id, year=year).exists():
            raise RecordsError(_("The agency already has a file catalogue for %(year)s.") % {"year": year})
        catalogue = FileCatalogue.objects.create(agency_id=agency_id, year=year, created_by=actor)
        copied = 0
        if copy_from is not None:
            if copy_from.agency_id != agency_id:
                raise PermissionDenied
            heading_map: dict[int, CatalogueHeading] = {}
            for heading in copy_from.headings.order_by(F("parent_id").asc(nulls_first=True), "order"):
                heading_map[heading.pk] = CatalogueHeading.objects.create(
                    catalogue=catalogue, parent=heading_map.get(heading.parent_id), order=heading.order,
                    title=heading.title, abbreviation=heading.abbreviation,
                )
            for entry in copy_from.entries.order_by("order"):
                CatalogueEntry.objects.create(  # "… năm 2025" becomes "… năm 2026"
                    catalogue=catalogue, heading=heading_map[entry.heading_id], order=entry.order,
                    file_notation=entry.file_notation, title=entry.title.replace(str(copy_from.year), str(year)),
                    retention=entry.retention,
                    retention_years=entry.retention_years, unit=entry.unit, responsible=entry.responsible,
                    note=entry.note,
                )
                copied += 1
        _audit(actor, events.CATALOGUE_CREATED, catalogue, agency_id, year=year,
               copied_from=copy_from.year if copy_from else None, entries=copied)
    return catalogue


def _require_draft(catalogue: FileCatalogue) -> None:
    if catalogue.state != CatalogueState.DRAFT:
        raise RecordsError(_("The catalogue is published: its entries are fixed. Open other files ad hoc."))


def add_heading(actor, catalogue: FileCatalogue, *, title: str, abbreviation: str = "",
                parent: CatalogueHeading | None = None) -> CatalogueHeading:
    _require_manager(actor, catalogue.agency_id)
    _require_draft(catalogue)
    title = title.strip()
    if not title:
        raise RecordsError(_("Give the heading a title."))
    if parent is not None and (parent.catalogue_id != catalogue.pk or parent.parent_id is not None):
        raise RecordsError(_("A sub-heading belongs under a major heading of the same catalogue."))
    if parent is None and not abbreviation.strip():
        raise RecordsError(_("A major heading needs an abbreviation (e.g. TCCB): it ends its file numbers."))
    with transaction.atomic():
        siblings = catalogue.headings.filter(parent=parent)
        order = (siblings.aggregate(last=Max("order"))["last"] or 0) + 1
        heading = CatalogueHeading.objects.create(
            catalogue=catalogue, parent=parent, order=order, title=title[:300],
            abbreviation=abbreviation.strip().upper()[:20],
        )
        _audit(actor, events.CATALOGUE_CHANGED, catalogue, catalogue.agency_id, added_heading=heading.title)
    return heading


def major_heading(heading: CatalogueHeading) -> CatalogueHeading:
    return heading.parent if heading.parent_id else heading


def next_file_notation(catalogue: FileCatalogue, heading: CatalogueHeading) -> str:
    """`NN.ABBR`: the sequence runs within the major heading from 01 (Decree 30 PL V), then its abbreviation."""
    major = major_heading(heading)
    under = CatalogueEntry.objects.filter(catalogue=catalogue, heading__in=[major, *major.children.all()])
    taken = set(under.values_list("file_notation", flat=True))
    number = under.count() + 1
    while f"{number:02d}.{major.abbreviation}" in taken:
        number += 1
    return f"{number:02d}.{major.abbreviation}"


@dataclass
class EntryInput:
    title: str
    heading: CatalogueHeading
    retention: RetentionPeriod | None = None
    retention_years: int | None = None
    permanent: bool = False
    unit: Unit | None = None
    responsible: object | None = None
    note: str = ""
    file_notation: str = ""


def _retention_years(retention: RetentionPeriod | None, years: int | None, permanent: bool) -> int | None:
    if retention is not None:
        return retention.years
    if permanent:
        return None
    if years is None or not 1 <= years <= 100:
        raise RecordsError(_("Choose a retention group, or give the retention: permanent or 1 to 100 years."))
    return years


def add_entry(actor, catalogue: FileCatalogue, data: EntryInput) -> CatalogueEntry:
    _require_manager(actor, catalogue.agency_id)
    _require_draft(catalogue)
    if data.heading.catalogue_id != catalogue.pk:
        raise RecordsError(_("Choose a heading of this catalogue."))
    title = data.title.strip()
    if not title:
        raise RecordsError(_("Give the file a title."))
    years = _retention_years(data.retention, data.retention_years, data.permanent)
    if data.unit is not None and data.unit.agency_id != catalogue.agency_id:
        raise RecordsError(_("Choose a unit of the agency."))
    if data.responsible is not None and data.responsible.agency_id != catalogue.agency_id:
        raise RecordsError(_("Choose a person of the agency."))
    with transaction.atomic():
        FileCatalogue.objects.select_for_update().get(pk=catalogue.pk)
        notation = (data.file_notation or "").strip() or next_file_notation(catalogue, data.heading)
        if not FILE_NOTATION.match(notation):
            raise RecordsError(_("A file number has up to 20 letters, digits, dots or dashes, e.g. 01.TCCB."))
        if catalogue.entries.filter(file_notation=notation).exists():
            raise RecordsError(_("The catalogue already has a file numbered %(number)s.") % {"number": notation})
        order = (catalogue.entries.aggregate(last=Max("order"))["last"] or 0) + 1
        entry = CatalogueEntry.objects.create(
            catalogue=catalogue, heading=data.heading, order=order, file_notation=notation, title=title[:500],
            retention=data.retention, retention_years=years, unit=data.unit, responsible=data.responsible,
            note=data.note.strip()[:500],
        )
        _audit(actor, events.CATALOGUE_CHANGED, catalogue, catalogue.agency_id, added_entry=notation)
    return entry


def remove_entry(actor, entry: CatalogueEntry) -> None:
    catalogue = entry.catalogue
    _require_manager(actor, catalogue.agency_id)
    _require_draft(catalogue)
    with transaction.atomic():
        notation = entry.file_notation
        entry.delete()
        _audit(actor, events.CATALOGUE_CHANGED, catalogue, catalogue.agency_id, removed_entry=notation)


def publish_catalogue(actor, catalogue: FileCatalogue, *, approved_by_name: str) -> FileCatalogue:
    """Fix the catalogue as approved by the head of the agency (Art. 28)."""
    _require_manager(actor, catalogue.agency_id)
    approved_by_name = approved_by_name.strip()
    if not approved_by_name:
        raise RecordsError(_("Name the head of the agency who approved the catalogue."))
    with transaction.atomic():
        catalogue = FileCatalogue.objects.select_for_update().get(pk=catalogue.pk)
        _require_draft(catalogue)
        if not catalogue.entries.exists():
            raise RecordsError(_("The catalogue has no files yet."))
        catalogue.state = CatalogueState.PUBLISHED
        catalogue.approved_by_name = approved_by_name[:150]
        catalogue.published_by = actor
        catalogue.published_at = timezone.now()
        catalogue.save(update_fields=["state", "approved_by_name", "published_by", "published_at"])
        _audit(actor, events.CATALOGUE_PUBLISHED, catalogue, catalogue.agency_id, year=catalogue.year,
               entries=catalogue.entries.count(), approved_by=approved_by_name)
    return catalogue


# --- work files ----------------------------------------------------------------------------------------


@dataclass
class WorkFileInput:
    """An ad hoc file (not in the catalogue): Art. 29 — title, number, retention, keeper, start date."""

    title: str
    file_notation: str
    start_date: date
    retention_years: int | None = None
    permanent: bool = False
    retention: RetentionPeriod | None = None
    unit: Unit | None = None
    rights: str = ""
    description: str = ""
    capital_construction: bool = False


def open_from_catalogue(actor, entry: CatalogueEntry, *, start_date: date | None = None) -> WorkFile:
    """Open the planned file: the person responsible (or the unit's people, or a record keeper) does it."""
    catalogue = FileCatalogue.objects.get(pk=entry.catalogue_id)
    if not catalogue.is_published:
        raise RecordsError(_("Files are opened from a published catalogue."))
    if actor.agency_id != catalogue.agency_id and not actor.is_superuser:
        raise PermissionDenied
    allowed = (entry.responsible_id in (None, actor.pk) and (entry.unit_id in (None, actor.unit_id))
               ) or selectors.leads_unit(actor, entry.unit_id) or selectors.manages_records(actor, catalogue.agency_id)
    if not allowed:
        raise PermissionDenied(_("This file is planned for another unit or person."))
    with transaction.atomic():
        if WorkFile.objects.filter(agency_id=catalogue.agency_id, year=catalogue.year,
                                   file_notation=entry.file_notation).exists():
            raise RecordsError(_("The file %(number)s is already open.") % {"number": entry.file_notation})
        work_file = WorkFile.objects.create(
            agency_id=catalogue.agency_id, unit=entry.unit or actor.unit, catalogue_entry=entry, year=catalogue.year,
            file_notation=entry.file_notation, title=entry.title, retention_years=entry.retention_years,
            creator=entry.responsible or actor, start_date=start_date or _today(), description=entry.note,
        )
        _audit(actor, events.FILE_OPENED, work_file, work_file.agency_id, file=work_file.file_notation,
               from_catalogue=catalogue.year)
    return work_file


def open_ad_hoc(actor, data: WorkFileInput) -> WorkFile:
    if not actor.is_authenticated or not actor.agency_id:
        raise PermissionDenied
    title = data.title.strip()
    notation = data.file_notation.strip()
    if not title:
        raise RecordsError(_("Give the file a title."))
    if not FILE_NOTATION.match(notation):
        raise RecordsError(_("A file number has up to 20 letters, digits, dots or dashes, e.g. 01.TCCB."))
    years = _retention_years(data.retention, data.retention_years, data.permanent)
    unit = data.unit or actor.unit
    if unit is not None and unit.agency_id != actor.agency_id:
        raise RecordsError(_("Choose a unit of the agency."))
    if unit is not None and unit.pk != actor.unit_id and not (selectors.manages_records(actor, actor.agency_id)):
        raise PermissionDenied(_("You may open files for your own unit only."))
    with transaction.atomic():
        year = data.start_date.year
        if WorkFile.objects.filter(agency_id=actor.agency_id, year=year, file_notation=notation).exists():
            raise RecordsError(_("The agency already has a file numbered %(number)s in %(year)s.")
                               % {"number": notation, "year": year})
        work_file = WorkFile.objects.create(
            agency_id=actor.agency_id, unit=unit, year=year, file_notation=notation, title=title[:500],
            retention_years=years, creator=actor, start_date=data.start_date, rights=data.rights.strip()[:30],
            description=data.description.strip()[:500], capital_construction=data.capital_construction,
        )
        _audit(actor, events.FILE_OPENED, work_file, work_file.agency_id, file=notation, ad_hoc=True)
    return work_file


def _renumber(work_file: WorkFile) -> None:
    """DocOrdinal by date, then number: the System orders the file (PL VI)."""
    items = list(work_file.items.only("id", "ordinal").order_by(
        "document__issued_date", "document__register_number", "document__id"))
    changed = []
    for ordinal, item in enumerate(items, start=1):
        if item.ordinal != ordinal:
            item.ordinal = ordinal
            changed.append(item)
    WorkFileDocument.objects.bulk_update(changed, ["ordinal"], batch_size=500)


def add_document(actor, work_file: WorkFile, document: Document) -> WorkFileDocument:
    """Link a registered document (issued, incoming or internal) into an open file: never a copy."""
    if not visible_documents(actor).filter(pk=document.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        work_file = _lock_file(work_file)
        if not selectors.may_edit_file(actor, work_file):
            if work_file.state != WorkFileState.OPEN:
                raise RecordsError(_("The file is closed: its list of documents is locked."))
            raise PermissionDenied(_("Only the file's keeper, the unit's leader or an archivist may change it."))
        if document.agency_id != work_file.agency_id:
            raise RecordsError(_("A work file holds its own agency's documents."))
        item, created = WorkFileDocument.objects.get_or_create(
            work_file=work_file, document=document, defaults={"added_by": actor}
        )
        if not created:
            raise RecordsError(_("The document is already in this file."))
        _renumber(work_file)
        _audit(actor, events.FILE_DOCUMENT_ADDED, work_file, work_file.agency_id, document_id=document.pk,
               document=document.number_notation)
    item.refresh_from_db()
    return item


def remove_document(actor, work_file: WorkFile, document: Document) -> None:
    with transaction.atomic():
        work_file = _lock_file(work_file)
        if not selectors.may_edit_file(actor, work_file):
            if work_file.state != WorkFileState.OPEN:
                raise RecordsError(_("The file is closed: its list of documents is locked."))
            raise PermissionDenied
        deleted, _rows = WorkFileDocument.objects.filter(work_file=work_file, document=document).delete()
        if not deleted:
            raise RecordsError(_("The document is not in this file."))
        _renumber(work_file)
        _audit(actor, events.FILE_DOCUMENT_REMOVED, work_file, work_file.agency_id, document_id=document.pk,
               document=document.number_notation)


EDITABLE_FIELDS = ("title", "retention_years", "rights", "description", "capital_construction", "settlement_date",
                   "language")


def change_work_file(actor, work_file: WorkFile, changes: dict) -> WorkFile:
    """Correct an open file's description (Art. 29: title and retention are re-checked at closing)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise RecordsError(_("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    with transaction.atomic():
        work_file = _lock_file(work_file)
        if not selectors.may_edit_file(actor, work_file):
            if work_file.state != WorkFileState.OPEN:
                raise RecordsError(_("The file is closed and cannot be changed."))
            raise PermissionDenied
        if "title" in changes and not str(changes["title"]).strip():
            raise RecordsError(_("Give the file a title."))
        years = changes.get("retention_years", work_file.retention_years)
        if years is not None and not 1 <= int(years) <= 100:
            raise RecordsError(_("Retention is permanent or between 1 and 100 years."))
        changed = [name for name, value in changes.items() if getattr(work_file, name) != value]
        for name in changed:
            setattr(work_file, name, changes[name])
        if changed:
            work_file.save(update_fields=changed)
            _audit(actor, events.FILE_CHANGED, work_file, work_file.agency_id, changed=changed)
    return work_file


@dataclass(frozen=True)
class Blocker:
    document: Document
    reason: str


def closing_blockers(work_file: WorkFile) -> list[Blocker]:
    """Documents that keep the file open: incoming ones still in handling, and answers still being drafted."""
    document_ids = list(work_file.items.values_list("document_id", flat=True))
    blockers = []
    for case in IncomingCase.objects.filter(document_id__in=document_ids, state__in=OPEN_CASE_STATES
                                            ).select_related("document"):
        blockers.append(Blocker(case.document, _("still in handling (%(state)s)") % {
            "state": case.get_state_display()}))
    drafts = Draft.objects.filter(in_response_to_id__in=document_ids).exclude(state=DraftState.ISSUED)
    for draft in drafts.select_related("in_response_to"):
        blockers.append(Blocker(draft.in_response_to, _("an answer is still being drafted: %(subject)s") % {
            "subject": draft.subject[:80]}))
    return blockers


def transfer_deadline(work_file: WorkFile) -> date | None:
    """Art. 30.2: 1 year after the work ended; capital construction 3 months after the final settlement.
    Files kept less than 5 years stay in the unit (Art. 31.3): no deadline."""
    if work_file.retention_years is not None and work_file.retention_years < selectors.TRANSFER_MIN_YEARS:
        return None
    if work_file.capital_construction and work_file.settlement_date:
        return _add_months(work_file.settlement_date, 3)
    return _add_years(work_file.end_date, 1) if work_file.end_date else None


def _page_totals(work_file: WorkFile) -> int:
    total = 0
    for document in Document.objects.filter(work_file_items__work_file=work_file).prefetch_related("files"):
        if document.page_amount:
            total += document.page_amount
        else:
            total += sum(doc_file.page_count or 0 for doc_file in document.files.all())
    return total


def close_work_file(actor, work_file: WorkFile) -> WorkFile:
    """Close (Art. 29): refuse while documents are in handling or answers in drafting; fix the end date (the
    last document's date), the totals and the transfer deadline; lock the list."""
    with transaction.atomic():
        work_file = _lock_file(work_file)
        if work_file.state != WorkFileState.OPEN:
            raise RecordsError(_("The file is already closed."))
        if not selectors.may_edit_file(actor, work_file):
            raise PermissionDenied
        if not work_file.items.exists():
            raise RecordsError(_("The file has no documents: add them before closing it."))
        blockers = closing_blockers(work_file)
        if blockers:
            listed = "; ".join(f"{b.document.number_notation}: {b.reason}" for b in blockers[:5])
            raise RecordsError(_("The file cannot be closed yet: %(documents)s") % {"documents": listed})
        if work_file.capital_construction and not work_file.settlement_date:
            raise RecordsError(_("A capital construction file needs its final settlement date before closing."))
        dates = Document.objects.filter(work_file_items__work_file=work_file).aggregate(
            first=Min("issued_date"), last=Max("issued_date"))
        work_file.end_date = max(dates["last"], work_file.start_date)
        work_file.doc_total = work_file.items.count()
        work_file.page_total = _page_totals(work_file)
        work_file.state = WorkFileState.CLOSED
        work_file.closed_at = timezone.now()
        work_file.closed_by = actor
        work_file.transfer_due = transfer_deadline(work_file)
        work_file.save(update_fields=["end_date", "doc_total", "page_total", "state", "closed_at", "closed_by",
                                      "transfer_due"])
        _audit(actor, events.FILE_CLOSED, work_file, work_file.agency_id, file=work_file.file_notation,
               documents=work_file.doc_total, pages=work_file.page_total, end_date=work_file.end_date.isoformat(),
               transfer_due=work_file.transfer_due.isoformat() if work_file.transfer_due else None)
    return work_file


def reopen_work_file(actor, work_file: WorkFile, *, reason: str) -> WorkFile:
    """Open a closed file again to correct it (a transfer returned by the archive, a document forgotten): only
    before the archive received it, with the reason recorded; the totals and deadline are fixed again at the
    next closing."""
    reason = reason.strip()
    if not reason:
        raise RecordsError(_("Say why the file is opened again."))
    with transaction.atomic():
        work_file = _lock_file(work_file)
        if work_file.state != WorkFileState.CLOSED:
            raise RecordsError(_("Only a closed file that is not in the archive can be opened again."))
        if not selectors.may_transfer_file(actor, work_file):
            raise PermissionDenied
        if work_file.transfers.filter(state=TransferState.SUBMITTED).exists():
            raise RecordsError(_("The file is waiting in a transfer: ask the archive to return it first."))
        work_file.state = WorkFileState.OPEN
        work_file.end_date = None
        work_file.transfer_due = None
        work_file.transfer_reminded_at = None
        work_file.closed_at = None
        work_file.closed_by = None
        work_file.save(update_fields=["state", "end_date", "transfer_due", "transfer_reminded_at", "closed_at",
                                      "closed_by"])
        _audit(actor, events.FILE_REOPENED, work_file, work_file.agency_id, reason=reason)
    return work_file


def request_archival_timestamps(actor, work_file: WorkFile) -> None:
    """Ask again for the archival timestamps of an archived file whose earlier attempt failed or was skipped
    (the timestamp authority was down, or configured since); done ones are left alone by the task."""
    _require_manager(actor, work_file.agency_id)
    if work_file.state != WorkFileState.ARCHIVED:
        raise RecordsError(_("Archival timestamps are added to archive records only."))
    with transaction.atomic():
        _audit(actor, events.TIMESTAMPS_REQUESTED, work_file, work_file.agency_id)
        publish_on_commit("records.tasks.timestamp_archived", work_file.pk)


# --- hold-back ------------------------------------------------------------------------------------------


def request_hold_back(actor, work_file: WorkFile, *, until: date, reason: str) -> HoldBack:
    """Ask the head to keep a closed file in the unit past its deadline (Art. 31.3: at most 2 more years)."""
    reason = reason.strip()
    if not reason:
        raise RecordsError(_("Say why the unit needs to keep the file."))
    with transaction.atomic():
        work_file = _lock_file(work_file)
        if work_file.state != WorkFileState.CLOSED or work_file.transfer_due is None:
            raise RecordsError(_("Only closed files due for transfer can be held back."))
        if not selectors.may_transfer_file(actor, work_file):
            raise PermissionDenied
        limit = _add_years(work_file.transfer_due, selectors.HOLD_BACK_MAX_YEARS)
        if not work_file.transfer_due < until <= limit:
            raise RecordsError(_("Keep it until a day after the deadline (%(due)s) and at most two years past it "
                                 "(%(limit)s).") % {"due": work_file.transfer_due.strftime("%d/%m/%Y"),
                                                     "limit": limit.strftime("%d/%m/%Y")})
        if work_file.hold_backs.filter(state=DecisionState.REQUESTED).exists():
            raise RecordsError(_("A request to keep this file is already waiting for the head's decision."))
        hold = HoldBack.objects.create(work_file=work_file, until=until, reason=reason, requested_by=actor)
        _audit(actor, events.HOLD_BACK_REQUESTED, work_file, work_file.agency_id, until=until.isoformat(),
               reason=reason)
        notices.tell(
            notice_kinds.HOLD_BACK_REQUESTED, key=f"records:holdback:{hold.pk}",
            user_ids=_leader_ids(work_file.agency_id), exclude=[actor.pk],
            params={"actor": actor.name_and_position, "file": work_file.file_notation, "title": work_file.title,
                    "date": until.strftime("%d/%m/%Y")},
            url=reverse("records:file", args=[work_file.pk]),
        )
    return hold


def decide_hold_back(actor, hold: HoldBack, *, approve: bool, note: str = "") -> HoldBack:
    """The head's decision, recorded; an approval moves the file's deadline."""
    with transaction.atomic():
        hold = HoldBack.objects.select_for_update().select_related("work_file").get(pk=hold.pk)
        work_file = _lock_file(hold.work_file)
        if not selectors.leads_agency(actor, work_file.agency_id):
            raise PermissionDenied(_("Only the head of the agency decides on keeping files past the deadline."))
        if hold.state != DecisionState.REQUESTED:
            raise RecordsError(_("This request was already decided."))
        if not approve and not note.strip():
            raise RecordsError(_("Say why the request is refused."))
        hold.state = DecisionState.APPROVED if approve else DecisionState.REFUSED
        hold.decided_by = actor
        hold.decided_at = timezone.now()
        hold.decision_note = note.strip()
        hold.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        if approve:
            work_file.held_until = hold.until
            work_file.transfer_reminded_at = None  # a new deadline earns a new reminder
            work_file.save(update_fields=["held_until", "transfer_reminded_at"])
        _audit(actor, events.HOLD_BACK_DECIDED, work_file, work_file.agency_id, decision=hold.state,
               until=hold.until.isoformat(), note=hold.decision_note)
        notices.tell(
            notice_kinds.HOLD_BACK_DECIDED, key=f"records:holdback-decided:{hold.pk}",
            user_ids=[hold.requested_by_id, work_file.creator_id], exclude=[actor.pk],
            params={"file": work_file.file_notation, "date": hold.until.strftime("%d/%m/%Y"),
                    "decision": hold.state},
            url=reverse("records:file", args=[work_file.pk]),
        )
    return hold


def remind_transfers_due(today: date | None = None) -> int:
    """The daily reminder (maintenance queue): each file's keeper and unit leaders are told once per deadline,
    30 days before it (PL VI). Idempotent: the file row is marked in the same transaction as the notice."""
    today = today or _today()
    told = 0
    for work_file in selectors.files_to_remind(today):
        with transaction.atomic():
            locked = WorkFile.objects.select_for_update().get(pk=work_file.pk)
            if locked.transfer_reminded_at is not None or locked.state != WorkFileState.CLOSED:
                continue
            due = selectors.effective_due(locked)
            notices.tell(
                notice_kinds.TRANSFER_DUE, key=f"records:due:{locked.pk}:{due.isoformat()}",
                user_ids=[locked.creator_id, *unit_leader_ids([locked.unit_id])],
                params={"file": locked.file_notation, "title": locked.title, "date": due.strftime("%d/%m/%Y"),
                        "days": max((due - today).days, 0)},
                url=reverse("records:file", args=[locked.pk]),
            )
            locked.transfer_reminded_at = timezone.now()
            locked.save(update_fields=["transfer_reminded_at"])
            told += 1
    return told


# --- transfer to the agency archive ----------------------------------------------------------------------


def submit_transfer(actor, files: list[WorkFile], *, note: str = "") -> Transfer:
    """A unit hands closed files to the agency archive (Art. 30.3: electronically, through the System)."""
    if not files:
        raise RecordsError(_("Choose the files to transfer."))
    with transaction.atomic():
        locked = list(WorkFile.objects.select_for_update().filter(pk__in=[f.pk for f in files]).order_by("pk"))
        agency_ids = {f.agency_id for f in locked}
        if len(agency_ids) != 1:
            raise RecordsError(_("A transfer holds one agency's files."))
        for work_file in locked:
            if not selectors.may_transfer_file(actor, work_file):
                raise PermissionDenied
            if work_file.state != WorkFileState.CLOSED:
                raise RecordsError(_("%(file)s is not a closed file.") % {"file": work_file.file_notation})
            if work_file.transfer_due is None:
                raise RecordsError(_("%(file)s is kept less than 5 years: it stays in the unit and is not "
                                     "transferred.") % {"file": work_file.file_notation})
            if work_file.transfers.filter(state=TransferState.SUBMITTED).exists():
                raise RecordsError(_("%(file)s is already waiting in a transfer.") % {"file": work_file.file_notation})
        units = {f.unit_id for f in locked}
        transfer = Transfer.objects.create(
            agency_id=agency_ids.pop(), unit_id=units.pop() if len(units) == 1 else None, submitted_by=actor,
            note=note.strip(),
        )
        transfer.files.set(locked)
        _audit(actor, events.TRANSFER_SUBMITTED, transfer, transfer.agency_id,
               files=[f.file_notation for f in locked])
        notices.tell(
            notice_kinds.TRANSFER_SUBMITTED, key=f"records:transfer:{transfer.pk}",
            agency_ids=[transfer.agency_id], permission=selectors.MANAGE_PERMISSION, exclude=[actor.pk],
            params={"actor": actor.name_and_position, "count": len(locked),
                    "unit": transfer.unit.name if transfer.unit else "—"},
            url=reverse("records:transfer", args=[transfer.pk]),
        )
    return transfer


def receive_transfer(actor, transfer: Transfer, *, paper_boxes: int | None = None,
                     shelf_metres: Decimal | None = None) -> Transfer:
    """The archivist checks the files against the catalogue and accepts them: they become read-only archive
    records, and their signed PDFs get an archival timestamp (B-LTA) after the commit. Paper originals handed
    over with them are counted in boxes and metres of shelf (the hand-over record prints them)."""
    _require_manager(actor, transfer.agency_id)
    if (paper_boxes is not None and paper_boxes < 0) or (shelf_metres is not None and shelf_metres < 0):
        raise RecordsError(_("Boxes and metres of shelf cannot be negative."))
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.state != TransferState.SUBMITTED:
            raise RecordsError(_("This transfer was already received or returned."))
        files = list(WorkFile.objects.select_for_update().filter(transfers=transfer).order_by("pk"))
        now = timezone.now()
        for work_file in files:
            work_file.state = WorkFileState.ARCHIVED
            work_file.archived_at = now
            work_file.save(update_fields=["state", "archived_at"])
            publish_on_commit("records.tasks.timestamp_archived", work_file.pk)
        transfer.state = TransferState.RECEIVED
        transfer.received_by = actor
        transfer.received_at = now
        transfer.paper_boxes = paper_boxes
        transfer.shelf_metres = shelf_metres
        transfer.save(update_fields=["state", "received_by", "received_at", "paper_boxes", "shelf_metres"])
        _audit(actor, events.TRANSFER_RECEIVED, transfer, transfer.agency_id,
               files=[f.file_notation for f in files], paper_boxes=paper_boxes,
               shelf_metres=str(shelf_metres) if shelf_metres is not None else None)
        notices.tell(
            notice_kinds.TRANSFER_DECIDED, key=f"records:transfer-decided:{transfer.pk}",
            user_ids=[transfer.submitted_by_id], exclude=[actor.pk],
            params={"count": len(files), "date": timezone.localtime(transfer.submitted_at).strftime("%d/%m/%Y"),
                    "decision": "received"},
            url=reverse("records:transfer", args=[transfer.pk]),
        )
    return transfer


def return_transfer(actor, transfer: Transfer, *, reason: str) -> Transfer:
    _require_manager(actor, transfer.agency_id)
    reason = reason.strip()
    if not reason:
        raise RecordsError(_("Say what the unit must correct."))
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.state != TransferState.SUBMITTED:
            raise RecordsError(_("This transfer was already received or returned."))
        transfer.state = TransferState.RETURNED
        transfer.received_by = actor
        transfer.received_at = timezone.now()
        transfer.note = (transfer.note + "\n" if transfer.note else "") + reason
        transfer.save(update_fields=["state", "received_by", "received_at", "note"])
        _audit(actor, events.TRANSFER_RETURNED, transfer, transfer.agency_id, reason=reason)
        notices.tell(
            notice_kinds.TRANSFER_DECIDED, key=f"records:transfer-decided:{transfer.pk}",
            user_ids=[transfer.submitted_by_id], exclude=[actor.pk],
            params={"count": transfer.files.count(),
                    "date": timezone.localtime(transfer.submitted_at).strftime("%d/%m/%Y"), "decision": "returned"},
            url=reverse("records:transfer", args=[transfer.pk]),
        )
    return transfer


# --- disposition ------------------------------------------------------------------------------------------


def propose_disposition(actor, files: list[WorkFile], *, note: str = "") -> Disposition:
    """Propose files whose retention has ended for destruction. Permanent files are never accepted."""
    if not actor.agency_id:
        raise PermissionDenied
    _require_manager(actor, actor.agency_id)
    candidates = {f.pk for f in selectors.expired_files(actor)}
    if not files:
        raise RecordsError(_("Choose the files to propose."))
    for work_file in files:
        if work_file.is_permanent:
            raise RecordsError(_("%(file)s is kept permanently and can never be destroyed.")
                               % {"file": work_file.file_notation})
        if work_file.pk not in candidates:
            raise RecordsError(_("%(file)s is not a file whose retention has ended (or it is already proposed).")
                               % {"file": work_file.file_notation})
    with transaction.atomic():
        disposition = Disposition.objects.create(agency_id=actor.agency_id, proposed_by=actor, note=note.strip())
        for work_file in files:
            DispositionItem.objects.create(disposition=disposition, work_file=work_file)
        _audit(actor, events.DISPOSITION_PROPOSED, disposition, disposition.agency_id,
               files=[f.file_notation for f in files])
        notices.tell(
            notice_kinds.DISPOSITION_PROPOSED, key=f"records:disposition:{disposition.pk}",
            user_ids=_leader_ids(disposition.agency_id), exclude=[actor.pk],
            params={"actor": actor.name_and_position, "count": len(files)},
            url=reverse("records:disposition", args=[disposition.pk]),
        )
    return disposition


@dataclass
class ItemDecisionInput:
    item_id: int
    destroy: bool
    keep_until: date | None = None
    reason: str = ""


def decide_disposition(actor, disposition: Disposition, decisions: list[ItemDecisionInput]) -> Disposition:
    """The leader approves the destruction of each file or keeps it longer, with a reason (recorded)."""
    with transaction.atomic():
        disposition = Disposition.objects.select_for_update().get(pk=disposition.pk)
        if not selectors.leads_agency(actor, disposition.agency_id):
            raise PermissionDenied(_("Only the head of the agency approves a destruction."))
        if disposition.state != DispositionState.PROPOSED:
            raise RecordsError(_("This proposal was already decided."))
        items = {item.pk: item for item in disposition.items.select_related("work_file")}
        given = {decision.item_id: decision for decision in decisions}
        if set(given) != set(items):
            raise RecordsError(_("Decide on every file of the proposal."))
        today = _today()
        for item_id, decision in given.items():
            item = items[item_id]
            if decision.destroy:
                item.decision, item.keep_until, item.reason = ItemDecision.DESTROY, None, decision.reason.strip()
            else:
                if not decision.reason.strip():
                    raise RecordsError(_("Say why %(file)s is kept longer.") % {"file": item.work_file.file_notation})
                if decision.keep_until is None or decision.keep_until <= today:
                    raise RecordsError(_("Give the day until which %(file)s is kept.")
                                       % {"file": item.work_file.file_notation})
                item.decision, item.keep_until, item.reason = ItemDecision.KEEP, decision.keep_until, \
                    decision.reason.strip()
                WorkFile.objects.filter(pk=item.work_file_id).update(kept_until=decision.keep_until)
            item.save(update_fields=["decision", "keep_until", "reason"])
        disposition.state = DispositionState.DECIDED
        disposition.decided_by = actor
        disposition.decided_at = timezone.now()
        disposition.save(update_fields=["state", "decided_by", "decided_at"])
        destroy = [i.work_file.file_notation for i in items.values() if i.decision == ItemDecision.DESTROY]
        keep = [i.work_file.file_notation for i in items.values() if i.decision == ItemDecision.KEEP]
        _audit(actor, events.DISPOSITION_DECIDED, disposition, disposition.agency_id, destroy=destroy, keep=keep)
        notices.tell(
            notice_kinds.DISPOSITION_DECIDED, key=f"records:disposition-decided:{disposition.pk}",
            user_ids=[disposition.proposed_by_id], exclude=[actor.pk],
            params={"date": timezone.localtime(disposition.proposed_at).strftime("%d/%m/%Y"),
                    "destroy": len(destroy), "keep": len(keep)},
            url=reverse("records:disposition", args=[disposition.pk]),
        )
    return disposition


def _part_of(model, doomed_document_ids: set[int]) -> Q | None:
    """The rows of `model` that belong to the destroyed documents' own records (their files, the drafts they
    were issued from, their signing requests, their handlers' results, their archival copies): these do not
    keep the bytes alive. None: every row of the model counts as another record."""
    ids = list(doomed_document_ids)
    if model is DocumentFile:
        return Q(document_id__in=ids)
    if model in (DraftVersion, DraftAttachment):
        return Q(draft__issued_document_id__in=ids)
    if model is SigningRequest:
        return Q(document_id__in=ids) | Q(
            subject_type="workflows.draft",
            subject_id__in=Draft.objects.filter(issued_document_id__in=ids).values("pk"))
    if model is AssignmentResultFile:
        return Q(assignment__case__document_id__in=ids)
    if model is ArchivalTimestamp:
        return Q(document_file__document_id__in=ids)
    return None


def _blobs_used_elsewhere(blob_ids: set[str], doomed_document_ids: set[int]) -> set[str]:
    """Blobs among `blob_ids` that another record still needs. Every model pointing at FileBlob is asked; a
    reference that would stop the blob's deletion (PROTECT) is a use, unless it is part of the destroyed
    records; references deleted with the blob (verification results, fixity checks) describe it, not use it."""
    used: set[str] = set()
    for field in FileBlob._meta.get_fields(include_hidden=True):
        if not (field.is_relation and field.auto_created and not field.concrete):
            continue
        remote = field.remote_field  # the ForeignKey / OneToOneField on the other model
        if field.on_delete is not models.PROTECT:
            continue
        model, name = field.related_model, remote.name
        rows = model.objects.filter(**{f"{name}__in": blob_ids})
        own = _part_of(model, doomed_document_ids)
        if own is not None:
            rows = rows.exclude(own)
        used.update(rows.values_list(f"{name}_id", flat=True))
    return used


def execute_disposition(actor, disposition: Disposition) -> Disposition:
    """Destroy what the leader approved: files become `destroyed`; the content of their documents that no kept
    file holds is removed from storage, unless another record still uses the same bytes. The disposition row
    keeps what was destroyed, when, and who approved it — forever."""
    _require_manager(actor, disposition.agency_id)
    with transaction.atomic():
        disposition = Disposition.objects.select_for_update().get(pk=disposition.pk)
        if disposition.state != DispositionState.DECIDED or disposition.decided_by_id is None:
            raise RecordsError(_("Nothing is destroyed before the head of the agency approves it."))
        items = list(disposition.items.filter(decision=ItemDecision.DESTROY).select_related("work_file"))
        file_ids = [item.work_file_id for item in items]
        list(WorkFile.objects.select_for_update().filter(pk__in=file_ids).values_list("pk", flat=True))
        documents = Document.objects.filter(work_file_items__work_file_id__in=file_ids).distinct()
        kept_elsewhere = set(
            WorkFileDocument.objects.filter(document__in=documents)
            .exclude(work_file_id__in=file_ids)
            .exclude(work_file__state=WorkFileState.DESTROYED)
            .values_list("document_id", flat=True)
        )
        doomed_documents = [doc for doc in documents if doc.pk not in kept_elsewhere]
        doomed_ids = {doc.pk for doc in doomed_documents}
        doomed_files = list(DocumentFile.objects.filter(document_id__in=doomed_ids).select_related("blob"))
        blob_ids = {doc_file.blob_id for doc_file in doomed_files} | set(
            ArchivalTimestamp.objects.filter(document_file__document_id__in=doomed_ids, blob__isnull=False)
            .values_list("blob_id", flat=True))
        still_used = _blobs_used_elsewhere(blob_ids, doomed_ids)
        now = timezone.now()
        doomed_blobs = FileBlob.objects.filter(pk__in=blob_ids - still_used, destroyed_at__isnull=True)
        removed = [{"sha256": sha256, "size": size} for sha256, size in doomed_blobs.values_list("sha256", "size")]
        # Marked here, removed from storage by a task after the commit (records.tasks.remove_destroyed_content):
        # a rollback never loses bytes, and a large disposition does not hold the request.
        FileBlob.objects.filter(pk__in=[blob["sha256"] for blob in removed]).update(destroyed_at=now)
        for doc_file in doomed_files:
            if doc_file.blob_id in blob_ids - still_used and doc_file.text:
                doc_file.text = ""
                doc_file.save(update_fields=["text"])
        snapshot_files = []
        for item in items:
            work_file = item.work_file
            snapshot_files.append({
                "file_code": work_file.file_code, "file_notation": work_file.file_notation, "title": work_file.title,
                "year": work_file.year, "retention_years": work_file.retention_years,
                "start_date": work_file.start_date.isoformat(),
                "end_date": work_file.end_date.isoformat() if work_file.end_date else None,
                "documents": [
                    {"id": wfd.document_id, "number": wfd.document.number_notation,
                     "date": wfd.document.issued_date.isoformat(), "subject": wfd.document.subject[:200],
                     "content_destroyed": wfd.document_id not in kept_elsewhere}
                    for wfd in work_file.items.select_related("document").order_by("ordinal")
                ],
            })
            work_file.state = WorkFileState.DESTROYED
            work_file.destroyed_at = now
            work_file.save(update_fields=["state", "destroyed_at"])
        disposition.destroyed = {
            "files": snapshot_files, "blobs_removed": removed,
            "blobs_kept_in_use": sorted(still_used),
            "approved_by": disposition.decided_by.name_and_position if disposition.decided_by else "",
            "approved_at": disposition.decided_at.isoformat() if disposition.decided_at else None,
        }
        disposition.state = DispositionState.EXECUTED
        disposition.executed_by = actor
        disposition.executed_at = now
        disposition.save(update_fields=["destroyed", "state", "executed_by", "executed_at"])
        publish_on_commit("records.tasks.remove_destroyed_content", disposition.pk)
        _audit(actor, events.DISPOSITION_EXECUTED, disposition, disposition.agency_id,
               files=[f["file_notation"] for f in snapshot_files], blobs_removed=len(removed),
               bytes_removed=sum(b["size"] for b in removed), approved_by=disposition.destroyed["approved_by"])
    return disposition


def remove_destroyed_content(disposition_id: int) -> int:
    """The task's body: delete from storage the bytes an executed disposition marked destroyed, then note it
    on the disposition. Idempotent (bytes already gone are skipped); returns how many objects were deleted."""
    disposition = Disposition.objects.filter(pk=disposition_id, state=DispositionState.EXECUTED).first()
    if disposition is None or disposition.content_removed_at is not None:
        return 0
    shas = [blob["sha256"] for blob in disposition.destroyed.get("blobs_removed", [])]
    deleted = sum(remove_destroyed_bytes(blob) for blob in FileBlob.objects.filter(pk__in=shas,
                                                                                    destroyed_at__isnull=False))
    Disposition.objects.filter(pk=disposition.pk).update(content_removed_at=timezone.now())
    return deleted


# --- BagIt jobs -------------------------------------------------------------------------------------------


def request_export(actor, work_file: WorkFile) -> BagExport:
    """Queue a BagIt package of a closed or archived file (an open file's list is not final)."""
    if not selectors.visible_work_files(actor).filter(pk=work_file.pk).exists():
        raise PermissionDenied
    if work_file.state in (WorkFileState.OPEN, WorkFileState.DESTROYED):
        raise RecordsError(_("Only closed or archived files can be exported."))
    with transaction.atomic():
        job = BagExport.objects.create(work_file=work_file, requested_by=actor)
        _audit(actor, events.EXPORT_REQUESTED, work_file, work_file.agency_id, export_id=job.pk)
        publish_on_commit("records.tasks.build_export", job.pk)
    return job


def request_import(actor, upload, *, original_name: str) -> BagImport:
    """Store the uploaded package and queue its validation and import (only record keepers import)."""
    if not actor.agency_id:
        raise PermissionDenied
    _require_manager(actor, actor.agency_id)
    if not original_name.lower().endswith(".zip"):
        raise RecordsError(_("Upload a BagIt package as a .zip file."))
    with transaction.atomic():
        job = BagImport(agency_id=actor.agency_id, requested_by=actor, original_name=original_name[:255])
        job.upload.save(f"bag-{timezone.now():%Y%m%d%H%M%S}.zip", upload, save=False)
        job.save()
        record_event(actor=actor, verb=events.IMPORT_REQUESTED, target=job, agency_id=actor.agency_id,
                     data={"name": original_name})
        publish_on_commit("records.tasks.run_import", job.pk)
    return job


def record_export_downloaded(actor, job: BagExport) -> None:
    with transaction.atomic():
        _audit(actor, events.EXPORT_DOWNLOADED, job.work_file, job.work_file.agency_id, export_id=job.pk)


def record_printed(actor, target, agency_id: int, *, what: str, fmt: str) -> None:
    """Printing a list of records is recorded like printing a register."""
    with transaction.atomic():
        _audit(actor, events.PRINTED, target, agency_id, what=what, format=fmt)
