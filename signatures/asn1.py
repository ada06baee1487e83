"""cryptography objects (what our code and the database hold) to asn1crypto objects (what pyHanko and
pyhanko-certvalidator take), in one place. Each accepts the asn1crypto object itself, the cryptography
object, or DER bytes."""

from __future__ import annotations

import functools
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding


def der(item: Any) -> bytes:
    """DER bytes of a cryptography object, an asn1crypto object or bytes."""
    if isinstance(item, bytes | bytearray | memoryview):
        return bytes(item)
    if hasattr(item, "public_bytes"):
        return item.public_bytes(Encoding.DER)
    if hasattr(item, "dump"):
        return item.dump()
    raise TypeError(f"Cannot DER-encode {type(item).__name__}")


@functools.lru_cache(maxsize=512)
def certificate_from_der(data: bytes) -> asn1_x509.Certificate:
    """Parsed once per process: every signature needs the signer's and CAs' certificates again."""
    certificate = asn1_x509.Certificate.load(data)
    _ = certificate.issuer, certificate.subject, certificate.serial_number, certificate.public_key
    return certificate


def certificate(item: Any) -> asn1_x509.Certificate:
    return item if isinstance(item, asn1_x509.Certificate) else certificate_from_der(der(item))


def crl(item: Any) -> asn1_crl.CertificateList:
    return item if isinstance(item, asn1_crl.CertificateList) else asn1_crl.CertificateList.load(der(item))


def ocsp(item: Any) -> asn1_ocsp.OCSPResponse:
    return item if isinstance(item, asn1_ocsp.OCSPResponse) else asn1_ocsp.OCSPResponse.load(der(item))
