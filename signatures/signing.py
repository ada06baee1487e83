"""What the `signing` task does with a request: take it (once), sign outside any transaction, then store
the result and move the workflow on in one transaction. A repeated or redelivered task finds the request
done (or being signed by a live worker) and returns; only one result can ever be stored per request, so a
version is never signed twice. A failure leaves the draft and document unchanged, with the reason."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from documents import services as documents_services
from documents.storage import IntegrityFailure, open_verified
from documents.uploads import PDF
from workflows import drafting_services
from workflows.drafting import DraftVersion

from . import engine, events, keys
from .models import CredentialKind, KeyStorage, SigningCredential, SigningKind, SigningRequest, SigningState
from .signers import KeyHolder, SigningUnavailable

if TYPE_CHECKING:
    from .layout import SignedForm

logger = logging.getLogger(__name__)

# A worker that took a request and died leaves it "signing"; after this lease another delivery may take it.
SIGNING_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 3
_HOLDERS: dict[tuple[int, str], KeyHolder] = {}


def key_holder(credential: SigningCredential) -> KeyHolder:
    """The credential's key, loaded once per worker process (decrypting and parsing a key per signature is
    what makes a stock signer slow)."""
    cache_key = (credential.pk, credential.fingerprint)
    holder = _HOLDERS.get(cache_key)
    if holder is not None:
        return holder
    certificate = x509.load_der_x509_certificate(bytes(credential.certificate_der))
    chain = x509.load_pem_x509_certificates(credential.chain_pem.encode()) if credential.chain_pem else []
    if credential.key_storage == KeyStorage.STORED:
        holder = keys.StoredKeyHolder(bytes(credential.encrypted_key), _kek(), certificate, chain)
    elif credential.key_storage == KeyStorage.PKCS11:
        from .pkcs11_keys import Pkcs11KeyHolder

        if not settings.SIGNING_PKCS11_MODULE:
            raise SigningUnavailable(_("No PKCS#11 module is configured on the server (SIGNING_PKCS11_MODULE)."))
        try:
            pin = keys.decrypt_secret(bytes(credential.encrypted_pin), _kek(),
                                      associated_data=keys.associated_data_for(certificate)).decode()
        except (keys.KeyDecryptionError, keys.InvalidKek) as error:
            raise SigningUnavailable(_("The stored PIN of this certificate cannot be decrypted; import the "
                                       "certificate again.")) from error
        holder = Pkcs11KeyHolder(settings.SIGNING_PKCS11_MODULE, credential.pkcs11_token_label, pin,
                                 credential.pkcs11_key_label, certificate, chain)
    else:
        raise SigningUnavailable(_("The key of this certificate is not held by the server."))
    _HOLDERS[cache_key] = holder
    return holder


def _kek() -> bytes:
    return keys.parse_kek(settings.SIGNING_KEY_ENCRYPTION_KEY)


def timestamper():
    """PAdES B-T when a timestamp authority is configured, else B-B."""
    return engine.timestamper_from_url(settings.SIGNING_TSA_URL) if settings.SIGNING_TSA_URL else None


_MATERIAL: dict[tuple, engine.ValidationMaterial] = {}


def validation_material(credential: SigningCredential | None = None) -> engine.ValidationMaterial | None:
    """PAdES B-LT (the chain and its CRLs embedded, so the signature can be checked offline years later)
    when every trusted CA has a current revocation list; otherwise None (B-B or B-T). Revocation data is
    what administrators brought in: nothing is fetched, the network is often closed. One small query per
    signature; the certificates and CRLs are loaded and parsed again only when the trust store changed
    (the key has every active anchor and the SHA-256 of its CRL). With `credential`, only the CRLs of the CAs
    above its certificate are given to the signer."""
    from .models import TrustAnchor

    now = timezone.now()
    anchors = tuple(
        TrustAnchor.objects.filter(is_active=True).order_by("pk")
        .values_list("pk", "is_root", "crl_next_update", "crl_sha256")
    )
    if not anchors or any(not sha or (next_update and next_update < now) for _pk, _root, next_update, sha in anchors):
        return None
    material = _MATERIAL.get(anchors)
    if material is None:
        from .services import intermediates, revocation_lists, trust_roots

        material = engine.ValidationMaterial(trust_roots=trust_roots(), intermediates=intermediates(),
                                             crls=revocation_lists(), revocation_mode="require")
        _MATERIAL.clear()
        _MATERIAL[anchors] = material
    return _for_signer(material, key_holder(credential)) if credential is not None else material


def _for_signer(material: engine.ValidationMaterial, holder: KeyHolder) -> engine.ValidationMaterial:
    """The material with only the CRLs of the CAs above the signer's certificate: pyhanko-certvalidator
    examines every CRL it is given for every certificate of the path, so each unrelated trusted CA costs
    time on every signature (16 of them: about +4 ms)."""
    authorities = [*holder.chain, *material.intermediates, *material.trust_roots]
    names = {holder.certificate.issuer}
    grown = True
    while grown:  # up the chain by names: the issuing CA, its issuer, ... up to the root
        grown = False
        for authority in authorities:
            if authority.subject in names and authority.issuer not in names:
                names.add(authority.issuer)
                grown = True
    return dataclasses.replace(material, crls=[crl for crl in material.crls if crl.issuer in names])


def _take(request_id: int) -> SigningRequest | None:
    """Mark the request as being signed, unless it is done, failed, or a live worker has it."""
    with transaction.atomic():
        request = SigningRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.state in (SigningState.DONE, SigningState.FAILED):
            return None
        now = timezone.now()
        if request.state == SigningState.SIGNING and request.started_at and now - request.started_at < SIGNING_LEASE:
            return None
        request.state, request.started_at = SigningState.SIGNING, now
        request.attempts += 1
        request.save(update_fields=["state", "started_at", "attempts"])
    return request


def _read(version: DraftVersion) -> bytes:
    with open_verified(version.blob) as handle:
        return handle.read()


def _layout(pdf: bytes, signer_name: str):
    from .layout import find_layout

    return find_layout(pdf, signer_name=signer_name)


def _sign(request: SigningRequest) -> tuple[bytes, list[tuple[str, bytes | None, object]]]:
    """The signed main file, and for the seal the draft's separately filed attachments: PDFs signed by the
    agency at the top right of page 1 (PL I §II.8.b), other files as they are."""
    main = _sign_main(request)
    if request.kind != SigningKind.SEAL:
        return main, []
    document, holder = request.document, key_holder(request.credential)
    extras: list[tuple[str, bytes | None, object]] = []
    for attachment in request.draft.attachments.select_related("blob"):
        if attachment.blob.content_type != PDF:
            extras.append((attachment.file_name, None, attachment.blob))
            continue
        with open_verified(attachment.blob) as handle:
            content = handle.read()
        extras.append((attachment.file_name, engine.sign_attachment(
            content, holder, number_notation=f"{document.code_number}/{document.code_notation}",
            signing_time=timezone.localtime(), agency_name=request.credential.agency.name, timestamper=timestamper(),
        ), None))
    return main, extras


def _sign_main(request: SigningRequest) -> bytes:
    credential = request.credential
    holder = key_holder(credential)
    pdf = _read(request.source_version)
    if request.kind == SigningKind.PERSONAL:
        signer = request.requested_by
        layout = _layout(pdf, signer.display_name)
        return engine.sign_personal(
            pdf, holder, image_png=bytes(credential.image_png or b"") or default_signature_image(),
            box=layout.signature_box, number_box=layout.number_box, date_box=layout.date_box,
            signer_name=signer.display_name, reason=_("Approval and signing of the document"),
            location=credential.agency.place_name or credential.agency.name, timestamper=timestamper(),
            validation=validation_material(credential),
        )
    form = _signed_form(pdf)
    if engine.NUMBER_FIELD not in form.field_names:
        # The leader signed a PDF without Decree 30's blank number and date (no field to fill): the agency
        # signature then shows number/notation and the signing time as text at the top right, as PL I
        # prescribes for separately filed attachments and copies.
        document = request.document
        return engine.sign_attachment(
            pdf, holder, number_notation=f"{document.code_number}/{document.code_notation}",
            signing_time=timezone.localtime(), agency_name=credential.agency.name, timestamper=timestamper(),
        )
    seal_box = form.seal_box
    if seal_box is None:  # the leader's widget is unreadable: search the signature block in the text
        signer = request.draft.signed_by
        seal_box = _layout(pdf, signer.display_name if signer else "").seal_box
    return engine.fill_and_seal(
        pdf, holder, number_notation=request.number_text, date_text=request.date_text,
        seal_png=bytes(credential.image_png or b"") or default_seal_image(credential.agency.name),
        box=seal_box, agency_name=credential.agency.name,
        reason=_("Issued by %(agency)s") % {"agency": credential.agency.name},
        location=credential.agency.place_name or credential.agency.name, timestamper=timestamper(),
        validation=validation_material(credential),
    )


def _signed_form(pdf: bytes) -> SignedForm:
    """The leader-signed file's field names and the seal box over the leader's signature (read from the
    form, no text search); an unreadable form has no fields, so the seal then signs as an attachment."""
    from .layout import read_signed_form

    return read_signed_form(pdf, engine.LEADER_FIELD)


def _fail(request_id: int, message: str) -> None:
    with transaction.atomic():
        request = SigningRequest.objects.select_for_update().select_related("draft").get(pk=request_id)
        if request.state != SigningState.SIGNING:
            return
        request.state, request.error, request.finished_at = SigningState.FAILED, message[:2000], timezone.now()
        request.save(update_fields=["state", "error", "finished_at"])
        target = request.document if request.document_id else request.draft
        record_event(actor=request.requested_by, verb=events.SIGNING_FAILED, target=target,
                     agency_id=request.draft.agency_id, data={"request_id": request.pk, "kind": request.kind,
                                                               "reason": request.error})


def _superseded(request: SigningRequest) -> bool:
    """Whether the draft, locked now, is no longer ready to sign exactly the version this request signed."""
    from workflows.drafting import Draft, DraftState

    draft = Draft.objects.select_for_update().get(pk=request.draft_id)
    latest = draft.versions.order_by("-number").values_list("pk", flat=True).first()
    return draft.state != DraftState.READY_TO_SIGN or latest != request.source_version_id


def _store(request_id: int, signed: bytes, extras: list[tuple[str, bytes | None, object]]) -> str:
    with transaction.atomic():
        request = SigningRequest.objects.select_for_update().select_related("draft", "requested_by").get(pk=request_id)
        if request.state != SigningState.SIGNING or request.result_blob_id:
            return "skipped"  # another delivery finished first: keep its result, never a second signature
        actor = request.requested_by
        if request.kind == SigningKind.PERSONAL and _superseded(request):
            # A new version was uploaded (or the draft moved on) while this one was being signed: the
            # signature is of a text nobody approves any more, so it is not kept.
            request.state, request.finished_at = SigningState.FAILED, timezone.now()
            request.error = _("The draft changed after the signature was requested; sign the new version.")
            request.save(update_fields=["state", "error", "finished_at"])
            record_event(actor=actor, verb=events.SIGNING_FAILED, target=request.draft,
                         agency_id=request.draft.agency_id,
                         data={"request_id": request.pk, "kind": request.kind, "reason": request.error})
            return "failed"
        if request.kind == SigningKind.PERSONAL:
            version = drafting_services.store_system_version(
                request.draft, actor, signed, name=f"ky-so-{request.source_version.file_name}",
                note=_("Signed digitally"),
            )
            blob = version.blob
            drafting_services.on_signed(
                request.draft, actor, method="digital", authority_prefix=request.authority_prefix,
                on_behalf_of=request.on_behalf_of,
            )
            target = request.draft
        else:
            attached = documents_services.attach_generated_file(
                actor, request.document, signed, f"{request.document.code_number}-{request.document.code_notation}.pdf"
                .replace("/", "-"),
            )
            blob = attached.blob
            target = request.document
            for name, content, stored in extras:
                if content is not None:
                    documents_services.attach_generated_file(actor, request.document, content, name, is_main=False)
                else:
                    documents_services.attach_stored_blob(actor, request.document, stored, name)
        request.state, request.result_blob, request.finished_at, request.error = (
            SigningState.DONE, blob, timezone.now(), "")
        request.save(update_fields=["state", "result_blob", "finished_at", "error"])
        record_event(actor=actor, verb=events.SIGNING_DONE, target=target, agency_id=request.draft.agency_id, data={
            "request_id": request.pk, "kind": request.kind, "sha256": blob.sha256,
            "credential": request.credential.fingerprint, "authority_prefix": request.authority_prefix,
        })
    return "done"


def run_signing_request(request_id: int) -> str:
    """The body of the `signing` task; returns what happened (for logs and tests)."""
    request = _take(request_id)
    if request is None:
        return "skipped"
    try:
        signed, extras = _sign(request)
    except SigningUnavailable as error:
        _fail(request_id, str(error))
        return "failed"
    except (engine.SigningEngineError, keys.CertificateRefused, IntegrityFailure, ValueError) as error:
        _fail(request_id, _("The document could not be signed: %(reason)s") % {"reason": error})
        return "failed"
    except Exception:
        logger.exception("signing request %s failed", request_id)
        _fail(request_id, _("The document could not be signed because of an unexpected error; the administrator "
                            "can see the details in the server log."))
        return "failed"
    try:
        return _store(request_id, signed, extras)
    except Exception:
        # The signature was made but could not be stored (the workflow refused, storage failed): nothing of
        # it was kept (one transaction), and the request says so instead of being signed again for ever.
        logger.exception("signing request %s could not be stored", request_id)
        _fail(request_id, _("The signed document could not be stored; the administrator can see the details in "
                            "the server log."))
        return "failed"


def stale_request_ids(now=None) -> list[int]:
    """Queued requests whose message a dead broker may have lost, and requests a dead worker left. A request
    a worker died on MAX_ATTEMPTS times is failed with the reason instead of being taken again."""
    now = now or timezone.now()
    queued = SigningRequest.objects.filter(state=SigningState.QUEUED, created_at__lt=now - timedelta(minutes=1))
    stuck = SigningRequest.objects.filter(state=SigningState.SIGNING, started_at__lt=now - SIGNING_LEASE)
    for request_id in stuck.filter(attempts__gte=MAX_ATTEMPTS).values_list("pk", flat=True)[:500]:
        _fail(request_id, _("Signing stopped %(times)d times without finishing; try again later.") % {
            "times": MAX_ATTEMPTS})
    stuck = stuck.filter(attempts__lt=MAX_ATTEMPTS)
    return list(queued.values_list("pk", flat=True)[:500]) + list(stuck.values_list("pk", flat=True)[:500])


# --- images for credentials without their own ---------------------------------------------------


def default_signature_image() -> bytes:
    """A neutral blue scribble for a person who has not uploaded their handwritten signature image."""
    from .images import signature_png

    return signature_png("")


def default_seal_image(agency_name: str) -> bytes:
    from .images import seal_png

    return seal_png(agency_name)


__all__ = ["CredentialKind", "key_holder", "run_signing_request", "stale_request_ids"]
