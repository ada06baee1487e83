"""The demo PKI installed into the database: a root and an issuing CA in the trust store with both CAs'
CRLs, a seal certificate per agency and a personal certificate per leader and clerk, keys stored
encrypted like imported ones, with generated signature and seal images. Used by `make run`
(`manage.py create_demo_pki`), the tests and bench/signing.py, so all sign the same way. The PKI itself
is built by the generic `signatures.pki`; this module only installs it, through `signatures.services`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.db import transaction

from accounts import roles
from accounts.models import Agency, User
from signatures import keys, services
from signatures.images import seal_png, signature_png
from signatures.models import CredentialKind, SigningCredential, TrustAnchor
from signatures.pki import DemoPki, Identity, build_demo_pki

SIGNING_ROLES = (roles.AGENCY_LEADER, roles.UNIT_LEADER, roles.CLERK)
DEMO_PKI_PASSWORD = b"demo-pki-not-for-production"


@dataclass
class Installed:
    pki: DemoPki
    seals: int = 0
    people: int = 0
    anchors: list[TrustAnchor] = field(default_factory=list)


def signing_people(agencies: Iterable[Agency]) -> list[User]:
    return list(User.objects.filter(agency__in=list(agencies), is_active=True, groups__name__in=SIGNING_ROLES)
                .distinct().order_by("pk"))


def _seal_code(agency: Agency) -> str:
    return f"agency-{agency.pk}"


def load_or_build(directory: Path | None, agencies: list[Agency], people: list[User]) -> DemoPki:
    """The PKI saved in `directory` (extended with newcomers), or a new one saved there."""
    pki = None
    if directory is not None and (directory / "pki.json").exists():
        pki = DemoPki.load(directory, password=DEMO_PKI_PASSWORD)
    if pki is None:
        pki = build_demo_pki(seals={_seal_code(a): a.name for a in agencies},
                             people={p.username: p.display_name for p in people})
    changed = False
    for agency in agencies:
        if _seal_code(agency) not in pki.seals:
            pki.add_seal(_seal_code(agency), agency.name)
            changed = True
    for person in people:
        if person.username not in pki.people:
            pki.add_person(person.username, person.display_name)
            changed = True
    if directory is not None and (changed or not (directory / "pki.json").exists()):
        directory.mkdir(parents=True, exist_ok=True)
        pki.save(directory, password=DEMO_PKI_PASSWORD)
    return pki


def _credential(actor, identity: Identity, data: services.CredentialInput) -> bool:
    if SigningCredential.objects.filter(fingerprint=keys.fingerprint(identity.certificate), is_active=True).exists():
        return False
    p12 = identity.to_pkcs12(b"demo")
    services.import_pkcs12(actor, data, p12, "demo")
    return True


def install(actor, agencies: Iterable[Agency], *, directory: Path | None = None) -> Installed:
    """Idempotent: what is installed already is left as it is."""
    agencies = list(agencies)
    people = signing_people(agencies)
    pki = load_or_build(directory, agencies, people)
    result = Installed(pki=pki)
    with transaction.atomic():
        bundle = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (pki.root.certificate,
                                                                              pki.issuing_ca.certificate))
        result.anchors = services.add_trust_anchors(actor, bundle)
        # Both CAs' CRLs: with current revocation data for the whole chain, signatures are PAdES B-LT.
        services.set_revocation_list(actor, pki.crl().public_bytes(serialization.Encoding.DER))
        services.set_revocation_list(actor, pki.crl(issuer="root").public_bytes(serialization.Encoding.DER))
        for agency in agencies:
            seal = services.CredentialInput(kind=CredentialKind.SEAL, agency=agency, image_png=seal_png(agency.name))
            result.seals += _credential(actor, pki.seals[_seal_code(agency)], seal)
        for person in people:
            personal = services.CredentialInput(kind=CredentialKind.PERSONAL, user=person,
                                                image_png=signature_png(person.display_name))
            result.people += _credential(actor, pki.people[person.username], personal)
    return result
