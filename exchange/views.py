"""Web pages of the exchange: the recipient's queue and delivery page, the sender's actions and the printable
delivery report. Thin: reads through exchange.selectors, every change through exchange.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents import services as documents_services
from documents.downloads import file_response
from documents.models import Document, Register, RegisterKind
from documents.selectors import visible_documents
from documents.storage import IntegrityFailure
from workflows.forms import PresentForm

from . import selectors, services
from .forms import AskBackForm, RecallForm, RegisterForm, ReplacementForm, ReturnForm, TakeBackForm
from .models import Delivery, StatusCode
from .report import build_delivery_report, report_filename

PAGE_SIZE = 30

HANDLED = [StatusCode.REGISTERED, StatusCode.ASSIGNED, StatusCode.IN_PROGRESS, StatusCode.COMPLETED]

TABS = ("waiting", "registered", "returned", "recalled", "all")


def _tab_filters() -> dict[str, Q]:
    return {
        "waiting": Q(status=StatusCode.ARRIVED, recalled_at__isnull=True),
        "registered": Q(status__in=HANDLED, recalled_at__isnull=True),
        "returned": Q(status=StatusCode.RETURNED),
        "recalled": Q(recalled_at__isnull=False),
        "all": Q(),
    }


def may_use_inbox(user) -> bool:
    """Clerks who register incoming documents, and unit leaders (internal documents to their unit)."""
    if not user.is_authenticated or not user.agency_id:
        return False
    return user.has_perm(services.CLERK_PERMISSION) or services.leads_a_unit(user)


@login_required
def inbox(request):
    if not may_use_inbox(request.user):
        raise PermissionDenied(_("Only clerks and unit leaders receive documents sent electronically."))
    received = selectors.received_deliveries(request.user)
    filters = _tab_filters()
    counts = received.aggregate(**{tab: Count("pk", filter=condition) for tab, condition in filters.items()})
    tab = request.GET.get("tab", "waiting")
    if tab not in TABS:
        tab = "waiting"
    rows = (received.filter(filters[tab])
            .select_related("document", "document__document_type", "sender_agency", "recipient_unit",
                            "received_document")
            .order_by("-arrived_at", "-id"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [
        {"key": "waiting", "label": _("Waiting"), "count": counts["waiting"]},
        {"key": "registered", "label": _("Registered"), "count": counts["registered"]},
        {"key": "returned", "label": _("Returned"), "count": counts["returned"]},
        {"key": "recalled", "label": _("Recalled"), "count": counts["recalled"]},
        {"key": "all", "label": _("All"), "count": counts["all"]},
    ]
    return render(request, "exchange/inbox.html", {"page": page, "tab": tab, "tabs": tabs})


def _visible_delivery_or_404(user, pk: int) -> Delivery:
    # 404, not 403: another agency must not learn that a delivery exists.
    return get_object_or_404(
        selectors.visible_deliveries(user).select_related(
            "document", "document__document_type", "document__agency", "sender_agency", "recipient_agency",
            "recipient_unit", "received_document", "replaces", "replaces__document",
        ),
        pk=pk,
    )


def incoming_registers(user):
    """The incoming registers (current year, active, not the secret series) the clerk may register into."""
    return Register.objects.filter(agency_id=user.agency_id, kind=RegisterKind.INCOMING, is_active=True,
                                   year=timezone.localdate().year).order_by("code", "pk")


def _detail_context(request, delivery: Delivery, **extra) -> dict:
    user = request.user
    is_recipient = services.is_recipient(user, delivery)
    document = delivery.document
    registers = list(incoming_registers(user)) if is_recipient and not delivery.is_internal else []
    waiting = delivery.is_waiting
    context = {
        "delivery": delivery,
        "document": document,
        "files": document.files.select_related("blob").order_by("-is_main", "id"),
        "traces": delivery.traces.select_related("agency").all(),
        "is_recipient": is_recipient,
        "is_sender": services.is_sender_clerk(user, document),
        "can_register": is_recipient and waiting and not delivery.is_internal,
        "can_acknowledge": is_recipient and waiting and delivery.is_internal,
        "can_return": is_recipient and waiting,
        "can_answer_take_back": is_recipient and delivery.take_back_state == StatusCode.TAKE_BACK_REQUESTED,
        "register_form": extra.pop("register_form", None) or RegisterForm(registers=registers,
                                                                          initial={"version": delivery.version}),
        "return_form": extra.pop("return_form", None) or ReturnForm(initial={"version": delivery.version}),
        "take_back_form": extra.pop("take_back_form", None) or TakeBackForm(initial={"version": delivery.version}),
        "take_back_request": (delivery.traces.filter(code=StatusCode.TAKE_BACK_REQUESTED).order_by("-at", "-id")
                              .first() if delivery.take_back_state else None),
        "received_visible": bool(delivery.received_document_id and visible_documents(user)
                                 .filter(pk=delivery.received_document_id).exists()),
        "document_visible": visible_documents(user).filter(pk=document.pk).exists(),
        "duplicates": [],
        # The one-screen registration: register, enter for handling and present, for the agency's clerks.
        "present_form": extra.pop("present_form", None) or (
            PresentForm(agency_id=user.agency_id) if is_recipient and waiting and not delivery.is_internal else None),
    }
    context.update(extra)
    return context


@login_required
def delivery_detail(request, pk: int):
    delivery = _visible_delivery_or_404(request.user, pk)
    return render(request, "exchange/delivery.html", _detail_context(request, delivery))


def _flash_error(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _version(form) -> int | None:
    return form.cleaned_data.get("version") if form.is_valid() else None


REGISTER_ONLY, PRESENT, PRESENT_THEN_NEXT = "", "present", "next"


def next_waiting(user, after: Delivery) -> Delivery | None:
    """The delivery the clerk's queue (the inbox's "waiting" tab, in its order) shows first, other than `after`."""
    return (selectors.inbox(user).exclude(pk=after.pk).filter(recipient_unit__isnull=True)
            .order_by("-arrived_at", "-id").first())


@login_required
@require_POST
def register(request, pk: int):
    """Register the delivery as incoming; with `then` = present (or next), also enter it for handling and present
    it to the chosen leader in the same transaction, then open the case (or the next waiting delivery)."""
    delivery = _visible_delivery_or_404(request.user, pk)
    if not services.is_recipient(request.user, delivery):
        raise PermissionDenied(_("Only the receiving agency's clerks may register this document."))
    then = request.POST.get("then", REGISTER_ONLY)
    if then not in (PRESENT, PRESENT_THEN_NEXT):
        then = REGISTER_ONLY
    registers = list(incoming_registers(request.user))
    form = RegisterForm(request.POST, registers=registers)
    present_form = PresentForm(request.POST if then else None, agency_id=request.user.agency_id)
    if not form.is_valid() or (then and not present_form.is_valid()):
        return render(request, "exchange/delivery.html",
                      _detail_context(request, delivery, register_form=form, present_form=present_form), status=400)
    data = form.cleaned_data
    register_id = int(data["register"]) if data.get("register") else None
    leader = present_form.chosen_leader() if then else None
    try:
        if then:
            case = services.register_delivery_and_present(
                request.user, delivery, leader=leader, note=present_form.cleaned_data["note"], register_id=register_id,
                confirm_duplicate=data["confirm_duplicate"], expected_version=data.get("version"),
            )
            document = case.document
        else:
            document = services.register_delivery(
                request.user, delivery, register_id=register_id, confirm_duplicate=data["confirm_duplicate"],
                expected_version=data.get("version"),
            )
    except documents_services.DuplicateDocument as exc:
        visible = set(visible_documents(request.user).filter(pk__in=[d.pk for d in exc.duplicates])
                      .values_list("pk", flat=True))
        duplicates = [d if d.pk in visible else None for d in exc.duplicates]
        form.add_error(None, str(exc))
        return render(request, "exchange/delivery.html",
                      _detail_context(request, delivery, register_form=form, present_form=present_form,
                                      duplicates=duplicates, show_confirm=True), status=400)
    except ValidationError as exc:
        _flash_error(request, exc)
        return redirect("exchange:delivery", pk=delivery.pk)
    if not then:
        messages.success(request, _("Registered with arrival number %(number)s: the document is now in your "
                                    "agency's incoming register, ready to be presented.")
                         % {"number": document.arrival_number})
        return redirect("documents:detail", pk=document.pk)
    messages.success(request, _("Registered with arrival number %(number)s and presented to %(person)s for "
                                "direction.") % {"number": document.arrival_number, "person": leader.name_and_position})
    if then == PRESENT:
        return redirect("workflows:case", pk=case.pk)
    following = next_waiting(request.user, delivery)
    if following is None:
        messages.info(request, _("No other document is waiting to be registered."))
        return redirect("exchange:inbox")
    return redirect("exchange:delivery", pk=following.pk)


@login_required
@require_POST
def acknowledge(request, pk: int):
    delivery = _visible_delivery_or_404(request.user, pk)
    form = ReturnForm(request.POST)  # only its version field is read
    form.is_valid()
    try:
        services.acknowledge_delivery(request.user, delivery, expected_version=form.cleaned_data.get("version"))
    except ValidationError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Received by %(unit)s: the sender sees it as registered.")
                         % {"unit": delivery.recipient_name})
    return redirect("exchange:delivery", pk=delivery.pk)


@login_required
@require_POST
def return_to_sender(request, pk: int):
    delivery = _visible_delivery_or_404(request.user, pk)
    form = ReturnForm(request.POST)
    form.is_valid()
    try:
        services.return_delivery(request.user, delivery, form.cleaned_data.get("reason", ""),
                                 expected_version=form.cleaned_data.get("version"))
    except ValidationError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Returned to %(sender)s with your reason: the document is back with its "
                                    "sender.") % {"sender": delivery.sender_agency.name})
    return redirect("exchange:delivery", pk=delivery.pk)


@login_required
@require_POST
def answer_take_back(request, pk: int):
    delivery = _visible_delivery_or_404(request.user, pk)
    form = TakeBackForm(request.POST)
    form.is_valid()
    accept = form.cleaned_data.get("answer") == "accept"
    try:
        services.answer_take_back(request.user, delivery, accept=accept, reason=form.cleaned_data.get("reason", ""),
                                  expected_version=form.cleaned_data.get("version"))
    except ValidationError as exc:
        _flash_error(request, exc)
    else:
        if accept:
            messages.success(request, _("The document is given back to %(sender)s: your copy is withdrawn.")
                             % {"sender": delivery.sender_agency.name})
        else:
            messages.success(request, _("You refused to give the document back: %(sender)s is told your reason.")
                             % {"sender": delivery.sender_agency.name})
    return redirect("exchange:delivery", pk=delivery.pk)


@login_required
def delivery_file(request, pk: int, file_id: int):
    """A file of the sent document, to the recipient of this delivery (the sender reads it on the document's
    own page). The very same content-addressed blob, checked on read."""
    delivery = get_object_or_404(selectors.received_deliveries(request.user).select_related("document"), pk=pk)
    if delivery.is_recalled:
        raise Http404
    document = delivery.document
    doc_file = get_object_or_404(document.files.select_related("blob"), pk=file_id)
    try:
        return file_response(request.user, document, doc_file, via="exchange")
    except (IntegrityFailure, OSError):
        return render(request, "documents/file_damaged.html", {"document": document, "file": doc_file}, status=409)


@login_required
def received(request, document_id: int):
    """Where a notice about a sent document lands: the reader's own delivery, or the incoming document their
    agency registered from it (the people handling it)."""
    delivery = selectors.delivery_for_reader(request.user, document_id)
    if delivery is not None:
        return redirect("exchange:delivery", pk=delivery.pk)
    registered = (Delivery.objects.filter(document_id=document_id, received_document__isnull=False,
                                          received_document__in=visible_documents(request.user))
                  .values_list("received_document_id", flat=True).first())
    if registered:
        return redirect("documents:detail", pk=registered)
    raise Http404


def _sent_document_or_404(user, document_id: int) -> Document:
    return get_object_or_404(visible_documents(user), pk=document_id)


@login_required
@require_POST
def recall(request, document_id: int):
    document = _sent_document_or_404(request.user, document_id)
    form = RecallForm(request.POST)
    form.is_valid()
    try:
        count = services.recall_document(request.user, document, form.cleaned_data.get("reason", ""))
    except ValidationError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Recalled from %(count)s recipient(s): their copies are withdrawn and their "
                                    "clerks are told.") % {"count": count})
    return redirect("documents:detail", pk=document.pk)


@login_required
@require_POST
def ask_back(request, pk: int):
    delivery = _visible_delivery_or_404(request.user, pk)
    form = AskBackForm(request.POST)
    form.is_valid()
    try:
        services.ask_back(request.user, delivery, form.cleaned_data.get("reason", ""))
    except ValidationError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Asked %(recipient)s to give the document back: their answer will appear in the "
                                    "trace.") % {"recipient": delivery.recipient_name})
    return redirect("documents:detail", pk=delivery.document_id)


@login_required
@require_POST
def link_replacement(request, document_id: int):
    document = _sent_document_or_404(request.user, document_id)
    if not services.is_sender_clerk(request.user, document):
        raise PermissionDenied(_("Only the issuing agency's clerks may do this."))
    form = ReplacementForm(request.POST, document=document)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("documents:detail", pk=document.pk)
    try:
        linked = services.link_replacement(request.user, document, form.cleaned_data["earlier"],
                                           int(form.cleaned_data["kind"]))
    except ValidationError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Linked to %(earlier)s at %(count)s recipient(s): they see the link on their "
                                    "copy.") % {"earlier": form.cleaned_data["earlier"].number_notation,
                                                "count": linked})
    return redirect("documents:detail", pk=document.pk)


@login_required
def delivery_report(request, document_id: int):
    document = _sent_document_or_404(request.user, document_id)
    deliveries = list(selectors.deliveries_of(request.user, document))
    response = HttpResponse(build_delivery_report(document, deliveries), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{report_filename(document)}"'
    return response
