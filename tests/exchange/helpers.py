"""Two agencies that exchange documents, and an issued document sent between them."""

from __future__ import annotations

from dataclasses import dataclass

from accounts import roles
from accounts.models import Agency, Unit, User
from documents import services as documents_services
from documents.models import Confidentiality, Document
from exchange.models import Delivery
from tests.factories import AgencyFactory, UnitFactory, clerk, doc_type, make_pdf, make_user


@dataclass
class Province:
    sender: Agency
    recipient: Agency
    third: Agency
    sender_clerk: User
    recipient_clerk: User
    third_clerk: User
    recipient_leader: User
    recipient_staff: User
    unit: Unit
    unit_leader: User
    unit_staff: User


def province() -> Province:
    sender, recipient, third = AgencyFactory(), AgencyFactory(), AgencyFactory()
    unit = UnitFactory(agency=sender)
    return Province(
        sender=sender, recipient=recipient, third=third,
        sender_clerk=clerk(sender), recipient_clerk=clerk(recipient), third_clerk=clerk(third),
        recipient_leader=make_user(roles.AGENCY_LEADER, recipient),
        recipient_staff=make_user(roles.STAFF, recipient),
        unit=unit, unit_leader=make_user(roles.UNIT_LEADER, sender, unit=unit),
        unit_staff=make_user(roles.STAFF, sender, unit=unit),
    )


def pdf_upload(name: str = "cv.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, make_pdf(), content_type="application/pdf")


def issue(p: Province, *recipients: Agency, subject: str = "Về việc tổ chức hội nghị tổng kết",
          confidentiality: int = Confidentiality.NORMAL, internal_units: tuple[Unit, ...] = ()) -> Document:
    data = documents_services.OutgoingInput(
        document_type_id=doc_type("cong-van").pk, subject=subject, signer_name="Nguyễn Văn Giám",
        signer_position="Giám đốc", confidentiality=confidentiality, internal=bool(internal_units),
        recipients=[documents_services.RecipientInput(agency_id=a.pk) for a in recipients]
        + [documents_services.RecipientInput(unit_id=u.pk) for u in internal_units],
    )
    return documents_services.register_outgoing(p.sender_clerk, data, [pdf_upload()])


def delivery_to(document: Document, agency: Agency) -> Delivery:
    return Delivery.objects.get(document=document, recipient_agency=agency, recipient_unit__isnull=True)
