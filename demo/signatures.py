"""What the demo's signing needs (signatures): the "ready to sign" drafts are laid out as Decree 30
prescribes, so that the demo leader can sign them digitally and the clerk seal them once
`manage.py create_demo_pki` has installed the demo PKI (`demo.pki`).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Agency, User
from documents.models import DocumentType
from signatures.sample_documents import build_decree30_pdf

DRAFT_BODY = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
    "Theo đề nghị của Trưởng phòng chuyên môn,",
)
_TITLE_KINDS = {"quyet-dinh": "QUYẾT ĐỊNH", "ke-hoach": "KẾ HOẠCH", "bao-cao": "BÁO CÁO", "thong-bao": "THÔNG BÁO",
                "cong-van": ""}


def draft_pdf(agency: Agency, leader: User, document_type: DocumentType | None, subject: str) -> SimpleUploadedFile:
    """A draft with a blank number and date and an empty signature space between the leader's title and
    name, where the signing service places the signature."""
    type_code = document_type.code if document_type else "cong-van"
    abbreviation = document_type.abbreviation if document_type else ""
    suffix = f"{abbreviation}-{agency.abbreviation}" if abbreviation else agency.abbreviation
    pdf = build_decree30_pdf(
        agency_parent=(agency.parent.name if agency.parent_id else "").upper(), agency_name=agency.name.upper(),
        notation_suffix=suffix, title_kind=_TITLE_KINDS.get(type_code, ""), subject=subject,
        body_paragraphs=DRAFT_BODY, place=agency.place_name or "Hòa Bình",
        position_title=(leader.position or "Thủ trưởng cơ quan").upper(), signer_name=leader.display_name,
        recipients=["Như trên;", "Lưu: VT."],
    )
    return SimpleUploadedFile(f"du-thao-{type_code}.pdf", pdf, "application/pdf")
