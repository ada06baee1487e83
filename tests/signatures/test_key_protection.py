"""Issue 4, "Certificates and keys": stored private keys never appear in clear in the admin, the web pages, the
API, the logs, object reprs, audit events, signed files or database dumps; and a dump restored under another
key-encryption key (KEK) cannot sign.

"Key material" is searched in every form a leak could take: PEM ("PRIVATE KEY" and body lines), the PKCS#8
and PKCS#1 DER of each stored key in base64 (standard and URL-safe, at every byte alignment) and hex, the
private exponent in decimal and hex, and, where even the encrypted form must not show, the first bytes of the
encrypted blob in base64 and hex. The keys are recomputed from the demo PKI that the `signed_setup` fixture
installs, never decrypted from the database.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives import serialization
from django.contrib import admin as django_admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import translation
from django.utils.html import escape
from rest_framework.test import APIClient

from audit.models import AuditEvent
from demo import pki as demo_pki
from signatures import events, keys, services, signing, verifying
from signatures.models import (
    CredentialKind,
    FileVerification,
    KeyStorage,
    SigningCredential,
    SigningRequest,
    SigningState,
    TrustAnchor,
)
from signatures.pki import DemoPki, Identity
from signatures.signers import SigningUnavailable
from signatures.verification import Verdict
from tests.factories import PASSWORD
from workflows import draft_signing
from workflows.drafting import DraftState

pytestmark = pytest.mark.django_db

FORBIDDEN_FIELDS = {"encrypted_key", "encrypted_pin", "private_key", "certificate_der", "crl_der"}


# --- what leaked key material looks like -------------------------------------------------------------------


def key_forms(private_key) -> list[str]:
    """Text forms in which `private_key` could leak into a page, a log line or a dump."""
    forms = ["PRIVATE KEY"]
    for private_format in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        der = private_key.private_bytes(serialization.Encoding.DER, private_format, serialization.NoEncryption())
        middle = len(der) // 2  # past the algorithm header every RSA key shares: these bytes are this key's
        for shift in range(3):  # base64 of an embedded value shows whole only at its own alignment
            chunk = der[middle + shift : middle + shift + 45]
            forms += [base64.b64encode(chunk).decode(), base64.urlsafe_b64encode(chunk).decode()]
        forms += [der[middle : middle + 32].hex(), der[middle : middle + 32].hex().upper()]
    for private_format in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        pem = private_key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())
        body = pem.decode().splitlines()[1:-1]
        forms += body[len(body) // 2 : len(body) // 2 + 3]  # the primes, not the public modulus at the start
    exponent = private_key.private_numbers().d
    forms += [str(exponent)[100:160], format(exponent, "x")[100:164]]
    return forms


def found(needles: list[str], text: str) -> list[str]:
    """The needles in `text`, also across line breaks (base64 wrapped over lines, escaped in JSON)."""
    compact = re.sub(r"\s+|\\[nr]", "", text)
    return [needle for needle in needles if needle in text or needle in compact]


def key_bytes(private_key) -> list[bytes]:
    """Binary forms of `private_key`, for files (a signed PDF must carry the certificate, never the key)."""
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return [b"PRIVATE KEY", der[len(der) // 2 : len(der) // 2 + 32]]


def blob_forms(blob: bytes) -> list[str]:
    """How the encrypted blob would show if a page or log printed it (its first bytes: format tag and nonce)."""
    head = blob[:24]
    return [
        base64.b64encode(head).decode(),
        base64.urlsafe_b64encode(head).decode(),
        head.hex(),
        head[4:].hex().upper(),
        repr(head)[2:-1],
    ]


@dataclass
class KeyedOffice:
    """`signed_setup`'s office and draft, with the demo identities behind each stored credential."""

    office: object
    draft: object
    identities: dict[int, Identity]  # credential pk -> the identity whose key was imported
    secrets: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)

    def leaks(self, text: str, *, blobs: bool = True) -> list[str]:
        needles = self.secrets + (self.blobs if blobs else [])
        return found(needles, text)

    def credential_of(self, user) -> SigningCredential:
        return SigningCredential.objects.get(user=user, kind=CredentialKind.PERSONAL, is_active=True)

    @property
    def seal(self) -> SigningCredential:
        return SigningCredential.objects.get(agency=self.office.agency, kind=CredentialKind.SEAL, is_active=True)


@pytest.fixture
def demo_pkis(monkeypatch) -> list[DemoPki]:
    """Every demo PKI the shared fixtures install, kept so the tests can recompute the keys that were stored."""
    from tests.signatures import conftest as shared

    built: list[DemoPki] = []

    def install_and_keep(actor, agencies, **options):
        installed = demo_pki.install(actor, agencies, **options)
        built.append(installed.pki)
        return installed

    monkeypatch.setattr(shared, "install", install_and_keep)
    return built


@pytest.fixture
def keyed(demo_pkis, signed_setup) -> KeyedOffice:
    o, draft = signed_setup
    assert demo_pkis, "signed_setup no longer installs the demo PKI through conftest.install"
    by_fingerprint = {
        keys.fingerprint(identity.certificate): identity for pki in demo_pkis for identity in pki.identities()
    }
    stored = list(SigningCredential.objects.filter(key_storage=KeyStorage.STORED))
    keyed = KeyedOffice(o, draft, {c.pk: by_fingerprint[c.fingerprint] for c in stored})
    assert len(stored) >= 4  # the seal, the leader, the unit leader and the clerk at least
    for credential in stored:
        keyed.secrets += key_forms(keyed.identities[credential.pk].private_key)
        keyed.blobs += blob_forms(bytes(credential.encrypted_key))
    # The needles are secret only: none of them is found in the public certificates, however encoded.
    assert found(keyed.secrets, public_forms(keyed.identities.values())) == []
    return keyed


def public_forms(identities) -> str:
    """Every certificate of `identities` as a page or dump may rightly show it (DER in base64 at each
    alignment, hex, PEM)."""
    texts = []
    for identity in identities:
        der = identity.certificate.public_bytes(serialization.Encoding.DER)
        texts += [base64.b64encode(b"x" * shift + der).decode() for shift in range(3)] + [der.hex()]
        texts.append(identity.certificate.public_bytes(serialization.Encoding.PEM).decode())
    return "\n".join(texts)


@pytest.fixture
def every_log(caplog):
    """Capture every record of every logger at DEBUG, SQL statements with their parameters included."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:
                logger.addHandler(caplog.handler)
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = False
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and caplog.handler in logger.handlers:
            logger.removeHandler(caplog.handler)


def log_text(caplog) -> str:
    """Every captured record as a handler would write it: message, arguments and traceback."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


@pytest.fixture
def fresh_key_holders():
    """The per-process key holder cache, empty before and after (a holder outlives a settings change)."""
    signing._HOLDERS.clear()
    yield
    signing._HOLDERS.clear()


def sign_as_leader(keyed: KeyedOffice, capture) -> SigningRequest:
    with capture(execute=False):
        request = draft_signing.request_personal_signature(keyed.office.leader, keyed.draft, password=PASSWORD)
    assert signing.run_signing_request(request.pk) == "done"
    request.refresh_from_db()
    return request


def read_blob(blob) -> bytes:
    from documents.storage import open_verified

    with open_verified(blob) as handle:
        return handle.read()


# --- the admin and the web pages ----------------------------------------------------------------------------


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _admin_url(model, suffix: str = "") -> str:
    return f"/admin/signatures/{model._meta.model_name}/{suffix}"


def test_admin_pages_show_certificates_by_fingerprint_and_never_key_material(
    keyed, superuser_actor, django_capture_on_commit_callbacks
):
    request = sign_as_leader(keyed, django_capture_on_commit_callbacks)
    verifying.request_verification(request.result_blob)
    assert verifying.verify_stored_file(request.result_blob_id) in (Verdict.VALID, Verdict.VALID_WITH_WARNINGS)
    client = staff_client(superuser_actor)
    leader_credential = keyed.credential_of(keyed.office.leader)

    listing = client.get(_admin_url(SigningCredential))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert leader_credential.fingerprint[:16] in body
    assert keyed.leaks(body) == []

    page = client.get(_admin_url(SigningCredential, f"{leader_credential.pk}/change/"))
    assert page.status_code == 200
    body = page.content.decode()
    grouped = ":".join(leader_credential.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    assert grouped in body and leader_credential.serial in body and "AES-256-GCM" in body
    assert keyed.leaks(body) == []

    others = [
        (TrustAnchor, TrustAnchor.objects.first()),
        (SigningRequest, request),
        (FileVerification, FileVerification.objects.get(blob=request.result_blob)),
    ]
    for model, obj in others:
        for url in (_admin_url(model), _admin_url(model, f"{obj.pk}/change/")):
            response = client.get(url)
            assert response.status_code == 200, url
            assert keyed.leaks(response.content.decode()) == [], url


@pytest.mark.parametrize("model", [TrustAnchor, SigningCredential, SigningRequest, FileVerification])
def test_nobody_adds_changes_or_deletes_in_the_admin_not_even_a_superuser(
    keyed, superuser_actor, django_capture_on_commit_callbacks, model
):
    request = sign_as_leader(keyed, django_capture_on_commit_callbacks)
    verifying.request_verification(request.result_blob)
    obj = model.objects.order_by("pk").first()
    assert obj is not None
    client = staff_client(superuser_actor)

    listing = client.get(_admin_url(model)).content.decode()
    assert _admin_url(model, "add/") not in listing
    assert client.get(_admin_url(model, "add/")).status_code == 403
    assert client.post(_admin_url(model, "add/"), {}).status_code == 403

    page = client.get(_admin_url(model, f"{obj.pk}/change/"))
    assert page.status_code == 200  # viewing is allowed
    assert 'name="_save"' not in page.content.decode() and "/delete/" not in page.content.decode()
    assert client.post(_admin_url(model, f"{obj.pk}/change/"), {}).status_code == 403
    assert client.get(_admin_url(model, f"{obj.pk}/delete/")).status_code == 403
    assert client.post(_admin_url(model, f"{obj.pk}/delete/"), {"post": "yes"}).status_code == 403
    client.post(_admin_url(model), {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
    assert model.objects.filter(pk=obj.pk).exists()

    http_request = RequestFactory().get("/admin/")
    http_request.user = superuser_actor
    model_admin = django_admin.site._registry[model]
    assert not model_admin.has_add_permission(http_request)
    assert not model_admin.has_change_permission(http_request, obj)
    assert not model_admin.has_delete_permission(http_request, obj)
    assert model_admin.has_view_permission(http_request, obj)


def test_admin_search_and_filters_work_and_staff_see_only_their_agency(keyed, superuser_actor):
    from accounts import roles
    from tests.factories import make_user

    seal = keyed.seal
    client = staff_client(superuser_actor)
    found = client.get(_admin_url(SigningCredential), {"q": seal.fingerprint[:20]}).content.decode()
    assert seal.fingerprint[:16] in found
    expired = client.get(_admin_url(SigningCredential), {"validity": "expired"}).content.decode()
    assert seal.fingerprint[:16] not in expired
    for model, params in [
        (SigningCredential, {"kind__exact": "seal", "is_active__exact": "1", "validity": "valid"}),
        (TrustAnchor, {"is_root__exact": "1", "validity": "expiring", "q": "CN"}),
        (SigningRequest, {"state__exact": "failed", "kind__exact": "personal", "q": "x"}),
        (FileVerification, {"verdict__exact": "invalid", "q": "x"}),
    ]:
        assert client.get(_admin_url(model), params).status_code == 200, model

    insider = make_user(roles.ADMINISTRATOR, keyed.office.agency, is_staff=True)
    outsider = make_user(roles.ADMINISTRATOR, keyed.office.outsider.agency, is_staff=True)
    assert seal.fingerprint[:16] in staff_client(insider).get(_admin_url(SigningCredential)).content.decode()
    assert seal.fingerprint[:16] not in staff_client(outsider).get(_admin_url(SigningCredential)).content.decode()
    assert staff_client(outsider).get(_admin_url(SigningCredential, f"{seal.pk}/change/")).status_code == 302


def test_the_certificates_page_shows_no_key_material(keyed):
    for person in (keyed.office.leader, keyed.office.clerk):
        page = staff_client(person).get("/signatures/certificates/")
        assert page.status_code == 200
        body = page.content.decode()
        assert escape(keyed.credential_of(person).subject) in body
        assert keyed.leaks(body) == []


# --- database dumps and backups -----------------------------------------------------------------------------


def test_dumps_hold_keys_only_encrypted(keyed):
    out = io.StringIO()
    call_command("dumpdata", "signatures", stdout=out)
    dump = out.getvalue()
    assert keyed.leaks(dump, blobs=False) == []
    # The keys are in the dump, but only as the encrypted blobs (the backup restores them, the KEK decrypts).
    credentials = [row for row in json.loads(dump) if row["model"] == "signatures.signingcredential"]
    stored = [row for row in credentials if row["fields"]["key_storage"] == KeyStorage.STORED]
    assert len(stored) == len(keyed.identities)
    for row in stored:
        assert base64.b64decode(row["fields"]["encrypted_key"]).startswith(keys.BLOB_FORMAT)

    everything = io.StringIO()
    call_command("dumpdata", exclude=["contenttypes", "auth.permission", "sessions"], stdout=everything)
    assert keyed.leaks(everything.getvalue(), blobs=False) == []


def test_a_dump_restored_under_another_kek_cannot_sign(
    keyed, settings, fresh_key_holders, django_capture_on_commit_callbacks, every_log
):
    """The database alone (a stolen backup, a copy on another server) is useless for signing: the KEK that
    decrypts the keys lives in the environment of this installation only."""
    o, draft = keyed.office, keyed.draft
    original_kek = settings.SIGNING_KEY_ENCRYPTION_KEY
    settings.SIGNING_KEY_ENCRYPTION_KEY = keys.generate_kek()
    with django_capture_on_commit_callbacks(execute=False):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    with translation.override("en"):  # the worker's language; the reason is stored as it reads then
        assert signing.run_signing_request(request.pk) == "failed"

    request.refresh_from_db()
    assert request.state == SigningState.FAILED and "cannot be decrypted" in request.error
    draft.refresh_from_db()
    assert draft.state == DraftState.READY_TO_SIGN and draft.versions.count() == 1
    assert not AuditEvent.objects.filter(verb=events.SIGNING_DONE).exists()
    failure = AuditEvent.objects.get(verb=events.SIGNING_FAILED)
    for text in (request.error, json.dumps(failure.data, default=str), log_text(every_log)):
        assert keyed.leaks(text) == []
        assert original_kek not in text and settings.SIGNING_KEY_ENCRYPTION_KEY not in text

    # Back on the installation that holds the right KEK, the same request signs.
    settings.SIGNING_KEY_ENCRYPTION_KEY = original_kek
    signing._HOLDERS.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.retry(o.leader, request, password=PASSWORD)
    request.refresh_from_db()
    assert request.state == SigningState.DONE, request.error


# --- the API ------------------------------------------------------------------------------------------------


def _field_names(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {name for item in value.values() for name in _field_names(item)}
    if isinstance(value, list):
        return {name for item in value for name in _field_names(item)}
    return set()


def test_the_api_never_returns_key_material(keyed, django_capture_on_commit_callbacks, monkeypatch):
    o, draft = keyed.office, keyed.draft
    leader, clerk = APIClient(), APIClient()
    leader.force_authenticate(o.leader)
    clerk.force_authenticate(o.clerk)
    answers = []

    # Signing fails first (the token is away) and is retried: failure answers carry no more than success.
    monkeypatch.setattr(signing, "key_holder", _unavailable)
    with django_capture_on_commit_callbacks(execute=True):
        signed = leader.post(f"/api/v1/drafts/{draft.pk}/sign/", {"password": PASSWORD}, format="json")
    assert signed.status_code == 202, signed.content
    request_id = signed.json()["id"]
    answers += [signed, leader.get(f"/api/v1/signing-requests/{request_id}/")]
    assert answers[-1].json()["state"] == SigningState.FAILED and answers[-1].json()["error"]
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        answers.append(leader.post(f"/api/v1/signing-requests/{request_id}/retry/", {"password": PASSWORD}))
    answers.append(leader.get(f"/api/v1/signing-requests/{request_id}/"))
    assert answers[-1].json()["state"] == SigningState.DONE
    with django_capture_on_commit_callbacks(execute=True):
        sealed = clerk.post(f"/api/v1/drafts/{draft.pk}/seal/", {"password": PASSWORD}, format="json")
    answers += [sealed, clerk.get(f"/api/v1/signing-requests/{sealed.json()['id']}/")]
    assert answers[-1].json()["state"] == SigningState.DONE

    signed_pdf = read_blob(SigningRequest.objects.get(pk=sealed.json()["id"]).result_blob)
    upload = SimpleUploadedFile("signed.pdf", signed_pdf, "application/pdf")
    verified = leader.post("/api/v1/signatures/verify/", {"file": upload}, format="multipart")
    assert verified.status_code == 200 and verified.json()["signatures"]
    answers.append(verified)

    for answer in answers:
        assert answer.status_code in (200, 202), answer.content
        assert _field_names(answer.json()).isdisjoint(FORBIDDEN_FIELDS), answer.json()
        assert keyed.leaks(answer.content.decode()) == []
    schema = leader.get("/api/schema/").content.decode()
    assert not any(name in schema for name in ("encrypted_key", "encrypted_pin"))


def _unavailable(credential):
    raise SigningUnavailable("The token is not connected.")


# --- logs, signed files and reprs ---------------------------------------------------------------------------


def test_signing_and_sealing_log_no_key_material_and_the_files_carry_none(
    keyed, every_log, django_capture_on_commit_callbacks
):
    o, draft = keyed.office, keyed.draft
    request = sign_as_leader(keyed, django_capture_on_commit_callbacks)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    assert signing.run_signing_request(seal.pk) == "done"
    seal.refresh_from_db()

    text = log_text(every_log)
    assert any(record.name == "django.db.backends" for record in every_log.records)  # DEBUG really captured
    assert keyed.leaks(text) == []
    for signed in (read_blob(request.result_blob), read_blob(seal.result_blob)):
        for credential_pk, identity in keyed.identities.items():
            assert not any(secret in signed for secret in key_bytes(identity.private_key)), credential_pk


def test_a_failing_signing_logs_no_key_material(keyed, every_log, monkeypatch, django_capture_on_commit_callbacks):
    o, draft = keyed.office, keyed.draft
    monkeypatch.setattr(signing, "key_holder", _unavailable)
    with django_capture_on_commit_callbacks(execute=False):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    assert signing.run_signing_request(request.pk) == "failed"
    request.refresh_from_db()
    assert "token" in request.error
    monkeypatch.undo()

    # The key is loaded (decrypted in memory), then the engine breaks: the traceback is logged, not the key.
    def engine_breaks(pdf, holder, **options):
        holder.sign(b"probe", "sha256")
        raise RuntimeError(f"the engine broke while holding {holder!r}")

    monkeypatch.setattr(signing.engine, "sign_personal", engine_breaks)
    with django_capture_on_commit_callbacks(execute=False):
        services.retry(o.leader, request, password=PASSWORD)
    assert signing.run_signing_request(request.pk) == "failed"

    text = log_text(every_log)
    assert "the engine broke" in text and "Traceback" in text
    assert keyed.leaks(text) == []
    request.refresh_from_db()
    assert keyed.leaks(request.error) == []
    draft.refresh_from_db()
    assert draft.state == DraftState.READY_TO_SIGN


def test_reprs_show_no_key_material(keyed, fresh_key_holders, settings):
    kek_texts = (services.kek().hex(), settings.SIGNING_KEY_ENCRYPTION_KEY)
    for credential in SigningCredential.objects.filter(key_storage=KeyStorage.STORED):
        identity = keyed.identities[credential.pk]
        holder = signing.key_holder(credential)
        before = repr(holder) + str(holder)
        holder.sign(b"probe", "sha256")
        texts = [repr(credential), str(credential), before, repr(holder), str(holder), repr(identity)]
        texts.append(repr(keys.load_pkcs12(identity.to_pkcs12(b"pw"), "pw")))
        for text in texts:
            assert keyed.leaks(text) == [], text
            assert not any(kek_text in text for kek_text in kek_texts)
        assert "loaded" in repr(holder)  # the holder really holds the clear key now


# --- imports: audit trail, logs, dumps ----------------------------------------------------------------------


def test_imports_record_no_key_password_or_pin(keyed, demo_pkis, superuser_actor, every_log):
    o = keyed.office
    pki = demo_pkis[-1]
    p12_password, pin = "Mật-khẩu-p12-7Zq!", "PIN-4921-xq"
    newcomer = pki.add_person("nguoi.moi", o.handler.display_name)  # each certificate names its owner
    token_holder = pki.add_person("token.holder", o.colleague.display_name)
    imported = services.import_pkcs12(
        superuser_actor,
        services.CredentialInput(kind=CredentialKind.PERSONAL, user=o.handler),
        newcomer.to_pkcs12(p12_password.encode()),
        p12_password,
    )
    on_token = services.import_certificate(
        superuser_actor,
        services.CredentialInput(kind=CredentialKind.PERSONAL, user=o.colleague),
        token_holder.certificate.public_bytes(serialization.Encoding.PEM),
        key_storage=KeyStorage.PKCS11,
        token_label="eoffice",
        key_label="colleague",
        pin=pin,
    )
    assert imported.key_storage == KeyStorage.STORED and on_token.encrypted_pin
    secrets = keyed.secrets + key_forms(newcomer.private_key) + [p12_password, pin, pin.encode().hex()]

    events_data = list(AuditEvent.objects.filter(verb=events.CREDENTIAL_IMPORTED).values_list("data", flat=True))
    assert len(events_data) == len(keyed.identities) + 2
    audit_text = json.dumps(list(AuditEvent.objects.values("verb", "target_repr", "data")), default=str)
    # Not even the encrypted key or PIN goes into the trail (audit exports travel further than backups).
    encrypted = keyed.blobs + blob_forms(bytes(imported.encrypted_key)) + blob_forms(bytes(on_token.encrypted_pin))
    assert found(secrets + encrypted, audit_text) == []
    for data in events_data:
        assert not [name for name in data if any(word in name for word in ("encrypted", "private", "pin", "pass"))]
        assert data["fingerprint"] and data["key_storage"]

    logged = log_text(every_log)
    assert found(secrets, logged) == []
    out = io.StringIO()
    call_command("dumpdata", "signatures", "audit", stdout=out)
    assert found(secrets, out.getvalue()) == []
