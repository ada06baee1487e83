"""Signing from the draft page and the API, the certificates page, the verification page and endpoint,
and every PDF attached to a document is verified; nobody acts on or sees what they may not."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from documents import services as documents_services
from documents.models import Confidentiality
from signatures import events
from signatures.images import seal_png
from signatures.models import CredentialKind, FileVerification, SigningCredential, SigningRequest, SigningState
from signatures.pki import build_demo_pki
from tests.factories import PASSWORD, doc_type
from tests.workflows.helpers import office

from .conftest import decree30

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_leader_signs_from_the_draft_page_and_sees_the_progress(signed_setup, django_capture_on_commit_callbacks):
    o, draft = signed_setup
    page = client_for(o.leader)
    body = page.get(f"/work/drafts/{draft.pk}/").content.decode()
    assert 'id="sign-form"' in body
    with django_capture_on_commit_callbacks(execute=False):
        response = page.post(f"/work/drafts/{draft.pk}/sign/", {"password": PASSWORD})
    assert response.status_code == 302
    request = SigningRequest.objects.get()
    body = page.get(f"/work/drafts/{draft.pk}/").content.decode()
    # Queued: the page's "Signing..." box follows the draft's signing state without reloading.
    assert f"/work/drafts/{draft.pk}/signing-state/" in body and "js/draft_signing.js" in body
    status = api_for(o.leader).get(f"/api/v1/signing-requests/{request.pk}/").json()
    assert status["state"] == SigningState.QUEUED and status["state_display"]


def test_wrong_password_on_the_page_is_reported_and_nothing_is_queued(signed_setup):
    o, draft = signed_setup
    response = client_for(o.leader).post(f"/work/drafts/{draft.pk}/sign/", {"password": "nope"}, follow=True)
    assert response.status_code == 200
    assert not SigningRequest.objects.exists()
    assert list(response.context["messages"])  # the reason is shown


def test_api_sign_and_seal_with_202_and_status(signed_setup, django_capture_on_commit_callbacks):
    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_for(o.leader).post(f"/api/v1/drafts/{draft.pk}/sign/", {"password": PASSWORD}, format="json")
    assert answer.status_code == 202, answer.content
    request_id = answer.json()["id"]
    assert api_for(o.leader).get(f"/api/v1/signing-requests/{request_id}/").json()["state"] == SigningState.DONE
    with django_capture_on_commit_callbacks(execute=True):
        sealed = api_for(o.clerk).post(f"/api/v1/drafts/{draft.pk}/seal/", {"password": PASSWORD}, format="json")
    assert sealed.status_code == 202, sealed.content
    assert sealed.json()["document"] is not None
    bad = api_for(o.leader).post(f"/api/v1/drafts/{draft.pk}/sign/", {"password": PASSWORD}, format="json")
    assert bad.status_code == 400 and bad.json()["message"]  # the draft is no longer ready to sign


def test_people_outside_the_draft_get_404_and_see_no_requests(signed_setup, django_capture_on_commit_callbacks):
    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=True):
        request = api_for(o.leader).post(f"/api/v1/drafts/{draft.pk}/sign/", {"password": PASSWORD},
                                         format="json").json()
    for outsider in (o.outsider, o.other_unit_staff):
        assert api_for(outsider).get(f"/api/v1/signing-requests/{request['id']}/").status_code == 404
        assert api_for(outsider).post(f"/api/v1/drafts/{draft.pk}/seal/", {"password": PASSWORD},
                                      format="json").status_code == 404
        assert client_for(outsider).post(f"/work/drafts/{draft.pk}/sign/",
                                         {"password": PASSWORD}).status_code == 404
    # A colleague who can see the draft but holds no step is refused and nothing changes.
    answer = api_for(o.handler).post(f"/api/v1/drafts/{draft.pk}/seal/", {"password": PASSWORD}, format="json")
    assert answer.status_code == 403
    assert SigningRequest.objects.count() == 1


def test_person_imports_own_certificate_on_the_page_and_the_key_never_shows(superuser_actor):
    o = office()
    from demo.pki import install

    installed = install(superuser_actor, [o.agency])
    o.handler.full_name = "Phạm Thị Mới"  # the certificate names its owner
    o.handler.save(update_fields=["full_name"])
    identity = installed.pki.add_person("newcomer", "Phạm Thị Mới")
    SigningCredential.objects.filter(user=o.handler).delete()
    p12 = identity.to_pkcs12(b"secret-123")
    page = client_for(o.handler)
    response = page.post("/signatures/certificates/", {
        "action": "pkcs12", "password": "secret-123",
        "file": SimpleUploadedFile("me.p12", p12, "application/x-pkcs12"),
        "image": SimpleUploadedFile("sig.png", seal_png("x"), "image/png"),
    })
    assert response.status_code == 302
    credential = SigningCredential.objects.get(user=o.handler, is_active=True)
    assert credential.encrypted_key and bytes(credential.encrypted_key)[:4] == b"EOK1"
    body = page.get("/signatures/certificates/").content.decode()
    assert "Phạm Thị Mới" in body and "EOK1" not in body
    assert AuditEvent.objects.filter(verb=events.CREDENTIAL_IMPORTED, target_id=str(credential.pk)).exists()
    event = AuditEvent.objects.get(verb=events.CREDENTIAL_IMPORTED, target_id=str(credential.pk))
    assert "key" not in " ".join(event.data.keys()).replace("key_storage", "")


def test_refusals_wrong_password_expired_and_untrusted_certificates(superuser_actor):
    from datetime import UTC, datetime, timedelta

    o = office()
    from demo.pki import install

    pki = install(superuser_actor, [o.agency]).pki
    page = client_for(o.handler)
    SigningCredential.objects.filter(user=o.handler).delete()

    def upload(identity, password=b"pw"):
        return page.post("/signatures/certificates/", {
            "action": "pkcs12", "password": password.decode(),
            "file": SimpleUploadedFile("x.p12", identity.to_pkcs12(b"pw"), "application/x-pkcs12")}, follow=True)

    now = datetime.now(UTC)
    good = pki.add_person("handler-new", "Lê Văn Xử")
    expired = pki.issue("Hết Hạn", not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))
    untrusted = build_demo_pki(people={"x": "Người Lạ"}).people["x"]
    for identity, password in ((good, b"wrong"), (expired, b"pw"), (untrusted, b"pw")):
        response = upload(identity, password)
        errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
        assert errors and all(errors)
    assert not SigningCredential.objects.filter(user=o.handler).exists()


def test_only_administrators_manage_the_agency_seal_and_the_trust_store(superuser_actor):
    o = office()
    from demo.pki import install

    pki = install(superuser_actor, [o.agency]).pki
    page = client_for(o.handler)
    before = SigningCredential.objects.filter(kind=CredentialKind.SEAL, agency=o.agency, is_active=True).get()
    page.post("/signatures/certificates/", {
        "action": "pkcs12", "password": "pw", "for": "seal",
        "file": SimpleUploadedFile("seal.p12", pki.seals[f"agency-{o.agency.pk}"].to_pkcs12(b"pw"))})
    assert SigningCredential.objects.filter(kind=CredentialKind.SEAL, agency=o.agency, is_active=True).get() == before
    from signatures.models import TrustAnchor

    anchor = TrustAnchor.objects.filter(is_active=True).first()
    page.post("/signatures/certificates/", {"action": "untrust", "anchor": anchor.pk})
    page.post("/signatures/certificates/", {"action": "trust", "file": SimpleUploadedFile("ca.pem", b"x")})
    assert TrustAnchor.objects.filter(is_active=True).count() == 2


def test_every_pdf_attached_to_a_document_is_verified(superuser_actor, django_capture_on_commit_callbacks):
    o = office()
    data = documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Văn bản đến có chữ ký số", organ_name="Bộ Nội vụ",
        code_number="9", code_notation="BNV-VP", confidentiality=Confidentiality.NORMAL)
    with django_capture_on_commit_callbacks(execute=True):
        document = documents_services.register_incoming(
            o.clerk, data, [SimpleUploadedFile("den.pdf", decree30(o), "application/pdf")])
    verification = FileVerification.objects.get(blob=document.files.get().blob)
    assert (verification.state, verification.verdict) == ("done", "unsigned")
    body = client_for(o.clerk).get(f"/documents/{document.pk}/").content.decode()
    assert "verdict-unsigned" in body


def test_verification_page_and_endpoint_report_without_keeping_the_file(signed_setup,
                                                                        django_capture_on_commit_callbacks):
    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=True):
        request = api_for(o.leader).post(f"/api/v1/drafts/{draft.pk}/sign/", {"password": PASSWORD},
                                         format="json").json()
    signed = SigningRequest.objects.get(pk=request["id"])
    from documents.storage import open_verified

    with open_verified(signed.result_blob) as handle:
        pdf = handle.read()
    answer = api_for(o.outsider).post("/api/v1/signatures/verify/", {"file": io.BytesIO(pdf)}, format="multipart")
    assert answer.status_code == 200
    assert answer.json()["verdict"] == "valid" and answer.json()["summary"]
    garbage = api_for(o.outsider).post("/api/v1/signatures/verify/",
                                       {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.7 broken")}, format="multipart")
    assert garbage.status_code == 200 and garbage.json()["verdict"] == "unverifiable"
    page = client_for(o.clerk).post("/signatures/verify/", {"file": SimpleUploadedFile("s.pdf", pdf)})
    assert page.status_code == 200 and 'id="verification-report"' in page.content.decode()
    assert APIClient().post("/api/v1/signatures/verify/", {}, format="multipart").status_code in (401, 403)


def test_certificates_of_another_agency_cannot_be_touched_or_probed(superuser_actor):
    o = office()
    from demo.pki import install

    install(superuser_actor, [o.agency])
    foreign = SigningCredential.objects.filter(user=o.leader, is_active=True).get()
    page = client_for(o.outsider)
    assert page.post("/signatures/certificates/", {"action": "deactivate", "credential": foreign.pk}).status_code == 404
    assert page.post("/signatures/certificates/", {"action": "deactivate", "credential": "x"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active
    assert foreign.subject not in page.get("/signatures/certificates/").content.decode()


def test_issued_document_shows_the_agency_additions_and_each_later_revision(signed_setup,
                                                                            django_capture_on_commit_callbacks):
    """The leader signs, the clerk seals: the API, the verification page and the stored file's verification
    name the number, date and seal as the issuing agency's additions and list what each later revision did."""
    from documents.models import Document
    from documents.storage import open_verified
    from workflows import draft_signing

    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=True):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    seal.refresh_from_db()
    assert seal.state == SigningState.DONE, seal.error
    document = Document.objects.get(pk=seal.document_id)
    main = document.files.get(is_main=True)
    with open_verified(main.blob) as handle:
        pdf = handle.read()

    answer = api_for(o.outsider).post("/api/v1/signatures/verify/", {"file": io.BytesIO(pdf)}, format="multipart")
    body = answer.json()
    assert [s["verdict"] for s in body["signatures"]] == ["valid", "valid"], body
    assert body["signatures"][0]["issuing_agency"] == body["signatures"][1]["signer_name"]
    (revision,) = [r for r in body["revisions"] if r["revision"] > body["signatures"][0]["revision"]]
    assert [(c["kind"], c["name"]) for c in revision["changes"] if c["kind"] != "validation_data_added"] == [
        ("field_filled", "SoKyHieu"), ("field_filled", "NgayBanHanh"), ("signature_added", "ChuKyCoQuan")]
    summary = {(line["label"], line["value"]) for line in body["summary"]}
    agency = body["signatures"][1]["signer_name"]
    assert ("Thay đổi sau khi ký",
            f"Số, ký hiệu và ngày ban hành do cơ quan ban hành điền, đóng dấu bởi {agency}") in summary
    assert any(label.startswith("Phiên bản ") and "Điền trường biểu mẫu: SoKyHieu" in value
               for label, value in summary), summary

    page = client_for(o.clerk).post("/signatures/verify/", {"file": SimpleUploadedFile("s.pdf", pdf)})
    assert "Điền trường biểu mẫu: NgayBanHanh" in page.content.decode()

    verification = FileVerification.objects.get(blob=main.blob)
    assert verification.verdict == "valid", verification.report
    detail = client_for(o.clerk).get(f"/documents/{document.pk}/").content.decode()
    assert "đóng dấu bởi" in detail and "Điền trường biểu mẫu: SoKyHieu" in detail
