"""Web pages of outgoing drafts: the list with what waits for me, a new-draft form, and the draft page with
its versions, chain, history and the actions open to the viewer. Thin: reads from drafting_selectors,
every change from drafting_services."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.models import Agency, Unit
from documents import page_images
from documents.forms import MultipleFileField
from documents.models import Confidentiality, DocumentType, Urgency
from documents.storage import IntegrityFailure, open_verified
from eoffice.http import posted_int, posted_person_or_404
from signatures import services as signing_services
from signatures.models import CredentialKind, SigningKind, SigningState
from signatures.selectors import visible_signing_requests

from . import draft_signing
from . import drafting_selectors as selectors
from . import drafting_services as services
from .drafting import DraftState


class DraftForm(forms.Form):
    document_type = forms.ModelChoiceField(label=gettext_lazy("Document type"), queryset=DocumentType.objects.all())
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=500)
    urgency = forms.TypedChoiceField(label=gettext_lazy("Urgency"), choices=Urgency.choices, coerce=int,
                                     initial=Urgency.NORMAL)
    confidentiality = forms.TypedChoiceField(label=gettext_lazy("Confidentiality"), choices=Confidentiality.choices,
                                             coerce=int, initial=Confidentiality.NORMAL)
    proposed_signer = forms.ModelChoiceField(label=gettext_lazy("Proposed signer"), required=False,
                                             queryset=get_user_model().objects.none())
    recipient_agencies = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Recipient agencies"), queryset=Agency.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Issued documents are delivered electronically to these agencies."),
    )
    recipient_units = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Recipient units (internal documents)"), queryset=Unit.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    recipients = forms.CharField(label=gettext_lazy("Other recipients (one per line)"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    internal = forms.BooleanField(label=gettext_lazy("Internal document (to units of this agency)"), required=False)
    file = forms.FileField(label=gettext_lazy("Draft file (DOCX or PDF)"))
    attachments = MultipleFileField(label=gettext_lazy("Attachments in separate files"), required=False)

    def __init__(self, *args, agency_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposed_signer"].queryset = get_user_model().objects.filter(
            agency_id=agency_id, is_active=True, groups__name=roles.AGENCY_LEADER
        )
        self.fields["recipient_agencies"].queryset = Agency.objects.filter(is_active=True).exclude(pk=agency_id)
        self.fields["recipient_units"].queryset = Unit.objects.filter(agency_id=agency_id, is_active=True)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("recipient_units") and not cleaned.get("internal"):
            self.add_error("recipient_units", gettext_lazy("Units of the agency receive internal documents only."))
        return cleaned

    def draft_input(self) -> services.DraftInput:
        data = self.cleaned_data
        return services.DraftInput(
            document_type_id=data["document_type"].pk, subject=data["subject"], urgency=data["urgency"],
            confidentiality=data["confidentiality"],
            proposed_signer_id=data["proposed_signer"].pk if data["proposed_signer"] else None,
            recipients=[{"agency_id": a.pk, "name": a.name} for a in data["recipient_agencies"]]
            + [{"unit_id": u.pk, "name": u.name} for u in data["recipient_units"]]
            + [{"name": line.strip()} for line in data["recipients"].splitlines() if line.strip()],
            internal=data["internal"],
        )


DRAFT_WORK_LABELS = {
    selectors.TO_SIGN: gettext_lazy("To sign"),
    selectors.TO_APPROVE: gettext_lazy("To approve"),
    selectors.TO_REVIEW: gettext_lazy("To review"),
    selectors.TO_CHECK: gettext_lazy("To check the format"),
    selectors.TO_ISSUE: gettext_lazy("To issue"),
    selectors.RETURNED: gettext_lazy("Returned to me"),
}


def drafting_sections(user) -> list[tuple[str, str, int, list]]:
    """(kind, label, count, drafts) for each kind of drafting work waiting for `user`."""
    work = selectors.my_drafting_work(user)
    return [(kind, DRAFT_WORK_LABELS[kind], work.counts[kind], work.items[kind]) for kind in selectors.KINDS
            if work.counts.get(kind)]


@login_required
def draft_list(request: HttpRequest) -> HttpResponse:
    sections = drafting_sections(request.user)
    drafts = selectors.drafts_for(request.user).order_by("-urgency", "-updated_at", "-id")[:100]
    return render(request, "workflows/draft_list.html", {"sections": sections, "drafts": drafts})


@login_required
def draft_new(request: HttpRequest) -> HttpResponse:
    if request.user.agency_id is None:
        raise PermissionDenied
    form = DraftForm(request.POST or None, request.FILES or None, agency_id=request.user.agency_id)
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.create_draft(request.user, form.draft_input(), form.cleaned_data["file"],
                                          form.cleaned_data["attachments"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The draft was created."))
            return redirect("workflows:draft", pk=draft.pk)
    return render(request, "workflows/draft_new.html", {"form": form})


def _draft_or_404(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.drafts_for(request.user), pk=pk)


@login_required
def draft_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draft = _draft_or_404(request, pk)
    user = request.user
    authority = services.step_authority(user, draft)
    holding = authority is not None and draft.state in (DraftState.IN_REVIEW, DraftState.READY_TO_SIGN)
    steps = list(draft.chain.steps.select_related("user").order_by("order")) if draft.chain_id else []
    current_order = draft.current_step.order if draft.current_step_id else None
    forward_to = []
    if holding and draft.current_step_id:
        people = get_user_model().objects.filter(
            agency_id=draft.agency_id, is_active=True, groups__name=draft.current_step.role
        ).exclude(pk=user.pk)
        if draft.current_step.role == roles.UNIT_LEADER:
            people = people.filter(unit_id=draft.drafting_unit_id)
        forward_to = list(people) if draft.current_step.role else []
    is_signer = holding and draft.state == DraftState.READY_TO_SIGN
    context = {
        "draft": draft,
        "is_signer": is_signer,
        "versions": draft.versions.select_related("uploaded_by", "blob"),
        "attachments": draft.attachments.select_related("uploaded_by", "blob"),
        "steps": steps,
        "earlier_steps": [s for s in steps if current_order is not None and s.order < current_order],
        "history": selectors.draft_history(draft),
        "authority": authority,
        # The signer signs or returns what was approved: a new version or attachment is the reviewers' work.
        "can_upload": (draft.state == DraftState.DRAFTING and user.pk == draft.drafter_id)
        or (holding and not is_signer),
        "can_submit": draft.state == DraftState.DRAFTING and user.pk == draft.drafter_id,
        "can_approve": holding and draft.state == DraftState.IN_REVIEW,
        "can_return": holding,
        "forward_to": forward_to,
        "can_sign": is_signer,
        "issue": _issue_choices(user, draft),
    }
    return render(request, "workflows/draft_detail.html", context)


def _issue_choices(user, draft) -> dict | None:
    """What the clerk's one issuing form offers: digital (number, seal and register in one go) when the
    signer signed digitally, and paper (the scanned signed original) as the explicit other choice. None when
    this person does not issue this draft now."""
    if user.agency_id != draft.agency_id or not user.has_perm("documents.register_outgoing"):
        return None
    requests = list(draft_signing.signing_requests_of(draft))
    sealing = [r for r in requests if r.kind == SigningKind.SEAL and r.state != SigningState.FAILED]
    if sealing or draft.state not in (DraftState.SIGNED, DraftState.READY_TO_SIGN):
        return None
    signed_digitally = draft.state == DraftState.SIGNED and any(
        r.kind == SigningKind.PERSONAL and r.state == SigningState.DONE for r in requests)
    if draft.state == DraftState.READY_TO_SIGN and draft.current_holder_id is None:
        return None
    return {
        "digital": signed_digitally,
        "seal_certificate": signing_services.usable_credential(CredentialKind.SEAL, agency_id=draft.agency_id)
        if signed_digitally else None,
        "waiting_for_signature": draft.state == DraftState.READY_TO_SIGN,
        "signer": draft.current_holder if draft.state == DraftState.READY_TO_SIGN else draft.signed_by,
    }


@login_required
def draft_version_file(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    draft = _draft_or_404(request, pk)
    version = draft.versions.select_related("blob").filter(number=number).first()
    if version is None:
        raise Http404
    return _serve(request, draft, version.blob, version.file_name)


@login_required
def draft_version_page(request: HttpRequest, pk: int, number: int, page: int) -> HttpResponse:
    """Page `page` of a version as an image (documents/page_images.py), for whoever may see the draft."""
    draft = _draft_or_404(request, pk)
    version = draft.versions.select_related("blob").filter(number=number).first()
    if version is None or version.blob.content_type != "application/pdf":
        raise Http404
    return page_images.page_image_response(version.blob, page, page_images.requested_width(request))


@login_required
def draft_attachment_file(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    draft = _draft_or_404(request, pk)
    attachment = get_object_or_404(draft.attachments.select_related("blob"), pk=attachment_id)
    return _serve(request, draft, attachment.blob, attachment.file_name)


def _serve(request: HttpRequest, draft, blob, name: str) -> HttpResponse:
    """The stored bytes, checked against their hash; a damaged copy is reported, not served (no 500)."""
    try:
        handle = open_verified(blob)
    except (IntegrityFailure, OSError):
        messages.error(request, _("The stored copy of \"%(name)s\" is damaged and is not served. Please tell the "
                                  "administrator.") % {"name": name})
        return redirect("workflows:draft", pk=draft.pk)
    return FileResponse(handle, as_attachment=True, filename=name, content_type=blob.content_type)


@login_required
@require_POST
def draft_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    draft = _draft_or_404(request, pk)
    user, post, expected = request.user, request.POST, posted_int(request, "version")
    comment = post.get("comment", "")
    calls = {
        "upload": lambda: services.upload_version(user, draft, request.FILES.get("file") or _missing_file(),
                                                  note=comment, expected_version=expected),
        "attach": lambda: services.add_attachments(user, draft, request.FILES.getlist("attachments")
                                                   or [_missing_file()], expected_version=expected),
        "submit": lambda: services.submit(user, draft, expected_version=expected),
        "approve": lambda: services.approve_step(user, draft, comment=comment, expected_version=expected),
        "return": lambda: services.return_draft(
            user, draft, comment=comment, expected_version=expected,
            to_step_id=posted_int(request, "to_step"),
        ),
        "forward": lambda: services.forward(
            user, draft, posted_person_or_404(request, "to_user", agency_id=draft.agency_id),
            comment=comment, expected_version=expected,
        ),
        "sign-paper": lambda: services.mark_signed_on_paper(user, draft, expected_version=expected),
        "issue": lambda: services.issue_draft(user, draft, request.FILES.get("file") or _missing_file(),
                                              expected_version=expected),
    }
    if step not in calls:
        raise Http404
    try:
        result = calls[step]()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _step_message(step, result))
    return redirect("workflows:draft", pk=draft.pk)


def _who(person) -> str:
    return person.name_and_position if person is not None else ""


def _holder_message(draft) -> str:
    """Where the draft is now, in the words of the desk: "Sent to Xa Van Thanh (Director) to sign"."""
    if draft.current_holder_id:
        person = _who(draft.current_holder)
        if draft.state == DraftState.READY_TO_SIGN:
            return _("Sent to %(person)s to sign.") % {"person": person}
        return _("Sent to %(person)s for review.") % {"person": person}
    step = draft.current_step
    if step is not None:
        return _("Sent on to the step \"%(step)s\" (%(role)s).") % {
            "role": step.get_role_display(), "step": step.get_action_display()}
    return _("Sent on.")


def _step_message(step: str, result) -> str:
    """What happened and who has the draft now, for the flash message after a step."""
    if step == "upload":
        return _("Version %(number)s was uploaded.") % {"number": result.number}
    if step == "attach":
        return _("Attachments added: %(count)s.") % {"count": len(result)}
    if step in ("submit", "approve"):
        return _holder_message(result)
    if step == "return":
        if result.state == DraftState.DRAFTING:
            return _("Returned to %(person)s with your comment.") % {"person": _who(result.drafter)}
        return _("Returned with your comment. %(where)s") % {"where": _holder_message(result)}
    if step == "forward":
        return _("Forwarded to %(person)s.") % {"person": _who(result.current_holder)}
    if step == "sign-paper":
        return _("Recorded as signed on paper; the clerk issues it now.")
    if step == "issue":
        return _("Issued as number %(number)s.") % {"number": result.number_notation}
    return _("Done.")


def _missing_file():
    raise ValidationError({"file": _("Choose a file.")})


def _signing_act(request: HttpRequest, call, success: str) -> None:
    try:
        call()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not do this."))
    else:
        messages.success(request, success)


@login_required
@require_POST
def draft_sign(request: HttpRequest, pk: int) -> HttpResponse:
    draft = _draft_or_404(request, pk)
    _signing_act(request, lambda: draft_signing.request_personal_signature(
        request.user, draft, password=request.POST.get("password", ""), otp_code=request.POST.get("otp", "")),
        _("Signing... your signature is being applied; this page shows when it is done."))
    return redirect("workflows:draft", pk=draft.pk)


@login_required
@require_POST
def draft_seal(request: HttpRequest, pk: int) -> HttpResponse:
    draft = _draft_or_404(request, pk)
    _signing_act(request, lambda: draft_signing.request_seal(request.user, draft,
                                                             password=request.POST.get("password", ""),
                                                             otp_code=request.POST.get("otp", "")),
                 _("The document is registered; number, date and the agency seal are being applied."))
    return redirect("workflows:draft", pk=draft.pk)


@login_required
@require_POST
def draft_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """The clerk's one issuing action: digital by default (the register's number, the agency seal and the
    registration in one go, draft_signing.request_seal), or, chosen explicitly, the scanned paper original
    signed by the signer (drafting_services.issue_on_paper)."""
    draft = _draft_or_404(request, pk)
    method = request.POST.get("method", "digital")
    try:
        if method == "paper":
            document = services.issue_on_paper(request.user, draft, request.FILES.get("file") or _missing_file(),
                                               expected_version=posted_int(request, "version"))
            messages.success(request, _("Issued as number %(number)s.") % {"number": document.number_notation})
        elif method == "digital":
            signing_request = draft_signing.request_seal(request.user, draft,
                                                         password=request.POST.get("password", ""),
                                                         otp_code=request.POST.get("otp", ""))
            messages.success(request, _("Registered as number %(number)s; the number, date and agency seal are "
                                        "being applied.") % {"number": signing_request.document.number_notation})
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not do this."))
    return redirect("workflows:draft", pk=draft.pk)


SIGNING_DONE_TEXT = {
    SigningKind.PERSONAL: gettext_lazy("Signed digitally. The draft now waits for the clerk to issue it."),
    SigningKind.SEAL: gettext_lazy("Issued: the number, date and agency seal are applied."),
}


@login_required
def draft_signing_state(request: HttpRequest, pk: int) -> JsonResponse:
    """The latest signing request of the draft, for the page's "Signing..." box (static/js/draft_signing.js)."""
    draft = _draft_or_404(request, pk)
    latest = draft_signing.signing_requests_of(draft).order_by("-id").first()
    if latest is None:
        data = {"state": "none", "running": False, "message": ""}
    else:
        running = latest.state in (SigningState.QUEUED, SigningState.SIGNING)
        if running:
            message = _("Signing... the signature is being applied; this box updates by itself.")
        elif latest.state == SigningState.DONE:
            message = str(SIGNING_DONE_TEXT[latest.kind])
        else:
            message = _("Signing failed: %(error)s") % {"error": latest.error}
        data = {"id": latest.pk, "state": latest.state, "state_display": latest.get_state_display(),
                "kind": latest.kind, "running": running, "message": message}
    response = JsonResponse(data)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def draft_signing_retry(request: HttpRequest, pk: int) -> HttpResponse:
    signing_request = get_object_or_404(
        visible_signing_requests(request.user).filter(subject_type=draft_signing.SUBJECT_TYPE), pk=pk)
    _signing_act(request, lambda: signing_services.retry(request.user, signing_request,
                                                         password=request.POST.get("password", ""),
                                                         otp_code=request.POST.get("otp", "")),
                 _("Signing was queued again."))
    return redirect("workflows:draft", pk=signing_request.subject_id)
