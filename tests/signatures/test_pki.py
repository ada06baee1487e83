"""The demo PKI issues certificates like a Vietnamese CA would, and its revocation data parses and validates."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import RevokedError

from signatures.pki import DOCUMENT_SIGNING, DemoPki, build_demo_pki

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
PROVINCE = "Ủy ban nhân dân tỉnh Hòa Bình"
LEADER = "Nguyễn Thị Ngọc Ánh"
UTF8_STRING = 12  # ASN.1 universal tag number
PRINTABLE_STRING = 19


@pytest.fixture(scope="module")
def pki() -> DemoPki:
    return build_demo_pki(seals={"HB": PROVINCE}, people={"anh.nguyen": LEADER}, now=NOW)


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _validate(pki: DemoPki, certificate: x509.Certificate, *, at: dt.datetime, **context) -> None:
    context.setdefault("revocation_mode", "soft-fail")
    if context["revocation_mode"] == "require":  # the issuing CA needs revocation data as well
        root_crl = pki.crl(at=NOW, issuer="root").public_bytes(serialization.Encoding.DER)
        context["crls"] = [*context.get("crls", ()), root_crl]
    validation_context = ValidationContext(
        trust_roots=[_asn1(pki.root.certificate)], moment=at, allow_fetching=False, **context
    )
    validator = CertificateValidator(
        _asn1(certificate),
        intermediate_certs=[_asn1(pki.issuing_ca.certificate)],
        validation_context=validation_context,
    )
    asyncio.run(validator.async_validate_path())


def _extension(certificate: x509.Certificate, kind: type) -> x509.Extension:
    return certificate.extensions.get_extension_for_class(kind)


def _name_tags(certificate: x509.Certificate) -> dict[str, int]:
    """ASN.1 string tag of each subject attribute, read from the DER (cryptography hides it)."""
    subject = _asn1(certificate).subject
    return {attribute["type"].native: attribute["value"].chosen.tag for rdn in subject.chosen for attribute in rdn}


def test_root_and_issuing_ca_form_a_two_level_hierarchy(pki):
    root, issuing = pki.root.certificate, pki.issuing_ca.certificate
    assert root.issuer == root.subject and issuing.issuer == root.subject
    assert _extension(root, x509.BasicConstraints).value == x509.BasicConstraints(ca=True, path_length=None)
    assert _extension(issuing, x509.BasicConstraints).value == x509.BasicConstraints(ca=True, path_length=0)
    for certificate in (root, issuing):
        usage = _extension(certificate, x509.KeyUsage).value
        assert usage.key_cert_sign and usage.crl_sign
    assert root.not_valid_after_utc - root.not_valid_before_utc == dt.timedelta(days=3650)
    assert pki.root.chain == () and pki.issuing_ca.chain == (root,)
    assert pki.seals["HB"].chain == (issuing, root)


def test_signing_certificates_allow_digital_signature_and_non_repudiation(pki):
    for identity in (pki.seals["HB"], pki.people["anh.nguyen"]):
        certificate = identity.certificate
        usage = _extension(certificate, x509.KeyUsage)
        assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
        assert not usage.value.key_cert_sign
        assert _extension(certificate, x509.BasicConstraints).value.ca is False
        assert set(_extension(certificate, x509.ExtendedKeyUsage).value) == {
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            DOCUMENT_SIGNING,
        }
        assert certificate.not_valid_before_utc <= NOW < certificate.not_valid_after_utc
        assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
        assert identity.private_key.key_size == 2048


def test_no_certificate_points_to_the_network(pki):
    for identity in pki.identities():
        oids = {extension.oid for extension in identity.certificate.extensions}
        assert x509.AuthorityInformationAccess.oid not in oids
        assert x509.CRLDistributionPoints.oid not in oids


def test_vietnamese_names_are_utf8_strings_and_round_trip(pki):
    seal = pki.seals["HB"].certificate
    assert seal.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == PROVINCE
    assert seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == PROVINCE
    assert _name_tags(seal) == {
        "country_name": PRINTABLE_STRING,
        "organization_name": UTF8_STRING,
        "common_name": UTF8_STRING,
    }
    person = pki.people["anh.nguyen"].certificate
    assert _asn1(person).subject.native["common_name"] == LEADER
    assert person.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == "anh.nguyen"
    assert person.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"


def test_tsa_and_ocsp_responder_have_their_dedicated_purposes(pki):
    tsa_usage = _extension(pki.tsa.certificate, x509.ExtendedKeyUsage)
    assert tsa_usage.critical and list(tsa_usage.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ocsp_usage = _extension(pki.ocsp_responder.certificate, x509.ExtendedKeyUsage)
    assert list(ocsp_usage.value) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    assert _extension(pki.ocsp_responder.certificate, x509.OCSPNoCheck)


def test_every_certificate_chains_to_the_root_at_the_pinned_time(pki):
    for identity in (pki.tsa, pki.ocsp_responder, pki.seals["HB"], pki.people["anh.nguyen"]):
        _validate(pki, identity.certificate, at=NOW)


def test_issue_makes_the_broken_certificates_tests_need(pki):
    expired = pki.issue(
        "Trần Văn Hết Hạn", not_before=NOW - dt.timedelta(days=400), not_after=NOW - dt.timedelta(days=1)
    )
    assert expired.certificate.not_valid_after_utc < NOW
    encipher_only = x509.KeyUsage(False, False, True, False, False, False, False, False, False)
    wrong_usage = pki.issue("Lê Văn Sai", key_usage=encipher_only)
    usage = _extension(wrong_usage.certificate, x509.KeyUsage).value
    assert usage.key_encipherment and not usage.digital_signature and not usage.content_commitment
    seal = pki.issue("Sở Tư pháp", kind="seal")
    assert seal.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Sở Tư pháp"


def test_demo_users_can_be_added_later(pki):
    grown = dataclasses.replace(pki, seals=dict(pki.seals), people=dict(pki.people))
    person = grown.add_person("moi", "Lý Thị Mới", not_before=NOW)
    seal = grown.add_seal("TP", "Sở Tư pháp tỉnh Hòa Bình", not_before=NOW)
    assert grown.people["moi"] is person and grown.seals["TP"] is seal and "moi" not in pki.people
    assert person.certificate.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == "moi"
    _validate(pki, seal.certificate, at=NOW)


def test_a_certificate_can_be_issued_for_a_key_held_elsewhere(pki):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = pki.issue_for_public_key("Phạm Minh Token", key.public_key(), kind="person")
    assert certificate.public_key() == key.public_key()
    assert certificate.issuer == pki.issuing_ca.certificate.subject
    pki.issuing_ca.private_key.public_key().verify(
        certificate.signature,
        certificate.tbs_certificate_bytes,
        padding.PKCS1v15(),
        certificate.signature_hash_algorithm,
    )


def test_pkcs12_round_trip_keeps_key_certificate_chain_and_name(pki):
    identity = pki.people["anh.nguyen"]
    loaded = pkcs12.load_pkcs12(identity.to_pkcs12(b"mat-khau"), b"mat-khau")
    assert loaded.cert.certificate == identity.certificate
    assert loaded.cert.friendly_name == LEADER.encode()
    assert loaded.key.private_numbers() == identity.private_key.private_numbers()
    assert [extra.certificate for extra in loaded.additional_certs] == list(identity.chain)
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(identity.to_pkcs12(b"mat-khau"), b"sai")


def test_save_and_load_give_back_the_same_pki(pki, tmp_path):
    pki.save(tmp_path / "pki", password=b"demo")
    key_file = (tmp_path / "pki" / "root.key.pem").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in key_file
    assert (tmp_path / "pki" / "root.key.pem").stat().st_mode & 0o077 == 0
    loaded = DemoPki.load(tmp_path / "pki", password=b"demo")
    assert [identity.certificate for identity in loaded.identities()] == [
        identity.certificate for identity in pki.identities()
    ]
    assert loaded.seals.keys() == pki.seals.keys() and loaded.people.keys() == pki.people.keys()
    assert (
        loaded.people["anh.nguyen"].private_key.private_numbers()
        == pki.people["anh.nguyen"].private_key.private_numbers()
    )
    assert loaded.people["anh.nguyen"].chain == pki.people["anh.nguyen"].chain
    with pytest.raises((ValueError, TypeError)):
        DemoPki.load(tmp_path / "pki", password=b"wrong")
    with pytest.raises(FileNotFoundError):
        DemoPki.load(tmp_path / "nothing-here", password=b"demo")


def test_crl_lists_revoked_certificates_and_is_signed_by_the_issuing_ca(pki):
    revoked = pki.people["anh.nguyen"].certificate
    crl = x509.load_der_x509_crl(pki.crl([revoked], at=NOW).public_bytes(serialization.Encoding.DER))
    assert crl.issuer == pki.issuing_ca.certificate.subject
    assert crl.is_signature_valid(pki.issuing_ca.private_key.public_key())
    assert crl.last_update_utc == NOW and crl.next_update_utc > NOW
    entry = crl.get_revoked_certificate_by_serial_number(revoked.serial_number)
    assert entry is not None and entry.revocation_date_utc == NOW
    assert crl.get_revoked_certificate_by_serial_number(pki.seals["HB"].certificate.serial_number) is None
    root_crl = pki.crl(at=NOW, issuer="root")
    assert root_crl.issuer == pki.root.certificate.subject and len(root_crl) == 0
    assert root_crl.is_signature_valid(pki.root.private_key.public_key())


def test_without_revocation_data_the_certificates_fail_a_validator_that_requires_it(pki):
    from pyhanko_certvalidator.errors import InsufficientRevinfoError

    with pytest.raises(InsufficientRevinfoError):
        _validate(pki, pki.seals["HB"].certificate, at=NOW, revocation_mode="require")


def test_the_validator_accepts_the_crl_as_revocation_data(pki):
    revoked, good = pki.people["anh.nguyen"].certificate, pki.seals["HB"].certificate
    crl = pki.crl([revoked], at=NOW).public_bytes(serialization.Encoding.DER)
    later = NOW + dt.timedelta(hours=1)
    _validate(pki, good, at=later, crls=[crl], revocation_mode="require")
    with pytest.raises(RevokedError):
        _validate(pki, revoked, at=later, crls=[crl], revocation_mode="require")


@pytest.mark.parametrize("revoked", [False, True])
def test_ocsp_response_parses_and_is_signed_by_the_responder(pki, revoked):
    certificate = pki.seals["HB"].certificate
    response = ocsp.load_der_ocsp_response(pki.ocsp_response(certificate, revoked=revoked, at=NOW))
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.serial_number == certificate.serial_number
    assert response.certificate_status == (ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD)
    assert response.this_update_utc == NOW
    assert response.certificates == [pki.ocsp_responder.certificate]
    pki.ocsp_responder.private_key.public_key().verify(
        response.signature, response.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256()
    )


def test_the_validator_uses_ocsp_responses_for_certificates_that_declare_a_responder(pki):
    declaring = dataclasses.replace(pki, ocsp_url="http://127.0.0.1:9/ocsp")
    certificate = declaring.issue("Hoàng Văn OCSP", not_before=NOW).certificate
    access = _extension(certificate, x509.AuthorityInformationAccess).value
    assert [d.access_location.value for d in access] == ["http://127.0.0.1:9/ocsp"]
    later = NOW + dt.timedelta(hours=1)
    good = pki.ocsp_response(certificate, at=NOW)
    _validate(pki, certificate, at=later, ocsps=[good], revocation_mode="require")
    revoked = pki.ocsp_response(certificate, revoked=True, at=NOW)
    with pytest.raises(RevokedError):
        _validate(pki, certificate, at=later, ocsps=[revoked], revocation_mode="require")


def test_ocsp_responder_answers_only_for_the_issuing_ca(pki):
    with pytest.raises(ValueError):
        pki.ocsp_response(pki.issuing_ca.certificate)


def test_repr_never_shows_key_material(pki):
    identity = pki.people["anh.nguyen"]
    text = repr(identity) + repr(pki)
    assert LEADER in repr(identity)
    assert str(identity.private_key.private_numbers().d) not in text
    assert "PRIVATE KEY" not in text


def test_times_must_be_timezone_aware():
    with pytest.raises(ValueError):
        build_demo_pki(now=dt.datetime(2026, 1, 1))
