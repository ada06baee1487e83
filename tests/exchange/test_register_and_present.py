"""The delivery page as the clerk's one screen (issue 13): register the document that arrived electronically,
enter it for handling and present it to a leader in one submit, all or nothing, then on to the next waiting."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from documents import events as document_events
from documents.models import Document
from exchange import events
from exchange.models import Delivery, StatusCode
from notifications.models import Notice
from tests.exchange.helpers import delivery_to, issue, province
from workflows import events as workflow_events
from workflows.models import CaseState, IncomingCase

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _client(client, user):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    p = province()
    p.recipient_leader.position = "Giám đốc"
    p.recipient_leader.save()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient, p.third)
    return p, document, delivery_to(document, p.recipient)


def _named(user) -> str:
    return f"{user.full_name} ({user.position})"


def test_the_page_offers_the_agencys_leaders_with_the_usual_one_chosen(client, sent):
    p, _document, delivery = sent
    response = _client(client, p.recipient_clerk).get(reverse("exchange:delivery", args=[delivery.pk]))
    form = response.context["present_form"]
    assert dict(form.fields["leader"].choices) == {p.recipient_leader.pk: _named(p.recipient_leader)}
    assert form["leader"].value() == p.recipient_leader.pk  # the only leader: the obvious choice
    body = response.content.decode()
    assert 'name="then" value="present"' in body and 'id="register-next"' in body
    assert 'name="note"' in body


def test_register_and_present_in_one_submit(client, sent, django_capture_on_commit_callbacks):
    p, document, delivery = sent
    c = _client(client, p.recipient_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("exchange:register", args=[delivery.pk]), {
            "version": delivery.version, "leader": p.recipient_leader.pk, "note": "Đề nghị giao Văn phòng",
            "then": "present"}, follow=True)
    delivery.refresh_from_db()
    case = IncomingCase.objects.get(document_id=delivery.received_document_id)
    assert delivery.status == StatusCode.REGISTERED
    assert (case.state, case.presented_to, case.proposal_note) == (
        CaseState.PRESENTED, p.recipient_leader, "Đề nghị giao Văn phòng")
    assert response.redirect_chain[-1][0] == reverse("workflows:case", args=[case.pk])
    assert [str(m) for m in response.context["messages"]] == [
        f"Registered with arrival number {case.document.arrival_number} and presented to "
        f"{_named(p.recipient_leader)} for direction."]
    received = list(AuditEvent.objects.filter(target_type="documents.document", target_id=str(case.document_id))
                    .order_by("id").values_list("verb", flat=True))
    assert received[0] == document_events.DOCUMENT_REGISTERED_INCOMING
    handling = [verb for verb in received if verb.startswith("incoming.")]
    assert handling == [workflow_events.CASE_OPENED, workflow_events.CASE_PRESENTED]
    assert AuditEvent.objects.filter(verb=events.REGISTERED, target_id=str(delivery.pk)).exists()
    assert Notice.objects.filter(user=p.recipient_leader, document_id=case.document_id).exists()


def test_a_refused_presentation_leaves_the_delivery_waiting(client, sent):
    p, _document, delivery = sent
    c = _client(client, p.recipient_clerk)
    # Refused by the service at the last step (a proposal too long): everything rolls back.
    response = c.post(reverse("exchange:register", args=[delivery.pk]), {
        "version": delivery.version, "leader": p.recipient_leader.pk, "note": "x" * 2001, "then": "present"})
    assert response.status_code == 400
    # A leader of another agency cannot be chosen at all.
    from tests.factories import make_user

    outsider = make_user("Agency leader", p.third)
    response = c.post(reverse("exchange:register", args=[delivery.pk]), {
        "version": delivery.version, "leader": outsider.pk, "then": "present"})
    assert response.status_code == 400 and "leader" in response.context["present_form"].errors
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.ARRIVED and delivery.received_document_id is None
    assert not Document.objects.filter(agency=p.recipient).exists() and not IncomingCase.objects.exists()


def test_a_refusal_inside_the_transaction_rolls_back_the_registration(sent):
    from django.core.exceptions import ValidationError

    from exchange import services

    p, _document, delivery = sent
    with pytest.raises(ValidationError):
        services.register_delivery_and_present(p.recipient_clerk, delivery, leader=p.recipient_leader,
                                               note="x" * 2001, expected_version=delivery.version)
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.ARRIVED and not Document.objects.filter(agency=p.recipient).exists()
    assert not AuditEvent.objects.filter(verb=events.REGISTERED).exists()


def test_save_and_open_the_next_waiting_delivery(client, sent, django_capture_on_commit_callbacks):
    p, _document, first = sent
    with django_capture_on_commit_callbacks(execute=True):
        second_document = issue(p, p.recipient, subject="Về việc thứ hai")
    second = delivery_to(second_document, p.recipient)
    c = _client(client, p.recipient_clerk)
    response = c.post(reverse("exchange:register", args=[first.pk]), {
        "version": first.version, "leader": p.recipient_leader.pk, "then": "next"})
    assert response.status_code == 302 and response["Location"] == reverse("exchange:delivery", args=[second.pk])
    response = c.post(reverse("exchange:register", args=[second.pk]), {
        "version": Delivery.objects.get(pk=second.pk).version, "leader": p.recipient_leader.pk, "then": "next"},
        follow=True)
    assert response.redirect_chain[-1][0] == reverse("exchange:inbox")
    assert "No other document is waiting to be registered." in [str(m) for m in response.context["messages"]]
    assert IncomingCase.objects.filter(state=CaseState.PRESENTED).count() == 2


def test_a_possible_duplicate_asks_for_confirmation_then_presents(client, sent):
    p, document, delivery = sent
    from documents import services as documents_services
    from tests.factories import doc_type

    documents_services.register_incoming(p.recipient_clerk, documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject=document.subject, organ_name=document.organ_name,
        code_number=document.code_number, code_notation=document.code_notation, issued_date=document.issued_date,
        identifier=document.identifier))
    c = _client(client, p.recipient_clerk)
    posted = {"version": delivery.version, "leader": p.recipient_leader.pk, "then": "present", "note": "Đề xuất"}
    response = c.post(reverse("exchange:register", args=[delivery.pk]), posted)
    assert response.status_code == 400 and response.context["duplicates"]
    body = response.content.decode()
    assert 'name="confirm_duplicate"' in body and "Đề xuất" in body  # the proposal is kept on the page
    assert not IncomingCase.objects.exists()
    response = c.post(reverse("exchange:register", args=[delivery.pk]), {**posted, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert IncomingCase.objects.get().state == CaseState.PRESENTED


def test_staff_and_other_agencies_cannot_register_and_present(client, sent):
    p, _document, delivery = sent
    posted = {"version": delivery.version, "leader": p.recipient_leader.pk, "then": "present"}
    staff = _client(client, p.recipient_staff).post(reverse("exchange:register", args=[delivery.pk]), posted)
    assert staff.status_code in (403, 404)
    client.logout()
    other = _client(client, p.third_clerk).post(reverse("exchange:register", args=[delivery.pk]), posted)
    assert other.status_code == 404
    assert Delivery.objects.get(pk=delivery.pk).status == StatusCode.ARRIVED and not IncomingCase.objects.exists()
