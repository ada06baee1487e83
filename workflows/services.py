"""Every transition of the incoming-document workflow (Decree 30 Art. 20–24).

Each transition: lock the case row (SELECT ... FOR UPDATE), check the actor may take the step (role,
step-holder or a delegation valid today, whose authority prefix is recorded), check the state and the
version the caller saw, change the rows, grant access, write the audit event on the document, all in
one transaction, with the notices told in it (eoffice.notices). A refused transition changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from accounts import roles
from accounts.models import Delegation, Unit
from audit.services import record_event
from documents import services as documents_services
from documents.holds import hold_reason
from documents.models import Confidentiality, Direction, Document, RegisterKind
from documents.selectors import visible_documents
from documents.storage import store_blob
from documents.uploads import UploadRejected, check_upload
from eoffice import notices

from . import events, notice_kinds
from .announcements import incoming_case_changed
from .models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    AssignmentResultFile,
    AssignmentState,
    CaseState,
    ExtensionRequest,
    ExtensionState,
    HandlingSettings,
    IncomingCase,
    TargetRole,
)

VIEW_DOCUMENT = "documents.view_document"
PROPOSAL_MAX_LENGTH = 2000


class TransitionError(ValidationError):
    """The step cannot be taken in the case's current state (nothing was changed)."""


class StaleTransition(TransitionError):
    """Someone else acted on this step since the caller loaded it (nothing was changed)."""


@dataclass
class TargetInput:
    """One line of the direction: a unit or a person of the agency, its role and deadline."""

    role: str
    unit_id: int | None = None
    user_id: int | None = None
    deadline: date | None = None


# --- helpers ------------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _has_role(user, role: str) -> bool:
    return user.groups.filter(name=role).exists()


def acting_prefix(actor, holder, agency_id: int, on: date | None = None) -> str | None:
    """How `actor` may act for step-holder `holder`: "" as themselves, the delegation's authority prefix
    (KT., TUQ., TL.) when holding a delegation from `holder` valid on that day, None otherwise."""
    if holder is None or not actor.is_authenticated or not actor.is_active:
        return None
    if actor.pk == holder.pk:
        return ""
    delegation = (
        Delegation.objects.active_on(on or _today())
        .filter(agency_id=agency_id, delegator_id=holder.pk, delegate_id=actor.pk)
        .order_by("-valid_from")
        .first()
    )
    return delegation.authority_prefix if delegation is not None else None


def _require_same_agency(actor, agency_id: int) -> None:
    if not actor.is_authenticated or not actor.is_active or actor.agency_id != agency_id:
        raise PermissionDenied(_("This document belongs to another agency."))


def _require_clerk(actor, case: IncomingCase) -> None:
    _require_same_agency(actor, case.agency_id)
    if not actor.has_perm("documents.register_incoming"):
        raise PermissionDenied(_("Only the agency's clerks may do this."))


def _lock_case(case_id: int) -> IncomingCase:
    """Lock the case for a step; a document its sender recalled (documents.holds) takes no more steps."""
    case = IncomingCase.objects.select_for_update().select_related("document").get(pk=case_id)
    reason = hold_reason(case.document_id)
    if reason:
        raise TransitionError(reason, code="held")
    return case


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleTransition(
            _("Someone else has acted on this document in the meantime. Reload the page and try again."),
            code="stale",
        )


def _check_state(state: str, allowed: tuple[str, ...]) -> None:
    if state not in allowed:
        raise TransitionError(
            _('This step is not possible now: the document is in the state "%(state)s".')
            % {"state": CaseState(state).label if state in CaseState.values else state},
            code="invalid_state",
        )


def _bump(case: IncomingCase, *fields: str) -> None:
    case.version += 1
    case.save(update_fields=["version", *fields])


def _event(actor, verb: str, case: IncomingCase, data: dict) -> None:
    record_event(
        actor=actor, verb=verb, target=case.document, agency_id=case.agency_id,
        data={"case_id": case.pk, "state": case.state, "version": case.version, **data},
    )
    incoming_case_changed.send(sender=IncomingCase, case=case, actor=actor, verb=verb)


def _date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _tell(kind: str, case: IncomingCase, key: str, user_ids, *, actor=None, **params) -> None:
    """Tell people about the case, inside the transaction of the change (notifications fans it out after
    commit; the key makes a repeated telling harmless). Nobody is told of their own act."""
    document = case.document
    # A confidential document's subject never goes into a notice (nor so into an e-mail): its number does.
    subject = document.subject[:200] if document.confidentiality == Confidentiality.NORMAL else "***"
    notices.tell(
        kind, key=f"wf:{key}", user_ids=user_ids, url=reverse("workflows:case", args=[case.pk]),
        params={"number": document.number_notation, "subject": subject, **params},
        document_id=case.document_id, exclude=[actor.pk] if actor is not None else (),
    )


# --- unit groups (grants at unit level) ---------------------------------------------------------


def unit_group_name(unit_id: int) -> str:
    return f"unit:{unit_id}"


def sync_unit_group(unit: Unit, *, prune: bool = True) -> Group:
    """The unit's Django group, with the unit's active people as members. Document grants to a unit go to
    this group, so one row serves the whole unit and newcomers inherit it. `prune=False` only adds (what
    transitions use: a transition never takes anything away); accounts should call it with prune when a
    person changes unit or leaves."""
    group, _created = Group.objects.get_or_create(name=unit_group_name(unit.pk))
    people = set(get_user_model().objects.filter(unit_id=unit.pk, is_active=True).values_list("pk", flat=True))
    through = get_user_model().groups.through
    members = set(through.objects.filter(group_id=group.pk).values_list("user_id", flat=True))
    through.objects.bulk_create([through(user_id=pk, group_id=group.pk) for pk in people - members])
    if prune and members - people:
        through.objects.filter(group_id=group.pk, user_id__in=members - people).delete()
    return group


def _grant_unit(unit: Unit, document: Document) -> Group:
    group = sync_unit_group(unit, prune=False)
    assign_perm(VIEW_DOCUMENT, group, document)
    return group


def _grant_person(user, document: Document) -> None:
    assign_perm(VIEW_DOCUMENT, user, document)


# --- clerk steps --------------------------------------------------------------------------------


def open_case(actor, document: Document) -> IncomingCase:
    """Enter a registered incoming document into handling (state "registered"); its agency's clerks."""
    _require_same_agency(actor, document.agency_id)
    if not actor.has_perm("documents.register_incoming"):
        raise PermissionDenied(_("Only the agency's clerks may do this."))
    if document.direction != Direction.INCOMING:
        raise ValidationError(_("Only incoming documents are handled here."))
    if document.register.kind == RegisterKind.IMPORTED:
        raise ValidationError(_("An imported record is kept as history; it is not handled again."))
    if not visible_documents(actor).filter(pk=document.pk).exists():
        raise PermissionDenied(_("You cannot see this document."))
    reason = hold_reason(document.pk)
    if reason:
        raise TransitionError(reason, code="held")
    with transaction.atomic():
        # Lock the document row: two clerks opening the same document at once → one case.
        Document.objects.select_for_update().filter(pk=document.pk).values_list("pk", flat=True).first()
        if IncomingCase.objects.filter(document=document).exists():
            raise TransitionError(_("This document is already being handled."), code="exists")
        case = IncomingCase.objects.create(document=document, agency_id=document.agency_id, opened_by=actor)
        _event(actor, events.CASE_OPENED, case, {})
    return case


def present(
    actor, case: IncomingCase, leader, *, note: str = "", expected_version: int | None = None
) -> IncomingCase:
    """The clerk presents the document to an agency leader, who becomes the step-holder of the direction,
    with the clerk's proposal (ý kiến đề xuất) if any: the leader reads it on the slip and in the notice."""
    _require_clerk(actor, case)
    if leader.agency_id != case.agency_id or not leader.is_active or not _has_role(leader, roles.AGENCY_LEADER):
        raise ValidationError({"leader": _("Choose an agency leader of this agency.")})
    note = (note or "").strip()
    if len(note) > PROPOSAL_MAX_LENGTH:
        raise ValidationError({"note": _("The proposal is too long (at most %(max)d characters).")
                               % {"max": PROPOSAL_MAX_LENGTH}})
    with transaction.atomic():
        case = _lock_case(case.pk)
        _check_state(case.state, (CaseState.REGISTERED,))
        _check_version(case.version, expected_version)
        case.state = CaseState.PRESENTED
        case.presented_to = leader
        case.presented_at = timezone.now()
        case.proposal_note = note
        _bump(case, "state", "presented_to", "presented_at", "proposal_note")
        secret = case.document.confidentiality != Confidentiality.NORMAL
        if secret:
            # Secret documents are outside agency scope: the leader is granted personally.
            _grant_person(leader, case.document)
        _event(actor, events.CASE_PRESENTED, case, {"leader_id": leader.pk, "leader": str(leader), "note": note})
        # Like the subject, a secret document's proposal stays out of the notice (and so out of e-mail).
        proposal = {"has_proposal": "1", "proposal": note[:300]} if note and not secret else {}
        _tell(notice_kinds.PRESENTED, case, f"presented:{case.pk}:{case.version}", [leader.pk], actor=actor,
              **proposal)
    return case



def enter_and_present(actor, document: Document, leader, *, note: str = "") -> IncomingCase:
    """Enter a registered incoming document for handling and present it at once, all or nothing: the
    clerk's one screen. A refused presentation leaves the document waiting to be entered, as before."""
    with transaction.atomic():
        case = open_case(actor, document)
        return present(actor, case, leader, note=note, expected_version=case.version)


def register_and_present(
    actor, data, uploads=(), *, leader, note: str = "", confirm_duplicate: bool = False
) -> IncomingCase:
    """Register an incoming document (documents.services.register_incoming: arrival number, files), enter it
    for handling and present it to `leader`, in one transaction: if any step is refused nothing is
    registered and no arrival number is used (the numbering stays gapless). A possible duplicate raises
    documents.services.DuplicateDocument as on the registration page."""
    _require_presentable_leader(actor, leader)
    with transaction.atomic():
        document = documents_services.register_incoming(actor, data, uploads, confirm_duplicate=confirm_duplicate)
        return enter_and_present(actor, document, leader, note=note)


def _require_presentable_leader(actor, leader) -> None:
    # Checked once more by present(); asked first so that a wrong choice costs no file storage or lock.
    if leader is None or leader.agency_id != actor.agency_id or not leader.is_active \
            or not _has_role(leader, roles.AGENCY_LEADER):
        raise ValidationError({"leader": _("Choose an agency leader of this agency.")})


@dataclass
class BulkOpenResult:
    """What `open_cases` did: the cases opened and the documents refused, each with the reason."""

    opened: list[IncomingCase]
    refused: list[tuple[Document, str]]


def open_cases(actor, documents) -> BulkOpenResult:
    """Enter several waiting documents for handling at once (the clerk ticks them on My work). Each goes
    through open_case, so each is checked by the same rule, in its own transaction: one refusal (already
    entered, held by its sender, not incoming) does not keep the others waiting."""
    opened: list[IncomingCase] = []
    refused: list[tuple[Document, str]] = []
    for document in documents:
        try:
            opened.append(open_case(actor, document))
        except PermissionDenied as exc:
            refused.append((document, str(exc) or _("You may not enter this document for handling.")))
        except ValidationError as exc:
            refused.append((document, " ".join(exc.messages)))
    return BulkOpenResult(opened=opened, refused=refused)


def return_case(actor, case: IncomingCase, reason: str, *, expected_version: int | None = None) -> IncomingCase:
    """The clerk returns the document (wrongly addressed, invalid) with a reason; only before direction."""
    _require_clerk(actor, case)
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("Give the reason for returning the document.")})
    with transaction.atomic():
        case = _lock_case(case.pk)
        _check_state(case.state, (CaseState.REGISTERED, CaseState.PRESENTED))
        _check_version(case.version, expected_version)
        case.state = CaseState.RETURNED
        case.return_reason = reason.strip()
        case.returned_at = timezone.now()
        _bump(case, "state", "return_reason", "returned_at")
        _event(actor, events.CASE_RETURNED, case, {"reason": case.return_reason})
        _tell(notice_kinds.RETURNED, case, f"returned:{case.pk}", [case.presented_to_id], actor=actor,
              reason=case.return_reason[:300])
    return case


# --- the agency leader's direction --------------------------------------------------------------


def _validate_targets(case: IncomingCase, targets: list[TargetInput]) -> list[tuple[TargetInput, object]]:
    User = get_user_model()
    today = _today()
    errors: list[str] = []
    if sum(1 for t in targets if t.role == TargetRole.LEAD) != 1:
        errors.append(_("Choose exactly one unit or person in charge."))
    unit_ids = [t.unit_id for t in targets if t.unit_id]
    user_ids = [t.user_id for t in targets if t.user_id]
    units = {u.pk: u for u in Unit.objects.filter(pk__in=unit_ids, agency_id=case.agency_id, is_active=True)}
    people = {u.pk: u for u in User.objects.filter(pk__in=user_ids, agency_id=case.agency_id, is_active=True)}
    seen: set[tuple[str, int]] = set()
    resolved = []
    for target in targets:
        if target.role not in TargetRole.values:
            errors.append(_("Unknown role of a target."))
            continue
        if (target.unit_id is None) == (target.user_id is None):
            errors.append(_("Each target is either a unit or a person."))
            continue
        key = ("unit", target.unit_id) if target.unit_id else ("user", target.user_id)
        if key in seen:
            errors.append(_("A unit or person appears twice in the direction."))
        seen.add(key)
        obj = units.get(target.unit_id) if target.unit_id else people.get(target.user_id)
        if obj is None:
            errors.append(_("Targets must be active units or people of this agency."))
            continue
        if target.role != TargetRole.INFORM and target.deadline is None:
            errors.append(_("Give a deadline to the units and people who handle the document."))
        if target.deadline is not None and target.deadline < today:
            errors.append(_("A deadline cannot be in the past."))
        resolved.append((target, obj))
    if errors:
        raise ValidationError({"targets": sorted(set(errors))})
    return resolved


def direct(
    actor, case: IncomingCase, *, instruction: str, targets: list[TargetInput], expected_version: int | None = None
) -> IncomingCase:
    """The agency leader the document was presented to (or their delegate on this day) writes the direction:
    instruction, lead, co-ordinating and for-information targets with deadlines. Targets are granted view
    access: a unit through its group, a person personally."""
    _require_same_agency(actor, case.agency_id)
    if not instruction or not instruction.strip():
        raise ValidationError({"instruction": _("Write the instruction.")})
    with transaction.atomic():
        case = _lock_case(case.pk)
        holder = case.presented_to
        prefix = acting_prefix(actor, holder, case.agency_id) if holder else None
        if prefix is None:
            raise PermissionDenied(_("Only the leader this document was presented to, or their delegate, may direct it."))
        if prefix == "" and not _has_role(actor, roles.AGENCY_LEADER):
            raise PermissionDenied(_("Only an agency leader may direct a document."))
        _check_state(case.state, (CaseState.PRESENTED,))
        _check_version(case.version, expected_version)
        resolved = _validate_targets(case, targets)
        document = case.document
        now = timezone.now()
        assignments, notify_ids, lines = [], [], []
        unit_leader_ids = _unit_leaders([obj.pk for t, obj in resolved if t.unit_id])
        for target, obj in resolved:
            is_unit = target.unit_id is not None
            if target.role == TargetRole.INFORM:
                state = AssignmentState.FOR_INFORMATION
            else:
                state = AssignmentState.WAITING if is_unit else AssignmentState.HANDLING
            assignment = Assignment(
                case=case, role=target.role, unit=obj if is_unit else None, user=None if is_unit else obj,
                deadline=target.deadline, state=state, due_date=target.deadline, urgency=case.document.urgency,
                # The authority behind the deadline decides extensions: the leader, even when a delegate wrote it.
                deadline_set_by=holder if target.deadline else None,
            )
            if state == AssignmentState.HANDLING:
                assignment.assignee = obj
                assignment.assigned_by = actor
                assignment.assigned_at = now
                assignment.handler_deadline = target.deadline
            assignments.append(assignment)
            if is_unit:
                group = _grant_unit(obj, document)
                notify_ids.extend(unit_leader_ids.get(obj.pk, []))
                lines.append({"role": target.role, "unit_id": obj.pk, "group": group.name, "deadline": target.deadline})
            else:
                _grant_person(obj, document)
                notify_ids.append(obj.pk)
                lines.append({"role": target.role, "user_id": obj.pk, "deadline": target.deadline})
        Assignment.objects.bulk_create(assignments)
        case.state = CaseState.DIRECTED
        case.instruction = instruction.strip()
        case.directed_by = actor
        case.directed_on_behalf_of = holder if prefix else None
        case.direction_authority_prefix = prefix
        case.directed_at = now
        _bump(case, "state", "instruction", "directed_by", "directed_on_behalf_of", "direction_authority_prefix",
              "directed_at")
        _event(actor, events.CASE_DIRECTED, case, {
            "instruction": case.instruction, "targets": lines, "authority_prefix": prefix,
            "on_behalf_of": holder.pk if prefix else None,
        })
        _tell(notice_kinds.DIRECTED, case, f"directed:{case.pk}", notify_ids, actor=actor)
    return case


def _unit_leaders(unit_ids: list[int]) -> dict[int, list[int]]:
    leaders: dict[int, list[int]] = {}
    rows = get_user_model().objects.filter(
        unit_id__in=unit_ids, is_active=True, groups__name=roles.UNIT_LEADER
    ).values_list("unit_id", "pk")
    for unit_id, pk in rows:
        leaders.setdefault(unit_id, []).append(pk)
    return leaders


# --- unit leader and handler --------------------------------------------------------------------


def _lock_assignment(assignment: Assignment) -> tuple[IncomingCase, Assignment]:
    """Lock the case row (it serialises every step of the case), then read the assignment fresh."""
    case = _lock_case(assignment.case_id)
    return case, Assignment.objects.select_related("unit", "assignee").get(pk=assignment.pk)


def unit_leader_authority(actor, unit_id: int, agency_id: int) -> tuple[str, object] | None:
    """("", actor) for a leader of the unit; (prefix, the unit leader) for the holder of a delegation from
    one valid today; None otherwise."""
    if actor.unit_id == unit_id and _has_role(actor, roles.UNIT_LEADER):
        return "", actor
    delegation = (
        Delegation.objects.active_on(_today())
        .filter(agency_id=agency_id, delegate_id=actor.pk, delegator__unit_id=unit_id,
                delegator__groups__name=roles.UNIT_LEADER, delegator__is_active=True)
        .select_related("delegator")
        .order_by("-valid_from")
        .first()
    )
    return (delegation.authority_prefix, delegation.delegator) if delegation is not None else None


def _start_case(case: IncomingCase) -> None:
    if case.state == CaseState.DIRECTED:
        case.state = CaseState.IN_PROGRESS


def _save_assignment(assignment: Assignment, *fields: str) -> None:
    assignment.version += 1
    assignment.save(update_fields=["version", *fields])


def assign_within_unit(
    actor, assignment: Assignment, assignee, *, deadline: date, note: str = "", expected_version: int | None = None
) -> Assignment:
    """The unit's leader (or their delegate) assigns a person of the unit, with a deadline no later than
    the unit's. The unit's group already grants the document; the person is made a member if missing."""
    with transaction.atomic():
        case, assignment = _lock_assignment(assignment)
        _require_same_agency(actor, case.agency_id)
        if assignment.unit_id is None:
            raise TransitionError(_("This target is a person: there is nothing to assign."), code="invalid_state")
        authority = unit_leader_authority(actor, assignment.unit_id, case.agency_id)
        if authority is None:
            raise PermissionDenied(_("Only the leader of this unit, or their delegate, may assign it."))
        _check_state(case.state, (CaseState.DIRECTED, CaseState.IN_PROGRESS))
        if assignment.state != AssignmentState.WAITING:
            raise TransitionError(_("This has already been assigned."), code="invalid_state")
        _check_version(assignment.version, expected_version)
        errors = {}
        if assignee.unit_id != assignment.unit_id or not assignee.is_active:
            errors["assignee"] = _("Choose a person of the unit.")
        if deadline < _today():
            errors["deadline"] = _("A deadline cannot be in the past.")
        elif assignment.deadline and deadline > assignment.deadline:
            errors["deadline"] = _("The deadline cannot be later than the unit's deadline (%(date)s).") % {
                "date": assignment.deadline.strftime("%d/%m/%Y")
            }
        if errors:
            raise ValidationError(errors)
        sync_unit_group(assignment.unit, prune=False)
        assignment.state = AssignmentState.HANDLING
        assignment.assignee = assignee
        assignment.assigned_by = actor
        assignment.assigned_at = timezone.now()
        assignment.assignment_note = note.strip()
        assignment.handler_deadline = deadline
        assignment.due_date = deadline
        assignment.deadline_set_by = authority[1]
        assignment.overdue_since = None
        _save_assignment(assignment, "state", "assignee", "assigned_by", "assigned_at", "assignment_note",
                         "handler_deadline", "due_date", "deadline_set_by", "overdue_since")
        _start_case(case)
        _bump(case, "state")
        _event(actor, events.CASE_ASSIGNED, case, {
            "assignment_id": assignment.pk, "unit_id": assignment.unit_id, "assignee_id": assignee.pk,
            "assignee": str(assignee), "deadline": deadline, "note": assignment.assignment_note, "authority_prefix": authority[0],
            "on_behalf_of": authority[1].pk if authority[0] else None,
        })
        _tell(notice_kinds.ASSIGNED, case, f"assigned:{assignment.pk}:{assignment.version}", [assignee.pk],
              actor=actor, deadline=_date(deadline))
    return assignment


def _require_handler(actor, case: IncomingCase, assignment: Assignment) -> None:
    _require_same_agency(actor, case.agency_id)
    if assignment.assignee_id != actor.pk:
        raise PermissionDenied(_("Only the person handling this may do this."))
    if assignment.state != AssignmentState.HANDLING:
        raise TransitionError(_("This is not being handled any more."), code="invalid_state")


def record_progress(
    actor, assignment: Assignment, *, note: str, proposal: str = "", expected_version: int | None = None
) -> Assignment:
    """The handler records progress and, optionally, a proposal (section 3 of the processing slip)."""
    if not note.strip() and not proposal.strip():
        raise ValidationError({"note": _("Write the progress or a proposal.")})
    with transaction.atomic():
        case, assignment = _lock_assignment(assignment)
        _require_handler(actor, case, assignment)
        _check_version(assignment.version, expected_version)
        if note.strip():
            assignment.progress_note = note.strip()
        if proposal.strip():
            assignment.proposal = proposal.strip()
        assignment.progress_at = timezone.now()
        _save_assignment(assignment, "progress_note", "proposal", "progress_at")
        _start_case(case)
        _bump(case, "state")
        _event(actor, events.CASE_PROGRESS, case, {
            "assignment_id": assignment.pk, "note": note.strip(), "proposal": proposal.strip(),
        })
    return assignment


def request_extension(
    actor, assignment: Assignment, *, new_deadline: date, reason: str, expected_version: int | None = None
) -> ExtensionRequest:
    """The handler asks for a later deadline; whoever set the current deadline decides."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the extension.")})
    with transaction.atomic():
        case, assignment = _lock_assignment(assignment)
        _require_handler(actor, case, assignment)
        _check_version(assignment.version, expected_version)
        if assignment.due_date is None or new_deadline <= assignment.due_date:
            raise ValidationError({"new_deadline": _("The new deadline must be later than the current one.")})
        if assignment.extension_requests.filter(state=ExtensionState.PENDING).exists():
            raise TransitionError(_("An extension request is already waiting for a decision."), code="invalid_state")
        request = ExtensionRequest.objects.create(
            assignment=assignment, requested_by=actor, approver_id=assignment.deadline_set_by_id,
            current_deadline=assignment.due_date, requested_deadline=new_deadline, reason=reason.strip(),
        )
        _save_assignment(assignment)
        _start_case(case)
        _bump(case, "state")
        _event(actor, events.EXTENSION_REQUESTED, case, {
            "assignment_id": assignment.pk, "request_id": request.pk, "current_deadline": request.current_deadline,
            "requested_deadline": new_deadline, "reason": request.reason, "approver_id": request.approver_id,
        })
        _tell(notice_kinds.EXTENSION_REQUESTED, case, f"extension:{request.pk}", [request.approver_id], actor=actor,
              requester=str(actor), deadline=_date(new_deadline))
    return request


def decide_extension(actor, request: ExtensionRequest, *, approve: bool, note: str = "") -> ExtensionRequest:
    """Whoever set the deadline (or their delegate today) approves or refuses the extension."""
    with transaction.atomic():
        assignment = Assignment.objects.get(pk=request.assignment_id)
        case = _lock_case(assignment.case_id)
        _require_same_agency(actor, case.agency_id)
        request = ExtensionRequest.objects.select_related("approver").get(pk=request.pk)
        prefix = acting_prefix(actor, request.approver, case.agency_id)
        if prefix is None:
            raise PermissionDenied(_("Only the person who set this deadline, or their delegate, may decide."))
        if request.state != ExtensionState.PENDING:
            raise TransitionError(_("This request has already been decided."), code="invalid_state")
        assignment = Assignment.objects.get(pk=request.assignment_id)
        if approve:
            if assignment.state != AssignmentState.HANDLING:
                raise TransitionError(_("This is not being handled any more."), code="invalid_state")
            set_by_unit = assignment.unit_id is not None and assignment.handler_deadline is not None
            if set_by_unit and assignment.deadline and request.requested_deadline > assignment.deadline:
                raise ValidationError({"requested_deadline": _(
                    "This is later than the unit's deadline: the leader who directed the document must extend that first."
                )})
            assignment.due_date = request.requested_deadline
            assignment.handler_deadline = request.requested_deadline
            if assignment.unit_id is None:
                assignment.deadline = request.requested_deadline
            if assignment.overdue_since and assignment.due_date >= _today():
                assignment.overdue_since = None
            _save_assignment(assignment, "due_date", "handler_deadline", "deadline", "overdue_since")
        request.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_note = note.strip()
        request.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        _bump(case)
        _event(actor, events.EXTENSION_APPROVED if approve else events.EXTENSION_REFUSED, case, {
            "assignment_id": assignment.pk, "request_id": request.pk, "requested_deadline": request.requested_deadline,
            "note": request.decision_note, "authority_prefix": prefix,
        })
        _tell(notice_kinds.EXTENSION_APPROVED if approve else notice_kinds.EXTENSION_REFUSED, case,
              f"extension_decided:{request.pk}", [request.requested_by_id], actor=actor,
              deadline=_date(request.requested_deadline))
    return request


def acceptance_required(case: IncomingCase, assignment: Assignment) -> bool:
    """Whether the handler's result goes to the unit head first: work of a unit, in an agency whose settings
    ask for it (HandlingSettings). A person directed personally has no unit head between them and the leader."""
    return assignment.unit_id is not None and HandlingSettings.objects.filter(
        agency_id=case.agency_id, unit_head_accepts_results=True).exists()


def complete_assignment(
    actor, assignment: Assignment, *, outcome: str, reply_document_id: int | None = None,
    expected_version: int | None = None,
) -> Assignment:
    """The handler completes with an outcome (optionally the reply document). Completing the lead
    completes the case; co-ordinating work still open is closed with it. Where the agency asks unit heads to
    accept results (acceptance_required), this submits the result instead: the unit head accepts it
    (accept_result, which completes) or returns it (return_result)."""
    if not outcome.strip():
        raise ValidationError({"outcome": _("Describe the outcome.")})
    with transaction.atomic():
        case, assignment = _lock_assignment(assignment)
        _require_handler(actor, case, assignment)
        _check_version(assignment.version, expected_version)
        reply = None
        if reply_document_id is not None:
            from .selectors import reply_documents_for

            reply = reply_documents_for(actor, case.agency_id).filter(pk=reply_document_id).first()
            if reply is None:
                raise ValidationError({"reply_document": _(
                    "The reply must be an outgoing document of this agency that you can see.")})
        assignment.outcome = outcome.strip()
        assignment.reply_document = reply
        if acceptance_required(case, assignment):
            assignment.state = AssignmentState.SUBMITTED
            assignment.submitted_at = timezone.now()
            _save_assignment(assignment, "state", "outcome", "reply_document", "submitted_at")
            _start_case(case)
            _bump(case, "state")
            _event(actor, events.RESULT_SUBMITTED, case, {
                "assignment_id": assignment.pk, "role": assignment.role, "outcome": assignment.outcome,
                "reply_document_id": reply.pk if reply else None,
            })
            _tell(notice_kinds.RESULT_SUBMITTED, case, f"result_submitted:{assignment.pk}:{assignment.version}",
                  _unit_leaders([assignment.unit_id]).get(assignment.unit_id, []), actor=actor,
                  handler=actor.name_and_position)
            return assignment
        _finish(actor, case, assignment)
    return assignment


def _acted(assignment_ids: list[int]) -> set[int]:
    """Those of the (open) assignments that recorded something: progress, a proposal, a submitted result or
    a result file."""
    return set(
        Assignment.objects.filter(pk__in=assignment_ids)
        .filter(~Q(progress_note="") | ~Q(proposal="") | Q(submitted_at__isnull=False)
                | Q(result_files__isnull=False))
        .values_list("pk", flat=True)
    )


def _finish(actor, case: IncomingCase, assignment: Assignment) -> None:
    """Complete the (locked) assignment, whose outcome is set; completing the lead completes the case and
    closes the co-ordinating work still open: "closed" when it recorded something, "not acted" otherwise (a
    co-ordinator that never acted is not counted as done on time)."""
    now = timezone.now()
    reply = assignment.reply_document
    assignment.state = AssignmentState.COMPLETED
    assignment.completed_at = now
    _save_assignment(assignment, "state", "outcome", "reply_document", "completed_at")
    # Approvers of pending extensions have nothing left to decide.
    assignment.extension_requests.filter(state=ExtensionState.PENDING).update(
        state=ExtensionState.REFUSED, decided_at=now, decision_note="closed: handling completed"
    )
    _start_case(case)
    _event(actor, events.ASSIGNMENT_COMPLETED, case, {
        "assignment_id": assignment.pk, "role": assignment.role, "outcome": assignment.outcome,
        "reply_document_id": reply.pk if reply else None,
    })
    if assignment.role != TargetRole.LEAD:
        _bump(case, "state")
        return
    still_open = list(
        case.assignments.filter(state__in=OPEN_ASSIGNMENT_STATES).exclude(pk=assignment.pk)
        .values_list("pk", flat=True)
    )
    acted = _acted(still_open)
    closed = [pk for pk in still_open if pk in acted]
    not_acted = [pk for pk in still_open if pk not in acted]
    Assignment.objects.filter(pk__in=closed).update(state=AssignmentState.CLOSED, completed_at=now)
    Assignment.objects.filter(pk__in=not_acted).update(state=AssignmentState.NOT_ACTED, completed_at=now)
    ExtensionRequest.objects.filter(assignment_id__in=still_open, state=ExtensionState.PENDING).update(
        state=ExtensionState.REFUSED, decided_at=now, decision_note="closed: case completed"
    )
    case.state = CaseState.COMPLETED
    case.completed_at = now
    _bump(case, "state", "completed_at")
    _event(actor, events.CASE_COMPLETED, case, {
        "outcome": assignment.outcome, "reply_document_id": reply.pk if reply else None,
        "closed_assignments": closed, "not_acted_assignments": not_acted,
    })
    _tell(notice_kinds.COMPLETED, case, f"completed:{case.pk}", [case.directed_by_id, case.opened_by_id],
          actor=actor)


def _require_result_reviewer(actor, case: IncomingCase, assignment: Assignment) -> tuple[str, object]:
    _require_same_agency(actor, case.agency_id)
    authority = unit_leader_authority(actor, assignment.unit_id, case.agency_id) if assignment.unit_id else None
    if authority is None:
        raise PermissionDenied(_("Only the leader of this unit, or their delegate, may decide on the result."))
    if assignment.state != AssignmentState.SUBMITTED:
        raise TransitionError(_("No result waits for a decision here."), code="invalid_state")
    return authority


def accept_result(actor, assignment: Assignment, *, note: str = "", expected_version: int | None = None) -> Assignment:
    """The unit head (or their delegate) accepts the handler's submitted result: the work is completed as if
    the handler had completed it (the lead's completes the case)."""
    with transaction.atomic():
        case, assignment = _lock_assignment(assignment)
        authority = _require_result_reviewer(actor, case, assignment)
        _check_version(assignment.version, expected_version)
        assignment.result_comment = note.strip()
        _save_assignment(assignment, "result_comment")
        _event(actor, events.RESULT_ACCEPTED, case, {
            "assignment_id": assignment.pk, "handler_id": assignment.assignee_id, "note": assignment.result_comment,
            "authority_prefix": authority[0],
        })
        _tell(notice_kinds.RESULT_ACCEPTED, case, f"result_accepted:{assignment.pk}:{assignment.version}",
              [assignment.assignee_id], actor=actor)
        _finish(actor, case, assignment)
    return assignment


def return_result(actor, assignment: Assignment, *, comment: str, expected_version: int | None = None) -> Assignment:
    """The unit head (or their delegate) returns the submitted result with a comment: the handler works on."""
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the result is returned.")})
    with transaction.atomic():
        case, assignment = _lock_assignment(assignment)
        authority = _require_result_reviewer(actor, case, assignment)
        _check_version(assignment.version, expected_version)
        assignment.state = AssignmentState.HANDLING
        assignment.result_comment = comment.strip()
        _save_assignment(assignment, "state", "result_comment")
        _bump(case)
        _event(actor, events.RESULT_RETURNED, case, {
            "assignment_id": assignment.pk, "handler_id": assignment.assignee_id, "comment": assignment.result_comment,
            "authority_prefix": authority[0],
        })
        _tell(notice_kinds.RESULT_RETURNED, case, f"result_returned:{assignment.pk}:{assignment.version}",
              [assignment.assignee_id], actor=actor, comment=assignment.result_comment[:300])
    return assignment


def add_result_files(actor, assignment: Assignment, uploads) -> list[AssignmentResultFile]:
    """The handler attaches files of the result (a report, a reply draft...) while handling. Each file is
    checked by its content (documents.uploads: type never taken from the client, bombs refused) before
    anything is stored; each is audited on the document."""
    uploads = [u for u in uploads if u]
    if not uploads:
        raise ValidationError({"files": _("Choose a file.")})
    checked = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except UploadRejected as exc:
            raise ValidationError({"files": str(exc)}) from exc
    with transaction.atomic():
        case, assignment = _lock_assignment(assignment)
        _require_handler(actor, case, assignment)
        added = []
        for item in checked:
            blob = store_blob(item)
            result = AssignmentResultFile.objects.create(assignment=assignment, blob=blob, file_name=item.name[:255],
                                                         uploaded_by=actor)
            _event(actor, events.RESULT_FILE_ADDED, case, {
                "assignment_id": assignment.pk, "file_id": result.pk, "name": result.file_name,
                "sha256": blob.sha256, "size": blob.size,
            })
            added.append(result)
        _start_case(case)
        _bump(case, "state")
    return added


def record_result_file_opened(actor, result: AssignmentResultFile) -> None:
    """A result file of a confidential document handed out is audited (who read what), as its document's
    own files are; the caller found it through visible_documents."""
    document = result.assignment.case.document
    if document.confidentiality == Confidentiality.NORMAL:
        return
    with transaction.atomic():
        record_event(actor=actor, verb=events.RESULT_FILE_OPENED, target=document, agency_id=document.agency_id,
                     data={"case_id": result.assignment.case_id, "assignment_id": result.assignment_id,
                           "file_id": result.pk, "name": result.file_name})


# --- the agency's handling settings ---------------------------------------------------------------


def set_handling_settings(actor, agency, *, unit_head_accepts_results: bool) -> HandlingSettings:
    """An administrator of the agency (accounts.selectors.may_administer, with the permission to change
    agencies) turns the unit heads' acceptance of results on or off; audited on the agency."""
    from accounts.selectors import may_administer

    if not (actor.has_perm("accounts.change_agency") and may_administer(actor, agency)):
        raise PermissionDenied(_("You do not administer this agency."))
    with transaction.atomic():
        settings_row, _created = HandlingSettings.objects.select_for_update().get_or_create(agency_id=agency.pk)
        before = settings_row.unit_head_accepts_results
        settings_row.unit_head_accepts_results = unit_head_accepts_results
        settings_row.save(update_fields=["unit_head_accepts_results"])
        record_event(actor=actor, verb=events.HANDLING_SETTINGS_CHANGED, target=agency, agency_id=agency.pk,
                     data={"unit_head_accepts_results": unit_head_accepts_results, "before": before})
    return settings_row


# --- deadlines ----------------------------------------------------------------------------------


def mark_overdue(today: date | None = None) -> int:
    """Mark open assignments past their due date and tell, once per assignment per overdue day, the handler
    (or the unit's leaders while it waits for assignment); tell them too, once per due date, the day before
    it falls. Idempotent: running it again on the same day changes nothing. Returns the number of
    assignments newly marked overdue."""
    today = today or _today()
    tomorrow = today + timedelta(days=1)
    open_work = list(
        Assignment.objects.filter(state__in=OPEN_ASSIGNMENT_STATES)
        .filter(Q(due_date__lt=today) | Q(due_date=tomorrow))
        .select_related("case__document")
        .order_by("pk")
    )
    if not open_work:
        return 0
    leaders = _unit_leaders([a.unit_id for a in open_work if a.state == AssignmentState.WAITING])
    newly = 0
    with transaction.atomic():
        for assignment in open_work:
            recipients = (
                [assignment.assignee_id] if assignment.state == AssignmentState.HANDLING
                else leaders.get(assignment.unit_id, [])
            )
            if assignment.due_date == tomorrow:
                _tell(notice_kinds.DUE_TOMORROW, assignment.case, f"due_tomorrow:{assignment.pk}:{tomorrow}",
                      recipients, deadline=_date(assignment.due_date))
                continue
            if assignment.overdue_since is None:
                # Conditional update: concurrent runs mark (and audit) each assignment once.
                marked = Assignment.objects.filter(pk=assignment.pk, overdue_since__isnull=True).update(
                    overdue_since=today
                )
                if marked:
                    newly += 1
                    record_event(
                        actor=None, verb=events.ASSIGNMENT_OVERDUE, target=assignment.case.document,
                        agency_id=assignment.case.agency_id,
                        data={"case_id": assignment.case_id, "assignment_id": assignment.pk,
                              "due_date": assignment.due_date, "since": today},
                    )
            _tell(notice_kinds.OVERDUE, assignment.case, f"overdue:{assignment.pk}:{today}", recipients,
                  deadline=_date(assignment.due_date))
    return newly


# --- the agency's usual instruction phrases -------------------------------------------------------------


PHRASE_MAX_LENGTH = 300
PHRASES_MAX = 30


def set_instruction_phrases(actor, agency, texts: list[str]) -> list[str]:
    """The agency's administrator sets its usual instruction phrases (one per line on the settings page), in
    order. Phrases left out are kept inactive rather than deleted, so an emptied list stays empty instead of
    falling back to the defaults."""
    from accounts.selectors import may_administer

    from .models import InstructionPhrase

    # Where (the agency is in the actor's scope) and what (the agency's settings are the actor's to change).
    if not may_administer(actor, agency) or not actor.has_perm("accounts.change_agency"):
        raise PermissionDenied(_("You do not administer this agency."))
    cleaned: list[str] = []
    for text in texts:
        text = " ".join(text.split())
        if text and text not in cleaned:
            cleaned.append(text)
    if any(len(text) > PHRASE_MAX_LENGTH for text in cleaned):
        raise ValidationError({"phrases": _("A phrase is too long (at most %(max)d characters).")
                               % {"max": PHRASE_MAX_LENGTH}})
    if len(cleaned) > PHRASES_MAX:
        raise ValidationError({"phrases": _("At most %(max)d phrases.") % {"max": PHRASES_MAX}})
    with transaction.atomic():
        existing = {row.text: row for row in InstructionPhrase.objects.select_for_update().filter(agency=agency)}
        for order, text in enumerate(cleaned):
            row = existing.pop(text, None)
            if row is None:
                InstructionPhrase.objects.create(agency=agency, text=text, order=order)
            elif (row.order, row.is_active) != (order, True):
                row.order, row.is_active = order, True
                row.save(update_fields=["order", "is_active"])
        InstructionPhrase.objects.filter(pk__in=[row.pk for row in existing.values()]).update(is_active=False)
        record_event(actor=actor, verb=events.PHRASES_CHANGED, target=agency, agency_id=agency.pk,
                     data={"phrases": cleaned})
    return cleaned
