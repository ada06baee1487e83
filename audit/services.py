"""Appending to and verifying the audit chain.

An event is written in the transaction of the change it records, without its place in the chain; right after
that transaction commits, `chain_pending` gives the agency's new events their sequence numbers and hashes
under the chain head's lock, in a short transaction of its own. No service transaction ever waits for the
chain head (which deadlocked concurrent writers of one agency), and events of one transaction are written in
one statement when batched.

The links are keyed: HMAC-SHA256 with the audit key of the environment (audit.keys), so whoever can rewrite
the rows cannot recompute them; each event names its key (rotation), and the events chained before the key
existed keep their plain SHA-256 (key id ""), which a keyed event may never follow. `anchor_all` (daily)
copies each chain's head into a signed `AuditAnchor`; `verify_chain` checks links, keys and anchors."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, timedelta
from functools import partial
from typing import Any

from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from . import keys
from .models import GENESIS_HASH, AuditAnchor, AuditChainHead, AuditEvent

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


def _actor_name(actor) -> str:
    label = getattr(actor, "name_and_position", None)
    return label if isinstance(label, str) and label else actor.get_username()


def _new_event(actor, verb: str, ref: TargetRef, agency_id: int | None, data: dict[str, Any] | None) -> AuditEvent:
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent(
        chain=chain_key(agency_id),
        actor_id=actor_id,
        # The name and position the person held when acting (what a reader of the history needs); the
        # username stays reachable through `actor`.
        actor_name=(_actor_name(actor) if actor_id else "system")[:150],
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
    conn = transaction.get_connection()
    # One chaining per chain and transaction, however many events its services record: a callback already
    # queued (and not dropped with a rolled-back savepoint, which removes its callbacks) chains them all.
    queued = set()
    for _sids, callback, _robust in conn.run_on_commit:
        if getattr(callback, "func", None) is _chain_after_commit:
            queued.update(callback.args[0])
    new_keys = tuple(sorted({event.chain for event in events} - queued))
    if new_keys:
        # One callback for the chains this batch adds: a fan-out that writes one event in each of 500 agencies'
        # chains has them all chained in one transaction, not in 500.
        transaction.on_commit(partial(_chain_after_commit, new_keys))


def _chain_after_commit(chain_keys: tuple[str, ...]) -> None:
    try:
        chain_many(chain_keys)
    except DatabaseError:  # the periodic task and the next commit of the chain link what this one could not
        logger.warning("Audit events of %s could not be chained now; they will be later.", chain_keys, exc_info=True)
    except keys.InvalidAuditKey:  # a malformed AUDIT_HMAC_KEY (check --deploy refuses it): chained once fixed
        logger.error("Audit events of %s wait to be chained: AUDIT_HMAC_KEY is not usable.", chain_keys,
                     exc_info=True)


def chain_pending(key: str, limit: int = 5000) -> int:
    """Give the committed, unchained events of one chain their places, in the order they were written: the
    chain head is locked only here, in a transaction of its own, never in the middle of a service's
    transaction (which made concurrent writers of one agency deadlock on it). Returns how many."""
    return chain_many((key,), limit=limit)


def chain_many(chain_keys: tuple[str, ...] | list[str], limit: int = 20000) -> int:
    """`chain_pending` for one or many chains in one transaction: their heads are locked in the order of their keys
    (so two such transactions, or one and a single-chain one, never wait on each other in a circle), their
    unchained events read in one query and written back in bulk. Returns how many were chained."""
    chain_keys = sorted(set(chain_keys))
    with transaction.atomic():
        present = set(AuditChainHead.objects.filter(chain__in=chain_keys).values_list("chain", flat=True))
        AuditChainHead.objects.bulk_create([AuditChainHead(chain=key) for key in chain_keys if key not in present],
                                           ignore_conflicts=True)
        heads = {head.chain: head for head in
                 AuditChainHead.objects.select_for_update().filter(chain__in=chain_keys).order_by("chain")}
        events = list(AuditEvent.objects.filter(chain__in=chain_keys, seq__isnull=True).order_by("id")[:limit])
        key_id = keys.current_key_id()
        touched = {}
        for event in events:
            head = heads[event.chain]
            event.seq, event.prev_hash, event.key_id = head.last_seq + 1, head.last_hash, key_id
            event.hash = event.compute_hash()
            head.last_seq, head.last_hash = event.seq, event.hash
            touched[head.chain] = head
        if events:
            # executemany (pipelined by psycopg): bulk_update's CASE expressions cost more in Python than the
            # database spends on the rows, for hundreds of them.
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {AuditEvent._meta.db_table} SET seq = %s, prev_hash = %s, hash = %s, key_id = %s "
                    "WHERE id = %s",
                    [(e.seq, e.prev_hash, e.hash, e.key_id, e.pk) for e in events],
                )
                cursor.executemany(
                    f"UPDATE {AuditChainHead._meta.db_table} SET last_seq = %s, last_hash = %s WHERE chain = %s",
                    [(h.last_seq, h.last_hash, h.chain) for h in touched.values()],
                )
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
    """Walk one chain in order; return the first link that does not hold, or None: a missing or reordered
    event, a link whose keyed hash does not match (whoever rewrote the row could not recompute it without the
    key), an unkeyed event after keyed ones (a downgrade), a key that is not configured, a missing head, and
    an anchor that does not match the chain or whose signature does not verify (`_check_anchors`). Events
    written in the last minutes and not chained yet are not a break; older unchained ones are."""
    anchors = list(AuditAnchor.objects.filter(chain=chain).order_by("last_seq", "id"))
    anchored = {anchor.last_seq for anchor in anchors}
    hashes_at: dict[int, str] = {}
    expected_prev = GENESIS_HASH
    expected_seq = 1
    last = None
    keyed = False
    broken = None
    for event in AuditEvent.objects.filter(chain=chain, seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        broken = _broken_link(chain, event, expected_seq, expected_prev, keyed)
        if broken is not None:
            break
        keyed = keyed or event.key_id != keys.UNKEYED
        if event.seq in anchored:
            hashes_at[event.seq] = event.hash
        expected_prev = event.hash
        expected_seq += 1
        last = event
    if broken is None:
        broken = _head_or_stale_break(chain, last, now)
    # An anchor break names the first event after the last anchor that holds: it may be earlier than the
    # link break (a chain rewritten with recomputed hashes), or the only one.
    anchor_break, held = _check_anchors(chain, anchors, hashes_at, expected_seq - 1, complete=broken is None)
    # Unkeyed links are those of events chained before the key existed; the upgrade anchored them (migration
    # audit 0003), so one that no anchor which holds covers was made afterwards: a chain passed off as unkeyed.
    uncovered = (AuditEvent.objects.filter(chain=chain, seq__gt=held, key_id=keys.UNKEYED, seq__isnull=False)
                 .order_by("seq").values_list("seq", "pk").first())
    if uncovered is not None:
        uncovered = BrokenLink(chain, uncovered[0], uncovered[1],
                               "an unkeyed hash that no signed anchor covers (the event was rewritten)")
    found = [link for link in (broken, anchor_break, uncovered) if link is not None]
    return min(found, key=lambda link: link.seq) if found else None


def _broken_link(chain: str, event: AuditEvent, expected_seq: int, expected_prev: str, keyed: bool) -> BrokenLink | None:
    if event.seq != expected_seq:
        return BrokenLink(chain, expected_seq, None, f"event {expected_seq} is missing")
    if event.prev_hash != expected_prev:
        return BrokenLink(chain, event.seq, event.pk, "previous-hash link does not match")
    if keyed and event.key_id == keys.UNKEYED:
        return BrokenLink(chain, event.seq, event.pk, "an unkeyed hash follows keyed ones (the event was rewritten)")
    try:
        if event.compute_hash() != event.hash:
            return BrokenLink(chain, event.seq, event.pk, "content does not match its hash")
    except keys.UnknownAuditKey:
        return BrokenLink(chain, event.seq, event.pk, f"hashed with audit key {event.key_id!r}, which is not configured")
    return None


def _head_or_stale_break(chain: str, last: AuditEvent | None, now) -> BrokenLink | None:
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is None:
        # Every chaining writes the head; events without one mean the head row was deleted.
        if last:
            return BrokenLink(chain, last.seq, None, "the chain head is missing")
    elif head.last_seq != (last.seq if last else 0) or head.last_hash != (last.hash if last else GENESIS_HASH):
        return BrokenLink(chain, head.last_seq, None, "events at the end of the chain are missing")
    stale = (AuditEvent.objects.filter(chain=chain, seq__isnull=True,
                                       written_at__lt=(now or timezone.now()) - UNCHAINED_GRACE)
             .order_by("id").first())
    if stale is not None:
        return BrokenLink(chain, (last.seq if last else 0) + 1, stale.pk, "an event was never chained")
    return None


def _event_id_at(chain: str, seq: int) -> int | None:
    return AuditEvent.objects.filter(chain=chain, seq=seq).values_list("pk", flat=True).first()


def _check_anchors(chain: str, anchors: list[AuditAnchor], hashes_at: dict[int, str], walked_to: int, *,
                   complete: bool) -> tuple[BrokenLink | None, int]:
    """The first anchor that does not hold: a bad signature (named at its own sequence), or a head that no
    longer matches the chain: then the events after the previous anchor that held were rewritten, and the
    first of them is named. With the sequence up to which the anchors that hold vouch for the chain."""
    held = 0  # the sequence of the last anchor that held
    for anchor in anchors:
        when = f"{timezone.localtime(anchor.anchored_at):%d/%m/%Y %H:%M}"
        if not verify_anchor_signature(anchor):
            return BrokenLink(chain, anchor.last_seq, _event_id_at(chain, anchor.last_seq),
                              f"the signature of the anchor of {when} (sequence {anchor.last_seq}) does not verify"), held
        if not timestamp_covers_signature(anchor):
            return BrokenLink(chain, anchor.last_seq, _event_id_at(chain, anchor.last_seq),
                              f"the timestamp of the anchor of {when} (sequence {anchor.last_seq}) is not over it"), held
        if anchor.last_seq > walked_to:
            if not complete:  # the walk stopped at a link break, which is reported
                return None, held
            return BrokenLink(chain, walked_to + 1, None,
                              f"the anchor of {when} covers sequence {anchor.last_seq}, past the end of the chain "
                              "(events were removed)"), held
        if hashes_at.get(anchor.last_seq) != anchor.last_hash:
            return BrokenLink(chain, held + 1, _event_id_at(chain, held + 1),
                              f"the events up to sequence {anchor.last_seq} do not match the anchor of {when}"), held
        held = max(held, anchor.last_seq)
    return None, held


# --- anchors ------------------------------------------------------------------------------------------------


def sign_anchor(anchor: AuditAnchor) -> None:
    anchor.key_id = keys.current_key_id()
    anchor.signature = keys.sign_text(anchor.key_id, anchor.signed_payload())


def verify_anchor_signature(anchor: AuditAnchor) -> bool:
    try:
        keys.public_key(anchor.key_id).verify(base64.b64decode(anchor.signature), anchor.signed_payload().encode("utf-8"))
    except (keys.UnknownAuditKey, InvalidSignature, ValueError):
        return False
    return True


def _timestamper(url: str):
    """pyHanko's RFC 3161 client for the configured TSA, with the anchor's timeout (tests put a local one)."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url, timeout=settings.AUDIT_TSA_TIMEOUT)


def timestamp_covers_signature(anchor: AuditAnchor) -> bool:
    """Whether the anchor's RFC 3161 token (if any) is over SHA-256 of its signature. The TSA's own signature
    and certificate are checked by whoever relies on the time (the token is exported with the anchor)."""
    if not anchor.timestamp_token:
        return True
    try:
        from asn1crypto import cms, tsp

        content = cms.ContentInfo.load(base64.b64decode(anchor.timestamp_token))["content"]
        info = tsp.TSTInfo.load(content["encap_content_info"]["content"].parsed.dump())
        imprint = info["message_imprint"]
        return (imprint["hash_algorithm"]["algorithm"].native == "sha256"
                and imprint["hashed_message"].native == hashlib.sha256(base64.b64decode(anchor.signature)).digest())
    except Exception:  # noqa: BLE001 - a malformed token is a token that does not cover it
        return False


def _timestamp(signature_b64: str) -> tuple[str, str]:
    """An RFC 3161 token over SHA-256 of the anchor's signature from SIGNING_TSA_URL: (token, error). A TSA
    that fails or does not answer in time leaves the anchor signed but untimestamped, with the reason."""
    url = getattr(settings, "SIGNING_TSA_URL", "")
    if not url:
        return "", ""
    try:
        import asyncio

        digest = hashlib.sha256(base64.b64decode(signature_b64)).digest()
        token = asyncio.run(_timestamper(url).async_timestamp(digest, "sha256"))
        return base64.b64encode(token.dump()).decode("ascii"), ""
    except Exception as error:  # noqa: BLE001 - any failure of the TSA is recorded, never fatal
        logger.warning("Audit anchor could not be timestamped at %s", url, exc_info=True)
        return "", f"{type(error).__name__}: {error}"[:300]


def anchor_chain(key: str, now=None) -> AuditAnchor | None:
    """Copy one chain's head into a signed (and, with a TSA, timestamped) anchor; None if the chain has not
    moved since its last anchor or is empty."""
    head = AuditChainHead.objects.filter(chain=key).first()
    if head is None or head.last_seq == 0:
        return None
    latest = AuditAnchor.objects.filter(chain=key).order_by("-last_seq", "-id").first()
    if latest is not None and latest.last_seq == head.last_seq and latest.last_hash == head.last_hash:
        return None
    anchor = AuditAnchor(chain=key, last_seq=head.last_seq, last_hash=head.last_hash,
                         anchored_at=now or timezone.now())
    sign_anchor(anchor)
    anchor.timestamp_token, anchor.timestamp_error = _timestamp(anchor.signature)
    anchor.save()
    return anchor


def anchor_all(now=None) -> int:
    """The daily task: chain what waits, then anchor every chain that moved. Returns how many anchors."""
    chain_all_pending()
    chains = sorted(AuditChainHead.objects.values_list("chain", flat=True))
    return sum(1 for key in chains if anchor_chain(key, now=now) is not None)


def export_anchor(anchor: AuditAnchor) -> dict[str, Any]:
    """One anchor as exported (a JSON line): everything needed to check it offline with the public key."""
    return {
        "chain": anchor.chain,
        "last_seq": anchor.last_seq,
        "last_hash": anchor.last_hash,
        "anchored_at": anchor.anchored_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "key_id": anchor.key_id,
        "algorithm": "Ed25519",
        "signed_payload": anchor.signed_payload(),
        "signature": anchor.signature,
        "public_key": _public_key_or_blank(anchor.key_id),
        "timestamp_token": anchor.timestamp_token,
        "timestamp_error": anchor.timestamp_error,
    }


def _public_key_or_blank(key_id: str) -> str:
    try:
        return keys.public_key_b64(key_id)
    except keys.UnknownAuditKey:
        return ""


def unchained_count() -> int:
    return AuditEvent.objects.filter(seq__isnull=True).count()


def verify_all() -> list[BrokenLink]:
    chains = set(AuditChainHead.objects.values_list("chain", flat=True)) | set(
        AuditEvent.objects.values_list("chain", flat=True).distinct()
    )
    return [broken for chain in sorted(chains) if (broken := verify_chain(chain))]
