"""Two people acting on the same step at once: exactly one wins, the others get a clear error and change
nothing (PostgreSQL, real threads and connections)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts import roles
from accounts.models import Delegation, User
from audit.models import AuditEvent
from audit.services import verify_all
from tests.concurrency import run_at_once
from workflows import events, services
from workflows.models import Assignment, AssignmentState, CaseState, IncomingCase
from workflows.services import TargetInput, TransitionError

from .helpers import in_days, incoming, office

THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_direction_exactly_one_wins(require_postgres, reference_data):
    o = office()
    # The leader and several delegates all try to direct the same document, each with what they saw.
    delegates = [User.objects.get(pk=o.deputy.pk)]
    for _ in range(THREADS - 2):
        delegate = User.objects.create(username=f"delegate-{_}", agency=o.agency)
        Delegation.objects.create(agency=o.agency, delegator=o.leader, delegate=delegate, authority_prefix="KT.",
                                  valid_from=in_days(0))
        delegates.append(delegate)
    Delegation.objects.create(agency=o.agency, delegator=o.leader, delegate=o.deputy, authority_prefix="KT.",
                              valid_from=in_days(0))
    case = services.present(o.clerk, services.open_case(o.clerk, incoming(o)), o.leader)
    seen_version = case.version
    actors = [o.leader.pk] + [d.pk for d in delegates]

    def job(actor_pk: int, index: int):
        def run():
            actor = User.objects.get(pk=actor_pk)
            target_unit = o.unit if index % 2 else o.other_unit
            return services.direct(
                actor, IncomingCase.objects.get(pk=case.pk), instruction=f"Chỉ đạo {index}",
                targets=[TargetInput(role="lead", unit_id=target_unit.pk, deadline=in_days(3))],
                expected_version=seen_version,
            ).directed_by_id
        return run

    results, errors = run_at_once([job(pk, i) for i, pk in enumerate(actors)])
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, TransitionError) for e in errors), errors
    case.refresh_from_db()
    assert (case.state, case.version, case.directed_by_id) == (CaseState.DIRECTED, seen_version + 1, results[0])
    assert Assignment.objects.filter(case=case).count() == 1
    assert AuditEvent.objects.filter(verb=events.CASE_DIRECTED).count() == 1
    assert verify_all() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_assignment_and_completion(require_postgres, reference_data):
    o = office()
    second_leader = User.objects.get(pk=o.colleague.pk)
    second_leader.groups.add(*User.objects.get(pk=o.unit_leader.pk).groups.all())
    case = services.present(o.clerk, services.open_case(o.clerk, incoming(o)), o.leader)
    services.direct(o.leader, case, instruction="x",
                    targets=[TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(5))])
    lead = Assignment.objects.get(case=case)
    staff = [User.objects.create(username=f"staff-{i}", agency=o.agency, unit=o.unit) for i in range(THREADS)]

    def assign(leader_pk: int, staff_pk: int):
        def run():
            return services.assign_within_unit(
                User.objects.get(pk=leader_pk), Assignment.objects.get(pk=lead.pk), User.objects.get(pk=staff_pk),
                deadline=in_days(3), expected_version=1,
            ).assignee_id
        return run

    leaders = [o.unit_leader.pk, second_leader.pk]
    results, errors = run_at_once([assign(leaders[i % 2], s.pk) for i, s in enumerate(staff)])
    assert len(results) == 1 and len(errors) == THREADS - 1
    assert all(isinstance(e, TransitionError) for e in errors), errors
    lead.refresh_from_db()
    assert (lead.state, lead.assignee_id, lead.version) == (AssignmentState.HANDLING, results[0], 2)
    assert AuditEvent.objects.filter(verb=events.CASE_ASSIGNED).count() == 1

    handler_pk = results[0]

    def complete(index: int):
        def run():
            return services.complete_assignment(
                User.objects.get(pk=handler_pk), Assignment.objects.get(pk=lead.pk), outcome=f"Kết quả {index}",
                expected_version=2,
            ).outcome
        return run

    results, errors = run_at_once([complete(i) for i in range(THREADS)])
    assert len(results) == 1 and all(isinstance(e, TransitionError) for e in errors), errors
    case.refresh_from_db()
    assert case.state == CaseState.COMPLETED
    assert AuditEvent.objects.filter(verb=events.CASE_COMPLETED).count() == 1
    assert AuditEvent.objects.filter(verb=events.ASSIGNMENT_COMPLETED).count() == 1
    assert verify_all() == []
    # A person outside the unit is still refused, whatever the timing.
    outsider = User.objects.create(username="outsider-x", agency=o.agency)
    with pytest.raises(PermissionDenied):
        services.record_progress(outsider, lead, note="x")
    assert roles.UNIT_LEADER in set(second_leader.groups.values_list("name", flat=True))
