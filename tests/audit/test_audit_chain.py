"""The audit trail is a hash chain per agency: any changed, deleted or truncated row is reported by
`manage.py verify_audit` at the first broken link; agencies' chains are independent."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from audit.services import (
    UNCHAINED_GRACE,
    chain_all_pending,
    chain_key,
    chain_pending,
    record_event,
    verify_all,
    verify_chain,
)
from tests.factories import AgencyFactory, clerk

pytestmark = pytest.mark.django_db


def record(agency, user, count: int, verb: str = "test.event") -> list[AuditEvent]:
    """Events each in its own transaction, chained as a commit would chain them (the test's own transaction
    never commits, so its on-commit step is called here)."""
    recorded = []
    for index in range(count):
        with transaction.atomic():
            recorded.append(record_event(actor=user, verb=verb, target=agency, agency_id=agency.pk,
                                         data={"index": index, "note": f"Sự kiện số {index + 1}"}))
        chain_all_pending()
    return [AuditEvent.objects.get(pk=event.pk) for event in recorded]


def run_verify() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


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


def test_recorded_events_form_an_intact_chain(chain):
    agency, user, recorded = chain
    assert [e.seq for e in recorded] == [1, 2, 3, 4, 5]
    assert recorded[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(recorded, recorded[1:], strict=False))
    stored = AuditEvent.objects.get(pk=recorded[2].pk)
    assert (stored.chain, stored.actor_id, stored.actor_name, stored.verb) == (
        chain_key(agency.pk), user.pk, user.name_and_position, "test.event")
    assert stored.compute_hash() == stored.hash
    head = AuditChainHead.objects.get(chain=chain_key(agency.pk))
    assert (head.last_seq, head.last_hash) == (5, recorded[-1].hash)
    assert verify_all() == []
    out, err = run_verify()
    assert "Audit trail intact: 5 events checked." in out and err == ""


def test_dates_decimals_and_vietnamese_survive_the_round_trip():
    agency = AgencyFactory()
    with transaction.atomic():
        event = record_event(actor=None, verb="test.types", target=agency, agency_id=agency.pk,
                             data={"from": date(2026, 1, 2), "at": datetime(2026, 1, 2, 3, 4, 5),
                                   "amount": Decimal("1.50"), "title": "Hỏa tốc – Tuyệt mật", "nested": {"b": [1, 2]}})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.data["from"] == "2026-01-02" and stored.data["title"] == "Hỏa tốc – Tuyệt mật"
    assert stored.actor_id is None and stored.actor_name == "system"
    assert verify_all() == []


@pytest.mark.parametrize(
    ("column", "value"),
    [("data", {"index": 2, "note": "đã sửa"}), ("verb", "test.other"), ("target_repr", "Ai đó khác"),
     ("actor_name", "mallory")],
)
def test_changed_row_is_reported_at_its_sequence(chain, column, value):
    agency, _user, recorded = chain
    AuditEvent.objects.filter(pk=recorded[2].pk).update(**{column: value})  # bypasses save(): a raw change
    broken = verify_chain(chain_key(agency.pk))
    assert (broken.seq, broken.event_id, broken.reason) == (3, recorded[2].pk, "content does not match its hash")
    message, err = verify_fails()
    assert f"Chain agency:{agency.pk}: first broken link at sequence 3 (event id {recorded[2].pk})" in err
    assert "sequence 3" in message and "1 chain(s)" in message


def test_change_by_plain_sql_is_reported(chain):
    agency, _user, recorded = chain
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET target_id = %s WHERE id = %s", ["999", recorded[1].pk])
    message, _err = verify_fails()
    assert "first broken link at sequence 2" in message


def test_rehashed_row_breaks_the_next_link(chain):
    agency, _user, recorded = chain
    forged = AuditEvent.objects.get(pk=recorded[1].pk)
    forged.data = {"index": 1, "note": "giả mạo"}
    forged.hash = forged.compute_hash()  # the forger recomputes this row's hash, but not the rest of the chain
    forged.save()
    broken = verify_chain(chain_key(agency.pk))
    assert (broken.seq, broken.reason) == (3, "previous-hash link does not match")


def test_deleted_middle_row_is_reported(chain):
    agency, _user, recorded = chain
    AuditEvent.objects.filter(pk=recorded[2].pk).delete()
    broken = verify_chain(chain_key(agency.pk))
    assert (broken.seq, broken.event_id, broken.reason) == (3, None, "event 3 is missing")
    message, err = verify_fails()
    assert "first broken link at sequence 3: event 3 is missing" in err
    assert "sequence 3" in message


def test_deleted_first_row_is_reported(chain):
    agency, _user, recorded = chain
    AuditEvent.objects.filter(pk=recorded[0].pk).delete()
    assert verify_chain(chain_key(agency.pk)).reason == "event 1 is missing"


def test_deleted_last_row_is_reported_by_the_head(chain):
    agency, _user, recorded = chain
    AuditEvent.objects.filter(pk=recorded[-1].pk).delete()
    broken = verify_chain(chain_key(agency.pk))
    assert (broken.seq, broken.reason) == (5, "events at the end of the chain are missing")
    message, err = verify_fails()
    assert "first broken link at sequence 5: events at the end of the chain are missing" in err


def test_deleted_head_is_reported(chain):
    agency, _user, _recorded = chain
    AuditChainHead.objects.filter(chain=chain_key(agency.pk)).delete()
    assert verify_chain(chain_key(agency.pk)).reason == "the chain head is missing"
    verify_fails()


def test_agencies_have_separate_chains():
    first, second = AgencyFactory(), AgencyFactory()
    first_clerk, second_clerk = clerk(first), clerk(second)
    for _ in range(3):  # interleaved appends
        record(first, first_clerk, 1)
        record(second, second_clerk, 1)
    with transaction.atomic():
        record_event(actor=None, verb="test.system", target=first, agency_id=None)
    chain_all_pending()
    for agency in (first, second):
        seqs = list(AuditEvent.objects.filter(chain=chain_key(agency.pk)).order_by("seq").values_list("seq", flat=True))
        assert seqs == [1, 2, 3]
    assert AuditEvent.objects.get(chain="system").seq == 1
    assert verify_all() == []

    AuditEvent.objects.filter(chain=chain_key(first.pk), seq=2).update(data={"index": 99})
    broken = verify_all()
    assert [(b.chain, b.seq) for b in broken] == [(chain_key(first.pk), 2)]  # the other chains still verify
    message, err = verify_fails()
    assert f"agency:{first.pk}" in err and f"agency:{second.pk}" not in err


def test_empty_trail_verifies():
    out, _err = run_verify()
    assert "Audit trail intact: 0 events checked." in out


@pytest.mark.django_db(transaction=True)
def test_record_event_outside_a_transaction_raises():
    agency = AgencyFactory()
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event(actor=None, verb="test.loose", target=agency, agency_id=agency.pk)
    assert AuditEvent.objects.count() == 0
    assert not AuditChainHead.objects.exists()


def test_an_event_is_chained_after_its_transaction_and_a_lost_chaining_is_reported_then_repaired(chain):
    agency, user, recorded = chain
    with transaction.atomic():
        waiting = record_event(actor=user, verb="test.waiting", target=agency, agency_id=agency.pk)
    assert AuditEvent.objects.get(pk=waiting.pk).seq is None  # written, not chained yet (no commit here)
    assert verify_all() == []  # a few minutes' wait is normal
    out, _err = run_verify()
    assert "5 events checked (1 written in the last minutes wait to be chained)" in out
    # The process died before chaining it: once the grace has passed, verification names it...
    AuditEvent.objects.filter(pk=waiting.pk).update(written_at=waiting.created_at - UNCHAINED_GRACE * 2)
    broken = verify_chain(chain_key(agency.pk))
    assert (broken.seq, broken.event_id, broken.reason) == (6, waiting.pk, "an event was never chained")
    # ... and the periodic task (or `verify_audit --chain-pending`) chains it in place.
    out = io.StringIO()
    call_command("verify_audit", "--chain-pending", stdout=out)
    assert "Chained 1 waiting event(s)." in out.getvalue() and "6 events checked." in out.getvalue()
    assert AuditEvent.objects.get(pk=waiting.pk).seq == 6
    assert chain_pending(chain_key(agency.pk)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_committed_event_is_chained_at_once():
    agency = AgencyFactory()
    with transaction.atomic():
        event = record_event(actor=None, verb="test.committed", target=agency, agency_id=agency.pk)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.seq == 1 and stored.hash == stored.compute_hash()
    with transaction.atomic():
        record_event(actor=None, verb="test.rolled-back", target=agency, agency_id=agency.pk)
        transaction.set_rollback(True)
    assert not AuditEvent.objects.filter(verb="test.rolled-back").exists()
    assert verify_all() == []


def test_a_transaction_chains_each_of_its_chains_once(django_capture_on_commit_callbacks):
    """However many events a transaction records, one chaining step per chain runs after its commit; one
    queued in a savepoint that rolled back is queued again by the next event."""
    agency = AgencyFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            with transaction.atomic():
                record_event(actor=None, verb="test.dropped", target=agency, agency_id=agency.pk)
                transaction.set_rollback(True)
            for index in range(3):
                record_event(actor=None, verb="test.kept", target=agency, agency_id=agency.pk, data={"i": index})
            record_event(actor=None, verb="test.system", target=agency, agency_id=None)
    assert len(callbacks) == 2  # the agency's chain and the system chain
    kept = AuditEvent.objects.filter(verb="test.kept").order_by("seq")
    assert [event.seq for event in kept] == [1, 2, 3] and not AuditEvent.objects.filter(verb="test.dropped").exists()
    assert verify_all() == []
