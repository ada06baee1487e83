"""Importing certificates and managing the trust store through the services: each refusal says why and
stores nothing; who may import what; every change is audited."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import roles
from audit.models import AuditEvent
from demo.pki import install
from signatures import events, services
from signatures.models import CredentialKind, SigningCredential, TrustAnchor
from tests.factories import AgencyFactory, make_user
from tests.workflows.helpers import office

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(superuser_actor):
    o = office()
    pki = install(superuser_actor, [o.agency]).pki
    SigningCredential.objects.filter(user=o.handler).delete()
    return o, pki, superuser_actor


def personal(user) -> services.CredentialInput:
    return services.CredentialInput(kind=CredentialKind.PERSONAL, user=user)


def refused(call) -> str:
    with pytest.raises(ValidationError) as error:
        call()
    return " ".join(error.value.messages)


def test_a_revoked_certificate_is_refused_once_the_crl_is_in_the_trust_store(setup):
    o, pki, admin = setup
    identity = pki.add_person("revoked", "Người Bị Thu Hồi")
    services.set_revocation_list(admin, pki.crl(revoked=[identity.certificate]).public_bytes(serialization.Encoding.DER))
    message = refused(lambda: services.import_pkcs12(o.handler, personal(o.handler), identity.to_pkcs12(b"pw"), "pw"))
    assert "revoked" in message or "thu hồi" in message
    assert not SigningCredential.objects.filter(user=o.handler).exists()


def test_a_certificate_without_a_signing_usage_is_refused(setup):
    o, pki, _admin = setup
    encipher_only = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=True,
                                  data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                  encipher_only=False, decipher_only=False)
    identity = pki.issue("Chỉ Mã Hóa", key_usage=encipher_only)
    refused(lambda: services.import_pkcs12(o.handler, personal(o.handler), identity.to_pkcs12(b"pw"), "pw"))
    assert not SigningCredential.objects.filter(user=o.handler).exists()


def test_who_may_import_what(setup):
    o, pki, admin = setup
    other_admin = make_user(roles.ADMINISTRATOR, AgencyFactory())
    seal = services.CredentialInput(kind=CredentialKind.SEAL, agency=o.agency)
    p12 = pki.seals[f"agency-{o.agency.pk}"].to_pkcs12(b"pw")
    with pytest.raises(PermissionDenied):  # an administrator of another agency
        services.import_pkcs12(other_admin, seal, p12, "pw")
    with pytest.raises(PermissionDenied):  # a person for a colleague
        services.import_pkcs12(o.colleague, personal(o.handler), pki.add_person("h", "H").to_pkcs12(b"pw"), "pw")
    own = services.import_pkcs12(o.handler, personal(o.handler),
                                 pki.add_person("h2", o.handler.display_name).to_pkcs12(b"pw"), "pw")
    assert own.key_storage == "stored" and own.is_active
    event = AuditEvent.objects.get(verb=events.CREDENTIAL_IMPORTED, target_id=str(own.pk))
    assert event.actor_id == o.handler.pk and event.data["fingerprint"] == own.fingerprint


def test_a_new_certificate_replaces_the_previous_one(setup):
    o, pki, _admin = setup
    name = o.handler.display_name  # a personal certificate must name its owner (test_certificate_owner.py)
    first = services.import_pkcs12(o.handler, personal(o.handler), pki.add_person("a", name).to_pkcs12(b"pw"), "pw")
    second = services.import_pkcs12(o.handler, personal(o.handler), pki.add_person("b", name).to_pkcs12(b"pw"), "pw")
    first.refresh_from_db()
    assert (first.is_active, second.is_active) == (False, True)
    assert AuditEvent.objects.filter(verb=events.CREDENTIAL_DEACTIVATED, target_id=str(first.pk)).exists()


def test_trust_store_accepts_ca_certificates_only_and_crls_of_trusted_cas(setup):
    o, pki, admin = setup
    leaf = pki.people[o.leader.username].certificate.public_bytes(serialization.Encoding.PEM)
    refused(lambda: services.add_trust_anchors(admin, leaf))
    refused(lambda: services.add_trust_anchors(admin, b"not a certificate"))
    from signatures.pki import build_demo_pki

    stranger = build_demo_pki()
    refused(lambda: services.set_revocation_list(admin, stranger.crl().public_bytes(serialization.Encoding.DER)))
    agency_admin = make_user(roles.ADMINISTRATOR, o.agency)
    for not_allowed in (o.clerk, agency_admin):  # the trust store is the installation's, not an agency's
        with pytest.raises(PermissionDenied):
            services.add_trust_anchors(not_allowed, stranger.root.certificate.public_bytes(serialization.Encoding.PEM))
    # An older revocation list than the stored one would forget revocations: refused.
    from datetime import UTC, datetime, timedelta

    old_crl = pki.crl(at=datetime.now(UTC) - timedelta(days=2)).public_bytes(serialization.Encoding.DER)
    refused(lambda: services.set_revocation_list(admin, old_crl))
    before = AuditEvent.objects.filter(verb=events.TRUST_ANCHOR_ADDED).count()
    again = services.add_trust_anchors(admin, pki.root.certificate.public_bytes(serialization.Encoding.PEM))
    assert len(again) == 1 and TrustAnchor.objects.filter(is_active=True).count() == 2
    assert AuditEvent.objects.filter(verb=events.TRUST_ANCHOR_ADDED).count() == before  # nothing changed
    for anchor in TrustAnchor.objects.filter(is_active=True):
        services.remove_trust_anchor(admin, anchor)
    assert AuditEvent.objects.filter(verb=events.TRUST_ANCHOR_REMOVED).count() == 2
    # With its CAs no longer trusted (a trusted issuing CA alone would still anchor the chain), a
    # certificate of this PKI chains to nothing trusted.
    refused(lambda: services.import_pkcs12(o.handler, personal(o.handler), pki.add_person("c", "C").to_pkcs12(b"pw"),
                                           "pw"))
