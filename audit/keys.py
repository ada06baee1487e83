"""The audit trail's keys: the HMAC key that keys the chain and the Ed25519 key that signs its anchors.

Both come from one secret in the environment, `AUDIT_HMAC_KEY` (base64 of 32 bytes), through HKDF with a
different label each, so one value is backed up and rotated. It lives in the environment, not in the database:
whoever can rewrite the event rows cannot recompute a keyed hash or sign an anchor. Keep it out of database
backups, like the key-encryption key.

Rotation: a new key gets a new id (`AUDIT_HMAC_KEY_ID`); older keys stay in `AUDIT_HMAC_KEYS`
("id:base64,id:base64") so the events and anchors made with them still verify. Every event records the id of
the key that made its hash; "" is the unkeyed SHA-256 of the chain's first version (events chained before the
key existed), verified with that rule.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import UTC
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

UNKEYED = ""  # the key id of events hashed with plain SHA-256 (before the chain was keyed)

_HMAC_LABEL = b"eoffice audit chain hmac-sha256 v1"
_SIGNING_LABEL = b"eoffice audit anchor ed25519 v1"


class InvalidAuditKey(ValueError):
    pass


class UnknownAuditKey(KeyError):
    pass


def generate_key() -> str:
    """A new value for AUDIT_HMAC_KEY."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_key(value: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidAuditKey("not base64") from error
    if len(raw) != 32:
        raise InvalidAuditKey(f"{len(raw)} bytes instead of 32")
    return raw


def parse_older_keys(value: str) -> dict[str, str]:
    """`AUDIT_HMAC_KEYS`: "id:base64,id:base64" → {id: base64}."""
    keys = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, key = item.partition(":")
        if not sep or not key_id.strip():
            raise InvalidAuditKey(f"AUDIT_HMAC_KEYS entry without an id: {key_id[:8]}…")
        keys[key_id.strip()] = key.strip()
    return keys


def current_key_id() -> str:
    return settings.AUDIT_HMAC_KEY_ID


def _configured() -> dict[str, str]:
    keys = parse_older_keys(getattr(settings, "AUDIT_HMAC_KEYS", ""))
    keys[settings.AUDIT_HMAC_KEY_ID] = settings.AUDIT_HMAC_KEY
    return keys


@lru_cache(maxsize=32)
def _derive(secret_b64: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(parse_key(secret_b64))


def _secret(key_id: str) -> str:
    try:
        return _configured()[key_id]
    except KeyError:
        raise UnknownAuditKey(key_id) from None


def hmac_hex(key_id: str, message: bytes) -> str:
    return hmac.new(_derive(_secret(key_id), _HMAC_LABEL), message, hashlib.sha256).hexdigest()


def signing_key(key_id: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_derive(_secret(key_id), _SIGNING_LABEL))


def public_key(key_id: str) -> Ed25519PublicKey:
    return signing_key(key_id).public_key()


def public_key_b64(key_id: str) -> str:
    """The anchors' public key as base64 of its 32 raw bytes (Ed25519PublicKey.from_public_bytes)."""
    return base64.b64encode(public_key(key_id).public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def public_key_pem(key_id: str) -> str:
    return public_key(key_id).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def known_key_ids() -> list[str]:
    return sorted(_configured())


def anchor_payload(*, chain: str, last_seq: int, last_hash: str, anchored_at, key_id: str) -> str:
    """The exact text an anchor's signature covers (canonical JSON, UTF-8 when signed; `anchored_at` in UTC)."""
    payload = {"chain": chain, "last_seq": last_seq, "last_hash": last_hash, "key_id": key_id,
               "anchored_at": anchored_at.astimezone(UTC).isoformat(timespec="microseconds")}
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sign_text(key_id: str, text: str) -> str:
    """Base64 Ed25519 signature of `text` with the anchor key derived from audit key `key_id`."""
    return base64.b64encode(signing_key(key_id).sign(text.encode("utf-8"))).decode("ascii")
