"""What waits for a person, counted, and the folders of their documents.

`work_counts` answers the menu's badges with COUNT queries only (one per kind of object, a few more for the
person's roles and delegations): it is asked on every page and every minute by each open tab, so it never
reads rows. Its conditions are those of the work lists (workflows.selectors.my_incoming_work,
workflows.drafting_selectors.my_drafting_work, exchange.selectors.inbox); tests/desk check that the numbers
equal the lengths of those lists.

The folders ("waiting for me", "in progress", "done", for me or for my unit) are built on the
permission-filtered selectors (incoming_cases_for, drafts_for): a folder never shows what the person could
not open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation
from audit.models import AuditEvent
from documents.models import Direction, Document, RegisterKind
from documents.selectors import visible_documents
from exchange.selectors import inbox
from workflows.drafting_selectors import drafts_for
from workflows.models import (
    Assignment,
    AssignmentState,
    CaseState,
    Draft,
    DraftState,
    ExtensionRequest,
    ExtensionState,
    IncomingCase,
    StepAction,
)
from workflows.selectors import incoming_cases_for

# The badges, in the menu's order. to_handle includes assigning within a unit; to_review includes content
# approval and the format check (steps of the same review chain).
COUNT_KEYS = ("to_register", "to_present", "to_direct", "to_handle", "to_accept", "to_decide", "to_review", "to_sign",
              "to_issue", "to_revise")

INCOMING, OUTGOING, INTERNAL = "incoming", "outgoing", "internal"
BOXES = (INCOMING, OUTGOING, INTERNAL)
WAITING, IN_PROGRESS, DONE = "waiting", "in-progress", "done"
FOLDERS = (WAITING, IN_PROGRESS, DONE)
ME, UNIT = "me", "unit"

_HOLDING_STATES = (DraftState.IN_REVIEW, DraftState.READY_TO_SIGN)
_CLOSED_CASE_STATES = (CaseState.COMPLETED, CaseState.RETURNED)


@dataclass
class Person:
    """What the queries need to know of a person, read once: roles, whom they stand in for today, the units
    they lead (their own and their delegators')."""

    user: object
    roles: set[str]
    delegators: list[int]
    led_units: list[int]
    is_clerk: bool

    @property
    def acting_for(self) -> list[int]:
        return [self.user.pk, *self.delegators]


def _person(user, today: date | None = None) -> Person:
    from django.contrib.auth import get_user_model

    today = today or timezone.localdate()
    role_names = set(user.groups.values_list("name", flat=True))
    delegators = list(Delegation.objects.delegator_ids(user, today))
    led_units: list[int] = []
    if delegators:
        led_units = list(get_user_model().objects.filter(
            pk__in=delegators, groups__name=roles.UNIT_LEADER, unit_id__isnull=False).values_list("unit_id", flat=True))
    if roles.UNIT_LEADER in role_names and user.unit_id:
        led_units.append(user.unit_id)
    return Person(user=user, roles=role_names, delegators=delegators, led_units=led_units,
                  is_clerk=user.has_perm("documents.register_incoming"))


def _active(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.agency_id)


# --- the counts on the menu -------------------------------------------------------------------------------


def work_counts(user, *, today: date | None = None) -> dict[str, int]:
    """The numbers waiting for `user` now, per badge, and their `total`. Zeros for someone without an agency."""
    counts = dict.fromkeys(COUNT_KEYS, 0)
    if not _active(user):
        return counts | {"total": 0}
    today = today or timezone.localdate()
    me = _person(user, today)
    visible = visible_documents(user).values("id")

    if me.is_clerk:
        # Documents registered but not yet entered for handling (as workflows.selectors.TO_REGISTER)...
        counts["to_register"] = (
            Document.objects.filter(id__in=visible, agency_id=user.agency_id, direction=Direction.INCOMING)
            .filter(~Exists(IncomingCase.objects.filter(document_id=OuterRef("pk"))))
            .exclude(register__kind=RegisterKind.IMPORTED).count()
        )
    # ... and documents received electronically, waiting to be registered.
    counts["to_register"] += inbox(user).count()

    case_counts = {}
    if me.is_clerk:
        case_counts["to_present"] = Count("pk", filter=Q(agency_id=user.agency_id, state=CaseState.REGISTERED))
    if roles.AGENCY_LEADER in me.roles or me.delegators:
        case_counts["to_direct"] = Count("pk", filter=Q(state=CaseState.PRESENTED, presented_to_id__in=me.acting_for))
    if case_counts:
        counts.update(IncomingCase.objects.filter(document__in=visible).aggregate(**case_counts))

    assignment_counts = {"handle": Count("pk", filter=Q(assignee_id=user.pk, state=AssignmentState.HANDLING))}
    mine = Q(assignee_id=user.pk)
    if me.led_units:
        assignment_counts["assign"] = Count("pk", filter=Q(unit_id__in=me.led_units, state=AssignmentState.WAITING))
        assignment_counts["accept"] = Count("pk", filter=Q(unit_id__in=me.led_units,
                                                            state=AssignmentState.SUBMITTED))
        mine |= Q(unit_id__in=me.led_units)
    row = Assignment.objects.filter(mine).aggregate(**assignment_counts)
    counts["to_handle"] = row["handle"] + row.get("assign", 0)
    counts["to_accept"] = row.get("accept", 0)

    if me.roles & {roles.AGENCY_LEADER, roles.UNIT_LEADER} or me.delegators:
        counts["to_decide"] = ExtensionRequest.objects.filter(
            state=ExtensionState.PENDING, approver_id__in=me.acting_for).count()

    holding = Q(state__in=_HOLDING_STATES) & _draft_step_is_mine(me)
    draft_counts = {
        "to_sign": Count("pk", filter=holding & Q(state=DraftState.READY_TO_SIGN)),
        "to_review": Count("pk", filter=holding & Q(
            state=DraftState.IN_REVIEW,
            current_step__action__in=(StepAction.REVIEW, StepAction.APPROVE, StepAction.FORMAT_CHECK))),
        "to_revise": Count("pk", filter=Q(drafter_id=user.pk, state=DraftState.DRAFTING) & ~Q(last_comment="")),
    }
    if roles.CLERK in me.roles:
        draft_counts["to_issue"] = Count("pk", filter=Q(state=DraftState.SIGNED))
    counts.update(Draft.objects.filter(agency_id=user.agency_id).aggregate(**draft_counts))
    counts["total"] = sum(counts[key] for key in COUNT_KEYS)
    return counts


def _draft_step_is_mine(me: Person) -> Q:
    """The draft's current step is held by the person (or one they stand in for), or is a role step of theirs
    with no named holder (a unit leader's only for their unit's drafts): workflows.drafting_selectors."""
    user = me.user
    scoped = Q(current_holder__isnull=True, current_step__role__in=me.roles - {roles.UNIT_LEADER})
    if roles.UNIT_LEADER in me.roles and user.unit_id:
        scoped |= Q(current_holder__isnull=True, current_step__role=roles.UNIT_LEADER, drafting_unit_id=user.unit_id)
    return Q(current_holder_id__in=me.acting_for) | scoped


# --- the folders ------------------------------------------------------------------------------------------


def unit_scope(user) -> tuple[str, int] | None:
    """Whose folders a leader may also open: an agency leader the agency's, a unit leader the unit's."""
    if not _active(user):
        return None
    role_names = set(user.groups.values_list("name", flat=True))
    if roles.AGENCY_LEADER in role_names:
        return "agency", user.agency_id
    if roles.UNIT_LEADER in role_names and user.unit_id:
        return "unit", user.unit_id
    return None


def _incoming_conditions(me: Person, scope: str, over: tuple[str, int] | None) -> dict[str, Q]:
    user = me.user
    closed = Q(state__in=_CLOSED_CASE_STATES)
    if scope == ME:
        steps = Assignment.objects.filter(case_id=OuterRef("pk"))
        waiting = (
            Q(state=CaseState.PRESENTED, presented_to_id__in=me.acting_for)
            | Q(Exists(steps.filter(assignee_id=user.pk, state=AssignmentState.HANDLING)))
            | Q(Exists(ExtensionRequest.objects.filter(assignment__case_id=OuterRef("pk"), state=ExtensionState.PENDING,
                                                       approver_id__in=me.acting_for)))
        )
        if me.led_units:
            waiting |= Q(Exists(steps.filter(unit_id__in=me.led_units, state=AssignmentState.WAITING)))
        if me.is_clerk:
            waiting |= Q(agency_id=user.agency_id, state=CaseState.REGISTERED)
        took_part = (
            Q(opened_by_id=user.pk) | Q(presented_to_id=user.pk) | Q(directed_by_id=user.pk)
            | Q(Exists(steps.filter(Q(assignee_id=user.pk) | Q(user_id=user.pk) | Q(assigned_by_id=user.pk))))
        )
    else:
        kind, pk = over
        if kind == "agency":
            took_part = Q(agency_id=pk)
            waiting = Q(agency_id=pk, state__in=(CaseState.REGISTERED, CaseState.PRESENTED)) | Q(Exists(
                Assignment.objects.filter(case_id=OuterRef("pk"), state=AssignmentState.WAITING)))
        else:
            steps = Assignment.objects.filter(case_id=OuterRef("pk"))
            took_part = Q(Exists(steps.filter(Q(unit_id=pk) | Q(user__unit_id=pk) | Q(assignee__unit_id=pk))))
            waiting = Q(Exists(steps.filter(unit_id=pk, state=AssignmentState.WAITING)))
        waiting &= ~closed
    return {
        WAITING: waiting,
        IN_PROGRESS: took_part & ~closed & ~waiting,
        DONE: took_part & closed,
    }


def _draft_conditions(me: Person, scope: str, over: tuple[str, int] | None) -> dict[str, Q]:
    user = me.user
    issued = Q(state=DraftState.ISSUED)
    if scope == ME:
        waiting = (Q(state__in=_HOLDING_STATES) & _draft_step_is_mine(me)) | Q(drafter_id=user.pk,
                                                                               state=DraftState.DRAFTING)
        if roles.CLERK in me.roles:
            waiting |= Q(state=DraftState.SIGNED)
        acted = AuditEvent.objects.filter(target_type="workflows.draft", actor_id=user.pk,
                                          target_id=Cast(OuterRef("pk"), CharField()))
        took_part = (Q(drafter_id=user.pk) | Q(proposed_signer_id=user.pk) | Q(signed_by_id=user.pk)
                     | Q(Exists(acted)))
    else:
        kind, pk = over
        took_part = Q(agency_id=pk) if kind == "agency" else Q(drafting_unit_id=pk)
        # Waiting in the unit (or agency): still with its drafter, or at a step held by one of its people.
        waiting = Q(state=DraftState.DRAFTING) | Q(state__in=_HOLDING_STATES, current_holder__isnull=True)
        if kind == "agency":
            waiting |= Q(state__in=_HOLDING_STATES, current_holder__agency_id=pk)
        else:
            waiting |= Q(state__in=_HOLDING_STATES, current_holder__unit_id=pk)
        waiting &= took_part
    return {
        WAITING: waiting,
        IN_PROGRESS: took_part & ~issued & ~waiting,
        DONE: took_part & issued,
    }


def _base(user, box: str) -> QuerySet:
    if box == INCOMING:
        return incoming_cases_for(user)
    return drafts_for(user).filter(internal=(box == INTERNAL)).select_related("issued_document")


def _conditions(me: Person, box: str, scope: str, over) -> dict[str, Q]:
    return _incoming_conditions(me, scope, over) if box == INCOMING else _draft_conditions(me, scope, over)


def folder(user, box: str, name: str, scope: str = ME) -> QuerySet:
    """The items of one folder, newest first. Raises LookupError for an unknown box/folder, PermissionError
    for a unit folder of someone who leads no unit."""
    if box not in BOXES or name not in FOLDERS or scope not in (ME, UNIT):
        raise LookupError(box, name, scope)
    over = unit_scope(user) if scope == UNIT else None
    if scope == UNIT and over is None:
        raise PermissionError(scope)
    if not _active(user):
        return _base(user, box).none()
    me = _person(user)
    queryset = _base(user, box).filter(_conditions(me, box, scope, over)[name])
    if box == INCOMING:
        return queryset.order_by("-document__urgency", "-opened_at", "-id")
    return queryset.order_by("-urgency", "-updated_at", "-id")


def folder_counts(user) -> dict[str, dict[str, dict[str, int]]]:
    """{scope: {box: {folder: n}}} for the person's folders (and their unit's, for leaders): one COUNT query
    per kind of object and scope."""
    result: dict[str, dict[str, dict[str, int]]] = {}
    if not _active(user):
        return result
    me = _person(user)
    over = unit_scope(user)
    for scope in (ME, UNIT) if over else (ME,):
        result[scope] = {}
        cases = _incoming_conditions(me, scope, over)
        row = incoming_cases_for(user).order_by().aggregate(
            **{f"f{FOLDERS.index(name)}": Count("pk", filter=condition) for name, condition in cases.items()})
        result[scope][INCOMING] = {name: row[f"f{FOLDERS.index(name)}"] for name in FOLDERS}
        drafts = _draft_conditions(me, scope, over)
        aggregates = {}
        for box in (OUTGOING, INTERNAL):
            internal = Q(internal=(box == INTERNAL))
            for name, condition in drafts.items():
                aggregates[f"{box}_{FOLDERS.index(name)}"] = Count("pk", filter=internal & condition)
        row = drafts_for(user).order_by().aggregate(**aggregates)
        for box in (OUTGOING, INTERNAL):
            result[scope][box] = {name: row[f"{box}_{FOLDERS.index(name)}"] for name in FOLDERS}
    return result
