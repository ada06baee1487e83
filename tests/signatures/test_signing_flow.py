"""The leader signs the approved draft and the clerk fills number and date and applies the agency seal,
through the services and the signing task; refusals, idempotence, failure and retry."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from documents.models import Document
from signatures import events, services, signing
from signatures.models import SigningCredential, SigningRequest, SigningState
from signatures.verification import Verdict, verify_pdf
from tests.factories import PASSWORD
from tests.signatures import poppler
from workflows import draft_signing
from workflows.drafting import DraftState

pytestmark = pytest.mark.django_db


def test_leader_signs_then_clerk_seals_and_both_signatures_are_valid(signed_setup, django_capture_on_commit_callbacks,
                                                                   tmp_path):
    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=True):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    request.refresh_from_db()
    assert request.state == SigningState.DONE, request.error
    draft.refresh_from_db()
    assert draft.state == DraftState.SIGNED and draft.signed_by == o.leader
    signed_version = draft.versions.order_by("-number").first()
    assert signed_version.blob == request.result_blob

    with django_capture_on_commit_callbacks(execute=True):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    seal.refresh_from_db()
    assert seal.state == SigningState.DONE, seal.error
    document = Document.objects.get(pk=seal.document_id)
    main = document.files.get(is_main=True)
    from documents.storage import open_verified

    with open_verified(main.blob) as handle:
        sealed = handle.read()
    report = verify_pdf(sealed, trust_roots=services.trust_roots(), intermediates=services.intermediates(),
                        crls=services.revocation_lists())
    verdicts = [s.verdict for s in report.signatures]
    # The clerk's number, date and seal are recognised as the issuing agency's expected additions: no warning.
    assert verdicts == [Verdict.VALID, Verdict.VALID], report.to_dict()
    leader_report, seal_report = report.signatures
    assert leader_report.issuing_agency == seal_report.signer_name and leader_report.issuing_filled
    assert [c.kind for r in report.changes_after(leader_report) for c in r.changes
            if c.kind != "validation_data_added"] == ["field_filled", "field_filled", "signature_added"]
    # No timestamp authority configured: PAdES B-B.
    assert [s.pades_level for s in report.signatures] == ["B-B", "B-B"], report.to_dict()
    import io

    from pypdf import PdfReader

    fields = {name: field.get("/V") for name, field in PdfReader(io.BytesIO(sealed)).get_fields().items()}
    assert fields["SoKyHieu"] == document.code_number
    assert fields["NgayBanHanh"].startswith(f"{o.agency.place_name or o.agency.name}, ngày ")
    # An independent validator agrees: poppler's pdfsig, trusting only the demo root.
    report = poppler.pdfsig(sealed, services.trust_roots(), tmp_path)
    assert report.count("Signature Validation: Signature is Valid.") == 2, report
    assert report.count("Certificate Validation: Certificate is Trusted.") == 2, report
    verbs = list(AuditEvent.objects.filter(verb__startswith="signatures.signing").values_list("verb", flat=True))
    assert verbs.count(events.SIGNING_REQUESTED) == 2 and verbs.count(events.SIGNING_DONE) == 2


def test_wrong_password_and_wrong_person_are_refused_and_change_nothing(signed_setup):
    o, draft = signed_setup
    with pytest.raises(PermissionDenied):
        draft_signing.request_personal_signature(o.leader, draft, password="wrong")
    with pytest.raises(PermissionDenied):
        draft_signing.request_personal_signature(o.clerk, draft, password=PASSWORD)
    with pytest.raises(ValidationError):  # nothing signed digitally yet
        draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    assert not SigningRequest.objects.exists()
    draft.refresh_from_db()
    assert draft.state == DraftState.READY_TO_SIGN


def test_a_signer_without_a_certificate_is_told_so(signed_setup):
    o, draft = signed_setup
    SigningCredential.objects.filter(user=o.leader).update(is_active=False)
    with pytest.raises(ValidationError) as refused:
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    assert "credential" in refused.value.message_dict


def test_repeated_and_redelivered_tasks_never_sign_twice(signed_setup, django_capture_on_commit_callbacks,
                                                         monkeypatch):
    o, draft = signed_setup
    published = []
    monkeypatch.setattr("eoffice.tasking.publish", lambda name, *args: published.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
        again = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    assert again.pk == request.pk and published == [("signatures.tasks.sign", (request.pk,))]
    assert signing.run_signing_request(request.pk) == "done"
    assert signing.run_signing_request(request.pk) == "skipped"
    versions = draft.versions.count()
    assert versions == 2  # the draft and exactly one signed version
    assert AuditEvent.objects.filter(verb=events.SIGNING_DONE).count() == 1


def test_a_failed_signing_leaves_the_draft_unchanged_and_can_be_retried(signed_setup, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    o, draft = signed_setup

    def token_gone(credential):
        raise signing.SigningUnavailable("The token is not connected.")

    monkeypatch.setattr(signing, "key_holder", token_gone)
    with django_capture_on_commit_callbacks(execute=True):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    request.refresh_from_db()
    assert request.state == SigningState.FAILED and "token" in request.error
    draft.refresh_from_db()
    assert draft.state == DraftState.READY_TO_SIGN and draft.versions.count() == 1
    assert AuditEvent.objects.filter(verb=events.SIGNING_FAILED).count() == 1

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.retry(o.leader, request, password=PASSWORD)
    retried.refresh_from_db()
    assert retried.pk == request.pk and retried.state == SigningState.DONE and retried.attempts == 2


def test_a_pdf_without_the_decree_layout_is_signed_and_sealed_with_a_text_stamp(
        signed_setup, django_capture_on_commit_callbacks):
    """No blank number and date to fill: the seal shows number/notation and time at the top right."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from pypdf import PdfReader

    from tests.factories import make_pdf
    from workflows import drafting_services as ds

    o, draft = signed_setup
    ds.upload_version(o.leader, draft, SimpleUploadedFile("scan.pdf", make_pdf(2, "Bản khác"), "application/pdf"))
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    seal.refresh_from_db()
    assert seal.state == SigningState.DONE, seal.error
    from documents.storage import open_verified

    with open_verified(seal.result_blob) as handle:
        sealed = handle.read()
    report = verify_pdf(sealed, trust_roots=services.trust_roots(), intermediates=services.intermediates())
    # Only the agency seal was added after the leader's signature: the expected addition, no warning.
    assert [s.verdict for s in report.signatures] == [Verdict.VALID, Verdict.VALID], report.to_dict()
    assert report.signatures[0].issuing_agency and not report.signatures[0].issuing_filled
    assert "SoKyHieu" not in (PdfReader(io.BytesIO(sealed)).get_fields() or {})
    text = poppler.pdftotext_first_page(sealed)  # poppler draws the stamp's appearance
    assert f"{seal.document.code_number}/{seal.document.code_notation}" in text and "+07:00" in text


def test_separate_attachments_get_the_agency_signature_top_right_on_issue(
        signed_setup, django_capture_on_commit_callbacks):
    """PL I §II.8.b: a PDF attachment in its own file is signed by the agency (no image; number/notation and
    ISO 8601 time with +07:00); other attachments go with the document as they are."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from documents.storage import open_verified
    from signatures.sample_documents import build_attachment_pdf
    from workflows import drafting_services as ds

    o, draft = signed_setup
    appendix = build_attachment_pdf("Phụ lục danh sách thành viên Tổ công tác")
    ds.add_attachments(o.leader, draft, [
        SimpleUploadedFile("phu-luc.pdf", appendix, "application/pdf"),
        SimpleUploadedFile("bang-tinh.xlsx", _xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ])
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    seal.refresh_from_db()
    assert seal.state == SigningState.DONE, seal.error
    files = {f.original_name: f for f in seal.document.files.select_related("blob")}
    assert set(files) == {f"{seal.document.code_number}-{seal.document.code_notation}.pdf".replace("/", "-"),
                          "phu-luc.pdf", "bang-tinh.xlsx"}
    assert [f.is_main for f in files.values()].count(True) == 1
    with open_verified(files["phu-luc.pdf"].blob) as handle:
        signed_appendix = handle.read()
    report = verify_pdf(signed_appendix, trust_roots=services.trust_roots(), intermediates=services.intermediates())
    assert [s.verdict for s in report.signatures] == [Verdict.VALID]
    text = poppler.pdftotext_first_page(signed_appendix)
    assert f"{seal.document.code_number}/{seal.document.code_notation}" in text and "+07:00" in text
    assert files["bang-tinh.xlsx"].blob.sha256 == draft.attachments.get(file_name="bang-tinh.xlsx").blob_id


def _xlsx() -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "Danh sách"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_with_a_timestamp_authority_signatures_are_b_t_and_with_current_crls_b_lt(
        signed_setup, monkeypatch, django_capture_on_commit_callbacks):
    """A configured TSA gives B-T; every trusted CA having a current CRL (the demo brings both) adds the
    chain and CRLs to the file: B-LT, checkable offline later."""
    from signatures import engine
    from signatures.models import TrustAnchor

    o, draft = signed_setup
    monkeypatch.setattr(signing, "timestamper",
                        lambda: engine.make_timestamper(o.pki.tsa.certificate, o.pki.tsa.private_key, o.pki.tsa.chain))
    with django_capture_on_commit_callbacks(execute=True):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    request.refresh_from_db()
    assert request.state == SigningState.DONE, request.error
    from documents.storage import open_verified

    with open_verified(request.result_blob) as handle:
        signed = handle.read()
    report = verify_pdf(signed, trust_roots=services.trust_roots() + [o.pki.tsa.chain[-1]],
                        intermediates=services.intermediates(), crls=services.revocation_lists())
    (signature,) = report.signatures
    assert (signature.verdict, signature.pades_level, signature.revocation) == (Verdict.VALID, "B-LT", "good"), \
        report.to_dict()
    assert signature.timestamp_time is not None

    # Without current revocation data the same signature is B-T only (nothing fetched, nothing embedded).
    TrustAnchor.objects.update(crl_der=None, crl_next_update=None, crl_sha256="")
    assert signing.validation_material() is None


def test_a_failed_seal_keeps_the_number_and_is_retried_on_the_same_document(
        signed_setup, monkeypatch, django_capture_on_commit_callbacks):
    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=True):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    draft.refresh_from_db()
    real_key_holder = signing.key_holder

    def seal_token_gone(credential):
        if credential.kind == "seal":
            raise signing.SigningUnavailable("The agency's token is not connected.")
        return real_key_holder(credential)

    monkeypatch.setattr(signing, "key_holder", seal_token_gone)
    with django_capture_on_commit_callbacks(execute=True):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    seal.refresh_from_db()
    assert seal.state == SigningState.FAILED and "token" in seal.error
    document = seal.document
    assert not document.files.exists()  # registered and numbered, the sealed original not yet attached
    monkeypatch.setattr(signing, "key_holder", real_key_holder)
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.retry(o.clerk, seal, password=PASSWORD)
    retried.refresh_from_db()
    assert (retried.pk, retried.state, retried.document_id) == (seal.pk, SigningState.DONE, document.pk)
    assert Document.objects.filter(register=document.register).count() == 1  # no second number
    assert document.files.filter(is_main=True).count() == 1


def test_a_signature_of_a_version_replaced_meanwhile_is_not_kept(signed_setup, django_capture_on_commit_callbacks):
    """The leader uploads a corrected version while the signing task waits in the queue: the old version's
    signature is dropped with a reason, and signing the new version works."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workflows import drafting_services as ds

    from .conftest import decree30

    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=False):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    ds.upload_version(o.leader, draft, SimpleUploadedFile("qd-v2.pdf", decree30(o) + b"\n", "application/pdf"))
    assert signing.run_signing_request(request.pk) == "failed"  # the task signed; its result was refused
    request.refresh_from_db()
    assert request.state == SigningState.FAILED and request.error
    draft.refresh_from_db()
    assert draft.state == DraftState.READY_TO_SIGN and draft.versions.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        again = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    again.refresh_from_db()
    assert again.pk != request.pk and again.state == SigningState.DONE


def test_a_signature_that_cannot_be_stored_fails_with_a_reason_and_a_dead_worker_is_not_retried_for_ever(
        signed_setup, monkeypatch, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from workflows import drafting_services as ds

    o, draft = signed_setup

    def refuse(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ds, "store_system_version", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    request.refresh_from_db()
    assert request.state == SigningState.FAILED and request.error
    draft.refresh_from_db()
    assert draft.state == DraftState.READY_TO_SIGN and draft.versions.count() == 1

    # A worker died on it three times: the sweeper fails it with the reason instead of taking it again.
    SigningRequest.objects.filter(pk=request.pk).update(
        state=SigningState.SIGNING, attempts=signing.MAX_ATTEMPTS, started_at=timezone.now() - timedelta(hours=1))
    assert request.pk not in signing.stale_request_ids()
    request.refresh_from_db()
    assert request.state == SigningState.FAILED and str(signing.MAX_ATTEMPTS) in request.error
