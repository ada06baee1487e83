"""Read queries of outgoing drafts: who may see which draft, and what waits for a person."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation
from audit.models import AuditEvent
from audit.templatetags.audit_tags import verb_label
from documents.models import Confidentiality

from .drafting import Draft, DraftState, StepAction

TO_REVIEW = "review"
TO_APPROVE = "approve"
TO_CHECK = "format_check"
TO_SIGN = "sign"
TO_ISSUE = "issue"
RETURNED = "returned"
KINDS = (TO_SIGN, TO_APPROVE, TO_REVIEW, TO_CHECK, TO_ISSUE, RETURNED)


def _roles(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def _role_scope(user, user_roles: set[str]) -> Q:
    """Drafts whose current step has no named holder and whose role the user holds in scope."""
    scoped = Q(current_holder__isnull=True, current_step__role__in=user_roles - {roles.UNIT_LEADER})
    if roles.UNIT_LEADER in user_roles and user.unit_id:
        scoped |= Q(current_holder__isnull=True, current_step__role=roles.UNIT_LEADER,
                    drafting_unit_id=user.unit_id)
    return scoped


def drafts_for(user) -> QuerySet[Draft]:
    """Drafts of the user's agency the user takes part in: drafter, holder (or delegate of the holder),
    proposed signer, anyone who acted on it; leaders of the drafting unit, agency leaders and clerks see
    the agency's non-secret drafts."""
    if not user.is_authenticated or not user.is_active or user.agency_id is None:
        return Draft.objects.none()
    user_roles = _roles(user)
    acted = AuditEvent.objects.filter(
        target_type="workflows.draft", target_id=_pk_text(), actor_id=user.pk
    )
    delegators = Delegation.objects.delegator_ids(user, timezone.localdate())
    mine = (
        Q(drafter_id=user.pk) | Q(current_holder_id=user.pk) | Q(proposed_signer_id=user.pk)
        | Q(current_holder_id__in=delegators) | Q(Exists(acted))
        | (Q(state__in=(DraftState.IN_REVIEW, DraftState.READY_TO_SIGN)) & _role_scope(user, user_roles))
    )
    if user_roles & {roles.AGENCY_LEADER, roles.CLERK}:
        mine |= Q(confidentiality=Confidentiality.NORMAL)
    elif roles.UNIT_LEADER in user_roles and user.unit_id:
        mine |= Q(confidentiality=Confidentiality.NORMAL, drafting_unit_id=user.unit_id)
    return (
        Draft.objects.filter(agency_id=user.agency_id).filter(mine)
        .select_related("document_type", "drafter", "current_step", "current_holder", "drafting_unit")
    )


def audit_target_filter(user) -> Q:
    """For the audit trail (audit.selectors, registered in WorkflowsConfig.ready): the events of a secret
    draft (its subject, its signing) only for someone who may see the draft (drafts_for), like
    documents.selectors.audit_target_filter for documents; compared on the text of the id."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    kept_from_user = Draft.objects.exclude(confidentiality=Confidentiality.NORMAL).exclude(
        pk__in=drafts_for(user).values("pk")
    )
    return ~Q(target_id__in=kept_from_user.annotate(pk_text=Cast("pk", CharField())).values("pk_text"))


def _pk_text():  # noqa: N802 - an expression, named like one
    from django.db.models import CharField
    from django.db.models.functions import Cast

    return Cast(OuterRef("pk"), CharField())


@dataclass
class DraftingWork:
    counts: dict[str, int] = field(default_factory=dict)
    items: dict[str, list[Draft]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def my_drafting_work(user, *, limit: int = 50) -> DraftingWork:
    """What waits for this person: steps to review / approve / check / sign (their own, or their delegator's),
    signed drafts to issue (clerks), their drafts returned to them. Urgent first; a bounded number of queries."""
    work = DraftingWork()
    if not user.is_authenticated or user.agency_id is None:
        return work
    user_roles = _roles(user)
    delegators = Delegation.objects.delegator_ids(user, timezone.localdate())
    base = Draft.objects.filter(agency_id=user.agency_id).select_related(
        "document_type", "drafter", "current_step", "current_holder", "drafting_unit"
    ).order_by("-urgency", "updated_at", "id")
    holding = base.filter(state__in=(DraftState.IN_REVIEW, DraftState.READY_TO_SIGN)).filter(
        Q(current_holder_id=user.pk) | Q(current_holder_id__in=delegators) | _role_scope(user, user_roles)
    )
    by_kind = {
        TO_SIGN: Q(state=DraftState.READY_TO_SIGN),
        TO_APPROVE: Q(state=DraftState.IN_REVIEW, current_step__action=StepAction.APPROVE),
        TO_REVIEW: Q(state=DraftState.IN_REVIEW, current_step__action=StepAction.REVIEW),
        TO_CHECK: Q(state=DraftState.IN_REVIEW, current_step__action=StepAction.FORMAT_CHECK),
    }
    # The steps a person holds are read in one query and sorted into kinds here; a kind is counted by the
    # database only when more than a page of it came back.
    window = (limit + 1) * len(by_kind)
    held = list(holding[:window])
    for kind in by_kind:
        work.items[kind] = []
    for draft in held:
        kind = _step_kind(draft)
        if kind is not None and len(work.items[kind]) <= limit:
            work.items[kind].append(draft)
    if len(held) == window:  # one kind may have filled the window: the others are read on their own
        for kind, condition in by_kind.items():
            if len(work.items[kind]) <= limit:
                work.items[kind] = list(holding.filter(condition)[: limit + 1])
    queries = {
        RETURNED: base.filter(drafter_id=user.pk, state=DraftState.DRAFTING).exclude(last_comment=""),
    }
    if roles.CLERK in user_roles:
        queries[TO_ISSUE] = base.filter(state=DraftState.SIGNED)
    for kind, queryset in queries.items():
        work.items[kind] = list(queryset[: limit + 1])
    for kind in KINDS:
        if kind not in work.items:
            continue
        rows = work.items[kind]
        if len(rows) > limit:
            counted = holding.filter(by_kind[kind]) if kind in by_kind else queries[kind]
            work.counts[kind] = counted.count()
        else:
            work.counts[kind] = len(rows)
        work.items[kind] = rows[:limit]
    return work


def _step_kind(draft: Draft) -> str | None:
    if draft.state == DraftState.READY_TO_SIGN:
        return TO_SIGN
    action = draft.current_step.action if draft.current_step_id else None
    return {StepAction.APPROVE: TO_APPROVE, StepAction.REVIEW: TO_REVIEW, StepAction.FORMAT_CHECK: TO_CHECK}.get(action)


def draft_history(draft: Draft) -> list[AuditEvent]:
    """The draft's timeline from its audit events, each with a readable `label`."""
    from documents.selectors import actor_label

    events = list(AuditEvent.objects.filter(target_type="workflows.draft", target_id=str(draft.pk))
                  .select_related("actor").order_by("seq", "id"))
    for event in events:
        event.label = verb_label(event.verb)  # all apps' verbs (signing events are on the draft too)
        event.who = actor_label(event)  # name and position, never the username
    return events
