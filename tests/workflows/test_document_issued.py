"""`documents.signals.document_issued`: sent once per issued document, inside the transaction that makes it
final, on every path (registered directly, issued on paper, issued with the digital seal)."""

from __future__ import annotations

import pytest
from django.db import connection

from documents import services as documents_services
from documents.signals import document_issued
from tests.factories import PASSWORD, doc_type
from tests.signatures.conftest import make_signed_setup
from tests.workflows.helpers import office
from tests.workflows.test_drafting import pdf_upload, ready_to_sign
from workflows import draft_signing
from workflows import drafting_services as ds

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """What a subscriber (the exchange) would see: the document, its files at that moment, and whether it
    was called inside the issuing transaction."""
    calls: list[dict] = []

    def receiver(sender, document, actor, **kwargs) -> None:
        calls.append({
            "document": document.pk, "actor": actor.pk, "in_transaction": connection.in_atomic_block,
            "files": sorted((f.original_name, f.is_main) for f in document.files.all()),
        })

    document_issued.connect(receiver, dispatch_uid="test-heard")
    yield calls
    document_issued.disconnect(dispatch_uid="test-heard")


def test_a_document_registered_directly_is_announced_once(heard):
    o = office()
    data = documents_services.OutgoingInput(document_type_id=doc_type("cong-van").pk, subject="Về việc họp",
                                            signer_name="Nguyễn Văn A")
    document = documents_services.register_outgoing(o.clerk, data, [pdf_upload("cv.pdf")])
    assert heard == [{"document": document.pk, "actor": o.clerk.pk, "in_transaction": True,
                      "files": [("cv.pdf", True)]}]


def test_a_draft_issued_on_paper_is_announced_with_its_final_file(heard):
    o = office()
    draft = ds.mark_signed_on_paper(o.leader, ready_to_sign(o))
    assert heard == []
    document = ds.issue_draft(o.clerk, draft, pdf_upload("ban-hanh.pdf"))
    assert [(h["document"], h["files"]) for h in heard] == [(document.pk, [("ban-hanh.pdf", True)])]


def test_a_sealed_draft_is_announced_when_the_sealed_original_is_attached(superuser_actor, heard,
                                                                           django_capture_on_commit_callbacks):
    o, draft = make_signed_setup(superuser_actor)
    with django_capture_on_commit_callbacks(execute=True):
        draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=False):
        seal = draft_signing.request_seal(o.clerk, draft, password=PASSWORD)
    assert heard == []  # numbered and registered, but not final until the seal is applied
    from signatures.signing import run_signing_request

    assert run_signing_request(seal.pk) == "done"
    assert len(heard) == 1 and heard[0]["document"] == seal.document_id
    assert [is_main for _name, is_main in heard[0]["files"]] == [True]
    assert run_signing_request(seal.pk) == "skipped" and len(heard) == 1  # a redelivery announces nothing


@pytest.fixture
def superuser_actor(django_user_model):
    return django_user_model.objects.create_superuser("quantri.issued", password=PASSWORD)
