"""A `signers.KeyHolder` whose private key stays on a PKCS#11 token or HSM (python-pkcs11).

The key never leaves the token: we only ask it to sign. Everything that can go wrong with a token (module not
installed, token unplugged, wrong or locked PIN, key missing) becomes `SigningUnavailable` with a message an
administrator can act on, so the signing task fails cleanly and can be retried.

PKCS#11 state is per process and per token: a login applies to every session the process has on that token,
and closing a logged-in session logs all of them out. So the module keeps one library object per module path
and one logged-in session per (module, token), shared by all holders, and drops them in a forked child (a
Celery worker must initialise the library itself). Calls into the token are serialised by one lock: tokens
are single-threaded devices and the library is initialised without OS locking.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils.translation import gettext_lazy as _

from .keys import hash_by_name, key_algorithm_of, lazy_format
from .signers import SigningUnavailable

KNOWN_SOFTHSM_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)

# DER DigestInfo prefixes (RFC 8017 §9.2 note 1), for tokens that only offer raw CKM_RSA_PKCS.
DIGEST_INFO_PREFIX = {
    "sha224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


def find_softhsm_module() -> str | None:
    """Path of SoftHSM2's PKCS#11 module if installed (tests and the demo use it), else None."""
    return next((path for path in KNOWN_SOFTHSM_MODULES if Path(path).is_file()), None)


@dataclass
class _SharedSession:
    session: object
    pin_digest: bytes


_lock = threading.RLock()
_libraries: dict[str, object] = {}
_sessions: dict[tuple[str, str], _SharedSession] = {}


def _forget_everything_in_child() -> None:
    # The parent's library handle and sessions are meaningless after fork; the child initialises afresh.
    global _lock
    _lock = threading.RLock()
    _sessions.clear()
    _libraries.clear()


os.register_at_fork(after_in_child=_forget_everything_in_child)


def _module_unavailable(module_path: str, detail: object = "") -> SigningUnavailable:
    return SigningUnavailable(
        lazy_format(_("The PKCS#11 module %(module)s cannot be loaded."), {"module": module_path})
    )


def _library(module_path: str):
    import pkcs11

    library = _libraries.get(module_path)
    if library is None:
        if not Path(module_path).is_file():
            raise _module_unavailable(module_path)
        try:
            library = pkcs11.lib(module_path)
        except pkcs11.PKCS11Error as error:
            raise _module_unavailable(module_path) from error
        _libraries[module_path] = library
    return library


def refresh_tokens(module_path: str) -> None:
    """Re-initialise a module so it sees tokens created or plugged in since it was loaded (SoftHSM and some
    drivers only list tokens at initialisation). Every shared session on that module is dropped."""
    with _lock:
        for key in [key for key in _sessions if key[0] == module_path]:
            _drop_session(key)
        library = _libraries.get(module_path)
        if library is not None:
            library.reinitialize()


def close_all_sessions() -> None:
    """Log out and close every shared session (tests, orderly shutdown)."""
    with _lock:
        for key in list(_sessions):
            _drop_session(key)


def _drop_session(key: tuple[str, str]) -> None:
    import pkcs11

    shared = _sessions.pop(key, None)
    if shared is None:
        return
    try:
        shared.session.close()
    except pkcs11.PKCS11Error:
        pass  # already gone with the token


def _shared_session(module_path: str, token_label: str, pin: str):
    import pkcs11
    from pkcs11 import exceptions as p11

    key = (module_path, token_label)
    pin_digest = hashlib.sha256(pin.encode()).digest()
    shared = _sessions.get(key)
    if shared is not None:
        if shared.pin_digest == pin_digest:
            return shared.session
        _drop_session(key)  # another PIN (changed in the settings): log in again with it
    token = _find_token(module_path, token_label)
    names = {"token": token_label}
    try:
        session = token.open(user_pin=pin)
    except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange) as error:
        _close_failed_login(module_path)
        raise SigningUnavailable(lazy_format(_("The PIN of the signing token %(token)s is wrong."), names)) from error
    except (p11.PinLocked, p11.PinExpired) as error:
        _close_failed_login(module_path)
        raise SigningUnavailable(
            lazy_format(_("The PIN of the signing token %(token)s is locked or expired."), names)
        ) from error
    except p11.UserAlreadyLoggedIn:
        # Something else in this process logged in already; login is per token, so a plain session can sign.
        # (python-pkcs11 leaks the session whose C_Login failed; this happens at most once per token.)
        session = token.open()
    except (p11.TokenNotPresent, p11.DeviceRemoved, p11.SlotIDInvalid) as error:
        raise SigningUnavailable(lazy_format(_("The signing token %(token)s is not connected."), names)) from error
    except pkcs11.PKCS11Error as error:
        raise _token_failed(token_label, error) from error
    _sessions[key] = _SharedSession(session, pin_digest)
    return session


def _close_failed_login(module_path: str) -> None:
    """python-pkcs11 opens the session (C_OpenSession) before C_Login and, when the login fails, neither
    closes it nor returns it: the handle is lost to us. Only finalising the library closes it, so after a
    refused PIN every shared session of the module is closed and the library re-initialised (the other
    holders log in again on their next signature). Without this each wrong attempt leaks one session, until
    the token refuses to open any more (CKR_SESSION_COUNT)."""
    import pkcs11

    try:
        refresh_tokens(module_path)
    except pkcs11.PKCS11Error:
        # The library could not be initialised again: forget it, the next call loads it afresh.
        _libraries.pop(module_path, None)


def _find_token(module_path: str, token_label: str):
    """The connected token with this label. SoftHSM and some drivers list tokens only when the library is
    initialised: a token that is not listed is looked for once more after re-initialising, so a token plugged
    in (or created) after the worker started is found by the retry, without restarting the worker."""
    import pkcs11
    from pkcs11 import exceptions as p11

    names = {"token": token_label}
    for attempt in range(2):
        library = _library(module_path)
        try:
            return library.get_token(token_label=token_label)
        except p11.NoSuchToken as error:
            if attempt:
                raise SigningUnavailable(
                    lazy_format(_("The signing token %(token)s is not connected."), names)
                ) from error
        except p11.MultipleTokensReturned as error:
            raise SigningUnavailable(
                lazy_format(_("Several connected signing tokens are labelled %(token)s."), names)
            ) from error
        except pkcs11.PKCS11Error as error:
            raise _token_failed(token_label, error) from error
        try:
            refresh_tokens(module_path)
        except pkcs11.PKCS11Error as error:
            raise _token_failed(token_label, error) from error
    raise AssertionError("unreachable")


def _token_failed(token_label: str, error: Exception) -> SigningUnavailable:
    return SigningUnavailable(
        lazy_format(
            _("The signing token %(token)s could not sign (%(error)s)."),
            {"token": token_label, "error": type(error).__name__},
        )
    )


class Pkcs11KeyHolder:
    """A `signers.KeyHolder` for a private key on a PKCS#11 token, found by token label and key label.

    Nothing is opened until the first `sign`; a token that went away is re-opened once per call.
    """

    def __init__(
        self,
        module_path: str,
        token_label: str,
        pin: str,
        key_label: str,
        certificate: x509.Certificate,
        chain: Iterable[x509.Certificate] = (),
    ) -> None:
        self.module_path = module_path
        self.token_label = token_label
        self.key_label = key_label
        self.certificate = certificate
        self.chain = list(chain)
        self.key_algorithm = key_algorithm_of(certificate.public_key())
        self._pin = pin
        self._key = None
        self._key_session = None

    def _private_key(self, session):
        from pkcs11 import Attribute, ObjectClass
        from pkcs11 import exceptions as p11

        if self._key is not None and self._key_session is session:
            return self._key
        names = {"key": self.key_label, "token": self.token_label}
        try:
            key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=self.key_label)
        except p11.NoSuchKey as error:
            raise SigningUnavailable(
                lazy_format(_("The key %(key)s was not found on the signing token %(token)s."), names)
            ) from error
        except p11.MultipleObjectsReturned as error:
            raise SigningUnavailable(
                lazy_format(_("Several keys are labelled %(key)s on the signing token %(token)s."), names)
            ) from error
        public_key = self.certificate.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            # The modulus is a public attribute even of a sensitive key: a cheap check that the token's key
            # is the certificate's, so a wrong label fails here and not as an invalid signature later.
            modulus = int.from_bytes(key[Attribute.MODULUS], "big")
            if modulus != public_key.public_numbers().n:
                raise SigningUnavailable(
                    lazy_format(
                        _("The key %(key)s on the signing token %(token)s does not match the certificate."), names
                    )
                )
        self._key, self._key_session = key, session
        return key

    def _raw_sign(self, key, data: bytes, hash_name: str) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11 import exceptions as p11
        from pkcs11.util.ec import encode_ecdsa_signature

        suffix = hash_name.upper()  # SHA256 ...
        if self.key_algorithm == "rsa":
            try:
                return key.sign(data, mechanism=getattr(Mechanism, f"{suffix}_RSA_PKCS"))
            except p11.MechanismInvalid:  # token without hash-and-sign mechanisms: hash here
                digest = hashes.Hash(hash_by_name(hash_name))
                digest.update(data)
                return key.sign(DIGEST_INFO_PREFIX[hash_name] + digest.finalize(), mechanism=Mechanism.RSA_PKCS)
        try:
            raw = key.sign(data, mechanism=getattr(Mechanism, f"ECDSA_{suffix}"))
        except p11.MechanismInvalid:
            digest = hashes.Hash(hash_by_name(hash_name))
            digest.update(data)
            raw = key.sign(digest.finalize(), mechanism=Mechanism.ECDSA)
        return encode_ecdsa_signature(raw)  # PKCS#11 returns r||s; CMS wants DER

    def sign(self, data: bytes, hash_algorithm: str) -> bytes:
        """PKCS#1 v1.5 (CKM_<HASH>_RSA_PKCS) or DER ECDSA signature of `data`, made on the token."""
        import pkcs11
        from pkcs11 import exceptions as p11

        hash_name = hash_by_name(hash_algorithm).name  # validates the name: 'sha256' ...
        gone = (
            p11.SessionHandleInvalid,
            p11.SessionClosed,
            p11.DeviceRemoved,
            p11.TokenNotPresent,
            p11.UserNotLoggedIn,
            p11.ObjectHandleInvalid,
            p11.KeyHandleInvalid,
        )
        with _lock:
            for attempt in range(2):
                session = _shared_session(self.module_path, self.token_label, self._pin)
                try:
                    return self._raw_sign(self._private_key(session), data, hash_name)
                except gone as error:
                    # The token was unplugged or the library re-initialised: reconnect once.
                    _drop_session((self.module_path, self.token_label))
                    self._key = self._key_session = None
                    if attempt:
                        raise SigningUnavailable(
                            lazy_format(_("The signing token %(token)s is not connected."), {"token": self.token_label})
                        ) from error
                except pkcs11.PKCS11Error as error:
                    raise _token_failed(self.token_label, error) from error
        raise AssertionError("unreachable")

    def __repr__(self) -> str:  # never the PIN
        return f"<Pkcs11KeyHolder token={self.token_label!r} key={self.key_label!r} module={self.module_path!r}>"

    def __getstate__(self) -> None:
        raise TypeError("a Pkcs11KeyHolder holds a PIN and must not be pickled")
