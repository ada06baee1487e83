"""The exchange's API: lists and details of what you may see (another agency's delivery: 404, never
listed), each action (403 when not yours, 400 with the reason for a bad state, 409 for a stale version), the
sender's view of a document's deliveries, recall and replacement links."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from exchange import events
from exchange.models import BusinessType, Delivery, StatusCode
from tests.exchange.helpers import delivery_to, issue, province

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient, p.third)
    return p, document, delivery_to(document, p.recipient)


def _verbs(target) -> list[str]:
    return list(AuditEvent.objects.filter(verb__startswith="exchange.", target_id=str(target.pk))
                .order_by("id").values_list("verb", flat=True))


def test_the_recipient_lists_and_reads_its_delivery(sent):
    p, document, delivery = sent
    api = client_for(p.recipient_clerk)
    listed = api.get("/api/v1/deliveries/?box=inbox").json()
    assert [d["id"] for d in listed["results"]] == [delivery.pk]
    assert listed["results"][0]["status"] == "01" and listed["results"][0]["number_notation"] == document.number_notation
    detail = api.get(f"/api/v1/deliveries/{delivery.pk}/").json()
    assert [t["code"] for t in detail["traces"]] == ["01"]
    assert detail["files"][0]["sha256"] == document.files.first().blob.sha256
    file_id = detail["files"][0]["id"]
    response = api.get(f"/api/v1/deliveries/{delivery.pk}/files/{file_id}/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


def test_another_agency_gets_404_and_an_empty_list(sent):
    p, _document, delivery = sent
    for user in (p.third_clerk, p.recipient_staff):
        api = client_for(user)
        assert api.get(f"/api/v1/deliveries/{delivery.pk}/").status_code == 404
        assert api.post(f"/api/v1/deliveries/{delivery.pk}/register/", {}, format="json").status_code == 404
        listed = [d["id"] for d in api.get("/api/v1/deliveries/").json()["results"]]
        assert delivery.pk not in listed
    assert client_for(p.recipient_staff).get("/api/v1/deliveries/").json()["results"] == []


def test_register_over_the_api(sent):
    p, _document, delivery = sent
    api = client_for(p.recipient_clerk)
    response = api.post(f"/api/v1/deliveries/{delivery.pk}/register/", {"version": delivery.version}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["delivery"]["status"] == "03" and body["arrival_number"] == 1
    assert Delivery.objects.get(pk=delivery.pk).received_document_id == body["incoming_document"]
    assert events.REGISTERED in _verbs(delivery)
    again = api.post(f"/api/v1/deliveries/{delivery.pk}/register/", {}, format="json")
    assert again.status_code == 400 and again.json()["message"]


def test_a_stale_version_is_a_conflict(sent):
    p, _document, delivery = sent
    api = client_for(p.recipient_clerk)
    response = api.post(f"/api/v1/deliveries/{delivery.pk}/return/", {"reason": "Sai", "version": 99},
                        format="json")
    assert response.status_code == 409
    assert Delivery.objects.get(pk=delivery.pk).status == StatusCode.ARRIVED


def test_the_sender_sees_traces_but_cannot_register(sent):
    p, document, delivery = sent
    api = client_for(p.sender_clerk)
    assert api.post(f"/api/v1/deliveries/{delivery.pk}/register/", {}, format="json").status_code == 403
    rows = api.get(f"/api/v1/documents/{document.pk}/deliveries/").json()
    assert {r["recipient_agency"] for r in rows} == {p.recipient.pk, p.third.pk}
    assert all(r["traces"][0]["code"] == "01" for r in rows)
    sent_box = api.get("/api/v1/deliveries/?box=sent").json()["results"]
    assert {d["id"] for d in sent_box} == set(Delivery.objects.filter(document=document).values_list("pk", flat=True))
    assert api.get(f"/api/v1/deliveries/{delivery.pk}/files/{document.files.first().pk}/").status_code == 404
    # Another agency does not see the document's deliveries.
    assert client_for(p.third_clerk).get(f"/api/v1/documents/{document.pk}/deliveries/").status_code == 404


def test_return_needs_a_reason(sent):
    p, document, delivery = sent
    api = client_for(p.recipient_clerk)
    assert api.post(f"/api/v1/deliveries/{delivery.pk}/return/", {}, format="json").status_code == 400
    response = api.post(f"/api/v1/deliveries/{delivery.pk}/return/", {"reason": "Gửi nhầm"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "02"
    assert response.json()["return_reason"] == "Gửi nhầm"
    assert events.RETURNED in _verbs(delivery) and events.RETURNED in _verbs(document)


def test_ask_back_and_take_back_over_the_api(sent):
    p, document, delivery = sent
    client_for(p.recipient_clerk).post(f"/api/v1/deliveries/{delivery.pk}/register/", {}, format="json")
    sender = client_for(p.sender_clerk)
    assert client_for(p.recipient_clerk).post(f"/api/v1/deliveries/{delivery.pk}/ask-back/", {"reason": "x"},
                                              format="json").status_code == 403
    response = sender.post(f"/api/v1/deliveries/{delivery.pk}/ask-back/", {"reason": "Cần sửa"}, format="json")
    assert response.status_code == 200 and response.json()["take_back_state"] == "13"
    recipient = client_for(p.recipient_clerk)
    refused = recipient.post(f"/api/v1/deliveries/{delivery.pk}/take-back/", {"accept": False}, format="json")
    assert refused.status_code == 400  # a refusal needs a reason
    refused = recipient.post(f"/api/v1/deliveries/{delivery.pk}/take-back/", {"accept": False, "reason": "Đang xử lý"},
                             format="json")
    assert refused.status_code == 200 and refused.json()["take_back_state"] == "16"
    assert events.TAKE_BACK_ANSWERED in _verbs(delivery)
    # Not asked back any more: answering again is a bad state.
    assert recipient.post(f"/api/v1/deliveries/{delivery.pk}/take-back/", {"accept": True},
                          format="json").status_code == 400


def test_recall_and_replacement_over_the_api(django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        old = issue(p, p.recipient, subject="Bản cũ")
        new = issue(p, p.recipient, subject="Bản mới")
    sender = client_for(p.sender_clerk)
    assert client_for(p.recipient_clerk).post(f"/api/v1/documents/{new.pk}/recall/", {"reason": "x"},
                                              format="json").status_code == 404
    response = sender.post(f"/api/v1/documents/{new.pk}/replaces/", {"earlier": old.pk, "kind": BusinessType.UPDATE},
                           format="json")
    assert response.status_code == 200 and response.json() == {"linked": 1}
    assert delivery_to(new, p.recipient).replaces_id == delivery_to(old, p.recipient).pk
    assert sender.post(f"/api/v1/documents/{old.pk}/recall/", {}, format="json").status_code == 400
    response = sender.post(f"/api/v1/documents/{old.pk}/recall/", {"reason": "Ban hành nhầm"}, format="json")
    assert response.status_code == 200 and response.json() == {"recalled": 1}
    assert events.RECALLED in _verbs(old)
    again = sender.post(f"/api/v1/documents/{old.pk}/recall/", {"reason": "Lần nữa"}, format="json")
    assert again.status_code == 400


def test_internal_delivery_acknowledged_by_the_unit_leader(django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, internal_units=(p.unit,))
    delivery = Delivery.objects.get(document=document, recipient_unit=p.unit)
    leader = client_for(p.unit_leader)
    assert [d["id"] for d in leader.get("/api/v1/deliveries/?box=inbox").json()["results"]] == [delivery.pk]
    assert leader.post(f"/api/v1/deliveries/{delivery.pk}/register/", {}, format="json").status_code == 400
    response = leader.post(f"/api/v1/deliveries/{delivery.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "03"
    assert events.ACKNOWLEDGED in _verbs(delivery)


def test_schema_has_the_exchange_routes_without_warnings(api_schema_text):
    text = api_schema_text  # generated with --validate --fail-on-warn (tests/conftest.py)
    for route in ("/api/v1/deliveries/{id}/register/", "/api/v1/deliveries/{id}/take-back/",
                  "/api/v1/documents/{document_id}/deliveries/", "/api/v1/documents/{document_id}/replaces/"):
        assert route in text


def test_a_possible_duplicate_answers_409_as_registering_incoming_does(sent):
    """The paper copy was registered first: the delivery's registration is refused with the duplicate named (the
    same answer as POST /api/v1/documents/incoming/), then goes through when confirmed."""
    from documents import services as documents_services
    from tests.factories import doc_type

    p, document, delivery = sent
    paper = documents_services.register_incoming(p.recipient_clerk, documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject=document.subject, organ_name=document.organ_name,
        code_number=document.code_number, code_notation=document.code_notation, issued_date=document.issued_date,
        identifier=document.identifier))
    api = client_for(p.recipient_clerk)
    refused = api.post(f"/api/v1/deliveries/{delivery.pk}/register/", {}, format="json")
    assert refused.status_code == 409 and [d["id"] for d in refused.json()["duplicates"]] == [paper.pk]
    assert Delivery.objects.get(pk=delivery.pk).status == StatusCode.ARRIVED
    done = api.post(f"/api/v1/deliveries/{delivery.pk}/register/", {"confirm_duplicate": True}, format="json")
    assert done.status_code == 200 and Delivery.objects.get(pk=delivery.pk).status == StatusCode.REGISTERED


def test_a_damaged_file_answers_409(sent):
    """Delivery downloads go through documents.downloads like the document's own: the bytes are checked first."""
    from django.core.files.storage import default_storage

    p, document, delivery = sent
    doc_file = document.files.select_related("blob").get()
    with default_storage.open(doc_file.blob.storage_name, "wb") as handle:
        handle.write(b"%PDF-1.7 tampered")
    answer = client_for(p.recipient_clerk).get(f"/api/v1/deliveries/{delivery.pk}/files/{doc_file.pk}/")
    assert answer.status_code == 409 and answer.json()["file"] == doc_file.original_name
