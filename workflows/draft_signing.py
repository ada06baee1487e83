"""Signing drafts: the services that decide when a draft may be signed and by whom, ask the signatures app
for the signature, and take the outcome back (the draft becomes signed; the sealed document is issued).

The signatures app only signs what it is given ("this PDF blob, this credential, this layout"), for the
opaque subject ("workflows.draft", id); it reports back through the subscriber registered here
(`register()`, called from WorkflowsConfig.ready). Readiness and authority (`step_authority`) stay in the
drafting rules."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents import services as documents_services
from documents.uploads import PDF
from signatures import hooks
from signatures import services as signing
from signatures.models import CredentialKind, SigningKind, SigningRequest, SigningState
from signatures.selectors import requests_for_subject

from . import drafting_services
from .drafting import Draft, DraftState, DraftVersion
from .drafting_selectors import drafts_for

SUBJECT_TYPE = "workflows.draft"


def _key(version: DraftVersion, kind: str) -> str:
    """One signature of each kind per draft version, ever (a redelivered task or a second click signs nothing)."""
    return f"workflows.draftversion:{version.pk}:{kind}"


def _version_of(request: SigningRequest) -> int:
    return int(request.key.split(":")[1])


def _latest_pdf_version(draft: Draft) -> DraftVersion:
    version = draft.versions.select_related("blob").order_by("-number").first()
    if version is None or version.blob.content_type != PDF:
        raise ValidationError({"file": _("Only a PDF can be signed: upload the final draft as a PDF first.")})
    return version


def signing_requests_of(draft: Draft):
    return requests_for_subject(SUBJECT_TYPE, draft.pk)


# --- the signer ---------------------------------------------------------------------------------


def request_personal_signature(actor, draft: Draft, *, password: str, otp_code: str = "") -> SigningRequest:
    """The signer (or their delegate, recording KT./TUQ./TL.) signs the approved draft's latest PDF with
    their own certificate; the number and date stay blank for the clerk. Confirmed with the password and a
    fresh one-time code (signatures.services.confirm_signer)."""
    signing.confirm_signer(actor, password, otp_code)
    return _request_personal(actor, draft)


def _request_personal(actor, draft: Draft) -> SigningRequest:
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft.pk)
        if draft.state != DraftState.READY_TO_SIGN:
            raise ValidationError({"state": _("Only a draft that is ready to sign can be signed.")})
        prefix = drafting_services.step_authority(actor, draft)
        if prefix is None:
            raise PermissionDenied(_("Only the signer of this draft (or their delegate) may sign it."))
        credential = signing.require_valid_now(
            signing.usable_credential(CredentialKind.PERSONAL, user=actor),
            _("You have no signing certificate with a usable key. Import your certificate first."),
        )
        version = _latest_pdf_version(draft)
        request, _queued = signing.request_signature(actor, signing.SignatureSpec(
            kind=SigningKind.PERSONAL, blob=version.blob, credential=credential,
            subject=signing.Subject.of(draft), key=_key(version, SigningKind.PERSONAL), agency=draft.agency,
            signer_name=actor.display_name, authority_prefix=prefix or "",
            on_behalf_of=draft.current_holder if prefix else None,
        ))
    return request


# --- the clerk ----------------------------------------------------------------------------------


def request_seal(actor, draft: Draft, *, password: str, otp_code: str = "",
                 register_id: int | None = None) -> SigningRequest:
    """The clerk issues the digitally signed draft: the number and date come from the register now (the
    document is registered in this transaction), and the signing task fills them into the leader-signed PDF,
    applies the agency seal over the whole file and signs the PDF attachments at the top right."""
    signing.confirm_signer(actor, password, otp_code)
    return _request_seal(actor, draft, register_id=register_id)


def _request_seal(actor, draft: Draft, *, register_id: int | None = None) -> SigningRequest:
    if not actor.has_perm("documents.register_outgoing"):
        raise PermissionDenied(_("Only the agency's clerks may apply the agency seal."))
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft.pk)
        if draft.agency_id != actor.agency_id:
            raise PermissionDenied(_("Only the agency's clerks may apply the agency seal."))
        signed = (signing_requests_of(draft).filter(kind=SigningKind.PERSONAL, state=SigningState.DONE)
                  .order_by("-id").first())
        version = draft.versions.filter(blob_id=signed.result_blob_id).order_by("-number").first() if signed else None
        previous = (SigningRequest.objects.select_for_update().filter(key=_key(version, SigningKind.SEAL)).first()
                    if version else None)
        if previous is not None and previous.state != SigningState.FAILED:
            return previous  # already queued, being sealed, or done
        # A first seal needs the signed draft; a retry finds it issued already (numbered by the failed try).
        if version is None or (previous is None and draft.state != DraftState.SIGNED):
            raise ValidationError({"state": _("Only a draft signed digitally by the leader can be sealed.")})
        credential = signing.require_valid_now(
            signing.usable_credential(CredentialKind.SEAL, agency_id=draft.agency_id),
            _("The agency has no seal certificate with a usable key. Ask the administrator to import it."),
        )
        document = previous.document if previous is not None else drafting_services.issue_draft(
            actor, draft, None, register_id=register_id, sealed_later=True)
        request, _queued = signing.request_signature(actor, signing.SignatureSpec(
            kind=SigningKind.SEAL, blob=version.blob, credential=credential, subject=signing.Subject.of(draft),
            key=_key(version, SigningKind.SEAL), agency=draft.agency, document=document,
            signer_name=draft.signed_by.display_name if draft.signed_by else "",
            number_text=f"{document.code_number}/{document.code_notation}",
            date_text=signing.date_line(draft.agency, document.issued_date or timezone.localdate()),
            attachments=[(a.blob, a.file_name) for a in draft.attachments.select_related("blob")],
        ))
    return request


# --- what the signatures app tells us -----------------------------------------------------------


def _on_signed(request: SigningRequest, result: hooks.SigningResult) -> None:
    actor = request.requested_by
    if request.kind == SigningKind.PERSONAL:
        draft = Draft.objects.select_for_update().get(pk=request.subject_id)
        latest = draft.versions.order_by("-number").values_list("pk", "number", "file_name").first()
        if draft.state != DraftState.READY_TO_SIGN or latest is None or latest[0] != _version_of(request):
            # A new version was uploaded (or the draft moved on) while this one was being signed: the
            # signature is of a text nobody approves any more, so it is not kept.
            raise hooks.SigningRefused(_("The draft changed after the signature was requested; sign the new version."))
        _pk, number, file_name = latest
        drafting_services.store_system_version(draft, actor, result.blob, name=f"ky-so-{file_name}",
                                               note=_("Signed digitally"), number=number + 1)
        drafting_services.mark_signed_locked(draft, actor, method="digital", authority_prefix=request.authority_prefix,
                                             on_behalf_of=request.on_behalf_of)
        return
    document = request.document
    documents_services.attach_stored_blob(
        actor, document, result.blob, f"{document.code_number}-{document.code_notation}.pdf".replace("/", "-"),
        is_main=True)
    for item in result.attachments:
        documents_services.attach_stored_blob(actor, document, item.blob, item.name)
    documents_services.announce_issued(actor, document)


def _retry(actor, request: SigningRequest) -> SigningRequest:
    draft = Draft.objects.get(pk=request.subject_id)
    if request.kind == SigningKind.PERSONAL:
        return _request_personal(actor, draft)
    return _request_seal(actor, draft)


def _visible_drafts(user):
    return drafts_for(user).values("pk")


def register() -> None:
    hooks.subscribe(SUBJECT_TYPE, hooks.SigningSubscriber(
        on_signed=_on_signed, visible_subjects=_visible_drafts, retry=_retry,
    ))
