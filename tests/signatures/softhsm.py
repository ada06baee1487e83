"""SoftHSM2 for the PKCS#11 tests: a private token store per test module, keys generated on the tokens.

A test module imports the fixture (`from tests.signatures.softhsm import softhsm_fixture`) and asks for it as
`softhsm` (the import name differs so linters see no redefinition). It is module-scoped: each module gets its
own store. SoftHSM reads SOFTHSM2_CONF and lists its tokens when the library is
initialised, so the fixture keeps SOFTHSM2_CONF set for the whole module and re-initialises the library.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signatures import pkcs11_keys
from tests.conftest import missing_service

PIN = "246810"
SO_PIN = "13579111"
RSA_KEY_LABEL = "rsa-key"
EC_KEY_LABEL = "ec-key"


@dataclass(frozen=True)
class SoftHsm:
    module: str
    token: str
    """Holds an RSA key labelled RSA_KEY_LABEL and an EC P-256 key labelled EC_KEY_LABEL."""
    other_token: str
    """Same PIN, no keys: for wrong-PIN attempts that must not count against `token`."""
    rsa_public_key: rsa.RSAPublicKey
    ec_public_key: ec.EllipticCurvePublicKey
    token_directory: Path
    """SoftHSM's `directories.tokendir`: one sub-directory per token (moving one in is plugging it in)."""


def require_softhsm() -> str:
    """The SoftHSM2 module path; fails in CI and skips elsewhere when SoftHSM2 is not installed."""
    module = pkcs11_keys.find_softhsm_module()
    if module is None or shutil.which("softhsm2-util") is None:
        missing_service("SoftHSM2 not installed (Debian package softhsm2)")
    return module


def write_config(store: Path) -> Path:
    """A SoftHSM2 configuration keeping its tokens in `store`/tokens; returns the file (for SOFTHSM2_CONF)."""
    (store / "tokens").mkdir(parents=True, exist_ok=True)
    config = store / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {store / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    return config


def init_token(label: str, config: Path | None = None) -> None:
    """Initialise a token in the free slot (with our PIN) through SoftHSM's own tool, as an administrator would."""
    env = {**os.environ, "SOFTHSM2_CONF": str(config)} if config else None
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
        check=True,
        capture_output=True,
        env=env,
    )


def rsa_public_key_of(public) -> rsa.RSAPublicKey:
    """The cryptography public key of a python-pkcs11 RSA public key object."""
    from pkcs11 import Attribute

    return rsa.RSAPublicNumbers(
        int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"), int.from_bytes(public[Attribute.MODULUS], "big")
    ).public_key()


def generate_rsa_key(session, label: str) -> rsa.RSAPublicKey:
    """An RSA-2048 key pair generated on the token (private key sensitive, never extractable)."""
    from pkcs11 import Attribute, KeyType

    public, private = session.generate_keypair(
        KeyType.RSA,
        2048,
        label=label,
        store=True,
        private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
    )
    assert private[Attribute.SENSITIVE] and not private[Attribute.EXTRACTABLE]
    return rsa_public_key_of(public)


_GENERATE_IN_ANOTHER_PROCESS = """
import json, sys
import pkcs11
from pkcs11 import Attribute, KeyType
module, label, pin, key_label = sys.argv[1:5]
token = pkcs11.lib(module).get_token(token_label=label)
with token.open(rw=True, user_pin=pin) as session:
    public, _ = session.generate_keypair(KeyType.RSA, 2048, label=key_label, store=True,
                                         private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False})
    print(json.dumps({"n": int.from_bytes(public[Attribute.MODULUS], "big"),
                      "e": int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big")}))
"""


def token_outside_the_store(module: str, store: Path, label: str, key_label: str) -> tuple[Path, rsa.RSAPublicKey]:
    """A token (with an RSA key generated on it) made in a separate store by another process: the token's
    directory and its public key. Moving the directory into a running store is plugging the token in."""
    config = write_config(store)
    init_token(label, config)
    made = subprocess.run(
        [sys.executable, "-c", _GENERATE_IN_ANOTHER_PROCESS, module, label, PIN, key_label],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "SOFTHSM2_CONF": str(config)},
    )
    numbers = json.loads(made.stdout)
    (directory,) = (path for path in (store / "tokens").iterdir() if path.is_dir())
    return directory, rsa.RSAPublicNumbers(numbers["e"], numbers["n"]).public_key()


def _octet_string(der: bytes) -> bytes:
    """EC_POINT is a DER OCTET STRING around the point (SoftHSM, PKCS#11 ≥ 2.30)."""
    from asn1crypto.core import OctetString

    return bytes(OctetString.load(der)) if der[:1] == b"\x04" and len(der) in (67, 68) else der


@pytest.fixture(scope="module", name="softhsm")
def softhsm_fixture(tmp_path_factory) -> Iterator[SoftHsm]:
    """Tokens in a private SoftHSM2 store (SOFTHSM2_CONF), keys generated on the token itself."""
    module = require_softhsm()
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_named_curve_parameters

    store = tmp_path_factory.mktemp("softhsm")
    config = write_config(store)
    suffix = uuid.uuid4().hex[:8]
    token, other_token = f"eoffice-{suffix}", f"eoffice-other-{suffix}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(config))
        init_token(token)
        init_token(other_token)
        pkcs11_keys.close_all_sessions()
        pkcs11_keys.refresh_tokens(module)  # the library reads the configuration and lists tokens when initialised
        library = pkcs11_keys._library(module)
        with library.get_token(token_label=token).open(rw=True, user_pin=PIN) as session:
            rsa_public_key = generate_rsa_key(session, RSA_KEY_LABEL)
            parameters = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
            )
            public, _private = parameters.generate_keypair(label=EC_KEY_LABEL, store=True)
            point = public[Attribute.EC_POINT]
            ec_public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _octet_string(point))
        yield SoftHsm(module, token, other_token, rsa_public_key, ec_public_key, store / "tokens")
        pkcs11_keys.close_all_sessions()
