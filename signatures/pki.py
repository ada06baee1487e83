"""A small, self-contained demo PKI: root CA, issuing CA, TSA, OCSP responder, agency seals and people.

`make run` and the tests need certificates that behave like the ones Vietnamese CAs issue (RSA keys,
Vietnamese subject names as UTF8String, digitalSignature + nonRepudiation), without any network: so the
certificates carry no AIA or CRL distribution point by default (a validator with fetching enabled, or poppler's
pdfsig, would try to reach them) and revocation data (`crl`, `ocsp_response`) is produced on demand and
handed to the validator directly.

Because no certificate declares where its revocation status lives, pyhanko-certvalidator's "soft-fail" and
"hard-fail" modes skip revocation checking altogether, and it ignores OCSP responses for a certificate without
an AIA OCSP URL. To have supplied CRLs checked, validate with `revocation_mode="require"` and supply the
issuing CA's CRL for the end entity and the root's CRL (`crl(issuer="root")`) for the issuing CA. To use
OCSP, build with `ocsp_url=` (e.g. a loopback responder): certificates then declare it.

Cost: one RSA-2048 key generation takes roughly 50-100 ms (about 55 ms on the 2-core dev machine), so the PKI
for 16 seals and 40 people (60 keys) takes about 3-4 s to build; `save`/`load` (under 0.1 s each) keep it on disk
so it is built once. New demo users are added with `add_person`/`add_seal` without rebuilding.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CertificateKind = Literal["person", "seal", "tsa", "ocsp"]

ROOT_LIFETIME = dt.timedelta(days=3650)
ISSUING_CA_LIFETIME = dt.timedelta(days=3650 - 1)
"""A day shorter than the root's, so the issuing CA never outlives it."""
END_ENTITY_LIFETIME = dt.timedelta(days=3 * 365)
BACKDATE = dt.timedelta(hours=1)
"""Certificates start an hour before `now` so that a clock slightly behind does not see them as not yet valid."""
REVOCATION_DATA_LIFETIME = dt.timedelta(days=7)

ROOT_NAME = "CA gốc thử nghiệm Hệ thống quản lý văn bản"
ISSUING_CA_NAME = "CA cấp thử nghiệm Hệ thống quản lý văn bản"
TSA_NAME = "Dịch vụ cấp dấu thời gian thử nghiệm"
OCSP_NAME = "Dịch vụ OCSP thử nghiệm"
PKI_ORGANIZATION = "Hệ thống quản lý văn bản (thử nghiệm)"

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336)."""

SIGNING_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,  # nonRepudiation
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
SERVICE_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Identity:
    """A certificate with its private key and the CA certificates above it."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...] = ()
    """Issuing CA first, then the root; empty for the root itself."""

    @property
    def common_name(self) -> str:
        return _common_name(self.certificate)

    def to_pkcs12(self, password: bytes, friendly_name: bytes | None = None) -> bytes:
        """A .p12 file as a user would receive it from a CA (key, certificate and chain)."""
        encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        return pkcs12.serialize_key_and_certificates(
            friendly_name if friendly_name is not None else self.common_name.encode(),
            self.private_key,
            self.certificate,
            list(self.chain) or None,
            encryption,
        )

    def __repr__(self) -> str:  # never show the private key
        return f"Identity({self.common_name!r}, serial={self.certificate.serial_number:X})"


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def _name(common_name: str, *, organization: str | None = None, user_id: str | None = None) -> x509.Name:
    # cryptography encodes every attribute except countryName as UTF8String, which Vietnamese names need.
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if user_id:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, user_id))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _new_key(key_size: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("PKI times must be timezone-aware")
    return moment


def _extended_key_usage(kind: CertificateKind) -> tuple[x509.ExtendedKeyUsage, bool]:
    """EKU and whether it is critical: RFC 3161 wants timeStamping alone and critical for a TSA."""
    if kind == "tsa":
        return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True
    if kind == "ocsp":
        return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), False
    # emailProtection: NSS (poppler's pdfsig) requires it for a signer when an EKU is present.
    return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]), False


def _sign_certificate(
    *,
    subject: x509.Name,
    public_key: PublicKey,
    issuer: Identity | None,
    issuer_key: rsa.RSAPrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca_path_length: int | None | Literal[False],
    key_usage: x509.KeyUsage,
    extended_key_usage: tuple[x509.ExtendedKeyUsage, bool] | None = None,
    ocsp_no_check: bool = False,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
) -> x509.Certificate:
    """`ca_path_length=False` makes an end-entity certificate; None a CA without a length limit."""
    if ca_path_length is False:
        basic_constraints = x509.BasicConstraints(ca=False, path_length=None)
    else:
        basic_constraints = x509.BasicConstraints(ca=True, path_length=ca_path_length)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(basic_constraints, critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    authority_key = issuer.private_key.public_key() if issuer else public_key
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key), critical=False)
    if extended_key_usage is not None:
        builder = builder.add_extension(extended_key_usage[0], critical=extended_key_usage[1])
    if ocsp_no_check:
        builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    if ocsp_url:
        access = x509.AccessDescription(
            x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(eq=False)
class DemoPki:
    """The demo PKI; build it with `build_demo_pki`, persist it with `save`/`load`."""

    root: Identity
    issuing_ca: Identity
    tsa: Identity
    ocsp_responder: Identity
    seals: dict[str, Identity] = field(default_factory=dict)
    """Agency code -> seal identity (CN and O = agency name)."""
    people: dict[str, Identity] = field(default_factory=dict)
    """Username -> personal identity (CN = full name, UID = username)."""
    key_size: int = 2048
    ocsp_url: str | None = None
    """Declared (AIA) in certificates issued from now on; None by default, see the module docstring."""
    crl_url: str | None = None
    """Declared (CRL distribution point) in certificates issued from now on; None by default."""

    @property
    def trust_roots(self) -> list[x509.Certificate]:
        return [self.root.certificate]

    @property
    def ca_certificates(self) -> list[x509.Certificate]:
        """Root and issuing CA: what an administrator loads into the trust store."""
        return [self.root.certificate, self.issuing_ca.certificate]

    def identities(self) -> Iterator[Identity]:
        yield from (self.root, self.issuing_ca, self.tsa, self.ocsp_responder)
        yield from self.seals.values()
        yield from self.people.values()

    def issue(
        self,
        common_name: str,
        *,
        kind: CertificateKind = "person",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        key_usage: x509.KeyUsage | None = None,
        organization: str | None = None,
        user_id: str | None = None,
    ) -> Identity:
        """A new key and certificate from the issuing CA; the keyword arguments make broken ones for tests."""
        private_key = _new_key(self.key_size)
        certificate = self.issue_for_public_key(
            common_name,
            private_key.public_key(),
            kind=kind,
            not_before=not_before,
            not_after=not_after,
            key_usage=key_usage,
            organization=organization,
            user_id=user_id,
        )
        return Identity(certificate, private_key, self._chain_below_issuing_ca)

    def issue_for_public_key(
        self,
        common_name: str,
        public_key: PublicKey,
        *,
        kind: CertificateKind = "person",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        key_usage: x509.KeyUsage | None = None,
        organization: str | None = None,
        user_id: str | None = None,
    ) -> x509.Certificate:
        """A certificate for a key kept elsewhere (a PKCS#11 token), issued by the issuing CA."""
        start = _aware(not_before) if not_before else _now() - BACKDATE
        end = _aware(not_after) if not_after else start + END_ENTITY_LIFETIME
        if kind == "seal" and organization is None:
            organization = common_name
        default_usage = SIGNING_KEY_USAGE if kind in ("person", "seal") else SERVICE_KEY_USAGE
        return _sign_certificate(
            subject=_name(common_name, organization=organization, user_id=user_id),
            public_key=public_key,
            issuer=self.issuing_ca,
            issuer_key=self.issuing_ca.private_key,
            not_before=start,
            not_after=end,
            ca_path_length=False,
            key_usage=key_usage or default_usage,
            extended_key_usage=_extended_key_usage(kind),
            ocsp_no_check=kind == "ocsp",
            ocsp_url=None if kind == "ocsp" else self.ocsp_url,
            crl_url=None if kind == "ocsp" else self.crl_url,
        )

    def add_person(self, username: str, full_name: str, **options) -> Identity:
        """Issue and register a personal certificate (CN = full name, UID = username)."""
        self.people[username] = self.issue(full_name, kind="person", user_id=username, **options)
        return self.people[username]

    def add_seal(self, agency_code: str, agency_name: str, **options) -> Identity:
        """Issue and register an agency seal certificate (CN = O = agency name)."""
        self.seals[agency_code] = self.issue(agency_name, kind="seal", organization=agency_name, **options)
        return self.seals[agency_code]

    @property
    def _chain_below_issuing_ca(self) -> tuple[x509.Certificate, ...]:
        return (self.issuing_ca.certificate, self.root.certificate)

    def crl(
        self,
        revoked: Iterable[x509.Certificate] = (),
        *,
        at: dt.datetime | None = None,
        issuer: Literal["issuing_ca", "root"] = "issuing_ca",
    ) -> x509.CertificateRevocationList:
        """A CRL listing `revoked` as revoked at `at` (default now), valid for 7 days.

        Signed by the issuing CA by default; `issuer="root"` gives the root's CRL, which covers the issuing CA
        certificate (a validator that requires revocation data for the whole path needs both).
        """
        moment = _aware(at) if at else _now()
        signer = self.root if issuer == "root" else self.issuing_ca
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(signer.certificate.subject)
            .last_update(moment)
            .next_update(moment + REVOCATION_DATA_LIFETIME)
            .add_extension(x509.CRLNumber(int(moment.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.private_key.public_key()),
                critical=False,
            )
        )
        for certificate in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(certificate.serial_number)
                .revocation_date(moment)
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(signer.private_key, hashes.SHA256())

    def ocsp_response(
        self, certificate: x509.Certificate, *, revoked: bool = False, at: dt.datetime | None = None
    ) -> bytes:
        """A DER OCSPResponse about a certificate of the issuing CA, signed by the delegated responder."""
        if certificate.issuer != self.issuing_ca.certificate.subject:
            raise ValueError("the demo OCSP responder only answers for certificates of the issuing CA")
        moment = _aware(at) if at else _now()
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=certificate,
                issuer=self.issuing_ca.certificate,
                algorithm=hashes.SHA1(),  # the CertID hash every client understands (not a signature)
                cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
                this_update=moment,
                next_update=moment + REVOCATION_DATA_LIFETIME,
                revocation_time=moment if revoked else None,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ocsp_responder.certificate)
            .certificates([self.ocsp_responder.certificate])
        )
        response = builder.sign(self.ocsp_responder.private_key, hashes.SHA256())
        return response.public_bytes(serialization.Encoding.DER)

    def save(self, directory: Path, *, password: bytes) -> None:
        """PEM certificates and password-encrypted PEM (PKCS#8) keys, plus `pki.json` naming them.

        The manifest is written last, so a half-written directory is not mistaken for a PKI.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        encryption = serialization.BestAvailableEncryption(password)
        manifest: dict[str, object] = {
            "version": 1,
            "key_size": self.key_size,
            "ocsp_url": self.ocsp_url,
            "crl_url": self.crl_url,
            "seals": {},
            "people": {},
        }

        def write(stem: str, identity: Identity) -> str:
            (directory / f"{stem}.crt.pem").write_bytes(identity.certificate.public_bytes(serialization.Encoding.PEM))
            key_path = directory / f"{stem}.key.pem"
            key_path.touch(mode=0o600, exist_ok=True)
            key_path.write_bytes(
                identity.private_key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
                )
            )
            return stem

        for role in ("root", "issuing_ca", "tsa", "ocsp_responder"):
            manifest[role] = write(role.replace("_", "-"), getattr(self, role))
        for group in ("seals", "people"):
            members: dict[str, str] = manifest[group]  # type: ignore[assignment]
            for index, (code, identity) in enumerate(getattr(self, group).items()):
                members[code] = write(f"{group[:-1] if group == 'seals' else 'person'}-{index:04d}", identity)
        (directory / "pki.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, *, password: bytes) -> DemoPki:
        """Read what `save` wrote. Raises FileNotFoundError when there is no saved PKI."""
        directory = Path(directory)
        manifest = json.loads((directory / "pki.json").read_text(encoding="utf-8"))

        def read(stem: str, chain: tuple[x509.Certificate, ...]) -> Identity:
            certificate = x509.load_pem_x509_certificate((directory / f"{stem}.crt.pem").read_bytes())
            # Skipping RSA validation saves ~55 ms per key: these keys were generated by us, validated when
            # created and are read back from our own password-protected files; the public half is compared
            # with the certificate below, which catches a key file swapped for another.
            private_key = serialization.load_pem_private_key(
                (directory / f"{stem}.key.pem").read_bytes(), password, unsafe_skip_rsa_key_validation=True
            )
            if not isinstance(private_key, rsa.RSAPrivateKey) or private_key.public_key() != certificate.public_key():
                raise ValueError(f"{stem}.key.pem does not belong to {stem}.crt.pem")
            return Identity(certificate, private_key, chain)

        root = read(manifest["root"], ())
        issuing_ca = read(manifest["issuing_ca"], (root.certificate,))
        below = (issuing_ca.certificate, root.certificate)
        return cls(
            root=root,
            issuing_ca=issuing_ca,
            tsa=read(manifest["tsa"], below),
            ocsp_responder=read(manifest["ocsp_responder"], below),
            seals={code: read(stem, below) for code, stem in manifest["seals"].items()},
            people={username: read(stem, below) for username, stem in manifest["people"].items()},
            key_size=manifest.get("key_size", 2048),
            ocsp_url=manifest.get("ocsp_url"),
            crl_url=manifest.get("crl_url"),
        )


def build_demo_pki(
    *,
    seals: Mapping[str, str] = {},  # noqa: B006 - read only
    people: Mapping[str, str] = {},  # noqa: B006 - read only
    now: dt.datetime | None = None,
    key_size: int = 2048,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
) -> DemoPki:
    """Root CA (10 years), issuing CA (pathlen 0), TSA, OCSP responder, one seal per agency, one per person.

    `seals` maps agency code -> agency name, `people` username -> full name. Every certificate starts an
    hour before `now`; pass `now` to pin validity in tests. Costs one RSA key generation per identity.
    `ocsp_url`/`crl_url` declare where revocation data lives (only for a loopback responder: a validator
    with fetching enabled, or poppler's pdfsig, would try to reach them).
    """
    start = (_aware(now) if now else _now()) - BACKDATE
    root_key = _new_key(key_size)
    root_name = _name(ROOT_NAME, organization=PKI_ORGANIZATION)
    root_certificate = _sign_certificate(
        subject=root_name,
        public_key=root_key.public_key(),
        issuer=None,
        issuer_key=root_key,
        not_before=start,
        not_after=start + ROOT_LIFETIME,
        ca_path_length=None,
        key_usage=CA_KEY_USAGE,
    )
    root = Identity(root_certificate, root_key, ())
    issuing_key = _new_key(key_size)
    issuing_certificate = _sign_certificate(
        subject=_name(ISSUING_CA_NAME, organization=PKI_ORGANIZATION),
        public_key=issuing_key.public_key(),
        issuer=root,
        issuer_key=root_key,
        not_before=start,
        not_after=start + ISSUING_CA_LIFETIME,
        ca_path_length=0,
        key_usage=CA_KEY_USAGE,
    )
    issuing_ca = Identity(issuing_certificate, issuing_key, (root_certificate,))
    # The services are issued before the DemoPki exists, through a provisional one without them.
    urls = {"ocsp_url": ocsp_url, "crl_url": crl_url}
    provisional = DemoPki(root=root, issuing_ca=issuing_ca, tsa=root, ocsp_responder=root, key_size=key_size, **urls)
    window = {"not_before": start, "not_after": start + END_ENTITY_LIFETIME}
    tsa = provisional.issue(TSA_NAME, kind="tsa", organization=PKI_ORGANIZATION, **window)
    ocsp_responder = provisional.issue(OCSP_NAME, kind="ocsp", organization=PKI_ORGANIZATION, **window)
    pki = DemoPki(root=root, issuing_ca=issuing_ca, tsa=tsa, ocsp_responder=ocsp_responder, key_size=key_size, **urls)
    for code, agency_name in seals.items():
        pki.add_seal(code, agency_name, **window)
    for username, full_name in people.items():
        pki.add_person(username, full_name, **window)
    return pki
