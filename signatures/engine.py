"""PAdES signing engine: the leader's signature, the agency seal and attachment stamps (pyHanko 0.38).

Pure library code: bytes in, bytes out, no database. The services and Celery tasks call these functions; the
private key stays behind a `KeyHolder` (signatures/signers.py), so a stored key, a PKCS#11 token and a remote
signing service all go through the same path.

The shapes follow Decree 30/2020, Appendix I (see vn-clerical-rules.md §1.6):

- `sign_personal`: the competent person's signature, a blue transparent PNG between the position title and
  the name. It also creates the empty text fields for the number/notation and the date, and locks every other
  field, so the clerk can fill those two later without invalidating it (form filling after an approval
  signature is an allowed change: pyHanko reports it as FORM_FILLING).
- `fill_number_and_date`, `sign_seal`, `fill_and_seal`: the clerk writes the number and date (Vietnamese
  text drawn with an embedded font, on the baseline of the document's line, the date in italics) and applies
  the agency signature with the red seal image, in an incremental update that covers the whole file.
- `sign_attachment`: the agency signature on a separate attachment file: no image, the number/notation and
  the signing time (ISO 8601, +07:00) in 10 pt serif black at the top right of the first page.

Speed (see stack-facts.md; bench/signing.py measures it): the key holder keeps its parsed key; the
certificates are converted to asn1crypto once per process; the CMS space is reserved from the known certificate
sizes (no dry-run signature); the signed attributes and SignerInfo are handed to pyHanko as objects re-loaded
from DER with the per-certificate parts cached (asn1crypto otherwise re-serialises constructed values at every
dump: that was ~70 % of the time); the fonts are pre-subset at 1000 units per em (fonts/build_fonts.py) and
embedded from cached compressed bytes without fontTools or HarfBuzz per call; each PNG is decoded and
compressed once; and the last page is found by reading the page tree from the end (pyHanko reads every page
before the one asked for).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import io
import logging
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from fontTools.ttLib import TTFont
from PIL import Image
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter, init_xobject_dictionary
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    SignatureFormField,
    SigSeedSubFilter,
)
from pyhanko.sign.general import (
    SigningError,
    as_signing_certificate,
    as_signing_certificate_v2,
    simple_cms_attribute,
)
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import DSSContentSettings, PdfSigningSession, SigDSSPlacementPreference
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko.stamp import BaseStamp, BaseStampStyle, TextStampStyle
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathError, RevokedError, ValidationError
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_declared_revinfo

from signatures import asn1, revocation
from signatures.geometry import Box
from signatures.signers import KeyHolder

__all__ = [
    "DATE_FIELD",
    "LEADER_FIELD",
    "NUMBER_FIELD",
    "SEAL_FIELD",
    "VIETNAM_TZ",
    "Box",
    "InProcessTimeStamper",
    "KeyHolderSigner",
    "SigningEngineError",
    "StampFont",
    "ValidationMaterial",
    "attachment_stamp_box",
    "fill_and_seal",
    "fill_number_and_date",
    "format_signing_time",
    "make_timestamper",
    "sign_attachment",
    "sign_personal",
    "sign_seal",
    "timestamper_from_url",
]

NUMBER_FIELD = "SoKyHieu"
"""Text field for the number and notation ("Số: 15/QĐ-UBND"), filled by the clerk after the leader signs."""
DATE_FIELD = "NgayBanHanh"
"""Text field for the place and date line ("Hòa Bình, ngày 23 tháng 11 năm 2026")."""
LEADER_FIELD = "ChuKyLanhDao"
SEAL_FIELD = "ChuKyCoQuan"

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
"""Vietnam has one time zone and no daylight saving time: UTC+07:00."""


class _DropOfflineEmbeddingWarning(logging.Filter):
    """pyHanko warns on every B-LT signature that fetching is disabled; offline embedding is our design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_DropOfflineEmbeddingWarning())
logger = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent / "fonts"

FIELD_FONT_SIZE = 13  # Decree 30, PL I: number/notation and date are set in 13-14 pt
ATTACHMENT_FONT_SIZE = 10  # Decree 30, PL I §II.8.b: attachment stamp text in 10 pt
MM = 72 / 25.4

_DIGEST = "sha256"
# Room for the signed attributes, the signer info and an RSA-4096 signature, on top of the certificates.
_CMS_OVERHEAD = 3 * 1024
# A timestamp token carries its own signature and the TSA's certificates (4.3 KB with the demo TSA's chain).
_TIMESTAMP_ALLOWANCE = 8 * 1024


class SigningEngineError(Exception):
    """The document cannot be signed as asked (missing field, unreadable image, ...). Not retryable.

    The message is translated when shown (a task may store it for a later page in the user's language).
    """


def _interpolate(message: str, params: dict[str, object]) -> str:
    return str(message) % params


_lazy_interpolate = lazy(_interpolate, str)


# --------------------------------------------------------------------------------------------------------------
# Certificates and revocation data: converted to asn1crypto once per process


@functools.cache
def _content_type_data_attribute() -> cms.CMSAttribute:
    return cms.CMSAttribute.load(simple_cms_attribute("content_type", "data").dump())


@functools.lru_cache(maxsize=512)
def _signing_certificate_v2_attribute(certificate_der: bytes) -> cms.CMSAttribute:
    attribute = simple_cms_attribute(
        "signing_certificate_v2", as_signing_certificate_v2(asn1.certificate_from_der(certificate_der))
    )
    return cms.CMSAttribute.load(attribute.dump())


@functools.lru_cache(maxsize=512)
def _signer_identifier(certificate_der: bytes) -> cms.SignerIdentifier:
    certificate = asn1.certificate_from_der(certificate_der)
    identifier = cms.SignerIdentifier(
        {
            "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
            )
        }
    )
    return cms.SignerIdentifier.load(identifier.dump())


@functools.cache
def _digest_algorithm(name: str) -> algos.DigestAlgorithm:
    return algos.DigestAlgorithm.load(algos.DigestAlgorithm({"algorithm": name}).dump())


@functools.cache
def _signature_algorithm(name: str) -> algos.SignedDigestAlgorithm:
    return algos.SignedDigestAlgorithm.load(algos.SignedDigestAlgorithm({"algorithm": name}).dump())


@dataclass
class ValidationMaterial:
    """Everything needed to embed PAdES B-LT validation data without touching the network.

    Objects may be `cryptography` objects (Certificate, CertificateRevocationList, ocsp.OCSPResponse) or DER
    bytes. The signer validates its own chain against these before signing and writes the certificates,
    CRLs and OCSP responses into the document security store (DSS), so a verifier needs nothing else.
    """

    trust_roots: Sequence[Any]
    intermediates: Sequence[Any] = field(default_factory=list)
    crls: Sequence[Any] = field(default_factory=list)
    ocsp_responses: Sequence[Any] = field(default_factory=list)
    revocation_mode: str = "hard-fail"
    """pyhanko-certvalidator mode: 'hard-fail' refuses to sign when available revocation data says revoked
    or cannot be checked; 'require' also refuses when a certificate has no revocation data at all."""

    _asn1: tuple[list, list, list, list] | None = field(default=None, init=False, repr=False, compare=False)

    def validation_context(self, *, moment: datetime | None = None) -> ValidationContext:
        """A fresh offline context (contexts accumulate state, so do not share one between signatures). The
        certificates and CRLs are converted to asn1crypto once per material: parsing the CRLs again for every
        signature cost more than the signature's own RSA operation."""
        if self._asn1 is None:
            self._asn1 = ([asn1.certificate(c) for c in self.trust_roots],
                          [asn1.certificate(c) for c in self.intermediates],
                          [asn1.crl(c) for c in self.crls], [asn1.ocsp(o) for o in self.ocsp_responses])
        roots, others, crls, ocsps = self._asn1
        return ValidationContext(
            trust_roots=list(roots),
            other_certs=list(others),
            crls=list(crls),
            ocsps=list(ocsps),
            allow_fetching=False,
            revocation_mode=self.revocation_mode,
            moment=moment,
        )


# --------------------------------------------------------------------------------------------------------------
# The signer adapter


class KeyHolderSigner(Signer):
    """pyHanko `Signer` whose raw signature comes from a `KeyHolder` (stored key, token, remote service).

    The certificates are converted to asn1crypto once (and cached per process by their DER bytes), and the
    signature mechanism is fixed up front, so pyHanko never has to inspect the key.
    """

    def __init__(self, key_holder: KeyHolder, *, embed_roots: bool = True) -> None:
        if key_holder.key_algorithm == "rsa":
            mechanism = f"{_DIGEST}_rsa"
        elif key_holder.key_algorithm == "ecdsa":
            mechanism = f"{_DIGEST}_ecdsa"
        else:
            raise SigningEngineError(f"Unsupported key algorithm {key_holder.key_algorithm!r}")
        signing_cert = asn1.certificate(key_holder.certificate)
        chain = [asn1.certificate(c) for c in key_holder.chain]
        super().__init__(
            signing_cert=signing_cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mechanism}),
            embed_roots=embed_roots,
        )
        self.key_holder = key_holder
        self.certificates_size = len(signing_cert.dump()) + sum(len(c.dump()) for c in chain)
        public_key = key_holder.certificate.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            self._signature_size = public_key.key_size // 8
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            self._signature_size = 2 * ((public_key.key_size + 7) // 8) + 9
        else:
            self._signature_size = 512

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            return bytes(self._signature_size)
        return self.key_holder.sign(data, digest_algorithm)

    # Speed: asn1crypto re-serialises a value built from Python objects every time anything containing it is
    # dumped, and pyHanko dumps the signed attributes, the SignerInfo and the whole CMS several times. The two
    # overrides below produce the same DER as pyHanko's defaults, but hand back objects re-loaded from their
    # DER (which asn1crypto dumps by copying bytes) and reuse the per-certificate parts across signatures.

    async def signed_attrs(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: PdfCMSSignedAttributes | None = None,
        content_type: str = "data",
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        dry_run: bool = False,
        is_pdf_sig: bool = True,
    ) -> cms.CMSAttributes:
        plain_pades = (
            use_pades
            and is_pdf_sig
            and content_type == "data"
            and self.signed_attr_prov_spec is None
            and (attr_settings is None or attr_settings.cades_signed_attrs is None)
        )
        if not plain_pades:
            attributes = await super().signed_attrs(
                data_digest,
                digest_algorithm,
                attr_settings=attr_settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
            return cms.CMSAttributes.load(attributes.dump())
        # What CAdESSignedAttributeProviderSpec yields for PAdES: content type, message digest, and the
        # signing-certificate-v2 reference (PAdES forbids the signing-time attribute; /M carries the time).
        attributes = cms.CMSAttributes(
            [
                _content_type_data_attribute(),
                simple_cms_attribute("message_digest", data_digest),
                _signing_certificate_v2_attribute(self.signing_cert.dump()),
            ]
        )
        return cms.CMSAttributes.load(attributes.dump())

    def signer_info(self, digest_algorithm: str, signed_attrs: cms.CMSAttributes, signature: bytes) -> cms.SignerInfo:
        if digest_algorithm != _DIGEST:
            return super().signer_info(digest_algorithm, signed_attrs, signature)
        mechanism = self.signature_mechanism["algorithm"].native
        return cms.SignerInfo(
            {
                "version": "v1",
                "sid": _signer_identifier(self.signing_cert.dump()),
                "digest_algorithm": _digest_algorithm(digest_algorithm),
                "signature_algorithm": _signature_algorithm(mechanism),
                "signed_attrs": signed_attrs,
                "signature": signature,
            }
        )

    def bytes_to_reserve(self, timestamper: TimeStamper | None) -> int:
        """Hex characters to reserve for /Contents: generous, so pyHanko never needs a dry-run signature."""
        estimate = self.certificates_size + self._signature_size + _CMS_OVERHEAD
        if timestamper is not None:
            estimate += _TIMESTAMP_ALLOWANCE
        return 2 * (-(-estimate // 1024) * 1024)


class _TimedPdfSigner(PdfSigner):
    """PdfSigner whose claimed signing time (/M, the visible stamp) is chosen by the caller."""

    def __init__(self, *args: Any, signing_time: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signing_time = signing_time

    def init_signing_session(self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        if self.signing_time is not None:
            session.system_time = self.signing_time
        return session


# --------------------------------------------------------------------------------------------------------------
# Timestamps


class InProcessTimeStamper(DummyTimeStamper):
    """RFC 3161 timestamps signed in this process with a TSA key we hold (demo PKI, tests, benchmarks).

    pyHanko's DummyTimeStamper re-parses the key on every token and knows only RSA; this keeps the parsed
    key and also signs with ECDSA.
    """

    def __init__(
        self,
        tsa_cert: x509.Certificate,
        tsa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        chain: Iterable[x509.Certificate] = (),
        *,
        fixed_time: datetime | None = None,
    ) -> None:
        key_info = asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        super().__init__(
            tsa_cert=asn1.certificate(tsa_cert),
            tsa_key=key_info,
            certs_to_embed=SimpleCertificateStore.from_certs([asn1.certificate(c) for c in chain]),
            fixed_dt=fixed_time,
        )
        self._private_key = tsa_key

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        # Re-loaded from DER: the token is dumped again with every dump of the CMS that carries it.
        return tsp.TimeStampResp.load(super().request_tsa_response(req).dump())

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: datetime) -> tuple[bytes, cms.CMSAttributes]:
        hash_algorithm = getattr(hashes, md_algorithm.upper())()
        digest = hashes.Hash(hash_algorithm)
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        if isinstance(self._private_key, rsa.RSAPrivateKey):
            signature = self._private_key.sign(signed_attrs.dump(), padding.PKCS1v15(), hash_algorithm)
        else:
            signature = self._private_key.sign(signed_attrs.dump(), ec.ECDSA(hash_algorithm))
        return signature, signed_attrs

    def _build_signed_data(self, tst_info_data, md_algorithm, signature, signed_attrs):
        signed_data = super()._build_signed_data(tst_info_data, md_algorithm, signature, signed_attrs)
        if isinstance(self._private_key, ec.EllipticCurvePrivateKey):
            signed_data["signer_infos"][0]["signature_algorithm"] = algos.SignedDigestAlgorithm(
                {"algorithm": f"{md_algorithm}_ecdsa"}
            )
        return signed_data


def make_timestamper(
    tsa_cert: x509.Certificate,
    tsa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    chain: Iterable[x509.Certificate] = (),
    *,
    fixed_time: datetime | None = None,
) -> TimeStamper:
    """An in-process RFC 3161 TSA (demo PKI and tests). Production uses `timestamper_from_url`."""
    return InProcessTimeStamper(tsa_cert, tsa_key, chain, fixed_time=fixed_time)


def timestamper_from_url(url: str, *, timeout: float = 10) -> TimeStamper:
    """An RFC 3161 client for a TSA over HTTP(S) (e.g. a CA's public TSA)."""
    return HTTPTimeStamper(url, timeout=timeout)


# --------------------------------------------------------------------------------------------------------------
# Fonts: pre-subset TrueType, embedded whole from cached compressed bytes


class StampFont(Enum):
    """The shipped fonts (signatures/fonts/, built by build_fonts.py)."""

    SANS = "DejaVuSansVN.ttf"
    SERIF = "DejaVuSerifVN.ttf"
    """Stands in for Times New Roman, which Decree 30 names but which we may not ship."""


class _PreparedFont:
    """Metrics and the compressed font program of one shipped font, loaded once per process."""

    def __init__(self, path: Path, *, serif: bool) -> None:
        raw = path.read_bytes()
        font = TTFont(io.BytesIO(raw))
        if font["head"].unitsPerEm != 1000:
            raise SigningEngineError(f"{path.name} must have 1000 units per em; run build_fonts.py")
        self.postscript_name = str(font["name"].getDebugName(6))
        glyph_order = font.getGlyphOrder()
        glyph_ids = {name: gid for gid, name in enumerate(glyph_order)}
        self.glyph_for_codepoint: dict[int, int] = {cp: glyph_ids[name] for cp, name in font.getBestCmap().items()}
        hmtx = font["hmtx"]
        self.advance: list[int] = [hmtx[name][0] for name in glyph_order]
        head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
        self.descriptor_metrics = {
            "/Ascent": generic.NumberObject(hhea.ascent),
            "/Descent": generic.NumberObject(hhea.descent),
            "/CapHeight": generic.NumberObject(getattr(os2, "sCapHeight", 700) or 700),
            "/FontBBox": generic.ArrayObject(
                generic.NumberObject(v) for v in (head.xMin, head.yMin, head.xMax, head.yMax)
            ),
            "/ItalicAngle": generic.NumberObject(0),
            "/StemV": generic.NumberObject(int(10 + 220 * (os2.usWeightClass - 50) / 900)),
            # bit 3 = symbolic (glyphs addressed by CID, not a standard encoding), bit 2 = serif
            "/Flags": generic.NumberObject(0b110 if serif else 0b100),
        }
        self.font_file_length = len(raw)
        self.font_file = zlib.compress(raw, 9)

    def encode(self, text: str) -> tuple[list[tuple[int, str]], int]:
        """Glyphs (with the characters they stand for) and the advance width in 1/1000 em.

        NFC first, so every Vietnamese letter is one precomposed glyph; a character the font lacks falls back
        to its decomposition (base letter + combining marks), and then to .notdef.
        """
        glyphs: list[tuple[int, str]] = []
        for char in unicodedata.normalize("NFC", text):
            gid = self.glyph_for_codepoint.get(ord(char))
            if gid is not None:
                glyphs.append((gid, char))
                continue
            for part in unicodedata.normalize("NFD", char):
                glyphs.append((self.glyph_for_codepoint.get(ord(part), 0), part))
        return glyphs, sum(self.advance[gid] for gid, _char in glyphs)

    def text_width(self, text: str, font_size: float) -> float:
        return self.encode(text)[1] * font_size / 1000


@functools.cache
def _prepared_font(font: StampFont) -> _PreparedFont:
    return _PreparedFont(FONT_DIR / font.value, serif=font is StampFont.SERIF)


class _PreparedFontEngine(FontEngine):
    """pyHanko font engine that shows text with a pre-subset font, without fontTools or HarfBuzz per call.

    The whole subset (~20 KB compressed) is embedded once per document; /W and /ToUnicode list only the
    glyphs used, so text stays extractable (ToUnicode) and correctly spaced.
    """

    def __init__(self, writer: BasePdfFileWriter, font: _PreparedFont) -> None:
        super().__init__(writer, font.postscript_name, embedded_subset=True, font_size=10)
        self.font = font
        self._used: dict[int, str] = {}
        self._ref = writer.allocate_placeholder()
        self._written = False

    @property
    def uses_complex_positioning(self) -> bool:
        return False  # plain Tj with /W widths; a TextBox moves to the next line with T*

    def shape(self, txt: str) -> ShapeResult:
        glyphs, width = self.font.encode(txt)
        for gid, char in glyphs:
            self._used.setdefault(gid, char)
        hex_glyphs = "".join(f"{gid:04x}" for gid, _char in glyphs)
        return ShapeResult(graphics_ops=f"<{hex_glyphs}> Tj".encode("ascii"), x_advance=width / 1000, y_advance=0)

    def as_resource(self) -> generic.IndirectObject:
        return self._ref

    def prepare_write(self) -> None:
        if self._written:
            return
        self._written = True
        writer, font = self.writer, self.font
        base_font = pdf_name(f"/{self.subset_prefix}+{font.postscript_name}")
        font_file = generic.StreamObject(
            {
                pdf_name("/Length1"): generic.NumberObject(font.font_file_length),
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
            },
            encoded_data=font.font_file,
        )
        descriptor = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/FontDescriptor"),
                pdf_name("/FontName"): base_font,
                pdf_name("/FontFile2"): writer.add_object(font_file),
                **{pdf_name(k): v for k, v in font.descriptor_metrics.items()},
            }
        )
        used = sorted(self._used.items())
        widths = generic.ArrayObject()
        for gid, _char in used:
            widths.append(generic.NumberObject(gid))
            widths.append(generic.ArrayObject([generic.NumberObject(font.advance[gid])]))
        cid_font = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
                pdf_name("/BaseFont"): base_font,
                pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                    {
                        pdf_name("/Registry"): pdf_string("Adobe"),
                        pdf_name("/Ordering"): pdf_string("Identity"),
                        pdf_name("/Supplement"): generic.NumberObject(0),
                    }
                ),
                pdf_name("/FontDescriptor"): writer.add_object(descriptor),
                pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
                pdf_name("/W"): widths,
            }
        )
        type0 = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type0"),
                pdf_name("/BaseFont"): base_font,
                pdf_name("/Encoding"): pdf_name("/Identity-H"),
                pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
                pdf_name("/ToUnicode"): writer.add_object(_to_unicode_cmap(used)),
            }
        )
        writer.add_object(type0, idnum=self._ref.idnum)


def _to_unicode_cmap(used: list[tuple[int, str]]) -> generic.StreamObject:
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    for start in range(0, len(used), 100):
        chunk = used[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{gid:04x}> <{char.encode('utf-16-be').hex()}>" for gid, char in chunk)
        lines.append("endbfchar")
    lines.append("endcmap CMapName currentdict /CMap defineresource pop end end")
    stream = generic.StreamObject(stream_data="\n".join(lines).encode("ascii"))
    stream.compress()
    return stream


@dataclass(frozen=True)
class _PreparedFontFactory(FontEngineFactory):
    font: StampFont

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: Any = None) -> FontEngine:
        # One embedding per document, however many text boxes use the font.
        prepared = _prepared_font(self.font)
        for engine in writer.get_subset_collection(prepared.postscript_name).subsets.values():
            if isinstance(engine, _PreparedFontEngine):
                return engine
        return _PreparedFontEngine(writer, prepared)


# --------------------------------------------------------------------------------------------------------------
# Images: decoded and compressed once per distinct PNG


@dataclass(frozen=True)
class _PreparedImage:
    width: int
    height: int
    color_space: str  # /DeviceRGB (grey and palette images are converted)
    data: bytes  # Flate-compressed samples
    alpha: bytes | None  # Flate-compressed soft mask, if the PNG is transparent


_MAX_IMAGE_SIDE = 1200
"""Pixels: a signature or seal is at most ~5 cm wide on paper, so this is still > 600 dpi; a phone photo or a
600-dpi scan is scaled down once instead of bloating every signed file."""


@functools.lru_cache(maxsize=64)
def _prepare_png(png: bytes) -> _PreparedImage:
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            converted = image.convert("RGBA" if transparent else "RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SigningEngineError(_("The signature image is not a readable PNG file.")) from exc
    if max(converted.size) > _MAX_IMAGE_SIDE:
        converted.thumbnail((_MAX_IMAGE_SIDE, _MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
    alpha = zlib.compress(converted.getchannel("A").tobytes(), 6) if transparent else None
    rgb = converted.convert("RGB") if transparent else converted
    return _PreparedImage(
        width=converted.width,
        height=converted.height,
        color_space="/DeviceRGB",
        data=zlib.compress(rgb.tobytes(), 6),
        alpha=alpha,
    )


def _image_stream(image: _PreparedImage, data: bytes, color_space: str) -> generic.StreamObject:
    return generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Image"),
            pdf_name("/Width"): generic.NumberObject(image.width),
            pdf_name("/Height"): generic.NumberObject(image.height),
            pdf_name("/ColorSpace"): pdf_name(color_space),
            pdf_name("/BitsPerComponent"): generic.NumberObject(8),
            pdf_name("/Filter"): pdf_name("/FlateDecode"),
        },
        encoded_data=data,
    )


def _add_image(writer: BasePdfFileWriter, image: _PreparedImage) -> generic.IndirectObject:
    stream = _image_stream(image, image.data, image.color_space)
    if image.alpha is not None:
        stream[pdf_name("/SMask")] = writer.add_object(_image_stream(image, image.alpha, "/DeviceGray"))
    return writer.add_object(stream)


_IMAGE_LAYOUT = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID,
    y_align=layout.AxisAlignment.ALIGN_MID,
    inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
)


@dataclass(frozen=True)
class _ImageStampStyle(BaseStampStyle):
    """Signature appearance that is only a picture (signature or seal), scaled to fit and centred."""

    image: _PreparedImage | None = None
    border_width: int = 0

    def create_stamp(self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict) -> BaseStamp:
        return _ImageStamp(writer, self, box)


class _ImageStamp(BaseStamp):
    def _render_inner_content(self) -> list[bytes]:
        image = self.style.image
        self.set_resource(ResourceType.XOBJECT, pdf_name("/Im0"), _add_image(self.writer, image))
        position = _IMAGE_LAYOUT.fit(self.box, image.width, image.height)
        return [b"q", position.as_cm(), b"%d 0 0 %d 0 0 cm /Im0 Do Q" % (image.width, image.height)]


# --------------------------------------------------------------------------------------------------------------
# Page lookup, the signature field, and the form fields for the number/notation and the date


def _page_ref(writer: BasePdfFileWriter, index: int) -> generic.IndirectObject:
    """The page object at `index` (negative counts from the end).

    pyHanko's own lookup reads every page before the one asked for (≈ 0.3 ms per page in pure Python), which
    made the last page of a 50-page file cost ≈ 15 ms per lookup. From the end, reading the page tree
    backwards touches only the last leaf (plus /Count of any intermediate node).
    """
    if index >= 0:
        return writer.find_page_for_modification(index)[0]
    pages_ref = writer.root.raw_get("/Pages")
    remaining = -index
    if remaining > int(pages_ref.get_object()["/Count"]):
        raise SigningEngineError(
            _lazy_interpolate(_("The document has fewer than %(count)s pages."), {"count": -index})
        )
    seen: set[generic.Reference] = set()

    def walk(node_ref: generic.IndirectObject) -> generic.IndirectObject | None:
        nonlocal remaining
        if node_ref.reference in seen:
            raise SigningEngineError(_("The document's page tree is damaged."))
        seen.add(node_ref.reference)
        for kid_ref in reversed(node_ref.get_object()["/Kids"]):
            kid = kid_ref.get_object()
            if "/Kids" in kid:  # an intermediate /Pages node: skip it whole unless our page is inside
                count = int(kid.get("/Count", 0))
                if count >= remaining:
                    return walk(kid_ref)
                remaining -= count
            elif remaining == 1:
                return kid_ref
            else:
                remaining -= 1
        return None

    page = walk(pages_ref)
    if page is None:
        raise SigningEngineError(_("The document's page tree is damaged."))
    return page


def _add_signature_field(writer: BasePdfFileWriter, spec: SigFieldSpec) -> None:
    """Create the (empty, visible) signature field ourselves, placed with `_page_ref`, so pyHanko only has to
    find it by name. Reuses an empty field of that name if the document already has one."""
    existing = _top_level_fields(writer).get(spec.sig_field_name)
    if existing is not None:
        if existing.get_object().get("/V") is not None:
            raise SigningEngineError(
                _lazy_interpolate(_("The document is already signed in field %(name)s."), {"name": spec.sig_field_name})
            )
        return
    form = _acroform(writer)
    fields = form.setdefault(pdf_name("/Fields"), generic.ArrayObject())
    sig_field = SignatureFormField(spec.sig_field_name, box=spec.box, include_on_page=_page_ref(writer, spec.on_page))
    lock = spec.format_lock_dictionary()
    if lock is not None:
        sig_field[pdf_name("/Lock")] = writer.add_object(lock)
    field_ref = writer.add_object(sig_field)
    fields.append(field_ref)
    writer.update_container(fields)
    sig_field.register_widget_annotation(writer, field_ref)


def _rect(box: Box) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) whatever corner order the caller used."""
    return min(box.x1, box.x2), min(box.y1, box.y2), max(box.x1, box.x2), max(box.y1, box.y2)


def _acroform(writer: BasePdfFileWriter) -> generic.DictionaryObject:
    root = writer.root
    try:
        form = root["/AcroForm"]
    except KeyError:
        form = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        root[pdf_name("/AcroForm")] = writer.add_object(form)
        writer.update_root()
    return form


def _top_level_fields(writer: BasePdfFileWriter) -> dict[str, generic.IndirectObject]:
    try:
        fields = writer.root["/AcroForm"]["/Fields"]
    except KeyError:
        return {}
    return {str(ref.get_object().get("/T", "")): ref for ref in fields}


def _empty_appearance(writer: BasePdfFileWriter, width: float, height: float) -> generic.DictionaryObject:
    stream = init_xobject_dictionary(b"", width, height)
    return generic.DictionaryObject({pdf_name("/N"): writer.add_object(stream)})


def _add_text_fields(writer: BasePdfFileWriter, boxes: dict[str, Box]) -> None:
    """Empty text widgets the clerk's fill will give a value and an appearance (centred, /Q 1)."""
    form = _acroform(writer)
    if "/DR" not in form:
        # /DA needs a font in /DR; Helvetica is only the viewer's fallback, our fill draws its own appearance.
        form[pdf_name("/DR")] = generic.DictionaryObject(
            {
                pdf_name("/Font"): generic.DictionaryObject(
                    {
                        pdf_name("/Helv"): generic.DictionaryObject(
                            {
                                pdf_name("/Type"): pdf_name("/Font"),
                                pdf_name("/Subtype"): pdf_name("/Type1"),
                                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
                                pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
                            }
                        )
                    }
                )
            }
        )
        writer.update_container(form)
    fields = form.setdefault(pdf_name("/Fields"), generic.ArrayObject())
    existing = _top_level_fields(writer)
    for name, box in boxes.items():
        if name in existing:
            raise SigningEngineError(
                _lazy_interpolate(_("The document already has a field named %(name)s."), {"name": name})
            )
        page_ref = _page_ref(writer, box.page)
        field_dict = generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): pdf_string(name),
                pdf_name("/DA"): pdf_string(f"/Helv {FIELD_FONT_SIZE} Tf 0 g"),
                pdf_name("/Q"): generic.NumberObject(1),
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(round(v, 2)) for v in _rect(box)),
                pdf_name("/F"): generic.NumberObject(4),  # print
                pdf_name("/P"): page_ref,
                pdf_name("/AP"): _empty_appearance(writer, abs(box.width), abs(box.height)),
            }
        )
        field_ref = writer.add_object(field_dict)
        fields.append(field_ref)
        writer.register_annotation(page_ref, field_ref)
    writer.update_container(fields)


ITALIC_SLANT = 0.21
"""tan 12°: the synthetic oblique of the place-and-date line, which Decree 30 PL I sets in italics (the
shipped DejaVu fonts have no italic face; the sample documents slant their template line the same way)."""

_GLYPH_TOP, _GLYPH_BOTTOM = 1.12, 0.28
"""How far (in font sizes) Vietnamese text reaches above and below its baseline in the shipped fonts: stacked
marks on capitals (Ấ) and dots below (ỵ). The filled text is kept inside its field so nothing is clipped."""

_FIELD_PADDING = 2
"""The layout pads a line's box by 2 pt on each side; the filled text keeps within the line's own extent."""


def _form_xobject(width: float, height: float, resources: dict, content: bytes) -> generic.StreamObject:
    bbox = generic.ArrayObject(generic.FloatObject(value) for value in (0, 0, width, height))
    return generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): bbox,
            pdf_name("/Resources"): generic.DictionaryObject(resources),
        },
        stream_data=content,
    )


def _text_appearance(
    writer: BasePdfFileWriter,
    text: str,
    width: float,
    height: float,
    font: StampFont,
    font_size: int,
    *,
    slant: float = 0.0,
    flush_right: bool = False,
) -> generic.IndirectObject:
    """One line of text centred in the field and written on the baseline of the line the field was made for
    (signatures.layout.line_box), so "15" lands on the line of "Số:", not in the middle of a taller box.
    `flush_right` ends the text at the field's right edge: the number touches the "/" of its notation
    ("Số: 15/QĐ-UBND", not "Số:  15  /QĐ-UBND").

    The size is `font_size` (PL I: 13-14 pt), or the size of the document's own line when that is smaller, or
    smaller still when the text would not fit the field; `slant` shears the glyphs (the italic date line)."""
    from signatures.layout import baseline_in_box

    engine = _PreparedFontFactory(font).create_font_engine(writer)
    baseline, line_size = baseline_in_box(height)
    advance = _prepared_font(font).text_width(text, 1)  # the width at 1 pt
    extent = advance + slant * (_GLYPH_TOP + _GLYPH_BOTTOM)  # the sheared glyphs reach a little further
    size = min(
        float(font_size),
        line_size,  # no larger than the line it continues ("Số:") or replaces (the template date line)
        (height - baseline) / _GLYPH_TOP,
        baseline / _GLYPH_BOTTOM if baseline > 0 else float(font_size),
        max(1.0, width - 2 * _FIELD_PADDING) / extent if extent > 0 else float(font_size),
    )
    size = max(1.0, round(size, 2))
    # The shear moves the top of the glyphs right and the descenders left: centre what is drawn.
    x = (width - advance * size) / 2 - slant * size * (_GLYPH_TOP - _GLYPH_BOTTOM) / 2
    if flush_right:
        x = width - _FIELD_PADDING - advance * size
    shown = engine.shape(text).graphics_ops.decode("ascii")
    stream = f"BT /F1 {size:g} Tf 1 0 {slant:g} 1 {x:.2f} {baseline:.2f} Tm {shown} ET".encode("ascii")
    fonts = generic.DictionaryObject({pdf_name("/F1"): engine.as_resource()})
    text_form = writer.add_object(_form_xobject(width, height, {pdf_name("/Font"): fonts}, stream))
    # The field sits over the document's blank template line ("ngày ... tháng ... năm 20.."): paint the
    # rectangle white first, so the filled-in line replaces it instead of being drawn on top of it.
    content = f"q 1 g 0 0 {width:.2f} {height:.2f} re f Q q /FillText Do Q".encode("ascii")
    forms = generic.DictionaryObject({pdf_name("/FillText"): text_form})
    return writer.add_object(_form_xobject(width, height, {pdf_name("/XObject"): forms}, content))


def _fill_fields(writer: BasePdfFileWriter, values: dict[str, str], *, font: StampFont, font_size: int) -> None:
    fields = _top_level_fields(writer)
    for name, text in values.items():
        if not text:
            continue
        ref = fields.get(name)
        if ref is None:
            raise SigningEngineError(
                _lazy_interpolate(_("The signed document has no %(name)s field to fill in."), {"name": name})
            )
        field_dict = ref.get_object()
        if field_dict.get("/FT") != "/Tx":
            raise SigningEngineError(_lazy_interpolate(_("The field %(name)s is not a text field."), {"name": name}))
        llx, lly, urx, ury = (float(v) for v in field_dict["/Rect"])
        field_dict[pdf_name("/V")] = generic.TextStringObject(text)
        slant = ITALIC_SLANT if name == DATE_FIELD else 0.0  # PL I sets the place and date in italics
        appearance = _text_appearance(writer, text, abs(urx - llx), abs(ury - lly), font, font_size, slant=slant,
                                      flush_right=name == NUMBER_FIELD)
        field_dict[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): appearance})
        # Read-only from now on: a viewer must not redraw it with the Helvetica fallback, nor let it be retyped.
        field_dict[pdf_name("/Ff")] = generic.NumberObject(int(field_dict.get("/Ff", 0)) | 1)
        writer.mark_update(ref)


# --------------------------------------------------------------------------------------------------------------
# Signing


def _signature_metadata(
    field_name: str,
    *,
    signer_name: str | None,
    reason: str,
    location: str,
    validation: ValidationMaterial | None,
    docmdp: MDPPerm | None,
) -> PdfSignatureMetadata:
    return PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=_DIGEST,
        subfilter=SigSeedSubFilter.PADES,
        name=signer_name or None,
        reason=reason or None,
        location=location or None,
        # Certificate usage is checked when a certificate is imported; do not second-guess it here.
        signer_key_usage=set(),
        docmdp_permissions=docmdp,  # the same level as the field lock's /P (else pyHanko warns and picks one)
        embed_validation_info=validation is not None,
        validation_context=validation.validation_context() if validation is not None else None,
        # B-LT in the signature's own revision: one write instead of two, and no VRI (deprecated in PAdES).
        dss_settings=DSSContentSettings(placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False),
    )


def _sign(
    writer: IncrementalPdfFileWriter,
    key: KeyHolder,
    *,
    metadata: PdfSignatureMetadata,
    field_spec: SigFieldSpec,
    stamp_style: BaseStampStyle,
    timestamper: TimeStamper | None,
    signing_time: datetime | None,
    text_params: dict | None = None,
    size_by_dry_run: bool = False,
    validation: ValidationMaterial | None = None,
) -> bytes:
    if signing_time is not None and signing_time.utcoffset() is None:
        raise ValueError("signing_time must be timezone-aware")
    signer = KeyHolderSigner(key)
    online = None if _OFFLINE_ONLY.get() else _fetched_revocation_metadata(metadata, signer, key, validation)
    _add_signature_field(writer, field_spec)
    pdf_signer = _TimedPdfSigner(
        online or metadata,
        signer,
        timestamper=timestamper,
        stamp_style=stamp_style,
        signing_time=signing_time,
    )
    output = io.BytesIO()
    try:
        pdf_signer.sign_pdf(
            writer,
            existing_fields_only=True,
            bytes_reserved=None if size_by_dry_run else signer.bytes_to_reserve(timestamper),
            appearance_text_params=text_params,
            output=output,
        )
    except (SigningError, PathError, ValidationError) as exc:
        # Raised by pyHanko's checks before signing: the fetched material was refused (e.g. the TSA's chain
        # is not among the roots given with it). Other errors (the key, the file) are not retried.
        if online is None or "larger than expected" in str(exc):
            raise
        logger.warning("Signing without the fetched revocation data, which pyHanko refused: %s", exc)
        raise _OnlineEmbeddingRefused from exc
    return output.getvalue()


_OFFLINE_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("signing_offline_only", default=False)


class _OnlineEmbeddingRefused(Exception):
    """Signing with fetched revocation data failed before anything was written: sign again without it."""


def _with_retry_on_small_reservation(build: Callable[[bool], bytes]) -> bytes:
    """Run a signing closure; if the CMS outgrew our reservation (an unusually large TSA token), retry once
    letting pyHanko size it with a dry run. If the revocation data fetched online was refused, sign again
    (on a fresh writer) as if nothing had been fetched: a CA's service must never stop a signature."""
    try:
        try:
            return build(False)
        except SigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            return build(True)
    except _OnlineEmbeddingRefused:
        token = _OFFLINE_ONLY.set(True)
        try:
            return _with_retry_on_small_reservation(build)
        finally:
            _OFFLINE_ONLY.reset(token)


_REVOKED_MESSAGE = _("The signer's certificate has been revoked by its certificate authority.")
_STRICT_DECLARED = CertRevTrustPolicy(
    RevocationCheckingPolicy(RevocationCheckingRule.CHECK_IF_DECLARED, RevocationCheckingRule.CHECK_IF_DECLARED)
)


@functools.lru_cache(maxsize=256)
def _declares_revocation(certificate_der: bytes) -> bool:
    has_crl, has_ocsp = get_declared_revinfo(asn1_x509.Certificate.load(certificate_der))
    return has_crl or has_ocsp


def _fetched_revocation_metadata(
    metadata: PdfSignatureMetadata, signer: KeyHolderSigner, key: KeyHolder, validation: ValidationMaterial | None
) -> PdfSignatureMetadata | None:
    """PAdES B-LT with OCSP/CRL fetched now, when the signer's certificate declares where its CA publishes
    them and online checking is on (`signatures.revocation`); None: sign as before (our demo PKI declares
    nothing, so its signatures never come here). Fetching fails (CA offline, timeout): None and a warning,
    never a failed signature. The CA says revoked: refused, as the offline B-LT material would."""
    if not _declares_revocation(signer.signing_cert.dump()):
        return None
    backend = revocation.fetcher_backend()
    if backend is None:
        return None
    chain = [asn1.certificate(c) for c in key.chain]
    if validation is not None:
        roots = [asn1.certificate(c) for c in validation.trust_roots]
        others = chain + [asn1.certificate(c) for c in validation.intermediates]
        crls = [asn1.crl(c) for c in validation.crls]
        ocsps = [asn1.ocsp(o) for o in validation.ocsp_responses]
    else:  # our own certificate, checked against the trust store when imported: its chain's top is the anchor
        roots = [c for c in chain if c.self_signed != "no"] or chain[-1:]
        others, crls, ocsps = chain, [], []
    if not roots:
        logger.warning("Not embedding revocation data: the signer's certificate came without its chain")
        return None
    context = ValidationContext(trust_roots=roots, other_certs=others, crls=crls, ocsps=ocsps, allow_fetching=True,
                                fetcher_backend=backend, revinfo_policy=_STRICT_DECLARED)
    validator = CertificateValidator(signer.signing_cert, intermediate_certs=signer.cert_registry,
                                     validation_context=context)
    try:
        asyncio.run(validator.async_validate_path())
    except RevokedError as exc:
        raise SigningEngineError(_REVOKED_MESSAGE) from exc
    except Exception as exc:  # unreachable, timed out, unusable answer, no path: sign without it
        logger.warning("Signing without embedded revocation data (could not fetch it): %s", exc)
        return None
    offline = ValidationContext(trust_roots=roots, other_certs=others, crls=list(context.crls),
                                ocsps=list(context.ocsps), allow_fetching=False,
                                revocation_mode=validation.revocation_mode if validation is not None else "hard-fail")
    return dataclasses.replace(metadata, embed_validation_info=True, validation_context=offline)


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(pdf))


def sign_personal(
    pdf: bytes,
    key: KeyHolder,
    *,
    image_png: bytes,
    box: Box,
    number_box: Box | None = None,
    date_box: Box | None = None,
    signer_name: str,
    reason: str = "",
    location: str = "",
    timestamper: TimeStamper | None = None,
    validation: ValidationMaterial | None = None,
    field_name: str = LEADER_FIELD,
    signing_time: datetime | None = None,
) -> bytes:
    """The competent person's PAdES signature, showing their signature image inside `box`.

    In the same revision it creates the empty text fields `SoKyHieu` (at `number_box`) and `NgayBanHanh`
    (at `date_box`). The signature field is locked with a FieldMDP that excludes exactly those two fields
    and a DocMDP level of "form filling", so the clerk's later fill and seal leave this signature valid
    (FORM_FILLING), while any other later change shows up as a modification.
    """
    image = _prepare_png(image_png)
    text_boxes = {name: b for name, b in ((NUMBER_FIELD, number_box), (DATE_FIELD, date_box)) if b is not None}

    def build(size_by_dry_run: bool) -> bytes:
        writer = _writer(pdf)
        _add_text_fields(writer, text_boxes)
        # Lock every field that exists now (this signature's own included) except the two the clerk fills.
        # An /Exclude lock would also lock fields created later, i.e. the agency seal's signature field.
        locked = [name for name in _top_level_fields(writer) if name not in text_boxes and name != field_name]
        field_spec = SigFieldSpec(
            sig_field_name=field_name,
            on_page=box.page,
            box=_rect(box),
            field_mdp_spec=FieldMDPSpec(FieldMDPAction.INCLUDE, [*locked, field_name]),
            # No DocMDP level (/P) in the lock: with one, validators treat the document like a certified one,
            # where a NEW visible signature field (the agency seal) is not an allowed change.
        )
        return _sign(
            writer,
            key,
            metadata=_signature_metadata(
                field_name,
                signer_name=signer_name,
                reason=reason,
                location=location,
                validation=validation,
                docmdp=None,
            ),
            field_spec=field_spec,
            stamp_style=_ImageStampStyle(image=image),
            timestamper=timestamper,
            signing_time=signing_time,
            size_by_dry_run=size_by_dry_run,
            validation=validation,
        )

    return _with_retry_on_small_reservation(build)


def fill_number_and_date(
    pdf: bytes,
    *,
    number_notation: str,
    date_text: str,
    font: StampFont = StampFont.SERIF,
    font_size: int = FIELD_FONT_SIZE,
) -> bytes:
    """Fill `SoKyHieu` and `NgayBanHanh` in an incremental update (an empty string leaves a field alone).

    The appearance is drawn with the embedded Vietnamese font; the value is also stored as /V, so text
    extraction and form readers see it. The fields become read-only.
    """
    writer = _writer(pdf)
    _fill_fields(writer, {NUMBER_FIELD: number_notation, DATE_FIELD: date_text}, font=font, font_size=font_size)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _seal_field_spec(field_name: str, box: Box) -> SigFieldSpec:
    # The seal is the last signature: it locks every field and allows no later change except validation data.
    return SigFieldSpec(
        sig_field_name=field_name,
        on_page=box.page,
        box=_rect(box),
        field_mdp_spec=FieldMDPSpec(FieldMDPAction.ALL),
        doc_mdp_update_value=MDPPerm.NO_CHANGES,
    )


def sign_seal(
    pdf: bytes,
    key: KeyHolder,
    *,
    seal_png: bytes,
    box: Box,
    agency_name: str = "",
    reason: str = "",
    location: str = "",
    timestamper: TimeStamper | None = None,
    validation: ValidationMaterial | None = None,
    field_name: str = SEAL_FIELD,
    signing_time: datetime | None = None,
) -> bytes:
    """The agency's signature showing the red seal image in `box` (the caller puts it over the left third of
    the leader's image). It covers the whole file; earlier signatures stay valid."""
    return _seal(pdf, key, values={}, seal_png=seal_png, box=box, agency_name=agency_name, reason=reason,
                 location=location, timestamper=timestamper, validation=validation, field_name=field_name,
                 signing_time=signing_time, font=StampFont.SERIF, font_size=FIELD_FONT_SIZE)


def fill_and_seal(
    pdf: bytes,
    key: KeyHolder,
    *,
    number_notation: str,
    date_text: str,
    seal_png: bytes,
    box: Box,
    agency_name: str = "",
    reason: str = "",
    location: str = "",
    timestamper: TimeStamper | None = None,
    validation: ValidationMaterial | None = None,
    field_name: str = SEAL_FIELD,
    signing_time: datetime | None = None,
    font: StampFont = StampFont.SERIF,
    font_size: int = FIELD_FONT_SIZE,
) -> bytes:
    """The clerk's issuing step in ONE incremental update: fill number and date, then the seal signature.

    One revision means one parse and one write, and the seal's signature covers the filled values directly.
    """
    return _seal(pdf, key, values={NUMBER_FIELD: number_notation, DATE_FIELD: date_text}, seal_png=seal_png,
                 box=box, agency_name=agency_name, reason=reason, location=location, timestamper=timestamper,
                 validation=validation, field_name=field_name, signing_time=signing_time, font=font,
                 font_size=font_size)


def _seal(pdf: bytes, key: KeyHolder, *, values: dict[str, str], seal_png: bytes, box: Box, agency_name: str,
          reason: str, location: str, timestamper: TimeStamper | None, validation: ValidationMaterial | None,
          field_name: str, signing_time: datetime | None, font: StampFont, font_size: int) -> bytes:
    image = _prepare_png(seal_png)

    def build(size_by_dry_run: bool) -> bytes:
        writer = _writer(pdf)
        if values:
            _fill_fields(writer, values, font=font, font_size=font_size)
        return _sign(
            writer,
            key,
            metadata=_signature_metadata(
                field_name, signer_name=agency_name, reason=reason, location=location, validation=validation,
                docmdp=MDPPerm.NO_CHANGES,
            ),
            field_spec=_seal_field_spec(field_name, box),
            stamp_style=_ImageStampStyle(image=image),
            timestamper=timestamper,
            signing_time=signing_time,
            size_by_dry_run=size_by_dry_run,
            validation=validation,
        )

    return _with_retry_on_small_reservation(build)


def format_signing_time(signing_time: datetime) -> str:
    """ISO 8601 in Vietnam time with the offset, to the second: 2026-11-23T14:05:09+07:00."""
    if signing_time.tzinfo is None:
        raise ValueError("signing_time must be timezone-aware")
    return signing_time.astimezone(VIETNAM_TZ).isoformat(timespec="seconds")


def _page_size(writer: BasePdfFileWriter, page_index: int) -> tuple[float, float, float, float]:
    page = _page_ref(writer, page_index).get_object()
    node = page
    while node is not None:
        for key in ("/CropBox", "/MediaBox"):
            if key in node:
                llx, lly, urx, ury = (float(v) for v in node[key])
                return min(llx, urx), min(lly, ury), max(llx, urx), max(lly, ury)
        node = node.get("/Parent")
    return 0.0, 0.0, 595.28, 841.89  # A4, Decree 30's paper size


def attachment_stamp_box(
    pdf_or_writer: bytes | BasePdfFileWriter,
    lines: Sequence[str],
    *,
    font_size: int = ATTACHMENT_FONT_SIZE,
    right_margin: float = 15 * MM,
    top_margin: float = 5 * MM,
    padding: float = 2,
) -> Box:
    """Where the attachment stamp goes: the top-right corner of the first page, sized to the text."""
    writer = _writer(pdf_or_writer) if isinstance(pdf_or_writer, bytes) else pdf_or_writer
    _llx, _lly, urx, ury = _page_size(writer, 0)
    font = _prepared_font(StampFont.SERIF)
    width = max(font.text_width(line, font_size) for line in lines) + 2 * padding + 1
    height = len(lines) * font_size * 1.2 + 2 * padding
    return Box(
        page=0, x1=urx - right_margin - width, y1=ury - top_margin - height, x2=urx - right_margin, y2=ury - top_margin
    )


_ATTACHMENT_STYLE = TextStampStyle(
    stamp_text="%(number_notation)s\n%(signed_at)s",
    border_width=0,
    background=None,
    text_box_style=TextBoxStyle(
        font=_PreparedFontFactory(StampFont.SERIF),
        font_size=ATTACHMENT_FONT_SIZE,
        leading=int(ATTACHMENT_FONT_SIZE * 1.2),
        text_color=(0, 0, 0),
        box_layout_rule=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MIN
        ),
    ),
    inner_content_layout=layout.SimpleBoxLayoutRule(
        x_align=layout.AxisAlignment.ALIGN_MAX,
        y_align=layout.AxisAlignment.ALIGN_MID,
        margins=layout.Margins.uniform(2),
        inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
    ),
)


def sign_attachment(
    pdf: bytes,
    key: KeyHolder,
    *,
    number_notation: str,
    signing_time: datetime,
    agency_name: str = "",
    reason: str = "",
    location: str = "",
    timestamper: TimeStamper | None = None,
    validation: ValidationMaterial | None = None,
    field_name: str = SEAL_FIELD,
    box: Box | None = None,
) -> bytes:
    """The agency's signature on a separate attachment file (Decree 30, PL I §II.8.b).

    No image; the visible text is the parent document's number/notation and the signing time in ISO 8601
    with +07:00, 10 pt serif, black, at the top right of the first page. The same `signing_time` is the
    signature's claimed signing time (/M). PAdES forbids the CMS signing-time attribute, so that is where
    the time goes; a timestamp, when configured, proves it.
    """
    signed_at = format_signing_time(signing_time)

    def build(size_by_dry_run: bool) -> bytes:
        writer = _writer(pdf)
        stamp_box = box or attachment_stamp_box(writer, [number_notation, signed_at])
        return _sign(
            writer,
            key,
            metadata=_signature_metadata(
                field_name,
                signer_name=agency_name,
                reason=reason,
                location=location,
                validation=validation,
                docmdp=MDPPerm.NO_CHANGES,
            ),
            field_spec=_seal_field_spec(field_name, stamp_box),
            stamp_style=_ATTACHMENT_STYLE,
            timestamper=timestamper,
            signing_time=signing_time,
            text_params={"number_notation": number_notation, "signed_at": signed_at},
            size_by_dry_run=size_by_dry_run,
            validation=validation,
        )

    return _with_retry_on_small_reservation(build)
