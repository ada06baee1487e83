"""Packages posted by other systems: refused with a reason, or applied in one transaction.

The order of the checks is the order of trust: size and shape (before anything is parsed twice), the sender's
claimed OrganId only to find its peer row, the signature against that peer's configured certificate (the
certificate in KeyInfo must be that very one: this authenticates the peer), the certificate's chain to our
trust store, then the fields (lengths, codes, dates) read from the signed content only, the time window and the
replay key. Nothing is written before all of that passed; then the rows come in one transaction (files are
stored content-addressed before it, as every upload is: an unreferenced blob is harmless).

How a document from another system lives here: the peer's agency is a node of our tree (Peer.agency), and its
document is kept as an outgoing document of that agency, numbered in a per-year "received electronically"
series of it (never in a local register), with the package's files as blobs. The delivery to our agency then
points to it exactly like a delivery between two agencies of this installation, so registering, returning,
handling, being asked back and recalls all go through the same services and pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agency
from audit.services import record_event
from documents import services as documents_services
from documents.models import Direction, Document, DocumentType, Register, RegisterKind, Urgency
from documents.storage import store_blob
from documents.uploads import UploadRejected, check_upload
from eoffice import notices
from signatures import keys, trust
from signatures.verifying import request_verification

from . import edxml, events, services
from .models import PROGRESS_ORDER, BusinessType, Delivery, InboundPackage, OutboundKind, Peer, StatusCode, StatusTrace
from .peers import max_package_bytes, package_max_age

logger = logging.getLogger(__name__)

GATEWAY_USERNAME = "edxml-gateway"
"""The account that registers other systems' documents here (inactive: nobody logs in with it)."""
EDXML_SERIES = "EDXML"
FUTURE_SKEW = dt.timedelta(minutes=5)


@dataclass
class Accepted:
    kind: str
    deliveries: list[int] = field(default_factory=list)
    detail: str = ""


def receive(data: bytes) -> Accepted:
    """Check and apply one posted package; PackageRefused (with its HTTP status) when it cannot be accepted."""
    root = edxml.parse(data, max_bytes=max_package_bytes())
    organ_id = edxml.sender_organ_id(root)
    peer = Peer.objects.select_related("agency").filter(organ_id=organ_id).first()
    if peer is None:
        raise edxml.PackageRefused("unknown_peer", _("No other system is configured for the sender %(organ)s.")
                                   % {"organ": organ_id[:35] or "?"}, http_status=403)
    if not peer.is_active:
        raise edxml.PackageRefused("inactive_peer", _("Exchange with %(organ)s is suspended.") % {"organ": organ_id},
                                   http_status=403)
    certificate = peer.certificate()
    signed = edxml.verify(root, certificate)
    _check_trust(certificate)
    digest = hashlib.sha256(data).hexdigest()
    if edxml.message_type(signed) == "status":
        status = edxml.read_status(signed)
        _check_from(status.sender.organ_id, peer)
        _check_time(status.timestamp)
        return _apply_status(peer, status, digest, len(data))
    edoc = edxml.read_edoc(signed, today=timezone.localdate(), max_attachment_bytes=settings.MAX_UPLOAD_BYTES)
    _check_from(edoc.sender.organ_id, peer)
    _check_time(edoc.timestamp)
    return _apply_edoc(peer, edoc, digest, len(data))


def _check_from(organ_id: str, peer: Peer) -> None:
    if organ_id != peer.organ_id:  # cannot differ once signed, kept as a guard of the invariant
        raise edxml.PackageRefused("wrong_certificate", _("The sender does not match the signature."), http_status=403)


def _check_trust(certificate) -> None:
    """The peer's seal must chain to our trust store and be usable as a seal now (not revoked by a CRL we hold).
    Settable off (EXCHANGE_REQUIRE_TRUSTED_PEERS=false) for peers whose CA is not in the trust store."""
    if not getattr(settings, "EXCHANGE_REQUIRE_TRUSTED_PEERS", True):
        return
    now = timezone.now()
    try:
        keys.check_certificate(certificate, purpose="seal", at=now, crls=trust.revocation_lists())
        keys.check_chain(certificate, trust.chain_from_trust_store(certificate), trust.trust_roots(), now)
    except keys.CertificateRefused as error:
        raise edxml.PackageRefused("untrusted_certificate", _("The sender's certificate is not accepted: %(reason)s")
                                   % {"reason": error.message}, http_status=403) from None


def _check_time(moment: dt.datetime) -> None:
    now = timezone.now()
    if moment > now + FUTURE_SKEW:
        raise edxml.PackageRefused("stale", _("The package is dated in the future (%(time)s).") % {"time": moment})
    if moment < now - package_max_age():
        raise edxml.PackageRefused("stale", _("The package is too old to be accepted (%(time)s).") % {"time": moment})


def _remember(peer: Peer, *, kind: str, key: str, document_id: str, timestamp: dt.datetime, digest: str, size: int,
              business_type: int | None = None, status_code: str = "", delivery: Delivery | None = None) -> None:
    """The replay record, first thing in the applying transaction (a concurrent twin fails on the unique key)."""
    if InboundPackage.objects.filter(replay_key=key).exists():
        raise edxml.PackageRefused("replayed", _("This package has already been received."), http_status=409)
    try:
        with transaction.atomic():
            InboundPackage.objects.create(peer=peer, replay_key=key, kind=kind, document_identifier=document_id[:120],
                                          business_type=business_type, status_code=status_code,
                                          package_timestamp=timestamp, sha256=digest, size=size, delivery=delivery)
    except IntegrityError:
        raise edxml.PackageRefused("replayed", _("This package has already been received."), http_status=409) from None


def _gateway_user():
    user_model = get_user_model()
    user = user_model.objects.filter(username=GATEWAY_USERNAME).first()
    if user is None:
        user = user_model(username=GATEWAY_USERNAME, full_name="edXML", is_active=False)
        user.set_unusable_password()
        user.save()
    return user


# --- documents -------------------------------------------------------------------------------------------


def _local_recipients(peer: Peer, edoc: edxml.Edoc) -> list[Agency]:
    ids = [organ.organ_id for organ in edoc.recipients]
    agencies = list(Agency.objects.filter(identifier__in=ids, is_active=True, exchange_peer__isnull=True))
    if not agencies:
        raise edxml.PackageRefused("unknown_recipient", _("None of the recipients (%(ids)s) is an agency of this "
                                                          "system.") % {"ids": ", ".join(ids)[:200]})
    return agencies


def _document_type(edoc: edxml.Edoc) -> DocumentType:
    found = DocumentType.objects.filter(name__iexact=edoc.type_name, is_active=True).first()
    return found or DocumentType.objects.get(code="cong-van")


def _store(edoc: edxml.Edoc) -> list[tuple[str, object]]:
    stored = []
    for attachment in edoc.attachments:
        stream = io.BytesIO(attachment.content)
        stream.name = attachment.name[-255:]
        try:
            checked = check_upload(stream)
        except UploadRejected as error:
            raise edxml.PackageRefused("invalid", _("Attachment refused: %(reason)s") % {"reason": str(error)}) from None
        stored.append((checked.name, store_blob(checked)))
    return stored


def _apply_edoc(peer: Peer, edoc: edxml.Edoc, digest: str, size: int) -> Accepted:
    key = edxml.replay_key("edoc", edoc.sender.organ_id, ",".join(o.organ_id for o in edoc.recipients),
                           edoc.document_id, edoc.timestamp, str(edoc.business_type))
    if edoc.business_type == BusinessType.REVOKE:
        return _apply_recall(peer, edoc, key, digest, size)
    recipients = _local_recipients(peer, edoc)
    stored = _store(edoc)  # before the transaction: file I/O never holds the register's counter row
    gateway = _gateway_user()
    with transaction.atomic():
        _remember(peer, kind=OutboundKind.EDOC, key=key, document_id=edoc.document_id, timestamp=edoc.timestamp,
                  digest=digest, size=size, business_type=edoc.business_type)
        document = Document.objects.filter(agency=peer.agency, identifier=edoc.document_id).first()
        if document is not None and Delivery.objects.filter(document=document, recipient_agency__in=recipients).exists():
            if edoc.business_document_id and edoc.business_type in (BusinessType.UPDATE, BusinessType.REPLACE):
                return _link_received(peer, edoc, document, recipients, key)
            raise edxml.PackageRefused("duplicate", _("This document has already been received."), http_status=409)
        if document is None:
            document = _foreign_document(peer, edoc, gateway, stored)
        earlier = None
        if edoc.business_document_id and edoc.business_type in (BusinessType.UPDATE, BusinessType.REPLACE):
            earlier = {d.recipient_agency_id: d for d in Delivery.objects.filter(
                document__agency=peer.agency, document__identifier=edoc.business_document_id)}
        now = timezone.now()
        deliveries = []
        for agency in recipients:
            delivery = Delivery.objects.create(
                document=document, sender_agency=peer.agency, recipient_agency=agency,
                business_type=edoc.business_type, replaces=(earlier or {}).get(agency.pk),
                status=StatusCode.ARRIVED, arrived_at=now,
            )
            StatusTrace.objects.create(delivery=delivery, code=StatusCode.ARRIVED, key=StatusCode.ARRIVED, at=now,
                                       agency=agency)  # post_save queues the 01 package back to the peer
            record_event(actor=None, verb=events.ARRIVED, target=delivery, agency_id=agency.pk,
                         data={"document_id": document.pk, "number_notation": document.number_notation,
                               "sender": document.organ_name, "peer": peer.organ_id, "package_sha256": digest})
            deliveries.append(delivery)
        InboundPackage.objects.filter(replay_key=key).update(delivery=deliveries[0])
        _tell_replaced(document, [d for d in deliveries if d.replaces_id], edoc.business_type)
        for doc_file in document.files.select_related("blob"):
            request_verification(doc_file.blob)
        notices.tell("exchange.arrived", key=f"exchange.arrived:{document.pk}:{deliveries[0].pk}",
                     agency_ids=[a.pk for a in recipients], permission=services.CLERK_PERMISSION,
                     params={"number": document.number_notation, "sender": document.organ_name,
                             "subject": document.subject[:200]},
                     url=reverse("exchange:received", args=[document.pk]), document_id=document.pk)
    return Accepted(kind="edoc", deliveries=[d.pk for d in deliveries])


def _link_received(peer: Peer, edoc: edxml.Edoc, document: Document, recipients: list[Agency], key: str) -> Accepted:
    """An update or a replacement (business type 2 / 3) of a document we already hold (its new-document package
    came first): our deliveries of it link to those of the earlier document, as `services.link_replacement`
    does for a sender here. Already linked: a duplicate."""
    earlier = {d.recipient_agency_id: d for d in Delivery.objects.filter(
        document__agency=peer.agency, document__identifier=edoc.business_document_id)}
    linked = []
    for delivery in Delivery.objects.select_for_update(of=("self",)).filter(document=document,
                                                                           recipient_agency__in=recipients):
        match = earlier.get(delivery.recipient_agency_id)
        if match is None or (delivery.replaces_id == match.pk and delivery.business_type == edoc.business_type):
            continue
        delivery.business_type, delivery.replaces = edoc.business_type, match
        delivery.version += 1
        delivery.save(update_fields=["business_type", "replaces", "version"])
        record_event(actor=None, verb=events.REPLACEMENT_LINKED, target=delivery, agency_id=delivery.recipient_agency_id,
                     data={"document_id": document.pk, "earlier_document_id": match.document_id,
                           "kind": edoc.business_type, "peer": peer.organ_id})
        linked.append(delivery)
    if not linked:
        raise edxml.PackageRefused("duplicate", _("This document has already been received."), http_status=409)
    InboundPackage.objects.filter(replay_key=key).update(delivery=linked[0])
    _tell_replaced(document, linked, edoc.business_type)
    return Accepted(kind="link", deliveries=[d.pk for d in linked])


def _tell_replaced(document: Document, linked: list[Delivery], kind: int) -> None:
    """The recipients' clerks and the holders of the earlier copies learn that it was updated or replaced."""
    if not linked:
        return
    old = list(Delivery.objects.filter(pk__in=[d.replaces_id for d in linked]).select_related("document"))
    earlier = old[0].document
    key = f"exchange.replaced:{document.pk}:{earlier.pk}"
    params = {"number": document.number_notation, "sender": document.organ_name, "kind": str(kind),
              "old_number": earlier.number_notation}
    url = reverse("exchange:received", args=[earlier.pk])
    notices.tell("exchange.replaced", key=key, agency_ids=[d.recipient_agency_id for d in linked],
                 permission=services.CLERK_PERMISSION, params=params, url=url, document_id=earlier.pk)
    holders = services._holders(old)
    if holders:
        notices.tell("exchange.replaced", key=f"{key}:holders", user_ids=holders, params=params, url=url,
                     document_id=earlier.pk)


def _foreign_document(peer: Peer, edoc: edxml.Edoc, gateway, stored) -> Document:
    """The sender's issued document as kept here: an outgoing document of the peer's agency node, numbered in
    its own "received electronically" series (our registers never see it), immutable like any issued one."""
    year = edoc.promulgation_date.year
    register, _created = Register.objects.get_or_create(
        agency=peer.agency, kind=RegisterKind.OUTGOING, year=year, code=EDXML_SERIES,
        defaults={"name": "Văn bản nhận qua trục liên thông (edXML)"},
    )
    number = documents_services.allocate_number(register)
    document = Document(
        direction=Direction.OUTGOING, agency=peer.agency, register=register, register_number=number,
        document_type=_document_type(edoc), code_number=edoc.code_number, code_notation=edoc.code_notation,
        issued_date=edoc.promulgation_date, organ_name=(edoc.sender.name or peer.agency.name)[:200],
        organ_id=edoc.sender.organ_id, identifier=edoc.document_id, subject=edoc.subject,
        page_amount=edoc.page_amount, description=edoc.content, signer_position=edoc.signer_position[:100],
        signer_name=edoc.signer_name[:50], urgency=min(edoc.priority, Urgency.EXPRESS),
        issued_amount=edoc.promulgation_amount, due_date=edoc.due_date,
        to_places="\n".join(edoc.to_places)[:1000], created_by=gateway,
    )
    document.save()
    record_event(actor=None, verb=events.PACKAGE_RECEIVED, target=document, agency_id=peer.agency_id,
                 data={"peer": peer.organ_id, "identifier": edoc.document_id, "files": len(stored)})
    for index, (name, blob) in enumerate(stored):
        documents_services.attach_stored_blob(gateway, document, blob, name, is_main=index == 0)
    return document


def _apply_recall(peer: Peer, edoc: edxml.Edoc, key: str, digest: str, size: int) -> Accepted:
    """Business type 1: every copy we hold of the peer's document is frozen and marked recalled."""
    identifier = edoc.business_document_id or edoc.document_id
    with transaction.atomic():
        _remember(peer, kind=OutboundKind.EDOC, key=key, document_id=identifier, timestamp=edoc.timestamp,
                  digest=digest, size=size, business_type=BusinessType.REVOKE)
        deliveries = list(Delivery.objects.select_for_update()
                          .filter(document__agency=peer.agency, document__identifier=identifier,
                                  recipient_agency__identifier__in=[o.organ_id for o in edoc.recipients])
                          .select_related("document"))
        if not deliveries:
            raise edxml.PackageRefused("unknown_document", _("The document recalled (%(id)s) was never received here.")
                                       % {"id": identifier[:120]})
        now = timezone.now()
        reason = edoc.business_reason or _("Recalled by the sender.")
        recalled = [d for d in deliveries if d.recalled_at is None]
        for delivery in recalled:
            delivery.recalled_at, delivery.recall_reason = now, reason[:500]
            delivery.version += 1
            delivery.save(update_fields=["recalled_at", "recall_reason", "version"])
            record_event(actor=None, verb=events.RECALL_RECEIVED, target=delivery,
                         agency_id=delivery.recipient_agency_id,
                         data={"document_id": delivery.document_id, "reason": reason[:500], "peer": peer.organ_id,
                               "incoming_document_id": delivery.received_document_id})
        if recalled:
            document = recalled[0].document
            params = {"sender": document.organ_name, "number": document.number_notation, "reason": reason[:200]}
            url = reverse("exchange:received", args=[document.pk])
            notices.tell("exchange.recalled", key=f"exchange.recalled:{document.pk}",
                         agency_ids=[d.recipient_agency_id for d in recalled], permission=services.CLERK_PERMISSION,
                         params=params, url=url, document_id=document.pk)
            holders = services._holders(recalled)
            if holders:
                notices.tell("exchange.recalled", key=f"exchange.recalled:{document.pk}:holders", user_ids=holders,
                             params=params, url=url, document_id=document.pk)
        InboundPackage.objects.filter(replay_key=key).update(delivery=deliveries[0])
    return Accepted(kind="recall", deliveries=[d.pk for d in deliveries])


# --- statuses --------------------------------------------------------------------------------------------


def _apply_status(peer: Peer, status: edxml.Status, digest: str, size: int) -> Accepted:
    key = edxml.replay_key("status", status.sender.organ_id, status.recipient_organ_id, status.document_id,
                           status.timestamp, status.status_code)
    code = status.status_code
    with transaction.atomic():
        _remember(peer, kind=OutboundKind.STATUS, key=key, document_id=status.document_id,
                  timestamp=status.timestamp, digest=digest, size=size, status_code=code)
        if code == StatusCode.TAKE_BACK_REQUESTED:
            # The peer sent us the document and asks it back: our copy, received from it.
            deliveries = Delivery.objects.filter(document__agency=peer.agency, document__identifier=status.document_id,
                                                 recipient_agency__identifier=status.recipient_organ_id)
        else:
            # We sent the document to the peer's agency; it reports what became of it.
            deliveries = Delivery.objects.filter(document__identifier=status.document_id,
                                                 document__organ_id=status.document_organ_id,
                                                 document__agency__exchange_peer__isnull=True,
                                                 recipient_agency=peer.agency, recipient_unit__isnull=True)
        delivery = deliveries.select_for_update(of=("self",)).select_related("document").first()
        if delivery is None:
            raise edxml.PackageRefused("unknown_document", _("No delivery of the document %(id)s matches this status.")
                                       % {"id": status.document_id[:120]})
        _apply_code(delivery, status, peer)
        InboundPackage.objects.filter(replay_key=key).update(delivery=delivery)
    return Accepted(kind="status", deliveries=[delivery.pk])


def _apply_code(delivery: Delivery, status: edxml.Status, peer: Peer) -> None:
    code, at, reason = status.status_code, status.timestamp, status.description[:500]
    fields: list[str] = []
    if code in PROGRESS_ORDER:
        if delivery.status in ("", *PROGRESS_ORDER) and (
                delivery.status == "" or PROGRESS_ORDER.index(code) > PROGRESS_ORDER.index(delivery.status)):
            delivery.status = code
            fields.append("status")
        if code == StatusCode.ARRIVED and delivery.arrived_at is None:
            delivery.arrived_at = at
            fields.append("arrived_at")
        if code == StatusCode.REGISTERED and delivery.registered_at is None:
            delivery.registered_at = at
            fields.append("registered_at")
    elif code == StatusCode.RETURNED:
        delivery.status, delivery.returned_at, delivery.return_reason = StatusCode.RETURNED, at, reason
        fields += ["status", "returned_at", "return_reason"]
    elif code == StatusCode.TAKE_BACK_REQUESTED:
        if delivery.is_recalled:
            raise edxml.PackageRefused("state", _("This copy has already been recalled."))
        delivery.take_back_state = code
        fields.append("take_back_state")
    elif code in (StatusCode.TAKE_BACK_ACCEPTED, StatusCode.TAKE_BACK_REFUSED):
        delivery.take_back_state = code
        fields.append("take_back_state")
        if code == StatusCode.TAKE_BACK_ACCEPTED and delivery.recalled_at is None:
            request = delivery.traces.filter(code=StatusCode.TAKE_BACK_REQUESTED).order_by("-at", "-id").first()
            delivery.recalled_at, delivery.recall_reason = at, (request.reason if request else reason)[:500]
            fields += ["recalled_at", "recall_reason"]
    if fields:
        delivery.version += 1
        delivery.save(update_fields=[*fields, "version"])
    ours = delivery.recipient_agency_id if code == StatusCode.TAKE_BACK_REQUESTED else delivery.sender_agency_id
    theirs = delivery.sender_agency_id if code == StatusCode.TAKE_BACK_REQUESTED else delivery.recipient_agency_id
    trace = StatusTrace(delivery=delivery, code=code, key=f"peer:{code}:{at:%Y%m%d%H%M%S}",
                        at=at, actor_name=status.staff_name[:200], agency_id=theirs, reason=reason)
    trace._from_peer = True  # applied from the peer's package: not sent back (peers.on_trace_saved)
    if not StatusTrace.objects.filter(delivery=delivery, key=trace.key).exists():
        trace.save()
    record_event(actor=None, verb=events.STATUS_REPORTED, target=delivery, agency_id=ours,
                 data={"status": code, "peer": peer.organ_id, "reason": reason})
    document = delivery.document
    if code == StatusCode.TAKE_BACK_REQUESTED:
        notices.tell("exchange.take_back_requested", key=f"exchange.take_back:{delivery.pk}:{trace.key}",
                     agency_ids=[delivery.recipient_agency_id], permission=services.CLERK_PERMISSION,
                     params={"sender": document.organ_name, "number": document.number_notation,
                             "reason": reason[:200]},
                     url=reverse("exchange:received", args=[document.pk]), document_id=document.pk)
    else:
        services._tell_sender_status(delivery, code)
