"""Audit events, chained by SHA-256 per agency so that a changed or deleted row is detectable."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

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
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.verb} {self.target_repr}"

    def compute_hash(self) -> str:
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
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

