"""Signing with a key that stays on a PKCS#11 token (SoftHSM2), and every way the token can be unavailable."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from django.utils import translation

from signatures import pkcs11_keys
from signatures.pkcs11_keys import Pkcs11KeyHolder, close_all_sessions
from signatures.pki import DemoPki, build_demo_pki
from signatures.signers import KeyHolder, SigningUnavailable
from tests.signatures.softhsm import PIN, softhsm_fixture  # noqa: F401 - the `softhsm` fixture

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki() -> DemoPki:
    return build_demo_pki(now=NOW)


@pytest.fixture(scope="module")
def rsa_certificate(pki, softhsm):
    return pki.issue_for_public_key("Nguyễn Văn Token", softhsm.rsa_public_key, not_before=NOW)


@pytest.fixture(scope="module")
def ec_certificate(pki, softhsm):
    return pki.issue_for_public_key("Con dấu EC", softhsm.ec_public_key, kind="seal", not_before=NOW)


@pytest.fixture
def rsa_holder(softhsm, rsa_certificate, pki):
    return Pkcs11KeyHolder(
        softhsm.module,
        softhsm.token,
        PIN,
        "rsa-key",
        rsa_certificate,
        [pki.issuing_ca.certificate, pki.root.certificate],
    )


def _unavailable(holder: Pkcs11KeyHolder) -> str:
    with pytest.raises(SigningUnavailable) as caught:
        holder.sign(b"data", "sha256")
    with translation.override("en"):
        return str(caught.value)


@pytest.mark.parametrize(("name", "algorithm"), [("sha256", hashes.SHA256()), ("sha512", hashes.SHA512())])
def test_rsa_key_on_the_token_signs_pkcs1_v15(rsa_holder, rsa_certificate, name, algorithm):
    assert isinstance(rsa_holder, KeyHolder) and rsa_holder.key_algorithm == "rsa"
    signature = rsa_holder.sign(b"signed attributes", name)
    rsa_certificate.public_key().verify(signature, b"signed attributes", padding.PKCS1v15(), algorithm)


def test_ec_key_on_the_token_signs_der_ecdsa(softhsm, ec_certificate):
    holder = Pkcs11KeyHolder(softhsm.module, softhsm.token, PIN, "ec-key", ec_certificate)
    assert holder.key_algorithm == "ecdsa"
    signature = holder.sign(b"signed attributes", "sha256")
    assert signature[0] == 0x30  # DER, not the token's raw r||s
    ec_certificate.public_key().verify(signature, b"signed attributes", ec.ECDSA(hashes.SHA256()))


def test_holders_on_one_token_share_one_logged_in_session(softhsm, rsa_holder, ec_certificate):
    ec_holder = Pkcs11KeyHolder(softhsm.module, softhsm.token, PIN, "ec-key", ec_certificate)
    for _ in range(2):
        rsa_holder.sign(b"x", "sha256")
        ec_holder.sign(b"x", "sha256")
    sessions = [key for key in pkcs11_keys._sessions if key == (softhsm.module, softhsm.token)]
    assert len(sessions) == 1


def test_a_reinitialised_library_is_reconnected_transparently(softhsm, rsa_holder, rsa_certificate):
    rsa_holder.sign(b"x", "sha256")
    pkcs11_keys._libraries[softhsm.module].reinitialize()  # invalidates every session behind our back
    signature = rsa_holder.sign(b"after", "sha256")
    rsa_certificate.public_key().verify(signature, b"after", padding.PKCS1v15(), hashes.SHA256())


def test_a_login_made_elsewhere_in_the_process_is_reused(softhsm, rsa_holder, rsa_certificate):
    close_all_sessions()
    library = pkcs11_keys._library(softhsm.module)
    outside = library.get_token(token_label=softhsm.token).open(user_pin=PIN)
    try:
        signature = rsa_holder.sign(b"x", "sha256")
        rsa_certificate.public_key().verify(signature, b"x", padding.PKCS1v15(), hashes.SHA256())
    finally:
        outside.close()  # logs the whole token out ...
    rsa_holder.sign(b"y", "sha256")  # ... and the holder logs in again


def test_wrong_pin_is_reported(softhsm, rsa_certificate):
    holder = Pkcs11KeyHolder(softhsm.module, softhsm.other_token, "000000", "rsa-key", rsa_certificate)
    assert _unavailable(holder) == f"The PIN of the signing token {softhsm.other_token} is wrong."


def test_absent_token_is_reported(softhsm, rsa_certificate):
    holder = Pkcs11KeyHolder(softhsm.module, "no-such-token", PIN, "rsa-key", rsa_certificate)
    assert _unavailable(holder) == "The signing token no-such-token is not connected."


def test_absent_key_is_reported(softhsm, rsa_certificate):
    holder = Pkcs11KeyHolder(softhsm.module, softhsm.token, PIN, "no-such-key", rsa_certificate)
    assert _unavailable(holder) == f"The key no-such-key was not found on the signing token {softhsm.token}."


def test_key_that_does_not_match_the_certificate_is_reported(softhsm, pki):
    someone_else = pki.issue("Người Khác", not_before=NOW).certificate
    holder = Pkcs11KeyHolder(softhsm.module, softhsm.token, PIN, "rsa-key", someone_else)
    assert "does not match the certificate" in _unavailable(holder)


def test_missing_or_broken_module_is_reported(softhsm, rsa_certificate, tmp_path):
    missing = Pkcs11KeyHolder("/nonexistent/libpkcs11.so", softhsm.token, PIN, "rsa-key", rsa_certificate)
    assert _unavailable(missing) == "The PKCS#11 module /nonexistent/libpkcs11.so cannot be loaded."
    broken_path = tmp_path / "broken.so"
    broken_path.write_bytes(b"not a shared object")
    broken = Pkcs11KeyHolder(str(broken_path), softhsm.token, PIN, "rsa-key", rsa_certificate)
    assert "cannot be loaded" in _unavailable(broken)


def test_pin_never_shows_and_holder_cannot_be_pickled(rsa_holder):
    rsa_holder.sign(b"x", "sha256")
    assert PIN not in repr(rsa_holder) and PIN not in str(rsa_holder)
    with pytest.raises(TypeError):
        pickle.dumps(rsa_holder)


def test_unknown_hash_is_a_programming_error(rsa_holder):
    with pytest.raises(ValueError):
        rsa_holder.sign(b"x", "md5")


class _OnlyRawMechanisms:
    """A token key that, like some smart cards, lacks the hash-and-sign mechanisms."""

    def __init__(self, key):
        self._key = key

    def sign(self, data, *, mechanism):
        from pkcs11 import Mechanism
        from pkcs11.exceptions import MechanismInvalid

        if mechanism not in (Mechanism.RSA_PKCS, Mechanism.ECDSA):
            raise MechanismInvalid()
        return self._key.sign(data, mechanism=mechanism)


@pytest.mark.parametrize("name", ["sha256", "sha384", "sha512"])
def test_tokens_without_hash_and_sign_mechanisms_get_a_digest_info(
    softhsm, rsa_holder, rsa_certificate, ec_certificate, name
):
    from pkcs11 import ObjectClass

    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name]
    ec_holder = Pkcs11KeyHolder(softhsm.module, softhsm.token, PIN, "ec-key", ec_certificate)
    session = pkcs11_keys._shared_session(softhsm.module, softhsm.token, PIN)
    for holder, label in ((rsa_holder, "rsa-key"), (ec_holder, "ec-key")):
        key = _OnlyRawMechanisms(session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label))
        signature = holder._raw_sign(key, b"signed attributes", name)
        if holder.key_algorithm == "rsa":
            rsa_certificate.public_key().verify(signature, b"signed attributes", padding.PKCS1v15(), algorithm)
        else:
            ec_certificate.public_key().verify(signature, b"signed attributes", ec.ECDSA(algorithm))
