"""Shared fixtures of the signature tests: an office with the demo PKI installed and a draft ready to sign."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from demo.pki import install
from signatures.sample_documents import build_decree30_pdf
from tests.factories import PASSWORD
from tests.workflows.helpers import office
from workflows import drafting_services as ds
from workflows.drafting import DraftState


def decree30(o) -> bytes:
    return build_decree30_pdf(
        agency_parent="ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH", agency_name=o.agency.name.upper(), notation_suffix="QĐ-UBND",
        title_kind="QUYẾT ĐỊNH", subject="Về việc thành lập Tổ công tác rà soát thủ tục hành chính",
        body_paragraphs=["Căn cứ Luật Tổ chức chính quyền địa phương;", "Xét đề nghị của Chánh Văn phòng."],
        place="Hòa Bình", position_title="CHỦ TỊCH", signer_name=o.leader.display_name,
        recipients=["Như Điều 3;", "Lưu: VT."],
    )


def make_signed_setup(admin):
    """An office with the demo PKI installed (kept as `o.pki`) and a Decree 30 draft ready to sign."""
    o = office()
    o.pki = install(admin, [o.agency]).pki
    ds.ensure_default_chain(o.agency)
    data = ds.DraftInput(document_type_id=_type("quyet-dinh"), subject="Về việc thành lập Tổ công tác",
                         proposed_signer_id=o.leader.pk, recipients=[{"name": "Như Điều 3"}])
    draft = ds.create_draft(o.handler, data, SimpleUploadedFile("qd.pdf", decree30(o), "application/pdf"))
    draft = ds.submit(o.handler, draft)
    draft = ds.approve_step(o.unit_leader, draft)
    draft = ds.approve_step(o.clerk, draft)
    assert draft.state == DraftState.READY_TO_SIGN
    return o, draft


@pytest.fixture
def signed_setup(superuser_actor):
    return make_signed_setup(superuser_actor)


@pytest.fixture
def superuser_actor(django_user_model):
    return django_user_model.objects.create_superuser("quantri.test", password=PASSWORD)


def _type(code: str) -> int:
    from tests.factories import doc_type

    return doc_type(code).pk
