"""The audit trail is read through the same rules as what it describes (audit.selectors.visible_events): an
agency's administrator reads the chains of the agencies they administer, superusers every chain; the
events of a secret document or draft only whoever may see that document or draft (documents'
visible_documents, workflows' drafts_for, registered as target filters)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from accounts import roles
from accounts.models import User
from audit.models import AuditEvent
from audit.selectors import visible_events
from audit.services import record_event
from documents import services as documents_services
from documents.models import Confidentiality
from tests.factories import PASSWORD, doc_type, make_user
from tests.scoping import api, build_province

pytestmark = pytest.mark.django_db

SECRET_SUBJECT = "Phương án bảo vệ bí mật nhà nước năm 2026"


def register(clerk: User, subject: str, confidentiality: int = Confidentiality.NORMAL):
    return documents_services.register_outgoing(clerk, documents_services.OutgoingInput(
        document_type_id=doc_type().pk, subject=subject, confidentiality=confidentiality))


@pytest.fixture
def w():
    world = build_province()
    world.own_doc = register(world.own_clerk, "Kế hoạch cải cách hành chính của Sở")
    world.secret_doc = register(world.own_clerk, SECRET_SUBJECT, Confidentiality.SECRET)
    world.foreign_doc = register(world.foreign_clerk, "Quyết định của Ủy ban về nhân sự")
    return world


@pytest.fixture
def admin_client(client, w):
    assert client.login(username=w.admin.username, password=PASSWORD)
    return client


def listed(client) -> set[int]:
    response = client.get(reverse("admin:audit_auditevent_changelist"), {"all": ""})
    assert response.status_code == 200
    return {event.pk for event in response.context["cl"].result_list}


def event_of(document) -> AuditEvent:
    return AuditEvent.objects.filter(target_type="documents.document", target_id=str(document.pk)).first()


def test_staff_administrator_reads_the_own_agencys_chain_only(w, admin_client):
    own, foreign = event_of(w.own_doc), event_of(w.foreign_doc)
    assert own.agency_id == w.own.pk and foreign.agency_id == w.province.pk
    shown = listed(admin_client)
    assert own.pk in shown and foreign.pk not in shown
    assert not AuditEvent.objects.filter(pk__in=shown).exclude(agency_id=w.own.pk).exists()
    page = admin_client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "Quyết định của Ủy ban về nhân sự" not in page
    assert admin_client.get(reverse("admin:audit_auditevent_change", args=[foreign.pk])).status_code == 404
    assert admin_client.get(reverse("admin:audit_auditevent_change", args=[own.pk])).status_code == 200


def test_a_secret_documents_events_follow_the_document(w, admin_client):
    """Someone who gets 404 on the secret document does not read its number and subject in the trail;
    once granted the document, they read its events too."""
    secret_event = event_of(w.secret_doc)
    assert secret_event.agency_id == w.own.pk and SECRET_SUBJECT in secret_event.target_repr
    assert api(w.admin).get(f"/api/v1/documents/{w.secret_doc.pk}/").status_code == 404
    assert secret_event.pk not in listed(admin_client)
    assert SECRET_SUBJECT not in admin_client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    detail = reverse("admin:audit_auditevent_change", args=[secret_event.pk])
    assert admin_client.get(detail).status_code == 404
    search = admin_client.get(reverse("admin:audit_auditevent_changelist"), {"q": "bí mật"})
    assert search.context["cl"].result_count == 0

    documents_services.grant_document_access(w.own_clerk, w.secret_doc, user=w.admin, confirm=True)
    assert api(w.admin).get(f"/api/v1/documents/{w.secret_doc.pk}/").status_code == 200
    secret_events = set(AuditEvent.objects.filter(target_id=str(w.secret_doc.pk),
                                                  target_type="documents.document").values_list("pk", flat=True))
    assert len(secret_events) == 2 and secret_events <= listed(admin_client)
    assert admin_client.get(detail).status_code == 200


def test_superusers_read_every_chain_but_not_secret_documents_they_may_not_see(w):
    root = User.objects.create_superuser("root", "root@example.gov.vn", "x-very-long-pass")
    with transaction.atomic():  # an installation-wide event (the "system" chain)
        record_event(actor=root, verb="probe.system", target=w.province, agency_id=None)
    readable = set(visible_events(root).values_list("pk", flat=True))
    assert {event_of(w.own_doc).pk, event_of(w.foreign_doc).pk} <= readable
    assert AuditEvent.objects.get(verb="probe.system").pk in readable
    assert event_of(w.secret_doc).pk not in readable
    assert api(root).get(f"/api/v1/documents/{w.secret_doc.pk}/").status_code == 404
    assert AuditEvent.objects.get(verb="probe.system").pk not in set(visible_events(w.admin).values_list("pk", flat=True))


def test_the_audit_log_needs_its_permission(w, client):
    clerk_with_site_access = make_user(roles.CLERK, w.own, is_staff=True)
    assert not visible_events(clerk_with_site_access).exists()
    assert client.login(username=clerk_with_site_access.username, password=PASSWORD)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403


def test_the_subtree_when_the_installation_says_so(w, settings):
    below_clerk = make_user(roles.CLERK, w.below)
    below_event = event_of(register(below_clerk, "Báo cáo của Chi cục"))
    assert below_event.pk not in set(visible_events(w.admin).values_list("pk", flat=True))
    settings.ADMIN_SCOPE_INCLUDES_SUBTREE = True
    assert below_event.pk in set(visible_events(w.admin).values_list("pk", flat=True))


def test_a_secret_drafts_events_follow_the_draft(w):
    from workflows.drafting import Draft

    drafter = make_user(roles.STAFF, w.own, unit=w.own_unit)
    drafts = {
        level: Draft.objects.create(agency=w.own, drafting_unit=w.own_unit, drafter=drafter,
                                    document_type=doc_type(), subject=f"Dự thảo {level}", confidentiality=level)
        for level in (Confidentiality.NORMAL, Confidentiality.SECRET)
    }
    with transaction.atomic():
        for draft in drafts.values():
            record_event(actor=drafter, verb="draft.created", target=draft, agency_id=w.own.pk)
    normal, secret = (AuditEvent.objects.get(target_type="workflows.draft", target_id=str(d.pk)).pk
                      for d in drafts.values())
    by_admin = set(visible_events(w.admin).values_list("pk", flat=True))
    assert normal in by_admin and secret not in by_admin
    drafter_as_admin = User.objects.get(pk=drafter.pk)
    drafter_as_admin.groups.add(*w.admin.groups.all())  # the drafter sees the secret draft: its events too
    drafter_as_admin = User.objects.get(pk=drafter.pk)
    assert {normal, secret} <= set(visible_events(drafter_as_admin).values_list("pk", flat=True))
