"""A small province for the tests of scoped administration (accounts.selectors.administered_agencies): the
province's committee with a unit, a clerk, a delegation and a register; below it Sở Nội vụ, whose
administrator (`quantri.snv` in the demo) is the person trying to act on the committee; and an agency below
Sở Nội vụ, in the administrator's scope only when ADMIN_SCOPE_INCLUDES_SUBTREE is on.

The rows are made by factories and ORM calls, not services: the trail starts empty, so "no audit event"
is `AuditEvent.objects.count() == 0`, and `db_state()` is the whole organisation to compare before/after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import Agency, AgencyKind, Delegation, Unit, User
from audit.models import AuditEvent
from documents.models import Register, RegisterKind
from tests.factories import AgencyFactory, UnitFactory, clerk, make_user


@dataclass
class Province:
    province: Agency  # Ủy ban nhân dân tỉnh: another agency for the administrator of Sở Nội vụ
    own: Agency  # Sở Nội vụ
    below: Agency  # an agency below Sở Nội vụ
    foreign_unit: Unit
    own_unit: Unit
    admin: User  # Sở Nội vụ's administrator, staff (the Django admin), not a superuser
    foreign_clerk: User
    own_clerk: User
    foreign_leaders: tuple[User, User]
    own_leaders: tuple[User, User]
    foreign_delegation: Delegation
    own_delegation: Delegation
    foreign_register: Register
    own_register: Register


def build_province() -> Province:
    province = AgencyFactory(name="Ủy ban nhân dân tỉnh Hòa Bình", abbreviation="UBND",
                             kind=AgencyKind.PROVINCE_COMMITTEE)
    own = AgencyFactory(name="Sở Nội vụ tỉnh Hòa Bình", abbreviation="SNV", parent=province)
    below = AgencyFactory(name="Chi cục Văn thư – Lưu trữ", abbreviation="CCVTLT", parent=own)
    foreign_unit = UnitFactory(agency=province, name="Phòng Hành chính – Tổ chức", abbreviation="HCTC")
    own_unit = UnitFactory(agency=own, name="Văn phòng Sở", abbreviation="VP")
    foreign_leaders = (make_user(roles.AGENCY_LEADER, province), make_user(roles.AGENCY_LEADER, province))
    own_leaders = (make_user(roles.AGENCY_LEADER, own), make_user(roles.AGENCY_LEADER, own))
    return Province(
        province=province, own=own, below=below, foreign_unit=foreign_unit, own_unit=own_unit,
        admin=make_user(roles.ADMINISTRATOR, own, unit=own_unit, is_staff=True, username="quantri.snv"),
        foreign_clerk=clerk(province, unit=foreign_unit, username="vanthu.ubnd"),
        own_clerk=clerk(own, unit=own_unit, username="vanthu.snv"),
        foreign_leaders=foreign_leaders, own_leaders=own_leaders,
        foreign_delegation=Delegation.objects.create(
            agency=province, delegator=foreign_leaders[0], delegate=foreign_leaders[1], valid_from=date(2026, 1, 1)),
        own_delegation=Delegation.objects.create(
            agency=own, delegator=own_leaders[0], delegate=own_leaders[1], valid_from=date(2026, 1, 1)),
        foreign_register=Register.objects.create(agency=province, kind=RegisterKind.OUTGOING, year=2026,
                                                 name="Sổ văn bản đi UBND"),
        own_register=Register.objects.create(agency=own, kind=RegisterKind.OUTGOING, year=2026,
                                             name="Sổ văn bản đi SNV"),
    )


def db_state() -> tuple:
    """Everything an administrator could change, as plain values (passwords and roles included)."""
    return (
        list(User.objects.order_by("pk").values()),
        sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        list(Agency.objects.order_by("pk").values()),
        list(Unit.objects.order_by("pk").values()),
        list(Delegation.objects.order_by("pk").values()),
        list(Register.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


def api(user: User) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client
