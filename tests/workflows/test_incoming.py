"""Incoming-document handling: every transition, every refusal, delegation rules, grants and audit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation
from audit.models import AuditEvent
from audit.services import verify_all
from documents.models import DocumentGroupObjectPermission, DocumentUserObjectPermission, Urgency
from documents.selectors import visible_documents
from notifications import services as notification_services
from notifications.models import Notice
from tests.factories import AgencyFactory, make_user
from workflows import events, services
from workflows.models import (
    Assignment,
    AssignmentState,
    CaseState,
    ExtensionState,
    IncomingCase,
    TargetRole,
)
from workflows.services import StaleTransition, TargetInput, TransitionError

from .helpers import directed_case, fresh, in_days, incoming, lead_unit, office, outgoing, presented_case, verbs

pytestmark = pytest.mark.django_db


# --- opening, presenting, returning -------------------------------------------------------------


def test_open_present_and_audit_events_on_the_document():
    o = office()
    document = incoming(o)
    case = services.open_case(o.clerk, document)
    assert (case.state, case.version, case.agency_id) == (CaseState.REGISTERED, 1, o.agency.pk)
    case = services.present(o.clerk, case, o.leader, expected_version=1)
    assert (case.state, case.presented_to, case.version) == (CaseState.PRESENTED, o.leader, 2)
    assert verbs(document)[-2:] == [events.CASE_OPENED, events.CASE_PRESENTED]
    presented = AuditEvent.objects.get(verb=events.CASE_PRESENTED)
    assert presented.actor == o.clerk and presented.agency_id == o.agency.pk
    assert presented.data["leader_id"] == o.leader.pk and presented.data["state"] == CaseState.PRESENTED
    assert verify_all() == []


def test_open_case_refusals():
    o = office()
    document = incoming(o)
    with pytest.raises(PermissionDenied):
        services.open_case(o.leader, document)  # not a clerk
    with pytest.raises(PermissionDenied):
        services.open_case(make_user(roles.CLERK, AgencyFactory()), document)  # clerk of another agency
    services.open_case(o.clerk, document)
    with pytest.raises(TransitionError):
        services.open_case(o.clerk, document)
    assert IncomingCase.objects.count() == 1
    assert verbs(document).count(events.CASE_OPENED) == 1


def test_present_refusals_change_nothing():
    o = office()
    case = services.open_case(o.clerk, incoming(o))
    with pytest.raises(PermissionDenied):
        services.present(o.handler, case, o.leader)
    with pytest.raises(ValidationError):
        services.present(o.clerk, case, o.unit_leader)  # not an agency leader
    with pytest.raises(ValidationError):
        services.present(o.clerk, case, o.outsider)  # a leader of another agency
    with pytest.raises(StaleTransition):
        services.present(o.clerk, case, o.leader, expected_version=7)
    case.refresh_from_db()
    assert (case.state, case.version, case.presented_to) == (CaseState.REGISTERED, 1, None)
    services.present(o.clerk, case, o.leader)
    with pytest.raises(TransitionError):
        services.present(o.clerk, case, o.deputy)  # already presented
    assert verbs(case.document).count(events.CASE_PRESENTED) == 1


def test_return_before_direction_only():
    o = office()
    case = presented_case(o)
    with pytest.raises(ValidationError):
        services.return_case(o.clerk, case, "  ")
    with pytest.raises(PermissionDenied):
        services.return_case(o.leader, case, "Gửi nhầm cơ quan")
    case = services.return_case(o.clerk, case, "Gửi nhầm cơ quan", expected_version=2)
    assert (case.state, case.return_reason) == (CaseState.RETURNED, "Gửi nhầm cơ quan")
    assert AuditEvent.objects.get(verb=events.CASE_RETURNED).data["reason"] == "Gửi nhầm cơ quan"
    with pytest.raises(TransitionError):
        services.direct(o.leader, case, instruction="x", targets=lead_unit(o))

    directed = directed_case(o, number="13")
    with pytest.raises(TransitionError):
        services.return_case(o.clerk, directed, "Quá muộn")
    directed.refresh_from_db()
    assert directed.state == CaseState.DIRECTED


# --- direction ----------------------------------------------------------------------------------


def test_direction_creates_targets_and_grants_at_unit_level():
    o = office()
    case = presented_case(o)
    document = case.document
    targets = [
        TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(5)),
        TargetInput(role="coordinate", user_id=o.other_unit_staff.pk, deadline=in_days(4)),
        TargetInput(role="inform", unit_id=o.other_unit.pk),
    ]
    case = services.direct(o.leader, case, instruction="Giao Phòng chủ trì.", targets=targets, expected_version=2)
    assert (case.state, case.directed_by, case.direction_authority_prefix, case.directed_on_behalf_of) == (
        CaseState.DIRECTED, o.leader, "", None
    )
    rows = {a.role: a for a in case.assignments.all()}
    assert rows[TargetRole.LEAD].state == AssignmentState.WAITING and rows[TargetRole.LEAD].due_date == in_days(5)
    coord = rows[TargetRole.COORDINATE]
    assert (coord.state, coord.assignee, coord.due_date, coord.deadline_set_by) == (
        AssignmentState.HANDLING, o.other_unit_staff, in_days(4), o.leader
    )
    assert rows[TargetRole.INFORM].state == AssignmentState.FOR_INFORMATION
    # One group row per unit, one user row for the person target: no row per person of a unit.
    group_grants = DocumentGroupObjectPermission.objects.filter(content_object=document)
    assert sorted(g.group.name for g in group_grants) == sorted([f"unit:{o.unit.pk}", f"unit:{o.other_unit.pk}"])
    assert list(DocumentUserObjectPermission.objects.filter(content_object=document).values_list("user_id", flat=True)) == [
        o.other_unit_staff.pk
    ]
    assert set(Group.objects.get(name=f"unit:{o.unit.pk}").user_set.all()) == {o.unit_leader, o.handler, o.colleague}
    event = AuditEvent.objects.get(verb=events.CASE_DIRECTED)
    assert event.actor == o.leader and event.target_id == str(document.pk)
    assert [t["role"] for t in event.data["targets"]] == ["lead", "coordinate", "inform"]
    assert event.data["authority_prefix"] == ""


def test_direction_refusals():
    o = office()
    case = presented_case(o)
    with pytest.raises(PermissionDenied):
        services.direct(o.deputy, case, instruction="x", targets=lead_unit(o))  # not the one presented to
    with pytest.raises(PermissionDenied):
        services.direct(o.outsider, case, instruction="x", targets=lead_unit(o))  # another agency
    with pytest.raises(PermissionDenied):
        services.direct(o.clerk, case, instruction="x", targets=lead_unit(o))
    with pytest.raises(ValidationError):  # no lead
        services.direct(o.leader, case, instruction="x", targets=[TargetInput(role="inform", unit_id=o.unit.pk)])
    with pytest.raises(ValidationError):  # two leads
        services.direct(o.leader, case, instruction="x", targets=[
            TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(2)),
            TargetInput(role="lead", unit_id=o.other_unit.pk, deadline=in_days(2)),
        ])
    with pytest.raises(ValidationError):  # no deadline for the lead
        services.direct(o.leader, case, instruction="x", targets=[TargetInput(role="lead", unit_id=o.unit.pk)])
    with pytest.raises(ValidationError):  # deadline in the past
        services.direct(o.leader, case, instruction="x", targets=lead_unit(o, days=-1))
    with pytest.raises(ValidationError):  # a person of another agency
        services.direct(o.leader, case, instruction="x", targets=[
            TargetInput(role="lead", user_id=o.outsider.pk, deadline=in_days(2))
        ])
    with pytest.raises(ValidationError):
        services.direct(o.leader, case, instruction=" ", targets=lead_unit(o))
    with pytest.raises(StaleTransition):
        services.direct(o.leader, case, instruction="x", targets=lead_unit(o), expected_version=1)
    case.refresh_from_db()
    assert (case.state, case.version) == (CaseState.PRESENTED, 2)
    assert not Assignment.objects.exists() and not DocumentGroupObjectPermission.objects.exists()
    assert events.CASE_DIRECTED not in verbs(case.document)
    services.direct(o.leader, case, instruction="x", targets=lead_unit(o))
    with pytest.raises(TransitionError):
        services.direct(o.leader, case, instruction="y", targets=lead_unit(o))
    assert Assignment.objects.count() == 1


def test_registered_but_not_presented_cannot_be_directed():
    o = office()
    case = services.open_case(o.clerk, incoming(o))
    with pytest.raises(PermissionDenied):
        services.direct(o.leader, case, instruction="x", targets=lead_unit(o))


# --- delegation ---------------------------------------------------------------------------------


def _delegate(o, delegate, *, prefix="KT.", start=-1, end=10, revoked=False) -> Delegation:
    return Delegation.objects.create(
        agency=o.agency, delegator=o.leader, delegate=delegate, authority_prefix=prefix,
        valid_from=in_days(start), valid_to=in_days(end) if end is not None else None,
        revoked_at=timezone.now() if revoked else None,
    )


def test_valid_delegation_directs_and_records_the_prefix():
    o = office()
    _delegate(o, o.deputy, prefix="KT.")
    case = presented_case(o)
    case = services.direct(o.deputy, case, instruction="KT. Giám đốc giao.", targets=lead_unit(o))
    assert (case.directed_by, case.directed_on_behalf_of, case.direction_authority_prefix) == (o.deputy, o.leader, "KT.")
    event = AuditEvent.objects.get(verb=events.CASE_DIRECTED)
    assert event.actor == o.deputy and event.data["authority_prefix"] == "KT." and event.data["on_behalf_of"] == o.leader.pk


def test_delegation_to_a_person_without_the_leader_role_counts_with_tuq():
    o = office()
    _delegate(o, o.unit_leader, prefix="TUQ.", end=None)
    case = services.direct(o.unit_leader, presented_case(o), instruction="TUQ.", targets=lead_unit(o))
    assert case.direction_authority_prefix == "TUQ."


@pytest.mark.parametrize("kind", ["expired", "future", "revoked", "other_delegator"])
def test_invalid_delegations_are_refused(kind):
    o = office()
    if kind == "expired":
        _delegate(o, o.deputy, start=-10, end=-1)
    elif kind == "future":
        _delegate(o, o.deputy, start=1, end=5)
    elif kind == "revoked":
        _delegate(o, o.deputy, revoked=True)
    else:
        Delegation.objects.create(agency=o.agency, delegator=o.unit_leader, delegate=o.deputy,
                                  authority_prefix="KT.", valid_from=in_days(-1))
    case = presented_case(o)
    with pytest.raises(PermissionDenied):
        services.direct(o.deputy, case, instruction="x", targets=lead_unit(o))
    case.refresh_from_db()
    assert case.state == CaseState.PRESENTED


# --- visibility through grants ------------------------------------------------------------------


def test_unit_grant_lets_the_units_people_see_a_secret_document_and_nothing_leaks():
    o = office()
    case = presented_case(o, secret=True)
    document = case.document
    # Secret: outside agency scope. The clerk (registrar) and the leader (presented to) see it.
    assert visible_documents(fresh(o.leader)).filter(pk=document.pk).exists()
    for person in (o.handler, o.unit_leader, o.other_unit_staff, o.deputy):
        assert not visible_documents(fresh(person)).filter(pk=document.pk).exists()
    services.direct(o.leader, case, instruction="x", targets=[
        TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(3)),
        TargetInput(role="inform", user_id=o.deputy.pk),
    ])
    for person in (o.handler, o.unit_leader, o.colleague, o.deputy):
        assert visible_documents(fresh(person)).filter(pk=document.pk).exists()
    for person in (o.other_unit_staff, o.outsider):
        assert not visible_documents(fresh(person)).filter(pk=document.pk).exists()
    # A newcomer to the unit inherits the unit's grant at once (workflows.signals keeps unit groups in step).
    newcomer = make_user(roles.STAFF, o.agency, unit=o.unit)
    assert visible_documents(fresh(newcomer)).filter(pk=document.pk).exists()
    # Leaving the unit removes the unit's access, not what was granted personally.
    newcomer.unit = o.other_unit
    newcomer.save()
    assert not visible_documents(fresh(newcomer)).filter(pk=document.pk).exists()
    assert visible_documents(fresh(o.deputy)).filter(pk=document.pk).exists()


def test_grants_never_remove_existing_access():
    o = office()
    case = presented_case(o)
    from guardian.shortcuts import assign_perm

    assign_perm("documents.view_document", o.outsider, case.document)
    services.direct(o.leader, case, instruction="x", targets=lead_unit(o))
    assert visible_documents(fresh(o.outsider)).filter(pk=case.document.pk).exists()


# --- unit assignment, progress, extension, completion ------------------------------------------


def test_full_flow_to_completion_with_reply_document():
    o = office()
    case = directed_case(o, targets=[
        TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(5)),
        TargetInput(role="coordinate", user_id=o.other_unit_staff.pk, deadline=in_days(4)),
    ])
    lead = case.assignments.get(role="lead")
    lead = services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(3), note="Xử lý gấp",
                                       expected_version=1)
    assert (lead.state, lead.assignee, lead.due_date, lead.deadline_set_by, lead.version) == (
        AssignmentState.HANDLING, o.handler, in_days(3), o.unit_leader, 2
    )
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    lead = services.record_progress(o.handler, lead, note="Đang tổng hợp", proposal="Đề xuất trả lời Bộ",
                                    expected_version=2)
    assert (lead.progress_note, lead.proposal) == ("Đang tổng hợp", "Đề xuất trả lời Bộ")
    reply = outgoing(o)
    lead = services.complete_assignment(o.handler, lead, outcome="Đã trả lời", reply_document_id=reply.pk,
                                        expected_version=3)
    case.refresh_from_db()
    coord = case.assignments.get(role="coordinate")
    assert (case.state, lead.state, lead.reply_document, coord.state) == (
        CaseState.COMPLETED, AssignmentState.COMPLETED, reply, AssignmentState.NOT_ACTED  # it recorded nothing
    )
    assert [v for v in verbs(case.document) if v.startswith("incoming.")] == [
        events.CASE_OPENED, events.CASE_PRESENTED, events.CASE_DIRECTED, events.CASE_ASSIGNED, events.CASE_PROGRESS,
        events.ASSIGNMENT_COMPLETED, events.CASE_COMPLETED,
    ]
    completed = AuditEvent.objects.get(verb=events.CASE_COMPLETED)
    assert completed.data["reply_document_id"] == reply.pk and completed.data["closed_assignments"] == []
    assert completed.data["not_acted_assignments"] == [coord.pk]
    with pytest.raises(PermissionDenied):
        services.record_progress(o.colleague, coord, note="x")
    with pytest.raises(TransitionError):  # the case is over: the co-ordinator no longer handles
        services.record_progress(o.other_unit_staff, coord, note="x")
    assert verify_all() == []


def test_coordinating_completion_does_not_complete_the_case():
    o = office()
    case = directed_case(o, targets=[
        TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(5)),
        TargetInput(role="coordinate", user_id=o.other_unit_staff.pk, deadline=in_days(4)),
    ])
    coord = case.assignments.get(role="coordinate")
    services.complete_assignment(o.other_unit_staff, coord, outcome="Đã phối hợp")
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    services.complete_assignment(o.handler, case.assignments.get(role="lead"), outcome="Xong")
    case.refresh_from_db()
    assert case.state == CaseState.COMPLETED


def test_assignment_refusals():
    o = office()
    case = directed_case(o)
    lead = case.assignments.get()
    with pytest.raises(PermissionDenied):  # staff of the unit
        services.assign_within_unit(o.handler, lead, o.colleague, deadline=in_days(2))
    with pytest.raises(PermissionDenied):  # a leader of another unit
        other_leader = make_user(roles.UNIT_LEADER, o.agency, unit=o.other_unit)
        services.assign_within_unit(other_leader, lead, o.handler, deadline=in_days(2))
    with pytest.raises(PermissionDenied):
        services.assign_within_unit(o.outsider, lead, o.handler, deadline=in_days(2))
    with pytest.raises(ValidationError):  # later than the unit's deadline
        services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(6))
    with pytest.raises(ValidationError):  # not a person of the unit
        services.assign_within_unit(o.unit_leader, lead, o.other_unit_staff, deadline=in_days(2))
    with pytest.raises(StaleTransition):
        services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(2), expected_version=5)
    lead.refresh_from_db()
    assert (lead.state, lead.assignee, lead.version) == (AssignmentState.WAITING, None, 1)
    services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(2))
    with pytest.raises(TransitionError):
        services.assign_within_unit(o.unit_leader, lead, o.colleague, deadline=in_days(2))
    assert verbs(case.document).count(events.CASE_ASSIGNED) == 1


def test_unit_leader_delegate_may_assign():
    o = office()
    Delegation.objects.create(agency=o.agency, delegator=o.unit_leader, delegate=o.colleague,
                              authority_prefix="KT.", valid_from=in_days(0))
    lead = directed_case(o).assignments.get()
    lead = services.assign_within_unit(o.colleague, lead, o.handler, deadline=in_days(2))
    event = AuditEvent.objects.get(verb=events.CASE_ASSIGNED)
    assert (event.actor, event.data["authority_prefix"], event.data["on_behalf_of"]) == (o.colleague, "KT.", o.unit_leader.pk)
    # The deadline is the unit leader's: the unit leader decides its extension.
    assert lead.deadline_set_by == o.unit_leader
    request = services.request_extension(o.handler, lead, new_deadline=in_days(3), reason="x")
    assert request.approver == o.unit_leader


def test_handler_steps_refused_to_others_and_when_stale():
    o = office()
    lead = directed_case(o).assignments.get()
    lead = services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(2))
    for person in (o.colleague, o.unit_leader, o.leader):
        with pytest.raises(PermissionDenied):
            services.record_progress(person, lead, note="x")
        with pytest.raises(PermissionDenied):
            services.complete_assignment(person, lead, outcome="x")
    with pytest.raises(StaleTransition):
        services.record_progress(o.handler, lead, note="x", expected_version=1)
    with pytest.raises(ValidationError):
        services.complete_assignment(o.handler, lead, outcome=" ")
    with pytest.raises(ValidationError):  # a reply the handler cannot see
        other_doc = incoming_in_other_agency()
        services.complete_assignment(o.handler, lead, outcome="x", reply_document_id=other_doc.pk)
    with pytest.raises(ValidationError):  # an incoming document is not a reply
        services.complete_assignment(o.handler, lead, outcome="x", reply_document_id=incoming(o, number="98").pk)
    lead.refresh_from_db()
    assert (lead.state, lead.version) == (AssignmentState.HANDLING, 2)
    services.complete_assignment(o.handler, lead, outcome="Xong", expected_version=2)
    with pytest.raises(TransitionError):
        services.complete_assignment(o.handler, lead, outcome="Lần hai")
    assert verbs(lead.case.document).count(events.ASSIGNMENT_COMPLETED) == 1


def incoming_in_other_agency():
    return incoming(office(), number="77")


def test_extension_approved_by_who_set_the_deadline():
    o = office()
    lead = directed_case(o).assignments.get()
    lead = services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(2))
    with pytest.raises(ValidationError):
        services.request_extension(o.handler, lead, new_deadline=in_days(1), reason="Cần thêm thời gian")
    with pytest.raises(PermissionDenied):
        services.request_extension(o.colleague, lead, new_deadline=in_days(4), reason="x")
    request = services.request_extension(o.handler, lead, new_deadline=in_days(4), reason="Cần số liệu")
    assert (request.approver, request.current_deadline) == (o.unit_leader, in_days(2))
    with pytest.raises(TransitionError):  # one pending request at a time
        services.request_extension(o.handler, lead, new_deadline=in_days(5), reason="x")
    for person in (o.leader, o.handler, o.outsider):
        with pytest.raises(PermissionDenied):
            services.decide_extension(person, request, approve=True)
    request = services.decide_extension(o.unit_leader, request, approve=True, note="Đồng ý")
    lead.refresh_from_db()
    assert (request.state, lead.due_date, lead.handler_deadline, lead.deadline) == (
        ExtensionState.APPROVED, in_days(4), in_days(4), in_days(5)
    )
    with pytest.raises(TransitionError):
        services.decide_extension(o.unit_leader, request, approve=False)
    # Beyond the unit's own deadline: the unit leader cannot extend; refusing is possible.
    request = services.request_extension(o.handler, lead, new_deadline=in_days(9), reason="x")
    with pytest.raises(ValidationError):
        services.decide_extension(o.unit_leader, request, approve=True)
    request = services.decide_extension(o.unit_leader, request, approve=False, note="Không")
    lead.refresh_from_db()
    assert request.state == ExtensionState.REFUSED and lead.due_date == in_days(4)
    assert [v for v in verbs(lead.case.document) if "extension" in v] == [
        events.EXTENSION_REQUESTED, events.EXTENSION_APPROVED, events.EXTENSION_REQUESTED, events.EXTENSION_REFUSED
    ]


def test_extension_of_a_person_target_goes_to_the_director_or_delegate():
    o = office()
    _delegate(o, o.deputy, prefix="KT.")
    case = directed_case(o, targets=[TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(2))])
    lead = case.assignments.get()
    request = services.request_extension(o.handler, lead, new_deadline=in_days(7), reason="x")
    assert request.approver == o.leader
    services.decide_extension(o.deputy, request, approve=True)
    lead.refresh_from_db()
    assert (lead.due_date, lead.deadline) == (in_days(7), in_days(7))
    assert AuditEvent.objects.get(verb=events.EXTENSION_APPROVED).data["authority_prefix"] == "KT."


def test_deadline_set_under_delegation_stays_the_leaders_after_revocation():
    o = office()
    delegation = _delegate(o, o.deputy, prefix="KT.")
    case = services.direct(o.deputy, presented_case(o), instruction="KT.", targets=[
        TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(2))
    ])
    lead = case.assignments.get()
    assert lead.deadline_set_by == o.leader
    request = services.request_extension(o.handler, lead, new_deadline=in_days(6), reason="x")
    delegation.revoked_at = timezone.now()
    delegation.save()
    with pytest.raises(PermissionDenied):
        services.decide_extension(o.deputy, request, approve=True)
    request = services.decide_extension(o.leader, request, approve=False, note="Không gia hạn")
    assert (request.state, request.decided_by) == (ExtensionState.REFUSED, o.leader)
    assert AuditEvent.objects.get(verb=events.EXTENSION_REFUSED).data["authority_prefix"] == ""


# --- notices ------------------------------------------------------------------------------------


def test_notices_are_stored_on_commit(django_capture_on_commit_callbacks):
    o = office()
    with django_capture_on_commit_callbacks(execute=True):
        case = presented_case(o)
    assert list(Notice.objects.filter(user=o.leader).values_list("document_id", flat=True)) == [case.document_id]
    with django_capture_on_commit_callbacks(execute=True):
        lead = services.direct(o.leader, case, instruction="x", targets=lead_unit(o)).assignments.get()
        services.assign_within_unit(o.unit_leader, lead, o.handler, deadline=in_days(1))
    assert Notice.objects.filter(user=o.unit_leader).count() == 1
    assert Notice.objects.filter(user=o.handler).count() == 1
    # Fanning the same event out again (a redelivered task) adds nothing.
    notice = Notice.objects.get(user=o.handler)
    assert notification_services.fan_out(notice.event.key) == 0
    notice.event.processed_at = None
    notice.event.save()
    notification_services.fan_out(notice.event.key)
    assert Notice.objects.filter(user=o.handler).count() == 1


# --- urgency ------------------------------------------------------------------------------------


def test_urgent_cases_sort_first():
    from workflows.selectors import incoming_cases_for

    o = office()
    normal = services.open_case(o.clerk, incoming(o, number="1"))
    urgent = services.open_case(o.clerk, incoming(o, number="2", urgency=Urgency.EXPRESS))
    later = services.open_case(o.clerk, incoming(o, number="3"))
    assert list(incoming_cases_for(fresh(o.clerk))) == [urgent, later, normal]
    assert list(incoming_cases_for(fresh(o.outsider))) == []
