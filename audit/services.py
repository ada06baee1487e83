"""Appending to and verifying the audit chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .models import GENESIS_HASH, AuditChainHead, AuditEvent


def chain_key(agency_id: int | None) -> str:
    return f"agency:{agency_id}" if agency_id else "system"


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # Round-trip so the stored JSON equals what was hashed (dates, decimals become strings).
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))


@dataclass(frozen=True)
class TargetRef:
    """An audit target known only by reference: a service that acts for another app's object (signing a
    draft's PDF) records its events on that object without importing its model."""

    label: str  # "app_label.model", as `Model._meta.label_lower`
    pk: int | str
    text: str = ""

    @classmethod
    def of(cls, instance: models.Model) -> TargetRef:
        return cls(instance._meta.label_lower, instance.pk, str(instance))


_BATCH: ContextVar[list[AuditEvent] | None] = ContextVar("audit_batch", default=None)


@contextmanager
def batched_events() -> Iterator[None]:
    """Events recorded inside are linked into their chains together when the block ends (still inside the
    caller's transaction): one lock of each chain head, one insert, one update, however many events the
    services called inside record. The head lock is then the transaction's last lock, taken after every row
    it changed, so two transactions of one agency cannot deadlock on it. Nested blocks join the outer one."""
    if _BATCH.get() is not None:
        yield
        return
    token = _BATCH.set([])
    try:
        yield
        pending = _BATCH.get() or []
    finally:
        _BATCH.reset(token)
    _link(pending)


def _new_event(actor, verb: str, ref: TargetRef, agency_id: int | None, data: dict[str, Any] | None) -> AuditEvent:
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent(
        chain=chain_key(agency_id),
        actor_id=actor_id,
        actor_name=(actor.get_username() if actor_id else "system")[:150],
        verb=verb,
        target_type=ref.label,
        target_id=str(ref.pk),
        target_repr=ref.text[:300],
        agency_id=agency_id,
        data=_jsonable(data or {}),
        created_at=timezone.now(),
    )


def _locked_head(key: str) -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(chain=key).first()
    if head is None:  # the chain's first event
        AuditChainHead.objects.get_or_create(chain=key)
        head = AuditChainHead.objects.select_for_update().get(chain=key)
    return head


def _link(events: list[AuditEvent]) -> None:
    """Give the events their places in their chains (chains in a fixed order, so concurrent batches that
    touch two chains lock them in the same order)."""
    by_chain: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain, []).append(event)
    for key in sorted(by_chain):
        head = _locked_head(key)
        for event in by_chain[key]:
            event.seq, event.prev_hash = head.last_seq + 1, head.last_hash
            event.hash = event.compute_hash()
            head.last_seq, head.last_hash = event.seq, event.hash
        AuditEvent.objects.bulk_create(by_chain[key])
        head.save(update_fields=["last_seq", "last_hash"])


def record_event(
    *,
    actor,
    verb: str,
    target: models.Model | TargetRef,
    agency_id: int | None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the agency's chain; must run inside the caller's transaction. Inside
    `batched_events()` the event is linked when the batch ends (its `seq` and `pk` are set then)."""
    ref = target if isinstance(target, TargetRef) else TargetRef.of(target)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must be called inside the transaction that makes the change")
    event = _new_event(actor, verb, ref, agency_id, data)
    batch = _BATCH.get()
    if batch is not None:
        batch.append(event)
    else:
        _link([event])
    return event


@dataclass
class BrokenLink:
    chain: str
    seq: int
    event_id: int | None
    reason: str


def verify_chain(chain: str) -> BrokenLink | None:
    """Walk one chain in order; return the first link that does not hold, or None."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    last = None
    for event in AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return BrokenLink(chain, expected_seq, None, f"event {expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return BrokenLink(chain, event.seq, event.pk, "previous-hash link does not match")
        if event.compute_hash() != event.hash:
            return BrokenLink(chain, event.seq, event.pk, "content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
        last = event
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is None:
        # Every append writes the head; events without one mean the head row was deleted.
        return BrokenLink(chain, last.seq if last else 0, None, "the chain head is missing") if last else None
    if head.last_seq != (last.seq if last else 0) or head.last_hash != (last.hash if last else GENESIS_HASH):
        return BrokenLink(chain, head.last_seq, None, "events at the end of the chain are missing")
    return None


def verify_all() -> list[BrokenLink]:
    chains = set(AuditChainHead.objects.values_list("chain", flat=True)) | set(
        AuditEvent.objects.values_list("chain", flat=True).distinct()
    )
    return [broken for chain in sorted(chains) if (broken := verify_chain(chain))]
