"""Verification of stored PDFs, once per content (blobs are content-addressed): every PDF attached to a
document or a draft gets a `FileVerification` row at once and is verified in a task against the trust
store and the stored revocation lists. The result is kept per file and per signature."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from documents.models import FileBlob
from documents.storage import IntegrityFailure, open_verified
from documents.uploads import PDF
from eoffice.tasking import publish_on_commit

from . import revocation, trust
from .models import FileVerification, SignatureCheck, VerificationState
from .verification import Verdict, VerificationReport, verify_pdf


def request_verification(blob: FileBlob) -> None:
    """Note that this PDF must be verified and queue it after commit (the sweeper retries lost messages).
    One statement: a content verified before is not verified again (the task skips a done verification)."""
    if blob.content_type != PDF:
        return
    FileVerification.objects.bulk_create([FileVerification(blob=blob)], ignore_conflicts=True)
    publish_on_commit("signatures.tasks.verify_file", blob.sha256)


def verify_bytes(data: bytes) -> VerificationReport:
    """Check a PDF against this installation's trust store and revocation lists, now; with
    SIGNATURE_REVOCATION_CHECKING also online at the OCSP/CRL addresses the certificates declare (cached,
    bounded: `signatures.revocation`), one fetch budget for the whole file."""
    return verify_pdf(data, trust_roots=trust.trust_roots(), intermediates=trust.intermediates(),
                      crls=trust.revocation_lists(), fetcher_backend=revocation.fetcher_backend())


def verify_stored_file(sha256: str) -> str:
    """The body of the verification task: idempotent (a done verification is not repeated)."""
    verification = FileVerification.objects.select_related("blob").filter(blob_id=sha256).first()
    if verification is None or verification.state == VerificationState.DONE:
        return "skipped"
    try:
        with open_verified(verification.blob) as handle:
            data = handle.read()
    except (IntegrityFailure, OSError):
        report = VerificationReport(verdict=Verdict.UNVERIFIABLE, error="The stored file is damaged.")
    else:
        report = verify_bytes(data)
    store_report(verification.pk, report)
    return str(report.verdict)


def store_report(verification_id: int, report: VerificationReport) -> None:
    with transaction.atomic():
        verification = FileVerification.objects.select_for_update().get(pk=verification_id)
        if verification.state == VerificationState.DONE:
            return
        verification.signatures.all().delete()
        SignatureCheck.objects.bulk_create(
            SignatureCheck(
                verification=verification, position=index, field_name=signature.field_name[:200],
                signer=signature.signer_name[:500], certificate_sha256=signature.signer_certificate_sha256 or "",
                trusted=bool(signature.trusted), intact=bool(signature.intact), coverage=signature.coverage or "",
                modification_level=signature.modification_level or "", signing_time=signature.signing_time,
                timestamp_time=signature.timestamp_time, revocation=signature.revocation or "",
                verdict=str(signature.verdict),
            )
            for index, signature in enumerate(report.signatures, start=1)
        )
        verification.verdict = str(report.verdict)
        verification.signature_count = len(report.signatures)
        verification.report = report.to_dict()
        verification.state = VerificationState.DONE
        verification.verified_at = timezone.now()
        verification.save(update_fields=["verdict", "signature_count", "report", "state", "verified_at"])


def pending_verifications(now=None) -> list[str]:
    now = now or timezone.now()
    return list(
        FileVerification.objects.filter(state=VerificationState.PENDING, created_at__lt=now - timedelta(minutes=1))
        .values_list("blob_id", flat=True)[:500]
    )
