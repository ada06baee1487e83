"""A verification report in words, for the verification page: (label, value) pairs in the reader's language.

Called at display time (not when verifying), so a report stored as JSON reads in whatever language the
person looking at it uses. Times are shown in the site's time zone (Asia/Ho_Chi_Minh, +07:00).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from signatures.revisions import Change, ChangeKind, RevisionChanges
from signatures.verification import VERDICT_LABELS, SignatureReport, Verdict, VerificationReport


def local_time(value: datetime | None) -> str:
    """A moment as the report shows it (local time, to the second), on the page and the printed sheet alike:
    dd/mm/yyyy and 24 h in both languages, with the offset so that a printed sheet is unambiguous."""
    if value is None:
        return "-"
    if not timezone.is_aware(value):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    return f"{local:%d/%m/%Y %H:%M:%S} {offset[:3]}:{offset[3:]}"


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "-"
    return _("Yes") if value else _("No")


def _coverage(value: str) -> str:
    return {
        "entire_file": _("The whole file"),
        "entire_revision": _("The whole file as it was when signed (content was appended later)"),
        "contiguous_block": _("Only part of the file"),
        "unclear": _("Unclear (abnormal byte range)"),
    }.get(value, "-")


def _modifications(value: str) -> str:
    return {
        "none": _("None"),
        "lta_updates": _("Only validation data and timestamps"),
        "form_filling": _("Form filling or further signatures"),
        "annotations": _("Annotations"),
        "other": _("Changes that are not allowed"),
    }.get(value, _("Not analysed"))


def issuing_note(signature: SignatureReport) -> str:
    """The issuing agency's expected additions, named (Decree 30: number, date and seal)."""
    if not signature.issuing_agency:
        return ""
    if signature.issuing_filled:
        return _("Number and date filled in by the issuing agency, sealed by %(agency)s") % {
            "agency": signature.issuing_agency
        }
    return _("Sealed by the issuing agency, %(agency)s") % {"agency": signature.issuing_agency}


def change_text(change: Change) -> str:
    """One change of a later revision in words."""
    values = {"page": change.page, "name": change.name, "count": change.count, "signer": change.signer or "-"}
    kind = change.kind
    if kind == ChangeKind.CONTENT_REPLACED:
        if change.page:
            return _("Content of page %(page)s replaced or altered") % values
        return _("Content drawn on the pages (an image or drawing) replaced") % values
    if kind == ChangeKind.CONTENT_DRAWN_OVER:
        return _("Content drawn over page %(page)s") % values
    if kind == ChangeKind.PAGES_ADDED:
        return ngettext("%(count)s page added", "%(count)s pages added", change.count) % values
    if kind == ChangeKind.PAGES_REMOVED:
        return ngettext("%(count)s page removed", "%(count)s pages removed", change.count) % values
    if kind == ChangeKind.ANNOTATION_ADDED:
        return _("Annotation added on page %(page)s (%(name)s)") % values
    if kind == ChangeKind.ANNOTATION_CHANGED:
        return _("Annotation changed on page %(page)s (%(name)s)") % values
    if kind == ChangeKind.ANNOTATION_REMOVED:
        return _("Annotation removed from page %(page)s (%(name)s)") % values
    if kind == ChangeKind.FIELD_FILLED:
        return _("Form field filled: %(name)s") % values
    if kind == ChangeKind.FIELD_VALUE_CHANGED:
        return _("Form field value changed: %(name)s") % values
    if kind == ChangeKind.FIELD_APPEARANCE_REPLACED:
        return _("Visible appearance of form field %(name)s replaced while its value stayed the same") % values
    if kind == ChangeKind.FIELD_ADDED:
        return _("Form field added: %(name)s") % values
    if kind == ChangeKind.FIELD_CHANGED:
        return _("Form field changed (position, type or flags): %(name)s") % values
    if kind == ChangeKind.SIGNATURE_ADDED:
        return _("Signature added in field %(name)s by %(signer)s") % values
    if kind == ChangeKind.SIGNATURE_CHANGED:
        return _("Signature dictionary rewritten after signing: %(name)s") % values
    if kind == ChangeKind.TIMESTAMP_ADDED:
        return _("Document timestamp added by %(signer)s") % values
    if kind == ChangeKind.VALIDATION_DATA_ADDED:
        return _("Validation data added (certificates, revocation information)")
    return _("Other objects of the file changed")


def revision_lines(revisions: Sequence[RevisionChanges]) -> list[tuple[str, str]]:
    """One line per later revision, numbered from 1 for the original file."""
    return [
        (
            _("Revision %(number)s") % {"number": revision.revision + 1},
            "; ".join(change_text(change) for change in revision.changes) or _("No change to the content"),
        )
        for revision in revisions
    ]


def _revocation(signature: SignatureReport) -> str:
    if signature.revocation == "revoked":
        if signature.revocation_time is not None:
            return _("Revoked on %(date)s") % {"date": local_time(signature.revocation_time)}
        return _("Revoked")
    return {
        "good": _("Not revoked"),
        "unknown": _("Unknown"),
    }.get(signature.revocation, _("Not checked"))


def _timestamp(signature: SignatureReport) -> str:
    if signature.timestamp_time is None:
        return _("None")
    when = local_time(signature.timestamp_time)
    if signature.timestamp_valid is False:
        return _("%(time)s (damaged timestamp)") % {"time": when}
    if signature.timestamp_trusted:
        return _("%(time)s, from a trusted timestamp authority") % {"time": when}
    return _("%(time)s, from a timestamp authority that is not trusted") % {"time": when}


def signature_lines(
    signature: SignatureReport,
    number: int,
    validation_time: datetime | None = None,
    later: Sequence[RevisionChanges] = (),
) -> list[tuple[str, str]]:
    """One signature (or document timestamp) in words, its verdict first and its reasons last; `later` are the
    revisions made after it (`VerificationReport.changes_after`), each listed with what it changed."""
    if signature.is_document_timestamp:
        heading = _("Document timestamp %(number)s") % {"number": number}
    else:
        heading = _("Signature %(number)s") % {"number": number}
    lines = [
        (heading, signature.field_name),
        (_("Verdict"), str(VERDICT_LABELS.get(signature.verdict, signature.verdict))),
    ]
    if signature.signer_name:
        lines.append(
            (_("Timestamp authority") if signature.is_document_timestamp else _("Signed by"), signature.signer_name)
        )
        lines.append((_("Certificate issued by"), signature.issuer))
        lines.append((_("Certificate serial number"), signature.serial))
        if signature.certificate_not_before and signature.certificate_not_after:
            validity = _("%(start)s to %(end)s") % {
                "start": local_time(signature.certificate_not_before),
                "end": local_time(signature.certificate_not_after),
            }
            lines.append((_("Certificate validity"), validity))
        lines.append((_("Certificate chain"), " → ".join(signature.chain) or "-"))
        lines.append((_("Trusted"), _yes_no(signature.trusted)))
        if signature.checked_at is not None and validation_time is not None and signature.checked_at != validation_time:
            checked = _("%(time)s (time of the trusted timestamp)") % {"time": local_time(signature.checked_at)}
            lines.append((_("Certificate checked as of"), checked))
    if signature.coverage:
        lines.append((_("Signed content intact"), _yes_no(signature.intact and signature.valid)))
        lines.append((_("Signature covers"), _coverage(signature.coverage)))
        lines.append((_("Changes after signing"),
                      issuing_note(signature) or _modifications(signature.modification_level)))
    lines.extend(revision_lines(later))
    if not signature.is_document_timestamp:
        if signature.signing_time is not None:
            lines.append((_("Signing time (stated by the signer)"), local_time(signature.signing_time)))
        lines.append((_("Timestamp"), _timestamp(signature)))
        if signature.coverage:
            lines.append((_("PAdES level"), signature.pades_level or _("Not a PAdES signature (PKCS#7)")))
    else:
        lines.append((_("Timestamp"), _timestamp(signature)))
    if signature.signer_name:
        lines.append((_("Revocation status"), _revocation(signature)))
    lines.extend((_("Reason"), _(reason)) for reason in signature.reasons)
    lines.extend((_("Warning"), _(warning)) for warning in signature.warnings)
    return lines


def report_lines(report: VerificationReport) -> list[tuple[str, str]]:
    """The whole report: the file's verdict and when it was checked, then each signature in signing order."""
    lines = [
        (_("Result"), str(VERDICT_LABELS.get(report.verdict, report.verdict))),
        (_("Checked at"), local_time(report.validation_time)),
    ]
    if report.error:
        lines.append((_("Problem"), _(report.error)))
    for number, signature in enumerate(report.signatures, start=1):
        lines.extend(signature_lines(signature, number, report.validation_time, report.changes_after(signature)))
    if report.verdict == Verdict.UNSIGNED:
        lines.append((_("Reason"), _("The file does not contain any digital signature.")))
    return lines
