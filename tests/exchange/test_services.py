"""The exchange inside one installation: deliveries written with the issue, arrival, registration, return,
the recipient's handling reported back (04–06), recall, asking back (13/15/16), updates and replacements,
internal documents to units, the sweeper and the late-registration flag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from documents.models import Confidentiality, Direction
from eoffice.notices import notice_requested
from exchange import events, services
from exchange.models import BusinessType, Delivery, StatusCode, StatusTrace
from tests.exchange.helpers import delivery_to, issue, province
from workflows import services as workflows_services
from workflows.models import IncomingCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def told():
    """The notices asked for (eoffice.notices), whoever stores them."""
    requests = []

    def receiver(sender, request, **kwargs) -> None:
        requests.append(request)

    notice_requested.connect(receiver, dispatch_uid="test-exchange-told")
    yield requests
    notice_requested.disconnect(dispatch_uid="test-exchange-told")


def _verbs(agency_id: int) -> list[str]:
    return list(AuditEvent.objects.filter(agency_id=agency_id, verb__startswith="exchange.")
                .order_by("id").values_list("verb", flat=True))


def test_issuing_sends_one_delivery_per_recipient_agency_that_arrives_in_its_queue(told,
                                                                                 django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient, p.third, p.sender)  # its own agency is not sent to
    deliveries = Delivery.objects.filter(document=document).order_by("recipient_agency_id")
    assert [(d.recipient_agency_id, d.status) for d in deliveries] == [
        (p.recipient.pk, StatusCode.ARRIVED), (p.third.pk, StatusCode.ARRIVED)]
    assert all(d.arrived_at is not None for d in deliveries)
    assert [t.code for t in StatusTrace.objects.filter(delivery__document=document)] == ["01", "01"]
    assert _verbs(p.sender.pk) == [events.DELIVERIES_CREATED]
    assert _verbs(p.recipient.pk) == [events.ARRIVED] and _verbs(p.third.pk) == [events.ARRIVED]
    (arrived,) = [r for r in told if r.kind == "exchange.arrived"]
    assert set(arrived.audience.agency_ids) == {p.recipient.pk, p.third.pk}
    assert arrived.audience.permission == "documents.register_incoming"
    assert arrived.params["number"] == document.number_notation and arrived.document_id == document.pk


def test_deliveries_are_written_with_the_issue_or_not_at_all():
    p = province()
    with pytest.raises(RuntimeError), transaction.atomic():
        issue(p, p.recipient)
        raise RuntimeError("the issue fails after the deliveries were written")
    assert not Delivery.objects.exists()


def test_secret_documents_are_not_sent_electronically():
    p = province()
    document = issue(p, p.recipient, confidentiality=Confidentiality.SECRET)
    assert not Delivery.objects.filter(document=document).exists()


def test_arrival_is_idempotent_and_the_sweeper_finds_lost_arrivals(django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down: the arrival task was lost
        document = issue(p, p.recipient)
    assert delivery_to(document, p.recipient).status == ""
    Delivery.objects.filter(document=document).update(created_at=timezone.now() - timedelta(minutes=5))
    assert services.pending_arrivals() == [document.pk]
    assert services.complete_arrivals(document.pk) == 1
    assert services.complete_arrivals(document.pk) == 0  # redelivered: nothing left to do
    assert StatusTrace.objects.filter(delivery__document=document).count() == 1
    assert services.pending_arrivals() == []


def test_the_recipient_clerk_registers_with_one_click(told, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    incoming = services.register_delivery(p.recipient_clerk, delivery)
    assert incoming.direction == Direction.INCOMING and incoming.agency_id == p.recipient.pk
    assert (incoming.code_number, incoming.code_notation, incoming.issued_date, incoming.organ_name, incoming.subject) == (
        document.code_number, document.code_notation, document.issued_date, document.organ_name, document.subject)
    assert incoming.identifier == document.identifier and incoming.register_number == 1
    # the very same content-addressed blobs, not copies
    assert list(incoming.files.values_list("blob_id", "is_main")) == list(document.files.values_list("blob_id", "is_main"))
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.REGISTERED and delivery.received_document_id == incoming.pk
    trace = delivery.traces.get(code=StatusCode.REGISTERED)
    assert trace.actor_id == p.recipient_clerk.pk and p.recipient_clerk.full_name in trace.actor_name
    assert _verbs(p.recipient.pk) == [events.ARRIVED, events.REGISTERED]
    assert AuditEvent.objects.filter(verb="documents.registered_incoming", agency_id=p.recipient.pk).exists() or \
        AuditEvent.objects.filter(agency_id=p.recipient.pk, target_id=str(incoming.pk)).exists()
    status = [r for r in told if r.kind == "exchange.status"]
    assert status[-1].audience.user_ids == (p.sender_clerk.pk,) and status[-1].params["status"] == "03"
    with pytest.raises(services.DeliveryStateError):
        services.register_delivery(p.recipient_clerk, delivery)


def test_only_the_recipient_agencys_clerks_register_or_return(django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    for outsider in (p.third_clerk, p.sender_clerk, p.recipient_staff, p.recipient_leader):
        with pytest.raises(PermissionDenied):
            services.register_delivery(outsider, delivery)
        with pytest.raises(PermissionDenied):
            services.return_delivery(outsider, delivery, "Gửi nhầm")
    assert delivery_to(document, p.recipient).status == StatusCode.ARRIVED


def test_a_return_needs_a_reason_and_ends_the_delivery(told, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    with pytest.raises(ValidationError):
        services.return_delivery(p.recipient_clerk, delivery, "  ")
    services.return_delivery(p.recipient_clerk, delivery, "Văn bản gửi nhầm nơi nhận")
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.RETURNED and delivery.return_reason == "Văn bản gửi nhầm nơi nhận"
    assert delivery.traces.get(code="02").reason == "Văn bản gửi nhầm nơi nhận"
    assert events.RETURNED in _verbs(p.sender.pk) and events.RETURNED in _verbs(p.recipient.pk)
    (returned,) = [r for r in told if r.kind == "exchange.returned"]
    assert returned.audience.user_ids == (p.sender_clerk.pk,)
    with pytest.raises(services.DeliveryStateError):
        services.register_delivery(p.recipient_clerk, delivery)


def test_the_recipients_handling_is_traced_back_to_the_sender_in_order(django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    incoming = services.register_delivery(p.recipient_clerk, delivery)
    from accounts import roles
    from tests.factories import UnitFactory, make_user

    unit = UnitFactory(agency=p.recipient)
    unit_leader = make_user(roles.UNIT_LEADER, p.recipient, unit=unit)
    handler = make_user(roles.STAFF, p.recipient, unit=unit)
    case = workflows_services.open_case(p.recipient_clerk, incoming)
    case = workflows_services.present(p.recipient_clerk, case, p.recipient_leader)
    case = workflows_services.direct(
        p.recipient_leader, case, instruction="Giao phòng chủ trì",
        targets=[workflows_services.TargetInput(role="lead", unit_id=unit.pk,
                                                deadline=timezone.localdate() + timedelta(days=5))])
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.ASSIGNED
    assignment = case.assignments.get()
    workflows_services.assign_within_unit(unit_leader, assignment, handler,
                                          deadline=timezone.localdate() + timedelta(days=3))
    workflows_services.record_progress(handler, assignment, note="Đang dự thảo báo cáo")
    workflows_services.complete_assignment(handler, assignment, outcome="Đã báo cáo")
    case = IncomingCase.objects.get(pk=case.pk)
    assert case.state == "completed"
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.COMPLETED
    codes = list(delivery.traces.values_list("code", flat=True))
    assert codes == ["01", "03", "04", "05", "06"]
    assert all(t.actor_id for t in delivery.traces.exclude(code="01"))


def test_a_recall_freezes_every_copy_and_is_recorded_on_both_sides(told, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient, p.third)
    services.register_delivery(p.recipient_clerk, delivery_to(document, p.recipient))
    with pytest.raises(PermissionDenied):
        services.recall_document(p.recipient_clerk, document, "Sai sót")
    with pytest.raises(ValidationError):
        services.recall_document(p.sender_clerk, document, "")
    assert services.recall_document(p.sender_clerk, document, "Văn bản có sai sót về thể thức") == 2
    assert all(d.is_recalled for d in Delivery.objects.filter(document=document))
    with pytest.raises(services.DeliveryStateError):
        services.register_delivery(p.third_clerk, delivery_to(document, p.third))
    assert events.RECALLED in _verbs(p.sender.pk)
    assert events.RECALL_RECEIVED in _verbs(p.recipient.pk) and events.RECALL_RECEIVED in _verbs(p.third.pk)
    recalled = [r for r in told if r.kind == "exchange.recalled"]
    assert set(recalled[0].audience.agency_ids) == {p.recipient.pk, p.third.pk}
    with pytest.raises(services.DeliveryStateError):
        services.recall_document(p.sender_clerk, document, "Lần nữa")


def test_asking_back_refused_then_accepted(told, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    services.register_delivery(p.recipient_clerk, delivery)
    services.ask_back(p.sender_clerk, delivery, "Cần chỉnh sửa phụ lục")
    with pytest.raises(services.DeliveryStateError):
        services.ask_back(p.sender_clerk, delivery, "Hỏi lại")
    with pytest.raises(ValidationError):
        services.answer_take_back(p.recipient_clerk, delivery, accept=False)
    services.answer_take_back(p.recipient_clerk, delivery, accept=False, reason="Đã phân công xử lý")
    delivery.refresh_from_db()
    assert delivery.take_back_state == "16" and not delivery.is_recalled
    services.ask_back(p.sender_clerk, delivery, "Văn bản ban hành nhầm")
    services.answer_take_back(p.recipient_clerk, delivery, accept=True)
    delivery.refresh_from_db()
    assert delivery.take_back_state == "15" and delivery.is_recalled
    assert delivery.recall_reason == "Văn bản ban hành nhầm"
    assert list(delivery.traces.values_list("code", "key")) == [
        ("01", "01"), ("03", "03"), ("13", "13:1"), ("16", "16:1"), ("13", "13:2"), ("15", "15:2")]
    answers = [r for r in told if r.kind == "exchange.take_back_answered"]
    assert [a.params["status"] for a in answers] == ["16", "15"]


def test_a_replacement_links_to_the_old_document_at_every_recipient(told, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        old = issue(p, p.recipient, p.third, subject="Kế hoạch năm")
        new = issue(p, p.recipient, subject="Kế hoạch năm (thay thế)")
    with pytest.raises(ValidationError):
        services.link_replacement(p.sender_clerk, old, new, BusinessType.REPLACE)  # the newer one replaces
    assert services.link_replacement(p.sender_clerk, new, old, BusinessType.REPLACE) == 1
    new_delivery = delivery_to(new, p.recipient)
    assert new_delivery.business_type == BusinessType.REPLACE
    assert new_delivery.replaces_id == delivery_to(old, p.recipient).pk
    (replaced,) = [r for r in told if r.kind == "exchange.replaced"]
    assert replaced.audience.agency_ids == (p.recipient.pk,) and replaced.params["kind"] == "3"


def test_internal_documents_go_to_the_units_leaders_without_registration(told, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, internal_units=(p.unit,))
    assert document.direction == Direction.INTERNAL
    delivery = Delivery.objects.get(document=document)
    assert delivery.recipient_unit_id == p.unit.pk and delivery.status == StatusCode.ARRIVED
    arrived = [r for r in told if r.kind == "exchange.arrived"]
    assert arrived[0].audience.user_ids == (p.unit_leader.pk,)
    with pytest.raises(PermissionDenied):
        services.acknowledge_delivery(p.unit_staff, delivery)
    with pytest.raises(PermissionDenied):
        services.acknowledge_delivery(p.sender_clerk, delivery)
    with pytest.raises(services.DeliveryStateError):
        services.register_delivery(p.unit_leader, delivery)
    services.acknowledge_delivery(p.unit_leader, delivery)
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.REGISTERED and delivery.received_document_id is None


def test_deliveries_not_registered_after_the_working_day_are_flagged_once(told, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    arrived = timezone.make_aware(timezone.datetime(2026, 12, 3, 9, 0))  # a Thursday
    Delivery.objects.filter(pk=delivery.pk).update(arrived_at=arrived)
    assert services.registration_deadline(arrived) == timezone.make_aware(timezone.datetime(2026, 12, 4, 17, 0))
    assert services.flag_late_registrations(now=arrived + timedelta(hours=20)) == 0  # Friday 5 a.m.: not yet
    assert services.flag_late_registrations(now=arrived + timedelta(hours=33)) == 1  # Friday 6 p.m.
    assert services.flag_late_registrations(now=arrived + timedelta(hours=40)) == 0  # once
    late = [r for r in told if r.kind == "exchange.late"]
    assert {r.audience.permission for r in late} == {"documents.register_incoming", ""}
    assert any(r.audience.user_ids == (p.sender_clerk.pk,) for r in late)
    friday_evening = timezone.make_aware(timezone.datetime(2026, 12, 4, 18, 0))
    assert services.registration_deadline(friday_evening) == timezone.make_aware(
        timezone.datetime(2026, 12, 7, 17, 0))  # over the weekend


def test_a_recalled_copy_takes_no_more_handling_steps(django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    incoming = services.register_delivery(p.recipient_clerk, delivery)
    case = workflows_services.open_case(p.recipient_clerk, incoming)
    services.recall_document(p.sender_clerk, document, "Ban hành nhầm")
    with pytest.raises(workflows_services.TransitionError, match="Ban hành nhầm"):
        workflows_services.present(p.recipient_clerk, case, p.recipient_leader)
    assert IncomingCase.objects.get(pk=case.pk).state == "registered"


def test_arrival_events_in_many_agencies_are_chained_in_one_step(django_capture_on_commit_callbacks):
    """One arrival writes an event in each recipient agency's chain; they are chained together after the commit
    (audit.services.chain_many) and every chain verifies."""
    from audit.services import chain_key, verify_chain

    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        issue(p, p.recipient, p.third)
    for agency in (p.recipient, p.third):
        assert AuditEvent.objects.filter(agency_id=agency.pk, verb=events.ARRIVED).exists()
        assert not AuditEvent.objects.filter(agency_id=agency.pk, seq__isnull=True).exists()
        assert verify_chain(chain_key(agency.pk)) is None
