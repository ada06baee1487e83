"""Web pages of the registry: thin views over selectors (reads) and services (changes)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods

from . import page_images, services
from .downloads import file_response
from .forms import DocumentFilterForm, GrantForm, IncomingForm, OutgoingForm
from .models import Confidentiality, Document
from .page_sections import render_sections
from .selectors import document_list as select_documents
from .selectors import document_timeline, file_openings, may_see_file_openings, visible_documents
from .storage import IntegrityFailure
from .uploads import UploadRejected

PAGE_SIZE = 50


@login_required
def document_list(request):
    form = DocumentFilterForm(request.GET or None, user=request.user)
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "direction": data["direction"] or None,
            "document_type_id": data["document_type"].pk if data["document_type"] else None,
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "urgency": data["urgency"],
            "confidentiality": data["confidentiality"],
            "register_id": data["register"].pk if data.get("register") else None,
            "text": data["q"],
        }
    documents = select_documents(request.user, **filters)
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "documents/list.html", {"form": form, "page": page, "query": query.urlencode()})


def _visible_document_or_404(user, pk: int) -> Document:
    # 404, not 403: a person outside the document's audience must not learn that it exists.
    return get_object_or_404(
        visible_documents(user).select_related("document_type", "agency", "register", "drafting_unit", "created_by"),
        pk=pk,
    )


@login_required
def document_detail(request, pk: int):
    document = _visible_document_or_404(request.user, pk)
    can_share = services.can_manage_access(request.user, document)
    grant_form = GrantForm()
    grant_confirmation = None
    if request.method == "POST" and can_share:
        grant_form = GrantForm(request.POST)
        if grant_form.is_valid():
            person = get_user_model().objects.filter(username=grant_form.cleaned_data["username"], is_active=True).first()
            if person is None:
                grant_form.add_error("username", _("No active person has this username."))
            else:
                try:
                    services.grant_document_access(request.user, document, user=person,
                                                   confirm=grant_form.cleaned_data["confirm"])
                except services.GrantNeedsConfirmation as needed:
                    # A secret document: show who will see it and ask again; nothing is shared yet.
                    grant_confirmation = {"message": needed.message_text, "username": person.username,
                                          "other_agency": needed.other_agency}
                except ValidationError as refused:
                    grant_form.add_error(None, refused.messages)
                else:
                    messages.success(request, _("%(person)s can now see this document.") % {"person": person})
                    return redirect("documents:detail", pk=document.pk)
    if request.method == "GET":
        services.record_opening(request.user, document)
    history = document_timeline(document)
    grantees = []
    if can_share:
        # People by name and position (the username is for logging in, not for reading).
        grantees = [row.user.name_and_position for row in document.documentuserobjectpermission_set.select_related("user")]
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "files": document.files.select_related("blob").all(),
            "recipients": document.recipients.all(),
            "history": history,
            "can_share": can_share,
            "grant_form": grant_form,
            "grant_confirmation": grant_confirmation,
            "grantees": grantees,
            "is_secret": document.confidentiality != Confidentiality.NORMAL,
            # Who opened its files (confidential documents): to its agency's clerks and leaders only.
            "file_openings": (file_openings(document)
                              if document.confidentiality != Confidentiality.NORMAL
                              and may_see_file_openings(request.user, document) else None),
            # What the apps above documents show about it (exchange: its deliveries, where it came from).
            "page_sections": render_sections(request, document),
        },
        status=400 if request.method == "POST" and can_share else 200,  # a POST that shared redirected
    )


def _serve_file(request, pk: int, file_id: int, *, inline: bool):
    document = _visible_document_or_404(request.user, pk)
    doc_file = get_object_or_404(document.files.select_related("blob"), pk=file_id)
    try:
        return file_response(request.user, document, doc_file, via="preview" if inline else "download", inline=inline)
    except (IntegrityFailure, OSError):
        destroyed = doc_file.blob.destroyed_at is not None
        return render(request, "documents/file_damaged.html",
                      {"document": document, "file": doc_file, "destroyed": destroyed}, status=410 if destroyed else 409)


@login_required
def file_download(request, pk: int, file_id: int):
    return _serve_file(request, pk, file_id, inline=False)


@login_required
@xframe_options_sameorigin
def file_preview(request, pk: int, file_id: int):
    document = _visible_document_or_404(request.user, pk)
    doc_file = get_object_or_404(document.files.select_related("blob"), pk=file_id)
    if not doc_file.blob.content_type.startswith(("application/pdf", "image/")):
        raise Http404
    response = _serve_file(request, pk, file_id, inline=True)
    # The browser's own PDF viewer needs to run inside our frame.
    response["Content-Security-Policy"] = "default-src 'self'; object-src 'self'; frame-ancestors 'self'"
    return response


@login_required
def file_page(request, pk: int, file_id: int, page: int):
    """Page `page` of a document's PDF as an image (documents/page_images.py), seen by whoever sees the file.
    Opening a confidential document's pages is recorded like a preview, once per viewing (on page 1)."""
    document = _visible_document_or_404(request.user, pk)
    doc_file = get_object_or_404(document.files.select_related("blob"), pk=file_id)
    if not doc_file.is_pdf:
        raise Http404
    width = page_images.requested_width(request)
    if page == 1 and width == page_images.NORMAL_WIDTH:
        services.record_file_opened(request.user, document, doc_file, via="preview")
    return page_images.page_image_response(doc_file.blob, page, width)


def _handle_registration(request, form_class, template: str, permission: str, build_input, register):
    if not request.user.has_perm(permission):
        raise PermissionDenied(_("You are not allowed to register documents."))
    if not request.user.agency_id:
        raise PermissionDenied(_("Your account is not attached to an agency."))
    duplicates = []
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                document = register(
                    request.user, build_input(form), form.cleaned_data["files"],
                    confirm_duplicate=form.cleaned_data["confirm_duplicate"],
                )
            except services.DuplicateDocument as exc:
                # Show only what this person may see; a secret duplicate is reported without its details.
                visible = set(visible_documents(request.user).filter(pk__in=[d.pk for d in exc.duplicates])
                              .values_list("pk", flat=True))
                duplicates = [d if d.pk in visible else None for d in exc.duplicates]
                form.add_error(None, str(exc))
            except UploadRejected as exc:
                form.add_error("files", _("%(file)s was refused: %(reason)s") % {"file": exc.file_name, "reason": exc.reason})
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request, _("Registered %(number)s in the outgoing register.")
                    % {"number": document.number_notation}
                    if not document.is_incoming
                    else _("Registered with arrival number %(number)s: it waits in your list to be entered for "
                           "handling and presented to a leader.") % {"number": document.arrival_number},
                )
                return redirect("documents:detail", pk=document.pk)
        if request.FILES and form.errors:
            messages.warning(request, _("Nothing was saved. Please attach the files again."))
    else:
        form = form_class(user=request.user)
    return render(request, template, {"form": form, "duplicates": duplicates}, status=400 if request.method == "POST" else 200)


def _outgoing_input(form: OutgoingForm) -> services.OutgoingInput:
    data = form.cleaned_data
    recipients = [services.RecipientInput(agency_id=a.pk) for a in data["recipient_agencies"]]
    recipients += [services.RecipientInput(unit_id=u.pk) for u in data.get("recipient_units") or ()]
    recipients += [services.RecipientInput(name=name) for name in form.recipient_names()]
    return services.OutgoingInput(
        document_type_id=data["document_type"].pk,
        subject=data["subject"],
        signer_name=data["signer_name"],
        signer_position=data["signer_position"],
        authority_prefix=data["authority_prefix"] or "",
        urgency=data["urgency"],
        confidentiality=data["confidentiality"],
        drafting_unit_id=data["drafting_unit"].pk if data["drafting_unit"] else None,
        recipients=recipients,
        page_amount=data["page_amount"],
        issued_amount=data["issued_amount"],
        due_date=data["due_date"],
        description=data["description"],
        register_id=data["register"].pk if data["register"] else None,
        internal=data["internal"],
    )


def incoming_input(form: IncomingForm) -> services.IncomingInput:
    """The service input of a valid incoming form (also used by workflows' register-and-present page)."""
    data = form.cleaned_data
    return services.IncomingInput(
        document_type_id=data["document_type"].pk,
        subject=data["subject"],
        organ_name=data["organ_name"],
        organ_id=data["organ_id"],
        code_number=data["code_number"],
        code_notation=data["code_notation"],
        issued_date=data["issued_date"],
        identifier=data["identifier"],
        arrival_date=data["arrival_date"],
        signer_name=data["signer_name"],
        signer_position=data["signer_position"],
        urgency=data["urgency"],
        confidentiality=data["confidentiality"],
        to_places=data["to_places"],
        page_amount=data["page_amount"],
        due_date=data["due_date"],
        description=data["description"],
        register_id=data["register"].pk if data["register"] else None,
    )


@login_required
@require_http_methods(["GET", "POST"])
def register_outgoing(request):
    return _handle_registration(
        request, OutgoingForm, "documents/register_outgoing.html", "documents.register_outgoing",
        _outgoing_input, services.register_outgoing,
    )


@login_required
@require_http_methods(["GET", "POST"])
def register_incoming(request):
    return _handle_registration(
        request, IncomingForm, "documents/register_incoming.html", "documents.register_incoming",
        incoming_input, services.register_incoming,
    )


def _year_of(value: str) -> int | None:
    try:
        return date.fromisoformat(value.strip()).year
    except ValueError:
        return None


@login_required
def check_duplicates(request):
    """JSON used by the incoming form to warn of a duplicate while the clerk types."""
    from django.http import JsonResponse

    from .selectors import find_duplicates

    if not request.user.has_perm("documents.register_incoming") or not request.user.agency_id:
        return JsonResponse({"duplicates": []}, status=403)
    found = visible_documents(request.user).filter(
        pk__in=find_duplicates(
            agency_id=request.user.agency_id,
            identifier=request.GET.get("identifier", "").strip(),
            code_number=request.GET.get("code_number", "").strip(),
            code_notation=request.GET.get("code_notation", "").strip(),
            organ_name=request.GET.get("organ_name", "").strip(),
            issued_year=_year_of(request.GET.get("issued_date", "")),
        ).values("pk")
    )[:5]
    return JsonResponse(
        {"duplicates": [{"id": d.pk, "label": str(d), "url": f"/documents/{d.pk}/"} for d in found]}
    )

