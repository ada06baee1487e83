"""Online revocation checking of received documents, against a local OCSP responder and CRL server
(certomancer's Animator on 127.0.0.1, see revocation_pki.py): good, revoked, unreachable, cached, off, and the
revocation data embedded when signing with a certificate that declares where its CA publishes it."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.core.cache import cache
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import DocumentSecurityStore
from reportlab.pdfgen import canvas

from signatures import engine, revocation
from signatures.keys import StoredKeyHolder, encrypt_key_for
from signatures.verification import MSG_REVOCATION_UNCHECKED, MSG_REVOKED, Verdict, verify_pdf
from tests.signatures.revocation_pki import LocalCA, local_ca


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCA]:
    with local_ca(tmp_path_factory.mktemp("local-ca")) as served:
        yield served


@pytest.fixture(autouse=True)
def online(settings) -> Iterator[None]:
    """Checking on with a short timeout, and an empty cache (answers and unreachable URLs) for each test."""
    settings.SIGNATURE_REVOCATION_CHECKING = True
    settings.SIGNATURE_REVOCATION_TIMEOUT = 0.5
    cache.clear()
    yield
    cache.clear()


def _pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 700, "Công văn gửi đến")
    page.showPage()
    page.save()
    return buffer.getvalue()


def _asn1(certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _signed_by(ca: LocalCA, label: str) -> bytes:
    """A PDF signed elsewhere with stock pyHanko (B-B: no revocation data in the file)."""
    key = asn1_keys.PrivateKeyInfo.load(ca.keys[label].private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    signer = signers.SimpleSigner(signing_cert=_asn1(ca.certificates[label]), signing_key=key, cert_registry=None)
    writer = IncrementalPdfFileWriter(io.BytesIO(_pdf()))
    return signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer).getvalue()


def _verify(ca: LocalCA, data: bytes):
    report = verify_pdf(data, trust_roots=[ca.root], fetcher_backend=revocation.fetcher_backend())
    assert len(report.signatures) == 1
    return report, report.signatures[0]


def test_good_answer_online_is_valid(ca):
    report, signature = _verify(ca, _signed_by(ca, "alice"))
    assert report.verdict == Verdict.VALID, signature.reasons
    assert (signature.revocation, signature.revocation_online, signature.revocation_source) == ("good", True, "ocsp")


def test_revoked_certificate_is_invalid(ca):
    report, signature = _verify(ca, _signed_by(ca, "bob"))
    assert report.verdict == Verdict.INVALID
    assert signature.revocation == "revoked" and signature.revocation_time is not None
    assert signature.revocation_source == "ocsp"
    assert MSG_REVOKED in signature.reasons


def test_second_verification_is_answered_from_the_cache(ca):
    data = _signed_by(ca, "alice")
    before = ca.request_count
    assert _verify(ca, data)[1].revocation == "good"
    after_first = ca.request_count
    assert after_first > before  # the first one asked the CA
    for _again in range(3):
        report, signature = _verify(ca, data)
        assert report.verdict == Verdict.VALID and signature.revocation == "good"
    assert ca.request_count == after_first  # the others did not


def test_checking_off_stays_offline(ca, settings):
    settings.SIGNATURE_REVOCATION_CHECKING = False
    before = ca.request_count
    report, signature = _verify(ca, _signed_by(ca, "alice"))
    assert revocation.fetcher_backend() is None
    assert report.verdict == Verdict.VALID and signature.revocation == "not_checked"
    assert not signature.revocation_online and ca.request_count == before


def _black_hole(port: int) -> socket.socket:
    """A listener that never answers on the CA's old port: connections are accepted by the kernel and then
    hang, so only the timeout ends a request."""
    hole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hole.bind(("127.0.0.1", port))
    hole.listen(16)
    return hole


def test_unreachable_responder_is_never_valid_and_is_remembered(tmp_path: Path):
    with local_ca(tmp_path / "ca") as down:
        data = _signed_by(down, "alice")
        down.stop()
        hole = _black_hole(int(down.base_url.rsplit(":", 1)[1]))
        try:
            started = time.perf_counter()
            report, signature = _verify(down, data)
            first = time.perf_counter() - started
            started = time.perf_counter()
            again, _signature = _verify(down, data)
            second = time.perf_counter() - started
        finally:
            hole.close()
    assert report.verdict == Verdict.UNVERIFIABLE and again.verdict == Verdict.UNVERIFIABLE
    assert signature.revocation == "unknown" and signature.trust_problem == "try_later"
    assert signature.reasons == [MSG_REVOCATION_UNCHECKED]
    assert signature.trusted is False and signature.intact and signature.valid
    assert 0.4 < first < 3, first  # the 0.5 s timeout ended the requests (OCSP, then the CRL)
    assert second < 0.3, second  # the unreachable URLs were not asked again


def test_refused_connection_is_not_valid_either(tmp_path: Path):
    with local_ca(tmp_path / "ca") as down:
        data = _signed_by(down, "alice")
        down.stop()
        started = time.perf_counter()
        report, signature = _verify(down, data)
    assert time.perf_counter() - started < 2
    assert report.verdict == Verdict.UNVERIFIABLE and signature.revocation == "unknown"
    assert signature.reasons == [MSG_REVOCATION_UNCHECKED]


def _holder(ca: LocalCA, label: str) -> StoredKeyHolder:
    kek = os.urandom(32)
    certificate = ca.certificates[label]
    return StoredKeyHolder(encrypt_key_for(certificate, ca.keys[label], kek), kek, certificate, ca.chain(label))


def _sign_here(ca: LocalCA, label: str) -> bytes:
    import datetime as dt

    return engine.sign_attachment(_pdf(), _holder(ca, label), number_notation="15/QĐ-UBND",
                                  signing_time=dt.datetime.now(dt.UTC))


def _dss(data: bytes) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(data)))
    except Exception:
        return None


def test_signing_embeds_the_fetched_answer_which_then_verifies_offline(ca):
    signed = _sign_here(ca, "seal")
    dss = _dss(signed)
    assert dss is not None and len(dss.ocsps) + len(dss.crls) >= 1
    before = ca.request_count
    report = verify_pdf(signed, trust_roots=[ca.root])  # offline: the embedded answer is enough
    signature = report.signatures[0]
    assert report.verdict == Verdict.VALID, signature.reasons
    assert signature.revocation == "good" and signature.pades_level == "B-B"
    assert ca.request_count == before


def test_signing_with_the_ca_offline_signs_without_revocation_data(tmp_path: Path):
    with local_ca(tmp_path / "ca") as down:
        down.stop()
        signed = _sign_here(down, "seal")
    assert _dss(signed) is None
    assert hashlib.sha256(signed).hexdigest()  # a signed file came out
    assert len(PdfFileReader(io.BytesIO(signed)).embedded_signatures) == 1


def test_signing_with_a_certificate_the_ca_says_is_revoked_is_refused(ca):
    with pytest.raises(engine.SigningEngineError):
        _sign_here(ca, "bob")


def test_signing_with_checking_off_embeds_nothing(ca, settings):
    settings.SIGNATURE_REVOCATION_CHECKING = False
    before = ca.request_count
    assert _dss(_sign_here(ca, "seal")) is None and ca.request_count == before


def test_only_http_urls_are_fetched():
    with pytest.raises(Exception, match="http"):
        revocation._admit("ldap://ldap.example.vn/cn=CA?certificateRevocationList")
    with pytest.raises(Exception, match="http"):
        revocation._admit("file:///etc/passwd")


@pytest.mark.django_db
def test_the_stored_file_verification_checks_online_when_on(ca, superuser_actor, settings):
    """`verifying.verify_bytes` (the stored-file task and the upload page) uses the trust store and, with the
    setting on, the CA's OCSP responder; off, the same file is checked offline as before."""
    from signatures import services
    from signatures.verifying import verify_bytes

    services.add_trust_anchors(superuser_actor, ca.root.public_bytes(serialization.Encoding.PEM))
    data = _signed_by(ca, "alice")
    online_report = verify_bytes(data)
    assert online_report.verdict == Verdict.VALID and online_report.signatures[0].revocation == "good"
    settings.SIGNATURE_REVOCATION_CHECKING = False
    offline_report = verify_bytes(data)
    assert offline_report.verdict == Verdict.VALID and offline_report.signatures[0].revocation == "not_checked"


def _foreign_tsa():
    """A TSA under a root the local CA's signer does not know, so pyHanko cannot validate its token with the
    fetched material."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Foreign TSA")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(7).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return engine.make_timestamper(certificate, key)


def test_fetched_material_pyhanko_refuses_falls_back_to_signing_without_it(ca):
    import datetime as dt

    signed = engine.sign_attachment(_pdf(), _holder(ca, "seal"), number_notation="16/QĐ-UBND",
                                    signing_time=dt.datetime.now(dt.UTC), timestamper=_foreign_tsa())
    assert _dss(signed) is None  # signed, timestamped, without the refused validation data
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    assert signature.sig_object.get("/SubFilter") == "/ETSI.CAdES.detached"
    assert verify_pdf(signed, trust_roots=[ca.root]).signatures[0].timestamp_valid
