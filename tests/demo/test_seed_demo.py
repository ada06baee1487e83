"""`manage.py seed_demo`: the demo province, its people and a gapless, audited history; run twice, nothing doubles."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from accounts import events as account_events
from accounts import roles
from accounts.models import Agency, Delegation, Unit, User
from audit.models import AuditEvent
from demo.accounts import DEMO_PASSWORD, PEOPLE, PROVINCE_IDENTIFIER
from documents import events
from documents.models import (
    Confidentiality,
    Direction,
    Document,
    DocumentFile,
    DocumentGroupObjectPermission,
    DocumentUserObjectPermission,
    FileBlob,
    Register,
)
from documents.selectors import visible_documents
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

DOCUMENTS = 120  # enough for incoming cases at every stage of handling


def seed(**options) -> str:
    out = io.StringIO()
    options.setdefault("documents", DOCUMENTS)
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    return {
        "agencies": Agency.objects.count(),
        "units": Unit.objects.count(),
        "people": User.objects.count(),
        "delegations": Delegation.objects.count(),
        "registers": Register.objects.count(),
        "documents": Document.objects.count(),
        "files": DocumentFile.objects.count(),
        "blobs": FileBlob.objects.count(),
        "user grants": DocumentUserObjectPermission.objects.count(),
        "group grants": DocumentGroupObjectPermission.objects.count(),
        "events": AuditEvent.objects.count(),
    }


def added(output: str, what: str) -> int:
    """How many of `what` the seed's summary says it added."""
    import re

    found = re.search(rf"(\d+) {re.escape(what)}[,.]", output)
    return int(found.group(1)) if found else 0


def person(username: str) -> User:
    return User.objects.get(username=username)  # fresh instance: no cached permissions


def test_seed_builds_the_province_people_and_a_gapless_audited_history_and_a_second_run_changes_nothing():
    output = seed()
    assert "Demo seeded" in output and DEMO_PASSWORD in output

    province = Agency.objects.get(identifier=PROVINCE_IDENTIFIER)
    assert province.abbreviation == "UBND" and province.kind == "province_committee" and province.place_name == "Hòa Bình"
    assert len(province.legacy_code) == 13
    assert Agency.objects.count() >= 12
    assert province.children.filter(abbreviation="VP", kind="province_body").exists()
    assert province.children.filter(kind="province_body").count() >= 7
    districts = province.children.filter(kind="district_committee")
    assert districts.count() == 2
    assert all(d.children.filter(kind="commune_committee").count() == 3 for d in districts)
    assert not Agency.objects.filter(units__isnull=True).exists()  # every agency has internal units

    assert User.objects.count() == len(PEOPLE) == 40
    snv = Agency.objects.get(abbreviation="SNV")
    for agency in (province, snv):
        present = set(User.objects.filter(agency=agency).values_list("groups__name", flat=True))
        assert set(roles.ROLE_PERMISSIONS) <= present, agency
    admin = person("quantri")
    assert admin.is_superuser and admin.is_staff and admin.check_password(DEMO_PASSWORD)
    assert Client().login(username="vanthu.snv", password=DEMO_PASSWORD)
    assert Delegation.objects.filter(delegator__username="lanhdao.ubnd", delegate__username="phochutich.ubnd",
                                     authority_prefix="KT.").exists()

    documents = Document.objects.all()
    # The exchange adds the documents it sent in its showcase and the incoming documents registered from
    # deliveries that the plan did not register on paper.
    exchange_added = (added(output, "documents (sent electronically)")
                      + added(output, "documents (incoming, received electronically)")
                      - added(output, "paper registrations replaced by deliveries"))
    assert exchange_added > 0
    assert documents.count() == DOCUMENTS + exchange_added
    assert {Direction.OUTGOING, Direction.INCOMING} <= set(documents.values_list("direction", flat=True))
    years = {register.year for register in Register.objects.filter(documents__isnull=False)}
    assert len(years) == 2  # spread over the previous and the current year
    assert Register.objects.values("year").distinct().count() == 2
    assert documents.exclude(confidentiality=Confidentiality.NORMAL).exists()
    document_blobs = DocumentFile.objects.values("blob").distinct().count()
    assert DocumentFile.objects.count() == documents.count() and document_blobs <= 8  # identical bytes stored once

    # Gapless numbers per register, increasing with the dates (issue date, or arrival date for incoming).
    for register in Register.objects.filter(documents__isnull=False).distinct():
        rows = list(register.documents.order_by("register_number").values_list(
            "register_number", "arrival_date" if register.is_incoming else "issued_date"))
        assert [number for number, _day in rows] == list(range(1, len(rows) + 1)), register
        assert register.last_number == len(rows)
        assert [day for _number, day in rows] == sorted(day for _number, day in rows), register
        assert all(day.year == register.year for _number, day in rows)

    # The organisation was built through the accounts services, the documents through the registry's:
    # one registration and one file event per document.
    verbs = Counter(AuditEvent.objects.values_list("verb", flat=True))
    assert verbs[account_events.AGENCY_CREATED] == Agency.objects.count()
    assert verbs[account_events.UNIT_CREATED] == Unit.objects.count()
    assert verbs[account_events.USER_CREATED] == len(PEOPLE) - 1  # the bootstrapped administrator is completed:
    assert verbs[account_events.USER_CHANGED] == 1
    assert verbs[account_events.DELEGATION_CREATED] == Delegation.objects.count() == 5
    assert verbs[events.DOCUMENT_REGISTERED_OUTGOING] == documents.exclude(direction=Direction.INCOMING).count()
    assert verbs[events.DOCUMENT_REGISTERED_INCOMING] == documents.filter(direction=Direction.INCOMING).count()
    assert verbs[events.DOCUMENT_FILE_ATTACHED] == documents.count()
    assert verbs[events.REGISTER_CREATED] == Register.objects.count()
    assert verbs[events.DOCUMENT_ACCESS_GRANTED] >= 3
    registered = AuditEvent.objects.filter(verb=events.DOCUMENT_REGISTERED_OUTGOING).first()
    assert Document.objects.get(pk=registered.target_id).issued_date == registered.created_at.astimezone(
        province_tz()).date()  # events carry the historical moment

    verify = io.StringIO()
    call_command("verify_audit", stdout=verify)
    assert "intact" in verify.getvalue()

    # Checked on this seed (each a seeding less for the suite than a test of its own).
    cross_agency_grants_and_secret_documents_are_demoable()
    incoming_documents_at_every_stage_of_handling(output)

    # A second run changes nothing: no case, no assignment, no event.
    before = snapshot()
    cases_before = case_counts()
    assert "added nothing" in seed()
    assert snapshot() == before
    assert case_counts() == cases_before
    call_command("verify_audit", stdout=io.StringIO())


def case_counts() -> tuple[int, int]:
    from workflows.models import Assignment, IncomingCase

    return IncomingCase.objects.count(), Assignment.objects.count()


def province_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Ho_Chi_Minh")


def cross_agency_grants_and_secret_documents_are_demoable():
    """Checked on the seed of the test above (one seeding less for the suite than a test of its own)."""
    province = Agency.objects.get(identifier=PROVINCE_IDENTIFIER)
    staff_snv = person("chuyenvien.snv")
    seen_by_snv_staff = visible_documents(staff_snv)
    shared = seen_by_snv_staff.filter(agency=province)
    assert shared.exists()  # granted across agencies
    granted_ids = set(DocumentUserObjectPermission.objects.filter(user=staff_snv).values_list("content_object_id", flat=True))
    assert set(shared.values_list("id", flat=True)) == granted_ids & set(
        Document.objects.filter(agency=province).values_list("id", flat=True))
    # ... and nothing else of the province leaks into the list.
    assert Document.objects.filter(agency=province).count() > shared.count()

    # Secret documents: only the registering clerk and the head of the agency (granted) see them.
    secrets = Document.objects.exclude(confidentiality=Confidentiality.NORMAL)
    assert secrets.exists()
    for secret in secrets:
        seers = {user.username for user in User.objects.all() if visible_documents(user).filter(pk=secret.pk).exists()}
        head = User.objects.filter(agency=secret.agency, groups__name=roles.AGENCY_LEADER).order_by("pk").first()
        expected = {secret.created_by.username} | ({head.username} if head else set())
        assert seers == expected, secret  # no staff, no other agency


def test_refuses_to_mix_the_demo_into_a_database_with_other_agencies():
    AgencyFactory()
    with pytest.raises(CommandError):
        seed()
    assert Agency.objects.count() == 1 and User.objects.count() == 0 and AuditEvent.objects.count() == 0


def incoming_documents_at_every_stage_of_handling(output: str) -> None:
    """Incoming documents at every stage of handling, on the seed of the first test."""
    from workflows import events as workflow_events
    from workflows.models import Assignment, AssignmentState, CaseState, ExtensionRequest, IncomingCase
    from workflows.selectors import my_incoming_work

    province = Agency.objects.get(identifier=PROVINCE_IDENTIFIER)
    cases = IncomingCase.objects.filter(agency=province)
    states = Counter(cases.values_list("state", flat=True))
    assert set(states) == set(CaseState.values), states
    assert "incoming cases (overdue)" in output
    lead = Assignment.objects.filter(case__agency=province, role="lead")
    assert lead.filter(state=AssignmentState.WAITING).exists()
    assert lead.filter(state=AssignmentState.HANDLING, overdue_since__isnull=False).exists()  # some overdue
    completed = list(lead.filter(state=AssignmentState.COMPLETED))
    assert any(a.completed_at.date() > a.due_date for a in completed)  # completed late
    assert any(a.completed_at.date() <= a.due_date for a in completed)  # completed on time
    assert ExtensionRequest.objects.filter(assignment__case__agency=province, state="pending").exists()
    # Each step is audited on its document, at the step's historical moment, and the chain verifies.
    directed = AuditEvent.objects.filter(verb=workflow_events.CASE_DIRECTED, agency_id=province.pk)
    assert directed.count() == cases.filter(directed_at__isnull=False).count()
    # (but the exchange's showcase: documents received electronically in the last hours, handled since)
    showcase = [str(pk) for pk in Document.objects.filter(received_through__isnull=False,
                                                          created_at__gt=timezone.now() - timedelta(hours=3))
                .values_list("pk", flat=True)]
    assert all(e.created_at < timezone.now() - timedelta(hours=1) for e in directed.exclude(target_id__in=showcase))
    verify = io.StringIO()
    call_command("verify_audit", stdout=verify)
    assert "intact" in verify.getvalue()
    # The demo's people have work waiting: the leader a document to direct, the handler one to handle.
    leader = User.objects.get(pk=cases.filter(state=CaseState.PRESENTED).first().presented_to_id)
    assert my_incoming_work(leader).counts["to_direct"].total >= 1
    handler = User.objects.get(pk=lead.filter(state=AssignmentState.HANDLING).first().assignee_id)
    assert my_incoming_work(handler).counts["to_handle"].total >= 1
