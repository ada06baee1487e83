"""The records pages: thin views over records.selectors (what the person may see) and records.services (every
change). A refused change is shown as a message on the same page; nothing is half-done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Unit
from documents.models import Direction, Document
from documents.selectors import visible_documents
from workflows.models import CaseState

from . import bags, printouts, selectors, services
from .forms import (
    AdHocFileForm,
    ArchiveFilterForm,
    CatalogueForm,
    DecisionForm,
    EntryForm,
    FileChangeForm,
    HeadingForm,
    HoldBackForm,
    ImportForm,
    PublishForm,
    ReasonForm,
    ReceiveForm,
    RetentionForm,
)
from .models import (
    ArchivalTimestamp,
    BagExport,
    BagImport,
    CatalogueEntry,
    DecisionState,
    DispositionState,
    FileCatalogue,
    HoldBack,
    ItemDecision,
    JobState,
    RetentionPeriod,
    TransferState,
    WorkFile,
    WorkFileState,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attempt(request: HttpRequest, action: Callable[[], object], success: str) -> object | None:
    """Run a service call; a refusal becomes a message (nothing was changed)."""
    try:
        result = action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return None
    messages.success(request, success)
    return result


def _id(value) -> int:
    """A submitted id; anything that cannot name a row is a 404, not a 500."""
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise Http404 from error
    if not 1 <= number < 2**63:
        raise Http404
    return number


def _ids(values: list[str]) -> list[int]:
    return [_id(value) for value in values]


def _package_name(job: BagExport) -> str:
    return bags.bag_name(job.work_file) + ".zip"


def _file_response(content: bytes, name: str, fmt: str) -> HttpResponse:
    content_type = "application/pdf" if fmt == "pdf" else XLSX
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _manager_or_404(request: HttpRequest) -> None:
    if not selectors.manages_records(request.user, request.user.agency_id):
        raise PermissionDenied


# --- home ---------------------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    files = selectors.visible_work_files(user).select_related("unit")
    mine = files.filter(state=WorkFileState.OPEN).order_by("-year", "file_notation")
    due = selectors.due_for_transfer(user, unit_id=None if selectors.sees_whole_agency(user, user.agency_id)
                                     else user.unit_id)
    today = timezone.localdate()
    return render(request, "records/home.html", {
        "open_files": mine[:100],
        "due": due[:50],
        "due_soon": [row for row in due if row.days_left <= selectors.REMIND_DAYS],
        "hold_backs": selectors.hold_backs_to_decide(user).select_related("work_file", "requested_by"),
        "dispositions": selectors.visible_dispositions(user).exclude(state=DispositionState.EXECUTED)[:20],
        "transfers": selectors.visible_transfers(user).filter(state=TransferState.SUBMITTED)[:20],
        "manager": selectors.manages_records(user, user.agency_id),
        "catalogue": selectors.visible_catalogues(user).filter(year=today.year).first(),
    })


# --- the catalogue -------------------------------------------------------------------------------------------


@login_required
def catalogues(request: HttpRequest) -> HttpResponse:
    user = request.user
    manager = selectors.manages_records(user, user.agency_id)
    form = CatalogueForm(request.POST or None, initial={"year": timezone.localdate().year})
    if request.method == "POST":
        if not manager:
            raise PermissionDenied
        if form.is_valid():
            year = form.cleaned_data["year"]
            previous = (FileCatalogue.objects.filter(agency_id=user.agency_id, year=year - 1).first()
                        if form.cleaned_data["copy_previous"] else None)
            catalogue = _attempt(request, lambda: services.create_catalogue(user, user.agency_id, year,
                                                                            copy_from=previous),
                                 _("The file catalogue for %(year)s was created.") % {"year": year})
            if catalogue is not None:
                return redirect("records:catalogue", catalogue.pk)
    return render(request, "records/catalogues.html", {
        "catalogues": selectors.visible_catalogues(user).annotate(n=Count("entries")),
        "form": form, "manager": manager,
    })


@login_required
def catalogue(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    item = get_object_or_404(selectors.visible_catalogues(user).select_related("agency"), pk=pk)
    manager = selectors.manages_records(user, item.agency_id)
    heading_form = HeadingForm(catalogue=item)
    entry_form = EntryForm(catalogue=item)
    publish_form = PublishForm()
    if request.method == "POST":
        if not manager:
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "heading":
            heading_form = HeadingForm(request.POST, catalogue=item)
            if heading_form.is_valid():
                data = heading_form.cleaned_data
                if _attempt(request, lambda: services.add_heading(user, item, title=data["title"],
                                                                  abbreviation=data["abbreviation"],
                                                                  parent=data["parent"]), _("Heading added.")):
                    return redirect("records:catalogue", pk)
        elif action == "entry":
            entry_form = EntryForm(request.POST, catalogue=item)
            if entry_form.is_valid():
                data = entry_form.cleaned_data
                entry = services.EntryInput(
                    title=data["title"], heading=data["heading"], retention=data["retention"],
                    retention_years=data["retention_years"], permanent=data["permanent"], unit=data["unit"],
                    responsible=data["responsible"], note=data["note"], file_notation=data["file_notation"],
                )
                if _attempt(request, lambda: services.add_entry(user, item, entry), _("File added to the catalogue.")):
                    return redirect("records:catalogue", pk)
        elif action == "remove":
            entry = get_object_or_404(CatalogueEntry, pk=_id(request.POST.get("entry")), catalogue=item)
            _attempt(request, lambda: services.remove_entry(user, entry), _("File removed from the catalogue."))
            return redirect("records:catalogue", pk)
        elif action == "publish":
            publish_form = PublishForm(request.POST)
            if publish_form.is_valid() and _attempt(
                request, lambda: services.publish_catalogue(user, item, **publish_form.cleaned_data),
                _("The catalogue is published: staff can open its files."),
            ):
                return redirect("records:catalogue", pk)
    opened = {
        wf.catalogue_entry_id: wf
        for wf in selectors.visible_work_files(user).filter(catalogue_entry__catalogue=item)
    }
    return render(request, "records/catalogue.html", {
        "catalogue": item, "rows": _catalogue_rows(item, opened), "manager": manager,
        "heading_form": heading_form, "entry_form": entry_form, "publish_form": publish_form,
        "opened_elsewhere": set(WorkFile.objects.filter(catalogue_entry__catalogue=item)
                                .values_list("catalogue_entry_id", flat=True)),
    })


def _catalogue_rows(item: FileCatalogue, opened: dict) -> list[dict]:
    numbers = printouts.heading_numbers(item)
    entries: dict[int, list] = {}
    for entry in item.entries.select_related("unit", "responsible", "retention").order_by("order"):
        entry.work_file = opened.get(entry.pk)
        entries.setdefault(entry.heading_id, []).append(entry)
    rows = []
    headings = list(item.headings.order_by("order", "id"))
    for major in [h for h in headings if h.parent_id is None]:
        rows.append({"heading": major, "number": numbers.get(major.pk, ""), "level": 1})
        rows.extend({"entry": entry} for entry in entries.get(major.pk, []))
        for sub in [h for h in headings if h.parent_id == major.pk]:
            rows.append({"heading": sub, "number": numbers.get(sub.pk, ""), "level": 2})
            rows.extend({"entry": entry} for entry in entries.get(sub.pk, []))
    return rows


@login_required
def catalogue_print(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    item = get_object_or_404(selectors.visible_catalogues(request.user), pk=pk)
    content = printouts.catalogue_pdf(item) if fmt == "pdf" else printouts.catalogue_xlsx(item)
    services.record_printed(request.user, item, item.agency_id, what="catalogue", fmt=fmt)
    return _file_response(content, f"danh-muc-ho-so-{item.year}", fmt)


@login_required
@require_POST
def open_from_entry(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(CatalogueEntry.objects.filter(catalogue__in=selectors.visible_catalogues(request.user)),
                              pk=pk)
    try:
        work_file = services.open_from_catalogue(request.user, entry)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("records:catalogue", entry.catalogue_id)
    messages.success(request, _("The file %(number)s is open: add its documents.") % {"number": work_file.file_notation})
    return redirect("records:file", work_file.pk)


# --- work files ----------------------------------------------------------------------------------------------


@login_required
def files(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ArchiveFilterForm(request.GET or None, agency_id=user.agency_id, with_state=True)
    rows = form.apply(selectors.visible_work_files(user).select_related("unit", "creator"))
    return render(request, "records/files.html", {"files": rows.order_by("-year", "file_notation")[:500],
                                                  "form": form})


@login_required
def open_file(request: HttpRequest) -> HttpResponse:
    form = AdHocFileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        work_file = _attempt(request, lambda: services.open_ad_hoc(request.user, services.WorkFileInput(
            title=data["title"], file_notation=data["file_notation"], start_date=data["start_date"],
            retention=data["retention"], retention_years=data["retention_years"], permanent=data["permanent"],
            rights=data["rights"], description=data["description"],
            capital_construction=data["capital_construction"],
        )), _("The file is open: add its documents."))
        if work_file is not None:
            return redirect("records:file", work_file.pk)
    return render(request, "records/open_file.html", {"form": form})


def _visible_file(request: HttpRequest, pk: int) -> WorkFile:
    return get_object_or_404(
        selectors.visible_work_files(request.user).select_related("agency", "unit", "creator", "catalogue_entry"),
        pk=pk,
    )


@login_required
def file_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    work_file = _visible_file(request, pk)
    items, hidden = selectors.file_documents(user, work_file)
    documents = [item.document for item in items]
    files_by_doc: dict[int, list] = {}
    stamps = {stamp.document_file_id: stamp for stamp in ArchivalTimestamp.objects.filter(
        document_file__document__in=documents)}
    for document in Document.objects.filter(pk__in=[d.pk for d in documents]).prefetch_related(
            "files__blob__verification", "files__blob__fixity"):
        for doc_file in document.files.all():
            doc_file.archival = stamps.get(doc_file.pk)
        files_by_doc[document.pk] = list(document.files.all())
    for item in items:
        item.stored_files = files_by_doc.get(item.document_id, [])
    editable = selectors.may_edit_file(user, work_file)
    hold_backs = list(work_file.hold_backs.select_related("requested_by", "decided_by"))
    pending_hold = next((hold for hold in hold_backs if hold.state == DecisionState.REQUESTED), None)
    return render(request, "records/file.html", {
        "file": work_file, "items": items, "hidden": hidden, "editable": editable,
        "change_form": FileChangeForm(initial={
            "title": work_file.title, "retention_years": work_file.retention_years, "rights": work_file.rights,
            "description": work_file.description, "capital_construction": work_file.capital_construction,
            "settlement_date": work_file.settlement_date,
        }) if editable else None,
        "blockers": services.closing_blockers(work_file) if editable else [],
        "may_transfer": selectors.may_transfer_file(user, work_file),
        "hold_form": HoldBackForm(),
        "reopen_form": ReasonForm(),
        "manager": selectors.manages_records(user, work_file.agency_id),
        "hold_backs": hold_backs, "pending_hold": pending_hold,
        "decide_form": DecisionForm() if pending_hold and selectors.leads_agency(user, work_file.agency_id) else None,
        "due": selectors.effective_due(work_file),
        "exports": [(job, _package_name(job)) for job in
                    BagExport.objects.filter(work_file=work_file, requested_by=user).select_related("work_file")[:5]],
        "transfers": work_file.transfers.all(),
        "dispositions": work_file.disposition_items.select_related("disposition"),
        "candidates": _document_candidates(user, work_file) if editable else [],
    })


def _document_candidates(user, work_file: WorkFile, limit: int = 30) -> list[Document]:
    """Recent documents of the agency this person may see and the file does not hold yet: the quick picks."""
    query = visible_documents(user).filter(agency_id=work_file.agency_id).exclude(
        work_file_items__work_file=work_file).select_related("document_type")
    return list(query.order_by("-issued_date", "-id")[:limit])


@login_required
@require_POST
def file_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = request.user
    work_file = _visible_file(request, pk)
    back = redirect("records:file", pk)
    if action == "add":
        document = _visible_document(request, request.POST.get("document"))
        _attempt(request, lambda: services.add_document(user, work_file, document),
                 _("%(number)s added to the file.") % {"number": document.number_notation})
    elif action == "add-number":
        number = (request.POST.get("number") or "").strip()
        matches = list(visible_documents(user).filter(agency_id=work_file.agency_id)
                       .filter(code_number=number.split("/")[0],
                               code_notation=number.split("/", 1)[1] if "/" in number else "")[:2])
        if len(matches) != 1:
            messages.error(request, _("No single document you may see has the number %(number)s.") % {"number": number})
        else:
            _attempt(request, lambda: services.add_document(user, work_file, matches[0]),
                     _("%(number)s added to the file.") % {"number": matches[0].number_notation})
    elif action == "remove":
        document = get_object_or_404(Document, pk=_id(request.POST.get("document")))
        _attempt(request, lambda: services.remove_document(user, work_file, document),
                 _("%(number)s removed from the file.") % {"number": document.number_notation})
    elif action == "change":
        form = FileChangeForm(request.POST)
        if form.is_valid():
            _attempt(request, lambda: services.change_work_file(user, work_file, form.cleaned_data), _("Saved."))
        else:
            messages.error(request, _("Check the fields: %(errors)s") % {"errors": form.errors.as_text()})
    elif action == "close":
        _attempt(request, lambda: services.close_work_file(user, work_file),
                 _("The file is closed: its list of documents is locked."))
    elif action == "hold":
        form = HoldBackForm(request.POST)
        if form.is_valid():
            _attempt(request, lambda: services.request_hold_back(user, work_file, **form.cleaned_data),
                     _("The request was sent to the head of the agency."))
        else:
            messages.error(request, _("Check the fields: %(errors)s") % {"errors": form.errors.as_text()})
    elif action == "decide-hold":
        hold = get_object_or_404(HoldBack, pk=_id(request.POST.get("hold")), work_file=work_file)
        form = DecisionForm(request.POST)
        if form.is_valid():
            _attempt(request, lambda: services.decide_hold_back(user, hold, approve=form.cleaned_data["approve"],
                                                                note=form.cleaned_data["note"]),
                     _("The decision is recorded."))
    elif action == "transfer":
        if _attempt(request, lambda: services.submit_transfer(user, [work_file]),
                    _("The file was submitted to the agency archive.")):
            return redirect("records:transfers")
    elif action == "reopen":
        form = ReasonForm(request.POST)
        if form.is_valid():
            _attempt(request, lambda: services.reopen_work_file(user, work_file, reason=form.cleaned_data["reason"]),
                     _("The file is open again: correct it and close it."))
        else:
            messages.error(request, _("Say why the file is opened again."))
    elif action == "timestamps":
        _attempt(request, lambda: services.request_archival_timestamps(user, work_file),
                 _("The archival timestamps are being added; reload the page in a moment."))
    elif action == "export":
        _attempt(request, lambda: services.request_export(user, work_file),
                 _("The package is being built; it appears below when ready."))
    else:
        raise Http404
    return back


def _visible_document(request: HttpRequest, document_id) -> Document:
    return get_object_or_404(visible_documents(request.user), pk=_id(document_id))


@login_required
def document_index(request: HttpRequest, pk: int) -> HttpResponse:
    work_file = _visible_file(request, pk)
    content = printouts.document_index_pdf(work_file)
    services.record_printed(request.user, work_file, work_file.agency_id, what="document_index", fmt="pdf")
    return _file_response(content, f"muc-luc-van-ban-{work_file.year}-{work_file.file_notation}", "pdf")


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(BagExport.objects.select_related("work_file"), pk=pk, requested_by=request.user)
    if job.state != JobState.DONE or not job.file:
        raise Http404
    services.record_export_downloaded(request.user, job)
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=_package_name(job),
                        content_type="application/zip")


@login_required
def export_state(request: HttpRequest, pk: int) -> HttpResponse:
    """The state of one of the person's packages, polled by static/js/jobs.js on the file's page."""
    job = get_object_or_404(BagExport.objects.select_related("work_file"), pk=pk, requested_by=request.user)
    done = job.state == JobState.DONE
    return JsonResponse({"state": job.state, "state_label": job.get_state_display(), "error": job.error,
                         "progress": 100 if done else 0, "file_name": _package_name(job),
                         "download": reverse("records:export_download", args=[pk]) if done else ""},
                        headers={"Cache-Control": "no-store"})


# --- a document's page: "add to work file" -------------------------------------------------------------------


def document_section(request: HttpRequest, document: Document) -> str | None:
    """On a handled incoming or an issued outgoing document: the files holding it and "add to work file"."""
    user = request.user
    holding = list(selectors.files_holding(user, document))
    handled = True
    if document.direction == Direction.INCOMING:
        case = getattr(document, "incoming_case", None)
        handled = case is None or case.state in (CaseState.COMPLETED, CaseState.RETURNED)
    choices = list(selectors.open_files_for_document(user, document)[:50]) if handled else []
    if not holding and not choices:
        return None
    return render_to_string("records/_document_section.html", {
        "document": document, "holding": holding, "choices": choices, "handled": handled,
    }, request=request)


@login_required
@require_POST
def add_from_document(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _visible_document(request, document_id)
    work_file = get_object_or_404(selectors.visible_work_files(request.user), pk=_id(request.POST.get("file")))
    _attempt(request, lambda: services.add_document(request.user, work_file, document),
             _("Added to the work file %(number)s.") % {"number": work_file.file_notation})
    return redirect("documents:detail", document.pk)


# --- transfer to the archive ---------------------------------------------------------------------------------


@login_required
def transfers(request: HttpRequest) -> HttpResponse:
    user = request.user
    whole = selectors.sees_whole_agency(user, user.agency_id)
    if request.method == "POST":
        chosen = list(selectors.visible_work_files(user).filter(pk__in=_ids(request.POST.getlist("files"))))
        transfer = _attempt(request, lambda: services.submit_transfer(user, chosen, note=request.POST.get("note", "")),
                            _("The files were submitted to the agency archive."))
        if transfer is not None:
            return redirect("records:transfer", transfer.pk)
    units = Unit.objects.filter(agency_id=user.agency_id).order_by("name") if whole else Unit.objects.none()
    chosen_unit = next((unit for unit in units if str(unit.pk) == request.GET.get("unit")), None)
    unit_id = (chosen_unit.pk if chosen_unit else None) if whole else user.unit_id
    return render(request, "records/transfers.html", {
        "due": selectors.due_for_transfer(user, unit_id=unit_id),
        "units": units, "chosen_unit": chosen_unit,
        "transfers": selectors.visible_transfers(user).select_related("unit", "submitted_by", "received_by")
        .annotate(n=Count("files"))[:100],
        "today": timezone.localdate(),
    })


@login_required
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    transfer = get_object_or_404(selectors.visible_transfers(user).select_related("unit", "submitted_by"), pk=pk)
    manager = selectors.manages_records(user, transfer.agency_id)
    if request.method == "POST":
        if not manager:
            raise PermissionDenied
        if request.POST.get("action") == "receive":
            form = ReceiveForm(request.POST)
            if form.is_valid():
                _attempt(request, lambda: services.receive_transfer(user, transfer, **form.cleaned_data),
                         _("Received: the files are now archive records."))
            else:
                messages.error(request, _("Check the fields: %(errors)s") % {"errors": form.errors.as_text()})
        elif request.POST.get("action") == "return":
            form = ReasonForm(request.POST)
            if form.is_valid():
                _attempt(request, lambda: services.return_transfer(user, transfer, reason=form.cleaned_data["reason"]),
                         _("The transfer was returned to the unit."))
            else:
                messages.error(request, _("Say what the unit must correct."))
        return redirect("records:transfer", pk)
    return render(request, "records/transfer.html", {
        "transfer": transfer, "files": transfer.files.select_related("unit").order_by("file_notation"),
        "manager": manager, "return_form": ReasonForm(), "receive_form": ReceiveForm(),
    })


@login_required
def transfer_print(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    transfer = get_object_or_404(selectors.visible_transfers(request.user), pk=pk)
    if what == "list":
        content, name = printouts.transfer_list_pdf(transfer), f"muc-luc-ho-so-nop-luu-{pk}"
    elif what == "handover":
        if transfer.state != TransferState.RECEIVED:
            raise Http404
        content, name = printouts.handover_record_pdf(transfer), f"bien-ban-giao-nhan-{pk}"
    else:
        raise Http404
    services.record_printed(request.user, transfer, transfer.agency_id, what=what, fmt="pdf")
    return _file_response(content, name, "pdf")


# --- the archive ---------------------------------------------------------------------------------------------


@login_required
def archive(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ArchiveFilterForm(request.GET or None, agency_id=user.agency_id)
    rows = form.apply(selectors.archive(user).select_related("unit")).order_by("-year", "file_notation")
    fmt = request.GET.get("print")
    if fmt in ("pdf", "xlsx"):
        title = _("Archive records")
        content = (printouts.archive_list_pdf(rows, title) if fmt == "pdf" else printouts.archive_list_xlsx(rows, title))
        services.record_printed(user, user.agency, user.agency_id, what="archive_list", fmt=fmt)
        return _file_response(content, "ho-so-luu-tru", fmt)
    query = request.GET.copy()
    query.pop("print", None)
    return render(request, "records/archive.html", {"files": rows[:500], "form": form, "total": rows.count(),
                                                    "query": query.urlencode()})


# --- disposition ---------------------------------------------------------------------------------------------


@login_required
def dispositions(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not selectors.sees_whole_agency(user, user.agency_id):
        raise PermissionDenied
    manager = selectors.manages_records(user, user.agency_id)
    if request.method == "POST":
        if not manager:
            raise PermissionDenied
        chosen = list(WorkFile.objects.filter(agency_id=user.agency_id, pk__in=_ids(request.POST.getlist("files"))))
        disposition = _attempt(request, lambda: services.propose_disposition(user, chosen,
                                                                             note=request.POST.get("note", "")),
                               _("The proposal was sent to the head of the agency."))
        if disposition is not None:
            return redirect("records:disposition", disposition.pk)
    return render(request, "records/dispositions.html", {
        "candidates": selectors.expired_files(user) if manager else [],
        "dispositions": selectors.visible_dispositions(user).select_related("proposed_by", "decided_by")
        .annotate(n=Count("items")),
        "manager": manager,
    })


@login_required
def disposition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    disposition = get_object_or_404(selectors.visible_dispositions(user), pk=pk)
    leader = selectors.leads_agency(user, disposition.agency_id)
    manager = selectors.manages_records(user, disposition.agency_id)
    items = list(disposition.items.select_related("work_file__unit"))
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "decide":
            if not leader:
                raise PermissionDenied
            decisions = []
            for item in items:
                keep = request.POST.get(f"decision-{item.pk}") == "keep"
                raw_until = request.POST.get(f"until-{item.pk}", "").strip()
                try:
                    until = _parse_day(raw_until) if raw_until else None
                except ValueError:
                    messages.error(request, _("Write the day as dd/mm/yyyy."))
                    return redirect("records:disposition", pk)
                decisions.append(services.ItemDecisionInput(item.pk, destroy=not keep, keep_until=until,
                                                            reason=request.POST.get(f"reason-{item.pk}", "")))
            _attempt(request, lambda: services.decide_disposition(user, disposition, decisions),
                     _("The decision is recorded."))
        elif action == "execute":
            if not manager:
                raise PermissionDenied
            _attempt(request, lambda: services.execute_disposition(user, disposition),
                     _("The approved files were destroyed; the record of it is kept."))
        return redirect("records:disposition", pk)
    return render(request, "records/disposition.html", {
        "disposition": disposition, "items": items, "leader": leader, "manager": manager,
        "destroy": ItemDecision.DESTROY, "proposed": disposition.state == DispositionState.PROPOSED,
        "decided": disposition.state == DispositionState.DECIDED,
    })


def _parse_day(text: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return timezone.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


# --- retention table, imports ----------------------------------------------------------------------------


@login_required
def retention(request: HttpRequest) -> HttpResponse:
    user = request.user
    may_edit = user.is_superuser or user.has_perm("records.change_retentionperiod")
    edit_pk = request.GET.get("edit") or request.POST.get("pk")
    instance = get_object_or_404(RetentionPeriod, pk=_id(edit_pk)) if edit_pk else None
    form = RetentionForm(request.POST or None, instance=instance) if may_edit else None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            period = form.save(commit=False)
            if _attempt(request, lambda: services.save_retention_period(user, period, list(form.changed_data)),
                        _("Saved.")):
                return redirect("records:retention")
    used = CatalogueEntry.objects.filter(retention=OuterRef("pk"))
    return render(request, "records/retention.html", {
        "periods": RetentionPeriod.objects.annotate(used=Exists(used)), "form": form, "editing": instance,
        "may_edit": may_edit,
    })


@login_required
def imports(request: HttpRequest) -> HttpResponse:
    _manager_or_404(request)
    user = request.user
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        package = form.cleaned_data["package"]
        if _attempt(request, lambda: services.request_import(user, package, original_name=package.name),
                    _("The package is being checked and imported; its result appears below.")):
            return redirect("records:imports")
    return render(request, "records/imports.html", {
        "form": form, "jobs": BagImport.objects.filter(agency_id=user.agency_id).select_related("work_file")[:50],
    })

