"""The archival timestamps (PAdES B-LTA) against a local CA and TSA (certomancer's Animator on 127.0.0.1, see
revocation_pki.py): a signed PDF without a signature time-stamp (B-B) gets a document timestamp (B-T), then
the validation data of the signature and of that timestamp (DSS, B-LT) under a second document timestamp
(B-LTA), which pyHanko then validates offline and our report calls B-LTA; a signature with its own
time-stamp gets only the second step; and the reasons it refuses to."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import Iterator

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper, TimestampDSSContentSettings
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import collect_validation_info
from pyhanko_certvalidator import ValidationContext

from signatures import archival, asn1
from signatures.verification import Verdict, verify_pdf
from tests.factories import make_pdf
from tests.signatures.revocation_pki import LocalCA, local_ca


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCA]:
    with local_ca(tmp_path_factory.mktemp("local-ca-tsa")) as served:
        yield served


@pytest.fixture(autouse=True)
def online(settings) -> None:
    settings.SIGNATURE_REVOCATION_CHECKING = True
    settings.SIGNATURE_REVOCATION_TIMEOUT = 2


def signed_by(ca: LocalCA, label: str = "alice", *, timestamped: bool = False) -> bytes:
    """Signed with stock pyHanko by the CA's `label` as our engine signs (ETSI.CAdES.detached, PAdES B-B, no
    revocation data in the file); `timestamped`: with a signature time-stamp from the local TSA (B-T)."""
    key = asn1_keys.PrivateKeyInfo.load(ca.keys[label].private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    signer = signers.SimpleSigner(signing_cert=asn1.certificate(ca.certificates[label]), signing_key=key,
                                  cert_registry=None)
    writer = IncrementalPdfFileWriter(io.BytesIO(make_pdf(1, "Quyết định lưu trữ")))
    metadata = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES)
    timestamper = HTTPTimeStamper(ca.tsa_url) if timestamped else None
    return signers.sign_pdf(writer, metadata, signer=signer, timestamper=timestamper).getvalue()


def _from_dss(ca: LocalCA, dss: DocumentSecurityStore) -> ValidationContext:
    """Offline, revocation data required for every certificate, and only the file's DSS to find it in."""
    return dss.as_validation_context({"trust_roots": [asn1.certificate(ca.root)], "allow_fetching": False,
                                      "revocation_mode": "require"})


def _revocation_covers(dss: DocumentSecurityStore, certificate: x509.Certificate) -> bool:
    """The DSS holds an OCSP response about `certificate` or a CRL from its issuer."""
    for ref in dss.ocsps:
        responses = asn1_ocsp.OCSPResponse.load(ref.get_object().data).basic_ocsp_response["tbs_response_data"]
        if any(single["cert_id"]["serial_number"].native == certificate.serial_number
               for single in responses["responses"]):
            return True
    return any(x509.load_der_x509_crl(ref.get_object().data).issuer == certificate.issuer for ref in dss.crls)


@pytest.mark.django_db
def test_b_lta_from_the_trust_store_validates_offline(ca, superuser_actor):
    from signatures import services

    services.add_trust_anchors(superuser_actor, ca.root.public_bytes(serialization.Encoding.PEM))
    original = signed_by(ca)
    archived = archival.add_archival_timestamp(original, tsa_url=ca.tsa_url)
    assert archived.startswith(original) and len(archived) > len(original)

    reader = PdfFileReader(io.BytesIO(archived))
    (signature,) = reader.embedded_regular_signatures
    first, second = reader.embedded_timestamp_signatures  # B-T's trusted time, then B-LTA's over the DSS
    assert signature.signed_revision < first.signed_revision < second.signed_revision
    dss = DocumentSecurityStore.read_dss(reader)
    dss_revisions = {reader.xrefs.get_introducing_revision(reader.root.raw_get("/DSS").reference),
                     reader.xrefs.get_last_change(reader.root.raw_get("/DSS").reference)}
    assert dss_revisions == {second.signed_revision}  # written after the first timestamp, under the second
    alice_der = ca.certificates["alice"].public_bytes(serialization.Encoding.DER)
    assert any(cert.dump() == alice_der for cert in dss.load_certs())
    assert _revocation_covers(dss, ca.certificates["alice"]) and _revocation_covers(dss, ca.certificates["tsa"])

    before = ca.request_count  # from here on nothing may be fetched: the file carries what is needed
    for document_timestamp in (first, second):
        ts_status = validate_pdf_timestamp(document_timestamp, validation_context=_from_dss(ca, dss))
        assert ts_status.valid and ts_status.intact and ts_status.trusted, ts_status.pretty_print_details()
    status = validate_pdf_signature(signature, _from_dss(ca, dss))
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.modification_level == ModificationLevel.LTA_UPDATES
    assert ca.request_count == before

    report = verify_pdf(archived, trust_roots=[ca.root])
    assert report.verdict == Verdict.VALID, [s.reasons for s in report.signatures]
    (signed,) = [s for s in report.signatures if not s.is_document_timestamp]
    assert signed.pades_level == "B-LTA" and signed.trusted and signed.revocation == "good"
    stamps = [s for s in report.signatures if s.is_document_timestamp]
    assert len(stamps) == 2 and all(s.timestamp_valid and s.timestamp_trusted for s in stamps)


def _online(ca: LocalCA) -> ValidationContext:
    return ValidationContext(trust_roots=[asn1.certificate(ca.root)], allow_fetching=True, revocation_mode="require")


def test_a_signature_with_its_own_timestamp_needs_one_document_timestamp(ca):
    """B-T already: the DSS (signer's and TSA's data) and one document timestamp over it make B-LTA."""
    original = signed_by(ca, timestamped=True)
    archived = archival.add_archival_timestamp(original, tsa_url=ca.tsa_url, validation_context=_online(ca))
    reader = PdfFileReader(io.BytesIO(archived))
    assert archived.startswith(original) and len(reader.embedded_timestamp_signatures) == 1
    assert reader.xrefs.total_revisions == PdfFileReader(io.BytesIO(original)).xrefs.total_revisions + 1
    report = verify_pdf(archived, trust_roots=[ca.root])
    (signed,) = [s for s in report.signatures if not s.is_document_timestamp]
    assert signed.pades_level == "B-LTA" and signed.timestamp_trusted, report.to_dict()


async def _single_stamp(pdf: bytes, ca: LocalCA) -> bytes:
    """What add_archival_timestamp wrote before: the DSS and one document timestamp in one revision."""
    context = _online(ca)
    reader = PdfFileReader(io.BytesIO(pdf))
    paths = [path for sig in reader.embedded_regular_signatures for path in await collect_validation_info(sig, context)]
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=context)
    output = io.BytesIO()
    await PdfTimeStamper(HTTPTimeStamper(ca.tsa_url)).async_timestamp_pdf(
        writer, "sha256", validation_context=context, output=output,
        dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False))
    await context.aclose()
    return output.getvalue()


def test_one_document_timestamp_over_a_b_b_signature_is_only_b_lt(ca):
    """The timestamp is the signature's trusted time (B-T) and the DSS its validation data (B-LT); nothing
    covers that data later, so not B-LTA."""
    report = verify_pdf(asyncio.run(_single_stamp(signed_by(ca), ca)), trust_roots=[ca.root])
    (signed,) = [s for s in report.signatures if not s.is_document_timestamp]
    assert signed.pades_level == "B-LT", report.to_dict()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


def test_refusals_say_why(ca):
    online = ValidationContext(trust_roots=[asn1.certificate(ca.root)], allow_fetching=True,
                               revocation_mode="require")
    with pytest.raises(archival.ArchivalTimestampError) as unsigned:
        archival.add_archival_timestamp(make_pdf(), tsa_url=ca.tsa_url, validation_context=online)
    assert unsigned.value.reason == archival.ERR_NO_SIGNATURES

    signed = signed_by(ca)
    with pytest.raises(archival.ArchivalTimestampError) as no_tsa:
        archival.add_archival_timestamp(signed, tsa_url=_closed_port_url(), validation_context=ValidationContext(
            trust_roots=[asn1.certificate(ca.root)], allow_fetching=True, revocation_mode="require"))
    assert no_tsa.value.reason == archival.ERR_TSA_UNREACHABLE

    offline_without_data = ValidationContext(trust_roots=[asn1.certificate(ca.root)], allow_fetching=False,
                                             crls=[], ocsps=[], revocation_mode="require")
    with pytest.raises(archival.ArchivalTimestampError) as no_revinfo:
        archival.add_archival_timestamp(signed, tsa_url=ca.tsa_url, validation_context=offline_without_data)
    assert no_revinfo.value.reason == archival.ERR_REVOCATION_UNAVAILABLE
    assert str(no_revinfo.value)  # translated for display

    with pytest.raises(archival.ArchivalTimestampError) as revoked:
        archival.add_archival_timestamp(signed_by(ca, "bob"), tsa_url=ca.tsa_url, validation_context=ValidationContext(
            trust_roots=[asn1.certificate(ca.root)], allow_fetching=True, revocation_mode="require"))
    assert revoked.value.reason == archival.ERR_REVOKED
