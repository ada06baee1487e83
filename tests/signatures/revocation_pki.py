"""A throwaway CA whose certificates declare an OCSP responder (AIA) and a CRL distribution point (CDP) on
127.0.0.1, served by certomancer's Animator on a background thread: the revocation tests and the signing
bench (bench/signing.py) check received documents against it, online, without leaving the machine.

The architecture: a root CA that issues an OCSP responder certificate (ocsp-no-check) and three signers, all
declaring `http://127.0.0.1:<port>/local/ocsp/root` and `http://127.0.0.1:<port>/local/crls/root/latest.crl`:
`alice` (good), `bob` (revoked an hour ago) and `seal` (good, the agency seal of two-signature files). The
Animator also runs an RFC 3161 time-stamping service (`LocalCA.tsa_url`) whose certificate `tsa` (EKU
timeStamping) declares the same OCSP responder and CRL: the archival (B-LTA) timestamp tests use it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ARCH = "local"
SIGNERS = ("alice", "bob", "seal")
REVOKED = "bob"
TSA = "tsa"
KEY_LABELS = ("root", "ocsp", TSA, *SIGNERS)


class _CountingApp:
    """WSGI wrapper counting the requests per path, so tests can see whether the network was used."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        with self.lock:
            self.requests[environ.get("PATH_INFO", "")] += 1
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class LocalCA:
    base_url: str
    certificates: dict[str, x509.Certificate]
    keys: dict[str, ec.EllipticCurvePrivateKey]
    counter: _CountingApp
    stop: Callable[[], None] = field(repr=False)

    @property
    def root(self) -> x509.Certificate:
        return self.certificates["root"]

    @property
    def request_count(self) -> int:
        with self.counter.lock:
            return sum(self.counter.requests.values())

    @property
    def tsa_url(self) -> str:
        """The RFC 3161 time-stamping service (POST a TimeStampReq)."""
        return f"{self.base_url}/{ARCH}/tsa/{TSA}"

    def chain(self, label: str) -> list[x509.Certificate]:
        """The certificates a signer embeds besides its own: the root (a single-tier CA)."""
        return [self.root]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _config(key_dir: Path, base_url: str, now: datetime) -> dict[str, Any]:
    validity = {"valid-from": _iso(now - timedelta(days=30)), "valid-to": _iso(now + timedelta(days=365))}
    revinfo = [
        {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                           "params": {"crl-repo-names": ["root"]}}},
        {"id": "authority_information_access", "smart-value": {"schema": "aia-urls",
                                                                 "params": {"ocsp-responder-names": ["root"]}}},
    ]
    signer_usage = {"id": "key_usage", "critical": True,
                    "smart-value": {"schema": "key-usage", "params": ["digital_signature", "non_repudiation"]}}
    certs: dict[str, Any] = {
        "root": {
            "subject": "root", "subject-key": "root", "issuer": "root", "authority-key": "root",
            "validity": {"valid-from": _iso(now - timedelta(days=365)), "valid-to": _iso(now + timedelta(days=3650))},
            "extensions": [
                {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                {"id": "key_usage", "critical": True,
                 "smart-value": {"schema": "key-usage", "params": ["digital_signature", "key_cert_sign", "crl_sign"]}},
            ],
        },
        "ocsp": {
            "issuer": "root", "validity": validity,
            "extensions": [
                {"id": "key_usage", "critical": True,
                 "smart-value": {"schema": "key-usage", "params": ["digital_signature"]}},
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"},
            ],
        },
    }
    for label in SIGNERS:
        certs[label] = {"issuer": "root", "validity": validity, "extensions": [signer_usage, *revinfo]}
    certs[TSA] = {"issuer": "root", "validity": validity, "extensions": [
        {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": ["digital_signature"]}},
        {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
        *revinfo,
    ]}
    certs[REVOKED]["revocation"] = {"revoked-since": _iso(now - timedelta(hours=1)), "reason": "key_compromise"}
    return {
        "external-url-prefix": base_url,
        "keysets": {ARCH: {"keys": {label: {"path": f"{label}.key.pem"} for label in KEY_LABELS}}},
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "VN", "organization-name": "Local test CA"},
                "entities": {"root": {"common-name": "Local Root CA"}, "ocsp": {"common-name": "Local OCSP"},
                             "alice": {"common-name": "Alice"}, "bob": {"common-name": "Bob"},
                             "seal": {"common-name": "Local agency seal"}, TSA: {"common-name": "Local TSA"}},
                "certs": certs,
                "services": {
                    "ocsp": {"root": {"for-issuer": "root", "responder-cert": "ocsp", "signing-key": "ocsp"}},
                    "crl-repo": {"root": {"for-issuer": "root", "signing-key": "root",
                                          "simulated-update-schedule": "P1D"}},
                    "time-stamping": {TSA: {"signing-cert": TSA}},
                },
            }
        },
    }


@contextmanager
def local_ca(key_dir: Path) -> Iterator[LocalCA]:
    """Generate the keys into `key_dir`, build the architecture with URLs on a free 127.0.0.1 port and serve
    it until the block ends (or `stop()` is called: the port then refuses connections)."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:  # no access log on the test output
            pass

    keys = {label: ec.generate_private_key(ec.SECP256R1()) for label in KEY_LABELS}
    key_dir.mkdir(parents=True, exist_ok=True)
    for label, key in keys.items():
        (key_dir / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    counter = _CountingApp()
    server = make_server("127.0.0.1", 0, counter, threaded=True, request_handler=QuietHandler)
    base_url = f"http://127.0.0.1:{server.server_port}"
    config = CertomancerConfig(_config(key_dir, base_url, datetime.now(UTC)), key_search_dir=str(key_dir))
    arch = config.get_pki_arch(ArchLabel(ARCH))
    counter.app = Animator(AnimatorArchStore({arch.arch_label: arch}), with_web_ui=False)
    certificates = {
        label: x509.load_der_x509_certificate(arch.get_cert(CertLabel(label)).dump())
        for label in KEY_LABELS
    }
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="local-ca", daemon=True)
    thread.start()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            server.shutdown()
            server.server_close()
            thread.join(5)

    try:
        yield LocalCA(base_url=base_url, certificates=certificates, keys=keys, counter=counter, stop=stop)
    finally:
        stop()


def signed_pdf(ca: LocalCA, label: str, pdf: bytes) -> bytes:
    """`pdf` signed elsewhere with stock pyHanko by the CA's `label` (B-B: no revocation data in the file)."""
    import io

    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    key = asn1_keys.PrivateKeyInfo.load(ca.keys[label].private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    certificate = asn1_x509.Certificate.load(ca.certificates[label].public_bytes(serialization.Encoding.DER))
    signer = signers.SimpleSigner(signing_cert=certificate, signing_key=key, cert_registry=None)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer).getvalue()
