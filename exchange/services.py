"""Every state change of a delivery: created with the issue, arrived, registered or returned, handled,
recalled, asked back, updated or replaced. Each takes the acting person (None for the system's own steps),
checks what that person may do, writes the audit events in the same transaction, and asks for notices and
tasks to run after commit.

Who may do what:
- the sender side is the issuing agency's clerks (documents.register_outgoing in that agency);
- the recipient side of an agency delivery is the recipient agency's clerks (documents.register_incoming);
- the recipient side of an internal (unit) delivery is that unit's leaders.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.selectors import unit_leader_ids
from audit.services import batched_events, record_event
from documents import services as documents_services
from documents.models import Confidentiality, Direction, Document, DocumentFile, DocumentRecipient
from eoffice import notices
from eoffice.tasking import publish_on_commit
from signatures.verifying import request_verification
from workflows.models import CaseState, IncomingCase

from . import events, peers
from .models import PROGRESS_ORDER, BusinessType, Delivery, StatusCode, StatusTrace

CLERK_PERMISSION = "documents.register_incoming"
SENDER_PERMISSION = "documents.register_outgoing"

WORKING_DAY_ENDS = time(17, 0)
"""Decree 30 Art. 21: documents arriving are registered the same working day (those arriving after hours, the
next one). A delivery still waiting after this hour of the day after its arrival day is flagged."""


class DeliveryStateError(ValidationError):
    """The delivery is not in a state that allows this (already registered, recalled, returned...)."""


class StaleDelivery(DeliveryStateError):
    """Someone acted on the delivery after the version the caller saw (the API answers 409)."""


def _actor_name(actor) -> str:
    if actor is None:
        return ""
    return actor.name_and_position[:200]  # accounts.User: "Full Name (Position)", never the username


def _number(document: Document) -> str:
    return document.number_notation


def _trace(delivery: Delivery, code: str, *, actor, agency_id: int, reason: str = "", key: str = "",
           at: datetime | None = None) -> StatusTrace | None:
    """Add one status to the trace unless this key was already traced (idempotent). The caller holds the
    delivery's row lock, so two workers cannot both add it."""
    key = key or code
    if StatusTrace.objects.filter(delivery=delivery, key=key).exists():
        return None
    return StatusTrace.objects.create(
        delivery=delivery, code=code, key=key, at=at or timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None, actor_name=_actor_name(actor),
        agency_id=agency_id, reason=reason[:500],
    )


def _lock(delivery_id: int) -> Delivery:
    return (Delivery.objects.select_for_update(of=("self",))
            .select_related("document", "recipient_agency", "recipient_unit", "sender_agency")
            .get(pk=delivery_id))


def _check_version(delivery: Delivery, expected_version: int | None) -> None:
    if expected_version is not None and delivery.version != expected_version:
        raise StaleDelivery(_("Someone else has just acted on this delivery: reload the page and try again."))


def _bump(delivery: Delivery, *fields: str) -> None:
    delivery.version += 1
    delivery.save(update_fields=["version", *fields])


def _document_url(document_id: int) -> str:
    return reverse("documents:detail", args=[document_id])


def _delivery_url(delivery_id: int) -> str:
    return reverse("exchange:delivery", args=[delivery_id])


# --- who may act --------------------------------------------------------------------------------


def is_recipient_clerk(user, delivery: Delivery) -> bool:
    return bool(
        user.is_authenticated and user.is_active and delivery.recipient_unit_id is None
        and user.agency_id == delivery.recipient_agency_id and user.has_perm(CLERK_PERMISSION)
    )


def leads_a_unit(user) -> bool:
    """A unit's leader receives the internal documents sent to the unit."""
    return bool(user.is_authenticated and user.is_active and user.unit_id
                and user.groups.filter(name=roles.UNIT_LEADER).exists())


def is_recipient_unit_leader(user, delivery: Delivery) -> bool:
    return delivery.recipient_unit_id is not None and user.unit_id == delivery.recipient_unit_id and leads_a_unit(user)


def is_recipient(user, delivery: Delivery) -> bool:
    return is_recipient_clerk(user, delivery) or is_recipient_unit_leader(user, delivery)


def is_sender_clerk(user, document: Document) -> bool:
    return bool(
        user.is_authenticated and user.is_active and user.agency_id == document.agency_id
        and user.has_perm(SENDER_PERMISSION)
    )


def _require_recipient(actor, delivery: Delivery) -> None:
    if not is_recipient(actor, delivery):
        raise PermissionDenied(_("Only the receiving agency's clerks (or the receiving unit's leaders) may do this."))


def _require_sender(actor, document: Document) -> None:
    if not is_sender_clerk(actor, document):
        raise PermissionDenied(_("Only the issuing agency's clerks may do this."))


# --- created with the issue, then arrival ---------------------------------------------------------


def create_deliveries(document: Document, actor) -> int:
    """On "document issued", inside the issuing transaction: one delivery per recipient agency of an outgoing
    document (its own agency excepted), per recipient unit of an internal one. One INSERT ... SELECT from the
    document's recipients whatever their count (no row is built in Python: the request that issues to 500
    agencies stays short); the arrival runs in a task after commit (the rows are the intent: the sweeper
    finds any it missed). Returns how many deliveries were written.

    Secret documents are not sent electronically: QĐ 28/2018 excludes state-secret content from electronic
    exchange; they go on paper and the page says so."""
    if document.direction not in (Direction.OUTGOING, Direction.INTERNAL):
        return 0
    if document.confidentiality != Confidentiality.NORMAL:
        return 0
    internal = document.direction == Direction.INTERNAL
    recipients = DocumentRecipient._meta.db_table
    if internal:
        target = "%s, r.unit_id"
        condition = "r.unit_id IS NOT NULL"
        params = [document.agency_id]
    else:
        target = "r.agency_id, CAST(NULL AS BIGINT)"
        condition = "r.agency_id IS NOT NULL AND r.agency_id <> %s"
        params = [document.agency_id]
    sql = f"""
        INSERT INTO {Delivery._meta.db_table} (document_id, sender_agency_id, recipient_agency_id, recipient_unit_id,
            business_type, status, return_reason, recall_reason, take_back_state, version, created_at)
        SELECT DISTINCT %s, %s, {target}, %s, '', '', '', '', 1, %s
        FROM {recipients} r WHERE r.document_id = %s AND {condition}
        ON CONFLICT DO NOTHING"""
    head = [document.pk, document.agency_id]
    if internal:
        all_params = head + params + [BusinessType.NEW, timezone.now(), document.pk]
    else:
        all_params = head + [BusinessType.NEW, timezone.now(), document.pk] + params
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        written = cursor.rowcount
    if not written:
        return 0
    record_event(actor=actor, verb=events.DELIVERIES_CREATED, target=document, agency_id=document.agency_id,
                 data={"recipients": written, "internal": internal})
    peers.send_documents(list(Delivery.objects.filter(peers.served_by_peer(), document=document, status="")))
    publish_on_commit("exchange.tasks.deliver", document.pk)
    return written


def complete_arrivals(document_id: int, limit: int = 2000) -> int:
    """The arrival task's body: every delivery of `document_id` not yet arrived arrives (01), in bulk — one
    UPDATE, one INSERT of traces, one of audit events, one intent row per kind of notice. Rows another
    worker holds are skipped (that worker arrives them); a redelivered task finds nothing left to do."""
    with transaction.atomic():
        pending = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(document_id=document_id, status="").exclude(peers.served_by_peer())
            .select_related("document", "recipient_agency", "recipient_unit", "sender_agency")
            .order_by("id")[:limit]
        )
        if not pending:
            return 0
        now = timezone.now()
        ids = [d.pk for d in pending]
        Delivery.objects.filter(pk__in=ids).update(status=StatusCode.ARRIVED, arrived_at=now)
        StatusTrace.objects.bulk_create(
            [StatusTrace(delivery=d, code=StatusCode.ARRIVED, key=StatusCode.ARRIVED, at=now,
                         agency_id=d.recipient_agency_id) for d in pending],
            ignore_conflicts=True,
        )
        document = pending[0].document
        with batched_events():
            for delivery in pending:
                record_event(actor=None, verb=events.ARRIVED, target=delivery, agency_id=delivery.recipient_agency_id,
                             data={"document_id": document.pk, "number_notation": document.number_notation,
                                   "sender": document.organ_name, "unit_id": delivery.recipient_unit_id})
        for doc_file in DocumentFile.objects.filter(document_id=document.pk).select_related("blob"):
            request_verification(doc_file.blob)  # content-addressed: verified once whatever the recipients
        params = {"number": _number(document), "sender": document.organ_name, "subject": document.subject[:200]}
        agency_ids = [d.recipient_agency_id for d in pending if d.recipient_unit_id is None]
        if agency_ids:
            notices.tell("exchange.arrived", key=f"exchange.arrived:{document.pk}:{ids[0]}", agency_ids=agency_ids,
                         permission=CLERK_PERMISSION, params=params,
                         url=reverse("exchange:received", args=[document.pk]), document_id=document.pk)
        unit_ids = [d.recipient_unit_id for d in pending if d.recipient_unit_id is not None]
        if unit_ids:
            notices.tell("exchange.arrived", key=f"exchange.arrived:{document.pk}:{ids[0]}:units",
                         user_ids=unit_leader_ids(unit_ids), params=params, url=reverse("exchange:received", args=[document.pk]),
                         document_id=document.pk)
    return len(pending)


def pending_arrivals(older_than: timedelta | None = None) -> list[int]:
    """Documents with deliveries the arrival task has not made arrive in time (a lost message, a dead
    worker): the sweeper publishes their arrival again (after INTENT_SWEEP_AFTER_SECONDS)."""
    if older_than is None:
        older_than = timedelta(seconds=settings.INTENT_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    return list(Delivery.objects.filter(status="", created_at__lt=cutoff).exclude(peers.served_by_peer())
                .values_list("document_id", flat=True).distinct()[:500])


# --- the recipient: register, acknowledge, return -------------------------------------------------


def register_delivery(actor, delivery: Delivery, *, register_id: int | None = None, confirm_duplicate: bool = False,
                      expected_version: int | None = None) -> Document:
    """One click: the delivery becomes the recipient agency's incoming document (next arrival number of its
    incoming register), with the sender's metadata and the very same file blobs; status 03 to the sender."""
    _require_recipient(actor, delivery)
    if delivery.is_internal:
        raise DeliveryStateError(_("Internal documents are not registered as incoming: the unit acknowledges them."))
    sender_document = delivery.document
    data = documents_services.IncomingInput(
        document_type_id=sender_document.document_type_id, subject=sender_document.subject,
        organ_name=sender_document.organ_name, code_number=sender_document.code_number,
        code_notation=sender_document.code_notation, issued_date=sender_document.issued_date,
        organ_id=sender_document.organ_id, identifier=sender_document.identifier,
        signer_name=sender_document.signer_name, signer_position=sender_document.signer_position,
        urgency=sender_document.urgency, confidentiality=sender_document.confidentiality,
        to_places=sender_document.to_places, page_amount=sender_document.page_amount,
        due_date=sender_document.due_date, description=sender_document.description, register_id=register_id,
    )
    with transaction.atomic():
        delivery = _lock(delivery.pk)
        _check_version(delivery, expected_version)
        _require_waiting(delivery)
        document = documents_services.register_incoming(actor, data, (), confirm_duplicate=confirm_duplicate)
        for doc_file in sender_document.files.select_related("blob").order_by("-is_main", "id"):
            documents_services.attach_stored_blob(actor, document, doc_file.blob, doc_file.original_name,
                                                  is_main=doc_file.is_main)
        delivery.status = StatusCode.REGISTERED
        delivery.received_document = document
        delivery.registered_at = timezone.now()
        _bump(delivery, "status", "received_document", "registered_at")
        _trace(delivery, StatusCode.REGISTERED, actor=actor, agency_id=delivery.recipient_agency_id)
        record_event(actor=actor, verb=events.REGISTERED, target=delivery, agency_id=delivery.recipient_agency_id,
                     data={"document_id": sender_document.pk, "incoming_document_id": document.pk,
                           "arrival_number": document.register_number})
        _tell_sender_status(delivery, StatusCode.REGISTERED)
    return document


def register_delivery_and_present(
    actor, delivery: Delivery, *, leader, note: str = "", register_id: int | None = None,
    confirm_duplicate: bool = False, expected_version: int | None = None,
) -> IncomingCase:
    """The clerk's one screen for a document that arrived electronically: register it (as register_delivery),
    enter it for handling and present it to `leader` with the clerk's proposal, in one transaction; a refused
    presentation leaves the delivery waiting and uses no arrival number."""
    from workflows import services as workflows_services

    with transaction.atomic():
        document = register_delivery(actor, delivery, register_id=register_id, confirm_duplicate=confirm_duplicate,
                                     expected_version=expected_version)
        return workflows_services.enter_and_present(actor, document, leader, note=note)


def acknowledge_delivery(actor, delivery: Delivery, *, expected_version: int | None = None) -> Delivery:
    """A unit leader takes note of an internal document sent to the unit (03): no register, no number."""
    _require_recipient(actor, delivery)
    if not delivery.is_internal:
        raise DeliveryStateError(_("Documents from other agencies are registered by the clerks."))
    with transaction.atomic():
        delivery = _lock(delivery.pk)
        _check_version(delivery, expected_version)
        _require_waiting(delivery)
        delivery.status = StatusCode.REGISTERED
        delivery.registered_at = timezone.now()
        _bump(delivery, "status", "registered_at")
        _trace(delivery, StatusCode.REGISTERED, actor=actor, agency_id=delivery.recipient_agency_id)
        record_event(actor=actor, verb=events.ACKNOWLEDGED, target=delivery, agency_id=delivery.recipient_agency_id,
                     data={"document_id": delivery.document_id, "unit_id": delivery.recipient_unit_id})
        _tell_sender_status(delivery, StatusCode.REGISTERED)
    return delivery


def return_delivery(actor, delivery: Delivery, reason: str, *, expected_version: int | None = None) -> Delivery:
    """Decree 30 Art. 21: a document sent to the wrong place, or invalid, goes back to its sender (02)."""
    _require_recipient(actor, delivery)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the document is returned.")})
    with transaction.atomic():
        delivery = _lock(delivery.pk)
        _check_version(delivery, expected_version)
        _require_waiting(delivery)
        delivery.status = StatusCode.RETURNED
        delivery.returned_at = timezone.now()
        delivery.return_reason = reason[:500]
        _bump(delivery, "status", "returned_at", "return_reason")
        _trace(delivery, StatusCode.RETURNED, actor=actor, agency_id=delivery.recipient_agency_id, reason=reason)
        record_event(actor=actor, verb=events.RETURNED, target=delivery, agency_id=delivery.recipient_agency_id,
                     data={"document_id": delivery.document_id, "reason": reason[:500]})
        record_event(actor=actor, verb=events.RETURNED, target=delivery.document, agency_id=delivery.sender_agency_id,
                     data={"delivery_id": delivery.pk, "recipient": delivery.recipient_name, "reason": reason[:500]})
        document = delivery.document
        notices.tell("exchange.returned", key=f"exchange.returned:{delivery.pk}",
                     user_ids=[document.created_by_id], exclude=[actor.pk],
                     params={"recipient": delivery.recipient_name, "number": _number(document), "reason": reason[:200]},
                     url=_document_url(document.pk), document_id=document.pk)
    return delivery


def _require_waiting(delivery: Delivery) -> None:
    if delivery.is_recalled:
        raise DeliveryStateError(_("The sender has recalled this document."))
    if delivery.status == "":
        raise DeliveryStateError(_("This document is still on its way: try again in a moment."))
    if delivery.status != StatusCode.ARRIVED:
        raise DeliveryStateError(_("This delivery has already been dealt with (%(status)s).")
                                 % {"status": delivery.get_status_display()})


def _tell_sender_status(delivery: Delivery, code: str) -> None:
    document = delivery.document
    notices.tell("exchange.status", key=f"exchange.status:{delivery.pk}:{code}", user_ids=[document.created_by_id],
                 params={"recipient": delivery.recipient_name, "status": code, "number": _number(document)},
                 url=_document_url(document.pk), document_id=document.pk)


# --- handling at the recipient reported back (04–06) -----------------------------------------------

_CASE_STATUS = {
    CaseState.DIRECTED: StatusCode.ASSIGNED,
    CaseState.IN_PROGRESS: StatusCode.IN_PROGRESS,
    CaseState.COMPLETED: StatusCode.COMPLETED,
}


def report_case_progress(case: IncomingCase, actor) -> StatusTrace | None:
    """Workflows announced a change of an incoming case; when the document came through a delivery, the
    sender's trace gets 04 (directed), 05 (in progress) or 06 (completed), once each and only forward."""
    code = _CASE_STATUS.get(case.state)
    if code is None:
        return None
    delivery = Delivery.objects.select_for_update().filter(received_document_id=case.document_id).first()
    if delivery is None or delivery.is_recalled:
        return None
    trace = _trace(delivery, code, actor=actor, agency_id=delivery.recipient_agency_id)
    if delivery.status in PROGRESS_ORDER and PROGRESS_ORDER.index(code) > PROGRESS_ORDER.index(delivery.status):
        delivery.status = code
        _bump(delivery, "status")
    if trace is not None:
        record_event(actor=actor, verb=events.STATUS_REPORTED, target=delivery,
                     agency_id=delivery.recipient_agency_id, data={"status": code, "case_id": case.pk})
        _tell_sender_status(delivery, code)
    return trace


# --- the sender: recall, ask back, update / replace ---------------------------------------------


def recall_document(actor, document: Document, reason: str) -> int:
    """Recall an issued document (edXML business type 1): every recipient's copy is frozen and marked
    recalled, their clerks (and the people handling it) are told; recorded in both audit trails."""
    _require_sender(actor, document)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the document is recalled.")})
    with transaction.atomic():
        deliveries = list(Delivery.objects.select_for_update(of=("self",)).filter(document=document,
                                                                                 recalled_at__isnull=True,
                                                                       status__in=_ACTIVE_STATUSES)
                          .select_related("recipient_agency", "recipient_unit"))
        if not deliveries:
            raise DeliveryStateError(_("There is no delivery of this document left to recall."))
        now = timezone.now()
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(recalled_at=now, recall_reason=reason[:500])
        peers.send_recalls(deliveries, reason)
        record_event(actor=actor, verb=events.RECALLED, target=document, agency_id=document.agency_id,
                     data={"reason": reason[:500], "deliveries": len(deliveries)})
        with batched_events():
            for delivery in deliveries:
                record_event(actor=actor, verb=events.RECALL_RECEIVED, target=delivery,
                             agency_id=delivery.recipient_agency_id,
                             data={"document_id": document.pk, "reason": reason[:500],
                                   "incoming_document_id": delivery.received_document_id})
        _tell_holders("exchange.recalled", f"exchange.recalled:{document.pk}", document, deliveries, actor,
                      {"sender": document.organ_name, "number": _number(document), "reason": reason[:200]})
    return len(deliveries)


_ACTIVE_STATUSES = ["", StatusCode.ARRIVED, StatusCode.REGISTERED, StatusCode.ASSIGNED, StatusCode.IN_PROGRESS,
                    StatusCode.COMPLETED]


def _holders(deliveries: list[Delivery]) -> list[int]:
    """The people who hold the recipients' copies: those handling the registered incoming documents."""
    from workflows.models import Assignment

    received = [d.received_document_id for d in deliveries if d.received_document_id]
    if not received:
        return []
    cases = IncomingCase.objects.filter(document_id__in=received)
    people = set(cases.exclude(presented_to=None).values_list("presented_to_id", flat=True))
    people |= set(Assignment.objects.filter(case__in=cases).exclude(assignee=None).values_list("assignee_id", flat=True))
    return sorted(people)


def _tell_holders(kind: str, key: str, document: Document, deliveries: list[Delivery], actor, params: dict) -> None:
    agency_ids = [d.recipient_agency_id for d in deliveries if d.recipient_unit_id is None]
    url = reverse("exchange:received", args=[document.pk])
    if agency_ids:
        notices.tell(kind, key=key, agency_ids=agency_ids, permission=CLERK_PERMISSION, params=params, url=url,
                     document_id=document.pk, exclude=[actor.pk])
    holders = _holders(deliveries)
    unit_ids = [d.recipient_unit_id for d in deliveries if d.recipient_unit_id]
    if unit_ids:
        holders += unit_leader_ids(unit_ids)
    if holders:
        notices.tell(kind, key=f"{key}:holders", user_ids=holders, params=params, url=url, document_id=document.pk,
                     exclude=[actor.pk])


def ask_back(actor, delivery: Delivery, reason: str) -> Delivery:
    """The sender asks one recipient to give the document back (13); the recipient answers 15 or 16."""
    _require_sender(actor, delivery.document)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the document is asked back.")})
    with transaction.atomic():
        delivery = _lock(delivery.pk)
        if delivery.is_recalled or delivery.status in ("", StatusCode.RETURNED):
            raise DeliveryStateError(_("This recipient does not hold the document."))
        if delivery.take_back_state == StatusCode.TAKE_BACK_REQUESTED:
            raise DeliveryStateError(_("The document has already been asked back: wait for the answer."))
        rounds = delivery.traces.filter(code=StatusCode.TAKE_BACK_REQUESTED).count()
        delivery.take_back_state = StatusCode.TAKE_BACK_REQUESTED
        _bump(delivery, "take_back_state")
        _trace(delivery, StatusCode.TAKE_BACK_REQUESTED, actor=actor, agency_id=delivery.sender_agency_id,
               reason=reason, key=f"13:{rounds + 1}")
        record_event(actor=actor, verb=events.TAKE_BACK_REQUESTED, target=delivery.document,
                     agency_id=delivery.sender_agency_id,
                     data={"delivery_id": delivery.pk, "recipient": delivery.recipient_name, "reason": reason[:500]})
        record_event(actor=actor, verb=events.TAKE_BACK_REQUESTED, target=delivery,
                     agency_id=delivery.recipient_agency_id, data={"reason": reason[:500]})
        document = delivery.document
        _tell_holders("exchange.take_back_requested", f"exchange.take_back:{delivery.pk}:{rounds + 1}", document,
                      [delivery], actor, {"sender": document.organ_name, "number": _number(document),
                                          "reason": reason[:200]})
    return delivery


def answer_take_back(actor, delivery: Delivery, *, accept: bool, reason: str = "",
                     expected_version: int | None = None) -> Delivery:
    """The recipient's clerk gives the document back (15: the copy is withdrawn, as with a recall) or refuses
    with a reason (16)."""
    _require_recipient(actor, delivery)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ValidationError({"reason": _("Say why the document is not given back.")})
    with transaction.atomic():
        delivery = _lock(delivery.pk)
        _check_version(delivery, expected_version)
        if delivery.take_back_state != StatusCode.TAKE_BACK_REQUESTED:
            raise DeliveryStateError(_("The sender has not asked for this document back."))
        code = StatusCode.TAKE_BACK_ACCEPTED if accept else StatusCode.TAKE_BACK_REFUSED
        rounds = delivery.traces.filter(code=StatusCode.TAKE_BACK_REQUESTED).count()
        delivery.take_back_state = code
        fields = ["take_back_state"]
        if accept:
            request = delivery.traces.filter(code=StatusCode.TAKE_BACK_REQUESTED).order_by("-at", "-id").first()
            delivery.recalled_at = timezone.now()
            delivery.recall_reason = (request.reason if request else "")[:500]
            fields += ["recalled_at", "recall_reason"]
        _bump(delivery, *fields)
        _trace(delivery, code, actor=actor, agency_id=delivery.recipient_agency_id, reason=reason,
               key=f"{code}:{rounds}")
        for agency_id, target in ((delivery.recipient_agency_id, delivery),
                                  (delivery.sender_agency_id, delivery.document)):
            record_event(actor=actor, verb=events.TAKE_BACK_ANSWERED, target=target, agency_id=agency_id,
                         data={"delivery_id": delivery.pk, "status": code, "reason": reason[:500]})
        document = delivery.document
        notices.tell("exchange.take_back_answered", key=f"exchange.take_back_answered:{delivery.pk}:{rounds}",
                     user_ids=[document.created_by_id], exclude=[actor.pk],
                     params={"recipient": delivery.recipient_name, "status": code, "number": _number(document),
                             "reason": reason[:200]},
                     url=_document_url(document.pk), document_id=document.pk)
    return delivery


def link_replacement(actor, document: Document, earlier: Document, kind: int) -> int:
    """Mark `document` (issued by the same agency) as an update or a replacement of `earlier` (business type
    2 or 3): at every recipient that received both, the new delivery links to the old one, and the holders of
    the old one are told."""
    _require_sender(actor, document)
    if kind not in (BusinessType.UPDATE, BusinessType.REPLACE):
        raise ValidationError({"kind": _("Choose update or replacement.")})
    if earlier.pk == document.pk or earlier.agency_id != document.agency_id or earlier.direction != document.direction:
        raise ValidationError({"earlier": _("Choose an earlier document issued by your agency.")})
    if earlier.created_at > document.created_at:
        raise ValidationError({"earlier": _("The document replaced must have been issued before this one.")})
    with transaction.atomic():
        new = list(Delivery.objects.select_for_update().filter(document=document))
        if not new:
            raise DeliveryStateError(_("This document has no deliveries to link."))
        old = {(d.recipient_agency_id, d.recipient_unit_id): d for d in Delivery.objects.filter(document=earlier)}
        linked = []
        for delivery in new:
            match = old.get((delivery.recipient_agency_id, delivery.recipient_unit_id))
            delivery.business_type = kind
            delivery.replaces = match
            delivery.version += 1
            if match is not None:
                linked.append(match)
        Delivery.objects.bulk_update(new, ["business_type", "replaces", "version"])
        peers.send_links([d for d in new if d.replaces_id], kind)
        record_event(actor=actor, verb=events.REPLACEMENT_LINKED, target=document, agency_id=document.agency_id,
                     data={"earlier_document_id": earlier.pk, "kind": kind, "linked": len(linked)})
        with batched_events():
            for delivery in linked:
                record_event(actor=actor, verb=events.REPLACEMENT_LINKED, target=delivery,
                             agency_id=delivery.recipient_agency_id,
                             data={"document_id": document.pk, "earlier_document_id": earlier.pk, "kind": kind})
        if linked:
            _tell_holders("exchange.replaced", f"exchange.replaced:{document.pk}:{earlier.pk}", earlier, linked, actor,
                          {"number": _number(document), "sender": document.organ_name, "kind": str(kind),
                           "old_number": _number(earlier)})
    return len(linked)


# --- not registered within the working day --------------------------------------------------------


def registration_deadline(arrived_at: datetime) -> datetime:
    """The end of the working day after the arrival day (Asia/Ho_Chi_Minh): Art. 21 asks for registration
    the same day, or the next working day when it came after hours."""
    local = timezone.localtime(arrived_at)
    day = local.date() + timedelta(days=1)
    while day.weekday() >= 5:  # Saturday, Sunday
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, WORKING_DAY_ENDS))


def flag_late_registrations(now: datetime | None = None) -> int:
    """Tell both clerks (the sender's and the recipient's) once about each delivery still waiting past its
    registration deadline. Periodic and idempotent."""
    now = now or timezone.now()
    candidates = (Delivery.objects.filter(status=StatusCode.ARRIVED, recalled_at__isnull=True,
                                          late_flagged_at__isnull=True, recipient_unit__isnull=True,
                                          arrived_at__lt=now - timedelta(hours=12))
                  .select_related("document", "recipient_agency")[:500])
    flagged = 0
    for delivery in candidates:
        if registration_deadline(delivery.arrived_at) > now:
            continue
        with transaction.atomic():
            if not Delivery.objects.filter(pk=delivery.pk, late_flagged_at__isnull=True,
                                           status=StatusCode.ARRIVED).update(late_flagged_at=now):
                continue
            document = delivery.document
            record_event(actor=None, verb=events.LATE_FLAGGED, target=delivery, agency_id=delivery.recipient_agency_id,
                         data={"document_id": document.pk})
            params = {"number": _number(document), "sender": document.organ_name,
                      "recipient": delivery.recipient_agency.name}
            notices.tell("exchange.late", key=f"exchange.late:{delivery.pk}", agency_ids=[delivery.recipient_agency_id],
                         permission=CLERK_PERMISSION, params=params, url=_delivery_url(delivery.pk),
                         document_id=document.pk)
            notices.tell("exchange.late", key=f"exchange.late:{delivery.pk}:sender", user_ids=[document.created_by_id],
                         params=params, url=_document_url(document.pk), document_id=document.pk)
            flagged += 1
    return flagged


def pending_count(document_id: int) -> int:
    return Delivery.objects.filter(document_id=document_id, status="").exclude(peers.served_by_peer()).count()


def recalled_reason(document_id: int) -> str | None:
    """documents.holds provider: a recipient's copy whose sender recalled it (or that was given back) takes no
    more handling steps."""
    recalled = (Delivery.objects.filter(received_document_id=document_id, recalled_at__isnull=False)
                .values("recall_reason", "recalled_at").first())
    if recalled is None:
        return None
    return _("The sender recalled this document on %(date)s: %(reason)s") % {
        "date": timezone.localtime(recalled["recalled_at"]).strftime("%d/%m/%Y %H:%M"),
        "reason": recalled["recall_reason"] or "—",
    }
