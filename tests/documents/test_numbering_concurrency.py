"""Numbers are gapless and unique under concurrency (PostgreSQL, real threads and connections), the
audit chain stays intact, and numbering restarts at 01 on 1 January in Vietnam's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from audit.models import AuditEvent
from audit.services import chain_key, verify_all
from documents import events, services
from documents.models import Confidentiality, Document, DocumentFile, FileBlob, Register, RegisterKind
from tests.concurrency import run_at_once
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf

THREADS = 50


def run_in_threads(jobs: list) -> list:
    results, errors = run_at_once(jobs)
    assert errors == [], errors[:3]
    return results


def outgoing_job(user_pk: int, *, secret: bool = False, files: tuple[bytes, ...] = ()):
    def job() -> tuple[str, int]:
        user = User.objects.get(pk=user_pk)  # one instance per thread: permission caches are not shared
        data = services.OutgoingInput(
            document_type_id=doc_type().pk, subject="Quyết định phê duyệt danh sách",
            confidentiality=Confidentiality.SECRET if secret else Confidentiality.NORMAL,
        )
        uploads = [SimpleUploadedFile(f"qd-{i}.pdf", content) for i, content in enumerate(files)]
        document = services.register_outgoing(user, data, uploads)
        return document.register.kind, document.register_number

    return job


def incoming_job(user_pk: int, index: int):
    def job() -> tuple[str, int]:
        user = User.objects.get(pk=user_pk)
        data = services.IncomingInput(
            document_type_id=doc_type("cong-van").pk, subject="Về việc báo cáo số liệu",
            organ_name="Bộ Nội vụ", code_number=str(1000 + index), code_notation="BNV-VP",
        )
        document = services.register_incoming(user, data)
        return document.register.kind, document.register_number

    return job


def numbers_of(results, kind: str) -> list[int]:
    return sorted(number for result_kind, number in results if result_kind == kind)


def assert_chain_intact(agency) -> None:
    assert verify_all() == []
    seqs = list(AuditEvent.objects.filter(chain=chain_key(agency.pk)).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_outgoing_numbers_are_gapless_and_unique(require_postgres, reference_data):
    agency = AgencyFactory()
    clerks = [clerk(agency) for _ in range(5)]
    results = run_in_threads([outgoing_job(clerks[i % 5].pk) for i in range(THREADS)])
    assert numbers_of(results, RegisterKind.OUTGOING) == list(range(1, THREADS + 1))
    register = Register.objects.get(agency=agency, kind=RegisterKind.OUTGOING)
    assert register.last_number == THREADS
    codes = sorted(Document.objects.filter(register=register).values_list("code_number", flat=True))
    assert codes == [f"{n:02d}" for n in range(1, THREADS + 1)]
    assert AuditEvent.objects.filter(verb=events.DOCUMENT_REGISTERED_OUTGOING, agency_id=agency.pk).count() == THREADS
    assert_chain_intact(agency)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_incoming_arrival_numbers_are_gapless_and_unique(require_postgres, reference_data):
    agency = AgencyFactory()
    clerks = [clerk(agency) for _ in range(5)]
    results = run_in_threads([incoming_job(clerks[i % 5].pk, i) for i in range(THREADS)])
    assert numbers_of(results, RegisterKind.INCOMING) == list(range(1, THREADS + 1))
    assert Register.objects.get(agency=agency, kind=RegisterKind.INCOMING).last_number == THREADS
    assert AuditEvent.objects.filter(verb=events.DOCUMENT_REGISTERED_INCOMING, agency_id=agency.pk).count() == THREADS
    assert_chain_intact(agency)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_mixed_series_and_agencies_in_parallel(require_postgres, reference_data):
    agency, other = AgencyFactory(), AgencyFactory()
    user, other_user = clerk(agency), clerk(other)
    same_pdf = make_pdf(pages=1, text="Cùng một tệp đính kèm")
    jobs = (
        [outgoing_job(user.pk, files=(same_pdf,)) for _ in range(15)]
        + [outgoing_job(user.pk, secret=True) for _ in range(12)]
        + [incoming_job(user.pk, i) for i in range(13)]
        + [outgoing_job(other_user.pk) for _ in range(10)]
    )
    results = run_in_threads(jobs)
    assert len(results) == 50
    by_register = {
        (register.agency_id, register.kind): sorted(register.documents.values_list("register_number", flat=True))
        for register in Register.objects.all()
    }
    assert by_register == {
        (agency.pk, RegisterKind.OUTGOING): list(range(1, 16)),
        (agency.pk, RegisterKind.SECRET_OUTGOING): list(range(1, 13)),
        (agency.pk, RegisterKind.INCOMING): list(range(1, 14)),
        (other.pk, RegisterKind.OUTGOING): list(range(1, 11)),
    }
    # The same bytes uploaded fifteen times at once are stored once.
    assert FileBlob.objects.count() == 1
    assert DocumentFile.objects.filter(blob=FileBlob.objects.get()).count() == 15
    assert_chain_intact(agency)
    assert_chain_intact(other)


# --- the year boundary (any database) -----------------------------------------------------------

LAST_SECOND_2026 = datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC)  # 23:59:59 in Hà Nội
FIRST_SECOND_2027 = datetime(2026, 12, 31, 17, 0, 0, tzinfo=UTC)  # 00:00:00 on 1 January 2027 in Hà Nội


def _at(moment: datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def _outgoing(user, **overrides) -> Document:
    data = services.OutgoingInput(document_type_id=doc_type().pk, subject="Quyết định cuối năm", **overrides)
    return services.register_outgoing(user, data)


def _incoming(user, number: str, **overrides) -> Document:
    data = services.IncomingInput(document_type_id=doc_type("cong-van").pk, subject="Công văn cuối năm",
                                  organ_name="Sở Tài chính", code_number=number, **overrides)
    return services.register_incoming(user, data)


@pytest.mark.django_db
def test_numbering_restarts_on_1_january_in_vietnam_time():
    from django.utils import timezone

    assert timezone.localtime(FIRST_SECOND_2027).date() == date(2027, 1, 1)
    assert timezone.localtime(LAST_SECOND_2026).date() == date(2026, 12, 31)
    agency = AgencyFactory(abbreviation="UBND", identifier="H10.01")
    user = clerk(agency)
    with _at(LAST_SECOND_2026):
        first, second = _outgoing(user), _outgoing(user)
        secret = _outgoing(user, confidentiality=Confidentiality.SECRET)
        arrived = _incoming(user, "501")
    assert [d.number_notation for d in (first, second)] == ["01/QĐ-UBND", "02/QĐ-UBND"]
    assert first.issued_date == date(2026, 12, 31) and first.register.year == 2026
    assert first.identifier == "H10.01,2026/12/31,01/QĐ-UBND"
    assert (secret.register.kind, secret.code_number, secret.register.year) == (RegisterKind.SECRET_OUTGOING, "01", 2026)
    assert (arrived.arrival_date, arrived.arrival_number, arrived.register.year) == (date(2026, 12, 31), 1, 2026)

    with _at(FIRST_SECOND_2027):
        new_year = _outgoing(user)
        new_secret = _outgoing(user, confidentiality=Confidentiality.SECRET)
        new_arrival = _incoming(user, "502")
        with pytest.raises(ValidationError) as refused:
            _incoming(user, "503", arrival_date=date(2026, 12, 31))
    assert new_year.number_notation == "01/QĐ-UBND"
    assert (new_year.issued_date, new_year.register.year) == (date(2027, 1, 1), 2027)
    assert new_year.identifier == "H10.01,2027/01/01,01/QĐ-UBND"
    assert new_year.register_id != first.register_id
    assert (new_secret.code_number, new_secret.register.year) == ("01", 2027)
    assert (new_arrival.arrival_date, new_arrival.arrival_number, new_arrival.register.year) == (date(2027, 1, 1), 1, 2027)
    assert "arrival_date" in refused.value.message_dict
    # The 2026 series is untouched by the new year.
    assert Register.objects.get(agency=agency, kind=RegisterKind.OUTGOING, year=2026).last_number == 2
    assert verify_all() == []
