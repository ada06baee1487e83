"""The audit trail is never the reason a change fails: 20 writers of different kinds in one agency at the
same moment (outgoing and incoming registrations sharing the same file, certificate imports, access grants)
on PostgreSQL, each with its own connection: no error, every event chained, the chain intact.

Before events were chained after commit, each took the agency's chain head mid-transaction, after other
locks (a register's counter, a new blob's unique key): such writers deadlocked on it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import roles
from accounts.models import User
from audit.models import AuditEvent
from audit.services import chain_key, verify_all
from documents import services as documents_services
from documents.models import Document, DocumentFile
from signatures import services as signing_services
from signatures.models import CredentialKind, SigningCredential
from signatures.pki import build_demo_pki
from tests.concurrency import run_at_once
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHARED_PDF = make_pdf(2, "Tài liệu dùng chung")


def _outgoing(user_pk: int, index: int):
    def job() -> str:
        user = User.objects.get(pk=user_pk)
        data = documents_services.OutgoingInput(document_type_id=doc_type().pk, subject=f"Quyết định số {index}")
        documents_services.register_outgoing(user, data, [SimpleUploadedFile("qd.pdf", SHARED_PDF)])
        return "outgoing"

    return job


def _incoming(user_pk: int, index: int):
    def job() -> str:
        user = User.objects.get(pk=user_pk)
        data = documents_services.IncomingInput(
            document_type_id=doc_type("cong-van").pk, subject=f"Công văn đến {index}", organ_name="Bộ Nội vụ",
            code_number=str(500 + index), code_notation="BNV-VP")
        documents_services.register_incoming(user, data, [SimpleUploadedFile("cv.pdf", SHARED_PDF)])
        return "incoming"

    return job


def _certificate(admin_pk: int, person_pk: int, p12: bytes):
    def job() -> str:
        admin, person = User.objects.get(pk=admin_pk), User.objects.get(pk=person_pk)
        signing_services.import_pkcs12(
            admin, signing_services.CredentialInput(kind=CredentialKind.PERSONAL, user=person), p12, "p")
        return "certificate"

    return job


def _grant(clerk_pk: int, document_pk: int, person_pk: int):
    def job() -> str:
        documents_services.grant_document_access(User.objects.get(pk=clerk_pk), Document.objects.get(pk=document_pk),
                                                 user=User.objects.get(pk=person_pk))
        return "grant"

    return job


def test_twenty_writers_of_different_kinds_in_one_agency(require_postgres, reference_data, django_user_model):
    agency = AgencyFactory()
    clerks = [clerk(agency) for _ in range(3)]
    leaders = [make_user(roles.AGENCY_LEADER, agency) for _ in range(4)]
    readers = [make_user(roles.STAFF, agency) for _ in range(4)]
    superuser = django_user_model.objects.create_superuser("quantri.concurrency", password="x")
    pki = build_demo_pki(seals={}, people={leader.username: leader.display_name for leader in leaders})
    signing_services.add_trust_anchors(superuser, pki.root.certificate.public_bytes(_pem()) +
                                       pki.issuing_ca.certificate.public_bytes(_pem()))
    shared = documents_services.register_outgoing(
        clerks[0], documents_services.OutgoingInput(document_type_id=doc_type().pk, subject="Văn bản để chia sẻ"))
    before = AuditEvent.objects.filter(chain=chain_key(agency.pk)).count()

    jobs = [_outgoing(clerks[i % 3].pk, i) for i in range(6)]
    jobs += [_incoming(clerks[i % 3].pk, i) for i in range(6)]
    jobs += [_certificate(superuser.pk, leader.pk, pki.people[leader.username].to_pkcs12(b"p")) for leader in leaders]
    jobs += [_grant(clerks[i % 3].pk, shared.pk, reader.pk) for i, reader in enumerate(readers)]
    assert len(jobs) == 20

    results, errors = run_at_once(jobs)

    assert errors == [], errors[:3]
    assert sorted(results) == sorted(["outgoing"] * 6 + ["incoming"] * 6 + ["certificate"] * 4 + ["grant"] * 4)
    assert DocumentFile.objects.filter(blob__sha256=DocumentFile.objects.first().blob_id).count() == 12
    assert SigningCredential.objects.filter(user__in=leaders, is_active=True).count() == 4
    events = AuditEvent.objects.filter(chain=chain_key(agency.pk))
    assert events.count() > before + 20
    assert not events.filter(seq__isnull=True).exists()  # every commit chained its own events
    assert sorted(events.values_list("seq", flat=True)) == list(range(1, events.count() + 1))
    assert verify_all() == []


def _pem():
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM
