"""edXML with another system, one installation at a time: the package built, signed, parsed and verified; the
inbound endpoint accepting a signed package from a configured peer, and refusing every bad one with its reason
and nothing created; the outbox posting with backoff; statuses both ways."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, replace

import pytest
from django.test import override_settings
from django.utils import timezone
from lxml import etree

from accounts.models import Agency, User
from documents.models import Document, DocumentFile
from documents.storage import read_blob
from exchange import edxml, outbound, services
from exchange.models import (
    BusinessType,
    Delivery,
    InboundPackage,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    Peer,
    StatusCode,
    StatusTrace,
)
from notifications.models import NoticeEvent
from signatures.pki import DemoPki, build_demo_pki
from tests.factories import AgencyFactory, UserFactory, clerk, make_pdf

from .edxml_support import IdentityHolder, add_peer, install_seal, install_trust, pem
from .helpers import delivery_to

pytestmark = pytest.mark.django_db

URL = "/api/v1/exchange/edxml/"


@dataclass
class World:
    pki: DemoPki
    ours: Agency
    remote: Agency
    peer: Peer
    clerk: User
    holder: IdentityHolder


@pytest.fixture
def world() -> World:
    pki = build_demo_pki(seals={"ours": "Sở Nội vụ", "remote": "Sở Tài chính tỉnh Lạng Sơn"})
    ours, remote = AgencyFactory(), AgencyFactory(name="Sở Tài chính tỉnh Lạng Sơn")
    admin = UserFactory(is_superuser=True, is_staff=True, agency=ours)
    install_trust(admin, pki)
    install_seal(admin, ours, pki.seals["ours"])
    peer = add_peer(remote, pki.seals["remote"], "http://peer.invalid/api/v1/exchange/edxml/")
    return World(pki=pki, ours=ours, remote=remote, peer=peer, clerk=clerk(ours),
                 holder=IdentityHolder(pki.seals["remote"], [pki.issuing_ca.certificate]))


PDF = make_pdf(text="Công văn từ hệ thống khác")


def edoc(w: World, **changes) -> edxml.Edoc:
    today = timezone.localdate()
    number = changes.pop("code_number", "15")
    base = edxml.Edoc(
        sender=edxml.Organ(w.remote.identifier, w.remote.name), recipients=[edxml.Organ(w.ours.identifier, w.ours.name)],
        document_id=f"{w.remote.identifier},{today:%Y/%m/%d},{number}/STC-NS", code_number=number,
        code_notation="STC-NS", place="Lạng Sơn", promulgation_date=today, type_name="Công văn",
        subject="Về việc quyết toán ngân sách năm", timestamp=timezone.now(), signer_name="Trần Văn Tài",
        signer_position="Giám đốc", to_places=["Như trên", "Lưu: VT"], priority=1,
        attachments=[edxml.Attachment("cv-15.pdf", "application/pdf", PDF)],
    )
    return replace(base, **changes)


def signed(w: World, package: edxml.Edoc | edxml.Status, holder=None) -> bytes:
    build = edxml.build_edoc if isinstance(package, edxml.Edoc) else edxml.build_status
    return edxml.sign(build(package), holder or w.holder)


def post(client, data: bytes):
    """Reasons are in the installation's language (Vietnamese by default); these tests read them in English."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(URL, data=data, content_type="application/xml")


def counts() -> tuple[int, ...]:
    return (Document.objects.count(), Delivery.objects.count(), InboundPackage.objects.count(),
            StatusTrace.objects.count(), OutboundMessage.objects.count(), DocumentFile.objects.count())


class Posted:
    """requests.post replaced: records what the outbox posted and answers as told."""

    def __init__(self, status: int = 200, body: dict | None = None) -> None:
        self.status, self.body, self.calls = status, body or {"status": "accepted"}, []

    def __call__(self, url, data, **kwargs):
        self.calls.append((url, data))
        status, body = self.status, self.body

        class Response:
            status_code = status
            text = str(body)

            def json(self):
                return body

        return Response()


@pytest.fixture
def posted(monkeypatch) -> Posted:
    fake = Posted()
    monkeypatch.setattr(outbound.requests, "post", fake)
    return fake


def read_posted(w: World, data: bytes, certificate=None) -> etree._Element:
    root = edxml.parse(data, max_bytes=10**8)
    return edxml.verify(root, certificate or w.pki.seals["ours"].certificate)


# --- the package itself ------------------------------------------------------------------------------------


def test_build_sign_parse_verify_round_trip(world):
    data = signed(world, edoc(world))
    root = edxml.parse(data, max_bytes=10**7)
    assert edxml.sender_organ_id(root) == world.remote.identifier and edxml.message_type(root) == "edoc"
    content = edxml.verify(root, world.pki.seals["remote"].certificate)
    back = edxml.read_edoc(content, today=timezone.localdate(), max_attachment_bytes=10**7)
    assert (back.subject, back.code_number, back.priority, back.to_places) == (
        "Về việc quyết toán ngân sách năm", "15", 1, ["Như trên", "Lưu: VT"])
    assert back.attachments[0].content == PDF and back.attachments[0].name == "cv-15.pdf"
    # QCVN 102: every element in the edXML namespace with its prefix, the signature in the header over URI="".
    assert data.count(b"<edXML:") > 40 and b"<Subject" not in data
    signature = root.find(f".//{{{edxml.DS}}}Signature")
    assert signature.getparent().tag == f"{{{edxml.NS}}}edXMLHeader"
    assert signature.find(f".//{{{edxml.DS}}}Reference").get("URI") == ""
    assert signature.find(f".//{{{edxml.DS}}}SignatureMethod").get("Algorithm").endswith("rsa-sha256")


def test_the_attachments_are_under_the_signature(world):
    data = signed(world, edoc(world))
    encoded = base64.b64encode(PDF)
    tampered = data.replace(encoded, base64.b64encode(PDF.replace(b"%PDF-1.", b"%PDF-2.", 1)))
    assert tampered != data
    with pytest.raises(edxml.PackageRefused) as refused:
        edxml.verify(edxml.parse(tampered, max_bytes=10**7), world.pki.seals["remote"].certificate)
    assert refused.value.code == "bad_signature"


def test_an_attachment_beyond_the_default_xml_text_limit_round_trips(world):
    big = b"%PDF-1.4\n" + bytes(range(256)) * (32 * 1024) + b"\n%%EOF"  # 8 MB: 11 MB of base64 in one text node
    data = signed(world, edoc(world, attachments=[edxml.Attachment("big.pdf", "application/pdf", big)]))
    content = edxml.verify(edxml.parse(data, max_bytes=len(data)), world.pki.seals["remote"].certificate)
    back = edxml.read_edoc(content, today=timezone.localdate(), max_attachment_bytes=len(big))
    assert back.attachments[0].content == big


# --- inbound: accepted -------------------------------------------------------------------------------------


def test_a_signed_document_from_a_peer_arrives_and_01_goes_back(world, client, posted):
    response = post(client, signed(world, edoc(world)))
    assert response.status_code == 200, response.content
    delivery = Delivery.objects.get()
    document = delivery.document
    assert (delivery.status, delivery.sender_agency, delivery.recipient_agency) == (
        StatusCode.ARRIVED, world.remote, world.ours)
    assert (document.agency, document.direction, document.identifier, document.organ_name) == (
        world.remote, "outgoing", edoc(world).document_id, world.remote.name)
    assert document.register.code == "EDXML" and document.document_type.code == "cong-van"
    assert document.urgency == 1 and document.to_places == "Như trên\nLưu: VT"
    (doc_file,) = document.files.select_related("blob")
    assert (doc_file.original_name, doc_file.is_main, doc_file.blob.size) == ("cv-15.pdf", True, len(PDF))
    assert InboundPackage.objects.get().delivery == delivery
    # The arrival (01) is queued back to the peer, signed with our seal.
    message = OutboundMessage.objects.get()
    assert (message.kind, message.status_code, message.peer) == (OutboundKind.STATUS, "01", world.peer)
    assert outbound.send(message.pk) == OutboundState.SENT
    url, data = posted.calls[-1]
    status = edxml.read_status(read_posted(world, data))
    assert url == world.peer.inbound_url
    assert (status.status_code, status.document_id, status.sender.organ_id, status.recipient_organ_id) == (
        "01", document.identifier, world.ours.identifier, world.remote.identifier)

    # Registering it here is an ordinary registration; the 03 goes back the same way.
    incoming = services.register_delivery(world.clerk, delivery)
    assert incoming.agency == world.ours and incoming.files.get().blob_id == doc_file.blob_id
    three = OutboundMessage.objects.get(status_code="03")
    assert outbound.send(three.pk) == OutboundState.SENT
    assert edxml.read_status(read_posted(world, posted.calls[-1][1])).status_code == "03"


def test_a_recall_from_the_peer_freezes_our_copy(world, client):
    assert post(client, signed(world, edoc(world))).status_code == 200
    recall = edoc(world, business_type=1, business_reason="Sai thể thức", attachments=[],
                  timestamp=timezone.now() + dt.timedelta(seconds=1))
    response = post(client, signed(world, recall))
    assert response.status_code == 200, response.content
    delivery = Delivery.objects.get()
    assert delivery.is_recalled and delivery.recall_reason == "Sai thể thức"


# --- inbound: refused, with the reason, nothing created -----------------------------------------------------


def refused(client, data: bytes, status: int, code: str, *words: str) -> None:
    before = counts()
    response = post(client, data)
    body = response.json()
    assert (response.status_code, body["code"]) == (status, code), body
    for word in words:
        assert word in body["detail"], body
    assert counts() == before


def test_tampered_package_is_refused(world, client):
    data = signed(world, edoc(world)).replace("quyết toán".encode(), "tạm ứng".encode())
    refused(client, data, 403, "bad_signature", "does not verify")


def test_unsigned_package_is_refused(world, client):
    data = etree.tostring(edxml.build_edoc(edoc(world)), xml_declaration=True, encoding="UTF-8")
    refused(client, data, 403, "unsigned", "not signed")


def test_oversized_package_is_refused(world, client):
    data = signed(world, edoc(world))
    with override_settings(EXCHANGE_MAX_PACKAGE_BYTES=len(data) - 1):
        refused(client, data, 413, "too_large", "larger than the limit")


def test_replayed_package_is_refused(world, client):
    data = signed(world, edoc(world))
    assert post(client, data).status_code == 200
    refused(client, data, 409, "replayed", "already been received")


def test_the_same_document_sent_again_is_a_duplicate(world, client):
    assert post(client, signed(world, edoc(world))).status_code == 200
    again = edoc(world, timestamp=timezone.now() + dt.timedelta(seconds=2))
    refused(client, signed(world, again), 409, "duplicate", "already been received")


def test_package_signed_with_another_certificate_is_refused(world, client):
    other = IdentityHolder(world.pki.seals["ours"])  # trusted, but not the certificate configured for the peer
    refused(client, signed(world, edoc(world), other), 403, "wrong_certificate", "not the one configured")


def test_peer_certificate_outside_the_trust_store_is_refused(world, client):
    stranger = build_demo_pki(seals={"x": "Sở Tài chính tỉnh Lạng Sơn"}).seals["x"]
    Peer.objects.filter(pk=world.peer.pk).update(certificate_pem=pem(stranger))
    refused(client, signed(world, edoc(world), IdentityHolder(stranger)), 403, "untrusted_certificate",
            "not accepted")


def test_unknown_sender_is_refused(world, client):
    stranger = AgencyFactory()
    package = edoc(world, sender=edxml.Organ(stranger.identifier, stranger.name),
                   document_id=f"{stranger.identifier},2026/01/05,15/STC-NS")
    refused(client, signed(world, package), 403, "unknown_peer", stranger.identifier)


def test_inactive_peer_is_refused(world, client):
    Peer.objects.filter(pk=world.peer.pk).update(is_active=False)
    refused(client, signed(world, edoc(world)), 403, "inactive_peer", "suspended")


@pytest.mark.parametrize(("changes", "reason"), [
    ({"priority": 7}, "OtherInfo/Priority must be one of 0, 1, 2, 3, 4"),
    ({"steering_type": 5}, "SteeringType must be one of 0, 1, 2"),
    ({"business_type": 9}, "BussinessDocType must be one of 0, 1, 2, 3"),
    ({"type_code": 18}, "DocumentType/Type must be one of 1, 2"),
    ({"subject": "x" * 501}, "Subject is longer than 500 characters"),
    ({"place": "p" * 51}, "PromulgationInfo/Place is longer than 50 characters"),
    ({"typer_notation": "t" * 11}, "OtherInfo/TyperNotation is longer than 10 characters"),
    ({"to_places": ["n" * 151]}, "is longer than 150 characters"),
    ({"code_number": ""}, "Code/CodeNumber is missing"),
    ({"promulgation_date": timezone.localdate() + dt.timedelta(days=3)}, "PromulgationDate is in the future"),
    ({"attachments": []}, "at least one attachment"),
])
def test_bad_codes_and_lengths_are_refused(world, client, changes, reason):
    refused(client, signed(world, edoc(world, **changes)), 400, "invalid", reason)


def test_bad_organ_id_is_refused(world, client):
    package = edoc(world, recipients=[edxml.Organ("h10.bad-id", "x")])
    refused(client, signed(world, package), 400, "invalid", "To")


def test_bad_date_format_is_refused(world, client):
    root = edxml.build_edoc(edoc(world))
    node = root.find(".//edXML:PromulgationDate", edxml.NSMAP)
    node.text = node.text.replace("/", "-")
    refused(client, edxml.sign(root, world.holder), 400, "invalid", "yyyy/MM/dd")


def test_stale_package_is_refused(world, client):
    package = edoc(world, timestamp=timezone.now() - dt.timedelta(days=8))
    refused(client, signed(world, package), 400, "stale", "too old")


def test_unknown_recipient_is_refused(world, client):
    package = edoc(world, recipients=[edxml.Organ("H77.77", "Nowhere")])
    refused(client, signed(world, package), 400, "unknown_recipient", "H77.77")


def test_doctype_and_malformed_xml_are_refused(world, client):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<edXML:edXML xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">&b;</edXML:edXML>')
    refused(client, bomb, 400, "doctype", "document type declaration")
    refused(client, b"<edXML:edXML xmlns:edXML='x'><unclosed></edXML:edXML>", 400, "malformed", "not well-formed")
    refused(client, b"<html/>", 400, "malformed", "not an edXML document")


def test_other_encodings_are_refused(world, client):
    hidden = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "a">]><x>&a;</x>'.encode("utf-16")
    refused(client, hidden, 400, "malformed", "UTF-8")


def test_the_peer_asks_back_and_our_answer_goes_to_it(world, client, posted):
    assert post(client, signed(world, edoc(world))).status_code == 200
    delivery = Delivery.objects.get()
    document = delivery.document
    ask = edxml.Status(
        sender=edxml.Organ(world.remote.identifier, world.remote.name), recipient_organ_id=world.ours.identifier,
        document_organ_id=world.remote.identifier, document_id=document.identifier, code=document.number_notation,
        promulgation_date=document.issued_date, status_code="13", description="Cần sửa trích yếu",
        timestamp=timezone.now() + dt.timedelta(seconds=1))
    assert post(client, signed(world, ask)).status_code == 200
    delivery.refresh_from_db()
    assert delivery.take_back_state == "13" and delivery.traces.filter(code="13").exists()
    assert not OutboundMessage.objects.filter(status_code="13").exists()  # not echoed
    services.answer_take_back(world.clerk, delivery, accept=True)
    answer = OutboundMessage.objects.get(status_code="15")
    assert outbound.send(answer.pk) == OutboundState.SENT
    sent = edxml.read_status(read_posted(world, posted.calls[-1][1]))
    assert (sent.status_code, sent.document_id, sent.recipient_organ_id) == (
        "15", document.identifier, world.remote.identifier)
    delivery.refresh_from_db()
    assert delivery.is_recalled


def test_only_xml_is_accepted(world, client):
    response = client.post(URL, data=b"{}", content_type="application/json")
    assert response.status_code == 415 and response.json()["code"] == "content_type"
    assert client.get(URL).status_code == 405


# --- outbound ----------------------------------------------------------------------------------------------


def issue_to_peer(w: World) -> Delivery:
    from documents import services as documents_services
    from tests.exchange.helpers import pdf_upload
    from tests.factories import doc_type

    data = documents_services.OutgoingInput(
        document_type_id=doc_type("cong-van").pk, subject="Về việc phối hợp liên tỉnh", signer_name="Lê Văn Ký",
        signer_position="Giám đốc", recipients=[documents_services.RecipientInput(agency_id=w.remote.pk)],
    )
    document = documents_services.register_outgoing(w.clerk, data, [pdf_upload()])
    return delivery_to(document, w.remote)


def test_a_document_to_an_agency_served_by_a_peer_leaves_as_a_signed_package(world, posted):
    delivery = issue_to_peer(world)
    assert services.complete_arrivals(delivery.document_id) == 0  # it does not arrive here
    assert services.pending_count(delivery.document_id) == 0
    delivery.refresh_from_db()
    assert delivery.status == ""
    message = OutboundMessage.objects.get()
    assert (message.kind, message.business_type, message.peer, message.state) == (
        OutboundKind.EDOC, 0, world.peer, OutboundState.PENDING)
    assert outbound.send(message.pk) == OutboundState.SENT
    message.refresh_from_db()
    assert message.state == OutboundState.SENT and message.attempts == 1 and message.sent_at
    sent = edxml.read_edoc(read_posted(world, posted.calls[0][1]), today=timezone.localdate(),
                           max_attachment_bytes=10**8)
    assert sent.document_id == delivery.document.identifier and sent.recipients[0].organ_id == world.remote.identifier
    assert sent.attachments[0].content == read_blob(delivery.document.files.get().blob)
    assert outbound.send(message.pk) == "skipped"  # accepted: a redelivered task does nothing


def test_outbox_backs_off_until_accepted_and_gives_up_on_a_refused_package(world, posted):
    delivery = issue_to_peer(world)
    message = OutboundMessage.objects.get(delivery=delivery)
    posted.status, posted.body = 503, {}
    before = timezone.now()
    assert outbound.send(message.pk) == OutboundState.PENDING
    message.refresh_from_db()
    assert message.attempts == 1 and "HTTP 503" in message.last_error
    assert dt.timedelta(seconds=29) < message.next_attempt_at - before < dt.timedelta(seconds=40)
    assert outbound.send(message.pk) == OutboundState.PENDING
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at - before > dt.timedelta(seconds=59)
    posted.status, posted.body = 409, {"code": "replayed", "detail": "already"}
    assert outbound.send(message.pk) == OutboundState.SENT  # the peer had it already: done

    recall = services.recall_document(world.clerk, delivery.document, "Sai số ký hiệu")
    assert recall == 1
    revoke = OutboundMessage.objects.get(business_type=1)
    posted.status, posted.body = 400, {"code": "invalid", "detail": "Subject is missing."}
    assert outbound.send(revoke.pk) == OutboundState.FAILED


def test_statuses_from_the_peer_move_our_delivery_forward_and_13_goes_out(world, client, posted):
    delivery = issue_to_peer(world)
    document = delivery.document

    def status(code: str, seconds: int, description: str = "") -> bytes:
        return signed(world, edxml.Status(
            sender=edxml.Organ(world.remote.identifier, world.remote.name), recipient_organ_id=world.ours.identifier,
            document_organ_id=document.organ_id, document_id=document.identifier, code=document.number_notation,
            promulgation_date=document.issued_date, status_code=code, description=description,
            timestamp=timezone.now() + dt.timedelta(seconds=seconds), staff_name="Văn thư Sở Tài chính"))

    for code, seconds in (("01", 0), ("03", 1), ("05", 2)):
        assert post(client, status(code, seconds)).status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "05" and delivery.arrived_at and delivery.registered_at
    assert list(delivery.traces.values_list("code", flat=True)) == ["01", "03", "05"]
    assert not OutboundMessage.objects.filter(kind=OutboundKind.STATUS).exists()  # nothing echoed back
    late = status("04", 3)
    assert post(client, late).status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "05"  # a late 04 never hides a 05

    services.ask_back(world.clerk, delivery, "Cần bổ sung phụ lục")
    ask = OutboundMessage.objects.get(kind=OutboundKind.STATUS)
    assert ask.status_code == "13" and outbound.send(ask.pk) == OutboundState.SENT
    sent = edxml.read_status(read_posted(world, posted.calls[-1][1]))
    assert (sent.status_code, sent.description, sent.recipient_organ_id) == (
        "13", "Cần bổ sung phụ lục", world.remote.identifier)
    assert post(client, status("15", 4, "Đồng ý")).status_code == 200
    delivery.refresh_from_db()
    assert delivery.take_back_state == "15" and delivery.is_recalled


def test_status_for_an_unknown_document_is_refused(world, client):
    package = edxml.Status(
        sender=edxml.Organ(world.remote.identifier, world.remote.name), recipient_organ_id=world.ours.identifier,
        document_organ_id=world.ours.identifier, document_id=f"{world.ours.identifier},2026/01/01,1/X",
        code="1/X", promulgation_date=dt.date(2026, 1, 1), status_code="03", timestamp=timezone.now())
    refused(client, signed(world, package), 400, "unknown_document", "No delivery")
    bad = replace(package, status_code="07")
    refused(client, signed(world, bad), 400, "invalid", "StatusCode must be one of")


# --- update / replace with a peer, packages given up -------------------------------------------------------


def test_an_update_of_a_document_sent_to_a_peer_leaves_as_business_type_2_naming_the_earlier(world, posted):
    first, second = issue_to_peer(world), issue_to_peer(world)
    assert services.link_replacement(world.clerk, second.document, first.document, BusinessType.UPDATE) == 1
    link = OutboundMessage.objects.get(business_type=BusinessType.UPDATE)
    assert (link.delivery_id, link.key, link.kind) == (second.pk, f"edoc:{second.pk}:2", OutboundKind.EDOC)
    assert outbound.send(link.pk) == OutboundState.SENT
    sent = edxml.read_edoc(read_posted(world, posted.calls[-1][1]), today=timezone.localdate(),
                           max_attachment_bytes=10**8)
    assert (sent.business_type, sent.business_document_id, sent.document_id) == (
        2, first.document.identifier, second.document.identifier)
    assert sent.business_reason == "Cập nhật văn bản điện tử" and sent.attachments
    services.link_replacement(world.clerk, second.document, first.document, BusinessType.UPDATE)
    assert OutboundMessage.objects.filter(business_type=BusinessType.UPDATE).count() == 1  # once per delivery


def test_an_update_from_the_peer_links_our_copy_whichever_package_comes_first(world, client, posted):
    older, newer, other = edoc(world, code_number="15"), edoc(world, code_number="16"), edoc(world, code_number="17")
    for package in (older, newer):
        assert post(client, signed(world, package)).status_code == 200
    update = replace(newer, business_type=2, business_document_id=older.document_id,
                     timestamp=newer.timestamp + dt.timedelta(seconds=1))
    response = post(client, signed(world, update))
    assert response.status_code == 200 and response.json()["kind"] == "link", response.json()
    first = Delivery.objects.get(document__identifier=older.document_id)
    linked = Delivery.objects.get(document__identifier=newer.document_id)
    assert (linked.replaces_id, linked.business_type) == (first.pk, 2)
    assert NoticeEvent.objects.filter(kind="exchange.replaced").count() == 1
    assert post(client, signed(world, update)).json()["code"] == "replayed"
    again = replace(update, timestamp=update.timestamp + dt.timedelta(seconds=1))
    assert post(client, signed(world, again)).json()["code"] == "duplicate"  # linked already: nothing new

    replacing = replace(other, business_type=3, business_document_id=older.document_id)
    assert post(client, signed(world, replacing)).status_code == 200  # the replacement came first: arrives linked
    (received,) = Delivery.objects.filter(document__identifier=other.document_id)
    assert (received.replaces_id, received.business_type) == (first.pk, 3)
    late_new = replace(other, timestamp=other.timestamp + dt.timedelta(seconds=1))
    assert post(client, signed(world, late_new)).json()["code"] == "duplicate"  # the sender takes it as received
    assert Delivery.objects.filter(document__identifier=other.document_id).count() == 1


def test_a_package_given_up_for_good_tells_the_clerk_who_registered_the_document(world, posted):
    refused_delivery = issue_to_peer(world)
    message = OutboundMessage.objects.get(delivery=refused_delivery)
    posted.status, posted.body = 400, {"code": "invalid", "detail": "Subject is missing."}
    assert outbound.send(message.pk) == OutboundState.FAILED
    event = NoticeEvent.objects.get(kind="exchange.package_failed")
    assert event.key == f"exchange.package_failed:{message.pk}" and event.audience["user_ids"] == [world.clerk.pk]
    assert event.params["number"] == refused_delivery.document.number_notation
    assert event.params["recipient"] == world.peer.name and "Subject is missing." in event.params["reason"]
    assert event.document_id == refused_delivery.document_id

    stale = OutboundMessage.objects.get(delivery=issue_to_peer(world))
    OutboundMessage.objects.filter(pk=stale.pk).update(timestamp=timezone.now() - dt.timedelta(days=8))
    posted.status, posted.body = 503, {}
    assert outbound.send(stale.pk) == OutboundState.FAILED
    assert NoticeEvent.objects.filter(kind="exchange.package_failed").count() == 2
    pending = OutboundMessage.objects.get(delivery=issue_to_peer(world))
    assert outbound.send(pending.pk) == OutboundState.PENDING  # still retried: nobody is told yet
    assert NoticeEvent.objects.filter(kind="exchange.package_failed").count() == 2
