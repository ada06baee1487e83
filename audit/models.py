"""Audit events, chained per agency by HMAC-SHA256 with a key kept outside the database (audit.keys) so that a
changed or deleted row is detectable even by whoever can rewrite the table, and anchored daily: each chain's
head is copied into a signed `AuditAnchor` row."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .keys import UNKEYED, anchor_payload, hmac_hex

GENESIS_HASH = "0" * 64


class AuditChainHead(models.Model):
    """The last link of one chain; locked while appending so the chain stays linear.

    One chain per agency (key "agency:<id>") plus "system": agencies append in parallel.
    """

    chain = models.CharField(max_length=64, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"{self.chain} #{self.last_seq}"


class AuditEvent(models.Model):
    chain = models.CharField(_("chain"), max_length=64, db_index=True)
    # Blank until the event is chained, right after its transaction commits (audit.services.chain_pending).
    seq = models.BigIntegerField(_("sequence"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    verb = models.CharField(_("verb"), max_length=80, db_index=True)
    target_type = models.CharField(_("target type"), max_length=80)
    target_id = models.CharField(_("target id"), max_length=64)
    target_repr = models.CharField(_("target"), max_length=300, blank=True)
    agency_id = models.BigIntegerField(_("agency"), null=True, blank=True, db_index=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"))
    # When the row was written (the event's `created_at` may be an earlier moment, e.g. replayed history);
    # not part of the hash: it only tells how long an event has been waiting to be chained.
    written_at = models.DateTimeField(db_default=Now(), null=True)  # the database's clock, not the process's
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    # The id of the audit key whose HMAC is `hash` (audit.keys); "" for the unkeyed SHA-256 of events chained
    # before the chain was keyed. Set when the event is chained.
    key_id = models.CharField(_("key"), max_length=32, blank=True, default="")

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["chain", "seq", "id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_unique_chain_seq")]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["chain", "id"], condition=models.Q(seq__isnull=True), name="audit_unchained_idx"),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.created_at):%d/%m/%Y %H:%M} {self.actor_name} {self.verb} {self.target_repr}"

    def compute_hash(self) -> str:
        """The event's link: HMAC-SHA256 with the audit key `key_id` over its canonical JSON (which names the
        key), or, for the events chained before the key existed (key_id ""), the plain SHA-256 of it."""
        payload = {
            "chain": self.chain,
            "seq": self.seq,
            "actor": self.actor_id,
            "actor_name": self.actor_name,
            "verb": self.verb,
            "target_type": self.target_type,
            "target_id": str(self.target_id),
            "target_repr": self.target_repr,
            "agency": self.agency_id,
            "data": self.data,
            # UTC, so the hash does not depend on the zone the datetime was handed in.
            "created_at": self.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "prev_hash": self.prev_hash,
        }
        if self.key_id != UNKEYED:
            payload["key_id"] = self.key_id
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        if self.key_id == UNKEYED:
            return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return hmac_hex(self.key_id, canonical.encode("utf-8"))


class AuditAnchor(models.Model):
    """A chain's head at one moment (sequence and hash), signed with the installation's anchor key (Ed25519,
    derived from the audit key `key_id`) and, when a TSA is configured, timestamped (RFC 3161). Kept outside
    the events table and exported (`manage.py export_audit_anchors`): a rewritten chain no longer matches the
    anchors taken before, and an anchor cannot be forged without the key."""

    chain = models.CharField(_("chain"), max_length=64, db_index=True)
    last_seq = models.BigIntegerField(_("last sequence"))
    last_hash = models.CharField(_("last hash"), max_length=64)
    anchored_at = models.DateTimeField(_("anchored at"))
    key_id = models.CharField(_("key"), max_length=32)
    # Base64 Ed25519 signature over `signed_payload()` (UTF-8).
    signature = models.TextField(_("signature"))
    # Base64 DER RFC 3161 TimeStampToken over SHA-256 of the signature bytes; empty without a TSA or on failure.
    timestamp_token = models.TextField(_("timestamp token"), blank=True)
    timestamp_error = models.CharField(_("timestamp error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit anchor")
        verbose_name_plural = _("audit anchors")
        ordering = ["chain", "last_seq", "id"]

    def __str__(self) -> str:
        return f"{self.chain} #{self.last_seq} @ {timezone.localtime(self.anchored_at):%d/%m/%Y %H:%M}"

    def signed_payload(self) -> str:
        """The exact text the signature covers (canonical JSON; verifiable offline from an export)."""
        return anchor_payload(chain=self.chain, last_seq=self.last_seq, last_hash=self.last_hash,
                              anchored_at=self.anchored_at, key_id=self.key_id)
