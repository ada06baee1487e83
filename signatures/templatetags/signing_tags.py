"""`{% file_verification blob %}` next to a stored PDF (its signatures' verdicts) and
`{% signing_requests requests %}` (the progress of signing requests, with a retry form for a failed one)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("signatures/file_verification.html")
def file_verification(blob, document_id=None) -> dict:
    """`document_id` (optional): the document the file is shown in, for the link to the printable sheet."""
    from ..verification import VERDICT_LABELS, SignatureReport, VerificationReport, translated
    from ..verification_text import issuing_note, revision_lines

    verification = getattr(blob, "verification", None) if blob is not None else None
    if verification is None or verification.state != "done":
        return {"verification": verification, "pending": verification is not None}
    sheet_url = ""
    if document_id:
        from django.urls import reverse
        from django.utils.http import urlencode

        sheet_url = (reverse("signatures:stored_sheet", args=[blob.pk]) + "?"
                     + urlencode({"document": document_id}))
    try:  # the stored report, for the revisions made after each signature
        report = VerificationReport.from_dict(verification.report)
    except (KeyError, TypeError, ValueError):
        report = None
    signatures = []
    for index, signature in enumerate(verification.report.get("signatures", [])):
        parsed = report.signatures[index] if report is not None else SignatureReport(field_name="")
        signatures.append({
            "signer": signature.get("signer_name", ""),
            "verdict": signature.get("verdict", ""),
            "label": VERDICT_LABELS.get(signature.get("verdict"), signature.get("verdict")),
            "signing_time": signature.get("signing_time", ""),
            "reasons": translated(signature.get("reasons", [])),
            "warnings": translated(signature.get("warnings", [])),
            "note": issuing_note(parsed),
            "changes": revision_lines(report.changes_after(parsed)) if report is not None else [],
        })
    return {
        "verification": verification,
        "label": VERDICT_LABELS.get(verification.verdict, verification.verdict),
        "signatures": signatures,
        "sheet_url": sheet_url,
        "error": translated([verification.report["error"]])[0] if verification.report.get("error") else "",
    }


@register.inclusion_tag("signatures/signing_requests.html", takes_context=True)
def signing_requests(context, requests, retry_url_name: str) -> dict:
    """The state of each request, polled while queued or signing; `retry_url_name` is the caller's view that
    takes the request id and asks again through its own rules."""
    return {"request": context["request"], "requests": requests, "retry_url_name": retry_url_name,
            "running": any(r.state in ("queued", "signing") for r in requests)}


@register.simple_tag
def expiry(not_after):
    """`{% expiry certificate.not_after %}`: the date and the days left, red once expired."""
    from ..expiry import expiry_html

    return expiry_html(not_after)
