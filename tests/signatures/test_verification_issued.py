"""The product's own issued documents verify as plainly valid (issue 11): the leader signs, the clerk fills
the number and date and applies the agency seal, and the verifier names those additions instead of warning.
Any other later change keeps the warning (or makes the signature invalid), and each later revision is
described: what it changed, on which page, by whom."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import translation
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signatures import engine
from signatures.pki import DemoPki, build_demo_pki
from signatures.verification import (
    ISSUING_FIELDS,
    ISSUING_SEAL_FIELD,
    MSG_FORBIDDEN_CHANGES,
    MSG_VISIBLE_CONTENT_CHANGED,
    WARN_ANNOTATIONS,
    WARN_FORM_FILLING,
    Verdict,
    VerificationReport,
    verify_pdf,
)
from signatures.verification_text import report_lines
from tests.signatures import poppler
from tests.signatures.test_engine import (
    DATE_BOX,
    DATE_LINE,
    LEADER,
    LEADER_BOX,
    NOW,
    NUMBER,
    NUMBER_BOX,
    PROVINCE,
    SEAL_BOX,
    SIGNING_TIME,
    VALIDATION_MOMENT,
    _document,
    _holder,
    _png,
)

OTHER_AGENCY = "Sở Nội vụ tỉnh Hòa Bình"


@pytest.fixture(scope="module")
def pki() -> DemoPki:
    return build_demo_pki(seals={"HB": PROVINCE}, people={"an.nv": LEADER}, now=NOW)


@pytest.fixture(scope="module")
def stranger_pki() -> DemoPki:
    return build_demo_pki(seals={"SNV": OTHER_AGENCY}, now=NOW)


@pytest.fixture(scope="module")
def signed(pki: DemoPki) -> bytes:
    return engine.sign_personal(
        _document(2), _holder(pki.people["an.nv"]), image_png=_png((20, 40, 200)), box=LEADER_BOX,
        number_box=NUMBER_BOX, date_box=DATE_BOX, signer_name=LEADER, signing_time=SIGNING_TIME,
    )


def _seal(pki: DemoPki, pdf: bytes, *, fill: bool = True, agency: str = PROVINCE, code: str = "HB",
          field_name: str = engine.SEAL_FIELD) -> bytes:
    holder = _holder(pki.seals[code])
    common = {"seal_png": _png((220, 20, 20), (200, 200)), "box": SEAL_BOX, "agency_name": agency,
              "signing_time": SIGNING_TIME + timedelta(minutes=1), "field_name": field_name}
    if fill:
        return engine.fill_and_seal(pdf, holder, number_notation=NUMBER, date_text=DATE_LINE, **common)
    return engine.sign_seal(pdf, holder, **common)


@pytest.fixture(scope="module")
def issued(pki: DemoPki, signed: bytes) -> bytes:
    return _seal(pki, signed)


def _verify(pki: DemoPki, pdf: bytes) -> VerificationReport:
    return verify_pdf(pdf, trust_roots=[pki.root.certificate], validation_time=VALIDATION_MOMENT)


def _kinds(report: VerificationReport, index: int = 0) -> list[tuple[str, str]]:
    return [(c.kind, c.name) for r in report.changes_after(report.signatures[index]) for c in r.changes]


def _incremental(pdf: bytes, change) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    change(writer)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def test_the_engine_and_the_verifier_agree_on_the_field_names():
    assert {engine.NUMBER_FIELD, engine.DATE_FIELD} == ISSUING_FIELDS and engine.SEAL_FIELD == ISSUING_SEAL_FIELD


def test_issued_document_is_plainly_valid_and_the_agency_additions_are_named(pki, issued):
    report = _verify(pki, issued)
    leader, seal = report.signatures
    assert report.verdict == Verdict.VALID and [leader.verdict, seal.verdict] == [Verdict.VALID, Verdict.VALID]
    assert leader.modification_level == "form_filling" and leader.warnings == [] and leader.reasons == []
    assert leader.issuing_agency == PROVINCE and leader.issuing_filled
    assert _kinds(report) == [("field_filled", "SoKyHieu"), ("field_filled", "NgayBanHanh"),
                              ("signature_added", "ChuKyCoQuan")]
    (revision,) = report.changes_after(leader)
    assert revision.revision == seal.revision == leader.revision + 1 and revision.changes[-1].signer == PROVINCE
    assert report.changes_after(seal) == []
    with translation.override("en"):
        lines = report_lines(report)
    assert ("Changes after signing",
            f"Number and date filled in by the issuing agency, sealed by {PROVINCE}") in lines
    assert (f"Revision {revision.revision + 1}",
            "Form field filled: SoKyHieu; Form field filled: NgayBanHanh; "
            f"Signature added in field ChuKyCoQuan by {PROVINCE}") in lines
    with translation.override("vi"):
        lines = report_lines(report)
    assert ("Thay đổi sau khi ký",
            f"Số, ký hiệu và ngày ban hành do cơ quan ban hành điền, đóng dấu bởi {PROVINCE}") in lines


def test_the_revisions_survive_a_json_round_trip(pki, issued):
    report = _verify(pki, issued)
    stored = json.loads(json.dumps(report.to_dict()))
    assert stored["revisions"][0]["changes"][0] == {"kind": "field_filled", "name": "SoKyHieu", "page": None,
                                                    "count": 0, "signer": ""}
    assert stored["signatures"][0]["issuing_agency"] == PROVINCE
    assert VerificationReport.from_dict(stored) == report


def test_issued_document_stays_valid_in_pdfsig(pki, issued, tmp_path: Path):
    report = poppler.pdfsig(issued, [pki.root.certificate], tmp_path)
    assert report.count("Signature Validation: Signature is Valid.") == 2, report


def test_fill_then_seal_in_two_revisions_is_also_recognised(pki, signed):
    filled = engine.fill_number_and_date(signed, number_notation=NUMBER, date_text=DATE_LINE)
    report = _verify(pki, _seal(pki, filled, fill=False))
    assert [s.verdict for s in report.signatures] == [Verdict.VALID, Verdict.VALID]
    assert report.signatures[0].issuing_filled
    assert [[c.kind for c in r.changes] for r in report.changes_after(report.signatures[0])] == [
        ["field_filled", "field_filled"], ["signature_added"]]


def test_seal_alone_is_recognised_and_named(pki, signed):
    report = _verify(pki, _seal(pki, signed, fill=False))
    leader = report.signatures[0]
    assert leader.verdict == Verdict.VALID and leader.issuing_agency == PROVINCE and not leader.issuing_filled
    with translation.override("en"):
        assert ("Changes after signing", f"Sealed by the issuing agency, {PROVINCE}") in report_lines(report)


def test_number_filled_without_a_seal_keeps_the_warning(pki, signed):
    report = _verify(pki, engine.fill_number_and_date(signed, number_notation=NUMBER, date_text=DATE_LINE))
    (leader,) = report.signatures
    assert leader.verdict == Verdict.VALID_WITH_WARNINGS and leader.warnings == [WARN_FORM_FILLING]
    assert not leader.issuing_agency


def test_a_seal_that_is_not_trusted_keeps_the_warning(pki, stranger_pki, signed):
    report = _verify(pki, _seal(stranger_pki, signed, agency=OTHER_AGENCY, code="SNV"))
    leader, seal = report.signatures
    assert seal.verdict == Verdict.UNVERIFIABLE
    assert leader.verdict == Verdict.VALID_WITH_WARNINGS and WARN_FORM_FILLING in leader.warnings
    assert not leader.issuing_agency


def test_a_seal_in_another_field_keeps_the_warning(pki, signed):
    report = _verify(pki, _seal(pki, signed, field_name="DauCoQuan"))
    leader, seal = report.signatures
    assert seal.verdict == Verdict.VALID
    assert leader.verdict == Verdict.VALID_WITH_WARNINGS and not leader.issuing_agency


def test_an_annotation_added_before_the_seal_keeps_the_warning_and_is_named(pki, signed):
    def annotate(writer):
        page_ref = writer.find_page_for_modification(0)[0]
        page = page_ref.get_object()
        note = writer.add_object(generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (50, 50, 70, 70)]),
            generic.NameObject("/Contents"): generic.TextStringObject("Đã xem"),
        }))
        annots = page.get("/Annots", generic.ArrayObject())
        annots.append(note)
        page[generic.NameObject("/Annots")] = annots
        writer.update_container(page)

    report = _verify(pki, _seal(pki, _incremental(signed, annotate)))
    leader = report.signatures[0]
    assert leader.verdict != Verdict.VALID and not leader.issuing_agency
    assert WARN_ANNOTATIONS in leader.warnings or MSG_FORBIDDEN_CHANGES in leader.reasons
    assert ("annotation_added", "Text") in _kinds(report)
    assert [c.page for r in report.changes_after(leader) for c in r.changes if c.kind == "annotation_added"] == [1]


def test_content_drawn_before_the_seal_is_invalid_and_named(pki, signed):
    drawn = _incremental(signed, lambda writer: RawContent(b"q 1 1 1 rg 85 700 300 40 re f Q").add_to_page(writer, 0))
    report = _verify(pki, _seal(pki, drawn))
    leader, seal = report.signatures
    assert leader.verdict == Verdict.INVALID and seal.verdict == Verdict.VALID and not leader.issuing_agency
    assert ("content_drawn_over", "") in _kinds(report)
    with translation.override("en"):
        assert any(value.startswith("Content drawn over page 1") for _label, value in report_lines(report))


def test_a_field_appearance_replaced_without_its_value_is_a_shadow_attack(pki, signed):
    """The 'replace' shadow attack on our own flow: the number field's empty appearance is swapped for a
    visible one while its value stays empty, before the genuine fill and seal."""

    def replace_appearance(writer):
        form = writer.root["/AcroForm"]
        field_ref = next(ref for ref in form["/Fields"] if ref.get_object()["/T"] == engine.NUMBER_FIELD)
        field = field_ref.get_object()
        stream = generic.StreamObject(
            {generic.NameObject("/Type"): generic.NameObject("/XObject"),
             generic.NameObject("/Subtype"): generic.NameObject("/Form"),
             generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 205, 22)])},
            stream_data=b"q 0 0 0 rg 0 0 205 22 re f Q",
        )
        field[generic.NameObject("/AP")] = generic.DictionaryObject(
            {generic.NameObject("/N"): writer.add_object(stream)})
        writer.update_container(field)

    report = _verify(pki, _seal(pki, _incremental(signed, replace_appearance)))
    leader = report.signatures[0]
    assert leader.verdict == Verdict.INVALID and MSG_VISIBLE_CONTENT_CHANGED in leader.reasons
    assert ("field_appearance_replaced", "SoKyHieu") in _kinds(report)


def test_pages_swapped_after_signing_are_named(pki, signed):
    def swap(writer):
        pages = writer.root["/Pages"]
        kids = pages["/Kids"]
        pages[generic.NameObject("/Kids")] = generic.ArrayObject(reversed(list(kids.raw_get(i) for i in range(2))))
        writer.update_container(pages)

    report = _verify(pki, _incremental(signed, swap))
    (leader,) = report.signatures
    assert leader.verdict == Verdict.INVALID
    assert [(c.kind, c.page) for r in report.changes_after(leader) for c in r.changes] == [
        ("content_replaced", 1), ("content_replaced", 2)]
