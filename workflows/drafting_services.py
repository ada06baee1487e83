"""Every transition of an outgoing draft (Decree 30 Art. 10–14): create, upload a version, submit, approve
a step, return with a comment, forward, sign (paper now; the signatures app calls `on_signed`), issue.

Each transition locks the draft row, checks the version the caller saw first (a loser of a race is told
so, whatever the winner changed), then the actor (step-holder, role in scope or a delegation valid
today, whose authority prefix is recorded) and the state, and writes one
audit event targeted at the draft in the same transaction. A refused transition changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import Agency, Unit
from audit.services import record_event
from documents import services as documents_services
from documents.models import Confidentiality, Document, DocumentType, FileBlob, Urgency
from documents.selectors import visible_documents
from documents.storage import store_blob
from documents.uploads import DOCX, PDF, UploadRejected, check_upload
from eoffice import notices
from signatures import services as signing_services

from . import notice_kinds
from .drafting import Draft, DraftAttachment, DraftState, DraftVersion, ReviewChain, ReviewStep, StepAction
from .events import (  # noqa: E402 - the draft verbs live with the app's other audit verbs
    DRAFT_APPROVED,
    DRAFT_ATTACHMENT_ADDED,
    DRAFT_CREATED,
    DRAFT_FORWARDED,
    DRAFT_ISSUED,
    DRAFT_REAPPROVAL,
    DRAFT_RETURNED,
    DRAFT_SIGNED,
    DRAFT_SUBMITTED,
    DRAFT_VERSION_UPLOADED,
)
from .services import StaleTransition, TransitionError, acting_prefix

ISSUE_PERMISSION = "documents.register_outgoing"  # marks the clerks who issue the agency's signed drafts


@dataclass
class DraftInput:
    document_type_id: int
    subject: str
    drafting_unit_id: int | None = None
    urgency: int = Urgency.NORMAL
    confidentiality: int = Confidentiality.NORMAL
    proposed_signer_id: int | None = None
    recipients: list[dict] = field(default_factory=list)
    internal: bool = False
    in_response_to_id: int | None = None


# --- chains -------------------------------------------------------------------------------------


def ensure_default_chain(agency: Agency, *, with_office_chief=None) -> ReviewChain:
    """The agency's default chain (seeded, then edited by an administrator as data): unit leader reviews,
    (office chief approves the content), the clerk checks the format, the agency leader signs."""
    chain = ReviewChain.objects.filter(agency=agency, document_type__isnull=True, is_active=True).first()
    if chain is not None:
        return chain
    chain = ReviewChain.objects.create(agency=agency, name="Default")
    steps = [(StepAction.REVIEW, roles.UNIT_LEADER, None)]
    if with_office_chief is not None:
        steps.append((StepAction.APPROVE, "", with_office_chief))
    steps += [(StepAction.FORMAT_CHECK, roles.CLERK, None), (StepAction.SIGN, roles.AGENCY_LEADER, None)]
    ReviewStep.objects.bulk_create(
        ReviewStep(chain=chain, order=i, action=action, role=role, user=user)
        for i, (action, role, user) in enumerate(steps, start=1)
    )
    return chain


def chain_for(agency_id: int, document_type_id: int) -> ReviewChain | None:
    chains = ReviewChain.objects.filter(agency_id=agency_id, is_active=True)
    return chains.filter(document_type_id=document_type_id).first() or chains.filter(document_type__isnull=True).first()


# --- helpers ------------------------------------------------------------------------------------


def _has_role(user, role: str) -> bool:
    return user.groups.filter(name=role).exists()


def _require_same_agency(actor, agency_id: int) -> None:
    if not actor.is_authenticated or not actor.is_active or actor.agency_id != agency_id:
        raise PermissionDenied(_("This draft belongs to another agency."))


def _lock(draft: Draft) -> Draft:
    return Draft.objects.select_for_update().get(pk=draft.pk)


def _check_version(draft: Draft, expected: int | None) -> None:
    if expected is not None and expected != draft.version:
        raise StaleTransition(
            _("Someone else has acted on this draft in the meantime. Reload the page and try again."), code="stale"
        )


def _check_state(draft: Draft, *allowed: str) -> None:
    if draft.state not in allowed:
        raise TransitionError(
            _('This step is not possible now: the draft is in the state "%(state)s".')
            % {"state": DraftState(draft.state).label}, code="invalid_state",
        )


def _bump(draft: Draft, *fields: str) -> None:
    draft.version += 1
    draft.save(update_fields=["version", "updated_at", *fields])


def _event(actor, verb: str, draft: Draft, data: dict | None = None) -> None:
    record_event(actor=actor, verb=verb, target=draft, agency_id=draft.agency_id, data={
        "state": draft.state, "version": draft.version, "step_id": draft.current_step_id,
        "holder_id": draft.current_holder_id, **(data or {}),
    })


def _step_holder(draft: Draft, step: ReviewStep | None):
    """The one person who holds `step` when the chain names them (a person, the proposed signer for the
    signing step, the drafting unit's only leader); None when any holder of the role in scope may act."""
    if step is None:
        return draft.proposed_signer
    if step.user_id:
        return step.user
    if step.action == StepAction.SIGN and draft.proposed_signer_id:
        return draft.proposed_signer
    candidates = list(_role_holders(draft, step.role)[:2])
    return candidates[0] if len(candidates) == 1 else None


def _role_holders(draft: Draft, role: str):
    people = get_user_model().objects.filter(agency_id=draft.agency_id, is_active=True, groups__name=role)
    if role == roles.UNIT_LEADER:
        people = people.filter(unit_id=draft.drafting_unit_id)
    return people.order_by("pk")


def _holds_role_in_scope(actor, draft: Draft, role: str) -> bool:
    if not role or not _has_role(actor, role):
        return False
    return role != roles.UNIT_LEADER or actor.unit_id == draft.drafting_unit_id


def step_authority(actor, draft: Draft) -> str | None:
    """How `actor` may act on the draft's current step: "" in their own right, the delegation's prefix
    (KT., TUQ., TL.) when acting for the holder, None when they may not."""
    if not actor.is_authenticated or actor.agency_id != draft.agency_id:
        return None
    if draft.current_holder_id:
        return acting_prefix(actor, draft.current_holder, draft.agency_id)
    step = draft.current_step
    if step is not None and _holds_role_in_scope(actor, draft, step.role):
        return ""
    return None


def _enter_step(draft: Draft, step: ReviewStep | None) -> None:
    draft.current_step = step
    draft.current_holder = _step_holder(draft, step)
    if step is not None and draft.current_holder is None and not _role_holders(draft, step.role).exists():
        # Nobody could ever act: refuse now (the transaction rolls back) instead of leaving the draft stuck.
        raise ValidationError(_(
            "Step %(order)d of the review chain (%(action)s) needs a person with the role \"%(role)s\" "
            "in scope, and there is none. Ask the administrator to fix the chain or the roles."
        ) % {"order": step.order, "action": step.get_action_display(), "role": step.get_role_display()})
    if step is None or step.action == StepAction.SIGN:
        draft.state = DraftState.READY_TO_SIGN
        _prepare_signature(draft)
    else:
        draft.state = DraftState.IN_REVIEW


def _prepare_signature(draft: Draft) -> None:
    """Have the signature's place on the approved PDF found now, not while the signer waits."""
    latest = draft.versions.select_related("blob").order_by("-number").first()
    if latest is not None and draft.current_holder is not None:
        signing_services.request_placement(latest.blob, draft.current_holder.display_name)


def _steps(draft: Draft) -> list[ReviewStep]:
    return list(draft.chain.steps.select_related("user").order_by("order")) if draft.chain_id else []


def _store_version(actor, draft: Draft, upload, note: str) -> DraftVersion:
    try:
        checked = check_upload(upload)
    except UploadRejected as exc:
        raise ValidationError({"file": str(exc)}) from exc
    if checked.content_type not in (PDF, DOCX):
        raise ValidationError({"file": _("The draft must be a DOCX or PDF file.")})
    blob = store_blob(checked)
    last = draft.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return DraftVersion.objects.create(
        draft=draft, number=last + 1, blob=blob, file_name=checked.name, uploaded_by=actor, note=note.strip()[:500]
    )


def store_system_version(draft: Draft, actor, blob: FileBlob, *, name: str, note: str,
                         number: int | None = None) -> DraftVersion:
    """A version produced by the system for `actor` (the digitally signed PDF the signing task stored):
    recorded and audited like an upload. Must run inside the caller's transaction, `draft` locked; `number`
    when the caller already read the latest one."""
    if number is None:
        number = (draft.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = DraftVersion.objects.create(draft=draft, number=number, blob=blob, file_name=name[:255],
                                          uploaded_by=actor, note=note[:500])
    _event(actor, DRAFT_VERSION_UPLOADED, draft, {"number": version.number, "sha256": blob.sha256, "note": note})
    return version


def _tell(kind: str, draft: Draft, key: str, user_ids=(), *, actor=None, url: str = "",
          document_id: int | None = None, agency_ids=(), permission: str = "", **params) -> None:
    """Tell people about the draft inside the transaction of the change (eoffice.notices); the key makes a
    repeated telling harmless and nobody is told of their own act."""
    # A confidential draft's subject never goes into a notice (nor so into an e-mail).
    subject = draft.subject[:200] if draft.confidentiality == Confidentiality.NORMAL else "***"
    notices.tell(
        kind, key=f"draft:{draft.pk}:{key}", user_ids=user_ids, url=url or reverse("workflows:draft", args=[draft.pk]),
        params={"subject": subject, **params}, document_id=document_id,
        agency_ids=agency_ids, permission=permission, exclude=[actor.pk] if actor is not None else (),
    )


def _notify_holders(draft: Draft, actor=None) -> None:
    """Tell whoever may act on the draft's current step that it waits for them (review or signature)."""
    if draft.current_holder_id:
        ids = [draft.current_holder_id]
    elif draft.current_step_id:
        ids = list(_role_holders(draft, draft.current_step.role).values_list("pk", flat=True)[:50])
    else:
        ids = []
    kind = notice_kinds.DRAFT_SIGNATURE if draft.state == DraftState.READY_TO_SIGN else notice_kinds.DRAFT_REVIEW
    _tell(kind, draft, f"{draft.version}", ids, actor=actor)


# --- transitions --------------------------------------------------------------------------------


def create_draft(actor, data: DraftInput, upload=None, attachments=()) -> Draft:
    """A staff member starts a draft in their unit (optionally with the first file version)."""
    if not actor.is_authenticated or not actor.is_active or actor.agency_id is None:
        raise PermissionDenied(_("Only people of an agency may draft."))
    errors = {}
    document_type = DocumentType.objects.filter(pk=data.document_type_id).first()
    if document_type is None:
        errors["document_type"] = _("Choose a document type.")
    if not data.subject.strip():
        errors["subject"] = _("Write the subject.")
    if data.urgency not in Urgency.values:
        errors["urgency"] = _("Unknown urgency.")
    if data.confidentiality not in Confidentiality.values:
        errors["confidentiality"] = _("Unknown confidentiality.")
    unit = Unit.objects.filter(pk=data.drafting_unit_id or actor.unit_id, agency_id=actor.agency_id).first()
    if unit is None:
        errors["drafting_unit"] = _("The drafting unit must be a unit of your agency.")
    signer = None
    if data.proposed_signer_id:
        signer = get_user_model().objects.filter(
            pk=data.proposed_signer_id, agency_id=actor.agency_id, is_active=True
        ).first()
        if signer is None:
            errors["proposed_signer"] = _("The proposed signer must be a person of your agency.")
    in_response_to = None
    if data.in_response_to_id:
        in_response_to = visible_documents(actor).filter(pk=data.in_response_to_id).first()
        if in_response_to is None:
            errors["in_response_to"] = _("Choose a document you can see.")
    checked_attachments = _check_attachments(attachments)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        draft = Draft.objects.create(
            agency_id=actor.agency_id, drafting_unit=unit, drafter=actor, document_type=document_type,
            subject=data.subject.strip(), urgency=data.urgency, confidentiality=data.confidentiality,
            proposed_signer=signer, recipients=data.recipients, internal=data.internal,
            in_response_to=in_response_to, chain=chain_for(actor.agency_id, document_type.pk),
        )
        _event(actor, DRAFT_CREATED, draft, {"subject": draft.subject, "chain_id": draft.chain_id,
                                             "in_response_to": draft.in_response_to_id})
        if upload is not None:
            version = _store_version(actor, draft, upload, "")
            _event(actor, DRAFT_VERSION_UPLOADED, draft, {"number": version.number, "sha256": version.blob_id})
        _store_attachments(actor, draft, checked_attachments)
    return draft


def upload_version(actor, draft: Draft, upload, *, note: str = "", expected_version: int | None = None) -> DraftVersion:
    """A new version of the draft file: by the drafter while drafting, or by the current step-holder
    (a leader editing the draft directly)."""
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(actor, draft.agency_id)
        _check_version(draft, expected_version)
        _require_may_change(actor, draft)
        version = _store_version(actor, draft, upload, note)
        _bump(draft)
        _event(actor, DRAFT_VERSION_UPLOADED, draft, {"number": version.number, "sha256": version.blob_id,
                                                      "note": version.note})
        _send_back_for_reapproval(actor, draft)
    return version


def _send_back_for_reapproval(actor, draft: Draft) -> None:
    """Decree 30 Art. 11: a draft whose content changes after it was approved goes back to the approver.
    A leader editing at their own review, approval or signing step approves their own change; a change
    made at a later, non-content step (the clerk's format check) sends the draft back to the nearest
    earlier content step (approval, else review)."""
    step = draft.current_step
    if draft.state != DraftState.IN_REVIEW or step is None or step.action != StepAction.FORMAT_CHECK:
        return
    earlier = [s for s in _steps(draft) if s.order < step.order and s.action in (StepAction.APPROVE, StepAction.REVIEW)]
    if not earlier:
        return
    approvals = [s for s in earlier if s.action == StepAction.APPROVE] or earlier
    target = approvals[-1]
    _enter_step(draft, target)
    _bump(draft, "current_step", "current_holder", "state")
    _event(actor, DRAFT_REAPPROVAL, draft, {"from_step_id": step.pk, "to_step_id": target.pk})
    _notify_holders(draft, actor)


def add_attachments(actor, draft: Draft, uploads, *, expected_version: int | None = None) -> list[DraftAttachment]:
    """Attachments filed separately from the draft: by the drafter while drafting, or by the current
    step-holder. Every file is checked before anything is written."""
    checked = _check_attachments(uploads)
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(actor, draft.agency_id)
        _check_version(draft, expected_version)
        _require_may_change(actor, draft)
        added = _store_attachments(actor, draft, checked)
        _bump(draft)
        _send_back_for_reapproval(actor, draft)  # an appendix changed at the format check is a change too
    return added


def _check_attachments(uploads) -> list:
    checked = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except UploadRejected as exc:
            raise ValidationError({"attachments": str(exc)}) from exc
    return checked


def _store_attachments(actor, draft: Draft, checked: list) -> list[DraftAttachment]:
    added = []
    for item in checked:
        blob = store_blob(item)
        attachment = DraftAttachment.objects.create(draft=draft, blob=blob, file_name=item.name[:255],
                                                    uploaded_by=actor)
        _event(actor, DRAFT_ATTACHMENT_ADDED, draft, {"name": attachment.file_name, "sha256": blob.sha256})
        added.append(attachment)
    return added


def _require_may_change(actor, draft: Draft) -> None:
    if draft.state == DraftState.DRAFTING:
        if actor.pk != draft.drafter_id:
            raise PermissionDenied(_("Only the drafter may change the draft now."))
    elif draft.state in (DraftState.IN_REVIEW, DraftState.READY_TO_SIGN):
        if step_authority(actor, draft) is None:
            raise PermissionDenied(_("Only the person holding the current step may change the draft."))
    else:
        _check_state(draft, DraftState.DRAFTING, DraftState.IN_REVIEW, DraftState.READY_TO_SIGN)


def submit(actor, draft: Draft, *, expected_version: int | None = None) -> Draft:
    """The drafter sends the draft to the first step of the chain."""
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(actor, draft.agency_id)
        _check_version(draft, expected_version)
        if actor.pk != draft.drafter_id:
            raise PermissionDenied(_("Only the drafter may submit the draft."))
        _check_state(draft, DraftState.DRAFTING)
        if not draft.versions.exists():
            raise ValidationError({"file": _("Upload the draft file first.")})
        if draft.chain_id is None:
            draft.chain = chain_for(draft.agency_id, draft.document_type_id) or ensure_default_chain(draft.agency)
        steps = _steps(draft)
        _enter_step(draft, steps[0] if steps else None)
        draft.last_comment = ""
        _bump(draft, "chain", "current_step", "current_holder", "state", "last_comment")
        _event(actor, DRAFT_SUBMITTED, draft)
        _notify_holders(draft, actor)
    return draft


def approve_step(actor, draft: Draft, *, comment: str = "", expected_version: int | None = None) -> Draft:
    """The step-holder (or their delegate) approves: the draft moves to the next step; reaching the signing
    step makes it ready to sign."""
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(actor, draft.agency_id)
        _check_version(draft, expected_version)
        prefix = step_authority(actor, draft)
        if prefix is None:
            raise PermissionDenied(_("Only the person holding the current step may approve it."))
        _check_state(draft, DraftState.IN_REVIEW)
        done = draft.current_step
        steps = _steps(draft)
        later = [s for s in steps if s.order > done.order] if done else []
        _enter_step(draft, later[0] if later else None)
        _bump(draft, "current_step", "current_holder", "state")
        _event(actor, DRAFT_APPROVED, draft, {
            "approved_step_id": done.pk if done else None, "action": done.action if done else "",
            "comment": comment.strip(), "authority_prefix": prefix,
        })
        _notify_holders(draft, actor)
    return draft


def return_draft(
    actor, draft: Draft, *, comment: str, to_step_id: int | None = None, expected_version: int | None = None
) -> Draft:
    """The step-holder returns the draft with a comment: to the drafter (state drafting) or to an earlier
    step of the chain."""
    if not comment.strip():
        raise ValidationError({"comment": _("Write why the draft is returned.")})
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(actor, draft.agency_id)
        _check_version(draft, expected_version)
        prefix = step_authority(actor, draft)
        if prefix is None:
            raise PermissionDenied(_("Only the person holding the current step may return it."))
        _check_state(draft, DraftState.IN_REVIEW, DraftState.READY_TO_SIGN)
        from_step = draft.current_step_id
        if to_step_id is None:
            draft.state = DraftState.DRAFTING
            draft.current_step = None
            draft.current_holder = None
        else:
            current_order = draft.current_step.order if draft.current_step_id else 10**6
            target = next((s for s in _steps(draft) if s.pk == to_step_id and s.order < current_order), None)
            if target is None:
                raise ValidationError({"to_step": _("Choose an earlier step of the chain.")})
            _enter_step(draft, target)
        draft.last_comment = comment.strip()
        _bump(draft, "state", "current_step", "current_holder", "last_comment")
        _event(actor, DRAFT_RETURNED, draft, {"comment": draft.last_comment, "from_step_id": from_step,
                                              "to_step_id": to_step_id, "authority_prefix": prefix})
        if to_step_id is None:
            _tell(notice_kinds.DRAFT_RETURNED, draft, f"returned:{draft.version}", [draft.drafter_id], actor=actor,
                  comment=draft.last_comment[:300])
        else:
            _notify_holders(draft, actor)
    return draft


def forward(actor, draft: Draft, to_user, *, comment: str = "", expected_version: int | None = None) -> Draft:
    """The step-holder hands the step (chuyển) to another holder of the same role in the agency."""
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(actor, draft.agency_id)
        _check_version(draft, expected_version)
        if step_authority(actor, draft) is None:
            raise PermissionDenied(_("Only the person holding the current step may forward it."))
        _check_state(draft, DraftState.IN_REVIEW, DraftState.READY_TO_SIGN)
        step = draft.current_step
        role = step.role if step is not None else roles.AGENCY_LEADER
        if (
            to_user.pk == actor.pk or not to_user.is_active or to_user.agency_id != draft.agency_id
            or not _holds_role_in_scope(to_user, draft, role)
        ):
            raise ValidationError({"to_user": _("Choose another holder of the same role in the agency.")})
        previous = draft.current_holder_id
        draft.current_holder = to_user
        _bump(draft, "current_holder")
        _event(actor, DRAFT_FORWARDED, draft, {"from_user_id": previous, "to_user_id": to_user.pk,
                                               "comment": comment.strip()})
        _tell(notice_kinds.DRAFT_FORWARDED, draft, f"forwarded:{draft.version}", [to_user.pk], actor=actor,
              sender=str(actor))
    return draft


def on_signed(draft: Draft, actor, *, method: str = "digital", authority_prefix: str = "",
              on_behalf_of=None) -> Draft:
    """The signer's signature is applied (digitally: draft_signing; on paper: mark_signed_on_paper): the
    draft becomes signed and waits for the clerk. Runs in the caller's transaction when there is one."""
    with transaction.atomic():
        return mark_signed_locked(_lock(draft), actor, method=method, authority_prefix=authority_prefix,
                                  on_behalf_of=on_behalf_of)


def mark_signed_locked(draft: Draft, actor, *, method: str, authority_prefix: str, on_behalf_of,
                       recorded_by=None) -> Draft:
    """`on_signed` for a caller that holds the draft's row lock already (inside its transaction).
    `recorded_by`: the clerk who records a paper signature of `actor` (the event is theirs)."""
    _check_state(draft, DraftState.READY_TO_SIGN)
    draft.state = DraftState.SIGNED
    draft.signed_by = actor
    draft.signed_on_behalf_of = on_behalf_of
    draft.signing_authority_prefix = authority_prefix
    draft.signed_at = timezone.now()
    draft.current_holder = None
    _bump(draft, "state", "signed_by", "signed_on_behalf_of", "signing_authority_prefix", "signed_at",
          "current_holder")
    _event(recorded_by or actor, DRAFT_SIGNED, draft, {
        "method": method, "authority_prefix": authority_prefix,
        "on_behalf_of": on_behalf_of.pk if on_behalf_of is not None else None,
        **({"signed_by": actor.pk} if recorded_by is not None else {}),
    })
    # The agency's clerks (whoever may register outgoing documents there), found by the fan-out task.
    _tell(notice_kinds.DRAFT_SIGNED, draft, "signed", actor=actor, agency_ids=[draft.agency_id],
          permission=ISSUE_PERMISSION)
    return draft


def mark_signed_on_paper(actor, draft: Draft, *, expected_version: int | None = None) -> Draft:
    """The signer (or their delegate today, recording KT./TUQ./TL.) records that the paper original is signed."""
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(actor, draft.agency_id)
        _check_version(draft, expected_version)
        prefix = step_authority(actor, draft)
        if prefix is None:
            raise PermissionDenied(_("Only the signer, or their delegate, may sign this draft."))
        _check_state(draft, DraftState.READY_TO_SIGN)
        on_behalf_of = draft.current_holder if prefix else None
        return on_signed(draft, actor, method="paper", authority_prefix=prefix, on_behalf_of=on_behalf_of)


def issue_draft(clerk, draft: Draft, final_file, *, expected_version: int | None = None,
                register_id: int | None = None, sealed_later: bool = False) -> Document:
    """The clerk issues the signed draft: number, date and identifier from the register (the Document is
    immutable from then on), the final PDF attached; the draft links to the issued document.

    `sealed_later` is the digital path (draft_signing.request_seal): no file now; the signing task fills the
    number and date into the leader-signed PDF, applies the agency seal, and the result is attached (and the
    document announced as issued) when it is stored."""
    if final_file is not None:
        try:
            checked = check_upload(final_file)
        except UploadRejected as exc:
            raise ValidationError({"file": str(exc)}) from exc
        if checked.content_type != PDF:
            raise ValidationError({"file": _("The issued document must be a PDF file.")})
    elif not sealed_later:
        raise ValidationError({"file": _("Attach the final PDF.")})
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(clerk, draft.agency_id)
        _check_version(draft, expected_version)
        if not clerk.has_perm("documents.register_outgoing"):
            raise PermissionDenied(_("Only the agency's clerks may issue documents."))
        _check_state(draft, DraftState.SIGNED)
        signer = draft.signed_by
        data = documents_services.OutgoingInput(
            document_type_id=draft.document_type_id, subject=draft.subject,
            signer_name=signer.display_name if signer else "", signer_position=signer.position if signer else "",
            authority_prefix=draft.signing_authority_prefix, urgency=draft.urgency,
            confidentiality=draft.confidentiality, drafting_unit_id=draft.drafting_unit_id,
            recipients=[documents_services.RecipientInput(agency_id=r.get("agency_id"), name=r.get("name", ""),
                                                                 unit_id=r.get("unit_id"))
                        for r in draft.recipients if isinstance(r, dict)],
            internal=draft.internal, register_id=register_id,
        )
        uploads = [final_file] if final_file is not None else []
        document = documents_services.register_outgoing(clerk, data, uploads, confirm_duplicate=False,
                                                        announce=False)
        if not sealed_later:  # the digital path attaches the signed attachments itself
            for attachment in draft.attachments.select_related("blob"):
                documents_services.attach_stored_blob(clerk, document, attachment.blob, attachment.file_name)
        draft.issued_document = document
        draft.state = DraftState.ISSUED
        draft.current_step = None
        _bump(draft, "issued_document", "state", "current_step")
        _event(clerk, DRAFT_ISSUED, draft, {"document_id": document.pk, "number": document.register_number,
                                            "notation": document.code_notation, "identifier": document.identifier})
        _tell(notice_kinds.DRAFT_ISSUED, draft, "issued", [draft.drafter_id], actor=clerk,
              url=reverse("documents:detail", args=[document.pk]), document_id=document.pk,
              number=document.number_notation)
        if draft.in_response_to_id:
            _complete_reply(draft, document)
        if not sealed_later:
            documents_services.announce_issued(clerk, document)
    return document


def issue_on_paper(clerk, draft: Draft, final_file, *, expected_version: int | None = None,
                   register_id: int | None = None) -> Document:
    """The clerk's paper path in one step: the signer signed the paper original, the clerk uploads its scan
    and issues it. A draft still waiting for the signature is first recorded as signed on paper by the person
    holding the signing step (the event names the clerk who recorded it); a signed draft is issued as is."""
    with transaction.atomic():
        draft = _lock(draft)
        _require_same_agency(clerk, draft.agency_id)
        _check_version(draft, expected_version)
        if not clerk.has_perm("documents.register_outgoing"):
            raise PermissionDenied(_("Only the agency's clerks may issue documents."))
        _check_state(draft, DraftState.READY_TO_SIGN, DraftState.SIGNED)
        if draft.state == DraftState.READY_TO_SIGN:
            if draft.current_holder is None:
                raise ValidationError({"state": _("The draft has no named signer yet; the signer signs first.")})
            mark_signed_locked(draft, draft.current_holder, method="paper", authority_prefix="",
                               on_behalf_of=None, recorded_by=clerk)
        return issue_draft(clerk, draft, final_file, expected_version=draft.version, register_id=register_id)


def _complete_reply(draft: Draft, document: Document) -> None:
    """Issuing a reply completes the drafter's open handling of the incoming document it answers, as the
    drafter (the handler) would; if that is refused, the issue stands and the handler completes by hand."""
    from .models import Assignment, AssignmentState
    from .services import complete_assignment

    assignment = Assignment.objects.filter(
        case__document_id=draft.in_response_to_id, assignee_id=draft.drafter_id, state=AssignmentState.HANDLING
    ).first()
    if assignment is None:
        return
    try:
        with transaction.atomic():
            complete_assignment(draft.drafter, assignment, outcome=_("Replied by document %(number)s/%(notation)s.") % {
                "number": document.code_number, "notation": document.code_notation,
            }, reply_document_id=document.pk)
    except (ValidationError, PermissionDenied):
        pass
