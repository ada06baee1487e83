"""Which deliveries a person may see, as one query per side, used by the pages, the API and the reports.

- The recipient side: the clerks (documents.register_incoming) of the recipient agency see its deliveries
  from other agencies; the leaders of a recipient unit see the internal documents sent to their unit.
- The sender side: whoever may see the sent document (documents.selectors.visible_documents) sees its
  deliveries and their traces (the recipient's copy itself stays the recipient's).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from documents.selectors import visible_documents

from .models import Delivery, StatusCode
from .services import CLERK_PERMISSION, leads_a_unit


def _recipient_filter(user) -> Q:
    if not user.is_authenticated or not user.is_active or not user.agency_id:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    if user.has_perm(CLERK_PERMISSION):
        condition |= Q(recipient_agency_id=user.agency_id, recipient_unit__isnull=True)
    if leads_a_unit(user):
        condition |= Q(recipient_unit_id=user.unit_id)
    return condition


def received_deliveries(user) -> QuerySet[Delivery]:
    """Deliveries `user` handles as a recipient (arrived ones only: the others are still on their way)."""
    return Delivery.objects.filter(_recipient_filter(user)).exclude(status="")


def inbox(user) -> QuerySet[Delivery]:
    """Waiting for the recipient's clerk (or unit leader): arrived, not registered, returned or recalled."""
    return received_deliveries(user).filter(status=StatusCode.ARRIVED, recalled_at__isnull=True)


def visible_deliveries(user) -> QuerySet[Delivery]:
    """Every delivery `user` may see: as a recipient, or as someone who may see the sent document."""
    if not user.is_authenticated or not user.is_active:
        return Delivery.objects.none()
    sent = Q(document_id__in=visible_documents(user).values("pk"))
    return Delivery.objects.filter(_recipient_filter(user) & ~Q(status="") | sent)


def deliveries_of(user, document) -> QuerySet[Delivery]:
    """The deliveries of a document `user` may see (the sender's view of its progress), with their traces."""
    if not visible_documents(user).filter(pk=document.pk).exists():
        return Delivery.objects.none()
    return (Delivery.objects.filter(document=document)
            .select_related("recipient_agency", "recipient_unit")
            .prefetch_related("traces")
            .order_by("recipient_agency__name", "recipient_unit__name", "id"))


def delivery_for_reader(user, document_id: int) -> Delivery | None:
    """The reader's own delivery of a sent document (a notice links to the document, each reader lands on
    their agency's or unit's copy)."""
    return received_deliveries(user).filter(document_id=document_id).order_by("recipient_unit_id").first()
