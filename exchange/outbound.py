"""Posting the outbox to the peers (the body of `exchange.tasks.send_package`, in the exchange worker only: it
decrypts the agency seal key to sign).

One attempt per call: the row is leased (two workers never post it at once), the package is built from the
database as it is now, signed with the seal of our agency on that side, posted; accepted (2xx, or "already
received") ends it, a refusal of the package itself ends it as failed, anything else (network, 5xx, a peer not
yet configured, the document not there yet) sets the next attempt with exponential backoff for the sweeper.
The package's timestamp is the row's, so every attempt is the same package."""

from __future__ import annotations

import logging
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from audit.services import record_event
from documents.storage import read_blob
from eoffice import notices
from signatures.models import CredentialKind, SigningCredential
from signatures.signers import SigningUnavailable

from . import edxml, events
from .models import Delivery, OutboundKind, OutboundMessage, OutboundState, StatusCode
from .peers import package_max_age

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_DELAY = timedelta(hours=1)
PERMANENT = frozenset({"malformed", "doctype", "invalid", "too_large"})
"""Refusals of the package itself: sending it again cannot help."""
ACCEPTED = frozenset({"replayed", "duplicate"})
"""The peer has it already (our earlier attempt got through, its answer did not reach us)."""


def first_delay() -> timedelta:
    """The first wait of the backoff (EXCHANGE_RETRY_FIRST_SECONDS, 30 s); it doubles after each attempt."""
    return timedelta(seconds=float(getattr(settings, "EXCHANGE_RETRY_FIRST_SECONDS", 30)))


BUSINESS_REASONS = {0: "Văn bản điện tử mới", 1: "Thu hồi văn bản điện tử", 2: "Cập nhật văn bản điện tử",
                    3: "Thay thế văn bản điện tử"}
"""Bussiness/BussinessDocReason when the sender gave none (the package's language, not the reader's)."""


class NoSeal(Exception):
    """Our agency has no usable seal certificate to sign with (an administrator must import one)."""


def _organ(agency) -> edxml.Organ:
    return edxml.Organ(organ_id=agency.identifier, name=agency.name[:200],
                       organization_in_charge=(agency.parent.name if agency.parent_id else "")[:200],
                       address=agency.address[:300], email=agency.email, telephone=agency.phone[:40])


def _holder(agency_id: int):
    credential = (SigningCredential.objects.filter(kind=CredentialKind.SEAL, agency_id=agency_id, is_active=True)
                  .first())
    if credential is None:
        raise NoSeal(f"agency {agency_id} has no active seal certificate")
    from signatures.signing import key_holder  # the worker's cache of decrypted keys

    return key_holder(credential)


def build_edoc(message: OutboundMessage) -> edxml.Edoc:
    delivery: Delivery = message.delivery
    document = delivery.document
    files = [] if message.business_type == 1 else list(
        document.files.select_related("blob").order_by("-is_main", "id"))
    return edxml.Edoc(
        sender=_organ(delivery.sender_agency), recipients=[edxml.Organ(message.peer.organ_id, message.peer.name)],
        document_id=document.identifier, code_number=document.code_number, code_notation=document.code_notation,
        place=(delivery.sender_agency.place_name or "")[:50], promulgation_date=document.issued_date,
        type_name=document.document_type.name[:100], type_detail=str(document.document_type.sort_order),
        subject=document.subject, content=document.description[:500],
        signer_competence=document.authority_prefix, signer_position=document.signer_position,
        signer_name=document.signer_name, due_date=document.due_date,
        to_places=[r.name[:150] for r in document.recipients.all()],
        priority=document.urgency, promulgation_amount=document.issued_amount, page_amount=document.page_amount,
        timestamp=message.timestamp, business_type=message.business_type or 0,
        business_reason=message.reason or BUSINESS_REASONS.get(message.business_type or 0, ""),
        business_document_id=(delivery.replaces.document.identifier if delivery.replaces_id else ""),
        attachments=[edxml.Attachment(name=f.original_name, content_type=f.blob.content_type, content=read_blob(f.blob))
                     for f in files],
    )


def build_status(message: OutboundMessage) -> tuple[edxml.Status, int]:
    """The status package and the agency (ours) that signs it."""
    delivery: Delivery = message.delivery
    document = delivery.document
    ours = delivery.sender_agency if message.status_code == "13" else delivery.recipient_agency
    trace = delivery.traces.filter(code=message.status_code, at=message.timestamp).first()
    status = edxml.Status(
        sender=_organ(ours), recipient_organ_id=message.peer.organ_id, document_organ_id=document.organ_id,
        document_id=document.identifier, code=document.number_notation[:120],
        promulgation_date=document.issued_date, status_code=message.status_code, timestamp=message.timestamp,
        description=message.reason or str(StatusCode(message.status_code).label),
        staff_name=(trace.actor_name if trace else "")[:200],
    )
    return status, ours.pk


def package(message: OutboundMessage) -> bytes:
    """The signed package of one outbox row."""
    if message.kind == OutboundKind.EDOC:
        root, agency_id = edxml.build_edoc(build_edoc(message)), message.delivery.sender_agency_id
    else:
        status, agency_id = build_status(message)
        root = edxml.build_status(status)
    return edxml.sign(root, _holder(agency_id))


def _claim(message_id: int) -> bool:
    now = timezone.now()
    return bool(OutboundMessage.objects.filter(pk=message_id, state=OutboundState.PENDING)
                .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
                .update(leased_until=now + LEASE))


def send(message_id: int) -> str:
    """One attempt; returns the row's state afterwards ("sent", "pending", "failed") or "skipped"."""
    if not _claim(message_id):
        return "skipped"
    message = (OutboundMessage.objects.select_related(
        "peer", "delivery__document__document_type", "delivery__sender_agency__parent",
        "delivery__recipient_agency__parent", "delivery__replaces__document").get(pk=message_id))
    try:
        data = package(message)
    except (NoSeal, SigningUnavailable) as error:
        return _retry(message, f"cannot sign: {error}")
    try:
        response = requests.post(message.peer.inbound_url, data=data, timeout=getattr(settings, "EXCHANGE_HTTP_TIMEOUT", 30),
                                 headers={"Content-Type": "application/xml; charset=utf-8"}, allow_redirects=False)
    except requests.RequestException as error:
        return _retry(message, f"{type(error).__name__}: {error}")
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    code = str(answer.get("code", "")) if isinstance(answer, dict) else ""
    detail = str(answer.get("detail", "")) if isinstance(answer, dict) else ""
    if 200 <= response.status_code < 300 or code in ACCEPTED:
        return _finish(message, OutboundState.SENT, "")
    error = f"HTTP {response.status_code} {code}: {detail or response.text[:300]}"
    if code in PERMANENT:
        return _finish(message, OutboundState.FAILED, error)
    return _retry(message, error)


def _finish(message: OutboundMessage, state: str, error: str) -> str:
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk).update(
            state=state, attempts=message.attempts + 1, leased_until=None, last_error=error[:1000],
            sent_at=timezone.now() if state == OutboundState.SENT else None)
        delivery = message.delivery
        ours = delivery.recipient_agency_id if message.kind == OutboundKind.STATUS and message.status_code != "13" \
            else delivery.sender_agency_id
        record_event(actor=None, verb=events.PACKAGE_SENT if state == OutboundState.SENT else events.PACKAGE_FAILED,
                     target=delivery, agency_id=ours,
                     data={"peer": message.peer.organ_id, "kind": message.kind, "business_type": message.business_type,
                           "status": message.status_code, "attempts": message.attempts + 1, "error": error[:300]})
        if state == OutboundState.FAILED:
            _tell_failed(message, error)
    if state == OutboundState.FAILED:
        logger.error("edXML package %s to %s refused: %s", message.pk, message.peer.organ_id, error)
    return state


def _tell_failed(message: OutboundMessage, error: str) -> None:
    """Given up for good: the clerk who registered our document (the one sent, or the one it became here) is
    told, in the transaction that marks the package failed; without one, our agency's clerks."""
    delivery = message.delivery
    sender_side = message.kind == OutboundKind.EDOC or message.status_code == StatusCode.TAKE_BACK_REQUESTED
    document = delivery.document if sender_side else delivery.received_document
    clerk_id = document.created_by_id if document is not None else None
    params = {"number": delivery.document.number_notation, "recipient": message.peer.name[:200],
              "reason": error[:200]}
    url = (reverse("documents:detail", args=[document.pk]) if document is not None
           else reverse("exchange:delivery", args=[delivery.pk]))
    ours = delivery.sender_agency_id if sender_side else delivery.recipient_agency_id
    notices.tell("exchange.package_failed", key=f"exchange.package_failed:{message.pk}",
                 user_ids=[clerk_id] if clerk_id else [], agency_ids=[] if clerk_id else [ours],
                 permission="" if clerk_id else "documents.register_incoming", params=params, url=url,
                 document_id=document.pk if document is not None else None)


def _retry(message: OutboundMessage, error: str) -> str:
    """Next attempt after 30 s (EXCHANGE_RETRY_FIRST_SECONDS), 1 min, 2 min, ... at most an hour apart; given up
    once the package is older than the peers accept (they would refuse it as stale)."""
    attempts = message.attempts + 1
    if timezone.now() - message.timestamp > package_max_age():
        return _finish(message, OutboundState.FAILED, f"given up after {attempts} attempts: {error}")
    delay = min(first_delay() * (2 ** (attempts - 1)), MAX_DELAY)
    OutboundMessage.objects.filter(pk=message.pk).update(
        attempts=attempts, leased_until=None, last_error=error[:1000], next_attempt_at=timezone.now() + delay)
    logger.warning("edXML package %s to %s not accepted (attempt %d, next in %s): %s", message.pk,
                   message.peer.organ_id, attempts, delay, error)
    return OutboundState.PENDING
