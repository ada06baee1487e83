"""Read queries of the workflow. `my_incoming_work` answers "what waits for me now" in a bounded number
of queries: one list query per kind the person can have, and a count query only for a kind with more than a
page of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf
from django.utils import timezone
from django.utils.translation import gettext

from accounts import roles
from accounts.models import Delegation
from documents.models import Direction, Document, RegisterKind
from documents.selectors import visible_documents

from .models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    CaseState,
    ExtensionRequest,
    ExtensionState,
    IncomingCase,
    TargetRole,
)

DUE_SOON_DAYS = 2

TO_REGISTER = "to_register"
TO_PRESENT = "to_present"
TO_DIRECT = "to_direct"
TO_ASSIGN = "to_assign"
TO_HANDLE = "to_handle"
TO_ACCEPT_RESULT = "to_accept_result"
TO_DECIDE_EXTENSION = "to_decide_extension"
KINDS = (TO_REGISTER, TO_PRESENT, TO_DIRECT, TO_ASSIGN, TO_HANDLE, TO_ACCEPT_RESULT, TO_DECIDE_EXTENSION)


@dataclass
class WorkItem:
    kind: str
    document: Document
    case: IncomingCase | None = None
    assignment: Assignment | None = None
    extension: ExtensionRequest | None = None
    due_date: date | None = None
    overdue: bool = False
    due_soon: bool = False

    @property
    def urgent(self) -> bool:
        return self.document.urgency >= 1


@dataclass
class KindCount:
    total: int = 0
    overdue: int = 0
    due_soon: int = 0


@dataclass
class IncomingWork:
    items: dict[str, list[WorkItem]] = field(default_factory=dict)
    counts: dict[str, KindCount] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(c.total for c in self.counts.values())


def _delegators(user, today: date) -> list[int]:
    """Ids of the people `user` may act for today, read once: a literal id list lets PostgreSQL use the
    indexes, where `x = me OR x IN (subquery)` made it scan every case (bench/README.md, workflows)."""
    return list(Delegation.objects.delegator_ids(user, today))


def _counts(queryset: QuerySet, due_field: str | None, today: date) -> KindCount:
    if due_field is None:
        return KindCount(total=queryset.count())
    soon = today + timedelta(days=DUE_SOON_DAYS)
    row = queryset.order_by().aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(**{f"{due_field}__lt": today})),
        due_soon=Count("pk", filter=Q(**{f"{due_field}__gte": today, f"{due_field}__lte": soon})),
    )
    return KindCount(**row)


def _flags(due: date | None, today: date) -> tuple[bool, bool]:
    if due is None:
        return False, False
    return due < today, today <= due <= today + timedelta(days=DUE_SOON_DAYS)


def reply_documents_for(user, agency_id: int) -> QuerySet[Document]:
    """Documents that may stand as the reply to an incoming document of `agency_id`: that agency's outgoing
    documents the person can see, newest first."""
    return (visible_documents(user).filter(agency_id=agency_id, direction=Direction.OUTGOING)
            .order_by("-created_at", "-id"))


def incoming_cases_for(user) -> QuerySet[IncomingCase]:
    """Cases whose document `user` may see (the single visibility rule), urgent first."""
    return (
        IncomingCase.objects.filter(document__in=visible_documents(user).values("id"))
        .select_related("document", "document__document_type", "presented_to", "directed_by")
        .order_by("-document__urgency", "-opened_at", "-id")
    )


def my_incoming_work(user, *, limit: int = 50, today: date | None = None) -> IncomingWork:
    """What waits for `user` now, per kind: to register (enter into handling) and present for clerks, to
    direct for agency leaders and their delegates, to assign for unit leaders and their delegates, to
    handle, and extensions to decide. Urgent documents first, then the nearest due date. Each item has
    overdue / due-within-2-days flags; counts are per kind."""
    work = IncomingWork()
    if not user.is_authenticated or not user.is_active or not user.agency_id:
        return work
    today = today or timezone.localdate()
    visible = visible_documents(user).values("id")
    delegators = _delegators(user, today)
    is_clerk = user.has_perm("documents.register_incoming")
    role_names = set(user.groups.values_list("name", flat=True))

    queries: dict[str, tuple[QuerySet, str | None]] = {}
    if is_clerk:
        queries[TO_REGISTER] = (
            # NOT EXISTS walks the agency's incoming documents in order (doc_agency_dir_order_idx) and probes
            # each one's case by its unique key; a LEFT JOIN ... IS NULL hashed every case instead.
            Document.objects.filter(id__in=visible, agency_id=user.agency_id, direction=Direction.INCOMING)
            .filter(~Exists(IncomingCase.objects.filter(document_id=OuterRef("pk"))))
            .exclude(register__kind=RegisterKind.IMPORTED)  # records brought in from another system: history
            .select_related("document_type").order_by("-urgency", "-created_at", "-id"),
            None,
        )
        queries[TO_PRESENT] = (
            IncomingCase.objects.filter(document__in=visible, agency_id=user.agency_id, state=CaseState.REGISTERED)
            .select_related("document", "document__document_type")
            .order_by("-document__urgency", "opened_at", "id"),
            None,
        )
    # Kinds a person cannot have are not asked for (each query costs a few ms of Django alone): only leaders
    # and the people they stand in for direct, assign or decide extensions.
    if roles.AGENCY_LEADER in role_names or delegators:
        queries[TO_DIRECT] = (
            IncomingCase.objects.filter(document__in=visible, state=CaseState.PRESENTED)
            .filter(presented_to_id__in=[user.pk, *delegators])
            .select_related("document", "document__document_type", "presented_to")
            .order_by("-document__urgency", "presented_at", "id"),
            None,
        )
    led_units = _led_units(user, delegators)
    if roles.UNIT_LEADER in role_names and user.unit_id:
        led_units.append(user.unit_id)
    # No visibility filter here: directing to a unit grants that unit's group the document (services.direct).
    if led_units:
        queries[TO_ASSIGN] = (
            Assignment.objects.filter(unit_id__in=led_units, state=AssignmentState.WAITING)
            .select_related("case", "case__document", "case__document__document_type", "unit")
            .order_by("-urgency", F("due_date").asc(nulls_last=True), "id"),
            "due_date",
        )
        # Results handed in by the unit's handlers, waiting for the head's acceptance (HandlingSettings).
        queries[TO_ACCEPT_RESULT] = (
            Assignment.objects.filter(unit_id__in=led_units, state=AssignmentState.SUBMITTED)
            .select_related("case", "case__document", "case__document__document_type", "unit")
            .order_by("-urgency", F("due_date").asc(nulls_last=True), "id"),
            "due_date",
        )
    queries[TO_HANDLE] = (
        Assignment.objects.filter(assignee_id=user.pk, state=AssignmentState.HANDLING)
        .select_related("case", "case__document", "case__document__document_type", "unit")
        .order_by("-urgency", F("due_date").asc(nulls_last=True), "id"),
        "due_date",
    )
    if role_names & {roles.AGENCY_LEADER, roles.UNIT_LEADER} or delegators:
        queries[TO_DECIDE_EXTENSION] = (
            ExtensionRequest.objects.filter(state=ExtensionState.PENDING)
            .filter(approver_id__in=[user.pk, *delegators])
            .select_related("assignment", "assignment__case", "assignment__case__document",
                            "assignment__case__document__document_type", "requested_by")
            .order_by("-assignment__case__document__urgency", "current_deadline", "id"),
            "current_deadline",
        )

    for kind in KINDS:  # every kind is in the answer; those not asked for are empty
        work.items[kind], work.counts[kind] = [], KindCount()
    for kind, (queryset, due_field) in queries.items():
        rows = list(queryset[: limit + 1])
        items = [_item(kind, row, today) for row in rows[:limit]]
        work.items[kind] = items
        if len(rows) <= limit:  # the whole list is here: count it instead of asking the database again
            work.counts[kind] = KindCount(total=len(items), overdue=sum(i.overdue for i in items),
                                          due_soon=sum(i.due_soon for i in items))
        else:
            work.counts[kind] = _counts(queryset, due_field, today)
    return work


def _led_units(user, delegators: list[int]) -> list[int]:
    from django.contrib.auth import get_user_model

    if not delegators:
        return []
    return list(
        get_user_model().objects.filter(pk__in=delegators, groups__name=roles.UNIT_LEADER, unit_id__isnull=False)
        .values_list("unit_id", flat=True)
    )


def _item(kind: str, row, today: date) -> WorkItem:
    if isinstance(row, Document):
        return WorkItem(kind=kind, document=row)
    if isinstance(row, IncomingCase):
        return WorkItem(kind=kind, document=row.document, case=row)
    if isinstance(row, Assignment):
        overdue, soon = _flags(row.due_date, today)
        return WorkItem(kind=kind, document=row.case.document, case=row.case, assignment=row, due_date=row.due_date,
                        overdue=overdue, due_soon=soon)
    overdue, soon = _flags(row.current_deadline, today)
    return WorkItem(kind=kind, document=row.assignment.case.document, case=row.assignment.case,
                    assignment=row.assignment, extension=row, due_date=row.current_deadline, overdue=overdue,
                    due_soon=soon)


@dataclass
class OversightRow:
    """Open handling of one unit (agency view) or one person (unit view); `group` names the row for the list
    behind its figures (the unit's or the handler's id, "none" for the line without one)."""

    label: str
    waiting: int = 0
    handling: int = 0
    overdue: int = 0
    due_soon: int = 0
    group: str | None = None

    @property
    def open(self) -> int:
        return self.waiting + self.handling


@dataclass
class Oversight:
    """What a leader oversees: the open handling of the agency per unit, or of the unit per person."""

    scope: str  # "agency" or "unit"
    name: str
    rows: list[OversightRow] = field(default_factory=list)

    @property
    def total(self) -> OversightRow:
        total = OversightRow(label="")
        for row in self.rows:
            total.waiting += row.waiting
            total.handling += row.handling
            total.overdue += row.overdue
            total.due_soon += row.due_soon
        return total


def oversees(user) -> bool:
    """Whether `user` has an oversight view (agency leaders, and unit leaders of a unit)."""
    if not user.is_authenticated or not user.is_active or not user.agency_id:
        return False
    role_names = set(user.groups.values_list("name", flat=True))
    return roles.AGENCY_LEADER in role_names or (roles.UNIT_LEADER in role_names and user.unit_id is not None)


OVERSIGHT_FIGURES = ("waiting", "handling", "overdue", "due_soon")


def _figure_filters(today: date) -> dict[str, Q]:
    """What each figure of the oversight table counts; the table and the list behind a figure use these."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    return {
        "waiting": Q(state=AssignmentState.WAITING),
        # A result waiting for the unit head's acceptance is still being handled.
        "handling": Q(state__in=(AssignmentState.HANDLING, AssignmentState.SUBMITTED)),
        "overdue": Q(due_date__lt=today),
        "due_soon": Q(due_date__gte=today, due_date__lte=soon),
    }


def _oversight_scope(user) -> tuple[Oversight, QuerySet] | None:
    """The oversight a person has and the open work it counts, annotated with `group` (the unit, or the
    handler in a unit view) and `label`; None for people without one."""
    if not user.is_authenticated or not user.is_active or not user.agency_id:
        return None
    role_names = set(user.groups.values_list("name", flat=True))
    open_work = Assignment.objects.filter(state__in=OPEN_ASSIGNMENT_STATES).exclude(role=TargetRole.INFORM)
    if roles.AGENCY_LEADER in role_names:
        # Work directed to a person counts for that person's unit, as in the unit's own view.
        return Oversight(scope="agency", name=user.agency.name), open_work.filter(case__agency_id=user.agency_id).annotate(
            group=Coalesce("unit_id", "user__unit_id"), label=Coalesce("unit__name", "user__unit__name"))
    if roles.UNIT_LEADER in role_names and user.unit_id:
        # People by name and position, never by username.
        person = Concat(Coalesce(NullIf("assignee__full_name", Value("")), "assignee__username"),
                        Value(" ("), "assignee__position", Value(")"), output_field=CharField())
        label = Case(When(assignee__position="", then=Coalesce(NullIf("assignee__full_name", Value("")),
                                                                "assignee__username")),
                     default=person, output_field=CharField())
        return Oversight(scope="unit", name=user.unit.name), open_work.filter(
            Q(unit_id=user.unit_id) | Q(unit__isnull=True, user__unit_id=user.unit_id)).annotate(
            group=F("assignee_id"), label=label)
    return None


def oversight(user, *, today: date | None = None) -> Oversight | None:
    """For an agency leader, open lead and co-ordinating assignments of the agency grouped by unit; for a
    unit leader, those of the unit grouped by handler. One grouped query; None for other people."""
    scope = _oversight_scope(user)
    if scope is None:
        return None
    result, open_work = scope
    today = today or timezone.localdate()
    figures = _figure_filters(today)
    rows = open_work.values("group", "label").annotate(
        **{name: Count("pk", filter=figures[name]) for name in OVERSIGHT_FIGURES}
    ).order_by("-overdue", "label", "group")
    unassigned = gettext("Not yet assigned") if result.scope == "unit" else gettext("People named directly")
    result.rows = [
        OversightRow(label=row["label"] if row["group"] is not None else unassigned, waiting=row["waiting"],
                     handling=row["handling"], overdue=row["overdue"], due_soon=row["due_soon"],
                     group="none" if row["group"] is None else str(row["group"]))
        for row in rows
    ]
    return result


def oversight_targets(user, *, figure: str, group: str | None = None,
                      today: date | None = None) -> QuerySet[Assignment] | None:
    """The open work behind one figure of `user`'s oversight table (`group` one of its rows' `group`, None for
    the total line), from the same query and filters as the table; None for people without oversight."""
    scope = _oversight_scope(user)
    if scope is None or figure not in OVERSIGHT_FIGURES:
        return None
    _result, open_work = scope
    rows = open_work.filter(_figure_filters(today or timezone.localdate())[figure])
    if group == "none":
        rows = rows.filter(group__isnull=True)
    elif group is not None:
        rows = rows.filter(group=int(group))
    return rows.select_related("case", "case__document", "case__document__document_type", "unit", "user",
                               "assignee").order_by(F("due_date").asc(nulls_last=True), "id")


# --- presenting and directing: who and what the forms offer -----------------------------------------


def presenting_leaders(agency_id: int | None) -> QuerySet:
    """The agency's active leaders, the only people a document may be presented to (services.present)."""
    from django.contrib.auth import get_user_model

    if not agency_id:
        return get_user_model().objects.none()
    return (get_user_model().objects.filter(agency_id=agency_id, is_active=True, groups__name=roles.AGENCY_LEADER)
            .order_by("full_name", "username").distinct())


USUAL_LEADER_WINDOW = 50


def usual_leader(agency_id: int | None, leaders: list | None = None):
    """The leader to offer first when one choice is obvious: the only leader, or the one who received most of
    the agency's last presentations (more than half of them). None when the clerk must choose."""
    leaders = list(presenting_leaders(agency_id)) if leaders is None else list(leaders)
    if len(leaders) == 1:
        return leaders[0]
    if not leaders:
        return None
    recent = list(
        IncomingCase.objects.filter(agency_id=agency_id, presented_to__isnull=False)
        .order_by("-presented_at", "-id").values_list("presented_to_id", flat=True)[:USUAL_LEADER_WINDOW]
    )
    if not recent:
        return None
    by_id = {leader.pk: leader for leader in leaders}
    counts = {pk: recent.count(pk) for pk in set(recent) if pk in by_id}
    best = max(counts, key=counts.get, default=None)
    return by_id[best] if best is not None and counts[best] * 2 > len(recent) else None


# Offered until the agency's administrator edits the list (the settings page then stores the agency's own).
DEFAULT_INSTRUCTION_PHRASES = (
    "Giao ... chủ trì, tham mưu UBND tỉnh xử lý.",
    "Giao ... chủ trì, phối hợp với các đơn vị liên quan tham mưu xử lý.",
    "Đề nghị nghiên cứu, báo cáo.",
    "Đề nghị thực hiện theo quy định.",
    "Để biết.",
)


def instruction_phrases(agency_id: int | None) -> list[str]:
    """The agency's usual instruction phrases for the direction form, in their order."""
    from .models import InstructionPhrase

    if not agency_id:
        return []
    rows = list(InstructionPhrase.objects.filter(agency_id=agency_id).order_by("order", "id").values_list(
        "text", "is_active"))
    if not rows:
        return list(DEFAULT_INSTRUCTION_PHRASES)
    return [text for text, active in rows if active]
