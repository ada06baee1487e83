"""A wrong PIN on a PKCS#11 token leaves no session open (python-pkcs11 loses the session whose login failed),
and the right PIN works afterwards; a holder that failed is not kept in the per-process cache."""

from __future__ import annotations

import ctypes
import datetime as dt

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.utils import translation

from signatures import pkcs11_keys, signing
from signatures.pkcs11_keys import Pkcs11KeyHolder, close_all_sessions
from signatures.pki import build_demo_pki
from signatures.signers import SigningUnavailable
from tests.signatures.softhsm import PIN, RSA_KEY_LABEL, softhsm_fixture  # noqa: F401 - the `softhsm` fixture

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


class _SessionInfo(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_ulong), ("state", ctypes.c_ulong), ("flags", ctypes.c_ulong),
                ("device_error", ctypes.c_ulong)]


def open_sessions(module: str) -> int:
    """How many sessions this process has open in the module: the same shared library python-pkcs11 loaded
    (dlopen returns the loaded copy), asked C_GetSessionInfo for every small handle SoftHSM hands out."""
    library = ctypes.CDLL(module)
    info = _SessionInfo()
    return sum(library.C_GetSessionInfo(ctypes.c_ulong(handle), ctypes.byref(info)) == 0 for handle in range(1, 513))


@pytest.fixture(scope="module")
def certificate(softhsm):
    return build_demo_pki(now=NOW).issue_for_public_key("Nguyễn Văn Token", softhsm.rsa_public_key, not_before=NOW)


def test_wrong_pins_leave_no_session_open_and_the_right_pin_works_after(softhsm, certificate):
    close_all_sessions()
    assert open_sessions(softhsm.module) == 0
    wrong = Pkcs11KeyHolder(softhsm.module, softhsm.token, "000000", RSA_KEY_LABEL, certificate)
    for _attempt in range(5):
        with pytest.raises(SigningUnavailable) as caught, translation.override("en"):
            wrong.sign(b"data", "sha256")
        with translation.override("en"):
            assert str(caught.value) == f"The PIN of the signing token {softhsm.token} is wrong."
        assert open_sessions(softhsm.module) == 0
    right = Pkcs11KeyHolder(softhsm.module, softhsm.token, PIN, RSA_KEY_LABEL, certificate)
    signature = right.sign(b"data", "sha256")
    certificate.public_key().verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
    assert open_sessions(softhsm.module) == 1  # the one shared logged-in session


def test_a_wrong_pin_elsewhere_does_not_break_a_logged_in_holder(softhsm, certificate):
    close_all_sessions()
    right = Pkcs11KeyHolder(softhsm.module, softhsm.token, PIN, RSA_KEY_LABEL, certificate)
    right.sign(b"first", "sha256")
    wrong = Pkcs11KeyHolder(softhsm.module, softhsm.other_token, "000000", RSA_KEY_LABEL, certificate)
    with pytest.raises(SigningUnavailable):
        wrong.sign(b"data", "sha256")
    signature = right.sign(b"again", "sha256")  # logs in again after the library was re-initialised
    certificate.public_key().verify(signature, b"again", padding.PKCS1v15(), hashes.SHA256())
    assert open_sessions(softhsm.module) == 1
    close_all_sessions()
    assert open_sessions(pkcs11_keys.find_softhsm_module() or softhsm.module) == 0


def test_a_failed_holder_is_not_cached(monkeypatch):
    class Credential:
        pk, fingerprint = 7, "ab" * 32

    signing._HOLDERS[(7, "ab" * 32)] = object()
    signing.forget_key_holder(Credential())
    assert (7, "ab" * 32) not in signing._HOLDERS
