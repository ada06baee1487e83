"""A small agency with the people of an incoming-document workflow, and a registered document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from accounts import roles
from accounts.models import Agency, Unit, User
from audit.models import AuditEvent
from documents import services as documents_services
from documents.models import Confidentiality, Document, Urgency
from tests.factories import AgencyFactory, UnitFactory, clerk, doc_type, make_user
from workflows import services
from workflows.models import IncomingCase


@dataclass
class Office:
    agency: Agency
    unit: Unit
    other_unit: Unit
    clerk: User
    leader: User
    deputy: User
    unit_leader: User
    handler: User
    colleague: User
    other_unit_staff: User
    outsider: User  # same role, another agency


def office() -> Office:
    agency = AgencyFactory()
    unit, other_unit = UnitFactory(agency=agency), UnitFactory(agency=agency)
    other_agency = AgencyFactory()
    return Office(
        agency=agency, unit=unit, other_unit=other_unit,
        clerk=clerk(agency),
        leader=make_user(roles.AGENCY_LEADER, agency),
        deputy=make_user(roles.AGENCY_LEADER, agency),
        unit_leader=make_user(roles.UNIT_LEADER, agency, unit=unit),
        handler=make_user(roles.STAFF, agency, unit=unit),
        colleague=make_user(roles.STAFF, agency, unit=unit),
        other_unit_staff=make_user(roles.STAFF, agency, unit=other_unit),
        outsider=make_user(roles.AGENCY_LEADER, other_agency),
    )


def incoming(o: Office, *, urgency: int = Urgency.NORMAL, secret: bool = False, number: str = "12") -> Document:
    data = documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Về việc báo cáo tình hình thực hiện",
        organ_name="Bộ Nội vụ", code_number=number, code_notation="BNV-VP", urgency=urgency,
        confidentiality=Confidentiality.SECRET if secret else Confidentiality.NORMAL,
    )
    return documents_services.register_incoming(o.clerk, data)


def outgoing(o: Office, subject: str = "Công văn trả lời Bộ Nội vụ") -> Document:
    """An outgoing document of the office, e.g. the reply that completes a handling."""
    data = documents_services.OutgoingInput(document_type_id=doc_type("cong-van").pk, subject=subject)
    return documents_services.register_outgoing(o.clerk, data)


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


def lead_unit(o: Office, days: int = 5, **extra) -> list[services.TargetInput]:
    return [services.TargetInput(role="lead", unit_id=o.unit.pk, deadline=in_days(days)), *extra.get("more", [])]


def presented_case(o: Office, **kwargs) -> IncomingCase:
    case = services.open_case(o.clerk, incoming(o, **kwargs))
    return services.present(o.clerk, case, o.leader)


def directed_case(o: Office, targets=None, **kwargs) -> IncomingCase:
    case = presented_case(o, **kwargs)
    return services.direct(o.leader, case, instruction="Phòng chủ trì tham mưu, báo cáo.",
                           targets=targets or lead_unit(o))


def fresh(user: User) -> User:
    """A new instance: permission caches of Django and guardian are per instance."""
    return User.objects.get(pk=user.pk)


def verbs(document: Document) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="documents.document", target_id=str(document.pk))
        .order_by("created_at", "id").values_list("verb", flat=True)
    )
