"""Every change of the signatures app: the trust store, importing certificates, and the signing interface
that other apps call ("sign this PDF blob with this credential, for this purpose, for my subject").

Each function takes the acting person, checks what they may do, writes its audit event in the same
transaction, and queues the signing task on commit. Signing itself happens in `signing.py`, in the
`signing` queue, never in a request; the caller is told the outcome through `hooks`."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import two_factor
from accounts.models import Agency
from accounts.selectors import may_administer
from audit.services import record_event
from documents.models import Document, FileBlob
from documents.uploads import PDF
from eoffice.tasking import publish_on_commit

from . import events, hooks, keys, ownership
from .models import (
    CredentialKind,
    KeyStorage,
    SignaturePlacement,
    SigningCredential,
    SigningKind,
    SigningRequest,
    SigningState,
    TrustAnchor,
)
from .trust import chain_from_trust_store, intermediates, revocation_lists, trust_roots

__all__ = [
    "Subject", "SignatureSpec", "add_trust_anchors", "set_revocation_list", "remove_trust_anchor",
    "import_pkcs12", "import_certificate", "deactivate_credential", "usable_credential", "require_valid_now",
    "confirm_signer", "request_signature", "request_placement", "retry", "date_line",
    # read helpers of the trust store, re-exported for callers that check files
    "trust_roots", "intermediates", "revocation_lists", "chain_from_trust_store",
]

MAX_IMAGE_BYTES = 1024 * 1024


# --- trust store --------------------------------------------------------------------------------


def _require_trust_manager(actor) -> None:
    """The trust store is shared by every agency of the installation: only its superusers change it."""
    if not actor.is_authenticated or not actor.is_active or not actor.is_superuser:
        raise PermissionDenied(_("Only the installation's administrators may change the trust store."))


def add_trust_anchors(actor, data: bytes) -> list[TrustAnchor]:
    """Trust the CA certificates in `data` (PEM bundle, DER, or PKCS#7). Re-adding one re-activates it."""
    _require_trust_manager(actor)
    try:
        certificates = keys.load_certificates(data)
    except keys.CertificateRefused as refused:
        raise ValidationError({"file": str(refused)}) from refused
    added = []
    with transaction.atomic():
        for certificate in certificates:
            known = TrustAnchor.objects.filter(fingerprint=keys.fingerprint(certificate), is_active=True).first()
            if known is not None:
                added.append(known)
                continue
            constraints = _basic_constraints(certificate)
            if constraints is None or not constraints.ca:
                raise ValidationError({"file": _("Only certification authority (CA) certificates can be trusted.")})
            anchor, _created = TrustAnchor.objects.update_or_create(
                fingerprint=keys.fingerprint(certificate),
                defaults={
                    "certificate_der": certificate.public_bytes(serialization.Encoding.DER),
                    "subject": certificate.subject.rfc4514_string()[:500],
                    "issuer": certificate.issuer.rfc4514_string()[:500],
                    "not_before": certificate.not_valid_before_utc, "not_after": certificate.not_valid_after_utc,
                    "is_root": certificate.subject == certificate.issuer, "is_active": True, "added_by": actor,
                },
            )
            record_event(actor=actor, verb=events.TRUST_ANCHOR_ADDED, target=anchor, agency_id=None,
                         data={"fingerprint": anchor.fingerprint, "subject": anchor.subject, "root": anchor.is_root})
            added.append(anchor)
    return added


def set_revocation_list(actor, data: bytes) -> TrustAnchor:
    """Store a CA's CRL (PEM or DER) on the trusted CA that issued and signed it."""
    _require_trust_manager(actor)
    try:
        crl = (x509.load_pem_x509_crl(data) if data.lstrip().startswith(b"-----")
               else x509.load_der_x509_crl(data))
    except ValueError as error:
        raise ValidationError({"file": _("This file is not a certificate revocation list (CRL).")}) from error
    with transaction.atomic():
        for anchor in TrustAnchor.objects.select_for_update().filter(is_active=True):
            ca = x509.load_der_x509_certificate(bytes(anchor.certificate_der))
            if ca.subject == crl.issuer and crl.is_signature_valid(ca.public_key()):
                if anchor.crl_der is not None:
                    stored = x509.load_der_x509_crl(bytes(anchor.crl_der))
                    if crl.last_update_utc < stored.last_update_utc:
                        # An older list would quietly forget revocations already known.
                        raise ValidationError({"file": _(
                            "This revocation list is older than the one stored for this CA (issued %(date)s)."
                        ) % {"date": timezone.localtime(stored.last_update_utc).strftime("%d/%m/%Y %H:%M")}})
                anchor.crl_der = crl.public_bytes(serialization.Encoding.DER)
                anchor.crl_next_update = crl.next_update_utc
                anchor.crl_sha256 = hashlib.sha256(anchor.crl_der).hexdigest()
                anchor.save(update_fields=["crl_der", "crl_next_update", "crl_sha256"])
                record_event(actor=actor, verb=events.CRL_STORED, target=anchor, agency_id=None,
                             data={"fingerprint": anchor.fingerprint, "crl_next_update": crl.next_update_utc,
                                   "crl_sha256": anchor.crl_sha256})
                return anchor
    raise ValidationError({"file": _("No trusted CA issued this revocation list.")})


def remove_trust_anchor(actor, anchor: TrustAnchor) -> TrustAnchor:
    _require_trust_manager(actor)
    with transaction.atomic():
        anchor.is_active = False
        anchor.save(update_fields=["is_active"])
        record_event(actor=actor, verb=events.TRUST_ANCHOR_REMOVED, target=anchor, agency_id=None,
                     data={"fingerprint": anchor.fingerprint, "subject": anchor.subject})
    return anchor


def _basic_constraints(certificate: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


# --- certificates and keys ----------------------------------------------------------------------


@dataclass
class CredentialInput:
    """What is imported: for a personal certificate `user`, for an agency seal `agency`.

    `confirm_owner`: an administrator of the person's agency confirms that a personal certificate whose
    subject names somebody else (by name, e-mail and user id) really is the person's; recorded in the audit."""

    kind: str
    user: object | None = None
    agency: Agency | None = None
    image_png: bytes | None = None
    confirm_owner: bool = False


def _may_manage(actor, agency: Agency) -> bool:
    """An administrator of the agency (a superuser of the installation for any agency)."""
    return actor.has_perm("signatures.add_signingcredential") and may_administer(actor, agency)


def _owner_agency(actor, data: CredentialInput) -> Agency:
    """Who may import what: an administrator for people and the seal of their own agency (a superuser for
    any); a person for their own personal certificate. Only an administrator confirms the owner of a
    personal certificate, and never of their own."""
    if data.kind == CredentialKind.PERSONAL:
        if data.user is None:
            raise ValidationError({"user": _("Choose the person the certificate belongs to.")})
        agency = data.user.agency
        own = actor.pk == data.user.pk
    elif data.kind == CredentialKind.SEAL:
        if data.agency is None:
            raise ValidationError({"agency": _("Choose the agency of the seal.")})
        agency, own = data.agency, False
    else:
        raise ValidationError({"kind": _("Unknown kind of certificate.")})
    if agency is None:
        raise ValidationError({"user": _("The person belongs to no agency.")})
    may_manage = _may_manage(actor, agency)
    if not (own or may_manage):
        raise PermissionDenied(_("You may not manage signing certificates."))
    if data.confirm_owner and data.kind == CredentialKind.PERSONAL:
        if not may_manage:
            raise PermissionDenied(_("Only an administrator of the agency may confirm who a certificate belongs to."))
        if own:
            raise PermissionDenied(_("You may not confirm the owner of your own certificate: ask another administrator."))
    return agency


def _check_owner(actor, data: CredentialInput, certificate: x509.Certificate) -> dict:
    """Refuse a personal certificate that is not its person's (before anything changes), and say in the
    audit data how it was matched: the name, e-mail or user id in the certificate, or an administrator's
    confirmation. Seals are for their agency and checked by purpose (keys.check_certificate)."""
    if data.kind != CredentialKind.PERSONAL:
        return {}
    person = data.user
    evidence = ownership.owner_evidence(certificate, person)
    if evidence is None and not data.confirm_owner:
        raise ValidationError({"file": _(
            "This certificate was issued to %(holder)s, not to %(person)s: neither the name, the e-mail address "
            "nor the user id in it is that person's. Nothing was imported and the current certificate stays "
            "active. If it really belongs to %(person)s, an administrator of the agency can import it with the "
            "owner confirmed."
        ) % {"holder": ownership.holder_label(certificate), "person": person.display_name}})
    # One certificate, one person: not even a confirmation gives it to a second one (a namesake).
    taken = (SigningCredential.objects.filter(kind=CredentialKind.PERSONAL, is_active=True,
                                              fingerprint=keys.fingerprint(certificate))
             .exclude(user_id=person.pk).exists())
    if taken:
        raise ValidationError({"file": _(
            "This certificate is already the active certificate of another person. Nothing was imported. "
            "If it was imported for the wrong person, an administrator deactivates it there first."
        )})
    if evidence is not None:
        return {"owner_evidence": evidence}
    return {"owner_evidence": "confirmed_by_administrator", "owner_confirmed_by": actor.pk,
            "certificate_holder": ownership.holder_label(certificate)}


def _check_image(image_png: bytes | None) -> bytes | None:
    if not image_png:
        return None
    if len(image_png) > MAX_IMAGE_BYTES or not image_png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationError({"image": _("The signature or seal image must be a PNG file of at most 1 MB.")})
    from io import BytesIO

    from PIL import Image

    try:
        with Image.open(BytesIO(image_png)) as image:
            image.verify()
    except Exception as error:  # noqa: BLE001 - any decoder failure means "not a usable PNG"
        raise ValidationError({"image": _("The signature or seal image must be a PNG file of at most 1 MB.")}) from error
    return image_png


def _refuse_unusable(certificate: x509.Certificate, chain, kind: str) -> None:
    now = timezone.now()
    try:
        keys.check_certificate(certificate, purpose=kind, at=now, crls=revocation_lists())
        # A trusted intermediate anchors a chain too (an agency may trust only its issuing CA).
        keys.check_chain(certificate, chain, trust_roots() + intermediates(), now)
    except keys.CertificateRefused as refused:
        raise ValidationError({"file": str(refused)}) from refused


def _save_credential(actor, data: CredentialInput, agency: Agency, certificate, chain, *, owner: dict,
                     **key_fields) -> SigningCredential:
    """Store the checked certificate; the person's (or agency's) previous one is deactivated here, in the same
    transaction, only after every check passed: a refused import changes nothing."""
    with transaction.atomic():
        previous = SigningCredential.objects.select_for_update().filter(is_active=True, kind=data.kind)
        previous = previous.filter(user=data.user) if data.kind == CredentialKind.PERSONAL else previous.filter(agency=agency)
        for old in previous:
            old.is_active, old.deactivated_at = False, timezone.now()
            old.save(update_fields=["is_active", "deactivated_at"])
            record_event(actor=actor, verb=events.CREDENTIAL_DEACTIVATED, target=old, agency_id=agency.pk,
                         data={"fingerprint": old.fingerprint, "replaced": True})
        credential = SigningCredential.objects.create(
            kind=data.kind, user=data.user if data.kind == CredentialKind.PERSONAL else None, agency=agency,
            certificate_der=certificate.public_bytes(serialization.Encoding.DER),
            chain_pem="".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain),
            fingerprint=keys.fingerprint(certificate), subject=certificate.subject.rfc4514_string()[:500],
            issuer=certificate.issuer.rfc4514_string()[:500], serial=format(certificate.serial_number, "X"),
            not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
            image_png=data.image_png, created_by=actor, **key_fields,
        )
        record_event(actor=actor, verb=events.CREDENTIAL_IMPORTED, target=credential, agency_id=agency.pk, data={
            "kind": credential.kind, "user_id": credential.user_id, "fingerprint": credential.fingerprint,
            "subject": credential.subject, "serial": credential.serial, "not_after": credential.not_after,
            "key_storage": credential.key_storage, **owner,
        })
    return credential


def import_pkcs12(actor, data: CredentialInput, content: bytes, password: str) -> SigningCredential:
    """Import a .p12/.pfx: the certificate is checked (dates, usage, revocation, chain to the trust store)
    and its private key stored only encrypted under the key-encryption key."""
    agency = _owner_agency(actor, data)
    data.image_png = _check_image(data.image_png)
    try:
        imported = keys.load_pkcs12(content, password)
    except keys.CertificateRefused as refused:
        raise ValidationError({"file": str(refused)}) from refused
    chain = list(imported.chain) or chain_from_trust_store(imported.certificate)
    _refuse_unusable(imported.certificate, chain, data.kind)
    owner = _check_owner(actor, data, imported.certificate)
    blob = keys.encrypt_key_for(imported.certificate, imported.private_key, kek())
    return _save_credential(actor, data, agency, imported.certificate, chain, owner=owner,
                            key_storage=KeyStorage.STORED, encrypted_key=blob)


def import_certificate(actor, data: CredentialInput, content: bytes, *, key_storage: str = KeyStorage.EXTERNAL,
                       token_label: str = "", key_label: str = "", pin: str = "",
                       chain_content: bytes = b"") -> SigningCredential:
    """Import a certificate alone, its key held on a PKCS#11 token (label and PIN; the PIN is stored
    encrypted like a key) or elsewhere."""
    agency = _owner_agency(actor, data)
    data.image_png = _check_image(data.image_png)
    if key_storage not in (KeyStorage.EXTERNAL, KeyStorage.PKCS11):
        raise ValidationError({"key_storage": _("Unknown key storage.")})
    try:
        certificate = keys.load_certificate(content)
        chain = keys.load_certificates(chain_content) if chain_content else chain_from_trust_store(certificate)
    except keys.CertificateRefused as refused:
        raise ValidationError({"file": str(refused)}) from refused
    _refuse_unusable(certificate, chain, data.kind)
    owner = _check_owner(actor, data, certificate)
    fields: dict = {"key_storage": key_storage}
    if key_storage == KeyStorage.PKCS11:
        if not token_label or not key_label or not pin:
            raise ValidationError({"token_label": _("Give the token label, the key label and the PIN.")})
        fields.update(pkcs11_token_label=token_label, pkcs11_key_label=key_label,
                      encrypted_pin=keys.encrypt_secret(pin.encode(), kek(),
                                                        associated_data=keys.associated_data_for(certificate)))
    return _save_credential(actor, data, agency, certificate, chain, owner=owner, **fields)


def deactivate_credential(actor, credential: SigningCredential) -> SigningCredential:
    data = CredentialInput(kind=credential.kind, user=credential.user, agency=credential.agency)
    _owner_agency(actor, data)
    with transaction.atomic():
        credential.is_active, credential.deactivated_at = False, timezone.now()
        credential.save(update_fields=["is_active", "deactivated_at"])
        record_event(actor=actor, verb=events.CREDENTIAL_DEACTIVATED, target=credential,
                     agency_id=credential.agency_id, data={"fingerprint": credential.fingerprint})
    return credential


def kek() -> bytes:
    return keys.parse_kek(settings.SIGNING_KEY_ENCRYPTION_KEY)


def usable_credential(kind: str, *, user=None, agency_id: int | None = None) -> SigningCredential | None:
    credentials = SigningCredential.objects.filter(kind=kind, is_active=True).exclude(key_storage=KeyStorage.EXTERNAL)
    credentials = credentials.filter(user=user) if kind == CredentialKind.PERSONAL else credentials.filter(agency_id=agency_id)
    return credentials.first()


def require_valid_now(credential: SigningCredential | None, whose: str) -> SigningCredential:
    if credential is None:
        raise ValidationError({"credential": whose})
    now = timezone.now()
    if not credential.not_before <= now <= credential.not_after:
        raise ValidationError({"credential": _("The signing certificate expired on %(date)s or is not valid yet.") % {
            "date": timezone.localtime(credential.not_after).strftime("%d/%m/%Y")}})
    return credential


# --- the signing interface ----------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The caller's object a signature is for ("workflows.draft", 12): opaque to this app, named in the
    audit trail and handed back to the caller's subscriber (see `hooks`)."""

    type: str
    id: int
    label: str = ""

    @classmethod
    def of(cls, instance: models.Model) -> Subject:
        return cls(instance._meta.label_lower, instance.pk, str(instance)[:300])


@dataclass
class SignatureSpec:
    """One signature to apply.

    - PERSONAL: `credential` is the signer's own; `signer_name` is shown under the signature and locates the
      signature block; the number and date stay blank for the clerk.
    - SEAL: the agency's seal credential; `number_text` and `date_text` are filled into the leader-signed
      PDF's blank fields and the seal is applied over the whole file (without such fields, the number and
      time are stamped top right as for an attachment); `attachments` are signed top right too.
    - ATTACHMENT: the agency's seal credential; `number_text` and the signing time are stamped top right.
    `key` is the caller's idempotency key: one request per key, ever."""

    kind: str
    blob: FileBlob
    credential: SigningCredential
    subject: Subject
    key: str
    agency: Agency
    signer_name: str = ""
    authority_prefix: str = ""
    on_behalf_of: object | None = None
    document: Document | None = None
    number_text: str = ""
    date_text: str = ""
    attachments: Sequence[tuple[FileBlob, str]] = field(default_factory=tuple)


def confirm_signer(actor, password: str, otp_code: str = "") -> None:
    """The signer confirms each signature or seal with their password and, when they have a second factor or
    must have one (accounts.two_factor), a fresh one-time code: a stolen session or password alone cannot
    sign. A used code is refused (the app's time step is stored, a backup code deleted). Call it before the
    signing transaction: a refused code is audited and nothing else changes."""
    if not password or not actor.check_password(password):
        raise PermissionDenied(_("The password is not correct: the document was not signed."))
    if not two_factor.code_required(actor):
        return
    if not two_factor.has_second_factor(actor):
        raise PermissionDenied(_("Signing needs two-factor authentication: set up an authenticator app on your "
                                 "account page first. The document was not signed."))
    if two_factor.verify_code(actor, otp_code) is None:
        with transaction.atomic():
            record_event(actor=actor, verb=events.SIGNING_CODE_REFUSED, target=actor, agency_id=actor.agency_id,
                         data={"code_given": bool((otp_code or "").strip())})
        raise PermissionDenied(_("The one-time code is not correct or has been used already: the document was "
                                 "not signed."))


def _check_credential_use(actor, spec: SignatureSpec) -> None:
    """A personal certificate signs only for its owner; an agency seal only for that agency's clerks."""
    credential = spec.credential
    if not credential.is_active or credential.key_storage == KeyStorage.EXTERNAL:
        raise ValidationError({"credential": _("This certificate has no usable key on the server.")})
    if spec.kind == SigningKind.PERSONAL:
        if credential.kind != CredentialKind.PERSONAL or credential.user_id != actor.pk:
            raise PermissionDenied(_("A personal signature is made with the signer's own certificate only."))
    else:
        if credential.kind != CredentialKind.SEAL or credential.agency_id != spec.agency.pk:
            raise PermissionDenied(_("The agency seal is applied with the agency's own seal certificate only."))
        if actor.agency_id != spec.agency.pk or not actor.has_perm("documents.register_outgoing"):
            raise PermissionDenied(_("Only the agency's clerks may apply the agency seal."))
    require_valid_now(credential, "")


def request_signature(actor, spec: SignatureSpec) -> tuple[SigningRequest, bool]:
    """Ask for `spec` to be signed in the `signing` queue; returns the request and whether it was queued now.

    One request per `spec.key`: a repeated call returns the queued, running or done one unchanged; a failed
    one is queued again with the new details. Runs in the caller's transaction (the caller's own state
    change and this request commit together) and publishes the task on commit."""
    if spec.blob.content_type != PDF:
        raise ValidationError({"file": _("Only a PDF can be signed: upload the final draft as a PDF first.")})
    if spec.kind not in SigningKind.values:
        raise ValidationError({"kind": _("Unknown kind of signature.")})
    _check_credential_use(actor, spec)
    hooks.subscriber_for(spec.subject.type)  # nobody to tell the outcome: refuse before anything is stored
    fields = {
        "kind": spec.kind, "subject_type": spec.subject.type, "subject_id": spec.subject.id,
        "subject_label": spec.subject.label[:300], "agency": spec.agency, "source_blob": spec.blob,
        "document": spec.document, "credential": spec.credential, "requested_by": actor,
        "authority_prefix": spec.authority_prefix or "", "on_behalf_of": spec.on_behalf_of,
        "signer_name": spec.signer_name[:200], "number_text": spec.number_text[:100],
        "date_text": spec.date_text[:200],
        "attachments": [{"sha256": blob.sha256, "name": name[:255]} for blob, name in spec.attachments],
    }
    with transaction.atomic():
        request = SigningRequest.objects.select_for_update().filter(key=spec.key).first()
        if request is not None and request.state != SigningState.FAILED:
            return request, False
        if request is None:
            request = SigningRequest.objects.create(key=spec.key, **fields)
        else:
            for name, value in fields.items():
                setattr(request, name, value)
            request.state, request.error, request.result_blob, request.result_attachments = (
                SigningState.QUEUED, "", None, [])
            request.save()
        record_event(actor=actor, verb=events.SIGNING_REQUESTED, target=request.audit_target(),
                     agency_id=request.agency_id, data={
                         "request_id": request.pk, "kind": request.kind, "sha256": spec.blob.sha256,
                         "subject": f"{request.subject_type}:{request.subject_id}",
                         "credential": spec.credential.fingerprint, "authority_prefix": request.authority_prefix,
                         "number": request.number_text,
                     })
        publish_on_commit("signatures.tasks.sign", request.pk)
    return request, True


def request_placement(blob: FileBlob, signer_name: str) -> None:
    """Find where `signer_name`'s signature goes on this PDF ahead of signing (a caller asks when a draft
    becomes ready to sign), so the signing task does not search the text while the signer waits."""
    if blob.content_type != PDF or SignaturePlacement.objects.filter(blob=blob, signer_name=signer_name).exists():
        return
    publish_on_commit("signatures.tasks.place", blob.sha256, signer_name)


def retry(actor, request: SigningRequest, *, password: str, otp_code: str = "") -> SigningRequest:
    """Queue a failed request again; the caller's subscriber re-checks its own rules (authority, state)."""
    confirm_signer(actor, password, otp_code)
    if request.state != SigningState.FAILED:
        raise ValidationError({"state": _("Only a failed signature can be tried again.")})
    return hooks.subscriber_for(request.subject_type).retry(actor, request)


def date_line(agency: Agency, day: dt.date) -> str:
    """ "Hòa Bình, ngày 23 tháng 11 năm 2026" (Decree 30: days and months below 10 for 1-2 take a 0)."""
    day_text = f"{day.day:02d}" if day.day < 10 else str(day.day)
    month_text = f"{day.month:02d}" if day.month < 3 else str(day.month)
    place = agency.place_name or agency.name
    return f"{place}, ngày {day_text} tháng {month_text} năm {day.year}"
