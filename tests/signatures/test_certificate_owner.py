"""A personal certificate must be its person's (issue 11): a clerk who imports a leader's certificate as
their own is refused with a clear message, and the refusal changes nothing (the clerk's working credential
stays active, nothing is stored, nothing is audited). The certificate names its owner by name (Vietnamese
folded), e-mail address (subject or subjectAltName) or user id; otherwise only an administrator of the
person's agency can confirm the owner, recorded in the audit event, and never for their own certificate."""

from __future__ import annotations

import unicodedata

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from accounts import roles
from audit.models import AuditEvent
from demo.pki import install
from signatures import events, ownership, services
from signatures.models import CredentialKind, KeyStorage, SigningCredential
from tests.factories import make_user
from tests.workflows.helpers import office

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(superuser_actor):
    """An office whose clerk and leader hold their demo certificates, plus the certificate of the leader of
    another agency (lanhdao.ubnd's, for the clerk of Sở Nội vụ in the review)."""
    o = office()
    pki = install(superuser_actor, [o.agency]).pki
    pki.add_person(o.outsider.username, o.outsider.display_name)
    o.admin = make_user(roles.ADMINISTRATOR, o.agency, full_name="Đinh Quản Trị")
    return o, pki


def personal(user, **options) -> services.CredentialInput:
    return services.CredentialInput(kind=CredentialKind.PERSONAL, user=user, **options)


def p12(identity) -> bytes:
    return identity.to_pkcs12(b"pw")


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def state() -> tuple:
    """Everything a refused import must leave as it was."""
    return (list(SigningCredential.objects.order_by("pk").values_list("pk", "is_active")), AuditEvent.objects.count())


def reissued(pki, base_name: str, *, subject: list[x509.NameAttribute], emails: tuple[str, ...] = ()):
    """A certificate of the demo issuing CA with a chosen subject (and e-mail addresses in subjectAltName)."""
    base = pki.issue(base_name).certificate
    builder = (x509.CertificateBuilder().subject_name(x509.Name(subject)).issuer_name(base.issuer)
               .public_key(base.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(base.not_valid_before_utc).not_valid_after(base.not_valid_after_utc))
    for extension in base.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    if emails:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(e) for e in emails]),
                                        critical=False)
    return builder.sign(pki.issuing_ca.private_key, hashes.SHA256())


# --- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("whose", ["leader", "outsider"])
def test_a_clerk_importing_another_persons_certificate_is_refused_and_nothing_changes(setup, whose):
    o, pki = setup
    working = SigningCredential.objects.get(user=o.clerk, is_active=True)
    other = getattr(o, whose)
    before = state()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.import_pkcs12(o.clerk, personal(o.clerk), p12(pki.people[other.username]), "pw")
    message = " ".join(refused.value.messages)
    assert other.display_name in message and o.clerk.display_name in message
    assert "Nothing was imported" in message and "administrator" in message
    with translation.override("en"), pytest.raises(ValidationError) as refused:  # the certificate alone: same rule
        services.import_certificate(o.clerk, personal(o.clerk), pem(pki.people[other.username].certificate),
                                    key_storage=KeyStorage.PKCS11, token_label="t", key_label="k", pin="1234")
    assert other.display_name in " ".join(refused.value.messages)
    assert state() == before
    working.refresh_from_db()
    assert working.is_active and working.deactivated_at is None


def test_the_message_is_vietnamese_by_default(setup):
    o, pki = setup
    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        services.import_pkcs12(o.clerk, personal(o.clerk), p12(pki.people[o.leader.username]), "pw")
    assert "Chứng thư số này được cấp cho" in " ".join(refused.value.messages)


def test_a_non_administrator_cannot_confirm_the_owner(setup):
    o, pki = setup
    before = state()
    for actor in (o.clerk, o.leader):  # for themselves: no confirmation, whatever the box says
        with pytest.raises(PermissionDenied):
            services.import_pkcs12(actor, personal(actor, confirm_owner=True), p12(pki.people[o.outsider.username]),
                                   "pw")
    assert state() == before


def test_an_administrator_never_confirms_their_own_certificate(setup):
    o, pki = setup
    stranger = pki.issue("Người Khác Hẳn")
    with pytest.raises(PermissionDenied):
        services.import_pkcs12(o.admin, personal(o.admin, confirm_owner=True), p12(stranger), "pw")
    assert not SigningCredential.objects.filter(user=o.admin).exists()


def test_an_active_certificate_of_another_person_is_refused_even_when_confirmed(setup):
    o, pki = setup
    before = state()
    leader_cert = pki.people[o.leader.username]
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.import_pkcs12(o.admin, personal(o.clerk, confirm_owner=True), p12(leader_cert), "pw")
    assert "already the active certificate of another person" in " ".join(refused.value.messages)
    assert state() == before


# --- accepted -----------------------------------------------------------------------------------------------


def test_the_owners_certificate_is_accepted_and_replaces_the_previous_one(setup):
    o, pki = setup
    previous = SigningCredential.objects.get(user=o.clerk, is_active=True)
    renewed = pki.add_person("clerk-renewed", o.clerk.display_name)
    credential = services.import_pkcs12(o.clerk, personal(o.clerk), p12(renewed), "pw")
    previous.refresh_from_db()
    assert credential.is_active and not previous.is_active
    event = AuditEvent.objects.get(verb=events.CREDENTIAL_IMPORTED, target_id=str(credential.pk))
    assert event.data["owner_evidence"] == ownership.NAME and "owner_confirmed_by" not in event.data


def test_the_owner_is_recognised_by_a_folded_name_an_email_or_the_user_id(setup):
    o, pki = setup
    o.clerk.full_name, o.clerk.email = "Nguyễn Thị Thuỷ", "thuy.nt@snv.hoabinh.gov.vn"
    o.clerk.save(update_fields=["full_name", "email"])
    decomposed = unicodedata.normalize("NFD", "NGUYỄN THỊ THỦY")  # new tone placement, capitals, NFD
    cases = [
        ([x509.NameAttribute(NameOID.COMMON_NAME, decomposed)], (), ownership.NAME),
        ([x509.NameAttribute(NameOID.COMMON_NAME, "NGUYEN THI THUY")], (), ownership.NAME),  # CA without marks
        ([x509.NameAttribute(NameOID.COMMON_NAME, "Văn thư Sở")], ("THUY.NT@snv.hoabinh.gov.vn",), ownership.EMAIL),
        ([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "thuy.nt@snv.hoabinh.gov.vn"),
          x509.NameAttribute(NameOID.COMMON_NAME, "Văn thư Sở")], (), ownership.EMAIL),
        ([x509.NameAttribute(NameOID.USER_ID, o.clerk.username), x509.NameAttribute(NameOID.COMMON_NAME, "VT")], (),
         ownership.USER_ID),
    ]
    for subject, emails, evidence in cases:
        certificate = reissued(pki, "x", subject=subject, emails=emails)
        credential = services.import_certificate(o.clerk, personal(o.clerk), pem(certificate))
        event = AuditEvent.objects.get(verb=events.CREDENTIAL_IMPORTED, target_id=str(credential.pk))
        assert event.data["owner_evidence"] == evidence, subject


def test_names_are_compared_with_their_marks_when_the_certificate_has_them():
    assert ownership.names_match("Lê Văn Xử", "lê văn xử")
    assert ownership.names_match("Nguyễn Văn Hoà", "Nguyễn Văn Hòa")  # old and new tone placement
    assert ownership.names_match("\u00d0inh Văn An", "Đinh Văn An")  # Icelandic Ð typed for Đ
    assert ownership.names_match("LE VAN XU", "Lê Văn Xử")  # a CA that writes no marks
    assert not ownership.names_match("Lê Văn Xù", "Lê Văn Xử")  # marks given: they must match
    assert not ownership.names_match("Lê Văn", "Lê Văn Xử")
    assert not ownership.names_match("", "")


def test_an_administrator_confirms_a_mismatch_and_it_is_audited(setup):
    o, pki = setup
    previous = SigningCredential.objects.get(user=o.clerk, is_active=True)
    bought = pki.issue("Cong Ty TNHH Van Thu")  # e.g. a token bought under the wrong name
    with pytest.raises(ValidationError):  # the administrator too must confirm explicitly
        services.import_pkcs12(o.admin, personal(o.clerk), p12(bought), "pw")
    previous.refresh_from_db()
    assert previous.is_active
    credential = services.import_pkcs12(o.admin, personal(o.clerk, confirm_owner=True), p12(bought), "pw")
    previous.refresh_from_db()
    assert credential.user == o.clerk and credential.is_active and not previous.is_active
    event = AuditEvent.objects.get(verb=events.CREDENTIAL_IMPORTED, target_id=str(credential.pk))
    assert event.actor_id == o.admin.pk
    assert event.data["owner_evidence"] == "confirmed_by_administrator"
    assert event.data["owner_confirmed_by"] == o.admin.pk and event.data["certificate_holder"] == "Cong Ty TNHH Van Thu"


# --- the certificates page --------------------------------------------------------------------------------


def page_for(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def test_the_page_explains_the_refusal_and_offers_the_confirmation_to_administrators_only(setup):
    o, pki = setup
    before = state()
    clerk_page = page_for(o.clerk)
    response = clerk_page.post("/signatures/certificates/", {
        "action": "pkcs12", "password": "pw",
        "file": SimpleUploadedFile("lanhdao.p12", p12(pki.people[o.outsider.username]), "application/x-pkcs12"),
    }, follow=True)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and o.outsider.display_name in errors[0] and "Nothing was imported" in errors[0]
    assert 'name="confirm_owner"' not in response.content.decode()
    # The box is not for clerks: sent anyway, it is ignored by the form and the import is still refused.
    clerk_page.post("/signatures/certificates/", {
        "action": "pkcs12", "password": "pw", "confirm_owner": "on",
        "file": SimpleUploadedFile("lanhdao.p12", p12(pki.people[o.outsider.username]), "application/x-pkcs12"),
    })
    assert state() == before

    admin_page = page_for(o.admin)
    assert 'name="confirm_owner"' in admin_page.get("/signatures/certificates/").content.decode()
    bought = pki.issue("Cong Ty TNHH Van Thu")
    response = admin_page.post("/signatures/certificates/", {
        "action": "pkcs12", "password": "pw", "for": "person", "person": o.clerk.pk, "confirm_owner": "on",
        "file": SimpleUploadedFile("vanthu.p12", p12(bought), "application/x-pkcs12"),
    })
    assert response.status_code == 302
    credential = SigningCredential.objects.get(user=o.clerk, is_active=True)
    event = AuditEvent.objects.get(verb=events.CREDENTIAL_IMPORTED, target_id=str(credential.pk))
    assert event.data["owner_confirmed_by"] == o.admin.pk
