"""Importing, checking and protecting signing keys.

- `load_pkcs12` / `load_certificate`: what a user uploads (.p12/.pfx with its password, or a certificate alone),
  with an error the user can act on for every way the file can be wrong.
- `check_certificate` / `check_chain`: refuse certificates that must not sign (expired, not yet valid, wrong
  usage, CA certificate, revoked, untrusted) before anything is stored.
- `encrypt_private_key` / `decrypt_private_key`: keys at rest are AES-256-GCM encrypted with a key-encryption
  key (KEK) from the environment, and bound to their certificate, so a database dump or backup holds no usable
  key and a blob copied onto another credential does not decrypt.
- `StoredKeyHolder`: the `signers.KeyHolder` for such a stored key.

User-facing errors are `CertificateRefused` with a translatable message and a stable `code` for programs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import datetime as dt
import os
import threading
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from . import asn1
from .signers import SigningUnavailable

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7), "+07:00")

BLOB_FORMAT = b"EOK1"
"""Version tag of an encrypted key blob: b"EOK1" + 12-byte nonce + AES-256-GCM ciphertext and 16-byte tag."""
NONCE_SIZE = 12
TAG_SIZE = 16
KEK_SIZE = 32

SIGNING_EXTENDED_USAGES = frozenset(
    {
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        ExtendedKeyUsageOID.CLIENT_AUTH,  # several Vietnamese CAs issue signing certificates with clientAuth only
        x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # id-kp-documentSigning (RFC 9336)
        x509.ObjectIdentifier("1.2.840.113583.1.1.5"),  # Adobe Authentic Documents Trust
        x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),  # Microsoft Document Signing
    }
)
"""When a certificate restricts its purposes (EKU), one of these must be among them for it to sign documents."""

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _interpolate(message: str, params: dict[str, object]) -> str:
    return str(message) % params


lazy_format = lazy(_interpolate, str)
"""Translated when shown, in the language active then (a Celery task may store the error for a later page)."""


class CertificateRefused(Exception):
    """A certificate or key file the user supplied cannot be used; the message says why, in their language.

    `code` is stable for programs and tests: not_pkcs12, wrong_password, unsupported_encryption,
    no_private_key, no_certificate, key_mismatch, unsupported_key, not_certificate, not_yet_valid, expired,
    ca_certificate, wrong_usage, wrong_extended_usage, not_a_seal, revoked, untrusted, invalid_chain.
    `detail` holds technical text for logs (never secrets).
    """

    def __init__(self, message: str, *, code: str = "refused", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail

    def __reduce__(self):  # keep code and detail through pickling (Celery results, caches)
        return (self.__class__, (self.message,), {"code": self.code, "detail": self.detail})

    def __str__(self) -> str:
        return str(self.message)


class KeyDecryptionError(Exception):
    """A stored key blob cannot be decrypted: wrong KEK, altered blob, or a blob of another certificate."""


class InvalidKek(ValueError):
    """The configured key-encryption key is not base64 of 32 bytes (the message never repeats the value)."""


def _moment(value: dt.datetime) -> str:
    """Dates in messages are Vietnamese local time with its offset, the way Vietnamese users read them."""
    return value.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M:%S +07:00")


def _serial(certificate: x509.Certificate) -> str:
    return f"{certificate.serial_number:X}"


def _subject(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 fingerprint as lower-case hex: the certificate's identity in the database and in key bindings."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def key_algorithm_of(public_key: object) -> Literal["rsa", "ecdsa"]:
    """The `KeyHolder.key_algorithm` value for a certificate's public key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    raise ValueError(f"unsupported signing key type {type(public_key).__name__}")


def hash_by_name(name: str) -> hashes.HashAlgorithm:
    """'sha256' -> hashes.SHA256(); only the SHA-2 family signs documents."""
    try:
        return HASHES[name.lower().replace("-", "")]()
    except KeyError:
        raise ValueError(f"unsupported hash algorithm {name!r}") from None


# --- importing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedKey:
    """What a .p12/.pfx file held: the signer's certificate, its key and the CA certificates above it."""

    certificate: x509.Certificate
    private_key: PrivateKey
    chain: tuple[x509.Certificate, ...]
    """Issuing CA first, towards the root, as far as the file contains it."""

    def __repr__(self) -> str:  # never show the private key
        return f"ImportedKey({_subject(self.certificate)!r}, serial={_serial(self.certificate)})"


def _is_pfx(data: bytes) -> bool:
    """Whether `data` is structurally a PKCS#12 file, to tell "wrong file" from "wrong password"."""
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in {"data", "signed_data"}
    except (ValueError, TypeError, KeyError):
        return False


def order_chain(certificate: x509.Certificate, others: Iterable[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The certificates above `certificate`, nearest first, following issuer names; unrelated ones are dropped."""
    remaining = [other for other in others if other != certificate]
    chain: list[x509.Certificate] = []
    current = certificate
    while current.issuer != current.subject:
        issuer = next((other for other in remaining if other.subject == current.issuer), None)
        if issuer is None:
            break
        chain.append(issuer)
        remaining.remove(issuer)
        current = issuer
    return tuple(chain)


def load_pkcs12(data: bytes, password: str) -> ImportedKey:
    """Open a .p12/.pfx file; raises CertificateRefused saying what is wrong with it."""
    if not _is_pfx(data):
        raise CertificateRefused(_("This file is not a PKCS#12 (.p12 or .pfx) certificate file."), code="not_pkcs12")
    attempts: list[bytes | None] = [password.encode()]
    if password == "":
        attempts.append(None)  # "no password" and "empty password" are different things in PKCS#12
    bundle = None
    for attempt in attempts:
        try:
            bundle = pkcs12.load_pkcs12(data, attempt)
            break
        except UnsupportedAlgorithm as error:
            raise CertificateRefused(
                _("This certificate file is protected with an encryption method the server does not support."),
                code="unsupported_encryption",
                detail=str(error),
            ) from error
        except ValueError:
            continue
    if bundle is None:
        raise CertificateRefused(_("The password is wrong, or the certificate file is damaged."), code="wrong_password")
    if bundle.key is None:
        raise CertificateRefused(
            _("This certificate file has no private key: import the certificate alone instead."),
            code="no_private_key",
        )
    if not isinstance(bundle.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateRefused(
            _("Only RSA and ECDSA keys can sign documents; this file holds another kind of key."),
            code="unsupported_key",
            detail=type(bundle.key).__name__,
        )
    candidates = ([bundle.cert.certificate] if bundle.cert else []) + [c.certificate for c in bundle.additional_certs]
    if not candidates:
        raise CertificateRefused(_("This file holds a private key but no certificate."), code="no_certificate")
    public_key = bundle.key.public_key()
    certificate = next((c for c in candidates if c.public_key() == public_key), None)
    if certificate is None:
        raise CertificateRefused(
            _("The private key in this file does not belong to its certificate."), code="key_mismatch"
        )
    return ImportedKey(certificate, bundle.key, order_chain(certificate, candidates))


def load_certificate(data: bytes) -> x509.Certificate:
    """One certificate, PEM or DER (the .cer/.crt files CAs hand out are either)."""
    certificates = load_certificates(data)
    if len(certificates) != 1:
        raise CertificateRefused(
            lazy_format(
                _("This file holds %(count)s certificates; upload one certificate at a time."),
                {"count": len(certificates)},
            ),
            code="not_certificate",
        )
    return certificates[0]


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from a PEM bundle, a DER certificate or a PKCS#7 (.p7b) bundle, e.g. for the trust store."""
    stripped = data.strip()
    loaders = (
        (x509.load_pem_x509_certificates, pkcs7.load_pem_pkcs7_certificates)
        if stripped.startswith(b"-----BEGIN")
        else (lambda raw: [x509.load_der_x509_certificate(raw)], pkcs7.load_der_pkcs7_certificates)
    )
    for loader in loaders:
        try:
            certificates = loader(stripped)
        except (ValueError, UnsupportedAlgorithm):
            continue
        if certificates:
            return list(certificates)
    raise CertificateRefused(
        _("This file is not a certificate (a PEM or DER .cer/.crt file is expected)."), code="not_certificate"
    )


# --- checking ---------------------------------------------------------------------------------------------


def _extension(certificate: x509.Certificate, kind: type[x509.ExtensionType]) -> Any:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def check_certificate(
    certificate: x509.Certificate,
    *,
    purpose: Literal["personal", "seal"],
    at: dt.datetime,
    crls: Sequence[x509.CertificateRevocationList] = (),
    issuer: x509.Certificate | None = None,
) -> None:
    """Refuse a certificate that must not sign documents at `at`; raises CertificateRefused.

    Key usage: digitalSignature or nonRepudiation must be allowed (a certificate without the extension is
    unrestricted, RFC 5280). A certificate limited by EKU to other purposes (TLS server, time stamping) is
    refused. A seal certificate must name its organisation (O). Revocation: the certificate is refused when a
    CRL from its issuer lists it as revoked at or before `at`; with `issuer` given, CRLs whose signature does
    not verify against it are ignored. Chain and trust are `check_chain`'s job.
    """
    if at.tzinfo is None:
        raise ValueError("check_certificate needs a timezone-aware time")
    if at < certificate.not_valid_before_utc:
        raise CertificateRefused(
            lazy_format(
                _("The certificate (serial %(serial)s) is not valid yet: it is valid from %(date)s."),
                {"serial": _serial(certificate), "date": _moment(certificate.not_valid_before_utc)},
            ),
            code="not_yet_valid",
        )
    if at > certificate.not_valid_after_utc:
        raise CertificateRefused(
            lazy_format(
                _("The certificate (serial %(serial)s) expired on %(date)s."),
                {"serial": _serial(certificate), "date": _moment(certificate.not_valid_after_utc)},
            ),
            code="expired",
        )
    constraints = _extension(certificate, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise CertificateRefused(
            _("This is a certification authority certificate; it cannot sign documents."), code="ca_certificate"
        )
    usage = _extension(certificate, x509.KeyUsage)
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise CertificateRefused(
            lazy_format(
                _(
                    "The certificate (serial %(serial)s) does not allow digital signature or non-repudiation, "
                    "so it cannot sign documents."
                ),
                {"serial": _serial(certificate)},
            ),
            code="wrong_usage",
        )
    extended_usage = _extension(certificate, x509.ExtendedKeyUsage)
    if extended_usage is not None and not SIGNING_EXTENDED_USAGES.intersection(extended_usage):
        raise CertificateRefused(
            lazy_format(
                _("The certificate (serial %(serial)s) is restricted to other purposes and cannot sign documents."),
                {"serial": _serial(certificate)},
            ),
            code="wrong_extended_usage",
            detail=", ".join(oid.dotted_string for oid in extended_usage),
        )
    if purpose == "seal" and not certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME):
        raise CertificateRefused(
            _("An agency seal certificate must name the organisation (O) in its subject."), code="not_a_seal"
        )
    for crl in crls:
        if crl.issuer != certificate.issuer:
            continue
        if issuer is not None and not crl.is_signature_valid(issuer.public_key()):
            continue
        entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if entry is not None and entry.revocation_date_utc <= at:
            raise CertificateRefused(
                lazy_format(
                    _("The certificate (serial %(serial)s) was revoked on %(date)s."),
                    {"serial": _serial(certificate), "date": _moment(entry.revocation_date_utc)},
                ),
                code="revoked",
            )


_T = TypeVar("_T")


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run pyhanko-certvalidator's async API from sync code, also when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def check_chain(
    certificate: x509.Certificate,
    chain: Iterable[x509.Certificate],
    trust_roots: Iterable[x509.Certificate],
    at: dt.datetime,
) -> None:
    """Refuse a certificate that does not chain to one of `trust_roots` at `at` (validity, signatures,
    CA constraints). Offline: nothing is fetched, revocation is not checked here (see `check_certificate`)."""
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    no_revocation_check = CertRevTrustPolicy(
        RevocationCheckingPolicy(RevocationCheckingRule.NO_CHECK, RevocationCheckingRule.NO_CHECK)
    )
    context = ValidationContext(
        trust_roots=[asn1.certificate(root) for root in trust_roots],
        other_certs=[asn1.certificate(other) for other in chain],
        moment=at,
        allow_fetching=False,
        revinfo_policy=no_revocation_check,
    )
    validator = CertificateValidator(asn1.certificate(certificate), validation_context=context)
    try:
        _run(validator.async_validate_path())
    except PathBuildingError as error:
        raise CertificateRefused(
            lazy_format(
                _(
                    "The certificate does not chain to a trusted root certificate (issued by %(issuer)s). "
                    "Ask an administrator to add the issuing CA to the trust store."
                ),
                {"issuer": _issuer_name(certificate)},
            ),
            code="untrusted",
            detail=str(error),
        ) from error
    except (PathValidationError, ValidationError) as error:
        raise CertificateRefused(
            lazy_format(
                _("The certificate chain is not valid on %(date)s."),
                {"date": _moment(at)},
            ),
            code="invalid_chain",
            detail=str(error),
        ) from error


def _issuer_name(certificate: x509.Certificate) -> str:
    names = certificate.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.issuer.rfc4514_string()


# --- protection at rest -----------------------------------------------------------------------------------


def generate_kek() -> str:
    """A new key-encryption key, urlsafe base64 of 32 random bytes, for the environment."""
    return base64.urlsafe_b64encode(os.urandom(KEK_SIZE)).decode("ascii")


def parse_kek(value: str) -> bytes:
    """The KEK from its environment text: base64 (urlsafe or standard, padding optional) of exactly 32 bytes."""
    text = "".join(value.split())
    if not text:
        raise InvalidKek("the key-encryption key is empty; generate one with signatures.keys.generate_kek()")
    normalised = text.replace("-", "+").replace("_", "/")
    normalised += "=" * (-len(normalised) % 4)
    try:
        kek = base64.b64decode(normalised, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKek("the key-encryption key is not valid base64") from None
    if len(kek) != KEK_SIZE:
        raise InvalidKek(f"the key-encryption key must decode to {KEK_SIZE} bytes (AES-256), not {len(kek)}")
    return kek


def _check_kek(kek: bytes) -> None:
    if not isinstance(kek, bytes) or len(kek) != KEK_SIZE:
        raise InvalidKek(f"the key-encryption key must be {KEK_SIZE} bytes")


def associated_data_for(certificate: x509.Certificate) -> bytes:
    """What a stored key is bound to: its certificate's SHA-256 fingerprint."""
    return b"eoffice-signing-key:" + fingerprint(certificate).encode("ascii")


def encrypt_private_key(key: PrivateKey, kek: bytes, *, associated_data: bytes) -> bytes:
    """b"EOK1" + random 96-bit nonce + AES-256-GCM(PKCS#8 DER of the key); the format tag is authenticated too."""
    _check_kek(kek)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    nonce = os.urandom(NONCE_SIZE)
    return BLOB_FORMAT + nonce + AESGCM(kek).encrypt(nonce, der, BLOB_FORMAT + associated_data)


def decrypt_private_key(blob: bytes, kek: bytes, *, associated_data: bytes) -> PrivateKey:
    """The key back from `encrypt_private_key`; KeyDecryptionError when the KEK, blob or binding differ."""
    _check_kek(kek)
    header = len(BLOB_FORMAT) + NONCE_SIZE
    if not blob.startswith(BLOB_FORMAT) or len(blob) < header + TAG_SIZE:
        raise KeyDecryptionError("not an encrypted key blob of a known format")
    try:
        der = AESGCM(kek).decrypt(blob[len(BLOB_FORMAT) : header], blob[header:], BLOB_FORMAT + associated_data)
    except InvalidTag:
        raise KeyDecryptionError(
            "the stored key does not decrypt: wrong key-encryption key, altered blob, or another certificate's key"
        ) from None
    # GCM has just authenticated these bytes as exactly what `encrypt_private_key` wrote from a key object that
    # cryptography had validated on import (or generated itself), so validating the RSA key again would only
    # cost ~55 ms per load. Anyone able to forge a blob already holds the KEK and could encrypt any key anyway.
    key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyDecryptionError(f"unsupported stored key type {type(key).__name__}")
    return key


SECRET_FORMAT = b"EOS1"


def encrypt_secret(secret: bytes, kek: bytes, *, associated_data: bytes) -> bytes:
    """A token PIN at rest: b"EOS1" + nonce + AES-256-GCM, bound to the certificate like a stored key."""
    _check_kek(kek)
    nonce = os.urandom(NONCE_SIZE)
    return SECRET_FORMAT + nonce + AESGCM(kek).encrypt(nonce, secret, SECRET_FORMAT + associated_data)


def decrypt_secret(blob: bytes, kek: bytes, *, associated_data: bytes) -> bytes:
    _check_kek(kek)
    header = len(SECRET_FORMAT) + NONCE_SIZE
    if not blob.startswith(SECRET_FORMAT) or len(blob) < header + TAG_SIZE:
        raise KeyDecryptionError("not an encrypted secret of a known format")
    try:
        return AESGCM(kek).decrypt(blob[len(SECRET_FORMAT) : header], blob[header:], SECRET_FORMAT + associated_data)
    except InvalidTag:
        raise KeyDecryptionError("the stored secret does not decrypt") from None


def encrypt_key_for(certificate: x509.Certificate, key: PrivateKey, kek: bytes) -> bytes:
    """Encrypt `key` bound to `certificate` (what `StoredKeyHolder` expects), after checking they match."""
    if key.public_key() != certificate.public_key():
        raise ValueError("the private key does not belong to the certificate")
    return encrypt_private_key(key, kek, associated_data=associated_data_for(certificate))


class StoredKeyHolder:
    """A `signers.KeyHolder` for a key stored encrypted in our database.

    The key is decrypted on first use and kept for the holder's lifetime (the blob and KEK are then dropped):
    parsing a key per signature is what makes pyHanko's stock signer slow. Keep one holder per credential
    per process, not per request.
    """

    def __init__(
        self,
        blob: bytes,
        kek: bytes,
        certificate: x509.Certificate,
        chain: Iterable[x509.Certificate] = (),
        *,
        associated_data: bytes | None = None,
    ) -> None:
        self.certificate = certificate
        self.chain = list(chain)
        self.key_algorithm = key_algorithm_of(certificate.public_key())
        self._blob: bytes | None = blob
        self._kek: bytes | None = kek
        self._associated_data = associated_data if associated_data is not None else associated_data_for(certificate)
        self._private_key: PrivateKey | None = None
        self._lock = threading.Lock()

    def _key(self) -> PrivateKey:
        with self._lock:
            if self._private_key is None:
                assert self._blob is not None and self._kek is not None
                try:
                    key = decrypt_private_key(self._blob, self._kek, associated_data=self._associated_data)
                except (KeyDecryptionError, InvalidKek) as error:
                    raise SigningUnavailable(
                        _(
                            "The stored signing key cannot be decrypted: the server's key-encryption key is wrong "
                            "or the stored key was altered."
                        )
                    ) from error
                if key.public_key() != self.certificate.public_key():
                    raise SigningUnavailable(_("The stored signing key does not belong to its certificate."))
                self._private_key, self._blob, self._kek = key, None, None
            return self._private_key

    def sign(self, data: bytes, hash_algorithm: str) -> bytes:
        """PKCS#1 v1.5 (RSA) or DER-encoded ECDSA signature of `data` with the named SHA-2 hash."""
        digest = hash_by_name(hash_algorithm)
        key = self._key()
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), digest)
        return key.sign(data, ec.ECDSA(digest))

    def __repr__(self) -> str:  # never the key, the blob or the KEK
        state = "loaded" if self._private_key is not None else "encrypted"
        return f"<StoredKeyHolder {_subject(self.certificate)!r} serial={_serial(self.certificate)} {state}>"

    def __getstate__(self) -> None:
        raise TypeError("a StoredKeyHolder holds key material and must not be pickled")
