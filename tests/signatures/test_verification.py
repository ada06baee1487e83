"""The verdict rule on PDFs signed here and now: what a leader's signature looks like after honest and
dishonest changes, with a throwaway CA made with `cryptography` (no network, times pinned)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import translation
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.pdfgen import canvas

from signatures.verification import (
    ERR_PASSWORD,
    ERR_UNREADABLE,
    MSG_CERTIFICATE_CONSTRAINTS,
    MSG_CHANGES_NOT_ANALYSED,
    MSG_DOCMDP_VIOLATED,
    MSG_EXPIRED_NO_POE,
    MSG_FORBIDDEN_CHANGES,
    MSG_NOT_INTACT,
    MSG_PARTIAL_COVERAGE,
    MSG_REVOCATION_UNAVAILABLE,
    MSG_REVOCATION_UNCHECKED,
    MSG_REVOKED,
    MSG_UNTRUSTED,
    VERDICT_LABELS,
    WARN_ANNOTATIONS,
    WARN_FORM_FILLING,
    SignatureReport,
    Verdict,
    VerificationReport,
    apply_verdict_rule,
    has_signatures,
    overall_verdict,
    translated,
    verify_pdf,
)
from signatures.verification_text import report_lines

UTC = dt.UTC
CHECKED = dt.datetime(2025, 6, 1, tzinfo=UTC)
"""Validation moment: the signer's certificate (2025) is valid, the CRLs below are fresh."""
AFTER_EXPIRY = dt.datetime(2026, 6, 1, tzinfo=UTC)
TIMESTAMPED_AT = dt.datetime(2025, 5, 1, tzinfo=UTC)
LEADER = "Nguyễn Thị Ngọc Ánh"
MARKER = b"VERIFY-MARKER"


@dataclass
class Pki:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    signer: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey
    tsa: x509.Certificate
    tsa_key: rsa.RSAPrivateKey
    stranger_root: x509.Certificate


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(common_name, key, *, issuer=None, issuer_key=None, ca=False, not_after, eku=None):
    issuer_key = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.subject if issuer is not None else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=UTC) if not ca else dt.datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca and eku is None,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki() -> Pki:
    far = dt.datetime(2045, 1, 1, tzinfo=UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate("CA gốc thử nghiệm", root_key, ca=True, not_after=far)
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = _certificate(
        LEADER, signer_key, issuer=root, issuer_key=root_key, not_after=dt.datetime(2026, 1, 1, tzinfo=UTC)
    )
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # DummyTimeStamper signs RSA only
    tsa = _certificate(
        "TSA thử nghiệm",
        tsa_key,
        issuer=root,
        issuer_key=root_key,
        not_after=far,
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
    )
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger_root = _certificate("Some other CA", stranger_key, ca=True, not_after=far)
    return Pki(root, root_key, signer, signer_key, tsa, tsa_key, stranger_root)


def _asn1_cert(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _asn1_key(key) -> asn1_keys.PrivateKeyInfo:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return asn1_keys.PrivateKeyInfo.load(der)


@pytest.fixture(scope="module")
def draft_pdf() -> bytes:
    """An approved draft: visible text and an empty 'number' field the clerk fills after the leader signs."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pageCompression=0)
    page.drawString(72, 750, MARKER.decode() + " Quyet dinh ve viec ...")
    page.acroForm.textfield(name="number", x=72, y=600, width=200, height=20, value="")
    page.showPage()
    page.save()
    return buffer.getvalue()


def _sign(pki: Pki, pdf: bytes, *, field_name: str = "Leader", timestamp: bool = True, as_=None) -> bytes:
    certificate, key = as_ or (pki.signer, pki.signer_key)
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(certificate),
        signing_key=_asn1_key(key),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(pki.root)]),
    )
    timestamper = (
        DummyTimeStamper(tsa_cert=_asn1_cert(pki.tsa), tsa_key=_asn1_key(pki.tsa_key), fixed_dt=TIMESTAMPED_AT)
        if timestamp
        else None
    )
    output = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name=field_name, subfilter=SigSeedSubFilter.PADES),
        signer=signer,
        timestamper=timestamper,
        output=output,
    )
    return output.getvalue()


@pytest.fixture(scope="module")
def signed_pdf(pki, draft_pdf) -> bytes:
    return _sign(pki, draft_pdf)


def _fill_number(pdf: bytes, value: str) -> bytes:
    """What the clerk does after the leader signs: set the field's value and its appearance."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for field_ref in writer.root["/AcroForm"]["/Fields"]:
        field = field_ref.get_object()
        if field.get("/T") != "number":
            continue
        field["/V"] = generic.TextStringObject(value)
        appearance = generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/XObject"),
                generic.NameObject("/Subtype"): generic.NameObject("/Form"),
                generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 200, 20)]),
            },
            stream_data=f"BT /Helv 10 Tf 2 5 Td ({value}) Tj ET".encode(),
        )
        field["/AP"] = generic.DictionaryObject({generic.NameObject("/N"): writer.add_object(appearance)})
        writer.update_container(field)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _draw_on_page(pdf: bytes) -> bytes:
    """A forger's incremental update: new text drawn on the signed page."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stream = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (DA DUYET CHI 1 TY) Tj ET"))
    writer.add_stream_to_page(0, stream)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _crl(
    pki: Pki, *, revoked_on: dt.datetime | None = None, next_update: dt.datetime
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.root.subject)
        .last_update(dt.datetime(2025, 5, 20, tzinfo=UTC))
        .next_update(next_update)
    )
    if revoked_on is not None:
        revoked = x509.RevokedCertificateBuilder().serial_number(pki.signer.serial_number).revocation_date(revoked_on)
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(pki.root_key, hashes.SHA256())


def _only_signature(report: VerificationReport) -> SignatureReport:
    (signature,) = report.signatures
    return signature


# --- the verdict on real files ------------------------------------------------------------------------------


def test_intact_trusted_signature_is_valid_and_described(pki, signed_pdf):
    report = verify_pdf(signed_pdf, trust_roots=[pki.root], validation_time=CHECKED)
    signature = _only_signature(report)
    assert report.verdict == Verdict.VALID and signature.verdict == Verdict.VALID
    assert signature.reasons == [] and signature.warnings == []
    assert signature.intact and signature.valid and signature.trusted
    assert signature.coverage == "entire_file" and signature.modification_level == "none"
    assert signature.signer_name == LEADER and signature.field_name == "Leader"
    assert signature.chain == [f"CN={LEADER}", "CN=CA gốc thử nghiệm"]
    expected_fingerprint = hashlib.sha256(pki.signer.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert signature.signer_certificate_sha256 == expected_fingerprint
    assert signature.serial == f"{pki.signer.serial_number:X}"
    assert signature.pades_level == "B-T"
    assert signature.timestamp_time == TIMESTAMPED_AT and signature.timestamp_trusted
    assert signature.signing_time is not None
    assert signature.revocation == "not_checked"  # offline and no revocation data handed in
    assert report.validation_time == CHECKED


def test_same_signature_without_our_trust_root_cannot_be_verified(pki, signed_pdf):
    report = verify_pdf(signed_pdf, trust_roots=[pki.stranger_root], validation_time=CHECKED)
    signature = _only_signature(report)
    assert report.verdict == Verdict.UNVERIFIABLE
    assert signature.intact and not signature.trusted
    assert signature.reasons == [MSG_UNTRUSTED]


def test_byte_changed_inside_the_signed_range_is_invalid(pki, signed_pdf):
    at = signed_pdf.index(MARKER)
    tampered = signed_pdf[:at] + b"X" + signed_pdf[at + 1 :]
    report = verify_pdf(tampered, trust_roots=[pki.root], validation_time=CHECKED)
    signature = _only_signature(report)
    assert report.verdict == Verdict.INVALID
    assert not signature.intact and MSG_NOT_INTACT in signature.reasons


def test_page_content_added_after_signing_is_invalid(pki, signed_pdf):
    report = verify_pdf(_draw_on_page(signed_pdf), trust_roots=[pki.root], validation_time=CHECKED)
    signature = _only_signature(report)
    assert report.verdict == Verdict.INVALID
    assert signature.intact and signature.coverage == "entire_revision"  # the bytes it signed are untouched
    assert signature.modification_level == "other" and MSG_FORBIDDEN_CHANGES in signature.reasons


def test_form_field_filled_after_signing_is_valid_with_a_warning(pki, signed_pdf):
    report = verify_pdf(_fill_number(signed_pdf, "123/QD-UBND"), trust_roots=[pki.root], validation_time=CHECKED)
    signature = _only_signature(report)
    assert report.verdict == Verdict.VALID_WITH_WARNINGS
    assert signature.modification_level == "form_filling" and signature.coverage == "entire_revision"
    assert signature.warnings == [WARN_FORM_FILLING] and signature.reasons == []


def test_leader_then_seal_after_the_number_is_filled(pki, signed_pdf):
    sealed = _sign(pki, _fill_number(signed_pdf, "123/QD-UBND"), field_name="Seal")
    report = verify_pdf(sealed, trust_roots=[pki.root], validation_time=CHECKED)
    leader, seal = report.signatures
    assert (leader.field_name, leader.verdict) == ("Leader", Verdict.VALID_WITH_WARNINGS)
    assert (seal.field_name, seal.verdict) == ("Seal", Verdict.VALID)
    assert seal.coverage == "entire_file"
    assert report.verdict == Verdict.VALID_WITH_WARNINGS


def test_unsigned_file_is_reported_as_unsigned(pki, draft_pdf):
    report = verify_pdf(draft_pdf, trust_roots=[pki.root], validation_time=CHECKED)
    assert report.verdict == Verdict.UNSIGNED and report.signatures == [] and report.error == ""


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage" * 100, b"%PDF-1.7\n" + bytes(range(256)) * 8],
    ids=["empty", "garbage", "pdf-header-then-noise"],
)
def test_unreadable_bytes_cannot_be_verified_and_say_why(pki, data):
    report = verify_pdf(data, trust_roots=[pki.root], validation_time=CHECKED)
    assert report.verdict == Verdict.UNVERIFIABLE and report.signatures == []
    assert report.error == ERR_UNREADABLE and report.technical_detail


def test_damaged_signed_files_never_raise_and_never_pass(pki, signed_pdf):
    contents_start = signed_pdf.rindex(b"/Contents <") + len(b"/Contents <")
    damaged = {
        "truncated": signed_pdf[: len(signed_pdf) // 2],
        "signature zeroed": signed_pdf[:contents_start] + b"0" * 64 + signed_pdf[contents_start + 64 :],
        "tail cut": signed_pdf[:-40],
    }
    for label, data in damaged.items():
        report = verify_pdf(data, trust_roots=[pki.root], validation_time=CHECKED)
        assert report.verdict in {Verdict.INVALID, Verdict.UNVERIFIABLE}, label
        assert report.error or all(signature.reasons for signature in report.signatures), label


def test_password_protected_file_cannot_be_verified(pki, draft_pdf):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(draft_pdf)))
    writer.encrypt(user_password="mat-khau", owner_password="chu-so-huu", algorithm="AES-256")
    output = io.BytesIO()
    writer.write(output)
    report = verify_pdf(output.getvalue(), trust_roots=[pki.root], validation_time=CHECKED)
    assert report.verdict == Verdict.UNVERIFIABLE and report.error == ERR_PASSWORD


def test_expired_certificate_without_timestamp_cannot_be_verified(pki, draft_pdf):
    report = verify_pdf(_sign(pki, draft_pdf, timestamp=False), trust_roots=[pki.root], validation_time=AFTER_EXPIRY)
    signature = _only_signature(report)
    assert report.verdict == Verdict.UNVERIFIABLE
    assert signature.trust_problem == "out_of_bounds_no_poe" and signature.reasons == [MSG_EXPIRED_NO_POE]
    assert signature.pades_level == "B-B"


def test_expired_certificate_with_trusted_timestamp_is_checked_at_the_timestamp(pki, signed_pdf):
    report = verify_pdf(signed_pdf, trust_roots=[pki.root], validation_time=AFTER_EXPIRY)
    signature = _only_signature(report)
    assert report.verdict == Verdict.VALID
    assert signature.checked_at == TIMESTAMPED_AT and report.validation_time == AFTER_EXPIRY


def test_revoked_certificate_is_invalid(pki, signed_pdf):
    crl = _crl(pki, revoked_on=dt.datetime(2025, 4, 1, tzinfo=UTC), next_update=dt.datetime(2025, 7, 1, tzinfo=UTC))
    report = verify_pdf(signed_pdf, trust_roots=[pki.root], validation_time=CHECKED, crls=[crl])
    signature = _only_signature(report)
    assert report.verdict == Verdict.INVALID
    assert signature.revocation == "revoked" and signature.revocation_time == dt.datetime(2025, 4, 1, tzinfo=UTC)
    assert signature.reasons == [MSG_REVOKED]


def test_crl_without_the_certificate_makes_revocation_good(pki, signed_pdf):
    crl = _crl(pki, next_update=dt.datetime(2025, 7, 1, tzinfo=UTC))
    report = verify_pdf(
        signed_pdf, trust_roots=[pki.root], validation_time=CHECKED, crls=[crl.public_bytes(serialization.Encoding.DER)]
    )
    signature = _only_signature(report)
    assert report.verdict == Verdict.VALID and signature.revocation == "good"


def test_out_of_date_crl_leaves_the_signature_unverifiable(pki, signed_pdf):
    crl = _crl(pki, next_update=dt.datetime(2025, 5, 25, tzinfo=UTC))
    report = verify_pdf(signed_pdf, trust_roots=[pki.root], validation_time=CHECKED, crls=[crl])
    signature = _only_signature(report)
    assert report.verdict == Verdict.UNVERIFIABLE
    assert signature.revocation == "unknown" and signature.reasons == [MSG_REVOCATION_UNAVAILABLE]


def _key_usage(**usages) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement")
    names += ("key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: usages.get(name, False) for name in names})


@pytest.mark.parametrize(
    ("usage", "verdict"),
    [
        (_key_usage(digital_signature=True), Verdict.VALID),  # accepted, as Adobe Reader does
        (_key_usage(content_commitment=True), Verdict.VALID),
        (_key_usage(key_encipherment=True), Verdict.UNVERIFIABLE),  # an encryption certificate cannot sign
    ],
    ids=["digitalSignature", "nonRepudiation", "keyEncipherment"],
)
def test_signing_certificate_needs_a_signing_key_usage(pki, draft_pdf, usage, verdict):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("Văn thư"))
        .issuer_name(pki.root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(dt.datetime(2026, 1, 1, tzinfo=UTC))
        .add_extension(usage, critical=True)
        .sign(pki.root_key, hashes.SHA256())
    )
    signed = _sign(pki, draft_pdf, timestamp=False, as_=(certificate, key))
    signature = _only_signature(verify_pdf(signed, trust_roots=[pki.root], validation_time=CHECKED))
    assert signature.verdict == verdict
    if verdict == Verdict.UNVERIFIABLE:
        assert signature.reasons == [MSG_CERTIFICATE_CONSTRAINTS]


def test_report_round_trips_through_json(pki, signed_pdf):
    report = verify_pdf(_fill_number(signed_pdf, "7/TB"), trust_roots=[pki.root], validation_time=CHECKED)
    stored = json.loads(json.dumps(report.to_dict()))
    assert stored["verdict"] == "warnings" and stored["signatures"][0]["timestamp_time"] == TIMESTAMPED_AT.isoformat()
    assert VerificationReport.from_dict(stored) == report


def test_has_signatures_is_a_cheap_prefilter(signed_pdf, draft_pdf):
    assert has_signatures(signed_pdf)
    assert not has_signatures(draft_pdf)
    assert not has_signatures(b"")


# --- the rule itself, on facts -----------------------------------------------------------------------------


def _facts(**overrides) -> SignatureReport:
    facts = {
        "field_name": "Sig1",
        "trusted": True,
        "intact": True,
        "valid": True,
        "coverage": "entire_file",
        "modification_level": "none",
        "docmdp_ok": True,
    }
    facts.update(overrides)
    return SignatureReport(**facts)


@pytest.mark.parametrize(
    ("overrides", "verdict", "message"),
    [
        ({}, Verdict.VALID, None),
        ({"coverage": "entire_revision", "modification_level": "lta_updates"}, Verdict.VALID, None),
        (
            {"coverage": "entire_revision", "modification_level": "form_filling"},
            Verdict.VALID_WITH_WARNINGS,
            WARN_FORM_FILLING,
        ),
        (
            {"coverage": "entire_revision", "modification_level": "annotations"},
            Verdict.VALID_WITH_WARNINGS,
            WARN_ANNOTATIONS,
        ),
        ({"coverage": "contiguous_block", "modification_level": "other"}, Verdict.INVALID, MSG_PARTIAL_COVERAGE),
        ({"coverage": "unclear"}, Verdict.INVALID, MSG_PARTIAL_COVERAGE),
        (
            {"coverage": "entire_revision", "modification_level": "other", "docmdp_ok": False},
            Verdict.INVALID,
            MSG_FORBIDDEN_CHANGES,
        ),
        (
            {"coverage": "entire_revision", "modification_level": "form_filling", "docmdp_ok": False},
            Verdict.INVALID,
            MSG_DOCMDP_VIOLATED,
        ),
        ({"coverage": "entire_revision", "modification_level": ""}, Verdict.UNVERIFIABLE, MSG_CHANGES_NOT_ANALYSED),
        ({"trusted": False, "trust_problem": "no_certificate_chain_found"}, Verdict.UNVERIFIABLE, MSG_UNTRUSTED),
        ({"trusted": False, "intact": False}, Verdict.INVALID, MSG_NOT_INTACT),  # broken beats untrusted
        (
            {"trusted": False, "trust_problem": "chain_constraints_failure", "issuer": "CN=A", "chain": ["CN=B"]},
            Verdict.UNVERIFIABLE,
            MSG_CERTIFICATE_CONSTRAINTS,
        ),
        (  # pyHanko reports a self-signed stranger as a chain constraint failure: it is simply not trusted
            {"trusted": False, "trust_problem": "chain_constraints_failure", "issuer": "CN=A", "chain": ["CN=A"]},
            Verdict.UNVERIFIABLE,
            MSG_UNTRUSTED,
        ),
        ({"revocation": "revoked", "trusted": False, "trust_problem": "revoked_no_poe"}, Verdict.INVALID, MSG_REVOKED),
        (  # checked online, the CA did not answer: never valid, and said plainly (tests/signatures/test_revocation.py)
            {"revocation": "unknown", "trusted": False, "trust_problem": "try_later", "revocation_online": True},
            Verdict.UNVERIFIABLE,
            MSG_REVOCATION_UNCHECKED,
        ),
        (  # offline, data supplied but unusable: the older message
            {"revocation": "unknown", "trusted": False, "trust_problem": "try_later"},
            Verdict.UNVERIFIABLE,
            MSG_REVOCATION_UNAVAILABLE,
        ),
    ],
)
def test_verdict_rule(overrides, verdict, message):
    report = apply_verdict_rule(_facts(**overrides))
    assert report.verdict == verdict
    if message is None:
        assert report.reasons == [] and report.warnings == []
    else:
        assert message in report.reasons + report.warnings


def test_file_verdict_is_the_worst_signature_verdict():
    def signed(verdict: Verdict) -> SignatureReport:
        return SignatureReport(field_name="x", verdict=verdict)

    assert overall_verdict([]) == Verdict.UNSIGNED
    assert overall_verdict([], file_problem=True) == Verdict.UNVERIFIABLE
    assert overall_verdict([signed(Verdict.VALID), signed(Verdict.VALID_WITH_WARNINGS)]) == Verdict.VALID_WITH_WARNINGS
    assert overall_verdict([signed(Verdict.INVALID), signed(Verdict.UNVERIFIABLE)]) == Verdict.INVALID
    assert overall_verdict([signed(Verdict.VALID)], file_problem=True) == Verdict.UNVERIFIABLE
    assert set(VERDICT_LABELS) == set(Verdict)


# --- the report in words -----------------------------------------------------------------------------------


def test_report_lines_describe_each_signature_in_the_readers_language(pki, signed_pdf):
    report = verify_pdf(_fill_number(signed_pdf, "123/QD-UBND"), trust_roots=[pki.root], validation_time=CHECKED)
    stored = VerificationReport.from_dict(json.loads(json.dumps(report.to_dict())))
    with translation.override("en"):
        lines = report_lines(stored)
    assert lines[:2] == [("Result", "Valid with warnings"), ("Checked at", "01/06/2025 07:00:00 +07:00")]
    assert ("Signature 1", "Leader") in lines and ("Signed by", LEADER) in lines
    assert ("Certificate chain", f"CN={LEADER} → CN=CA gốc thử nghiệm") in lines
    assert ("Timestamp", "01/05/2025 07:00:00 +07:00, from a trusted timestamp authority") in lines
    assert ("Changes after signing", "Form filling or further signatures") in lines
    assert ("Warning", WARN_FORM_FILLING) in lines and ("PAdES level", "B-T") in lines
    with translation.override("en"):
        assert translated(stored.signatures[0].warnings) == [WARN_FORM_FILLING]


def test_report_lines_for_files_without_a_usable_signature(pki, draft_pdf):
    with translation.override("en"):
        unreadable = report_lines(verify_pdf(b"garbage", trust_roots=[pki.root], validation_time=CHECKED))
        unsigned = report_lines(verify_pdf(draft_pdf, trust_roots=[pki.root], validation_time=CHECKED))
    assert ("Result", "Cannot be verified") in unreadable and ("Problem", ERR_UNREADABLE) in unreadable
    assert unsigned[0] == ("Result", "Not signed")
    assert ("Reason", "The file does not contain any digital signature.") in unsigned


def test_calling_from_async_code_is_a_programming_error_not_an_invalid_verdict(pki, signed_pdf):
    async def verify_inside_event_loop():
        return verify_pdf(signed_pdf, trust_roots=[pki.root], validation_time=CHECKED)

    with pytest.raises(RuntimeError, match="sync_to_async"):
        asyncio.run(verify_inside_event_loop())
