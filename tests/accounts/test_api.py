"""The organisation API: the current person, tokens, the agency tree, units, people, delegations.

Reading the tree is open to anyone logged in; each change is tried by someone without the model
permission (403, nothing saved, no event) and by an administrator (saved, one audit event)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import events, roles, services
from accounts.models import Agency, AgencyKind, Delegation, Unit, User
from audit.models import AuditEvent
from tests.factories import PASSWORD, AgencyFactory, UnitFactory, clerk, make_user

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def admin(agency: Agency | None = None) -> User:
    return make_user(roles.ADMINISTRATOR, agency or AgencyFactory())


def events_of(verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=verb).order_by("id"))


# --- me and tokens --------------------------------------------------------------------------------


def test_me_describes_the_person_and_what_they_may_do():
    agency = AgencyFactory(name="Văn phòng UBND tỉnh", abbreviation="VP")
    unit = UnitFactory(agency=agency, name="Phòng Hành chính – Tổ chức")
    user = clerk(agency, unit=unit, position="Văn thư", full_name="Trần Thị Hoa")
    response = api(user).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == user.username and body["full_name"] == "Trần Thị Hoa" and body["position"] == "Văn thư"
    assert body["agency"]["id"] == agency.pk and body["agency"]["abbreviation"] == "VP"
    assert body["unit"]["name"] == "Phòng Hành chính – Tổ chức"
    assert body["roles"] == [roles.CLERK]
    assert "documents.register_outgoing" in body["permissions"] and "documents.print_register" in body["permissions"]
    assert "accounts.add_agency" not in body["permissions"]
    staff = api(make_user(roles.STAFF, agency)).get("/api/v1/me/").json()
    assert staff["permissions"] == ["documents.view_document", "documents.view_documentfile"]


def test_me_needs_a_login():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["message"]


def test_token_is_obtained_with_username_and_password():
    user = clerk(AgencyFactory())
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").json()["username"] == user.username
    wrong = APIClient().post("/api/v1/auth/token/", {"username": user.username, "password": "nope"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["message"]
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert bad_token.get("/api/v1/me/").status_code == 401


# --- agencies -------------------------------------------------------------------------------------


def test_anyone_logged_in_reads_the_agency_tree():
    province = AgencyFactory(name="UBND tỉnh Hòa Bình", kind=AgencyKind.PROVINCE_COMMITTEE, legacy_code="000.00.00.H10")
    department = AgencyFactory(name="Sở Nội vụ", parent=province, address="Số 1, đường Trần Hưng Đạo")
    AgencyFactory(name="Sở Tài chính", parent=province)
    staff = api(make_user(roles.STAFF, department))
    response = staff.get("/api/v1/agencies/", {"parent": province.pk})
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Sở Nội vụ", "Sở Tài chính"]
    detail = staff.get(f"/api/v1/agencies/{province.pk}/").json()
    assert detail["kind"] == AgencyKind.PROVINCE_COMMITTEE and detail["parent"] is None
    assert detail["legacy_code"] == "000.00.00.H10" and detail["identifier"] == province.identifier
    assert staff.get(f"/api/v1/agencies/{department.pk}/").json()["address"] == "Số 1, đường Trần Hưng Đạo"
    assert [r["id"] for r in staff.get("/api/v1/agencies/", {"q": "tài chính"}).json()["results"]] != []
    assert staff.get("/api/v1/agencies/", {"page_size": 1}).json()["next"]


def test_only_administrators_create_and_change_agencies(settings):
    # A new agency must be one its creator administers: below their own, when the scope includes the subtree.
    settings.ADMIN_SCOPE_INCLUDES_SUBTREE = True
    province = AgencyFactory()
    payload = {"name": "Sở Y tế", "abbreviation": "SYT", "kind": AgencyKind.PROVINCE_BODY, "parent": province.pk,
               "identifier": "H10.30", "legacy_code": "000.00.30.H10"}
    for user in (make_user(roles.STAFF, province), clerk(province)):
        response = api(user).post("/api/v1/agencies/", payload, format="json")
        assert response.status_code == 403 and response.json()["message"]
    assert not Agency.objects.filter(identifier="H10.30").exists() and AuditEvent.objects.count() == 0

    client = api(admin(province))
    response = client.post("/api/v1/agencies/", payload, format="json")
    assert response.status_code == 201, response.content
    created = Agency.objects.get(identifier="H10.30")
    assert response.json()["id"] == created.pk and created.parent == province
    (event,) = events_of(events.AGENCY_CREATED)
    assert event.agency_id == created.pk and event.target_id == str(created.pk)
    assert event.data["identifier"] == "H10.30" and event.data["parent"] == province.pk

    response = client.patch(f"/api/v1/agencies/{created.pk}/", {"address": "Tổ 5, phường Tân Thịnh"}, format="json")
    assert response.status_code == 200 and response.json()["address"] == "Tổ 5, phường Tân Thịnh"
    (changed,) = events_of(events.AGENCY_CHANGED)
    assert changed.data == {"changes": {"address": ["", "Tổ 5, phường Tân Thịnh"]}}
    # same values again: nothing changes, nothing is recorded
    assert client.patch(f"/api/v1/agencies/{created.pk}/", {"address": "Tổ 5, phường Tân Thịnh"}).status_code == 200
    assert len(events_of(events.AGENCY_CHANGED)) == 1


def test_agency_validation():
    province = AgencyFactory()
    department = AgencyFactory(parent=province)
    client = api(User.objects.create_superuser("root", "root@example.gov.vn", "x-very-long-pass"))
    response = client.post("/api/v1/agencies/", {"name": "X", "abbreviation": "X", "identifier": "bad id!"}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"identifier"}
    response = client.post("/api/v1/agencies/", {"name": "X", "abbreviation": "X", "identifier": province.identifier})
    assert response.status_code == 400 and "identifier" in response.json()["errors"]
    # the tree stays a tree
    response = client.patch(f"/api/v1/agencies/{province.pk}/", {"parent": department.pk}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"parent"}
    assert client.patch(f"/api/v1/agencies/{province.pk}/", {"parent": province.pk}, format="json").status_code == 400
    province.refresh_from_db()
    assert province.parent is None and AuditEvent.objects.count() == 0


# --- units ----------------------------------------------------------------------------------------


def test_units_are_listed_per_agency_and_managed_by_administrators():
    agency, other = AgencyFactory(), AgencyFactory()
    office = UnitFactory(agency=agency, name="Văn phòng", abbreviation="VP")
    UnitFactory(agency=other)
    staff = api(make_user(roles.STAFF, agency))
    response = staff.get("/api/v1/units/", {"agency": agency.pk})
    assert [row["id"] for row in response.json()["results"]] == [office.pk]
    payload = {"agency": agency.pk, "parent": office.pk, "name": "Tổ Văn thư", "abbreviation": "VT"}
    assert staff.post("/api/v1/units/", payload, format="json").status_code == 403
    assert Unit.objects.count() == 2

    client = api(admin(agency))
    response = client.post("/api/v1/units/", payload, format="json")
    assert response.status_code == 201, response.content
    unit = Unit.objects.get(abbreviation="VT")
    (event,) = events_of(events.UNIT_CREATED)
    assert event.agency_id == agency.pk and event.target_id == str(unit.pk)
    # same abbreviation in the agency, a parent of another agency, moving to another agency: refused
    assert client.post("/api/v1/units/", payload, format="json").status_code == 400
    foreign_parent = {**payload, "abbreviation": "VT2", "parent": UnitFactory(agency=other).pk}
    response = client.post("/api/v1/units/", foreign_parent, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"parent"}
    response = client.patch(f"/api/v1/units/{unit.pk}/", {"agency": other.pk, "parent": None}, format="json")
    assert response.status_code == 403  # another agency's: out of this administrator's reach
    root = api(User.objects.create_superuser("root", "root@example.gov.vn", "x-very-long-pass"))
    response = root.patch(f"/api/v1/units/{unit.pk}/", {"agency": other.pk, "parent": None}, format="json")
    assert response.status_code == 400 and "agency" in response.json()["errors"]
    response = client.patch(f"/api/v1/units/{unit.pk}/", {"name": "Tổ Văn thư – Lưu trữ"}, format="json")
    assert response.status_code == 200
    (changed,) = events_of(events.UNIT_CHANGED)
    assert changed.data == {"changes": {"name": ["Tổ Văn thư", "Tổ Văn thư – Lưu trữ"]}}


# --- people ---------------------------------------------------------------------------------------


def test_administrator_creates_a_person_with_roles_who_can_then_log_in():
    agency = AgencyFactory()
    unit = UnitFactory(agency=agency)
    payload = {"username": "vanthu.hoa", "full_name": "Trần Thị Hoa", "email": "hoa@hoabinh.gov.vn",
               "agency": agency.pk, "unit": unit.pk, "position": "Văn thư", "roles": [roles.CLERK],
               "password": "Mật-khẩu-đủ-dài-2025"}
    response = api(make_user(roles.STAFF, agency)).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 403 and not User.objects.filter(username="vanthu.hoa").exists()

    response = api(admin(agency)).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["roles"] == [roles.CLERK] and "password" not in body
    person = User.objects.get(username="vanthu.hoa")
    assert person.has_perm("documents.register_outgoing") and person.unit == unit
    (event,) = events_of(events.USER_CREATED)
    assert event.agency_id == agency.pk and event.data["roles"] == [roles.CLERK] and event.data["password_set"]
    assert "password" not in event.data and "Mật-khẩu" not in str(event.data)
    token = APIClient().post("/api/v1/auth/token/", {"username": "vanthu.hoa", "password": payload["password"]})
    assert token.status_code == 200


def test_person_validation():
    agency = AgencyFactory()
    client = api(admin(agency))
    base = {"username": "nguoi.moi", "agency": agency.pk}
    response = client.post("/api/v1/users/", {**base, "roles": ["Emperor"]}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"roles"}
    response = client.post("/api/v1/users/", {**base, "unit": UnitFactory().pk}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"unit"}
    response = client.post("/api/v1/users/", {**base, "password": "123"}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"password"}
    assert not User.objects.filter(username="nguoi.moi").exists() and AuditEvent.objects.count() == 0
    # without a password the account exists but cannot log in yet
    assert client.post("/api/v1/users/", base, format="json").status_code == 201
    assert not User.objects.get(username="nguoi.moi").has_usable_password()


def test_roles_change_is_recorded_and_superusers_are_out_of_reach():
    agency = AgencyFactory()
    person = make_user(roles.STAFF, agency)
    client = api(admin(agency))
    response = client.patch(f"/api/v1/users/{person.pk}/", {"roles": [roles.CLERK, roles.UNIT_LEADER]}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == [roles.CLERK, roles.UNIT_LEADER]
    (event,) = events_of(events.USER_CHANGED)
    assert event.data == {"changes": {}, "roles": [[roles.STAFF], [roles.CLERK, roles.UNIT_LEADER]]}
    assert event.agency_id == agency.pk
    root = User.objects.create_superuser("root", "root@example.gov.vn", "x-very-long-pass")
    response = client.patch(f"/api/v1/users/{root.pk}/", {"password": "Another-long-pass-2025"}, format="json")
    assert response.status_code == 404  # in no agency this administrator administers
    assert api(make_user(roles.STAFF, agency)).patch(f"/api/v1/users/{person.pk}/", {"roles": []}).status_code == 403
    assert len(events_of(events.USER_CHANGED)) == 1


def test_people_list_is_the_own_agency_and_the_administered_ones():
    agency, other = AgencyFactory(), AgencyFactory()
    me = make_user(roles.STAFF, agency)
    colleague = make_user(roles.CLERK, agency)
    make_user(roles.STAFF, agency, is_active=False)
    stranger = make_user(roles.STAFF, other)
    ids = {row["id"] for row in api(me).get("/api/v1/users/", {"page_size": 100}).json()["results"]}
    assert ids == {me.pk, colleague.pk}
    assert api(me).get(f"/api/v1/users/{stranger.pk}/").status_code == 404
    administrator = admin(agency)
    ids = {row["id"] for row in api(administrator).get("/api/v1/users/", {"page_size": 100}).json()["results"]}
    assert stranger.pk not in ids and me.pk in ids  # tests/accounts/test_admin_scope.py: the whole rule
    superuser = User.objects.create_superuser("root", "root@example.gov.vn", "x-very-long-pass")
    ids = {row["id"] for row in api(superuser).get("/api/v1/users/", {"page_size": 100}).json()["results"]}
    assert {stranger.pk, me.pk} <= ids


# --- delegations ----------------------------------------------------------------------------------


def test_delegations_are_created_and_revoked_by_administrators():
    agency = AgencyFactory()
    chairman = make_user(roles.AGENCY_LEADER, agency)
    deputy = make_user(roles.AGENCY_LEADER, agency)
    today = timezone.localdate()
    payload = {"agency": agency.pk, "delegator": chairman.pk, "delegate": deputy.pk, "authority_prefix": "KT.",
               "scope": "Ký văn bản lĩnh vực kinh tế", "valid_from": today.isoformat()}
    assert api(deputy).post("/api/v1/delegations/", payload, format="json").status_code == 403
    assert Delegation.objects.count() == 0

    client = api(admin(agency))
    response = client.post("/api/v1/delegations/", payload, format="json")
    assert response.status_code == 201, response.content
    delegation = Delegation.objects.get()
    (event,) = events_of(events.DELEGATION_CREATED)
    assert event.agency_id == agency.pk and event.data["delegate"] == deputy.pk and event.data["authority_prefix"] == "KT."
    # the people concerned see it; someone else in the agency does not
    assert [row["id"] for row in api(deputy).get("/api/v1/delegations/").json()["results"]] == [delegation.pk]
    assert api(make_user(roles.STAFF, agency)).get("/api/v1/delegations/").json()["results"] == []
    assert api(deputy).post(f"/api/v1/delegations/{delegation.pk}/revoke/").status_code == 403

    response = client.post(f"/api/v1/delegations/{delegation.pk}/revoke/")
    assert response.status_code == 200 and response.json()["revoked_at"]
    (revoked,) = events_of(events.DELEGATION_REVOKED)
    assert revoked.target_id == str(delegation.pk)
    assert client.post(f"/api/v1/delegations/{delegation.pk}/revoke/").status_code == 400
    response = client.patch(f"/api/v1/delegations/{delegation.pk}/", {"scope": "Khác"}, format="json")
    assert response.status_code == 400
    assert client.get("/api/v1/delegations/", {"active": "true"}).json()["results"] == []


def test_delegation_validation():
    agency = AgencyFactory()
    chairman = make_user(roles.AGENCY_LEADER, agency)
    outsider = make_user(roles.AGENCY_LEADER, AgencyFactory())
    today = timezone.localdate()
    client = api(admin(agency))
    base = {"agency": agency.pk, "delegator": chairman.pk, "authority_prefix": "KT.", "valid_from": today.isoformat()}
    response = client.post("/api/v1/delegations/", {**base, "delegate": outsider.pk}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"delegate"}
    response = client.post("/api/v1/delegations/", {**base, "delegate": chairman.pk}, format="json")
    assert response.status_code == 400
    deputy = make_user(roles.AGENCY_LEADER, agency)
    backwards = {**base, "delegate": deputy.pk, "valid_to": (today - timedelta(days=1)).isoformat()}
    assert client.post("/api/v1/delegations/", backwards, format="json").status_code == 400
    assert Delegation.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_services_refuse_without_permission_and_are_silent_without_change():
    """The admin calls the same services: the rules hold there too."""
    from django.core.exceptions import PermissionDenied

    agency = AgencyFactory()
    with pytest.raises(PermissionDenied):
        services.save_agency(make_user(roles.STAFF, agency), agency, {"name": "Đổi tên"})
    administrator = admin(agency)
    services.save_agency(administrator, Agency.objects.get(pk=agency.pk), {"name": agency.name})
    assert AuditEvent.objects.count() == 0
    services.save_agency(administrator, Agency.objects.get(pk=agency.pk), {"name": "Sở Tư pháp"})
    assert events_of(events.AGENCY_CHANGED)[0].data == {"changes": {"name": [agency.name, "Sở Tư pháp"]}}


@pytest.mark.django_db
def test_token_endpoint_slows_down_password_guessing(client, settings):
    from django.core.cache import cache

    cache.clear()
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "token": "3/minute"}

    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [
            client.post("/api/v1/auth/token/", {"username": "nobody", "password": f"guess{i}"}).status_code
            for i in range(5)
        ]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert codes[:3] == [400, 400, 400] and codes[3:] == [429, 429]
