"""The exchange's web pages: the clerk's queue, the delivery page and its actions, the sender's section on
the document page, the delivery report, and who sees what (another agency: 404, never in its lists)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from exchange import events, services
from exchange.models import BusinessType, Delivery, StatusCode
from tests.exchange.helpers import delivery_to, issue, province
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient, p.third)
    return p, document, delivery_to(document, p.recipient)


def _verbs(target) -> list[str]:
    return list(AuditEvent.objects.filter(verb__startswith="exchange.", target_id=str(target.pk),
                                          target_type=target._meta.label_lower)
                .order_by("id").values_list("verb", flat=True))


def test_the_clerk_sees_the_arrival_in_the_waiting_tab_with_counts(client, sent):
    p, document, delivery = sent
    response = _client(client, p.recipient_clerk).get(reverse("exchange:inbox"))
    assert response.status_code == 200
    body = response.content.decode()
    assert document.number_notation in body and reverse("exchange:delivery", args=[delivery.pk]) in body
    assert [(t["key"], t["count"]) for t in response.context["tabs"]] == [
        ("waiting", 1), ("registered", 0), ("returned", 0), ("recalled", 0), ("all", 1)]
    assert 'id="nav-exchange"' in body  # the menu entry with the waiting count
    assert response.context["exchange_nav"]["waiting"] == 1


def test_staff_without_the_clerk_permission_has_no_inbox(client, sent):
    p, _document, _delivery = sent
    response = _client(client, p.recipient_staff).get(reverse("exchange:inbox"))
    assert response.status_code == 403
    home = client.get(reverse("documents:list"))
    assert 'id="nav-exchange"' not in home.content.decode()


def test_another_agencys_clerk_gets_404_and_never_sees_the_delivery(client, sent):
    p, document, delivery = sent
    c = _client(client, p.third_clerk)
    assert c.get(reverse("exchange:delivery", args=[delivery.pk])).status_code == 404
    assert c.post(reverse("exchange:register", args=[delivery.pk])).status_code == 404
    assert c.post(reverse("exchange:return", args=[delivery.pk]), {"reason": "x"}).status_code == 404
    assert c.get(reverse("exchange:delivery_file", args=[delivery.pk, document.files.first().pk])).status_code == 404
    response = c.get(reverse("exchange:inbox") + "?tab=all")
    ids = [d.pk for d in response.context["page"]]
    assert delivery.pk not in ids and len(ids) == 1  # only its own copy


def test_the_delivery_page_shows_the_senders_metadata_files_and_trace(client, sent):
    p, document, delivery = sent
    response = _client(client, p.recipient_clerk).get(reverse("exchange:delivery", args=[delivery.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert document.subject in body and document.organ_name in body and 'id="register-form"' in body
    assert reverse("exchange:delivery_file", args=[delivery.pk, document.files.first().pk]) in body
    assert response.context["traces"][0].code == StatusCode.ARRIVED
    download = client.get(reverse("exchange:delivery_file", args=[delivery.pk, document.files.first().pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_register_with_one_click_then_the_delivery_links_to_the_incoming_document(client, sent):
    p, document, delivery = sent
    c = _client(client, p.recipient_clerk)
    response = c.post(reverse("exchange:register", args=[delivery.pk]), {"version": delivery.version})
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.REGISTERED
    assert response.status_code == 302 and response["Location"] == reverse("documents:detail",
                                                                           args=[delivery.received_document_id])
    assert events.REGISTERED in _verbs(delivery)
    page = c.get(response["Location"]).content.decode()
    assert 'id="received-through"' in page and p.sender.name in page  # where it came from
    detail = c.get(reverse("exchange:delivery", args=[delivery.pk])).content.decode()
    assert reverse("documents:detail", args=[delivery.received_document_id]) in detail
    # A second click: the state refuses it, with a message, back to the page.
    again = c.post(reverse("exchange:register", args=[delivery.pk]), follow=True)
    assert [m.level_tag for m in again.context["messages"]] == ["error"]


def test_a_stale_version_is_refused_with_a_message(client, sent):
    p, _document, delivery = sent
    response = _client(client, p.recipient_clerk).post(
        reverse("exchange:register", args=[delivery.pk]), {"version": delivery.version + 5}, follow=True)
    assert list(response.context["messages"])
    assert Delivery.objects.get(pk=delivery.pk).status == StatusCode.ARRIVED


def test_a_possible_duplicate_asks_for_confirmation(client, sent, django_capture_on_commit_callbacks):
    p, document, delivery = sent
    from documents import services as documents_services
    from tests.factories import doc_type

    documents_services.register_incoming(p.recipient_clerk, documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject=document.subject, organ_name=document.organ_name,
        code_number=document.code_number, code_notation=document.code_notation, issued_date=document.issued_date,
        identifier=document.identifier))
    c = _client(client, p.recipient_clerk)
    response = c.post(reverse("exchange:register", args=[delivery.pk]))
    assert response.status_code == 400 and response.context["duplicates"]
    assert 'name="confirm_duplicate"' in response.content.decode()
    response = c.post(reverse("exchange:register", args=[delivery.pk]), {"confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Delivery.objects.get(pk=delivery.pk).status == StatusCode.REGISTERED


def test_return_needs_a_reason(client, sent):
    p, _document, delivery = sent
    c = _client(client, p.recipient_clerk)
    response = c.post(reverse("exchange:return", args=[delivery.pk]), {"reason": ""}, follow=True)
    assert list(response.context["messages"]) and Delivery.objects.get(pk=delivery.pk).status == StatusCode.ARRIVED
    c.post(reverse("exchange:return", args=[delivery.pk]), {"reason": "Gửi nhầm nơi nhận"})
    delivery.refresh_from_db()
    assert delivery.status == StatusCode.RETURNED and delivery.return_reason == "Gửi nhầm nơi nhận"
    assert events.RETURNED in _verbs(delivery)
    assert c.get(reverse("exchange:inbox") + "?tab=returned").context["page"].object_list[0].pk == delivery.pk


def test_the_sender_sees_traces_on_the_document_page_but_cannot_register(client, sent):
    p, document, delivery = sent
    c = _client(client, p.sender_clerk)
    page = c.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert 'id="delivery-status-list"' in page and p.recipient.name in page and p.third.name in page
    assert 'id="recall-form"' in page and reverse("exchange:report", args=[document.pk]) in page
    assert c.get(reverse("exchange:delivery", args=[delivery.pk])).status_code == 200
    assert c.post(reverse("exchange:register", args=[delivery.pk])).status_code == 403
    assert c.get(reverse("exchange:delivery_file", args=[delivery.pk, document.files.first().pk])).status_code == 404
    assert Delivery.objects.get(pk=delivery.pk).status == StatusCode.ARRIVED


def test_recall_from_the_document_page_shows_a_banner_to_the_recipient(client, sent):
    p, document, delivery = sent
    incoming = services.register_delivery(p.recipient_clerk, delivery)
    c = _client(client, p.sender_clerk)
    response = c.post(reverse("exchange:recall", args=[document.pk]), {"reason": "Ban hành nhầm"})
    assert response.status_code == 302
    assert events.RECALLED in _verbs(document)
    client.force_login(p.recipient_clerk)
    page = client.get(reverse("documents:detail", args=[incoming.pk])).content.decode()
    assert 'id="recalled-banner"' in page and "Ban hành nhầm" in page
    # The recipient cannot recall the sender's document.
    assert client.post(reverse("exchange:recall", args=[document.pk]), {"reason": "x"}).status_code == 404


def test_ask_back_then_the_recipient_refuses_then_accepts(client, sent):
    p, document, delivery = sent
    services.register_delivery(p.recipient_clerk, delivery)
    sender = _client(client, p.sender_clerk)
    sender.post(reverse("exchange:ask_back", args=[delivery.pk]), {"reason": "Cần sửa nội dung"})
    assert Delivery.objects.get(pk=delivery.pk).take_back_state == StatusCode.TAKE_BACK_REQUESTED
    client.force_login(p.recipient_clerk)
    page = client.get(reverse("exchange:delivery", args=[delivery.pk])).content.decode()
    assert 'id="take-back-form"' in page and 'id="take-back-banner"' in page
    client.post(reverse("exchange:answer_take_back", args=[delivery.pk]), {"answer": "refuse", "reason": "Đang xử lý"})
    assert Delivery.objects.get(pk=delivery.pk).take_back_state == StatusCode.TAKE_BACK_REFUSED
    client.force_login(p.sender_clerk)
    client.post(reverse("exchange:ask_back", args=[delivery.pk]), {"reason": "Lần hai"})
    client.force_login(p.recipient_clerk)
    client.post(reverse("exchange:answer_take_back", args=[delivery.pk]), {"answer": "accept"})
    delivery.refresh_from_db()
    assert delivery.take_back_state == StatusCode.TAKE_BACK_ACCEPTED and delivery.is_recalled
    assert _verbs(delivery).count(events.TAKE_BACK_ANSWERED) == 2


def test_link_replacement_from_the_document_page(client, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        old = issue(p, p.recipient, subject="Bản cũ")
        new = issue(p, p.recipient, subject="Bản mới")
    c = _client(client, p.sender_clerk)
    page = c.get(reverse("documents:detail", args=[new.pk])).content.decode()
    assert 'id="replacement-form"' in page
    c.post(reverse("exchange:link_replacement", args=[new.pk]), {"earlier": old.pk, "kind": BusinessType.REPLACE})
    newer = delivery_to(new, p.recipient)
    assert newer.business_type == BusinessType.REPLACE and newer.replaces_id == delivery_to(old, p.recipient).pk
    assert events.REPLACEMENT_LINKED in _verbs(new)


def test_internal_document_to_a_unit_is_acknowledged_by_its_leader(client, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, internal_units=(p.unit,))
    delivery = Delivery.objects.get(document=document, recipient_unit=p.unit)
    c = _client(client, p.unit_leader)
    inbox = c.get(reverse("exchange:inbox"))
    assert [d.pk for d in inbox.context["page"]] == [delivery.pk]
    page = c.get(reverse("exchange:delivery", args=[delivery.pk])).content.decode()
    assert 'id="acknowledge-form"' in page and 'id="register-form"' not in page
    c.post(reverse("exchange:acknowledge", args=[delivery.pk]), {"version": delivery.version})
    assert Delivery.objects.get(pk=delivery.pk).status == StatusCode.REGISTERED
    assert events.ACKNOWLEDGED in _verbs(delivery)
    # Staff of the unit are not its leaders: no inbox.
    client.force_login(p.unit_staff)
    assert client.get(reverse("exchange:delivery", args=[delivery.pk])).status_code in (200, 404)
    assert client.get(reverse("exchange:inbox")).status_code == 403


def test_received_redirects_each_reader_to_their_own_copy(client, sent):
    p, document, delivery = sent
    response = _client(client, p.recipient_clerk).get(reverse("exchange:received", args=[document.pk]))
    assert response["Location"] == reverse("exchange:delivery", args=[delivery.pk])
    third = delivery_to(document, p.third)
    client.force_login(p.third_clerk)
    assert client.get(reverse("exchange:received", args=[document.pk]))["Location"] == reverse(
        "exchange:delivery", args=[third.pk])
    client.force_login(p.recipient_staff)
    assert client.get(reverse("exchange:received", args=[document.pk])).status_code == 404


def test_the_delivery_report_names_each_recipient_and_status(client, sent):
    p, document, delivery = sent
    services.return_delivery(p.recipient_clerk, delivery, "Sai thẩm quyền")
    response = _client(client, p.sender_clerk).get(reverse("exchange:report", args=[document.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert p.recipient.name in text and p.third.name in text
    assert "Sai thẩm quyền" in text and "02" in text and "01" in text
    client.force_login(p.third_clerk)  # not the sender: the document is not visible
    assert client.get(reverse("exchange:report", args=[document.pk])).status_code == 404


def test_actions_are_post_only(client, sent):
    p, document, delivery = sent
    c = _client(client, p.recipient_clerk)
    assert c.get(reverse("exchange:register", args=[delivery.pk])).status_code == 405
    assert c.get(reverse("exchange:recall", args=[document.pk])).status_code == 405


def test_login_is_required(client, sent):
    _p, _document, delivery = sent
    assert client.get(reverse("exchange:delivery", args=[delivery.pk])).status_code == 302
    assert PASSWORD
