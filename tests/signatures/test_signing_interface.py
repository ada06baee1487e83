"""The signing interface on its own: any app signs a PDF blob for its own subject and is told the outcome
through its subscriber; the signatures app knows nothing of drafts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from documents.storage import open_verified
from signatures import events, hooks, services, signing
from signatures.models import CredentialKind, SignaturePlacement, SigningKind, SigningRequest, SigningState
from signatures.verification import Verdict, verify_pdf
from tests.signatures.conftest import make_signed_setup

pytestmark = pytest.mark.django_db

SUBJECT_TYPE = "tests.thing"


class Recorder:
    """A subscriber like an archive or a one-stop desk would register: it keeps what it is told."""

    def __init__(self, refuse: str = "") -> None:
        self.signed: list[tuple[int, str]] = []
        self.failed: list[int] = []
        self.refuse = refuse

    def on_signed(self, request, result: hooks.SigningResult) -> None:
        if self.refuse:
            raise hooks.SigningRefused(self.refuse)
        self.signed.append((request.pk, result.blob.sha256))

    def on_failed(self, request) -> None:
        self.failed.append(request.pk)

    def subscriber(self) -> hooks.SigningSubscriber:
        return hooks.SigningSubscriber(on_signed=self.on_signed, on_failed=self.on_failed,
                                       visible_subjects=lambda user: [1], retry=lambda actor, request: request)


@pytest.fixture
def recorder(monkeypatch):
    recorder = Recorder()
    monkeypatch.setitem(hooks._SUBSCRIBERS, SUBJECT_TYPE, recorder.subscriber())
    return recorder


def _seal_spec(o, draft, **changes) -> services.SignatureSpec:
    blob = draft.versions.get(number=1).blob
    fields = dict(
        kind=SigningKind.ATTACHMENT, blob=blob, credential=services.usable_credential(
            CredentialKind.SEAL, agency_id=o.agency.pk), subject=services.Subject(SUBJECT_TYPE, 1, "thing one"),
        key="tests.thing:1:attachment", agency=o.agency, number_text="07/BC-UBND",
    )
    fields.update(changes)
    return services.SignatureSpec(**fields)


def test_another_app_gets_a_pdf_sealed_for_its_own_subject(signed_setup, recorder,
                                                          django_capture_on_commit_callbacks):
    o, draft = signed_setup
    with django_capture_on_commit_callbacks(execute=True):
        request, queued = services.request_signature(o.clerk, _seal_spec(o, draft))
    assert queued
    request.refresh_from_db()
    assert request.state == SigningState.DONE, request.error
    assert recorder.signed == [(request.pk, request.result_blob_id)]
    with open_verified(request.result_blob) as handle:
        report = verify_pdf(handle.read(), trust_roots=services.trust_roots(),
                            intermediates=services.intermediates(), crls=services.revocation_lists())
    assert [s.verdict for s in report.signatures] == [Verdict.VALID], report.to_dict()
    # Audited against the caller's subject, which this app only knows by reference.
    targets = set(AuditEvent.objects.filter(verb__in=[events.SIGNING_REQUESTED, events.SIGNING_DONE])
                  .values_list("verb", "target_type", "target_id"))
    assert targets == {(events.SIGNING_REQUESTED, SUBJECT_TYPE, "1"), (events.SIGNING_DONE, SUBJECT_TYPE, "1")}
    # The same key again signs nothing more.
    again, queued = services.request_signature(o.clerk, _seal_spec(o, draft))
    assert again.pk == request.pk and not queued


def test_a_subscriber_that_refuses_the_result_keeps_nothing(signed_setup, recorder,
                                                            django_capture_on_commit_callbacks):
    o, draft = signed_setup
    recorder.refuse = "The thing was withdrawn."
    with django_capture_on_commit_callbacks(execute=True):
        request, _queued = services.request_signature(o.clerk, _seal_spec(o, draft))
    request.refresh_from_db()
    assert request.state == SigningState.FAILED and request.error == "The thing was withdrawn."
    assert request.result_blob_id is None and recorder.failed == [request.pk]
    failed = AuditEvent.objects.get(verb=events.SIGNING_FAILED)
    assert (failed.target_type, failed.data["reason"]) == (SUBJECT_TYPE, "The thing was withdrawn.")


def test_refusals_change_nothing(signed_setup, recorder, django_user_model):
    o, draft = signed_setup
    with pytest.raises(LookupError):  # nobody would be told the outcome
        services.request_signature(o.clerk, _seal_spec(o, draft, subject=services.Subject("nobody.knows", 1)))
    with pytest.raises(PermissionDenied):  # the seal is for the agency's clerks
        services.request_signature(o.handler, _seal_spec(o, draft))
    with pytest.raises(PermissionDenied):  # a personal signature only with one's own certificate
        services.request_signature(o.clerk, _seal_spec(
            o, draft, kind=SigningKind.PERSONAL,
            credential=services.usable_credential(CredentialKind.PERSONAL, user=o.leader)))
    docx = draft.versions.get(number=1).blob
    docx.content_type = "application/msword"
    with pytest.raises(ValidationError):
        services.request_signature(o.clerk, _seal_spec(o, draft, blob=docx))
    assert not SigningRequest.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="signatures.signing").exists()


def test_the_placement_is_found_once_when_the_draft_is_ready_and_read_by_the_signature(
        superuser_actor, django_capture_on_commit_callbacks):
    """Reaching the signing step asks for the placement (its task runs on commit); signing reads it instead
    of searching the text again."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        o, draft = make_signed_setup(superuser_actor)
    assert callbacks
    blob = draft.versions.get(number=1).blob
    placement = SignaturePlacement.objects.get(blob=blob, signer_name=o.leader.display_name)
    assert placement.found and placement.boxes["signature"][0] >= 0
    placement.boxes = {**placement.boxes, "signature": [0, 300, 200, 480, 260]}
    placement.save()
    assert signing.placement(blob, o.leader.display_name)["signature"] == [0, 300, 200, 480, 260]
    assert SignaturePlacement.objects.filter(blob=blob).count() == 1
