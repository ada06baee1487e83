"""PAdES B-LTA: the archival timestamps that keep a signed PDF provable after its certificates expire.

The PAdES levels build on each other (ETSI EN 319 142-1): B-T needs a trusted time for the signature, B-LT
the validation data (the certificates of each path and the OCSP responses / CRLs saying they were not
revoked, in the document security store, DSS) of the signature and of that time's timestamp, and B-LTA a
further document timestamp (RFC 3161, from the TSA at `tsa_url`) over that validation data.
`add_archival_timestamp` appends, as incremental updates:

1. only if a signature has no signature time-stamp of its own (B-B, as ours usually are): a document
   timestamp, the trusted time of B-T;
2. the DSS with the validation data of every signature (and of its own time-stamp) and of that first
   document timestamp (B-LT), and, in the same revision, a document timestamp over all of it (B-LTA),
   whose TSA's validation data is put into the DSS before it.

So a file whose signatures all carry a signature time-stamp gets one revision (DSS + document timestamp),
the others two. The original bytes stay a prefix of the result, so every signature still covers exactly
what it covered; a later document timestamp can extend the chain before the last TSA certificate expires.

Validation data is gathered with a context built from this installation's trust store (`trust`) and, when
SIGNATURE_REVOCATION_CHECKING is on, fetched online through `signatures.revocation` (bounded, cached). Every
certificate of every path must get revocation data ("require"): an archive copy without it would not prove
anything later, so it is refused with a reason instead.

Reasons are English message ids (gettext_noop), translated when shown (`str(error)` in the active language),
so a stored reason follows the reader's language like the verification reports do.
"""

from __future__ import annotations

import asyncio
import io
import logging

from django.conf import settings
from django.utils.translation import gettext, gettext_noop
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper, TimestampDSSContentSettings
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    InsufficientRevinfoError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)

from . import asn1, revocation, trust

logger = logging.getLogger(__name__)

ERR_UNREADABLE = gettext_noop("The file could not be read as a PDF.")
ERR_NO_SIGNATURES = gettext_noop("The file has no digital signature to preserve.")
ERR_TSA_NOT_CONFIGURED = gettext_noop("No timestamp authority is configured for archiving.")
ERR_TSA_UNREACHABLE = gettext_noop("The timestamp authority could not be reached or refused the request; "
                                   "try again later.")
ERR_TSA_UNTRUSTED = gettext_noop("The timestamp authority's certificate is not trusted by this installation.")
ERR_REVOCATION_UNAVAILABLE = gettext_noop("The revocation data (OCSP or CRL) of a certificate could not be "
                                          "obtained, so the signatures cannot be preserved yet.")
ERR_UNTRUSTED = gettext_noop("A signature's certificate does not chain to a trusted certificate authority.")
ERR_REVOKED = gettext_noop("A signature's certificate has been revoked; the file is not timestamped.")

DIGEST = "sha256"


class ArchivalTimestampError(Exception):
    """Why a file could not get its archival timestamp: `reason` is an English message id (translated by
    `str()`), `detail` the technical cause for the logs."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return gettext(self.reason)


def archival_validation_context() -> ValidationContext:
    """The trust store's roots, intermediates and CRLs; online fetching when revocation checking is on.
    Revocation data is required for every certificate below the roots (what B-LTA must embed)."""
    backend = revocation.fetcher_backend()
    return ValidationContext(
        trust_roots=[asn1.certificate(c) for c in trust.trust_roots()],  # explicit: never the OS store
        other_certs=[asn1.certificate(c) for c in trust.intermediates()],
        crls=[asn1.crl(c) for c in trust.revocation_lists()],
        allow_fetching=backend is not None,
        fetcher_backend=backend,
        revocation_mode="require",
    )


def tsa_timestamper(tsa_url: str) -> TimeStamper:
    return HTTPTimeStamper(tsa_url, timeout=float(getattr(settings, "ARCHIVE_TSA_TIMEOUT", 10)))


def add_archival_timestamp(pdf_bytes: bytes, *, tsa_url: str,
                           validation_context: ValidationContext | None = None,
                           timestamper: TimeStamper | None = None) -> bytes:
    """The signed PDF made PAdES B-LTA by incremental updates (see the module docstring): a document timestamp
    first if a signature has no time-stamp of its own, then the validation data of the signatures and of that
    timestamp (DSS) under a second document timestamp from `tsa_url`. Raises ArchivalTimestampError with the
    reason. `timestamper` replaces the HTTP client (an in-process TSA in tests); `validation_context` replaces
    the trust store's."""
    if not tsa_url and timestamper is None:
        raise ArchivalTimestampError(ERR_TSA_NOT_CONFIGURED)
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signatures = list(reader.embedded_regular_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise ArchivalTimestampError(ERR_UNREADABLE, str(exc)) from exc
    if not signatures:
        raise ArchivalTimestampError(ERR_NO_SIGNATURES)
    context = validation_context or archival_validation_context()
    timestamper = timestamper or tsa_timestamper(tsa_url)
    try:
        return asyncio.run(_timestamp(pdf_bytes, signatures, context, timestamper))
    except ArchivalTimestampError:
        raise
    except PdfError as exc:
        raise ArchivalTimestampError(ERR_UNREADABLE, str(exc)) from exc


async def _timestamp(pdf_bytes: bytes, signatures, context: ValidationContext, timestamper: TimeStamper) -> bytes:
    try:
        paths = []
        for signature in signatures:  # the signers' paths first: a revoked or untrusted one never reaches the TSA
            paths.extend(await _paths(signature, context, untrusted=ERR_UNTRUSTED))
        data = pdf_bytes
        if any(_lacks_signature_timestamp(signature) for signature in signatures):
            # B-T: the trusted time of signatures that bring none of their own, a document timestamp over them
            data = await _document_timestamp(data, timestamper)
            added = _timestamps_after(data, len(pdf_bytes))
            if len(added) != 1:  # never: the update holds exactly the timestamp just written
                raise ArchivalTimestampError(ERR_UNREADABLE, f"{len(added)} new document timestamps")
            paths.extend(await _paths(added[0], context, untrusted=ERR_TSA_UNTRUSTED, tsa=True))
        # B-LT: the validation data of the signatures (and of the first timestamp, if any) in the DSS, then
        # B-LTA: a document timestamp over it, in the same revision; update_before_ts puts this TSA's data
        # into the DSS before (and so under) the timestamp
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=context)
        data = await _document_timestamp(
            writer, timestamper, validation_context=context,
            dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False))
    finally:
        await context.aclose()
    if not data.startswith(pdf_bytes):  # never: incremental updates only append
        raise ArchivalTimestampError(ERR_UNREADABLE, "the update did not keep the original bytes")
    return data


def _lacks_signature_timestamp(signature: EmbeddedPdfSignature) -> bool:
    """No RFC 3161 signature time-stamp among the unsigned attributes (PAdES B-B): no trusted time."""
    attributes = signature.signer_info["unsigned_attrs"]
    if not attributes or attributes.native is None:
        return True
    return not any(attribute["type"].native == "signature_time_stamp_token" for attribute in attributes)


def _timestamps_after(data: bytes, offset: int) -> list[EmbeddedPdfSignature]:
    """The document timestamps written after the first `offset` bytes (the one just added)."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return [ts for ts in reader.embedded_timestamp_signatures if ts.byte_range[2] > offset]


async def _paths(signature: EmbeddedPdfSignature, context: ValidationContext, *, untrusted: str,
                 tsa: bool = False) -> list:
    """The validation paths (and, cached in `context`, the revocation data) of a signature or timestamp
    and of the timestamps attached to it; the reason why not otherwise."""
    prefix = "TSA: " if tsa else ""
    try:
        return list(await collect_validation_info(signature, context))
    except RevokedError as exc:
        raise ArchivalTimestampError(ERR_TSA_UNTRUSTED if tsa else ERR_REVOKED, prefix + str(exc)) from exc
    except InsufficientRevinfoError as exc:
        raise ArchivalTimestampError(ERR_REVOCATION_UNAVAILABLE, prefix + str(exc)) from exc
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        raise ArchivalTimestampError(untrusted, prefix + str(exc)) from exc


async def _document_timestamp(pdf: bytes | IncrementalPdfFileWriter, timestamper: TimeStamper, *,
                              validation_context: ValidationContext | None = None,
                              dss_settings: TimestampDSSContentSettings | None = None) -> bytes:
    """`pdf` plus an incremental update with a document timestamp from `timestamper`. With a validation
    context, the TSA's certificate is validated and its validation data goes into the DSS (`dss_settings`)."""
    writer = pdf if isinstance(pdf, IncrementalPdfFileWriter) else IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = io.BytesIO()
    try:
        await PdfTimeStamper(timestamper).async_timestamp_pdf(
            writer, DIGEST, validation_context=validation_context, output=output,
            dss_settings=dss_settings or TimestampDSSContentSettings())
    except (TimestampRequestError, OSError) as exc:
        raise ArchivalTimestampError(ERR_TSA_UNREACHABLE, str(exc)) from exc
    except InsufficientRevinfoError as exc:
        raise ArchivalTimestampError(ERR_REVOCATION_UNAVAILABLE, f"TSA: {exc}") from exc
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        raise ArchivalTimestampError(ERR_TSA_UNTRUSTED, str(exc)) from exc
    return output.getvalue()
