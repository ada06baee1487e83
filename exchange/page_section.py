"""The exchange's section on a document's page (documents.page_sections): for the sender's people, where the
document went and what each recipient did with it; for a recipient's incoming document registered from a
delivery, where it came from and what the sender did since (recall, asked back, updated or replaced)."""

from __future__ import annotations

from django.template.loader import render_to_string

from documents.models import Confidentiality, Direction, Document

from . import selectors, services
from .forms import earlier_documents
from .models import Delivery, StatusCode


def document_section(request, document: Document) -> str | None:
    user = request.user
    if not user.is_authenticated:
        return None
    if document.direction in (Direction.OUTGOING, Direction.INTERNAL) and user.agency_id == document.agency_id:
        return _sender_section(request, document)
    if document.direction == Direction.INCOMING:
        return _recipient_section(request, document)
    return None


def _sender_section(request, document: Document) -> str | None:
    deliveries = list(selectors.deliveries_of(request.user, document))
    secret = document.confidentiality != Confidentiality.NORMAL
    if not deliveries and not secret:
        return None
    is_sender = services.is_sender_clerk(request.user, document)
    rows = []
    for delivery in deliveries:
        traces = list(delivery.traces.all())
        rows.append({
            "delivery": delivery,
            "traces": traces,
            "last": traces[-1] if traces else None,
            "can_ask_back": (is_sender and not delivery.is_recalled
                             and delivery.status not in ("", StatusCode.RETURNED)
                             and delivery.take_back_state != StatusCode.TAKE_BACK_REQUESTED),
        })
    can_recall = is_sender and any(not d.is_recalled and d.status != StatusCode.RETURNED for d in deliveries)
    return render_to_string("exchange/_sender_section.html", {
        "document": document, "rows": rows, "secret": secret, "is_sender": is_sender, "can_recall": can_recall,
        "earlier": list(earlier_documents(document)[:200]) if is_sender and deliveries else [],
        "linked": next((d.replaces for d in deliveries if d.replaces_id), None),
    }, request=request)


def _recipient_section(request, document: Document) -> str | None:
    delivery = (Delivery.objects.filter(received_document=document)
                .select_related("document", "sender_agency", "replaces", "replaces__received_document").first())
    if delivery is None:
        return None
    take_back = (delivery.traces.filter(code=StatusCode.TAKE_BACK_REQUESTED).order_by("-at", "-id").first()
                 if delivery.take_back_state else None)
    newer = list(delivery.replaced_by.select_related("document").order_by("created_at"))
    return render_to_string("exchange/_recipient_section.html", {
        "delivery": delivery, "take_back": take_back, "newer": newer,
        "is_recipient": services.is_recipient(request.user, delivery),
    }, request=request)
