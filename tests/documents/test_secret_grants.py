"""Sharing secret and top-secret documents (issue 11): named people only, never a group (the role groups
span every agency of the installation), each grant confirmed after the clerk is told who will see it, and
audited. A refused grant changes nothing: no guardian row, no audit event, and the people it would have
reached still get 404. Normal documents keep sharing with groups and people without a confirmation."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import roles
from audit.models import AuditEvent
from documents import events, services
from documents.models import (
    Confidentiality,
    Document,
    DocumentGroupObjectPermission,
    DocumentUserObjectPermission,
)
from tests.factories import AgencyFactory, UnitFactory, clerk, doc_type, make_user

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/documents/"


def api(user) -> APIClient:
    client = APIClient()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # Vietnamese by default, whatever the browser asks
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def web(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def register(user, confidentiality: int = Confidentiality.NORMAL, subject: str = "Kế hoạch bảo vệ bí mật") -> Document:
    data = services.OutgoingInput(document_type_id=doc_type().pk, subject=subject, confidentiality=confidentiality)
    return services.register_outgoing(user, data)


def listed_ids(client: APIClient) -> list[int]:
    response = client.get(LIST_URL)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def grants_url(document: Document) -> str:
    return f"/api/v1/documents/{document.pk}/grants/"


def granted_events(document: Document):
    return AuditEvent.objects.filter(verb=events.DOCUMENT_ACCESS_GRANTED, target_id=str(document.pk))


@pytest.fixture
def province():
    """Two agencies; the first one's clerk holds a secret document, the second one has a leader."""
    owner_agency = AgencyFactory(name="Ủy ban nhân dân tỉnh Hòa Bình", abbreviation="UBND")
    other_agency = AgencyFactory(name="Sở Nội vụ tỉnh Hòa Bình", abbreviation="SNV")
    return {
        "agency": owner_agency,
        "other_agency": other_agency,
        "clerk": clerk(owner_agency),
        "own_leader": make_user(roles.AGENCY_LEADER, owner_agency, full_name="Bùi Văn Khánh"),
        "other_leader": make_user(roles.AGENCY_LEADER, other_agency, full_name="Trần Thị Hoa"),
    }


@pytest.mark.parametrize("level", [Confidentiality.SECRET, Confidentiality.TOP_SECRET])
def test_a_role_group_grant_on_a_secret_document_is_refused_and_changes_nothing(province, level):
    document = register(province["clerk"], level)
    other_leader = api(province["other_leader"])
    assert other_leader.get(f"/api/v1/documents/{document.pk}/").status_code == 404
    events_before = AuditEvent.objects.count()

    for body in ({"group": roles.AGENCY_LEADER}, {"group": roles.AGENCY_LEADER, "confirm": True}):
        response = api(province["clerk"]).post(grants_url(document), body, format="json")
        assert response.status_code == 400, response.content
        answer = response.json()
        assert "named people only" in answer["message"] and answer["errors"]["group"]

    assert not DocumentGroupObjectPermission.objects.filter(content_object=document).exists()
    assert AuditEvent.objects.count() == events_before and not granted_events(document).exists()
    # The leader of the other agency still does not learn that the document exists.
    assert other_leader.get(f"/api/v1/documents/{document.pk}/").status_code == 404
    assert document.pk not in listed_ids(other_leader)
    assert web(province["other_leader"]).get(reverse("documents:detail", args=[document.pk])).status_code == 404
    assert document.subject not in web(province["other_leader"]).get(reverse("documents:list")).content.decode()


def test_the_service_refuses_every_group_for_a_secret_document(province):
    """Groups scoped to one agency (a unit's group) too: members come and go without the clerk; a unit
    handles a secret incoming document through the direction workflow, a leader's decision."""
    document = register(province["clerk"], Confidentiality.SECRET)
    unit_group = Group.objects.create(name=f"unit:{UnitFactory(agency=province['agency']).pk}")
    for group in (Group.objects.get(name=roles.AGENCY_LEADER), Group.objects.get(name=roles.STAFF), unit_group):
        with pytest.raises(ValidationError) as refused:
            services.grant_document_access(province["clerk"], document, group=group, confirm=True)
        assert "group" in refused.value.message_dict
    assert not DocumentGroupObjectPermission.objects.filter(content_object=document).exists()
    assert not granted_events(document).exists()


def test_a_person_grant_on_a_secret_document_needs_a_confirmation_naming_the_person(province):
    document = register(province["clerk"], Confidentiality.SECRET)
    clerk_api, other_leader = api(province["clerk"]), province["other_leader"]

    response = clerk_api.post(grants_url(document), {"user": other_leader.pk}, format="json")
    assert response.status_code == 400, response.content
    message = response.json()["message"]
    assert "Trần Thị Hoa" in message and "another agency" in message and "Sở Nội vụ tỉnh Hòa Bình" in message
    assert "Secret" in message and response.json()["errors"]["confirm"] == [message]
    assert not DocumentUserObjectPermission.objects.filter(content_object=document, user=other_leader).exists()
    assert not granted_events(document).exists()
    assert api(other_leader).get(f"/api/v1/documents/{document.pk}/").status_code == 404

    response = clerk_api.post(grants_url(document), {"user": other_leader.pk, "confirm": True}, format="json")
    assert response.status_code == 201, response.content
    assert api(other_leader).get(f"/api/v1/documents/{document.pk}/").status_code == 200
    assert document.pk in listed_ids(api(other_leader))
    event = granted_events(document).get()
    assert event.actor_id == province["clerk"].pk and event.agency_id == province["agency"].pk
    assert event.data == {
        "user_id": other_leader.pk, "group": None, "to": "Trần Thị Hoa", "user_agency_id": province["other_agency"].pk,
        "other_agency": True, "confidentiality": Confidentiality.SECRET, "confirmed": True,
    }
    # Only that person: the other agency's other leaders still get 404.
    colleague = make_user(roles.AGENCY_LEADER, province["other_agency"])
    assert api(colleague).get(f"/api/v1/documents/{document.pk}/").status_code == 404


def test_the_confirmation_of_a_colleague_does_not_say_another_agency(province):
    document = register(province["clerk"], Confidentiality.TOP_SECRET)
    with translation.override("en"), pytest.raises(services.GrantNeedsConfirmation) as needed:
        services.grant_document_access(province["clerk"], document, user=province["own_leader"])
    assert not needed.value.other_agency and "another agency" not in needed.value.message_text
    assert "Bùi Văn Khánh" in needed.value.message_text and "Top secret" in needed.value.message_text
    with translation.override("vi"):
        warning = services.secret_grant_warning(document, province["other_leader"])
    assert "Trần Thị Hoa" in warning and "cơ quan khác" in warning
    services.grant_document_access(province["clerk"], document, user=province["own_leader"], confirm=True)
    assert granted_events(document).get().data["other_agency"] is False


def test_the_web_page_asks_for_the_confirmation_then_shares(province):
    document = register(province["clerk"], Confidentiality.SECRET, subject="Phương án bảo vệ mục tiêu")
    page = web(province["clerk"])
    url = reverse("documents:detail", args=[document.pk])
    asked = page.post(url, {"username": province["other_leader"].username})
    body = asked.content.decode()
    assert asked.status_code == 400 and 'id="grant-confirmation"' in body
    assert "Trần Thị Hoa" in body and "another agency" in body
    assert not granted_events(document).exists()
    assert web(province["other_leader"]).get(url).status_code == 404

    done = page.post(url, {"username": province["other_leader"].username, "confirm": "on"})
    assert done.status_code == 302
    assert granted_events(document).get().data["confirmed"] is True
    assert web(province["other_leader"]).get(url).status_code == 200


def test_normal_documents_keep_group_and_person_grants_without_confirmation(province):
    document = register(province["clerk"])
    clerk_api = api(province["clerk"])
    assert clerk_api.post(grants_url(document), {"group": roles.AGENCY_LEADER}, format="json").status_code == 201
    assert api(province["other_leader"]).get(f"/api/v1/documents/{document.pk}/").status_code == 200
    other_staff = make_user(roles.STAFF, province["other_agency"])
    assert clerk_api.post(grants_url(document), {"user": other_staff.pk}, format="json").status_code == 201
    assert [e.data for e in granted_events(document).order_by("id")] == [
        {"user_id": None, "group": roles.AGENCY_LEADER}, {"user_id": other_staff.pk, "group": None},
    ]
    # Revoking stays unconfirmed, for secret documents too (taking access away never widens it).
    assert clerk_api.delete(f"{grants_url(document)}?group={roles.AGENCY_LEADER}").status_code == 204
    assert api(province["other_leader"]).get(f"/api/v1/documents/{document.pk}/").status_code == 404
