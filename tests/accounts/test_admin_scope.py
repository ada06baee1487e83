"""Administration is scoped (accounts.selectors.administered_agencies): the administrator of Sở Nội vụ manages
Sở Nội vụ, not the province's committee above it, through every verb of the API and every page of the
admin; the installation's superusers act everywhere; ADMIN_SCOPE_INCLUDES_SUBTREE adds the agencies below.

Each refused attempt is checked for its answer (another agency's row: 404 as if it did not exist; a new row
pointed at another agency: 403 from the service, or the form's error in the admin), for the whole
organisation left as it was and for no audit event; each allowed one for its audit event."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts import events, roles, selectors
from accounts.models import Agency, Delegation, Unit, User
from audit.models import AuditEvent
from tests.factories import PASSWORD
from tests.scoping import api, build_province, db_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return build_province()


def person_payload(w, **overrides) -> dict:
    payload = {"username": "nguoi.moi", "full_name": "Lê Thị Mới", "email": "moi@hoabinh.gov.vn",
               "agency": w.own.pk, "unit": w.own_unit.pk, "position": "Chuyên viên", "is_active": True,
               "roles": [roles.STAFF]}
    return {**payload, **overrides}


def person_of(user: User, **overrides) -> dict:
    payload = {"username": user.username, "full_name": user.full_name, "email": user.email,
               "agency": user.agency_id, "unit": user.unit_id, "position": user.position, "is_active": True}
    return {**payload, **overrides}


# --- the rule -------------------------------------------------------------------------------------


def test_the_rule_own_agency_subtree_when_configured_superusers_everywhere(w, settings):
    assert set(selectors.administered_agencies(w.admin)) == {w.own}
    assert selectors.may_administer(w.admin, w.own) and not selectors.may_administer(w.admin, w.province.pk)
    assert not selectors.may_administer(w.admin, None)  # people and rows outside every agency
    settings.ADMIN_SCOPE_INCLUDES_SUBTREE = True
    assert set(selectors.administered_agencies(w.admin)) == {w.own, w.below}
    province_admin = User.objects.get(pk=w.foreign_clerk.pk)  # any person of the province: the whole tree
    assert set(selectors.administered_agencies(province_admin)) == {w.province, w.own, w.below}
    root = User.objects.create_superuser("root", "root@example.gov.vn", "x-very-long-pass")
    assert selectors.administered_agencies(root).count() == Agency.objects.count()
    assert selectors.may_administer(root, None)
    inactive = User.objects.get(pk=w.admin.pk)
    inactive.is_active = False
    assert not selectors.administered_agencies(inactive).exists()
    assert selectors.grantable_roles(w.own_clerk) == set()
    assert selectors.grantable_roles(w.admin) == set(roles.ROLE_PERMISSIONS)


# --- API: another agency's rows are out of reach, verb by verb ---------------------------------------

# (test id, method, url, body): every one made by Sở Nội vụ's administrator against the province's committee.
FOREIGN_API_CALLS = [
    ("users-retrieve", "get", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/", None, 404),
    ("users-update", "put", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/",
     lambda w: person_of(w.foreign_clerk, full_name="Đã đổi"), 404),
    ("users-partial-update", "patch", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/",
     lambda w: {"email": "attacker@example.com"}, 404),
    ("users-set-password", "patch", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/",
     lambda w: {"password": "Mật-khẩu-của-kẻ-gian-2025"}, 404),
    ("users-roles", "patch", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/",
     lambda w: {"roles": [roles.ADMINISTRATOR]}, 404),
    ("users-unit", "patch", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/", lambda w: {"unit": None}, 404),
    ("users-deactivate", "patch", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/",
     lambda w: {"is_active": False}, 404),
    ("users-take-into-own-agency", "patch", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/",
     lambda w: {"agency": w.own.pk, "unit": None}, 404),
    ("users-move-own-person-out", "patch", lambda w: f"/api/v1/users/{w.own_clerk.pk}/",
     lambda w: {"agency": w.province.pk, "unit": w.foreign_unit.pk}, 403),
    ("users-create-in-other-agency", "post", lambda w: "/api/v1/users/",
     lambda w: person_payload(w, agency=w.province.pk, unit=w.foreign_unit.pk, password="Mật-khẩu-đủ-dài-2025"), 403),
    ("users-create-without-agency", "post", lambda w: "/api/v1/users/",
     lambda w: person_payload(w, agency=None, unit=None), 403),
    ("users-delete", "delete", lambda w: f"/api/v1/users/{w.foreign_clerk.pk}/", None, 405),
    ("agencies-update", "put", lambda w: f"/api/v1/agencies/{w.province.pk}/",
     lambda w: {"name": "Đã đổi", "abbreviation": "X", "identifier": w.province.identifier}, 404),
    ("agencies-partial-update", "patch", lambda w: f"/api/v1/agencies/{w.province.pk}/",
     lambda w: {"email": "attacker@example.com"}, 404),
    ("agencies-deactivate", "patch", lambda w: f"/api/v1/agencies/{w.province.pk}/",
     lambda w: {"is_active": False}, 404),
    ("agencies-create-under-other-agency", "post", lambda w: "/api/v1/agencies/",
     lambda w: {"name": "Sở Y tế", "abbreviation": "SYT", "identifier": "H10.77", "parent": w.province.pk}, 403),
    ("agencies-create-at-the-root", "post", lambda w: "/api/v1/agencies/",
     lambda w: {"name": "Tỉnh khác", "abbreviation": "TK", "identifier": "H99"}, 403),
    ("agencies-move-own-agency", "patch", lambda w: f"/api/v1/agencies/{w.own.pk}/",
     lambda w: {"parent": None}, 403),
    ("agencies-delete", "delete", lambda w: f"/api/v1/agencies/{w.province.pk}/", None, 405),
    ("units-update", "put", lambda w: f"/api/v1/units/{w.foreign_unit.pk}/",
     lambda w: {"agency": w.province.pk, "name": "Đã đổi", "abbreviation": "HCTC"}, 404),
    ("units-partial-update", "patch", lambda w: f"/api/v1/units/{w.foreign_unit.pk}/",
     lambda w: {"is_active": False}, 404),
    ("units-take-into-own-agency", "patch", lambda w: f"/api/v1/units/{w.foreign_unit.pk}/",
     lambda w: {"agency": w.own.pk}, 404),
    ("units-create-in-other-agency", "post", lambda w: "/api/v1/units/",
     lambda w: {"agency": w.province.pk, "name": "Phòng mới", "abbreviation": "PM"}, 403),
    ("units-delete", "delete", lambda w: f"/api/v1/units/{w.foreign_unit.pk}/", None, 405),
    ("delegations-retrieve", "get", lambda w: f"/api/v1/delegations/{w.foreign_delegation.pk}/", None, 404),
    ("delegations-update", "put", lambda w: f"/api/v1/delegations/{w.foreign_delegation.pk}/",
     lambda w: {"agency": w.province.pk, "delegator": w.foreign_leaders[0].pk, "delegate": w.foreign_leaders[1].pk,
                "authority_prefix": "KT.", "valid_from": "2026-01-01", "scope": "Mọi việc"}, 404),
    ("delegations-partial-update", "patch", lambda w: f"/api/v1/delegations/{w.foreign_delegation.pk}/",
     lambda w: {"scope": "Mọi việc"}, 404),
    ("delegations-revoke", "post", lambda w: f"/api/v1/delegations/{w.foreign_delegation.pk}/revoke/", None, 404),
    ("delegations-create-in-other-agency", "post", lambda w: "/api/v1/delegations/",
     lambda w: {"agency": w.province.pk, "delegator": w.foreign_leaders[0].pk, "delegate": w.foreign_leaders[1].pk,
                "authority_prefix": "KT.", "valid_from": "2026-01-01"}, 403),
    ("delegations-delete", "delete", lambda w: f"/api/v1/delegations/{w.foreign_delegation.pk}/", None, 405),
]


@pytest.mark.parametrize(("method", "url", "body", "status"), [c[1:] for c in FOREIGN_API_CALLS],
                         ids=[c[0] for c in FOREIGN_API_CALLS])
def test_another_agency_is_out_of_reach_through_the_api(w, method, url, body, status):
    client = api(w.admin)
    before = db_state()
    response = getattr(client, method)(url(w), body(w) if body else None, format="json")
    assert response.status_code == status, response.content
    assert response.json()["message"]
    assert db_state() == before and AuditEvent.objects.count() == 0


def test_the_reset_password_does_not_open_the_other_agencys_account(w):
    """The reported attack: PATCH a clerk of the province's committee with a new password, then log in."""
    response = api(w.admin).patch(f"/api/v1/users/{w.foreign_clerk.pk}/", {"password": "Mật-khẩu-mới-2025"},
                                  format="json")
    assert response.status_code == 404
    stolen = api(w.admin).post("/api/v1/auth/token/", {"username": w.foreign_clerk.username,
                                                        "password": "Mật-khẩu-mới-2025"}, format="json")
    assert stolen.status_code == 400
    assert User.objects.get(pk=w.foreign_clerk.pk).check_password(PASSWORD)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_people_list_shows_the_administered_agencies_only(w):
    listed = ids(api(w.admin).get("/api/v1/users/", {"page_size": 500}))
    assert w.own_clerk.pk in listed and w.admin.pk in listed
    assert not listed & set(User.objects.exclude(agency=w.own).values_list("pk", flat=True))
    assert ids(api(w.admin).get("/api/v1/users/", {"agency": w.province.pk})) == set()


def test_delegation_list_shows_the_administered_agencies_only(w):
    assert ids(api(w.admin).get("/api/v1/delegations/")) == {w.own_delegation.pk}
    assert ids(api(w.admin).get("/api/v1/delegations/", {"agency": w.province.pk})) == set()


def test_the_agency_tree_and_units_stay_readable_by_everyone(w):
    """Reading the tree is not administering it: everyone picks recipients and units from it (the
    documented API), so the province's committee is listed and readable; only changes are scoped."""
    client = api(w.admin)
    assert {w.province.pk, w.own.pk, w.below.pk} <= ids(client.get("/api/v1/agencies/", {"page_size": 500}))
    assert client.get(f"/api/v1/agencies/{w.province.pk}/").status_code == 200
    assert w.foreign_unit.pk in ids(client.get("/api/v1/units/", {"page_size": 500}))
    assert client.get(f"/api/v1/units/{w.foreign_unit.pk}/").status_code == 200


# --- API: the administrator's own agency --------------------------------------------------------------


def test_own_people_are_managed_verb_by_verb(w):
    client = api(w.admin)
    assert client.get(f"/api/v1/users/{w.own_clerk.pk}/").json()["username"] == "vanthu.snv"
    response = client.post("/api/v1/users/", person_payload(w, password="Mật-khẩu-đủ-dài-2025"), format="json")
    assert response.status_code == 201, response.content
    created = User.objects.get(username="nguoi.moi")
    (event,) = AuditEvent.objects.filter(verb=events.USER_CREATED)
    assert event.agency_id == w.own.pk and event.target_id == str(created.pk) and event.actor_id == w.admin.pk
    response = client.put(f"/api/v1/users/{created.pk}/", person_of(created, full_name="Lê Thị Mới Đổi"), format="json")
    assert response.status_code == 200, response.content
    assert client.patch(f"/api/v1/users/{created.pk}/", {"position": "Văn thư"}, format="json").status_code == 200
    assert client.patch(f"/api/v1/users/{created.pk}/", {"password": "Mật-khẩu-khác-2025"}, format="json").status_code == 200
    response = client.patch(f"/api/v1/users/{created.pk}/", {"roles": [roles.CLERK]}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == [roles.CLERK]
    assert client.patch(f"/api/v1/users/{created.pk}/", {"unit": None}, format="json").status_code == 200
    changes = AuditEvent.objects.filter(verb=events.USER_CHANGED, target_id=str(created.pk))
    assert changes.count() == 5 and set(changes.values_list("agency_id", flat=True)) == {w.own.pk}
    created.refresh_from_db()
    assert created.full_name == "Lê Thị Mới Đổi" and created.unit is None and created.check_password("Mật-khẩu-khác-2025")


def test_own_agency_units_and_delegations_are_managed(w):
    client = api(w.admin)
    response = client.patch(f"/api/v1/agencies/{w.own.pk}/", {"address": "Số 2, Trần Hưng Đạo"}, format="json")
    assert response.status_code == 200
    response = client.put(f"/api/v1/agencies/{w.own.pk}/", {
        "name": w.own.name, "abbreviation": "SNV", "identifier": w.own.identifier, "parent": w.province.pk,
        "phone": "0218 3855 000",
    }, format="json")
    assert response.status_code == 200, response.content  # its governing agency kept as it was
    response = client.post("/api/v1/units/", {"agency": w.own.pk, "name": "Phòng Tổ chức", "abbreviation": "TC"},
                           format="json")
    assert response.status_code == 201
    unit = Unit.objects.get(agency=w.own, abbreviation="TC")
    assert client.put(f"/api/v1/units/{unit.pk}/", {"agency": w.own.pk, "name": "Phòng Tổ chức – Biên chế",
                                                    "abbreviation": "TC"}, format="json").status_code == 200
    assert client.patch(f"/api/v1/units/{unit.pk}/", {"is_active": False}, format="json").status_code == 200
    chair, deputy = w.own_leaders
    response = client.post("/api/v1/delegations/", {"agency": w.own.pk, "delegator": chair.pk, "delegate": deputy.pk,
                                                    "authority_prefix": "KT.", "valid_from": "2026-02-01"}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()["id"]
    assert client.get(f"/api/v1/delegations/{created}/").status_code == 200
    assert client.patch(f"/api/v1/delegations/{created}/", {"scope": "Nội vụ"}, format="json").status_code == 200
    assert client.post(f"/api/v1/delegations/{w.own_delegation.pk}/revoke/").status_code == 200
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", "agency_id"))
    assert verbs == [
        (events.AGENCY_CHANGED, w.own.pk), (events.AGENCY_CHANGED, w.own.pk), (events.UNIT_CREATED, w.own.pk),
        (events.UNIT_CHANGED, w.own.pk), (events.UNIT_CHANGED, w.own.pk), (events.DELEGATION_CREATED, w.own.pk),
        (events.DELEGATION_CHANGED, w.own.pk), (events.DELEGATION_REVOKED, w.own.pk),
    ]


def test_roles_beyond_ones_own_rights_cannot_be_given(w):
    """Someone who manages people without holding the administrator's rights gives the working roles,
    never the Administrator role; nobody but a superuser gives the superuser or staff flags."""
    managers = Group.objects.create(name="Quản lý nhân sự")
    managers.permissions.set(Permission.objects.filter(content_type__app_label="accounts",
                                                       codename__in=["view_user", "change_user"]))
    manager = User.objects.create_user("nhansu.snv", password=PASSWORD, agency=w.own)
    manager.groups.add(managers)
    manager = User.objects.get(pk=manager.pk)
    assert roles.ADMINISTRATOR not in selectors.grantable_roles(manager)
    client = api(manager)
    before = db_state()
    response = client.patch(f"/api/v1/users/{w.own_clerk.pk}/", {"roles": [roles.CLERK, roles.ADMINISTRATOR]},
                            format="json")
    assert response.status_code == 403 and db_state() == before
    response = client.patch(f"/api/v1/users/{w.own_clerk.pk}/", {"roles": [roles.CLERK, roles.ARCHIVIST]},
                            format="json")
    assert response.status_code == 200
    # the superuser flag is not even part of the API; the admin's form is tested below
    api(w.admin).patch(f"/api/v1/users/{w.own_clerk.pk}/", {"is_superuser": True, "is_staff": True}, format="json")
    assert not User.objects.get(pk=w.own_clerk.pk).is_superuser


def test_the_subtree_is_administered_only_when_the_installation_says_so(w, settings):
    below_person = User.objects.create_user("nhanvien.cc", password=PASSWORD, agency=w.below)
    client = api(w.admin)
    assert client.patch(f"/api/v1/users/{below_person.pk}/", {"position": "Chi cục trưởng"}).status_code == 404
    settings.ADMIN_SCOPE_INCLUDES_SUBTREE = True
    assert client.patch(f"/api/v1/users/{below_person.pk}/", {"position": "Chi cục trưởng"}).status_code == 200
    response = client.post("/api/v1/agencies/", {"name": "Trung tâm Lưu trữ", "abbreviation": "TTLT",
                                                 "identifier": "H10.88", "parent": w.below.pk}, format="json")
    assert response.status_code == 201, response.content
    # moving an agency inside the subtree is allowed; above it (to the province) is not
    new = Agency.objects.get(identifier="H10.88")
    assert client.patch(f"/api/v1/agencies/{new.pk}/", {"parent": w.own.pk}, format="json").status_code == 200
    assert client.patch(f"/api/v1/agencies/{new.pk}/", {"parent": w.province.pk}, format="json").status_code == 403
    # the committee stays out of reach of the department below it
    assert client.patch(f"/api/v1/users/{w.foreign_clerk.pk}/", {"position": "X"}).status_code == 404


def test_superusers_act_everywhere(w):
    root = User.objects.create_superuser("root", "root@example.gov.vn", "x-very-long-pass")
    client = api(root)
    assert client.patch(f"/api/v1/users/{w.foreign_clerk.pk}/", {"position": "Văn thư chính"}).status_code == 200
    assert client.patch(f"/api/v1/agencies/{w.province.pk}/", {"phone": "0218 3852 000"}).status_code == 200
    assert client.post(f"/api/v1/delegations/{w.foreign_delegation.pk}/revoke/").status_code == 200
    assert AuditEvent.objects.count() == 3


def test_services_check_the_scope_themselves(w):
    """The admin, the API and the settings page call the same services: the rule holds under all of them."""
    from django.core.exceptions import PermissionDenied

    from accounts import services

    with pytest.raises(PermissionDenied):
        services.save_user(w.admin, User.objects.get(pk=w.foreign_clerk.pk), password="Mật-khẩu-mới-2025")
    with pytest.raises(PermissionDenied):
        services.save_unit(w.admin, Unit(agency=w.province, name="Phòng X", abbreviation="X"))
    with pytest.raises(PermissionDenied):
        services.revoke_delegation(w.admin, w.foreign_delegation)
    with pytest.raises(PermissionDenied):
        services.save_agency(w.admin, Agency.objects.get(pk=w.province.pk), {"name": "Đổi tên"})
    assert AuditEvent.objects.count() == 0 and Delegation.objects.get(pk=w.foreign_delegation.pk).revoked_at is None


# --- the Django admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, w):
    assert client.login(username=w.admin.username, password=PASSWORD)
    return client


def admin_url(model: str, action: str, *args) -> str:
    app = "documents" if model == "register" else "accounts"
    return reverse(f"admin:{app}_{model}_{action}", args=args)


def changelist_pks(client, model: str) -> set[int]:
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


@pytest.mark.parametrize("model", ["user", "agency", "unit", "delegation", "register"])
def test_admin_changelist_shows_the_administered_agencies_only(w, admin_client, model):
    own, foreign = {
        "user": (w.own_clerk, w.foreign_clerk), "agency": (w.own, w.province), "unit": (w.own_unit, w.foreign_unit),
        "delegation": (w.own_delegation, w.foreign_delegation), "register": (w.own_register, w.foreign_register),
    }[model]
    listed = changelist_pks(admin_client, model)
    assert own.pk in listed and foreign.pk not in listed
    if model == "agency":
        assert listed == {w.own.pk}


def foreign_row(w, model: str):
    return {"user": w.foreign_clerk, "agency": w.province, "unit": w.foreign_unit,
            "delegation": w.foreign_delegation, "register": w.foreign_register}[model]


@pytest.mark.parametrize("model", ["user", "agency", "unit", "delegation", "register"])
@pytest.mark.parametrize("page", ["change", "history"])
def test_admin_pages_of_another_agencys_row_are_not_found(w, admin_client, model, page):
    assert admin_client.get(admin_url(model, page, foreign_row(w, model).pk)).status_code == 404


FOREIGN_ADMIN_POSTS = {
    "user": lambda w: {"username": "vanthu.ubnd", "full_name": "Kẻ gian", "email": "x@example.com",
                       "agency": w.province.pk, "unit": w.foreign_unit.pk, "is_active": "on",
                       "groups": [Group.objects.get(name=roles.ADMINISTRATOR).pk]},
    "agency": lambda w: {"name": "Đã đổi", "abbreviation": "UBND", "kind": "province_committee",
                         "identifier": w.province.identifier, "is_active": "on",
                         "units-TOTAL_FORMS": "0", "units-INITIAL_FORMS": "0"},
    "unit": lambda w: {"agency": w.province.pk, "name": "Đã đổi", "abbreviation": "HCTC", "is_active": "on"},
    "delegation": lambda w: {"agency": w.province.pk, "delegator": w.foreign_leaders[0].pk,
                             "delegate": w.foreign_leaders[1].pk, "authority_prefix": "Q.", "scope": "Mọi việc",
                             "valid_from": "2026-01-01"},
    "register": lambda w: {"name": "Đã đổi", "volume": "2", "is_active": ""},
}


@pytest.mark.parametrize("model", sorted(FOREIGN_ADMIN_POSTS))
def test_admin_change_of_another_agencys_row_is_not_found_and_changes_nothing(w, admin_client, model):
    before = db_state()
    response = admin_client.post(admin_url(model, "change", foreign_row(w, model).pk), FOREIGN_ADMIN_POSTS[model](w))
    assert response.status_code == 404
    assert db_state() == before and AuditEvent.objects.count() == 0


def test_admin_password_page_of_another_agencys_person_is_not_found(w, admin_client):
    url = reverse("admin:auth_user_password_change", args=[w.foreign_clerk.pk])
    before = db_state()
    assert admin_client.get(url).status_code == 404
    response = admin_client.post(url, {"password1": "Mật-khẩu-mới-2025", "password2": "Mật-khẩu-mới-2025",
                                       "usable_password": "true"})
    assert response.status_code == 404 and db_state() == before


ADMIN_ADDS_IN_OTHER_AGENCY = {
    "user": lambda w: {"username": "gian.ubnd", "password1": "Mật-khẩu-đủ-dài-2025",
                       "password2": "Mật-khẩu-đủ-dài-2025", "usable_password": "true",
                       "agency": w.province.pk, "unit": w.foreign_unit.pk},
    "unit": lambda w: {"agency": w.province.pk, "name": "Phòng mới", "abbreviation": "PM", "is_active": "on"},
    "delegation": lambda w: {"agency": w.province.pk, "delegator": w.foreign_leaders[0].pk,
                             "delegate": w.foreign_leaders[1].pk, "authority_prefix": "KT.",
                             "valid_from": "2026-03-01"},
    "register": lambda w: {"agency": w.province.pk, "kind": "outgoing", "year": 2027, "code": "",
                           "name": "Sổ mới", "volume": "", "is_active": "on"},
}


@pytest.mark.parametrize("model", sorted(ADMIN_ADDS_IN_OTHER_AGENCY))
def test_admin_add_in_another_agency_is_refused_by_the_form(w, admin_client, model):
    before = db_state()
    response = admin_client.post(admin_url(model, "add"), ADMIN_ADDS_IN_OTHER_AGENCY[model](w))
    assert response.status_code == 200  # the form again, with its error
    assert "agency" in response.context["adminform"].form.errors
    assert db_state() == before and AuditEvent.objects.count() == 0


def test_admin_add_agency_is_for_whoever_administers_its_governing_agency(w, admin_client, settings):
    assert admin_client.get(admin_url("agency", "add")).status_code == 403
    settings.ADMIN_SCOPE_INCLUDES_SUBTREE = True
    payload = {"name": "Sở Y tế", "abbreviation": "SYT", "kind": "province_body", "identifier": "H10.31",
               "is_active": "on", "units-TOTAL_FORMS": "0", "units-INITIAL_FORMS": "0"}
    before = db_state()
    for parent in (w.province.pk, ""):  # another agency's subtree, or the top of the tree
        response = admin_client.post(admin_url("agency", "add"), {**payload, "parent": parent})
        assert response.status_code == 200 and "parent" in response.context["adminform"].form.errors
    assert db_state() == before
    response = admin_client.post(admin_url("agency", "add"), {**payload, "parent": w.own.pk})
    assert response.status_code == 302
    assert AuditEvent.objects.get(verb=events.AGENCY_CREATED).target_id == str(Agency.objects.get(identifier="H10.31").pk)


def test_admin_positive_own_agency_pages(w, admin_client):
    """Change and add in one's own agency, each with its audit event."""
    response = admin_client.post(admin_url("agency", "change", w.own.pk), {
        "name": w.own.name, "abbreviation": "SNV", "kind": "province_body", "identifier": w.own.identifier,
        "is_active": "on", "place_name": "Hòa Bình", "phone": "0218 3855 000",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Agency.objects.get(pk=w.own.pk).parent == w.province  # not on the form: kept
    response = admin_client.post(admin_url("unit", "change", w.own_unit.pk), {
        "name": "Văn phòng Sở Nội vụ", "abbreviation": "VP", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    response = admin_client.post(admin_url("unit", "add"), {"agency": w.own.pk, "name": "Phòng CCVC",
                                                            "abbreviation": "CCVC", "is_active": "on"})
    assert response.status_code == 302
    response = admin_client.post(admin_url("user", "add"), {
        "username": "chuyenvien.moi", "password1": "Mật-khẩu-đủ-dài-2025", "password2": "Mật-khẩu-đủ-dài-2025",
        "usable_password": "true", "agency": w.own.pk, "unit": w.own_unit.pk,
        "groups": [Group.objects.get(name=roles.STAFF).pk],
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    created = User.objects.get(username="chuyenvien.moi")
    assert created.agency == w.own and [g.name for g in created.groups.all()] == [roles.STAFF]
    chair, deputy = w.own_leaders
    response = admin_client.post(admin_url("delegation", "add"), {
        "agency": w.own.pk, "delegator": deputy.pk, "delegate": chair.pk, "authority_prefix": "KT.",
        "valid_from": "2026-04-01"})
    assert response.status_code == 302
    response = admin_client.post(admin_url("register", "change", w.own_register.pk), {
        "name": "Sổ văn bản đi của Sở", "volume": "1", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(AuditEvent.objects.order_by("id").values_list("verb", "agency_id")) == [
        (events.AGENCY_CHANGED, w.own.pk), (events.UNIT_CHANGED, w.own.pk), (events.UNIT_CREATED, w.own.pk),
        (events.USER_CREATED, w.own.pk), (events.DELEGATION_CREATED, w.own.pk), ("register.changed", w.own.pk)]


def test_admin_person_form_offers_only_what_the_administrator_may_give(w, admin_client):
    """Agency, unit and role choices are limited to the scope; the superuser and staff flags are not
    editable for an agency's administrator; a non-role group cannot be given through the form."""
    Group.objects.create(name="Nhóm tự tạo")
    response = admin_client.get(admin_url("user", "change", w.own_clerk.pk))
    form = response.context["adminform"].form
    assert set(form.fields["agency"].queryset) == {w.own}
    assert set(form.fields["unit"].queryset) == {w.own_unit}
    assert {g.name for g in form.fields["groups"].queryset} == set(roles.ROLE_PERMISSIONS)
    assert "is_superuser" not in form.fields and "is_staff" not in form.fields
    response = admin_client.post(admin_url("user", "change", w.own_clerk.pk), {
        **person_of(w.own_clerk), "is_active": "on", "is_superuser": "on", "is_staff": "on",
        "groups": [Group.objects.get(name=roles.CLERK).pk, Group.objects.get(name=roles.ARCHIVIST).pk],
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    person = User.objects.get(pk=w.own_clerk.pk)
    assert not person.is_superuser and not person.is_staff
    assert sorted(g.name for g in person.groups.all()) == [roles.ARCHIVIST, roles.CLERK]
    event = AuditEvent.objects.get(verb=events.USER_CHANGED)
    assert event.data["roles"] == [[roles.CLERK], [roles.ARCHIVIST, roles.CLERK]]


def test_admin_revoke_action_leaves_another_agencys_delegation(w, admin_client):
    response = admin_client.post(admin_url("delegation", "changelist"), {
        "action": "revoke", "_selected_action": [w.foreign_delegation.pk, w.own_delegation.pk]})
    assert response.status_code == 302
    assert Delegation.objects.get(pk=w.foreign_delegation.pk).revoked_at is None
    assert Delegation.objects.get(pk=w.own_delegation.pk).revoked_at is not None
    assert list(AuditEvent.objects.values_list("verb", "agency_id")) == [(events.DELEGATION_REVOKED, w.own.pk)]


def test_settings_page_shows_and_opens_registers_of_the_administered_agencies_only(w, admin_client):
    page = admin_client.get(reverse("accounts:settings"))
    html = page.content.decode()
    assert "Sổ văn bản đi SNV" in html and "Sổ văn bản đi UBND" not in html
    before = db_state()
    response = admin_client.post(reverse("accounts:settings"), {
        "section": "registers", "agency": w.province.pk, "kind": "outgoing", "year": 2027})
    assert response.status_code == 200 and 'id="id_agency_error"' in response.content.decode()
    assert db_state() == before
    response = admin_client.post(reverse("accounts:settings"), {
        "section": "registers", "agency": w.own.pk, "kind": "outgoing", "year": 2027})
    assert response.status_code == 302
    assert AuditEvent.objects.get().agency_id == w.own.pk


def test_admin_autocomplete_offers_the_administered_agencies_and_people_only(w, admin_client):
    def offered(model_name: str, field_name: str) -> set[str]:
        response = admin_client.get(reverse("admin:autocomplete"), {
            "app_label": "accounts", "model_name": model_name, "field_name": field_name, "term": ""})
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert offered("user", "agency") == {str(w.own.pk)}
    assert offered("user", "unit") == {str(w.own_unit.pk)}
    assert str(w.foreign_leaders[0].pk) not in offered("delegation", "delegator")


def test_review_chains_of_another_agency_are_out_of_reach_in_the_admin(w, admin_client):
    """Review chains route an agency's drafts: another agency's administrator must not rewrite them."""
    from workflows.drafting import ReviewChain

    own, foreign = ReviewChain.objects.get(agency=w.own), ReviewChain.objects.get(agency=w.province)
    response = admin_client.get(reverse("admin:workflows_reviewchain_changelist"))
    assert {chain.pk for chain in response.context["cl"].result_list} == {own.pk}
    url = reverse("admin:workflows_reviewchain_change", args=[foreign.pk])
    assert admin_client.get(url).status_code == 404
    steps = list(foreign.steps.values())
    response = admin_client.post(url, {"agency": w.province.pk, "name": "Đã đổi", "is_active": "on",
                                       "steps-TOTAL_FORMS": "0", "steps-INITIAL_FORMS": "0"})
    assert response.status_code == 404
    assert ReviewChain.objects.get(pk=foreign.pk).name == foreign.name and list(foreign.steps.values()) == steps
    form = admin_client.get(reverse("admin:workflows_reviewchain_change", args=[own.pk])).context["adminform"].form
    assert set(form.fields["agency"].queryset) == {w.own}


def test_document_types_are_changed_by_the_installations_superusers_only(w, admin_client):
    """The Decree 30 types (and their abbreviations, in every agency's notations) are shared: an agency's
    administrator reads them and changes nothing."""
    from documents.models import DocumentType

    decision = DocumentType.objects.get(code="quyet-dinh")
    page = admin_client.get(reverse("admin:documents_documenttype_change", args=[decision.pk]))
    assert page.status_code == 200 and b'name="abbreviation"' not in page.content  # read-only view
    answer = admin_client.post(reverse("admin:documents_documenttype_change", args=[decision.pk]),
                               {"name": "Quyết định", "abbreviation": "XX", "sort_order": 1, "is_active": "on"})
    assert answer.status_code == 403
    assert admin_client.get(reverse("admin:documents_documenttype_add")).status_code == 403
    decision.refresh_from_db()
    assert decision.abbreviation == "QĐ"
