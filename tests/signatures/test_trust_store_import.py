"""The trust store from files in the admin: a superuser imports the national root and the licensed public CAs
from one bundle (PKCS#7 or PEM) in one go through the audited service; nobody else can; the admin lists and
the certificates page show each certificate's expiry with the days left, red once expired."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from accounts import roles
from audit.models import AuditEvent
from signatures import events
from signatures.expiry import expiry_html
from signatures.models import KeyStorage, SigningCredential, TrustAnchor
from signatures.pki import build_demo_pki
from tests.factories import AgencyFactory, make_user

pytestmark = pytest.mark.django_db

URL = "/admin/signatures/trustanchor/import/"


@pytest.fixture(scope="module")
def authorities():
    pki = build_demo_pki()
    return [pki.root.certificate, pki.issuing_ca.certificate]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("form", ["p7b", "pem"])
def test_a_superuser_imports_a_bundle_of_ca_certificates_in_one_go(superuser_actor, authorities, form):
    if form == "p7b":
        data, name = pkcs7.serialize_certificates(authorities, serialization.Encoding.DER), "ca.p7b"
    else:
        data = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in authorities)
        name = "ca.pem"
    client = client_for(superuser_actor)
    page = client.get("/admin/signatures/trustanchor/")
    assert URL in page.content.decode()
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TrustAnchor.objects.filter(is_active=True).count() == 2
    assert AuditEvent.objects.filter(verb=events.TRUST_ANCHOR_ADDED).count() == 2
    listing = client.get("/admin/signatures/trustanchor/").content.decode()
    assert "expiry-ok" in listing and "signatures/expiry.css" in listing


def test_a_file_without_certificates_is_refused_and_changes_nothing(superuser_actor):
    response = client_for(superuser_actor).post(URL, {"file": SimpleUploadedFile("x.p7b", b"not a certificate")})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not TrustAnchor.objects.exists()


def test_only_superusers_may_import(authorities):
    admin = make_user(roles.ADMINISTRATOR, AgencyFactory(), is_staff=True)
    data = pkcs7.serialize_certificates(authorities, serialization.Encoding.DER)
    response = client_for(admin).post(URL, {"file": SimpleUploadedFile("ca.p7b", data)})
    assert response.status_code in (302, 403)
    assert not TrustAnchor.objects.exists()
    assert URL not in client_for(admin).get("/admin/signatures/trustanchor/").content.decode()


def test_expiry_shows_days_left_and_expired_in_red():
    now = timezone.now()
    with translation.override("en"):
        assert "expiry-expired" in expiry_html(now - dt.timedelta(days=1), now)
        assert "(expired)" in expiry_html(now - dt.timedelta(days=1), now)
        soon = expiry_html(now + dt.timedelta(days=20, hours=1), now)
        assert "expiry-soon" in soon and "20 days left" in soon
        assert "expiry-ok" in expiry_html(now + dt.timedelta(days=200, hours=1), now)
    assert expiry_html(None) == "-"


def test_the_certificates_page_shows_the_expiry():
    agency = AgencyFactory()
    admin = make_user(roles.ADMINISTRATOR, agency)
    now = timezone.now()
    SigningCredential.objects.create(
        kind="seal", agency=agency, certificate_der=b"x", fingerprint="f" * 64, subject="CN=Seal", issuer="CN=CA",
        serial="1", not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=2),
        key_storage=KeyStorage.EXTERNAL)
    page = client_for(admin).get("/signatures/certificates/").content.decode()
    assert "expiry-expired" in page
