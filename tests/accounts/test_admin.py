"""The Django admin goes through accounts.services: changes are permission-checked and audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import roles
from accounts.models import Agency, Delegation
from audit.models import AuditEvent
from tests.factories import PASSWORD, AgencyFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    administrator = make_user(roles.ADMINISTRATOR, AgencyFactory(), is_staff=True)
    assert client.login(username=administrator.username, password=PASSWORD)
    client.user = administrator
    return client


def test_administrator_creates_an_agency_in_the_admin(admin_client, settings):
    settings.ADMIN_SCOPE_INCLUDES_SUBTREE = True  # an agency below their own is one they administer
    parent = admin_client.user.agency
    response = admin_client.post(reverse("admin:accounts_agency_add"), {
        "name": "Sở Văn hóa", "abbreviation": "SVHTTDL", "kind": "province_body", "parent": parent.pk,
        "is_active": "on", "identifier": "000.15.00.H10", "legacy_code": "H10.15", "place_name": "Hòa Bình",
        "address": "", "email": "", "phone": "",
        "units-TOTAL_FORMS": "0", "units-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    agency = Agency.objects.get(identifier="000.15.00.H10")
    assert agency.parent == parent
    event = AuditEvent.objects.get(verb="agency.created")
    assert event.actor_id == admin_client.user.pk and event.target_id == str(agency.pk)


def test_identifier_longer_than_35_characters_is_refused(admin_client, settings):
    settings.ADMIN_SCOPE_INCLUDES_SUBTREE = True
    response = admin_client.post(reverse("admin:accounts_agency_add"), {
        "name": "Sở X", "abbreviation": "SX", "kind": "province_body", "identifier": "A" * 36,
        "parent": admin_client.user.agency_id,
        "units-TOTAL_FORMS": "0", "units-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200 and not Agency.objects.filter(name="Sở X").exists()


def test_administrator_gives_roles_and_they_are_audited(admin_client):
    person = make_user(roles.STAFF, admin_client.user.agency)
    response = admin_client.post(reverse("admin:accounts_user_change", args=[person.pk]), {
        "username": person.username, "full_name": person.full_name, "email": person.email,
        "agency": person.agency_id, "position": "Văn thư", "is_active": "on",
        "groups": [roles_group(roles.CLERK)], "last_login_0": "", "last_login_1": "",
        "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    person.refresh_from_db()
    assert [g.name for g in person.groups.all()] == [roles.CLERK]
    event = AuditEvent.objects.filter(verb="user.changed", target_id=str(person.pk)).get()
    assert event.data["roles"] == [[roles.STAFF], [roles.CLERK]]


def roles_group(name: str) -> int:
    from django.contrib.auth.models import Group

    return Group.objects.get(name=name).pk


def test_delegation_created_in_admin_is_audited(admin_client):
    agency = admin_client.user.agency
    chair, deputy = make_user(roles.AGENCY_LEADER, agency), make_user(roles.AGENCY_LEADER, agency)
    response = admin_client.post(reverse("admin:accounts_delegation_add"), {
        "agency": agency.pk, "delegator": chair.pk, "delegate": deputy.pk, "authority_prefix": "KT.",
        "scope": "Ký văn bản lĩnh vực văn xã", "valid_from": "2026-01-01", "valid_to": "2026-12-31",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    delegation = Delegation.objects.get()
    assert AuditEvent.objects.filter(verb="delegation.created", target_id=str(delegation.pk)).count() == 1


def test_staff_person_without_admin_role_cannot_change_agencies(client):
    clerk_with_site_access = make_user(roles.CLERK, AgencyFactory(), is_staff=True)
    assert client.login(username=clerk_with_site_access.username, password=PASSWORD)
    assert client.get(reverse("admin:accounts_agency_add")).status_code == 403
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
