"""Registers are opened by the administrators of their agency (documents.services.create_register asks
accounts.selectors.may_administer): the administrator of Sở Nội vụ neither sees nor opens nor changes the
registers of the province's committee, through the API or the service (the admin and the settings page:
tests/accounts/test_admin_scope.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from documents import events, services
from documents.models import Register, RegisterKind
from tests.scoping import api, build_province, db_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return build_province()


FOREIGN_REGISTER_CALLS = [
    ("retrieve", "get", lambda w: f"/api/v1/registers/{w.foreign_register.pk}/", None, 404),
    ("entries", "get", lambda w: f"/api/v1/registers/{w.foreign_register.pk}/entries/", None, 404),
    ("print", "get", lambda w: f"/api/v1/registers/{w.foreign_register.pk}/print/", None, 403),  # a clerk's right
    ("create-in-other-agency", "post", lambda w: "/api/v1/registers/",
     lambda w: {"agency": w.province.pk, "kind": RegisterKind.INCOMING, "year": 2026}, 403),
    ("update", "put", lambda w: f"/api/v1/registers/{w.foreign_register.pk}/",
     lambda w: {"name": "Đã đổi"}, 405),
    ("partial-update", "patch", lambda w: f"/api/v1/registers/{w.foreign_register.pk}/",
     lambda w: {"is_active": False}, 405),
    ("delete", "delete", lambda w: f"/api/v1/registers/{w.foreign_register.pk}/", None, 405),
]


@pytest.mark.parametrize(("method", "url", "body", "status"), [c[1:] for c in FOREIGN_REGISTER_CALLS],
                         ids=[c[0] for c in FOREIGN_REGISTER_CALLS])
def test_another_agencys_registers_are_out_of_reach_through_the_api(w, method, url, body, status):
    client = api(w.admin)
    before = db_state()
    response = getattr(client, method)(url(w), body(w) if body else None, format="json")
    assert response.status_code == status, response.content
    assert db_state() == before and AuditEvent.objects.count() == 0


def test_register_list_and_opening_in_the_own_agency(w):
    client = api(w.admin)
    response = client.get("/api/v1/registers/")
    assert [row["id"] for row in response.json()["results"]] == [w.own_register.pk]
    assert client.get(f"/api/v1/registers/{w.own_register.pk}/").status_code == 200
    response = client.post("/api/v1/registers/", {"agency": w.own.pk, "kind": RegisterKind.INCOMING, "year": 2026},
                           format="json")
    assert response.status_code == 201, response.content
    (event,) = AuditEvent.objects.all()
    assert event.verb == events.REGISTER_CREATED and event.agency_id == w.own.pk


def test_create_and_change_register_services_check_the_scope(w):
    with pytest.raises(PermissionDenied):
        services.create_register(w.admin, agency=w.province, kind=RegisterKind.COPIES, year=2026)
    with pytest.raises(PermissionDenied):
        services.change_register(w.admin, w.foreign_register, {"is_active": False})
    assert Register.objects.get(pk=w.foreign_register.pk).is_active and AuditEvent.objects.count() == 0
    services.change_register(w.admin, w.own_register, {"volume": "2"})
    services.change_register(w.admin, w.own_register, {"volume": "2"})  # the same again: nothing recorded
    (event,) = AuditEvent.objects.all()
    assert event.verb == events.REGISTER_CHANGED and event.data == {"volume": "2"}
