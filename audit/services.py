"""Appending to and verifying the audit chain.

An event is written in the transaction of the change it records, without its place in the chain; right after
that transaction commits, `chain_pending` gives the agency's new events their sequence numbers and hashes
under the chain head's lock, in a short transaction of its own. No service transaction ever waits for the
chain head (which deadlocked concurrent writers of one agency), and events of one transaction are written in
one statement when batched."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from .models import GENESIS_HASH, AuditChainHead, AuditEvent

logger = logging.getLogger(__name__)


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

# An event not chained this long after it was written was left by a process that died between its commit and
# the chaining step; `verify_audit` reports it (the periodic `audit.tasks.chain_pending` chains it before).
UNCHAINED_GRACE = timedelta(minutes=10)


@contextmanager
def batched_events() -> Iterator[None]:
    """Events recorded inside are written together when the block ends (one insert however many events the
    services called inside record). Nested blocks join the outer one."""
    if _BATCH.get() is not None:
        yield
        return
    token = _BATCH.set([])
    try:
        yield
        pending = _BATCH.get() or []
    finally:
        _BATCH.reset(token)
    _write(pending)


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


def _write(events: list[AuditEvent]) -> None:
    """Insert the events unchained and have their chains extended once the transaction commits."""
    if not events:
        return
    AuditEvent.objects.bulk_create(events)
    for key in sorted({event.chain for event in events}):
        transaction.on_commit(partial(_chain_after_commit, key))


def _chain_after_commit(key: str) -> None:
    try:
        chain_pending(key)
    except DatabaseError:  # the periodic task and the next commit of the chain link what this one could not
        logger.warning("Audit events of %s could not be chained now; they will be later.", key, exc_info=True)


def chain_pending(key: str, limit: int = 5000) -> int:
    """Give the committed, unchained events of one chain their places, in the order they were written: the
    chain head is locked only here, in a transaction of its own, never in the middle of a service's
    transaction (which made concurrent writers of one agency deadlock on it). Returns how many."""
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(chain=key).first()
        if head is None:
            AuditChainHead.objects.get_or_create(chain=key)
            head = AuditChainHead.objects.select_for_update().get(chain=key)
        events = list(AuditEvent.objects.filter(chain=key, seq__isnull=True).order_by("id")[:limit])
        for event in events:
            event.seq, event.prev_hash = head.last_seq + 1, head.last_hash
            event.hash = event.compute_hash()
            head.last_seq, head.last_hash = event.seq, event.hash
        if events:
            AuditEvent.objects.bulk_update(events, ["seq", "prev_hash", "hash"], batch_size=1000)
            head.save(update_fields=["last_seq", "last_hash"])
    return len(events)


def chain_all_pending() -> int:
    """Every chain's committed, unchained events (the periodic maintenance task; `verify_audit --chain`)."""
    keys = AuditEvent.objects.filter(seq__isnull=True).values_list("chain", flat=True).distinct()
    return sum(chain_pending(key) for key in sorted(set(keys)))


def record_event(
    *,
    actor,
    verb: str,
    target: models.Model | TargetRef,
    agency_id: int | None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write an event in the caller's transaction (it commits or rolls back with the change it records); it
    is chained into its agency's hash chain right after the commit (`chain_pending`). Inside
    `batched_events()` the row is written when the batch ends."""
    ref = target if isinstance(target, TargetRef) else TargetRef.of(target)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must be called inside the transaction that makes the change")
    event = _new_event(actor, verb, ref, agency_id, data)
    batch = _BATCH.get()
    if batch is not None:
        batch.append(event)
    else:
        _write([event])
    return event


@dataclass
class BrokenLink:
    chain: str
    seq: int
    event_id: int | None
    reason: str


def verify_chain(chain: str, now=None) -> BrokenLink | None:
    """Walk one chain in order; return the first link that does not hold, or None. Events written in the
    last minutes and not chained yet are not a break; older unchained ones are."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    last = None
    for event in AuditEvent.objects.filter(chain=chain, seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
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
        # Every chaining writes the head; events without one mean the head row was deleted.
        if last:
            return BrokenLink(chain, last.seq, None, "the chain head is missing")
    elif head.last_seq != (last.seq if last else 0) or head.last_hash != (last.hash if last else GENESIS_HASH):
        return BrokenLink(chain, head.last_seq, None, "events at the end of the chain are missing")
    stale = (AuditEvent.objects.filter(chain=chain, seq__isnull=True,
                                       created_at__lt=(now or timezone.now()) - UNCHAINED_GRACE)
             .order_by("id").first())
    if stale is not None:
        return BrokenLink(chain, (last.seq if last else 0) + 1, stale.pk, "an event was never chained")
    return None


def unchained_count() -> int:
    return AuditEvent.objects.filter(seq__isnull=True).count()


def verify_all() -> list[BrokenLink]:
    chains = set(AuditChainHead.objects.values_list("chain", flat=True)) | set(
        AuditEvent.objects.values_list("chain", flat=True).distinct()
    )
    return [broken for chain in sorted(chains) if (broken := verify_chain(chain))]
