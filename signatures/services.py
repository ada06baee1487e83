"""Every change of the signatures app: importing certificates, the trust store, asking for a signature
(the leader's, then the clerk's number, date and agency seal) and retrying a failed one.

Each function takes the acting person, checks what they may do, writes its audit event in the same
transaction, and queues the signing task on commit. Signing itself happens in `signing.py`, in the
`signing` queue, never in a request."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agency
from audit.services import record_event
from documents.uploads import PDF
from workflows import drafting_services
from workflows.drafting import Draft, DraftState, DraftVersion

from . import events, keys
from .models import (
    CredentialKind,
    KeyStorage,
    SigningCredential,
    SigningKind,
    SigningRequest,
    SigningState,
    TrustAnchor,
)

MAX_IMAGE_BYTES = 1024 * 1024


# --- trust store --------------------------------------------------------------------------------


def trust_roots() -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(bytes(der)) for der in
            TrustAnchor.objects.filter(is_active=True, is_root=True).values_list("certificate_der", flat=True)]


def intermediates() -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(bytes(der)) for der in
            TrustAnchor.objects.filter(is_active=True, is_root=False).values_list("certificate_der", flat=True)]


def revocation_lists() -> list[x509.CertificateRevocationList]:
    return [x509.load_der_x509_crl(bytes(der)) for der in
            TrustAnchor.objects.filter(is_active=True, crl_der__isnull=False).values_list("crl_der", flat=True)]


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


def chain_from_trust_store(certificate: x509.Certificate) -> list[x509.Certificate]:
    """The issuing CAs above `certificate` found among the trusted intermediates, nearest first (root
    excluded): a certificate uploaded alone still signs with its chain, so other validators (pdfsig,
    Adobe) can build the path."""
    pool = intermediates()
    chain: list[x509.Certificate] = []
    current = certificate
    while current.issuer != current.subject:
        issuer = next((ca for ca in pool if ca.subject == current.issuer and ca not in chain), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return chain


def _basic_constraints(certificate: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


# --- certificates and keys ----------------------------------------------------------------------


@dataclass
class CredentialInput:
    """What is imported: for a personal certificate `user`, for an agency seal `agency`."""

    kind: str
    user: object | None = None
    agency: Agency | None = None
    image_png: bytes | None = None


def _owner_agency(actor, data: CredentialInput) -> Agency:
    """Who may import what: an administrator for people and the seal of their own agency (a superuser for
    any); a person for their own personal certificate."""
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
    may_manage = actor.has_perm("signatures.add_signingcredential") and (
        actor.is_superuser or actor.agency_id == agency.pk
    )
    if not (own or may_manage):
        raise PermissionDenied(_("You may not manage signing certificates."))
    return agency


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


def _save_credential(actor, data: CredentialInput, agency: Agency, certificate, chain, **key_fields) -> SigningCredential:
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
            "key_storage": credential.key_storage,
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
    blob = keys.encrypt_key_for(imported.certificate, imported.private_key, kek())
    return _save_credential(actor, data, agency, imported.certificate, chain,
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
    fields: dict = {"key_storage": key_storage}
    if key_storage == KeyStorage.PKCS11:
        if not token_label or not key_label or not pin:
            raise ValidationError({"token_label": _("Give the token label, the key label and the PIN.")})
        fields.update(pkcs11_token_label=token_label, pkcs11_key_label=key_label,
                      encrypted_pin=keys.encrypt_secret(pin.encode(), kek(),
                                                        associated_data=keys.associated_data_for(certificate)))
    return _save_credential(actor, data, agency, certificate, chain, **fields)


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


def _require_valid_now(credential: SigningCredential | None, whose: str) -> SigningCredential:
    if credential is None:
        raise ValidationError({"credential": whose})
    now = timezone.now()
    if not credential.not_before <= now <= credential.not_after:
        raise ValidationError({"credential": _("The signing certificate expired on %(date)s or is not valid yet.") % {
            "date": timezone.localtime(credential.not_after).strftime("%d/%m/%Y")}})
    return credential


# --- signing requests ---------------------------------------------------------------------------


def _confirm_password(actor, password: str) -> None:
    if not password or not actor.check_password(password):
        raise PermissionDenied(_("The password is not correct: the document was not signed."))


def _latest_version(draft: Draft) -> DraftVersion:
    version = draft.versions.select_related("blob").order_by("-number").first()
    if version is None or version.blob.content_type != PDF:
        raise ValidationError({"file": _("Only a PDF can be signed: upload the final draft as a PDF first.")})
    return version


def _queue(request: SigningRequest) -> None:
    from .tasks import enqueue_signing

    transaction.on_commit(lambda: enqueue_signing(request.pk))


def _reuse_or_create(kind: str, version: DraftVersion, **fields) -> tuple[SigningRequest, bool]:
    """One request per version and kind: a repeated click returns the running one, a failed one is
    queued again, a done one is returned as is."""
    existing = SigningRequest.objects.select_for_update().filter(source_version=version, kind=kind).first()
    if existing is None:
        return SigningRequest.objects.create(kind=kind, source_version=version, **fields), True
    if existing.state == SigningState.FAILED:
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.state, existing.error = SigningState.QUEUED, ""
        existing.save()
        return existing, True
    return existing, False


def request_personal_signature(actor, draft: Draft, *, password: str) -> SigningRequest:
    """The signer (or their delegate, recording KT./TUQ./TL.) signs the approved draft's PDF with their
    own certificate; the task applies the signature and calls the drafting hook `on_signed`."""
    _confirm_password(actor, password)
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft.pk)
        if draft.state != DraftState.READY_TO_SIGN:
            raise ValidationError({"state": _("Only a draft that is ready to sign can be signed.")})
        prefix = drafting_services.step_authority(actor, draft)
        if prefix is None:
            raise PermissionDenied(_("Only the signer of this draft (or their delegate) may sign it."))
        credential = _require_valid_now(
            usable_credential(CredentialKind.PERSONAL, user=actor),
            _("You have no signing certificate with a usable key. Import your certificate first."),
        )
        version = _latest_version(draft)
        on_behalf_of = draft.current_holder if prefix else None
        request, queued = _reuse_or_create(
            SigningKind.PERSONAL, version, draft=draft, credential=credential, requested_by=actor,
            authority_prefix=prefix or "", on_behalf_of=on_behalf_of,
        )
        if queued:
            record_event(actor=actor, verb=events.SIGNING_REQUESTED, target=draft, agency_id=draft.agency_id, data={
                "request_id": request.pk, "kind": request.kind, "version": version.number,
                "sha256": version.blob_id, "credential": credential.fingerprint, "authority_prefix": prefix,
            })
            _queue(request)
    return request


def request_seal(actor, draft: Draft, *, password: str, register_id: int | None = None) -> SigningRequest:
    """The clerk issues the digitally signed draft: the number and date come from the register now (the
    document is registered in this transaction), and the task fills them into the leader-signed PDF,
    applies the agency seal over the whole file and attaches it as the document's original."""
    _confirm_password(actor, password)
    if not actor.has_perm("documents.register_outgoing"):
        raise PermissionDenied(_("Only the agency's clerks may apply the agency seal."))
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft.pk)
        if draft.agency_id != actor.agency_id:
            raise PermissionDenied(_("Only the agency's clerks may apply the agency seal."))
        signed = (SigningRequest.objects.filter(draft=draft, kind=SigningKind.PERSONAL, state=SigningState.DONE)
                  .select_related("result_blob").order_by("-id").first())
        version = draft.versions.filter(blob=signed.result_blob).order_by("-number").first() if signed else None
        previous = (SigningRequest.objects.select_for_update().filter(source_version=version, kind=SigningKind.SEAL)
                    .first() if version else None)
        if previous is not None and previous.state != SigningState.FAILED:
            return previous  # already queued, being sealed, or done
        # A first seal needs the signed draft; a retry finds it issued already (numbered by the failed try).
        if version is None or (previous is None and draft.state != DraftState.SIGNED):
            raise ValidationError({"state": _("Only a draft signed digitally by the leader can be sealed.")})
        credential = _require_valid_now(
            usable_credential(CredentialKind.SEAL, agency_id=draft.agency_id),
            _("The agency has no seal certificate with a usable key. Ask the administrator to import it."),
        )
        document = previous.document if previous is not None else drafting_services.issue_draft(
            actor, draft, None, register_id=register_id, sealed_later=True)
        request, _queued = _reuse_or_create(
            SigningKind.SEAL, version, draft=draft, document=document, credential=credential, requested_by=actor,
            # The draft prints "Số: ..../QĐ-UBND": the clerk fills in the number only.
            number_text=document.code_number,
            date_text=date_line(draft.agency, document.issued_date or timezone.localdate()),
        )
        record_event(actor=actor, verb=events.SIGNING_REQUESTED, target=document, agency_id=draft.agency_id, data={
            "request_id": request.pk, "kind": request.kind, "draft_id": draft.pk, "sha256": version.blob_id,
            "credential": credential.fingerprint, "number": request.number_text,
        })
        _queue(request)
    return request


def retry(actor, request: SigningRequest, *, password: str) -> SigningRequest:
    """Queue a failed request again (the person who asked, or another holder of the same authority)."""
    if request.kind == SigningKind.PERSONAL:
        return request_personal_signature(actor, request.draft, password=password)
    return request_seal(actor, request.draft, password=password)


def date_line(agency: Agency, day: dt.date) -> str:
    """ "Hòa Bình, ngày 23 tháng 11 năm 2026" (Decree 30: days and months below 10 for 1-2 take a 0)."""
    day_text = f"{day.day:02d}" if day.day < 10 else str(day.day)
    month_text = f"{day.month:02d}" if day.month < 3 else str(day.month)
    place = agency.place_name or agency.name
    return f"{place}, ngày {day_text} tháng {month_text} năm {day.year}"


def signing_requests_for(draft: Draft):
    return draft.signing_requests.select_related("credential", "requested_by", "document").order_by("id")
