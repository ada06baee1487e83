"""`{% signing_panel draft %}` on the draft page (sign, seal, progress, retry) and
`{% file_verification blob %}` next to a stored PDF (its signatures' verdicts)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("signatures/signing_panel.html", takes_context=True)
def signing_panel(context, draft) -> dict:
    from workflows import drafting_services
    from workflows.drafting import DraftState

    from ..models import CredentialKind, SigningKind, SigningState
    from ..services import signing_requests_for, usable_credential

    user = context["request"].user
    requests = list(signing_requests_for(draft))
    personal_done = any(r.kind == SigningKind.PERSONAL and r.state == SigningState.DONE for r in requests)
    seal_running = any(r.kind == SigningKind.SEAL and r.state != SigningState.FAILED for r in requests)
    is_clerk = user.agency_id == draft.agency_id and user.has_perm("documents.register_outgoing")
    can_sign = (draft.state == DraftState.READY_TO_SIGN
                and drafting_services.step_authority(user, draft) is not None)
    return {
        "request": context["request"],
        "draft": draft,
        "requests": requests,
        "can_sign": can_sign,
        "has_certificate": usable_credential(CredentialKind.PERSONAL, user=user) is not None if can_sign else False,
        "can_seal": draft.state == DraftState.SIGNED and personal_done and is_clerk and not seal_running,
        "seal_certificate": usable_credential(CredentialKind.SEAL, agency_id=draft.agency_id) if is_clerk else None,
        "running": any(r.state in (SigningState.QUEUED, SigningState.SIGNING) for r in requests),
    }


@register.inclusion_tag("signatures/file_verification.html")
def file_verification(blob) -> dict:
    from ..verification import VERDICT_LABELS, translated

    verification = getattr(blob, "verification", None) if blob is not None else None
    if verification is None or verification.state != "done":
        return {"verification": verification, "pending": verification is not None}
    signatures = []
    for signature in verification.report.get("signatures", []):
        signatures.append({
            "signer": signature.get("signer_name", ""),
            "verdict": signature.get("verdict", ""),
            "label": VERDICT_LABELS.get(signature.get("verdict"), signature.get("verdict")),
            "signing_time": signature.get("signing_time", ""),
            "reasons": translated(signature.get("reasons", [])),
            "warnings": translated(signature.get("warnings", [])),
        })
    return {
        "verification": verification,
        "label": VERDICT_LABELS.get(verification.verdict, verification.verdict),
        "signatures": signatures,
        "error": translated([verification.report["error"]])[0] if verification.report.get("error") else "",
    }
