"""Agencies served by other systems (edXML peers): which deliveries leave through a peer, and the outbox rows
that say so.

Written inside the caller's transaction, like every intent of this project: a document package per delivery
to a peer's agency (new document, or a recall), a status package per status trace that the other side must
learn (the recipient's 01–06, 02, 15/16 on a document a peer sent us; the sender's 13 on a document we sent
to a peer). The send task (`exchange.tasks.send_package`) signs and posts after commit; the sweeper publishes
what is due again. Imports no service of the app (services import this module)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from eoffice.tasking import publish_on_commit

from .models import BusinessType, Delivery, OutboundKind, OutboundMessage, OutboundState, Peer, StatusCode, StatusTrace

SEND_TASK = "exchange.tasks.send_package"

RECIPIENT_CODES = frozenset({StatusCode.ARRIVED, StatusCode.RETURNED, StatusCode.REGISTERED, StatusCode.ASSIGNED,
                             StatusCode.IN_PROGRESS, StatusCode.COMPLETED, StatusCode.TAKE_BACK_ACCEPTED,
                             StatusCode.TAKE_BACK_REFUSED})
"""Statuses the recipient reports: sent to the peer that sent us the document."""
SENDER_CODES = frozenset({StatusCode.TAKE_BACK_REQUESTED})
"""Statuses the sender reports (13 runs the other way, reference §2.4): sent to the peer that received it."""


def max_package_bytes() -> int:
    return int(getattr(settings, "EXCHANGE_MAX_PACKAGE_BYTES", 50 * 1024 * 1024))


def package_max_age() -> timedelta:
    """How long a package stays acceptable after its timestamp (and how long the sender keeps retrying it)."""
    return timedelta(seconds=int(getattr(settings, "EXCHANGE_PACKAGE_MAX_AGE_SECONDS", 7 * 24 * 3600)))


def served_by_peer() -> Q:
    """Deliveries whose recipient agency is served by another system (for filtering local arrivals out)."""
    return Q(recipient_agency__exchange_peer__is_active=True)


def active_peers(agency_ids) -> dict[int, Peer]:
    return {p.agency_id: p for p in Peer.objects.filter(agency_id__in=set(agency_ids), is_active=True)}


def _queue(peer: Peer, delivery: Delivery, *, kind: str, key: str, at, business_type: int | None = None,
           status_code: str = "", reason: str = "") -> OutboundMessage | None:
    message, created = OutboundMessage.objects.get_or_create(
        key=key,
        defaults={"peer": peer, "delivery": delivery, "kind": kind, "business_type": business_type,
                  "status_code": status_code, "reason": reason[:500], "timestamp": at,
                  "next_attempt_at": timezone.now()},
    )
    if not created:
        return None
    publish_on_commit(SEND_TASK, message.pk)
    return message


def send_documents(deliveries: list[Delivery]) -> int:
    """Instead of arriving here: one document package per delivery to a peer's agency (idempotent per
    delivery). Called by `services.complete_arrivals` with the rows it holds locked."""
    peers = active_peers(d.recipient_agency_id for d in deliveries)
    queued = 0
    for delivery in deliveries:
        peer = peers.get(delivery.recipient_agency_id)
        if peer is not None and _queue(peer, delivery, kind=OutboundKind.EDOC, key=f"edoc:{delivery.pk}:0",
                                       at=timezone.now(), business_type=delivery.business_type):
            queued += 1
    return queued


def send_recalls(deliveries: list[Delivery], reason: str) -> int:
    """The sender recalled the document (business type 1): the peers holding a copy are told."""
    peers = active_peers(d.recipient_agency_id for d in deliveries)
    queued = 0
    for delivery in deliveries:
        peer = peers.get(delivery.recipient_agency_id)
        if peer is not None and _queue(peer, delivery, kind=OutboundKind.EDOC, key=f"edoc:{delivery.pk}:1",
                                       at=timezone.now(), business_type=BusinessType.REVOKE, reason=reason):
            queued += 1
    return queued


def send_links(deliveries: list[Delivery], kind: int) -> int:
    """The sender marked its document an update or a replacement (business type 2 / 3) of an earlier one it
    sent: each linked delivery to a peer's agency leaves again as a package of that type naming the earlier
    document (Bussiness/DocumentId); the peer links its copy (or receives it linked, whichever package comes
    first; the other is then a duplicate)."""
    peers = active_peers(d.recipient_agency_id for d in deliveries)
    queued = 0
    for delivery in deliveries:
        peer = peers.get(delivery.recipient_agency_id)
        if peer is not None and delivery.replaces_id and _queue(
                peer, delivery, kind=OutboundKind.EDOC, key=f"edoc:{delivery.pk}:{kind}", at=timezone.now(),
                business_type=kind):
            queued += 1
    return queued


def on_trace_saved(sender, instance: StatusTrace, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of StatusTrace, in the transaction that wrote it: whichever service added the status (register,
    return, case progress, ask back, answer), the other installation is told when it is the other side. A trace
    applied from a peer's own package is not sent back (`_from_peer`), nor is one on a side that is not ours."""
    if not created or raw or getattr(instance, "_from_peer", False):
        return
    if instance.code in RECIPIENT_CODES:
        peer_agency_id = Delivery.objects.filter(pk=instance.delivery_id).values_list("document__agency_id",
                                                                                      flat=True).first()
    elif instance.code in SENDER_CODES:
        peer_agency_id = Delivery.objects.filter(pk=instance.delivery_id).values_list("recipient_agency_id",
                                                                                      flat=True).first()
    else:
        return
    peer = Peer.objects.filter(agency_id=peer_agency_id, is_active=True).first()
    if peer is not None:
        _queue(peer, instance.delivery, kind=OutboundKind.STATUS, key=f"status:{instance.pk}", at=instance.at,
               status_code=instance.code, reason=instance.reason)


def due_messages(now=None, limit: int = 500) -> list[int]:
    """Outbox rows waiting for their next attempt (the sweeper publishes them)."""
    now = now or timezone.now()
    return list(OutboundMessage.objects.filter(state=OutboundState.PENDING, next_attempt_at__lte=now)
                .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def connect() -> None:
    """Called by ExchangeConfig.ready: statuses written by any service reach the peers."""
    from django.db.models.signals import post_save

    post_save.connect(on_trace_saved, sender=StatusTrace, dispatch_uid="exchange.peers.trace_saved")
