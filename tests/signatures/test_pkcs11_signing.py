"""The whole path with the leader's key on a PKCS#11 token (SoftHSM2): an administrator imports the certificate
with the token label, key label and PIN; the leader asks for a signature; the signing task signs on the token;
the signed PDF verifies with the token's certificate. A wrong PIN, an absent token, a wrong key label or a
server without a PKCS#11 module fail the request with a reason the user can read, leave the draft as it was,
and a retry after the fix signs."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from demo import pki as demo_pki
from documents.storage import open_verified
from signatures import events, keys, services, signing
from signatures.models import CredentialKind, KeyStorage, SigningCredential, SigningRequest, SigningState
from signatures.pkcs11_keys import close_all_sessions
from signatures.pki import DemoPki, build_demo_pki
from signatures.verification import Verdict, verify_pdf
from tests.factories import PASSWORD
from tests.signatures import poppler
from tests.signatures.softhsm import (  # noqa: F401 - softhsm_fixture is the `softhsm` fixture
    PIN,
    RSA_KEY_LABEL,
    SoftHsm,
    softhsm_fixture,
    token_outside_the_store,
)
from workflows import draft_signing
from workflows.drafting import DraftState

pytestmark = pytest.mark.django_db
WRONG_PIN = "not-the-pin"


@dataclass
class TokenOffice:
    office: object
    draft: object
    pki: DemoPki
    certificate: x509.Certificate
    """Issued by the installed demo PKI for the RSA key generated on `softhsm.token`."""
    softhsm: SoftHsm


@pytest.fixture(autouse=True)
def independent_key_holders():
    """Key holders are cached per worker process (and token logins with them): each test starts afresh."""
    signing._HOLDERS.clear()
    yield
    signing._HOLDERS.clear()
    close_all_sessions()


@pytest.fixture
def installed_pki(monkeypatch) -> list[DemoPki]:
    """The demo PKI that `signed_setup` installs (it keeps only the office and the draft): its issuing CA
    issues the token's certificate, so the certificate chains to the trust store like a real one."""
    built: list[DemoPki] = []

    def recording_build(**options) -> DemoPki:
        built.append(build_demo_pki(**options))
        return built[-1]

    monkeypatch.setattr(demo_pki, "build_demo_pki", recording_build)
    return built


@pytest.fixture
def token_office(installed_pki, signed_setup, softhsm, settings) -> TokenOffice:
    settings.SIGNING_PKCS11_MODULE = softhsm.module
    (pki,) = installed_pki
    o, draft = signed_setup
    certificate = pki.issue_for_public_key(o.leader.display_name, softhsm.rsa_public_key)
    return TokenOffice(o, draft, pki, certificate, softhsm)


def import_token_certificate(
    actor,
    setup: TokenOffice,
    *,
    certificate: x509.Certificate | None = None,
    token_label: str = "",
    key_label: str = RSA_KEY_LABEL,
    pin: str = PIN,
    with_chain: bool = True,
) -> SigningCredential:
    """What the administrator does in the certificate form: the certificate (with the issuing CA, as a CA
    delivers it), the token label, the key label and the PIN."""
    certificate = certificate or setup.certificate
    chain = setup.pki.issuing_ca.certificate.public_bytes(serialization.Encoding.PEM) if with_chain else b""
    return services.import_certificate(
        actor,
        services.CredentialInput(kind=CredentialKind.PERSONAL, user=setup.office.leader),
        certificate.public_bytes(serialization.Encoding.PEM),
        key_storage=KeyStorage.PKCS11,
        token_label=token_label or setup.softhsm.token,
        key_label=key_label,
        pin=pin,
        chain_content=chain,
    )


def leader_signs(setup: TokenOffice, capture, failed: SigningRequest | None = None) -> SigningRequest:
    """The leader asks (or retries a failed request) and the signing task runs on commit."""
    with translation.override("vi"), capture(execute=True):
        if failed is None:
            request = draft_signing.request_personal_signature(setup.office.leader, setup.draft, password=PASSWORD)
        else:
            request = services.retry(setup.office.leader, failed, password=PASSWORD)
    request.refresh_from_db()
    return request


def assert_signed_on_the_token(
    setup: TokenOffice,
    request: SigningRequest,
    credential: SigningCredential,
    certificate: x509.Certificate | None = None,
) -> bytes:
    certificate = certificate or setup.certificate
    assert request.state == SigningState.DONE, request.error
    assert request.credential_id == credential.pk and request.error == ""
    setup.draft.refresh_from_db()
    assert setup.draft.state == DraftState.SIGNED and setup.draft.signed_by == setup.office.leader
    with open_verified(request.result_blob) as handle:
        signed = handle.read()
    report = verify_pdf(
        signed,
        trust_roots=services.trust_roots(),
        intermediates=services.intermediates(),
        crls=services.revocation_lists(),
    )
    (signature,) = report.signatures
    assert signature.verdict == Verdict.VALID, report.to_dict()
    assert signature.signer_certificate_sha256 == keys.fingerprint(certificate)
    assert signature.signer_name == setup.office.leader.display_name
    done = AuditEvent.objects.get(verb=events.SIGNING_DONE)
    assert done.data["credential"] == keys.fingerprint(certificate)
    return signed


def stored_pin_column(credential: SigningCredential) -> bytes:
    """The bytes the database holds for the PIN, read with SQL (not through the model)."""
    table = SigningCredential._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT encrypted_pin FROM {table} WHERE id = %s", [credential.pk])
        (value,) = cursor.fetchone()
    return bytes(value)


def test_leader_signs_with_the_key_generated_on_the_token(
    token_office, superuser_actor, django_capture_on_commit_callbacks, tmp_path
):
    demo_credential = SigningCredential.objects.get(user=token_office.office.leader, is_active=True)
    assert demo_credential.key_storage == KeyStorage.STORED

    credential = import_token_certificate(superuser_actor, token_office)

    # One active personal credential per person: the demo stored key is retired, and the server holds no key.
    assert list(SigningCredential.objects.filter(user=token_office.office.leader, is_active=True)) == [credential]
    demo_credential.refresh_from_db()
    assert not demo_credential.is_active
    assert credential.key_storage == KeyStorage.PKCS11 and credential.encrypted_key is None
    # The PIN is stored only encrypted (bound to the certificate), never in clear.
    column = stored_pin_column(credential)
    assert PIN.encode() not in column and PIN.encode("utf-16-le") not in column
    kek = services.kek()
    assert keys.decrypt_secret(column, kek, associated_data=keys.associated_data_for(token_office.certificate)) == (
        PIN.encode()
    )

    request = leader_signs(token_office, django_capture_on_commit_callbacks)
    signed = assert_signed_on_the_token(token_office, request, credential)
    # An independent validator agrees: poppler's pdfsig, trusting only the demo root.
    report = poppler.pdfsig(signed, services.trust_roots(), tmp_path)
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Certificate Validation: Certificate is Trusted." in report, report


def _no_module(setup: TokenOffice, settings) -> dict:
    settings.SIGNING_PKCS11_MODULE = ""
    return {}


FAILURES = {
    # name: (how the administrator got it wrong, English message id, its parameters)
    "wrong PIN": (
        lambda setup, settings: {"pin": WRONG_PIN},
        "The PIN of the signing token %(token)s is wrong.",
        lambda setup, wrong: {"token": setup.softhsm.token},
    ),
    "token absent": (
        lambda setup, settings: {"token_label": f"eoffice-absent-{uuid.uuid4().hex[:8]}"},
        "The signing token %(token)s is not connected.",
        lambda setup, wrong: {"token": wrong["token_label"]},
    ),
    "key label wrong": (
        lambda setup, settings: {"key_label": "no-such-key"},
        "The key %(key)s was not found on the signing token %(token)s.",
        lambda setup, wrong: {"key": "no-such-key", "token": setup.softhsm.token},
    ),
    "no PKCS#11 module on the server": (
        _no_module,
        "No PKCS#11 module is configured on the server (SIGNING_PKCS11_MODULE).",
        lambda setup, wrong: {},
    ),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_token_problem_fails_with_a_readable_reason_and_a_retry_after_the_fix_signs(
    failure, token_office, superuser_actor, settings, django_capture_on_commit_callbacks
):
    misconfigure, msgid, parameters = FAILURES[failure]
    wrong = misconfigure(token_office, settings)
    broken = import_token_certificate(superuser_actor, token_office, **wrong)
    if "pin" in wrong:
        assert WRONG_PIN.encode() not in stored_pin_column(broken)

    request = leader_signs(token_office, django_capture_on_commit_callbacks)

    assert request.state == SigningState.FAILED and request.result_blob_id is None
    with translation.override("vi"):  # what the worker wrote, in the users' language
        expected = gettext(msgid) % parameters(token_office, wrong)
    assert request.error == expected and expected != msgid % parameters(token_office, wrong), request.error
    assert PIN not in request.error and WRONG_PIN not in request.error
    token_office.draft.refresh_from_db()
    assert token_office.draft.state == DraftState.READY_TO_SIGN and token_office.draft.versions.count() == 1
    failed_event = AuditEvent.objects.get(verb=events.SIGNING_FAILED)
    assert failed_event.data["reason"] == request.error

    # The fix: the administrator imports the certificate again with the right details (or configures the
    # module); the leader retries the same request.
    settings.SIGNING_PKCS11_MODULE = token_office.softhsm.module
    fixed = import_token_certificate(superuser_actor, token_office) if wrong else broken
    retried = leader_signs(token_office, django_capture_on_commit_callbacks, failed=request)
    assert retried.pk == request.pk and retried.attempts == 2
    assert_signed_on_the_token(token_office, retried, fixed)


def test_a_token_plugged_in_after_the_worker_started_is_found_by_the_retry(
    token_office, superuser_actor, django_capture_on_commit_callbacks, tmp_path
):
    """SoftHSM (like some drivers) lists tokens only when the library is initialised: the retry must look
    again instead of needing a worker restart."""
    label = f"eoffice-late-{uuid.uuid4().hex[:8]}"
    token_directory, public_key = token_outside_the_store(
        token_office.softhsm.module, tmp_path / "elsewhere", label, RSA_KEY_LABEL
    )
    certificate = token_office.pki.issue_for_public_key(token_office.office.leader.display_name, public_key)
    credential = import_token_certificate(superuser_actor, token_office, certificate=certificate, token_label=label)

    request = leader_signs(token_office, django_capture_on_commit_callbacks)
    assert request.state == SigningState.FAILED
    with translation.override("vi"):
        assert request.error == gettext("The signing token %(token)s is not connected.") % {"token": label}

    shutil.move(token_directory, token_office.softhsm.token_directory / token_directory.name)  # plugged in
    retried = leader_signs(token_office, django_capture_on_commit_callbacks, failed=request)
    assert_signed_on_the_token(token_office, retried, credential, certificate)


def test_a_certificate_imported_without_its_chain_still_validates_elsewhere(
    token_office, superuser_actor, django_capture_on_commit_callbacks, tmp_path
):
    credential = import_token_certificate(superuser_actor, token_office, with_chain=False)
    request = leader_signs(token_office, django_capture_on_commit_callbacks)
    signed = assert_signed_on_the_token(token_office, request, credential)  # our verifier knows the intermediate
    report = poppler.pdfsig(signed, services.trust_roots(), tmp_path)
    assert "Certificate Validation: Certificate is Trusted." in report, report
