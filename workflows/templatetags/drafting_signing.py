"""`{% signing_panel draft %}` on the draft page: sign, the progress of the signing requests, retry (the clerk's
seal is part of the one issuing form of the draft page).
Who may sign is the drafting rules' answer (`step_authority`), not the signatures app's."""

from __future__ import annotations

from django import template

from accounts import two_factor
from signatures.models import CredentialKind, SigningState
from signatures.services import usable_credential

from ..draft_signing import signing_requests_of
from ..drafting import DraftState
from ..drafting_services import step_authority

register = template.Library()


@register.inclusion_tag("workflows/signing_panel.html", takes_context=True)
def signing_panel(context, draft) -> dict:
    user = context["request"].user
    requests = list(signing_requests_of(draft))
    can_sign = draft.state == DraftState.READY_TO_SIGN and step_authority(user, draft) is not None
    running = next((r for r in reversed(requests) if r.state in (SigningState.QUEUED, SigningState.SIGNING)), None)
    return {
        "request": context["request"],
        "draft": draft,
        "requests": requests,
        # The request being signed is followed by the "Signing..." box (static/js/draft_signing.js); the
        # finished ones are listed with their result (and a retry for a failed one).
        "running": running,
        "finished": [r for r in requests if r is not running],
        "can_sign": can_sign,
        "has_certificate": usable_credential(CredentialKind.PERSONAL, user=user) is not None if can_sign else False,
        # The one-time code field is marked required when the signer has (or must have) a second factor.
        "otp_required": two_factor.code_required(user) if can_sign else False,
    }
