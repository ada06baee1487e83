"""Who sees which records, and the lists of the annual cycle: one permission-filtered query per kind
(`visible_work_files`, `visible_catalogues`), used by the web pages, the API, the printed lists and exports.

The rule: an agency's record keepers (archivists and administrators holding `records.manage_records`) and its
leaders see all its work files; anyone else sees the files of their own unit and the files they keep. Nobody
sees another agency's files. Documents inside a file are still filtered by the registry's own rule
(`documents.selectors.visible_documents`): a file never reveals a document its viewer may not open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import roles
from accounts.selectors import role_names
from documents.models import Document
from documents.selectors import visible_documents

from .models import (
    CatalogueState,
    DecisionState,
    Disposition,
    DispositionItem,
    DispositionState,
    FileCatalogue,
    HoldBack,
    Transfer,
    TransferState,
    WorkFile,
    WorkFileDocument,
    WorkFileState,
)

MANAGE_PERMISSION = "records.manage_records"
TRANSFER_MIN_YEARS = 5  # Art. 31.3: only files kept 5 years or more go to the archive
HOLD_BACK_MAX_YEARS = 2  # Art. 31.3: kept in the unit at most 2 years past the due date
REMIND_DAYS = 30  # PL VI: remind 30 days before a file is due for transfer


def manages_records(user, agency_id: int | None) -> bool:
    """An archivist or administrator of that agency (permission `records.manage_records`)."""
    if not user.is_authenticated or not user.is_active or agency_id is None:
        return False
    if user.is_superuser:
        return True
    return user.agency_id == agency_id and user.has_perm(MANAGE_PERMISSION)


def leads_agency(user, agency_id: int | None) -> bool:
    """The head (or a deputy head) of the agency: approves hold-backs and destructions."""
    return (user.is_authenticated and user.is_active and agency_id is not None and user.agency_id == agency_id
            and roles.AGENCY_LEADER in role_names(user))


def leads_unit(user, unit_id: int | None) -> bool:
    return (user.is_authenticated and user.is_active and unit_id is not None and user.unit_id == unit_id
            and roles.UNIT_LEADER in role_names(user))


def sees_whole_agency(user, agency_id: int | None) -> bool:
    return manages_records(user, agency_id) or leads_agency(user, agency_id)


def visible_work_files(user) -> QuerySet[WorkFile]:
    """Work files `user` may see (see the module docstring)."""
    if not user.is_authenticated or not user.is_active:
        return WorkFile.objects.none()
    if user.is_superuser:
        return WorkFile.objects.all()
    if not user.agency_id:
        return WorkFile.objects.none()
    own_agency = WorkFile.objects.filter(agency_id=user.agency_id)
    if sees_whole_agency(user, user.agency_id):
        return own_agency
    mine = Q(creator_id=user.pk)
    if user.unit_id:
        mine |= Q(unit_id=user.unit_id)
    return own_agency.filter(mine)


def narrow_files(files: QuerySet[WorkFile], *, q: str = "", year: int | None = None, unit_id: int | None = None,
                 retention: str | int | None = None, state: str = "") -> QuerySet[WorkFile]:
    """A person's choices on a list the rule above already limited (the web filters and the API's):
    number or title contains `q`; `retention` "permanent", "limited" or a number of years."""
    if q := (q or "").strip():
        files = files.filter(Q(title__icontains=q) | Q(file_notation__icontains=q))
    if year:
        files = files.filter(year=year)
    if unit_id:
        files = files.filter(unit_id=unit_id)
    if state:
        files = files.filter(state=state)
    if retention == "permanent":
        files = files.filter(retention_years__isnull=True)
    elif retention == "limited":
        files = files.filter(retention_years__isnull=False)
    elif retention:
        files = files.filter(retention_years=int(retention))
    return files


def may_edit_file(user, work_file: WorkFile) -> bool:
    """Changing an open file's list or description: its keeper, its unit's leader, a record keeper."""
    if work_file.state != WorkFileState.OPEN:
        return False
    return (work_file.creator_id == user.pk or leads_unit(user, work_file.unit_id)
            or manages_records(user, work_file.agency_id))


def may_transfer_file(user, work_file: WorkFile) -> bool:
    return (work_file.creator_id == user.pk or leads_unit(user, work_file.unit_id)
            or manages_records(user, work_file.agency_id))


def visible_catalogues(user) -> QuerySet[FileCatalogue]:
    """Published catalogues of the person's agency; drafts too for its record keepers."""
    if not user.is_authenticated or not user.is_active or not (user.agency_id or user.is_superuser):
        return FileCatalogue.objects.none()
    if user.is_superuser:
        return FileCatalogue.objects.all()
    catalogues = FileCatalogue.objects.filter(agency_id=user.agency_id)
    if manages_records(user, user.agency_id):
        return catalogues
    return catalogues.filter(state=CatalogueState.PUBLISHED)


def file_documents(user, work_file: WorkFile) -> tuple[list[WorkFileDocument], int]:
    """The file's documents in order that `user` may open, and how many others it holds."""
    items = list(
        work_file.items.select_related("document__document_type").order_by("ordinal", "id")
    )
    visible_ids = set(
        visible_documents(user).filter(pk__in=[item.document_id for item in items]).values_list("pk", flat=True)
    )
    shown = [item for item in items if item.document_id in visible_ids]
    return shown, len(items) - len(shown)


def open_files_for_document(user, document: Document) -> QuerySet[WorkFile]:
    """Open files this person may add `document` to (the "add to work file" choice on its page): the same
    rule as `may_edit_file`, as a query."""
    candidates = visible_work_files(user).filter(state=WorkFileState.OPEN, agency_id=document.agency_id)
    if not (user.is_superuser or manages_records(user, document.agency_id)):
        candidates = candidates.filter(_kept_by(user))
    return candidates.exclude(items__document=document).order_by("-year", "file_notation")


def files_holding(user, document: Document) -> QuerySet[WorkFile]:
    return visible_work_files(user).filter(items__document=document).order_by("-year", "file_notation")


def effective_due(work_file: WorkFile) -> date | None:
    """The transfer deadline after an approved hold-back."""
    if work_file.transfer_due is None:
        return None
    return max(work_file.transfer_due, work_file.held_until or work_file.transfer_due)


@dataclass(frozen=True)
class DueFile:
    work_file: WorkFile
    due: date
    days_left: int
    pending_hold_back: HoldBack | None


def due_for_transfer(user, *, unit_id: int | None = None, today: date | None = None) -> list[DueFile]:
    """Closed files that must go to the archive (retention ≥ 5 years or permanent), not yet submitted, with
    their deadline; nearest first."""
    today = today or timezone.localdate()
    files = (
        visible_work_files(user)
        .filter(state=WorkFileState.CLOSED, transfer_due__isnull=False)
        .exclude(_waiting_in_a_transfer())
        .select_related("unit", "creator", "agency")
    )
    if unit_id:
        files = files.filter(unit_id=unit_id)
    pending = {
        hold.work_file_id: hold
        for hold in HoldBack.objects.filter(work_file__in=files, state=DecisionState.REQUESTED)
    }
    rows = []
    for work_file in files:
        due = effective_due(work_file)
        rows.append(DueFile(work_file, due, (due - today).days, pending.get(work_file.pk)))
    rows.sort(key=lambda row: (row.due, row.work_file.file_notation))
    return rows


def _due_soon(today: date) -> Q:
    """Closed files whose deadline (after an approved hold-back) is within 30 days or past."""
    horizon = today + timedelta(days=REMIND_DAYS)
    return Q(state=WorkFileState.CLOSED, transfer_due__isnull=False) & (
        Q(held_until__isnull=True, transfer_due__lte=horizon) | Q(held_until__lte=horizon))


def _waiting_in_a_transfer() -> Exists:
    return Exists(Transfer.objects.filter(files=OuterRef("pk"), state=TransferState.SUBMITTED))


def _kept_by(user) -> Q:
    """The files a person answers for: those they keep, and their unit's when they lead it."""
    kept = Q(creator_id=user.pk)
    if user.unit_id and roles.UNIT_LEADER in role_names(user):
        kept |= Q(unit_id=user.unit_id)
    return kept


def files_to_remind(today: date) -> QuerySet[WorkFile]:
    """Closed files due within 30 days (or overdue) whose people were not reminded for this deadline yet."""
    return WorkFile.objects.filter(_due_soon(today), transfer_reminded_at=None).select_related("unit")


def archive(user) -> QuerySet[WorkFile]:
    """Archive records the person may browse: files received by the agency archive."""
    return visible_work_files(user).filter(state=WorkFileState.ARCHIVED)


def expired_files(user, today: date | None = None) -> list[WorkFile]:
    """Files of the agency whose retention has ended and that no open proposal holds: candidates for a
    disposition. Permanent files are never candidates."""
    today = today or timezone.localdate()
    if not manages_records(user, user.agency_id):
        return []
    in_proposal = DispositionItem.objects.filter(
        work_file=OuterRef("pk"), disposition__state__in=[DispositionState.PROPOSED, DispositionState.DECIDED]
    )
    candidates = (
        WorkFile.objects.filter(agency_id=user.agency_id, state__in=[WorkFileState.CLOSED, WorkFileState.ARCHIVED],
                                retention_years__isnull=False, end_date__isnull=False)
        .exclude(Exists(in_proposal))
        .select_related("unit")
        .order_by("end_date", "file_notation")
    )
    return [work_file for work_file in candidates if work_file.retention_ends and work_file.retention_ends < today]


def visible_transfers(user) -> QuerySet[Transfer]:
    if not user.is_authenticated or not user.agency_id:
        return Transfer.objects.none()
    transfers = Transfer.objects.filter(agency_id=user.agency_id)
    if sees_whole_agency(user, user.agency_id):
        return transfers
    return transfers.filter(Q(submitted_by_id=user.pk) | Q(unit_id=user.unit_id) if user.unit_id
                            else Q(submitted_by_id=user.pk))


def visible_dispositions(user) -> QuerySet[Disposition]:
    if not user.is_authenticated or not sees_whole_agency(user, user.agency_id):
        return Disposition.objects.none()
    return Disposition.objects.filter(agency_id=user.agency_id)


def hold_backs_to_decide(user) -> QuerySet[HoldBack]:
    if not leads_agency(user, user.agency_id):
        return HoldBack.objects.none()
    return HoldBack.objects.filter(state=DecisionState.REQUESTED, work_file__agency_id=user.agency_id)


@dataclass(frozen=True)
class RecordsWork:
    """What waits for this person in the records cycle (shown on My work): a handful of COUNT queries, each
    only for the people whose role it concerns."""

    transfers_to_receive: int = 0
    hold_backs_to_decide: int = 0
    dispositions_to_decide: int = 0
    dispositions_to_execute: int = 0
    files_due: int = 0
    fixity_failed: int = 0

    @property
    def total(self) -> int:
        return (self.transfers_to_receive + self.hold_backs_to_decide + self.dispositions_to_decide
                + self.dispositions_to_execute + self.files_due + self.fixity_failed)


def records_work(user, today: date | None = None) -> RecordsWork:
    if not user.is_authenticated or not user.is_active or not user.agency_id:
        return RecordsWork()
    today = today or timezone.localdate()
    counts: dict[str, int] = {}
    agency_id = user.agency_id
    if manages_records(user, agency_id):
        counts["transfers_to_receive"] = Transfer.objects.filter(agency_id=agency_id,
                                                                 state=TransferState.SUBMITTED).count()
        counts["dispositions_to_execute"] = Disposition.objects.filter(agency_id=agency_id,
                                                                       state=DispositionState.DECIDED).count()
        counts["fixity_failed"] = WorkFile.objects.filter(agency_id=agency_id, fixity="failed").count()
    if leads_agency(user, agency_id):
        counts["hold_backs_to_decide"] = hold_backs_to_decide(user).count()
        counts["dispositions_to_decide"] = Disposition.objects.filter(agency_id=agency_id,
                                                                      state=DispositionState.PROPOSED).count()
    counts["files_due"] = (WorkFile.objects.filter(_kept_by(user), _due_soon(today), agency_id=agency_id)
                           .exclude(_waiting_in_a_transfer()).count())
    return RecordsWork(**counts)
