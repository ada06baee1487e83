"""Setting up an installation for edXML exchange in tests: the trust store, our agency's seal, a peer; and a
key holder for the other side's seal (signing its packages as the other system would)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

from accounts.models import Agency
from exchange.models import Peer
from signatures import services as signature_services
from signatures.keys import hash_by_name
from signatures.models import CredentialKind
from signatures.pki import DemoPki, Identity


class IdentityHolder:
    """A `signers.KeyHolder` over a demo identity's key (the other system's seal, in unit tests)."""

    key_algorithm = "rsa"

    def __init__(self, identity: Identity, chain=()) -> None:
        self.certificate = identity.certificate
        self.chain = list(chain)
        self._key = identity.private_key

    def sign(self, data: bytes, hash_algorithm: str) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), hash_by_name(hash_algorithm))


def pem(identity: Identity) -> str:
    return identity.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def install_trust(admin, pki: DemoPki) -> None:
    bundle = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in pki.ca_certificates)
    signature_services.add_trust_anchors(admin, bundle)


def install_seal(admin, agency: Agency, identity: Identity) -> None:
    signature_services.import_pkcs12(admin, signature_services.CredentialInput(kind=CredentialKind.SEAL, agency=agency),
                                     identity.to_pkcs12(b"pw"), "pw")


def add_peer(agency: Agency, identity: Identity, url: str) -> Peer:
    peer = Peer(organ_id=agency.identifier, name=agency.name, agency=agency, inbound_url=url,
                certificate_pem=pem(identity))
    peer.full_clean()
    peer.save()
    return peer
