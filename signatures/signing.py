"""What the `signing` task does with a request: take it (once), sign outside any transaction, then store
the result and tell the caller's subscriber in one transaction. A repeated or redelivered task finds the
request done (or being signed by a live worker) and returns; only one result can ever be stored per request,
so nothing is signed twice. A failure leaves the caller's subject unchanged, with the reason."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import batched_events, record_event
from documents.models import FileBlob
from documents.storage import IntegrityFailure, open_verified, store_blob
from documents.uploads import PDF, checked_bytes

from . import engine, events, hooks, keys, trust
from .geometry import Box
from .models import (
    KeyStorage,
    SignaturePlacement,
    SigningCredential,
    SigningKind,
    SigningRequest,
    SigningState,
    TrustAnchor,
)
from .signers import KeyHolder, SigningUnavailable

if TYPE_CHECKING:
    from .layout import SignedForm

logger = logging.getLogger(__name__)



def signing_lease() -> timedelta:
    """A worker that took a request and died leaves it "signing"; after this lease another delivery may take
    it (SIGNING_LEASE_SECONDS, 300 by default: longer than any signature takes)."""
    return timedelta(seconds=settings.SIGNING_LEASE_SECONDS)


MAX_ATTEMPTS = 3
_HOLDERS: dict[tuple[int, str], KeyHolder] = {}


_IMAGES: dict[tuple[int, str], bytes] = {}
# What a signature needs of its credential besides the key material (loaded on a key-holder cache miss only).
_CREDENTIAL_HEAVY = ("credential__certificate_der", "credential__chain_pem", "credential__encrypted_key",
                     "credential__encrypted_pin", "credential__image_png")


def stamp_image(credential: SigningCredential, kind: str) -> bytes:
    """The credential's signature or seal image (a generated one when it has none), read once per process:
    a credential's image never changes after import."""
    cache_key = (credential.pk, credential.fingerprint)
    image = _IMAGES.get(cache_key)
    if image is None:
        image = bytes(credential.image_png or b"")
        if not image:
            image = default_signature_image() if kind == SigningKind.PERSONAL else default_seal_image(
                credential.agency.name)
        _IMAGES[cache_key] = image
    return image


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


def forget_key_holder(credential: SigningCredential) -> None:
    """Drop the credential's cached holder after a failure (a refused PIN, a token that went away): the next
    signature builds it again from the database, so a PIN corrected by re-importing is picked up."""
    _HOLDERS.pop((credential.pk, credential.fingerprint), None)


def _kek() -> bytes:
    return keys.parse_kek(settings.SIGNING_KEY_ENCRYPTION_KEY)


def timestamper():
    """PAdES B-T when a timestamp authority is configured, else B-B."""
    return engine.timestamper_from_url(settings.SIGNING_TSA_URL) if settings.SIGNING_TSA_URL else None


_MATERIAL: dict[tuple, engine.ValidationMaterial] = {}  # the trust store's, and each signer's, per its state


def validation_material(credential: SigningCredential | None = None) -> engine.ValidationMaterial | None:
    """PAdES B-LT (the chain and its CRLs embedded, so the signature can be checked offline years later)
    when every trusted CA has a current revocation list; otherwise None (B-B or B-T). Revocation data is
    what administrators brought in: nothing is fetched, the network is often closed. One small query per
    signature; the certificates and CRLs are loaded and parsed again only when the trust store changed
    (the key has every active anchor and the SHA-256 of its CRL). With `credential`, only the CRLs of the CAs
    above its certificate are given to the signer."""
    now = timezone.now()
    anchors = tuple(
        TrustAnchor.objects.filter(is_active=True).order_by("pk")
        .values_list("pk", "is_root", "crl_next_update", "crl_sha256")
    )
    if not anchors or any(not sha or (next_update and next_update < now) for _pk, _root, next_update, sha in anchors):
        return None
    material = _MATERIAL.get(anchors)
    if material is None:
        material = engine.ValidationMaterial(trust_roots=trust.trust_roots(), intermediates=trust.intermediates(),
                                             crls=trust.revocation_lists(), revocation_mode="require")
        _MATERIAL.clear()
        _MATERIAL[anchors] = material
    if credential is None:
        return material
    # One signer's material is kept with the trust store's (its asn1crypto forms are then parsed only once).
    signer_key = (anchors, credential.pk, credential.fingerprint)
    mine = _MATERIAL.get(signer_key)
    if mine is None:
        mine = _MATERIAL[signer_key] = _for_signer(material, key_holder(credential))
    return mine


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
    """Mark the request as being signed, unless it is done, failed, or a live worker has it. Everything the
    signature needs (credential, its agency, the file) comes in the same query."""
    with transaction.atomic():
        request = (SigningRequest.objects.select_for_update(of=("self",))
                   .select_related("credential__agency", "source_blob", "requested_by", "document")
                   .defer(*_CREDENTIAL_HEAVY).filter(pk=request_id).first())
        if request is None or request.state in (SigningState.DONE, SigningState.FAILED):
            return None
        now = timezone.now()
        if request.state == SigningState.SIGNING and request.started_at and now - request.started_at < signing_lease():
            return None
        request.state, request.started_at = SigningState.SIGNING, now
        request.attempts += 1
        request.save(update_fields=["state", "started_at", "attempts"])
    return request


def _read(blob: FileBlob) -> bytes:
    with open_verified(blob) as handle:
        return handle.read()


def _box(values) -> Box | None:
    return Box(*values) if values else None


def _boxes(layout) -> dict:
    def flat(box: Box | None):
        return [box.page, box.x1, box.y1, box.x2, box.y2] if box is not None else None

    return {"signature": flat(layout.signature_box), "number": flat(layout.number_box),
            "date": flat(layout.date_box), "seal": flat(layout.seal_box)}


def placement(blob: FileBlob, signer_name: str, pdf: bytes | None = None) -> dict:
    """Where the marks go on `blob` for `signer_name`: stored once per content and name (the text search of
    the pages is the slowest step of a signature), found now and stored if nobody asked for it before."""
    stored = SignaturePlacement.objects.filter(blob=blob, signer_name=signer_name[:200]).values_list(
        "boxes", flat=True).first()
    if stored is not None:
        return stored
    from .layout import find_layout

    layout = find_layout(pdf if pdf is not None else _read(blob), signer_name=signer_name)
    boxes = _boxes(layout)
    try:
        with transaction.atomic():
            SignaturePlacement.objects.create(blob=blob, signer_name=signer_name[:200], boxes=boxes,
                                              found=layout.found)
    except IntegrityError:
        pass  # found by another worker at the same time: the same content gives the same boxes
    return boxes


def prepare_placement(blob_sha256: str, signer_name: str) -> str:
    """The body of the placement task: idempotent (a stored placement is kept)."""
    blob = FileBlob.objects.filter(sha256=blob_sha256).first()
    if blob is None or blob.content_type != PDF:
        return "skipped"
    try:
        placement(blob, signer_name)
    except (IntegrityFailure, OSError):
        logger.warning("placement of %s could not be read; the signing task will try again", blob_sha256)
        return "failed"
    return "done"


def _sign(request: SigningRequest) -> tuple[bytes, list[tuple[str, bytes | None, FileBlob | None]]]:
    """The signed main file, and for the seal its attachments: PDFs signed by the agency at the top right of
    page 1 (PL I §II.8.b), other files passed through as they are."""
    main = _sign_main(request)
    if request.kind != SigningKind.SEAL or not request.attachments:
        return main, []
    holder = key_holder(request.credential)
    blobs = FileBlob.objects.in_bulk([item["sha256"] for item in request.attachments])
    extras: list[tuple[str, bytes | None, FileBlob | None]] = []
    for item in request.attachments:
        blob = blobs.get(item["sha256"])
        if blob is None:
            raise IntegrityFailure(f"attachment {item['name']} is missing")
        if blob.content_type != PDF:
            extras.append((item["name"], None, blob))
            continue
        extras.append((item["name"], engine.sign_attachment(
            _read(blob), holder, number_notation=request.number_text, signing_time=timezone.localtime(),
            agency_name=request.credential.agency.name, timestamper=timestamper(),
        ), None))
    return main, extras


def _sign_main(request: SigningRequest) -> bytes:
    credential = request.credential
    holder = key_holder(credential)
    pdf = _read(request.source_blob)
    agency = credential.agency
    if request.kind == SigningKind.PERSONAL:
        boxes = placement(request.source_blob, request.signer_name, pdf)
        return engine.sign_personal(
            pdf, holder, image_png=stamp_image(credential, SigningKind.PERSONAL),
            box=_box(boxes["signature"]), number_box=_box(boxes["number"]), date_box=_box(boxes["date"]),
            signer_name=request.signer_name, reason=_("Approval and signing of the document"),
            location=agency.place_name or agency.name, timestamper=timestamper(),
            validation=validation_material(credential),
        )
    form = _signed_form(pdf) if request.kind == SigningKind.SEAL else None
    if form is None or engine.NUMBER_FIELD not in form.field_names:
        # An attachment, or a PDF signed without Decree 30's blank number and date (no field to fill): the
        # agency signature shows number/notation and the signing time as text at the top right, as PL I
        # prescribes for separately filed attachments and copies.
        return engine.sign_attachment(
            pdf, holder, number_notation=request.number_text, signing_time=timezone.localtime(),
            agency_name=agency.name, timestamper=timestamper(),
        )
    seal_box = form.seal_box
    if seal_box is None:  # the leader's widget is unreadable: search the signature block in the text
        seal_box = _box(placement(request.source_blob, request.signer_name, pdf)["seal"])
    return engine.fill_and_seal(
        pdf, holder, number_notation=request.number_text.split("/")[0], date_text=request.date_text,
        seal_png=stamp_image(credential, SigningKind.SEAL),
        box=seal_box, agency_name=agency.name,
        reason=_("Issued by %(agency)s") % {"agency": agency.name},
        location=agency.place_name or agency.name, timestamper=timestamper(),
        validation=validation_material(credential),
    )


def _signed_form(pdf: bytes) -> SignedForm:
    """The leader-signed file's field names and the seal box over the leader's signature (read from the
    form, no text search); an unreadable form has no fields, so the seal then signs as an attachment."""
    from .layout import read_signed_form

    return read_signed_form(pdf, engine.LEADER_FIELD)


def _mark_failed(request: SigningRequest, message: str) -> None:
    """Inside a transaction, with the request locked: fail it, audit it, tell the caller."""
    request.state, request.error, request.finished_at = SigningState.FAILED, message[:2000], timezone.now()
    request.save(update_fields=["state", "error", "finished_at"])
    record_event(actor=request.requested_by, verb=events.SIGNING_FAILED, target=request.audit_target(),
                 agency_id=request.agency_id, data={"request_id": request.pk, "kind": request.kind,
                                                    "reason": request.error})
    subscriber = hooks.subscribed_types().get(request.subject_type)
    if subscriber is not None and subscriber.on_failed is not None:
        subscriber.on_failed(request)


def _fail(request_id: int, message: str) -> None:
    with transaction.atomic():
        request = SigningRequest.objects.select_for_update().select_related("requested_by").get(pk=request_id)
        if request.state != SigningState.SIGNING:
            return
        _mark_failed(request, message)


def _stored_name(request: SigningRequest) -> str:
    if request.kind == SigningKind.PERSONAL:
        return f"ky-so-{request.subject_label[:60] or request.source_blob_id[:12]}.pdf"
    return f"{request.number_text or request.source_blob_id[:12]}.pdf".replace("/", "-")


def _store_blobs(request: SigningRequest, signed: bytes, extras) -> hooks.SigningResult:
    """Write the signed files under their hashes (content-addressed: a repeated write is harmless, and a
    rolled-back transaction leaves at most an unused file that no row points to)."""
    blob = store_blob(checked_bytes(signed, _stored_name(request), PDF))
    attachments = []
    for name, content, stored in extras:
        if content is not None:
            attachments.append(hooks.SignedFile(name, store_blob(checked_bytes(content, name, PDF)), True))
        else:
            attachments.append(hooks.SignedFile(name, stored, False))
    return hooks.SigningResult(blob=blob, attachments=attachments)


def _store(request: SigningRequest, signed: bytes, extras) -> str:
    """Keep the result and let the caller take its next step, in one transaction (the request as `_take`
    loaded it; only its state is read again, under the row lock). A caller that refuses the result rolls
    the whole transaction back; the request is then failed with its reason."""
    try:
        with transaction.atomic(), batched_events():
            current = (SigningRequest.objects.select_for_update().filter(pk=request.pk)
                       .values_list("state", "result_blob_id").first())
            if current is None or current[0] != SigningState.SIGNING or current[1]:
                return "skipped"  # another delivery finished first: keep its result, never a second signature
            result = _store_blobs(request, signed, extras)
            request.state, request.result_blob, request.finished_at, request.error = (
                SigningState.DONE, result.blob, timezone.now(), "")
            request.result_attachments = [{"sha256": item.blob.sha256, "name": item.name, "signed": item.signed}
                                          for item in result.attachments]
            hooks.subscriber_for(request.subject_type).on_signed(request, result)
            request.save(update_fields=["state", "result_blob", "result_attachments", "finished_at", "error"])
            record_event(actor=request.requested_by, verb=events.SIGNING_DONE, target=request.audit_target(),
                         agency_id=request.agency_id, data={
                             "request_id": request.pk, "kind": request.kind, "sha256": result.blob.sha256,
                             "credential": request.credential.fingerprint,
                             "authority_prefix": request.authority_prefix,
                         })
    except hooks.SigningRefused as refused:
        _fail(request.pk, str(refused))
        return "failed"
    return "done"


def run_signing_request(request_id: int) -> str:
    """The body of the `signing` task; returns what happened (for logs and tests)."""
    request = _take(request_id)
    if request is None:
        return "skipped"
    try:
        signed, extras = _sign(request)
    except SigningUnavailable as error:
        forget_key_holder(request.credential)
        _fail(request_id, str(error))
        return "failed"
    except (engine.SigningEngineError, keys.CertificateRefused, IntegrityFailure, ValueError) as error:
        _fail(request_id, _("The document could not be signed: %(reason)s") % {"reason": error})
        return "failed"
    except Exception:
        logger.exception("signing request %s failed", request_id)
        forget_key_holder(request.credential)
        _fail(request_id, _("The document could not be signed because of an unexpected error; the administrator "
                            "can see the details in the server log."))
        return "failed"
    try:
        return _store(request, signed, extras)
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
    stuck = SigningRequest.objects.filter(state=SigningState.SIGNING, started_at__lt=now - signing_lease())
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


__all__ = ["key_holder", "placement", "run_signing_request", "stale_request_ids"]
