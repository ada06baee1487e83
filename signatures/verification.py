"""Verify the signatures in a PDF someone sent us, and say in plain words whether to rely on them.

pyHanko does the cryptography, the trust path and the difference analysis of later revisions; this module
turns its many flags into one verdict per signature and per file, following issue 4:

* **valid**: intact, cryptographically valid, chains to one of *our* trust roots, covers the whole file or
  its whole revision, and nothing but long-term-validation data was added afterwards;
* **valid with warnings**: the same, but the file was changed afterwards in an allowed way (form filling,
  further signatures, annotations) or something else deserves the reader's attention. Exception (issue 11):
  the issuing agency's expected additions of a Decree 30 document (number and date filled into the two empty
  fields the leader left open, the agency seal in its own field by a trusted signer) are named, not warned
  about: the leader's signature stays plainly valid;
* **invalid**: the signature is broken, does not cover its revision (signature wrapping), the file was
  changed afterwards in a way that is not allowed (shadow attacks, page edits: pyHanko's difference analysis,
  tightened by `signatures.revisions`, which catches a field appearance replaced behind an unchanged value),
  or the certificate is revoked;
* **cannot be verified** (``unverifiable``): nothing is broken, but trust cannot be established (unknown CA,
  expired certificate without proof of existence, weak algorithm) or the file cannot be read at all;
* **unsigned** (file level only): the file carries no signature.

Hostile files make pyHanko raise almost anything (`AssertionError`, `KeyError`, `ValueError` while listing
signatures, `PdfReadError`, CMS errors), so every file and every signature is processed under its own
``except Exception``: a bad upload yields a report, never a crash.

Reasons and warnings are stored as English message ids (marked with ``gettext_noop``) so that a report kept
as JSON can be shown later in the reader's language: call `translated()` (or use
`signatures.verification_text.report_lines`) at display time, not when verifying.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import hashlib
import io
import logging
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    SignatureCoverageLevel,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.generic_cms import extract_self_reported_ts
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import FetcherBackend
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.util import get_declared_revinfo

from signatures import asn1
from signatures.revisions import VISIBLE_CONTENT_CHANGES, ChangeKind, RevisionChanges, describe_revisions

logger = logging.getLogger(__name__)


class Verdict(enum.StrEnum):
    VALID = "valid"
    VALID_WITH_WARNINGS = "warnings"
    INVALID = "invalid"
    UNVERIFIABLE = "unverifiable"
    UNSIGNED = "unsigned"
    """File level only: the file carries no signature at all."""


VERDICT_LABELS = {
    Verdict.VALID: _("Valid"),
    Verdict.VALID_WITH_WARNINGS: _("Valid with warnings"),
    Verdict.INVALID: _("Invalid"),
    Verdict.UNVERIFIABLE: _("Cannot be verified"),
    Verdict.UNSIGNED: _("Not signed"),
}

_SEVERITY = {Verdict.VALID: 0, Verdict.VALID_WITH_WARNINGS: 1, Verdict.UNVERIFIABLE: 2, Verdict.INVALID: 3}


class Coverage(enum.StrEnum):
    ENTIRE_FILE = "entire_file"
    ENTIRE_REVISION = "entire_revision"
    CONTIGUOUS_BLOCK = "contiguous_block"
    """Covers the file from its start up to the signature, but not its whole revision: a wrapping attack."""
    UNCLEAR = "unclear"


class Revocation(enum.StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    """We looked (revocation data supplied or fetching allowed) but found no usable answer."""
    NOT_CHECKED = "not_checked"
    """Offline with no revocation data for this certificate, or trust failed before revocation mattered."""


_COVERAGE_NAMES = {
    SignatureCoverageLevel.ENTIRE_FILE: Coverage.ENTIRE_FILE,
    SignatureCoverageLevel.ENTIRE_REVISION: Coverage.ENTIRE_REVISION,
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: Coverage.CONTIGUOUS_BLOCK,
    SignatureCoverageLevel.UNCLEAR: Coverage.UNCLEAR,
}
_ACCEPTED_COVERAGE = {Coverage.ENTIRE_FILE, Coverage.ENTIRE_REVISION}
_SILENT_MODIFICATIONS = {"none", "lta_updates"}
_WARNED_MODIFICATIONS = {"form_filling", "annotations"}

# --- messages (English msgids, translated at display time) -------------------------------------------------

MSG_NOT_INTACT = gettext_noop(
    "The signed content does not match the signature: the document was altered after it was signed."
)
MSG_SIGNATURE_BROKEN = gettext_noop("The cryptographic signature does not match the signer's certificate.")
MSG_PARTIAL_COVERAGE = gettext_noop(
    "The signature does not cover the whole document revision it belongs to; the file may have been "
    "manipulated (signature wrapping)."
)
MSG_FORBIDDEN_CHANGES = gettext_noop(
    "The file was changed after signing in a way that is not allowed (for example page content or other "
    "objects were altered)."
)
MSG_DOCMDP_VIOLATED = gettext_noop(
    "The changes made after signing are not permitted by the certification of the document."
)
MSG_CHANGES_NOT_ANALYSED = gettext_noop("The changes made to the file after signing could not be analysed.")
MSG_REVOKED = gettext_noop("The signer's certificate has been revoked.")
MSG_CA_REVOKED = gettext_noop("A certificate authority in the signer's certificate chain has been revoked.")
MSG_TIMESTAMP_BROKEN = gettext_noop("The timestamp in the signature is damaged or does not match the signature.")
MSG_UNTRUSTED = gettext_noop("The signer's certificate does not chain to a trusted root.")
MSG_EXPIRED_NO_POE = gettext_noop(
    "The signer's certificate was expired or not yet valid at the time of validation, and no trusted "
    "timestamp proves that the signature was made while it was valid."
)
MSG_WEAK_ALGORITHM = gettext_noop(
    "The signature or its certificates use a cryptographic algorithm that is no longer considered secure."
)
MSG_NO_SIGNER_CERTIFICATE = gettext_noop("The signature does not contain the signer's certificate.")
MSG_CERTIFICATE_CONSTRAINTS = gettext_noop(
    "The signer's certificate, or a certificate in its chain, is not allowed to sign documents "
    "(key usage or chain constraints)."
)
MSG_REVOCATION_UNAVAILABLE = gettext_noop(
    "The revocation status of the signer's certificate could not be established (the revocation data is "
    "missing, out of date or unusable)."
)
MSG_REVOCATION_UNCHECKED = gettext_noop(
    "The revocation status of the signer's certificate could not be checked: the certificate authority's "
    "revocation service (OCSP or CRL) did not answer or gave no usable answer. The signature cannot be relied "
    "on until it is checked again."
)
MSG_CHAIN_FAILURE = gettext_noop("The signer's certificate chain could not be validated.")
MSG_MALFORMED = gettext_noop("The signature data is damaged or malformed and cannot be checked.")
MSG_BAD_FORMAT = gettext_noop("The signature does not follow the PDF signature format.")

WARN_FORM_FILLING = gettext_noop(
    "The file was changed after this signature by filling in form fields or adding further signatures. "
    "These changes are allowed; review them before relying on the document."
)
WARN_ANNOTATIONS = gettext_noop(
    "The file was changed after this signature by adding or editing annotations (comments). These "
    "changes are allowed; review them before relying on the document."
)
MSG_VISIBLE_CONTENT_CHANGED = gettext_noop(
    "The visible content of the document was replaced or altered after signing (page content, pages or "
    "the appearance of a form field); see the changes listed for the later revisions."
)
MSG_CHANGED_AFTER_SIGNING = gettext_noop(
    "The file was changed after this signature; see the changes listed for the later revisions."
)

WARN_TIMESTAMP_UNTRUSTED = gettext_noop(
    "The timestamp in the signature comes from a timestamp authority that is not trusted."
)
WARN_TOLERANT_PARSING = gettext_noop("The file has structural defects and was read in tolerant mode.")
WARN_HYBRID_FILE = gettext_noop(
    "The file uses hybrid cross-reference sections, so different PDF readers may show different content; "
    "check the content carefully."
)
WARN_SEED_VALUES = gettext_noop(
    "The signature does not meet the constraints that the document's author set for this signature field."
)

ERR_UNREADABLE = gettext_noop("The file is damaged or is not a PDF, so its signatures could not be checked.")
ERR_PASSWORD = gettext_noop("The file is protected by a password, so its signatures could not be checked.")
ERR_ENCRYPTED_FOR_RECIPIENTS = gettext_noop(
    "The file is encrypted for specific recipients, so its signatures could not be checked."
)
ERR_FIELDS_UNREADABLE = gettext_noop("The signature fields of the file could not all be read.")
ERR_INTERNAL = gettext_noop("An unexpected error occurred while checking the signatures.")


def translated(messages: Iterable[str]) -> list[str]:
    """The stored English message ids in the active language (call at display time)."""
    return [gettext(message) for message in messages if message]


# --- reports -----------------------------------------------------------------------------------------------


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_to_jsonable(item) for item in value]
    return value


def _parse_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


_DATETIME_FIELDS = (
    "signing_time",
    "timestamp_time",
    "revocation_time",
    "certificate_not_before",
    "certificate_not_after",
    "checked_at",
)


@dataclass
class SignatureReport:
    """What we know about one signature (or document timestamp), and what to conclude from it."""

    field_name: str
    signer_name: str = ""
    signer_certificate_sha256: str = ""
    issuer: str = ""
    serial: str = ""
    chain: list[str] = field(default_factory=list)
    """Subjects from the signer's certificate up to the trust root (or as far as the path could be built)."""
    trusted: bool = False
    """The signer's certificate chains to one of our trust roots at the validation time."""
    intact: bool = False
    """The digest of the signed bytes matches the one that was signed."""
    valid: bool = False
    """The cryptographic signature verifies with the signer's public key."""
    coverage: str = ""
    modification_level: str = ""
    docmdp_ok: bool | None = None
    signing_time: datetime | None = None
    """Claimed by the signer (signed attribute, or /M of the signed signature dictionary): not proof."""
    timestamp_time: datetime | None = None
    timestamp_valid: bool | None = None
    timestamp_trusted: bool | None = None
    revocation: str = Revocation.NOT_CHECKED
    revocation_time: datetime | None = None
    is_document_timestamp: bool = False
    pades_level: str = ""
    verdict: Verdict = Verdict.UNVERIFIABLE
    reasons: list[str] = field(default_factory=list)
    """English message ids explaining a verdict other than valid (translate with `translated`)."""
    warnings: list[str] = field(default_factory=list)
    """English message ids the reader should see even when the signature holds."""
    trust_problem: str = ""
    """AdES sub-indication reported by pyHanko for the trust check, e.g. 'no_certificate_chain_found'."""
    certificate_not_before: datetime | None = None
    certificate_not_after: datetime | None = None
    checked_at: datetime | None = None
    """Moment the certificate chain was checked at: the validation time, or the trusted timestamp's time
    when the certificate has expired or been revoked since."""
    seed_values_ok: bool = True
    technical_detail: str = ""
    """Exception text for administrators when processing failed; not meant for end users."""
    revision: int | None = None
    """The file revision this signature signed (0-based, pyHanko's count); later revisions changed the file."""
    visible_content_changed: bool = False
    """A later revision replaced or drew over page content, added or removed pages or replaced a field's
    appearance: a change no form-filling permission covers (shadow attacks)."""
    issuing_agency: str = ""
    """Set when every later change is the issuing agency's expected one (Decree 30: the clerk fills the number
    and date fields and the agency seals): the seal's signer, trusted and valid."""
    issuing_filled: bool = False
    """With `issuing_agency`: the number/date fields were filled (not only the seal added)."""
    revocation_online: bool = False
    """Checked with online revocation checking on (`signatures.revocation`): the OCSP/CRL addresses the
    certificates declare were asked (or the shared cache of their answers). With `revocation` 'unknown' and
    trust problem 'try_later', the CA's service could not be reached or gave no usable answer."""
    revocation_source: str = ""
    """With `revocation` 'good' or 'revoked': 'ocsp' or 'crl', whichever answer about the signer's certificate
    was at hand (fetched, embedded in the file or from the trust store)."""

    def to_dict(self) -> dict[str, Any]:
        return {key: _to_jsonable(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignatureReport:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in _DATETIME_FIELDS:
            values[key] = _parse_datetime(values.get(key))
        values["verdict"] = Verdict(values.get("verdict", Verdict.UNVERIFIABLE))
        return cls(**values)


@dataclass
class VerificationReport:
    """The verdict on a whole file and on each of its signatures, in signing order."""

    verdict: Verdict
    signatures: list[SignatureReport] = field(default_factory=list)
    error: str = ""
    """English message id saying why the file (or part of it) could not be processed."""
    validation_time: datetime | None = None
    technical_detail: str = ""
    revisions: list[RevisionChanges] = field(default_factory=list)
    """What each revision after the first signed one changed (see `signatures.revisions`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "signatures": [signature.to_dict() for signature in self.signatures],
            "error": self.error,
            "validation_time": _to_jsonable(self.validation_time),
            "technical_detail": self.technical_detail,
            "revisions": [revision.to_dict() for revision in self.revisions],
        }

    def changes_after(self, signature: SignatureReport) -> list[RevisionChanges]:
        """The revisions made after `signature` (none when its revision is unknown)."""
        if signature.revision is None:
            return []
        return [revision for revision in self.revisions if revision.revision > signature.revision]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerificationReport:
        return cls(
            verdict=Verdict(data["verdict"]),
            signatures=[SignatureReport.from_dict(item) for item in data.get("signatures", [])],
            error=data.get("error", ""),
            validation_time=_parse_datetime(data.get("validation_time")),
            technical_detail=data.get("technical_detail", ""),
            revisions=[RevisionChanges.from_dict(item) for item in data.get("revisions", [])],
        )


def overall_verdict(signatures: Sequence[SignatureReport], *, file_problem: bool = False) -> Verdict:
    """The worst verdict among the signatures; a file we could not read fully is at best unverifiable."""
    verdicts = [signature.verdict for signature in signatures]
    if file_problem:
        verdicts.append(Verdict.UNVERIFIABLE)
    if not verdicts:
        return Verdict.UNSIGNED
    return max(verdicts, key=lambda verdict: _SEVERITY.get(verdict, _SEVERITY[Verdict.INVALID]))


# --- the verdict rule --------------------------------------------------------------------------------------

_TRUST_PROBLEM_REASONS = {
    "out_of_bounds_no_poe": MSG_EXPIRED_NO_POE,
    "not_yet_valid": MSG_EXPIRED_NO_POE,
    "expired": MSG_EXPIRED_NO_POE,
    "crypto_constraints_failure": MSG_WEAK_ALGORITHM,
    "crypto_constraints_failure_no_poe": MSG_WEAK_ALGORITHM,
    "no_signing_certificate_found": MSG_NO_SIGNER_CERTIFICATE,
    "chain_constraints_failure": MSG_CERTIFICATE_CONSTRAINTS,
    "sig_constraints_failure": MSG_CERTIFICATE_CONSTRAINTS,
    "try_later": MSG_REVOCATION_UNAVAILABLE,
    "revocation_out_of_bounds_no_poe": MSG_REVOCATION_UNAVAILABLE,
    "certificate_chain_general_failure": MSG_CHAIN_FAILURE,
    "no_certificate_chain_found": MSG_UNTRUSTED,
}


_REVOCATION_PROBLEMS = {"revoked_no_poe", "revoked", "revoked_ca_no_poe"}


def _add(messages: list[str], message: str) -> None:
    if message not in messages:
        messages.append(message)


def apply_verdict_rule(report: SignatureReport) -> SignatureReport:
    """Decide the verdict from the facts already in `report` (issue 4's rule) and explain it.

    Keeps reasons and warnings already recorded (e.g. tolerant parsing). Broken beats untrusted: a
    signature that is both altered and untrusted is *invalid*, not merely unverifiable.

    Revocation checked online with no answer (the CA's OCSP responder or CRL unreachable, timed out or
    unusable) makes the signature *cannot be verified*, not *valid with warnings*: without the answer we do
    not know whether the certificate was revoked, which would make the signature invalid, so the honest
    verdict is the EU rules' INDETERMINATE/TRY_LATER ("check again later"), never a kind of valid that a
    reader skimming a list would take for a green light.
    """
    reasons = list(report.reasons)
    warnings = list(report.warnings)
    broken = False

    if not report.intact:
        _add(reasons, MSG_NOT_INTACT)
        broken = True
    if not report.valid:
        _add(reasons, MSG_SIGNATURE_BROKEN)
        broken = True
    if report.coverage not in _ACCEPTED_COVERAGE:
        _add(reasons, MSG_PARTIAL_COVERAGE)
        broken = True
    if report.modification_level == "other":
        _add(reasons, MSG_FORBIDDEN_CHANGES)
        broken = True
    elif report.docmdp_ok is False:
        _add(reasons, MSG_DOCMDP_VIOLATED)
        broken = True
    if report.revocation == Revocation.REVOKED or report.trust_problem in {"revoked_no_poe", "revoked"}:
        _add(reasons, MSG_REVOKED)
        broken = True
    if report.trust_problem == "revoked_ca_no_poe":
        _add(reasons, MSG_CA_REVOKED)
        broken = True
    if report.timestamp_valid is False:
        _add(reasons, MSG_TIMESTAMP_BROKEN)
        broken = True
    if report.visible_content_changed:
        _add(reasons, MSG_VISIBLE_CONTENT_CHANGED)
        broken = True

    undecided = False
    if not broken and report.modification_level not in _SILENT_MODIFICATIONS | _WARNED_MODIFICATIONS:
        # Whole-revision coverage without a difference analysis: we cannot tell what happened later.
        _add(reasons, MSG_CHANGES_NOT_ANALYSED)
        undecided = True
    if not report.trusted and report.trust_problem not in _REVOCATION_PROBLEMS:
        reason = _TRUST_PROBLEM_REASONS.get(report.trust_problem, MSG_UNTRUSTED)
        if report.trust_problem == "try_later" and report.revocation_online:
            reason = MSG_REVOCATION_UNCHECKED
        if report.trust_problem == "chain_constraints_failure" and report.chain == [report.issuer]:
            reason = MSG_UNTRUSTED  # pyHanko's indication for a self-signed certificate that is not our root
        _add(reasons, reason)
        undecided = True

    if report.visible_content_changed:  # the change that pyHanko would call allowed is not
        warnings = [warning for warning in warnings if warning not in (WARN_FORM_FILLING, WARN_ANNOTATIONS)]
    elif report.modification_level == "form_filling" and not report.issuing_agency:
        _add(warnings, WARN_FORM_FILLING)
    elif report.modification_level == "annotations":
        _add(warnings, WARN_ANNOTATIONS)
    if report.timestamp_valid and report.timestamp_trusted is False and not report.is_document_timestamp:
        _add(warnings, WARN_TIMESTAMP_UNTRUSTED)
    if not report.seed_values_ok:
        _add(warnings, WARN_SEED_VALUES)

    if broken:
        report.verdict = Verdict.INVALID
    elif undecided:
        report.verdict = Verdict.UNVERIFIABLE
    elif warnings:
        report.verdict = Verdict.VALID_WITH_WARNINGS
    else:
        report.verdict = Verdict.VALID
    report.reasons = reasons
    report.warnings = warnings
    return report


# --- verification ------------------------------------------------------------------------------------------

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[")


def has_signatures(data: bytes) -> bool:
    """Cheap pre-filter: does the file look like it carries a signature or document timestamp?

    Scans for a /ByteRange array, which every PDF signature dictionary has and which is never compressed
    (its offsets refer to the raw file). No false negatives for real signatures; a file that merely contains
    the text may give a false positive, which `verify_pdf` then reports as unsigned.
    """
    return bool(_BYTE_RANGE.search(data))


@dataclass
class _Inputs:
    trust_roots: list[asn1_x509.Certificate]
    intermediates: list[asn1_x509.Certificate]
    crls: list[asn1_crl.CertificateList]
    ocsps: list[asn1_ocsp.OCSPResponse]
    moment: datetime | None
    allow_fetching: bool
    reported_time: datetime
    """The validation moment as reported: `moment`, or the time verification started."""
    fetcher_backend: FetcherBackend | None = None
    """Online revocation checking (`signatures.revocation`): strict for certificates that declare OCSP/CRL."""

    @property
    def online(self) -> bool:
        return self.fetcher_backend is not None


@dataclass
class _FileData:
    """Validation data embedded in the file's DSS (PAdES B-LT), added to what the caller supplied."""

    certs: list[asn1_x509.Certificate] = field(default_factory=list)
    crls: list[asn1_crl.CertificateList] = field(default_factory=list)
    ocsps: list[asn1_ocsp.OCSPResponse] = field(default_factory=list)
    present: bool = False
    revisions: list[int] = field(default_factory=list)
    """The revisions that wrote the DSS (created or added to it); empty when that cannot be told."""


class _FileProblem(Exception):
    def __init__(self, message: str, detail: str = ""):
        super().__init__(detail or message)
        self.message = message
        self.detail = detail


class _RetryTolerant(Exception):
    """The strict reader refused the file's structure (or pyHanko would refuse to validate it, as for
    hybrid-reference files, which Office exports can be): read it again in tolerant mode, and say so."""

    def __init__(self, *, hybrid: bool = False):
        super().__init__("hybrid cross-reference file" if hybrid else "strict parsing failed")
        self.hybrid = hybrid


def verify_pdf(
    data: bytes,
    *,
    trust_roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    validation_time: datetime | None = None,
    crls: Sequence[x509.CertificateRevocationList | bytes] = (),
    ocsps: Sequence[Any] = (),
    allow_fetching: bool = False,
    fetcher_backend: FetcherBackend | None = None,
) -> VerificationReport:
    """Verify every signature and document timestamp in `data` against *our* trust roots only.

    Offline unless `allow_fetching` or `fetcher_backend`; revocation data can be handed in (`crls`, `ocsps`:
    cryptography objects or DER) and is also read from the file's DSS. With `fetcher_backend` (see
    `signatures.revocation.fetcher_backend`), revocation is checked online and strictly: a certificate that
    declares an OCSP responder or CRL and gets no answer is *cannot be verified*, never valid.
    `validation_time` pins the moment (tests, re-checks of old files); by default it is now. Never raises: unreadable files come back as *cannot be verified* with
    the reason in `error`. Synchronous (pyHanko runs its own event loop): from async code, call it through
    `asgiref.sync.sync_to_async` or in a worker.
    """
    _refuse_inside_event_loop()
    moment = validation_time
    if moment is not None and moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    reported_time = moment or datetime.now(UTC)
    try:
        inputs = _Inputs(
            trust_roots=[asn1.certificate(certificate) for certificate in trust_roots],
            intermediates=[asn1.certificate(certificate) for certificate in intermediates],
            crls=[asn1.crl(item) for item in crls],
            ocsps=[asn1.ocsp(item) for item in ocsps],
            moment=moment,
            allow_fetching=allow_fetching,
            reported_time=reported_time,
            fetcher_backend=fetcher_backend,
        )
        try:
            report = _verify(data, inputs, strict=True)
        except _RetryTolerant as retry:
            notice = WARN_HYBRID_FILE if retry.hybrid else WARN_TOLERANT_PARSING
            report = _verify(data, inputs, strict=False, tolerant_notice=notice)
    except _FileProblem as problem:
        report = VerificationReport(
            verdict=Verdict.UNVERIFIABLE, error=problem.message, technical_detail=problem.detail
        )
    except misc.PdfError as exc:  # a read error surfacing outside the guarded steps: still a damaged file
        report = VerificationReport(verdict=Verdict.UNVERIFIABLE, error=ERR_UNREADABLE, technical_detail=_describe(exc))
    except Exception as exc:  # the last line of defence: never a crash for an upload
        logger.exception("Unexpected error while verifying a PDF")
        report = VerificationReport(verdict=Verdict.UNVERIFIABLE, error=ERR_INTERNAL, technical_detail=_describe(exc))
    report.validation_time = reported_time
    return report


def _refuse_inside_event_loop() -> None:
    """pyHanko's synchronous API calls asyncio.run(), which fails inside a running loop; without this check
    that failure would surface per signature as a 'malformed signature' verdict instead of a bug."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError("verify_pdf() is synchronous: call it through sync_to_async or in a worker")


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


def _open(data: bytes, *, strict: bool) -> PdfFileReader:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=strict)
    except misc.PdfStrictReadError as exc:
        raise _RetryTolerant from exc
    except Exception as exc:
        raise _FileProblem(ERR_UNREADABLE, _describe(exc)) from exc
    try:
        encrypted = reader.encrypted
    except misc.PdfStrictReadError as exc:
        raise _RetryTolerant from exc
    except Exception as exc:
        raise _FileProblem(ERR_UNREADABLE, _describe(exc)) from exc
    if encrypted:
        try:
            result = reader.decrypt("")
        except Exception as exc:
            # Public-key (certificate) encryption: only the recipients' private keys open it.
            raise _FileProblem(ERR_ENCRYPTED_FOR_RECIPIENTS, _describe(exc)) from exc
        if result.status == AuthStatus.FAILED:
            raise _FileProblem(ERR_PASSWORD)
    if strict and reader.xrefs.hybrid_xrefs_present:
        raise _RetryTolerant(hybrid=True)
    return reader


def _verify(data: bytes, inputs: _Inputs, *, strict: bool, tolerant_notice: str = "") -> VerificationReport:
    reader = _open(data, strict=strict)
    try:
        entries, enumeration_error = _signature_entries(reader)
    except misc.PdfStrictReadError as exc:
        raise _RetryTolerant from exc
    except Exception as exc:
        raise _FileProblem(ERR_UNREADABLE, _describe(exc)) from exc
    file_data = _read_dss(reader)

    embedded: list[tuple[EmbeddedPdfSignature | None, SignatureReport]] = []
    for field_names, sig_field in entries:
        name = ", ".join(field_names)
        try:
            embedded.append((EmbeddedPdfSignature(reader, sig_field, name), SignatureReport(field_name=name)))
        except misc.PdfStrictReadError as exc:
            raise _RetryTolerant from exc
        except Exception as exc:
            embedded.append((None, _failed_report(name, exc, None)))

    # signing order, as pyHanko lists them; unreadable ones last
    embedded.sort(key=lambda item: item[0].signed_revision if item[0] is not None else 1 << 30)
    timestamp_revisions = [
        emb.signed_revision for emb, _ in embedded if emb is not None and _is_document_timestamp(emb)
    ]

    reports: list[SignatureReport] = []
    for emb, report in embedded:
        if emb is None:
            reports.append(report)
            continue
        try:
            report = _verify_one(emb, inputs, file_data, timestamp_revisions)
        except misc.PdfStrictReadError as exc:
            raise _RetryTolerant from exc
        except Exception as exc:
            report = _failed_report(report.field_name, exc, emb)
        if tolerant_notice:
            _add(report.warnings, tolerant_notice)
            if report.verdict == Verdict.VALID:
                report.verdict = Verdict.VALID_WITH_WARNINGS
        try:
            report.revision = emb.signed_revision
        except Exception:  # a signature whose revision cannot be placed has no "later" changes to show
            report.revision = None
        reports.append(report)

    revisions = _later_revisions(reader, reports)
    _judge_later_changes(reports, revisions)
    error = ERR_FIELDS_UNREADABLE if enumeration_error is not None else ""
    return VerificationReport(
        verdict=overall_verdict(reports, file_problem=enumeration_error is not None),
        signatures=reports,
        error=error,
        technical_detail=_describe(enumeration_error) if enumeration_error is not None else "",
        revisions=revisions,
    )


# --- what later revisions did --------------------------------------------------------------------------------

ISSUING_FIELDS = frozenset({"SoKyHieu", "NgayBanHanh"})
"""The number/notation and date fields the leader's signature leaves open (signatures.engine.NUMBER_FIELD,
DATE_FIELD), filled by the clerk when the document is issued."""
ISSUING_SEAL_FIELD = "ChuKyCoQuan"
"""The agency seal's signature field (signatures.engine.SEAL_FIELD), the last signature of an issued file."""
_LTA_CHANGES = {ChangeKind.VALIDATION_DATA_ADDED, ChangeKind.TIMESTAMP_ADDED}


def _later_revisions(reader: PdfFileReader, reports: list[SignatureReport]) -> list[RevisionChanges]:
    """The changes of each revision after the first signed one; [] when the file cannot be described."""
    signed = [report.revision for report in reports if report.revision is not None]
    if not signed or min(signed) + 1 >= reader.xrefs.total_revisions:
        return []
    try:
        revisions = describe_revisions(reader, since=min(signed) + 1)
    except Exception:  # hostile structure: keep pyHanko's verdicts, without the description
        logger.info("Could not describe the revisions of a signed file", exc_info=True)
        return []
    signers = {report.field_name: report.signer_name for report in reports}
    for revision in revisions:
        for change in revision.changes:
            if change.kind in (ChangeKind.SIGNATURE_ADDED, ChangeKind.TIMESTAMP_ADDED):
                change.signer = signers.get(change.name, "")
    return revisions


def _judge_later_changes(reports: list[SignatureReport], revisions: list[RevisionChanges]) -> None:
    """Tighten pyHanko's verdicts with what the later revisions did.

    * A later change of what the pages show (content replaced or drawn over, pages added or removed, a
      field's appearance replaced while its value stayed) is never allowed, whatever pyHanko's form-filling
      rule said: that is how shadow attacks pass.
    * The issuing agency's expected additions (Decree 30: number and date filled into the two empty text
      fields, the agency seal added in its field by a trusted signer, and validation data) make no warning:
      they are named instead.
    """
    by_field = {report.field_name: report for report in reports}
    for report in reports:
        if report.revision is None:
            continue
        later = [change for revision in revisions if revision.revision > report.revision
                 for change in revision.changes]
        if not later:
            continue
        if any(change.kind in VISIBLE_CONTENT_CHANGES for change in later):
            report.visible_content_changed = True
            if report.coverage:
                apply_verdict_rule(report)
            else:  # a signature pyHanko could not process: say that the file also changed afterwards
                _add(report.reasons, MSG_VISIBLE_CONTENT_CHANGED)
                report.verdict = Verdict.INVALID
            continue
        if not report.coverage and report.verdict == Verdict.INVALID:
            if any(change.kind not in _LTA_CHANGES for change in later):
                _add(report.reasons, MSG_CHANGED_AFTER_SIGNING)
    for report in reports:
        if report.revision is None or report.modification_level != "form_filling" or report.docmdp_ok is False:
            continue
        later = [change for revision in revisions if revision.revision > report.revision
                 for change in revision.changes]
        seal = by_field.get(ISSUING_SEAL_FIELD)
        if not later or seal is None or seal is report or seal.verdict != Verdict.VALID:
            continue
        if seal.revision is None or seal.revision <= report.revision:
            continue
        added = [change for change in later if change.kind == ChangeKind.SIGNATURE_ADDED]
        filled = [change for change in later if change.kind == ChangeKind.FIELD_FILLED]
        others = [change for change in later
                  if change.kind not in _LTA_CHANGES | {ChangeKind.SIGNATURE_ADDED, ChangeKind.FIELD_FILLED}]
        if others or [change.name for change in added] != [ISSUING_SEAL_FIELD]:
            continue
        names = [change.name for change in filled]
        if len(set(names)) != len(names) or not set(names) <= ISSUING_FIELDS:
            continue
        report.issuing_agency = seal.signer_name
        report.issuing_filled = bool(filled)
        report.warnings = [warning for warning in report.warnings if warning != WARN_FORM_FILLING]
        apply_verdict_rule(report)


def _signature_entries(reader: PdfFileReader) -> tuple[list[tuple[list[str], Any]], Exception | None]:
    """Filled signature fields, one entry per signature dictionary (a dictionary shared by several fields
    is one signature with several field names). Stops at the first field that cannot be read."""
    entries: dict[Any, tuple[list[str], Any]] = {}
    fields_iter = enumerate_sig_fields(reader, filled_status=True)
    while True:
        try:
            name, _value, sig_field = next(fields_iter)
        except StopIteration:
            return list(entries.values()), None
        except misc.PdfStrictReadError:
            raise
        except Exception as exc:
            return list(entries.values()), exc
        field_dict = sig_field.get_object() if isinstance(sig_field, generic.IndirectObject) else sig_field
        raw_value = field_dict.raw_get("/V")
        key = raw_value.reference if isinstance(raw_value, generic.IndirectObject) else ("direct", id(field_dict))
        if key in entries:
            entries[key][0].append(name)
        else:
            entries[key] = ([name], sig_field)


def _read_dss(reader: PdfFileReader) -> _FileData:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS (NoDSSFoundError) or an unreadable one: validate without it
        return _FileData()
    try:
        return _FileData(
            certs=list(dss.load_certs()),
            crls=[asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls],
            ocsps=[asn1_ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.ocsps],
            present=True,
            revisions=_dss_revisions(reader),
        )
    except Exception:
        logger.info("Ignoring an unreadable DSS", exc_info=True)
        return _FileData()


def _dss_revisions(reader: PdfFileReader) -> list[int]:
    """The revisions that wrote the DSS dictionary (pyHanko rewrites it in place whenever it adds to it).
    Best effort, for the PAdES level: [] for a direct DSS or a cross-reference table we cannot read."""
    try:
        raw = reader.root.raw_get("/DSS")
        if not isinstance(raw, generic.IndirectObject):
            return []
        xrefs = reader.xrefs
        return [r for r in range(xrefs.total_revisions) if raw.reference in xrefs.explicit_refs_in_revision(r)]
    except Exception:
        return []


def _is_document_timestamp(emb: EmbeddedPdfSignature) -> bool:
    return emb.sig_object_type == "/DocTimeStamp"


def _failed_report(name: str, exc: Exception, emb: EmbeddedPdfSignature | None) -> SignatureReport:
    """A signature pyHanko could not process: invalid when its data or format is broken, unverifiable when
    the problem only prevents a conclusion (no signer certificate)."""
    report = SignatureReport(field_name=name, technical_detail=_describe(exc))
    if emb is not None:
        report.is_document_timestamp = _is_document_timestamp(emb)
        try:
            _fill_certificate_facts(report, emb.signer_cert, None)
        except Exception:  # the certificate itself may be what is missing or broken
            pass
    subindication = getattr(exc, "ades_subindication", None)
    if subindication == AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND:
        report.reasons, report.verdict = [MSG_NO_SIGNER_CERTIFICATE], Verdict.UNVERIFIABLE
    elif isinstance(subindication, AdESFailure):
        reason = MSG_BAD_FORMAT if subindication == AdESFailure.FORMAT_FAILURE else MSG_MALFORMED
        report.reasons, report.verdict = [reason], Verdict.INVALID
    elif isinstance(subindication, AdESIndeterminate) and subindication.name.lower() in _TRUST_PROBLEM_REASONS:
        report.reasons = [_TRUST_PROBLEM_REASONS[subindication.name.lower()]]
        report.verdict = Verdict.UNVERIFIABLE
    else:
        # CMS parsing errors, PdfReadError inside the signed revision, AssertionError, KeyError ...: the
        # signature cannot be valid, and hostile files are the usual cause.
        report.reasons, report.verdict = [MSG_MALFORMED], Verdict.INVALID
    return report


def _common_name(name: asn1_x509.Name) -> str:
    value = name.native.get("common_name", "") if isinstance(name.native, dict) else ""
    if isinstance(value, list):
        value = ", ".join(str(part) for part in value)
    return str(value) or name.human_friendly


_SHORT_ATTRIBUTE_NAMES = {NameOID.EMAIL_ADDRESS: "E", NameOID.SERIAL_NUMBER: "SERIALNUMBER"}


def _rfc4514(certificate: asn1_x509.Certificate, attribute: str) -> str:
    try:
        with warnings.catch_warnings():  # a sender's malformed name (e.g. a 3-letter country) is not our warning
            warnings.simplefilter("ignore", UserWarning)
            parsed = x509.load_der_x509_certificate(certificate.dump())
            return getattr(parsed, attribute).rfc4514_string(_SHORT_ATTRIBUTE_NAMES)
    except Exception:  # fall back to asn1crypto's rendering for odd encodings
        return getattr(certificate, attribute).human_friendly


def _fill_certificate_facts(report: SignatureReport, certificate: asn1_x509.Certificate, path: Any) -> None:
    report.signer_name = _common_name(certificate.subject)
    report.signer_certificate_sha256 = hashlib.sha256(certificate.dump()).hexdigest()
    report.issuer = _rfc4514(certificate, "issuer")
    serial = certificate.serial_number
    report.serial = f"{serial:X}" if serial >= 0 else str(serial)
    report.certificate_not_before = certificate.not_valid_before
    report.certificate_not_after = certificate.not_valid_after
    if path is not None:
        chain = [_rfc4514(cert, "subject") for cert in path.iter_certs(include_root=True)]
        report.chain = list(reversed(chain))
    else:
        report.chain = [_rfc4514(certificate, "subject")]


def _relevant_revinfo(
    certificate: asn1_x509.Certificate, crls: Sequence[asn1_crl.CertificateList], ocsps: Sequence[Any]
) -> bool:
    """Do we hold revocation data that speaks about this certificate? Then insist on using it, even when the
    certificate declares no CRL or OCSP location (our demo PKI's certificates declare none)."""
    issuer = certificate.issuer
    if any(item["tbs_cert_list"]["issuer"] == issuer for item in crls):
        return True
    _has_crl, has_ocsp = get_declared_revinfo(certificate)
    if not has_ocsp:
        return False  # pyhanko-certvalidator only consults OCSP for certificates that declare a responder
    return _ocsp_about(certificate, ocsps)


def _ocsp_about(certificate: asn1_x509.Certificate, ocsps: Iterable[Any]) -> bool:
    serial = certificate.serial_number
    for response in ocsps:
        try:
            basic = response["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native == serial:
                    return True
        except Exception:  # an unusable response simply does not count
            continue
    return False


def _revocation_source(certificate: asn1_x509.Certificate, context: ValidationContext) -> str:
    """Which kind of answer spoke about the signer's certificate (best effort, for the report)."""
    if _ocsp_about(certificate, context.ocsps):
        return "ocsp"
    if any(item["tbs_cert_list"]["issuer"] == certificate.issuer for item in context.crls):
        return "crl"
    return ""


def _context(
    inputs: _Inputs, file_data: _FileData, *, insist_on_revinfo: bool, moment: datetime | None,
    strict_online: bool = True, fetching: bool = True,
) -> ValidationContext:
    """Offline, a certificate's declared OCSP/CRL is checked only if we hold data for it (soft rule: our
    demo PKI declares none, and a closed network cannot fetch). Online (`strict_online` and a fetcher
    backend), every certificate of the path that declares revocation info must get an answer."""
    strict = strict_online and inputs.online and fetching
    soft = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    declared = RevocationCheckingRule.CHECK_IF_DECLARED if strict else soft
    rule = RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if insist_on_revinfo else declared
    policy = CertRevTrustPolicy(RevocationCheckingPolicy(rule, declared))
    return ValidationContext(
        trust_roots=list(inputs.trust_roots),  # explicit, even when empty: never the OS trust store
        other_certs=inputs.intermediates + file_data.certs,
        moment=moment,
        allow_fetching=fetching and (inputs.allow_fetching or inputs.online),
        fetcher_backend=inputs.fetcher_backend if fetching else None,
        crls=inputs.crls + file_data.crls,
        ocsps=inputs.ocsps + file_data.ocsps,
        revinfo_policy=policy,
    )


def _name_of(value: Any) -> str:
    return value.name.lower() if value is not None else ""


def _verify_one(
    emb: EmbeddedPdfSignature, inputs: _Inputs, file_data: _FileData, timestamp_revisions: list[int]
) -> SignatureReport:
    all_crls = inputs.crls + file_data.crls
    all_ocsps = inputs.ocsps + file_data.ocsps
    signer_cert = emb.signer_cert
    insist = _relevant_revinfo(signer_cert, all_crls, all_ocsps)
    report = SignatureReport(field_name=emb.field_name)

    if _is_document_timestamp(emb):
        context = _context(inputs, file_data, insist_on_revinfo=insist, moment=inputs.moment)
        status = validate_pdf_timestamp(emb, validation_context=context)
        report.is_document_timestamp = True
        report.timestamp_time = status.timestamp
        report.timestamp_valid = status.intact and status.valid
        report.timestamp_trusted = status.trusted
        checked_at = inputs.moment
    else:
        signer_context = _context(inputs, file_data, insist_on_revinfo=insist, moment=inputs.moment)
        ts_context = _context(inputs, file_data, insist_on_revinfo=False, moment=inputs.moment, strict_online=False)
        status = validate_pdf_signature(
            emb, signer_context, ts_validation_context=ts_context, key_usage_settings=_SIGNER_KEY_USAGE
        )
        checked_at = inputs.moment
        timestamp = status.timestamp_validity
        if timestamp is not None:
            report.timestamp_time = timestamp.timestamp
            report.timestamp_valid = timestamp.intact and timestamp.valid
            report.timestamp_trusted = timestamp.trusted
        status, context, checked_at = _recheck_at_timestamp(emb, status, inputs, file_data, insist) or (
            status,
            signer_context,
            checked_at,
        )
        report.signing_time = extract_self_reported_ts(emb.signer_info) or status.signer_reported_dt
        report.seed_values_ok = status.seed_value_ok
        report.pades_level = _pades_level(emb, timestamp is not None, file_data, timestamp_revisions)

    report.intact = bool(status.intact)
    report.valid = bool(status.valid)
    report.trust_problem = _name_of(status.trust_problem_indic)
    report.trusted = bool(report.valid and status.trust_problem_indic is None and status.validation_path is not None)
    report.coverage = _COVERAGE_NAMES.get(status.coverage, "")
    report.modification_level = _name_of(status.modification_level)
    report.docmdp_ok = status.docmdp_ok
    report.checked_at = checked_at or inputs.reported_time
    _fill_certificate_facts(report, status.signing_cert, status.validation_path)
    report.revocation, report.revocation_time = _revocation_state(status, context, insist, inputs)
    if report.revocation in (Revocation.GOOD, Revocation.REVOKED):
        report.revocation_source = _revocation_source(status.signing_cert, context)
    if inputs.online:
        report.revocation_online = True
        if _revocation_was_unavailable(emb, status, inputs, file_data, insist, checked_at):
            report.trust_problem = "try_later"
            report.revocation = Revocation.UNKNOWN
    return apply_verdict_rule(report)


_UNANSWERED = {
    AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,  # what certvalidator's InsufficientRevinfoError becomes
    AdESIndeterminate.TRY_LATER,
    AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE,
}


def _revocation_was_unavailable(
    emb: EmbeddedPdfSignature, status: Any, inputs: _Inputs, file_data: _FileData, insist: bool,
    moment: datetime | None,
) -> bool:
    """Online, pyHanko reports a revocation answer it could not get as a general chain failure. Tell that
    apart from a real chain problem by checking again offline with the soft rule (only in this failure case,
    so the usual path pays nothing): trusted then means only the revocation answer was missing."""
    if status.revocation_details is not None or status.trust_problem_indic not in _UNANSWERED:
        return False
    context = _context(inputs, file_data, insist_on_revinfo=insist, moment=moment, fetching=False)
    if _is_document_timestamp(emb):
        again = validate_pdf_timestamp(emb, validation_context=context)
    else:
        ts_context = _context(inputs, file_data, insist_on_revinfo=False, moment=moment, fetching=False)
        again = validate_pdf_signature(emb, context, ts_validation_context=ts_context,
                                       key_usage_settings=_SIGNER_KEY_USAGE, skip_diff=True)
    return again.trust_problem_indic is None and again.validation_path is not None


_SIGNER_KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
"""Either usage will do, as in Adobe Reader; pyHanko's default demands non-repudiation, which would refuse
certificates that CAs issue with digitalSignature alone."""

# Only expiry: a revoked certificate stays invalid even before its revocation date (issue 4's rule; a CRL
# issued after the timestamp cannot be used at the timestamp's time without retroactive trust).
_RECHECKABLE = {AdESIndeterminate.OUT_OF_BOUNDS_NO_POE}


def _recheck_at_timestamp(
    emb: EmbeddedPdfSignature, status: Any, inputs: _Inputs, file_data: _FileData, insist: bool
) -> tuple[Any, ValidationContext, datetime] | None:
    """The certificate expired after a trusted timestamp proves the signature existed: check the chain as
    it stood at the timestamp's time (the usual long-term validation model)."""
    timestamp = status.timestamp_validity
    if status.trust_problem_indic not in _RECHECKABLE or timestamp is None:
        return None
    if not (timestamp.intact and timestamp.valid and timestamp.trusted):
        return None
    horizon = status.error_time_horizon
    if horizon is None or timestamp.timestamp >= horizon:
        return None
    context = _context(inputs, file_data, insist_on_revinfo=insist, moment=timestamp.timestamp)
    ts_context = _context(inputs, file_data, insist_on_revinfo=False, moment=timestamp.timestamp, strict_online=False)
    rechecked = validate_pdf_signature(
        emb, context, ts_validation_context=ts_context, key_usage_settings=_SIGNER_KEY_USAGE, skip_diff=True
    )
    if rechecked.trust_problem_indic is None and rechecked.validation_path is not None:
        # only the trust facts change; integrity, coverage and the difference analysis stay those of the
        # first run (same bytes), so the diff analysis is not repeated
        trust = {
            "trust_problem_indic": None,
            "validation_path": rechecked.validation_path,
            "revocation_details": rechecked.revocation_details,
            "error_time_horizon": rechecked.error_time_horizon,
        }
        return dataclasses.replace(status, **trust), context, timestamp.timestamp
    return None


def _revocation_state(
    status: Any, context: ValidationContext, insist: bool, inputs: _Inputs
) -> tuple[str, datetime | None]:
    details = status.revocation_details
    if details is not None:
        return Revocation.REVOKED, details.revocation_date
    trusted = status.trust_problem_indic is None and status.validation_path is not None
    if insist:
        return (Revocation.GOOD if trusted else Revocation.UNKNOWN), None
    if inputs.online:  # strict: trusted means every declared OCSP/CRL answered (_verify_one handles the rest)
        has_crl, has_ocsp = get_declared_revinfo(status.signing_cert)
        return (Revocation.GOOD if trusted and (has_crl or has_ocsp) else Revocation.NOT_CHECKED), None
    if inputs.allow_fetching:
        has_crl, has_ocsp = get_declared_revinfo(status.signing_cert)
        if trusted and (has_crl or has_ocsp) and not context.soft_fail_exceptions:
            return Revocation.GOOD, None
        return Revocation.UNKNOWN, None
    return Revocation.NOT_CHECKED, None


def _pades_level(
    emb: EmbeddedPdfSignature, has_signature_timestamp: bool, file_data: _FileData, timestamp_revisions: list[int]
) -> str:
    """Best effort, after ETSI EN 319 142-1 where each level builds on the previous one. Plain PKCS#7
    signatures: ''. ETSI.CAdES.detached:

    - with a signature time-stamp: B-T; B-LT when the file also has a DSS; B-LTA when a document timestamp
      was added after the signature;
    - without one (B-B), a document timestamp in a later revision gives the trusted time of B-T; a DSS
      written in that timestamp's revision or later (its validation data and the signature's) makes B-LT;
      a further document timestamp after that first one, in the revision of that DSS or later (so covering
      it), makes B-LTA (what `signatures.archival` writes). When the DSS's revisions cannot be told, any
      DSS counts for B-LT and any second later document timestamp for B-LTA.

    Whether the DSS really holds every certificate's revocation data is judged by the validation itself
    (trusted, revocation), not here."""
    if emb.sig_object.get("/SubFilter") != "/ETSI.CAdES.detached":
        return ""
    if has_signature_timestamp:
        if not file_data.present:
            return "B-T"
        if any(revision > emb.signed_revision for revision in timestamp_revisions):
            return "B-LTA"
        return "B-LT"
    later = sorted(revision for revision in timestamp_revisions if revision > emb.signed_revision)
    if not later:
        return "B-B"
    first = later[0]
    if not file_data.present:
        return "B-T"
    if file_data.revisions:
        dss_after = [revision for revision in file_data.revisions if revision >= first]
        if not dss_after:  # a DSS older than the trusted time cannot hold its timestamp's validation data
            return "B-T"
        covered_from = dss_after[0]
    else:
        covered_from = first
    if any(revision > first and revision >= covered_from for revision in later):
        return "B-LTA"
    return "B-LT"
