"""The audit chain against an attacker who can write the database: the links are keyed (HMAC with a key from
the environment), so rewriting an event and recomputing the unkeyed hashes of it, every later event and the
head is still reported at that event; each chain's head is anchored daily in a signed row outside the events
table, exportable and verifiable offline; keys rotate without breaking older events and anchors."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC
from importlib import import_module

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from audit import keys
from audit.checks import check_audit_key
from audit.models import AuditAnchor, AuditChainHead, AuditEvent
from audit.services import (
    anchor_all,
    anchor_chain,
    chain_all_pending,
    chain_key,
    record_event,
    verify_all,
    verify_chain,
)
from eoffice.celery import TASK_ROUTES, app
from tests.factories import AgencyFactory, clerk

pytestmark = pytest.mark.django_db

OTHER_KEY = base64.b64encode(b"another-audit-key-of-32-bytes!!!").decode()


def record(agency, user, count: int) -> list[AuditEvent]:
    recorded = []
    for index in range(count):
        with transaction.atomic():
            recorded.append(record_event(actor=user, verb="test.event", target=agency, agency_id=agency.pk,
                                         data={"index": index, "note": f"Sự kiện số {index + 1}"}))
        chain_all_pending()
    return [AuditEvent.objects.get(pk=event.pk) for event in recorded]


def unkeyed_hash(event: AuditEvent) -> str:
    """What whoever holds only the database can compute: the chain's published, unkeyed SHA-256 rule."""
    payload = {
        "chain": event.chain, "seq": event.seq, "actor": event.actor_id, "actor_name": event.actor_name,
        "verb": event.verb, "target_type": event.target_type, "target_id": str(event.target_id),
        "target_repr": event.target_repr, "agency": event.agency_id, "data": event.data,
        "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev_hash": event.prev_hash,
    }
    if event.key_id:
        payload["key_id"] = event.key_id
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def rehash_from(chain: str, seq: int, *, key_id: str | None = None) -> None:
    """Recompute, with the unkeyed rule, the hashes of the events from `seq` to the end and the head (optionally
    marking them with `key_id`, e.g. "" to pass them off as events from before the key)."""
    prev = AuditEvent.objects.get(chain=chain, seq=seq - 1).hash if seq > 1 else "0" * 64
    for event in AuditEvent.objects.filter(chain=chain, seq__gte=seq).order_by("seq"):
        if key_id is not None:
            event.key_id = key_id
        event.prev_hash = prev
        event.hash = prev = unkeyed_hash(event)
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash, key_id=event.key_id)
    AuditChainHead.objects.filter(chain=chain).update(last_hash=prev)


def verify_fails() -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=io.StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


@pytest.fixture
def chain():
    agency = AgencyFactory()
    user = clerk(agency)
    return agency, user, record(agency, user, 5)


def test_links_are_keyed_with_the_configured_key(chain):
    _agency, _user, recorded = chain
    event = recorded[2]
    assert event.key_id == "1" and event.hash == event.compute_hash()
    assert event.hash != unkeyed_hash(event)  # not computable from the row alone
    with override_settings(AUDIT_HMAC_KEY=OTHER_KEY):
        assert event.compute_hash() != event.hash  # and depends on the key
    assert verify_all() == []


@pytest.mark.parametrize("mark_as", [None, ""], ids=["keeps-its-key-id", "passed-off-as-unkeyed"])
def test_a_rewritten_event_with_recomputed_unkeyed_hashes_is_detected(chain, mark_as):
    agency, _user, recorded = chain
    key = chain_key(agency.pk)
    AuditEvent.objects.filter(pk=recorded[2].pk).update(data={"index": 2, "note": "đã sửa"})
    rehash_from(key, 3, key_id=mark_as)  # every later link and the head agree again with the unkeyed rule
    broken = verify_chain(key)
    assert (broken.seq, broken.event_id) == (3, recorded[2].pk)
    message, err = verify_fails()
    assert f"Chain agency:{agency.pk}: first broken link at sequence 3 (event id {recorded[2].pk})" in err
    assert "sequence 3" in message


def upgrade_from_the_unkeyed_chain(key: str) -> None:
    """The chain as the previous version left it (unkeyed SHA-256 links), then the upgrade's migration."""
    rehash_from(key, 1, key_id="")
    import_module("audit.migrations.0003_keyed_chain_and_anchors").seal_unkeyed_chains(django_apps, None)


def test_events_chained_before_the_key_still_verify_after_the_upgrade(chain):
    agency, user, recorded = chain
    key = chain_key(agency.pk)
    rehash_from(key, 1, key_id="")
    broken = verify_chain(key)  # unkeyed links nobody vouches for
    assert (broken.seq, broken.event_id) == (1, recorded[0].pk) and "no signed anchor covers" in broken.reason
    upgrade_from_the_unkeyed_chain(key)
    assert AuditAnchor.objects.get(chain=key).last_seq == 5
    assert verify_chain(key) is None
    later = record(agency, user, 2)
    assert [e.key_id for e in later] == ["1", "1"] and verify_all() == []
    # Rewriting an old event and recomputing every later link as unkeyed no longer matches the upgrade's anchor.
    AuditEvent.objects.filter(pk=recorded[1].pk).update(data={"index": 1, "note": "giả mạo"})
    rehash_from(key, 2, key_id="")
    broken = verify_chain(key)
    assert (broken.seq, broken.event_id) == (1, recorded[0].pk)
    assert "do not match the anchor of" in broken.reason


def test_keyed_events_passed_off_as_unkeyed_are_reported(chain):
    agency, user, _recorded = chain
    key = chain_key(agency.pk)
    upgrade_from_the_unkeyed_chain(key)
    later = record(agency, user, 3)
    AuditEvent.objects.filter(pk=later[1].pk).update(data={"index": 1, "note": "giả mạo"})
    rehash_from(key, 6, key_id="")  # the tail after the upgrade's anchor, recomputed with the old rule
    broken = verify_chain(key)
    assert (broken.seq, broken.event_id) == (6, later[0].pk)
    assert "no signed anchor covers" in broken.reason
    message, err = verify_fails()
    assert f"first broken link at sequence 6 (event id {later[0].pk})" in err


def test_rotating_the_key_keeps_older_events_and_anchors_verifiable(chain):
    agency, user, recorded = chain
    key = chain_key(agency.pk)
    anchor_all()
    old_key = keys._configured()["1"]
    with override_settings(AUDIT_HMAC_KEY_ID="2", AUDIT_HMAC_KEY=OTHER_KEY, AUDIT_HMAC_KEYS=f"1:{old_key}"):
        later = record(agency, user, 2)
        assert [e.key_id for e in later] == ["2", "2"]
        assert anchor_all() == 1
        assert list(AuditAnchor.objects.filter(chain=key).values_list("key_id", flat=True)) == ["1", "2"]
        assert verify_all() == []
    with override_settings(AUDIT_HMAC_KEY_ID="2", AUDIT_HMAC_KEY=OTHER_KEY, AUDIT_HMAC_KEYS=""):
        broken = verify_chain(key)  # the old key was dropped: its events cannot be checked
        assert (broken.seq, broken.event_id) == (1, recorded[0].pk)
        assert "audit key '1', which is not configured" in broken.reason


def test_the_daily_task_anchors_each_moved_chain_once(chain):
    agency, user, _recorded = chain
    with transaction.atomic():
        record_event(actor=None, verb="test.system", target=agency, agency_id=None)
    assert anchor_all() == 2  # the agency's chain and the installation's own
    anchor = AuditAnchor.objects.get(chain=chain_key(agency.pk))
    head = AuditChainHead.objects.get(chain=chain_key(agency.pk))
    assert (anchor.last_seq, anchor.last_hash, anchor.key_id) == (5, head.last_hash, "1")
    assert anchor.timestamp_token == "" and anchor.timestamp_error == ""  # no TSA configured
    assert anchor_all() == 0  # nothing moved: a redelivered task writes nothing
    record(agency, user, 1)
    assert anchor_all() == 1
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "7 events checked. 3 signed anchors match." in out.getvalue()


def test_anchor_task_is_routed_and_scheduled():
    assert TASK_ROUTES["audit.tasks.anchor_chains"] == {"queue": "maintenance"}
    entry = app.conf.beat_schedule["anchor-audit-chains"]
    assert entry["task"] == "audit.tasks.anchor_chains" and float(entry["schedule"]) == 86400.0


def test_an_anchor_with_a_bad_signature_is_reported(chain):
    agency, _user, recorded = chain
    anchor = anchor_chain(chain_key(agency.pk))
    AuditAnchor.objects.filter(pk=anchor.pk).update(last_seq=4, last_hash=recorded[3].hash)  # moved, not re-signed
    broken = verify_chain(chain_key(agency.pk))
    assert (broken.seq, broken.event_id) == (4, recorded[3].pk)
    assert "signature of the anchor" in broken.reason
    message, err = verify_fails()
    assert f"first broken link at sequence 4 (event id {recorded[3].pk})" in err


def test_a_chain_rewritten_under_its_anchors_is_reported_after_the_last_anchor_that_holds(chain):
    agency, user, recorded = chain
    key = chain_key(agency.pk)
    rehash_from(key, 1, key_id="")  # events from before the key: only the anchors protect them
    AuditAnchor.objects.all().delete()
    first = anchor_chain(key)  # at 5
    later = record(agency, user, 3)  # 6..8, keyed
    rehash_from(key, 6, key_id="")
    AuditEvent.objects.filter(chain=key, seq__gte=6).update(key_id="")
    # Passed off as a chain never keyed: every link agrees with the unkeyed rule, but not with the anchors.
    AuditEvent.objects.filter(pk=recorded[3].pk).update(data={"index": 3, "note": "giả mạo"})
    rehash_from(key, 4, key_id="")
    broken = verify_chain(key)
    assert (broken.seq, broken.event_id) == (1, recorded[0].pk)
    assert f"do not match the anchor of {timezone.localtime(first.anchored_at):%d/%m/%Y %H:%M}" in broken.reason
    assert later  # (the keyed events after it were downgraded too)


def test_anchor_names_the_first_event_after_the_last_anchor_that_holds(chain):
    agency, user, _recorded = chain
    key = chain_key(agency.pk)
    rehash_from(key, 1, key_id="")
    anchor_chain(key)  # at 5
    later = record(agency, user, 3)
    rehash_from(key, 6, key_id="")
    second = anchor_chain(key)  # at 8, over an unkeyed tail
    AuditEvent.objects.filter(pk=later[1].pk).update(data={"index": 1, "note": "giả mạo"})
    rehash_from(key, 7, key_id="")
    broken = verify_chain(key)
    assert (broken.seq, broken.event_id) == (6, later[0].pk)
    assert f"up to sequence 8 do not match the anchor of {timezone.localtime(second.anchored_at):%d/%m/%Y %H:%M}" in broken.reason


def test_events_removed_under_an_anchor_are_reported(chain):
    agency, _user, recorded = chain
    key = chain_key(agency.pk)
    anchor_chain(key)
    AuditEvent.objects.filter(chain=key, seq__gte=4).delete()
    AuditChainHead.objects.filter(chain=key).update(last_seq=3, last_hash=recorded[2].hash)  # the head "fixed"
    broken = verify_chain(key)
    assert (broken.seq, broken.event_id) == (4, None)
    assert "past the end of the chain" in broken.reason


def test_exported_anchors_verify_offline_with_the_printed_public_key(chain, tmp_path):
    agency, _user, _recorded = chain
    anchor_all()
    target = tmp_path / "anchors.jsonl"
    call_command("export_audit_anchors", "--output", str(target), stderr=io.StringIO())
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1
    exported = lines[0]
    assert (exported["chain"], exported["last_seq"], exported["algorithm"]) == (chain_key(agency.pk), 5, "Ed25519")
    assert json.loads(exported["signed_payload"])["last_hash"] == exported["last_hash"]
    printed = io.StringIO()
    call_command("audit_anchor_key", stdout=printed)
    key_id, public_b64 = printed.getvalue().split()[:2]
    assert (key_id, public_b64) == (exported["key_id"], exported["public_key"])
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
    public.verify(base64.b64decode(exported["signature"]), exported["signed_payload"].encode("utf-8"))  # no raise


@override_settings(SIGNING_TSA_URL="http://127.0.0.1:9/tsa", AUDIT_TSA_TIMEOUT=2)
def test_an_unreachable_timestamp_authority_is_recorded_and_the_anchor_still_made(chain):
    agency, _user, _recorded = chain
    anchor = anchor_chain(chain_key(agency.pk))
    assert anchor.pk and anchor.timestamp_token == "" and anchor.timestamp_error
    assert verify_all() == []


def test_deploy_check_refuses_the_development_audit_key():
    assert [e.id for e in check_audit_key(None)] == ["audit.E001"]
    with override_settings(AUDIT_HMAC_KEY=OTHER_KEY):
        assert check_audit_key(None) == []
    with override_settings(AUDIT_HMAC_KEY="c2hvcnQ="):
        assert [e.id for e in check_audit_key(None)] == ["audit.E002"]
    with override_settings(AUDIT_HMAC_KEY=OTHER_KEY, AUDIT_HMAC_KEYS="old:not-base64!"):
        assert [e.id for e in check_audit_key(None)] == ["audit.E002"]


def local_timestamper(_url):
    """pyHanko's in-process TSA with a throw-away self-signed timestamping certificate."""
    from datetime import datetime, timedelta

    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                   .sign(key, hashes.SHA256()))
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
    )


@override_settings(SIGNING_TSA_URL="http://tsa.test/")
def test_a_configured_timestamp_authority_timestamps_the_anchor(chain, monkeypatch):
    from audit import services

    agency, user, _recorded = chain
    monkeypatch.setattr(services, "_timestamper", local_timestamper)
    anchor = anchor_chain(chain_key(agency.pk))
    assert anchor.timestamp_token and anchor.timestamp_error == ""
    assert services.timestamp_covers_signature(anchor) and verify_all() == []
    # A token lifted from another anchor does not cover this one.
    record(agency, user, 1)
    later = anchor_chain(chain_key(agency.pk))
    AuditAnchor.objects.filter(pk=later.pk).update(timestamp_token=anchor.timestamp_token)
    broken = verify_chain(chain_key(agency.pk))
    assert broken.seq == 6 and "timestamp of the anchor" in broken.reason
