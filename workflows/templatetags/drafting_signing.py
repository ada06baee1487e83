"""`{% signing_panel draft %}` on the draft page: sign, seal, the progress of the signing requests, retry.
Who may sign is the drafting rules' answer (`step_authority`), not the signatures app's."""

from __future__ import annotations

from django import template

from accounts import two_factor
from signatures.models import CredentialKind, SigningKind, SigningState
from signatures.services import usable_credential

from ..draft_signing import signing_requests_of
from ..drafting import DraftState
from ..drafting_services import step_authority

register = template.Library()


@register.inclusion_tag("workflows/signing_panel.html", takes_context=True)
def signing_panel(context, draft) -> dict:
    user = context["request"].user
    requests = list(signing_requests_of(draft))
    personal_done = any(r.kind == SigningKind.PERSONAL and r.state == SigningState.DONE for r in requests)
    seal_running = any(r.kind == SigningKind.SEAL and r.state != SigningState.FAILED for r in requests)
    is_clerk = user.agency_id == draft.agency_id and user.has_perm("documents.register_outgoing")
    can_sign = draft.state == DraftState.READY_TO_SIGN and step_authority(user, draft) is not None
    return {
        "request": context["request"],
        "draft": draft,
        "requests": requests,
        "can_sign": can_sign,
        "has_certificate": usable_credential(CredentialKind.PERSONAL, user=user) is not None if can_sign else False,
        "can_seal": draft.state == DraftState.SIGNED and personal_done and is_clerk and not seal_running,
        "seal_certificate": usable_credential(CredentialKind.SEAL, agency_id=draft.agency_id) if is_clerk else None,
        # The one-time code field is marked required when the signer has (or must have) a second factor.
        "otp_required": two_factor.code_required(user) if can_sign or is_clerk else False,
    }
