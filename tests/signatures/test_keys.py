"""Key import, certificate refusals, encryption at rest and the stored-key signer."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import pickle

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from django.utils import translation

from signatures import keys
from signatures.keys import (
    CertificateRefused,
    InvalidKek,
    KeyDecryptionError,
    StoredKeyHolder,
    associated_data_for,
    check_certificate,
    check_chain,
    decrypt_private_key,
    encrypt_key_for,
    encrypt_private_key,
    fingerprint,
    generate_kek,
    load_certificate,
    load_certificates,
    load_pkcs12,
    parse_kek,
)
from signatures.pki import DemoPki, build_demo_pki
from signatures.signers import KeyHolder, SigningUnavailable

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=30)
KEK = bytes(range(32))
OTHER_KEK = bytes(range(1, 33))
ENCIPHER_ONLY_USAGE = x509.KeyUsage(False, False, True, False, False, False, False, False, False)


@pytest.fixture(scope="module")
def pki() -> DemoPki:
    return build_demo_pki(
        seals={"HB": "Ủy ban nhân dân tỉnh Hòa Bình"},
        people={"lan": "Trần Thị Lan", "minh": "Đỗ Văn Minh"},
        now=NOW,
    )


@pytest.fixture(scope="module")
def other_pki() -> DemoPki:
    return build_demo_pki(now=NOW)


@pytest.fixture(scope="module")
def ec_identity(pki):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = pki.issue_for_public_key("Vũ Thị EC", key.public_key(), not_before=NOW)
    return certificate, key


def _refusal(callable_, *args, **kwargs) -> CertificateRefused:
    with pytest.raises(CertificateRefused) as caught:
        callable_(*args, **kwargs)
    return caught.value


def _english(error: CertificateRefused) -> str:
    with translation.override("en"):
        return str(error)


# --- PKCS#12 ----------------------------------------------------------------------------------------------


def test_pkcs12_import_gives_certificate_key_and_ordered_chain(pki):
    person = pki.people["lan"]
    imported = load_pkcs12(person.to_pkcs12(b"mat khau 123"), "mat khau 123")
    assert imported.certificate == person.certificate
    assert imported.private_key.private_numbers() == person.private_key.private_numbers()
    assert imported.chain == (pki.issuing_ca.certificate, pki.root.certificate)
    assert "PRIVATE" not in repr(imported) and str(person.private_key.private_numbers().d) not in repr(imported)


def test_pkcs12_chain_is_reordered_nearest_first_and_unrelated_certificates_dropped(pki):
    person = pki.people["lan"]
    data = pkcs12.serialize_key_and_certificates(
        b"lan",
        person.private_key,
        person.certificate,
        [pki.root.certificate, pki.seals["HB"].certificate, pki.issuing_ca.certificate],
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert load_pkcs12(data, "pw").chain == (pki.issuing_ca.certificate, pki.root.certificate)


def test_pkcs12_without_a_password_opens_with_an_empty_one(pki):
    imported = load_pkcs12(pki.people["lan"].to_pkcs12(b""), "")
    assert imported.certificate == pki.people["lan"].certificate


def test_vietnamese_password_works(pki):
    data = pki.people["lan"].to_pkcs12("mật khẩu".encode())
    assert load_pkcs12(data, "mật khẩu").certificate == pki.people["lan"].certificate


def test_wrong_password_is_told_apart_from_a_wrong_file(pki):
    data = pki.people["lan"].to_pkcs12(b"right")
    wrong_password = _refusal(load_pkcs12, data, "wrong")
    assert wrong_password.code == "wrong_password" and "password is wrong" in _english(wrong_password)
    certificate_pem = pki.people["lan"].certificate.public_bytes(serialization.Encoding.PEM)
    for not_a_pfx in (certificate_pem, b"", b"\x30\x03\x02\x01\x03", b"PK\x03\x04 a zip file", data + b"trailing"):
        refusal = _refusal(load_pkcs12, not_a_pfx, "right")
        assert refusal.code == "not_pkcs12" and "not a PKCS#12" in _english(refusal)


def test_pkcs12_without_a_private_key_is_refused(pki):
    person = pki.people["lan"]
    data = pkcs12.serialize_key_and_certificates(
        b"lan", None, person.certificate, None, serialization.BestAvailableEncryption(b"pw")
    )
    assert _refusal(load_pkcs12, data, "pw").code == "no_private_key"


def test_pkcs12_without_a_certificate_is_refused(pki):
    data = pkcs12.serialize_key_and_certificates(
        b"lan", pki.people["lan"].private_key, None, None, serialization.BestAvailableEncryption(b"pw")
    )
    assert _refusal(load_pkcs12, data, "pw").code == "no_certificate"


def test_pkcs12_whose_key_matches_no_certificate_is_refused(pki):
    data = pkcs12.serialize_key_and_certificates(
        b"lan",
        pki.people["lan"].private_key,
        None,
        [pki.people["minh"].certificate],
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert _refusal(load_pkcs12, data, "pw").code == "key_mismatch"


def test_pkcs12_with_a_key_that_cannot_sign_pdfs_is_refused(pki):
    key = ed25519.Ed25519PrivateKey.generate()
    certificate = pki.issue_for_public_key("Ed25519", key.public_key())
    data = pkcs12.serialize_key_and_certificates(
        b"ed", key, certificate, None, serialization.BestAvailableEncryption(b"pw")
    )
    assert _refusal(load_pkcs12, data, "pw").code == "unsupported_key"


def test_ecdsa_pkcs12_is_accepted(ec_identity):
    certificate, key = ec_identity
    data = pkcs12.serialize_key_and_certificates(
        b"ec", key, certificate, None, serialization.BestAvailableEncryption(b"pw")
    )
    assert load_pkcs12(data, "pw").private_key.private_numbers() == key.private_numbers()


# --- certificates alone -----------------------------------------------------------------------------------


def test_certificate_loads_from_pem_and_der(pki):
    certificate = pki.seals["HB"].certificate
    assert load_certificate(certificate.public_bytes(serialization.Encoding.PEM)) == certificate
    assert load_certificate(b"\r\n" + certificate.public_bytes(serialization.Encoding.PEM) + b"\n\n") == certificate
    assert load_certificate(certificate.public_bytes(serialization.Encoding.DER)) == certificate


def test_not_a_certificate_is_refused_clearly(pki):
    for garbage in (b"", b"hello", b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", b"\x30\x00"):
        refusal = _refusal(load_certificate, garbage)
        assert refusal.code == "not_certificate" and "not a certificate" in _english(refusal)
    private_pem = pki.people["lan"].private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert _refusal(load_certificate, private_pem).code == "not_certificate"


def test_bundles_load_for_the_trust_store_but_not_as_one_certificate(pki):
    cas = [pki.issuing_ca.certificate, pki.root.certificate]
    pem_bundle = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in cas)
    assert load_certificates(pem_bundle) == cas
    # PKCS#7 keeps certificates in a SET: order is not preserved
    assert sorted(
        load_certificates(pkcs7.serialize_certificates(cas, serialization.Encoding.DER)), key=fingerprint
    ) == sorted(cas, key=fingerprint)
    assert sorted(
        load_certificates(pkcs7.serialize_certificates(cas, serialization.Encoding.PEM)), key=fingerprint
    ) == sorted(cas, key=fingerprint)
    refusal = _refusal(load_certificate, pem_bundle)
    assert refusal.code == "not_certificate" and "2 certificates" in _english(refusal)


# --- refusals ---------------------------------------------------------------------------------------------


def test_valid_personal_and_seal_certificates_pass(pki):
    check_certificate(pki.people["lan"].certificate, purpose="personal", at=LATER)
    check_certificate(pki.seals["HB"].certificate, purpose="seal", at=LATER, crls=[pki.crl(at=LATER)])


def test_expired_certificate_is_refused_with_its_end_date(pki):
    expired = pki.issue(
        "Hết Hạn", not_before=NOW - dt.timedelta(days=365), not_after=dt.datetime(2026, 2, 27, 17, 30, tzinfo=dt.UTC)
    )
    refusal = _refusal(check_certificate, expired.certificate, purpose="personal", at=NOW)
    assert refusal.code == "expired"
    assert _english(refusal) == (
        f"The certificate (serial {expired.certificate.serial_number:X}) expired on 28/02/2026 00:30:00 +07:00."
    )


def test_not_yet_valid_certificate_is_refused_with_its_start_date(pki):
    future = pki.issue("Chưa Hiệu Lực", not_before=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    refusal = _refusal(check_certificate, future.certificate, purpose="personal", at=NOW)
    assert refusal.code == "not_yet_valid"
    assert "01/04/2026 07:00:00 +07:00" in _english(refusal) and f"{future.certificate.serial_number:X}" in str(refusal)


def test_certificate_without_signing_key_usage_is_refused(pki):
    wrong = pki.issue("Sai Mục Đích", not_before=NOW, key_usage=ENCIPHER_ONLY_USAGE)
    refusal = _refusal(check_certificate, wrong.certificate, purpose="personal", at=LATER)
    assert refusal.code == "wrong_usage"
    assert "digital signature or non-repudiation" in _english(refusal)


@pytest.mark.parametrize(("digital_signature", "non_repudiation"), [(True, False), (False, True)])
def test_either_signing_key_usage_suffices(pki, digital_signature, non_repudiation):
    usage = x509.KeyUsage(digital_signature, non_repudiation, False, False, False, False, False, False, False)
    check_certificate(
        pki.issue("Một Mục Đích", not_before=NOW, key_usage=usage).certificate, purpose="personal", at=LATER
    )


def test_ca_certificate_is_refused(pki):
    refusal = _refusal(check_certificate, pki.issuing_ca.certificate, purpose="seal", at=LATER)
    assert refusal.code == "ca_certificate" and "certification authority" in _english(refusal)


def test_certificate_restricted_to_time_stamping_is_refused(pki):
    refusal = _refusal(check_certificate, pki.tsa.certificate, purpose="personal", at=LATER)
    assert refusal.code == "wrong_extended_usage" and "1.3.6.1.5.5.7.3.8" in refusal.detail


def test_seal_certificate_must_name_the_organisation(pki):
    refusal = _refusal(check_certificate, pki.people["lan"].certificate, purpose="seal", at=LATER)
    assert refusal.code == "not_a_seal" and "organisation (O)" in _english(refusal)


def test_revoked_certificate_is_refused_with_serial_and_date(pki):
    revoked = pki.people["minh"].certificate
    crl = pki.crl([revoked], at=dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC))
    refusal = _refusal(
        check_certificate, revoked, purpose="personal", at=LATER, crls=[crl], issuer=pki.issuing_ca.certificate
    )
    assert refusal.code == "revoked"
    assert (
        _english(refusal)
        == f"The certificate (serial {revoked.serial_number:X}) was revoked on 10/03/2026 10:00:00 +07:00."
    )
    check_certificate(pki.people["lan"].certificate, purpose="personal", at=LATER, crls=[crl])


def test_revocation_after_the_checked_moment_does_not_count(pki):
    revoked = pki.people["minh"].certificate
    crl = pki.crl([revoked], at=LATER)
    check_certificate(revoked, purpose="personal", at=NOW + dt.timedelta(days=1), crls=[crl])


def test_crls_of_other_issuers_or_with_a_bad_signature_are_ignored(pki, other_pki):
    person = pki.people["minh"].certificate
    root_crl = pki.crl([person], at=NOW, issuer="root")  # another issuer listing the same serial
    check_certificate(person, purpose="personal", at=LATER, crls=[root_crl])
    forged_signer = dataclasses.replace(
        other_pki, issuing_ca=dataclasses.replace(other_pki.issuing_ca, certificate=pki.issuing_ca.certificate)
    )
    forged = forged_signer.crl([person], at=NOW)
    assert forged.issuer == person.issuer
    check_certificate(person, purpose="personal", at=LATER, crls=[forged], issuer=pki.issuing_ca.certificate)
    with pytest.raises(CertificateRefused):  # without the issuer the caller vouches for the CRLs
        check_certificate(person, purpose="personal", at=LATER, crls=[forged])


def test_messages_are_translatable_when_shown(pki):
    refusal = _refusal(check_certificate, pki.issuing_ca.certificate, purpose="seal", at=LATER)
    with translation.override("en"):
        assert str(refusal) == "This is a certification authority certificate; it cannot sign documents."
    assert all(ord(character) < 128 for character in _english(refusal))


def test_refusals_survive_pickling_with_their_code(pki):
    refusal = _refusal(check_certificate, pki.tsa.certificate, purpose="personal", at=LATER)
    copy = pickle.loads(pickle.dumps(refusal))
    assert (copy.code, copy.detail, _english(copy)) == (refusal.code, refusal.detail, _english(refusal))


def test_naive_times_are_a_programming_error(pki):
    with pytest.raises(ValueError):
        check_certificate(pki.people["lan"].certificate, purpose="personal", at=dt.datetime(2026, 3, 2))


# --- chain ------------------------------------------------------------------------------------------------


def test_certificate_chaining_to_a_trusted_root_passes(pki):
    person = pki.people["lan"]
    check_chain(person.certificate, person.chain, [pki.root.certificate], LATER)
    check_chain(person.certificate, [pki.issuing_ca.certificate], [pki.root.certificate], LATER)


def test_a_declared_crl_location_is_not_fetched(pki):
    declaring = dataclasses.replace(pki, crl_url="http://192.0.2.1/never.crl", ocsp_url="http://192.0.2.1/ocsp")
    identity = declaring.issue("Có CRL", not_before=NOW)
    check_chain(identity.certificate, identity.chain, [pki.root.certificate], LATER)


def test_certificate_from_another_root_is_untrusted(pki, other_pki):
    person = pki.people["lan"]
    refusal = _refusal(check_chain, person.certificate, person.chain, [other_pki.root.certificate], LATER)
    assert refusal.code == "untrusted" and "does not chain to a trusted root" in _english(refusal)
    assert "CA cấp thử nghiệm" in _english(refusal)


def test_missing_intermediate_is_untrusted(pki):
    refusal = _refusal(check_chain, pki.people["lan"].certificate, [], [pki.root.certificate], LATER)
    assert refusal.code == "untrusted"


def test_chain_invalid_at_the_moment_is_refused(pki):
    person = pki.people["lan"]
    after_expiry = person.certificate.not_valid_after_utc + dt.timedelta(days=1)
    refusal = _refusal(check_chain, person.certificate, person.chain, [pki.root.certificate], after_expiry)
    assert refusal.code == "invalid_chain" and refusal.detail


# --- encryption at rest -----------------------------------------------------------------------------------


def test_encryption_round_trip_for_rsa_and_ecdsa(pki, ec_identity):
    for key in (pki.people["lan"].private_key, ec_identity[1]):
        blob = encrypt_private_key(key, KEK, associated_data=b"binding")
        assert blob.startswith(b"EOK1")
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        assert der not in blob and der[-64:] not in blob
        assert decrypt_private_key(blob, KEK, associated_data=b"binding").private_numbers() == key.private_numbers()


def test_each_encryption_uses_a_fresh_nonce(pki):
    key = pki.people["lan"].private_key
    first, second = (encrypt_private_key(key, KEK, associated_data=b"x") for _ in range(2))
    assert first[4:16] != second[4:16] and first != second


def test_tampered_blob_does_not_decrypt(pki):
    blob = bytearray(encrypt_private_key(pki.people["lan"].private_key, KEK, associated_data=b"x"))
    for position in (5, 40, len(blob) - 1):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(KeyDecryptionError):
            decrypt_private_key(bytes(tampered), KEK, associated_data=b"x")
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(b"EOK2" + bytes(blob[4:]), KEK, associated_data=b"x")
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(bytes(blob[:20]), KEK, associated_data=b"x")


def test_wrong_kek_or_wrong_binding_does_not_decrypt(pki):
    lan, minh = pki.people["lan"], pki.people["minh"]
    blob = encrypt_key_for(lan.certificate, lan.private_key, KEK)
    assert decrypt_private_key(blob, KEK, associated_data=associated_data_for(lan.certificate))
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(blob, OTHER_KEK, associated_data=associated_data_for(lan.certificate))
    with pytest.raises(KeyDecryptionError):  # copied onto another credential
        decrypt_private_key(blob, KEK, associated_data=associated_data_for(minh.certificate))


def test_encrypting_for_a_certificate_checks_the_key_belongs_to_it(pki):
    with pytest.raises(ValueError):
        encrypt_key_for(pki.people["minh"].certificate, pki.people["lan"].private_key, KEK)


def test_kek_must_be_32_bytes(pki):
    with pytest.raises(InvalidKek):
        encrypt_private_key(pki.people["lan"].private_key, KEK[:16], associated_data=b"x")


def test_generated_kek_parses_back_to_32_bytes():
    first, second = generate_kek(), generate_kek()
    assert first != second and len(parse_kek(first)) == 32


def test_kek_accepts_standard_and_urlsafe_base64_with_or_without_padding():
    raw = bytes([0xFB, 0xFF] * 16)  # encodes with + and / (or - and _)
    for text in (
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        f"  {base64.b64encode(raw).decode()}\n",
    ):
        assert parse_kek(text) == raw


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not base64 at all!",
        base64.b64encode(b"x" * 16).decode(),
        base64.b64encode(b"x" * 33).decode(),
        "ŨŨŨ",
    ],
)
def test_bad_kek_is_refused_without_repeating_it(text):
    with pytest.raises(InvalidKek) as caught:
        parse_kek(text)
    message = str(caught.value)
    if text.strip():
        assert text not in message
    else:
        assert "empty" in message  # a blank key is named as such, not as bad base64


# --- stored key holder ------------------------------------------------------------------------------------


def test_stored_key_holder_signs_verifiable_rsa_signatures(pki):
    lan = pki.people["lan"]
    holder = StoredKeyHolder(encrypt_key_for(lan.certificate, lan.private_key, KEK), KEK, lan.certificate, lan.chain)
    assert isinstance(holder, KeyHolder)
    assert holder.key_algorithm == "rsa" and holder.chain == list(lan.chain)
    for name, algorithm in (("sha256", hashes.SHA256()), ("sha512", hashes.SHA512())):
        signature = holder.sign(b"signed attributes", name)
        lan.certificate.public_key().verify(signature, b"signed attributes", padding.PKCS1v15(), algorithm)
    with pytest.raises(InvalidSignature):
        lan.certificate.public_key().verify(signature, b"other data", padding.PKCS1v15(), hashes.SHA512())


def test_stored_key_holder_signs_der_ecdsa(ec_identity):
    certificate, key = ec_identity
    holder = StoredKeyHolder(encrypt_key_for(certificate, key, KEK), KEK, certificate)
    assert holder.key_algorithm == "ecdsa"
    signature = holder.sign(b"data", "sha256")
    assert signature[0] == 0x30  # DER SEQUENCE of r, s
    certificate.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))


def test_stored_key_is_decrypted_once(pki, monkeypatch):
    lan = pki.people["lan"]
    calls = []
    real = keys.decrypt_private_key
    monkeypatch.setattr(keys, "decrypt_private_key", lambda *a, **k: calls.append(1) or real(*a, **k))
    holder = StoredKeyHolder(encrypt_key_for(lan.certificate, lan.private_key, KEK), KEK, lan.certificate)
    assert calls == []  # lazy
    for _ in range(3):
        holder.sign(b"x", "sha256")
    assert calls == [1]


def test_stored_key_holder_with_the_wrong_kek_or_certificate_is_unavailable(pki):
    lan, minh = pki.people["lan"], pki.people["minh"]
    blob = encrypt_key_for(lan.certificate, lan.private_key, KEK)
    with pytest.raises(SigningUnavailable) as caught:
        StoredKeyHolder(blob, OTHER_KEK, lan.certificate).sign(b"x", "sha256")
    with translation.override("en"):
        assert "cannot be decrypted" in str(caught.value)
    with pytest.raises(SigningUnavailable):
        StoredKeyHolder(blob, KEK, minh.certificate).sign(b"x", "sha256")
    # a blob whose binding was forged to another certificate decrypts, but the key does not match it
    forged = encrypt_private_key(lan.private_key, KEK, associated_data=associated_data_for(minh.certificate))
    with pytest.raises(SigningUnavailable):
        StoredKeyHolder(forged, KEK, minh.certificate).sign(b"x", "sha256")


def test_stored_key_holder_never_shows_key_material(pki):
    lan = pki.people["lan"]
    blob = encrypt_key_for(lan.certificate, lan.private_key, KEK)
    holder = StoredKeyHolder(blob, KEK, lan.certificate)
    holder.sign(b"x", "sha256")
    text = repr(holder) + str(holder)
    assert "Trần Thị Lan" in text
    numbers = lan.private_key.private_numbers()
    for secret in (str(numbers.d), f"{numbers.d:x}", blob.hex(), KEK.hex(), repr(KEK), repr(blob[:20])):
        assert secret not in text
    with pytest.raises(TypeError):
        pickle.dumps(holder)


def test_unknown_hash_is_a_programming_error(pki):
    lan = pki.people["lan"]
    holder = StoredKeyHolder(encrypt_key_for(lan.certificate, lan.private_key, KEK), KEK, lan.certificate)
    with pytest.raises(ValueError):
        holder.sign(b"x", "md5")


def test_fingerprint_is_sha256_hex(pki):
    certificate = pki.root.certificate
    assert fingerprint(certificate) == certificate.fingerprint(hashes.SHA256()).hex()
    assert len(fingerprint(certificate)) == 64 and fingerprint(certificate) != fingerprint(pki.issuing_ca.certificate)
