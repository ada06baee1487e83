"""Where a private key lives, hidden behind one small interface.

The signing engine (PAdES via pyHanko) only ever asks a `KeyHolder` for its certificate chain and for a raw
signature over some bytes. A key stored encrypted in our database, a key on a PKCS#11 token and a remote
signing service are three implementations of the same protocol, so adding one never touches the callers.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cryptography import x509


class SigningUnavailable(Exception):
    """The key cannot be used right now (token absent, wrong PIN, remote service down). Retryable."""


@runtime_checkable
class KeyHolder(Protocol):
    """A private key we may use, and the certificates that go with it."""

    certificate: x509.Certificate
    """The signer's own certificate."""

    chain: list[x509.Certificate]
    """Issuing CA certificates up to (not necessarily including) the root, nearest first."""

    key_algorithm: str
    """'rsa' or 'ecdsa': tells the engine which signature mechanism to declare in the CMS."""

    def sign(self, data: bytes, hash_algorithm: str) -> bytes:
        """Sign `data` (the DER of the signed attributes) with PKCS#1 v1.5 (RSA) or DER ECDSA.

        `hash_algorithm` is a lower-case name such as 'sha256'. Raises `SigningUnavailable` when the key
        cannot be reached.
        """
        ...
