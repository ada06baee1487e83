"""What waits for a person (My work), with flags and counts in constant queries; overdue marking."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Delegation
from audit.models import AuditEvent
from audit.services import verify_all
from documents.models import Urgency
from notifications.models import Notice
from workflows import events, services, tasks
from workflows.models import Assignment
from workflows.selectors import (
    TO_ASSIGN,
    TO_DECIDE_EXTENSION,
    TO_DIRECT,
    TO_HANDLE,
    TO_PRESENT,
    TO_REGISTER,
    my_incoming_work,
)
from workflows.services import TargetInput

from .helpers import directed_case, fresh, in_days, incoming, office, presented_case

pytestmark = pytest.mark.django_db


def kinds(work) -> dict[str, int]:
    return {kind: count.total for kind, count in work.counts.items() if count.total}


def test_each_person_sees_their_step():
    o = office()
    not_opened = incoming(o, number="1")
    to_present = services.open_case(o.clerk, incoming(o, number="2"))
    presented = presented_case(o, number="3")
    waiting = directed_case(o, number="4")
    handling = directed_case(o, number="5", targets=[TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(1))])

    clerk_work = my_incoming_work(fresh(o.clerk))
    assert kinds(clerk_work) == {TO_REGISTER: 1, TO_PRESENT: 1}
    assert clerk_work.items[TO_REGISTER][0].document == not_opened
    assert clerk_work.items[TO_PRESENT][0].case == to_present
    assert kinds(my_incoming_work(fresh(o.leader))) == {TO_DIRECT: 1}
    assert my_incoming_work(fresh(o.leader)).items[TO_DIRECT][0].case == presented
    assert kinds(my_incoming_work(fresh(o.unit_leader))) == {TO_ASSIGN: 1}
    assert my_incoming_work(fresh(o.unit_leader)).items[TO_ASSIGN][0].case == waiting
    handler_work = my_incoming_work(fresh(o.handler))
    assert kinds(handler_work) == {TO_HANDLE: 1}
    item = handler_work.items[TO_HANDLE][0]
    assert (item.case, item.due_date, item.due_soon, item.overdue) == (handling, in_days(1), True, False)
    assert handler_work.counts[TO_HANDLE].due_soon == 1
    # Nobody else sees these steps.
    for person in (o.deputy, o.colleague, o.other_unit_staff, o.outsider):
        assert my_incoming_work(fresh(person)).total == 0


def test_delegate_sees_what_waits_for_the_leader_only_while_valid():
    o = office()
    presented_case(o)
    delegation = Delegation.objects.create(agency=o.agency, delegator=o.leader, delegate=o.deputy,
                                           authority_prefix="KT.", valid_from=in_days(0), valid_to=in_days(3))
    assert kinds(my_incoming_work(fresh(o.deputy))) == {TO_DIRECT: 1}
    assert kinds(my_incoming_work(fresh(o.deputy), today=in_days(4))) == {}
    delegation.revoked_at = delegation.created_at
    delegation.save()
    assert kinds(my_incoming_work(fresh(o.deputy))) == {}


def test_extension_waits_for_the_approver():
    o = office()
    lead = directed_case(o).assignments.get()
    services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(2))
    services.request_extension(o.handler, lead, new_deadline=in_days(4), reason="x")
    work = my_incoming_work(fresh(o.unit_leader))
    assert kinds(work) == {TO_DECIDE_EXTENSION: 1}
    assert work.items[TO_DECIDE_EXTENSION][0].due_date == in_days(2)


def test_urgent_first_and_overdue_flags():
    o = office()
    targets = [TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(10))]
    normal = directed_case(o, number="1", targets=targets)
    urgent = directed_case(o, number="2", targets=targets, urgency=Urgency.URGENT)
    soon = directed_case(o, number="3", targets=[TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(0))])
    work = my_incoming_work(fresh(o.handler), today=in_days(3))
    assert [item.case for item in work.items[TO_HANDLE]] == [urgent, soon, normal]
    assert [item.overdue for item in work.items[TO_HANDLE]] == [False, True, False]
    assert work.items[TO_HANDLE][0].urgent
    counts = work.counts[TO_HANDLE]
    assert (counts.total, counts.overdue, counts.due_soon) == (3, 1, 0)


@pytest.mark.parametrize("who", ["clerk", "leader", "unit_leader", "handler"])
def test_constant_number_of_queries(who):
    o = office()

    def measure() -> int:
        user = fresh(getattr(o, who))
        with CaptureQueriesContext(connection) as ctx:
            my_incoming_work(user)
        return len(ctx.captured_queries)

    before = measure()
    for number in range(4):
        lead = directed_case(o, number=str(10 + number)).assignments.get()
        services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(1))
        directed_case(o, number=str(20 + number))
        presented_case(o, number=str(30 + number))
        services.open_case(o.clerk, incoming(o, number=str(40 + number)))
        incoming(o, number=str(50 + number))
    assert measure() == before
    assert before <= 16


# --- overdue ------------------------------------------------------------------------------------


def test_mark_overdue_is_idempotent_per_day(django_capture_on_commit_callbacks):
    o = office()
    lead = directed_case(o).assignments.get()  # waiting in the unit, due in 5 days
    person = directed_case(o, number="2", targets=[TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(1))])
    on_time = directed_case(o, number="3", targets=[TargetInput(role="lead", user_id=o.colleague.pk,
                                                                deadline=in_days(30))])
    with django_capture_on_commit_callbacks(execute=True):  # the notices are fanned out after commit
        assert services.mark_overdue(today=in_days(6)) == 2
        assert services.mark_overdue(today=in_days(6)) == 0
    assert Notice.objects.filter(user=o.unit_leader).count() == 1  # waiting: the unit's leaders are reminded
    assert Notice.objects.filter(user=o.handler).count() == 1
    assert not Notice.objects.filter(user=o.colleague).exists()
    assert AuditEvent.objects.filter(verb=events.ASSIGNMENT_OVERDUE).count() == 2
    event = AuditEvent.objects.get(verb=events.ASSIGNMENT_OVERDUE, target_id=str(person.document_id))
    assert event.actor is None and event.data["since"] == str(in_days(6))
    lead.refresh_from_db()
    assert lead.overdue_since == in_days(6)
    assert Assignment.objects.get(case=on_time).overdue_since is None
    # The next day: one more reminder each, still marked (and audited) once.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mark_overdue(today=in_days(7)) == 0
    assert Notice.objects.filter(user=o.handler).count() == 2
    assert AuditEvent.objects.filter(verb=events.ASSIGNMENT_OVERDUE).count() == 2
    assert verify_all() == []


def test_completed_work_is_not_overdue_and_task_runs():
    o = office()
    case = directed_case(o, targets=[TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(0))])
    services.complete_assignment(o.handler, case.assignments.get(), outcome="Xong")
    assert services.mark_overdue(today=in_days(3)) == 0
    assert tasks.mark_overdue.delay().get() == 0
    assert not Notice.objects.exists()


def test_approved_extension_clears_overdue():
    o = office()
    case = directed_case(o, targets=[TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(0))])
    lead = case.assignments.get()
    services.mark_overdue(today=in_days(1))
    lead.refresh_from_db()
    assert lead.overdue_since == in_days(1)
    request = services.request_extension(o.handler, lead, new_deadline=in_days(5), reason="x")
    services.decide_extension(o.leader, request, approve=True)
    lead.refresh_from_db()
    assert (lead.due_date, lead.overdue_since) == (in_days(5), None)


def test_counts_are_the_same_whether_the_list_fits_a_page_or_not():
    """Below a page the counts come from the list itself, above it from the database: both agree."""
    o = office()
    for number in range(4):
        lead = directed_case(o, number=str(60 + number)).assignments.get()
        services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(1 if number % 2 else 5))
    whole = my_incoming_work(fresh(o.handler), limit=50).counts[TO_HANDLE]
    paged = my_incoming_work(fresh(o.handler), limit=2)
    assert vars(paged.counts[TO_HANDLE]) == vars(whole) == {"total": 4, "overdue": 0, "due_soon": 2}
    assert len(paged.items[TO_HANDLE]) == 2
