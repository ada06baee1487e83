"""The issued PDF as the recipient sees it: the number on the line of "Số:", the place-and-date line whole,
italic and inside the text area (Decree 30/2020, Appendix I; vn-clerical-rules.md §1.6).

The positions are read back with pdfium (pypdfium2, the engine Chromium shows PDFs with), independent of
pypdf (which the layout finder uses) and of pyHanko (which writes the fields): the page is flattened (the
form fields' appearances become page content, as when printing), then every character's origin (its
baseline point), glyph box, text matrix and font are read from pdfium's text page.
"""

from __future__ import annotations

import ctypes
import io
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from signatures import engine
from signatures.keys import StoredKeyHolder, encrypt_key_for
from signatures.layout import find_layout
from signatures.pki import DemoPki, Identity, build_demo_pki
from signatures.sample_documents import build_decree30_pdf
from signatures.services import date_line

PAGE_WIDTH, PAGE_HEIGHT = A4
# PL I §I: margins top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm. The text area is what the
# narrowest margins leave; nothing of the header may lie outside it.
TEXT_AREA = (30 * mm, 20 * mm, PAGE_WIDTH - 15 * mm, PAGE_HEIGHT - 20 * mm)
SIGNER = "Trần Đức Lợi"
NOW = datetime.now(UTC).replace(microsecond=0)
FILL_FONT = "DejaVuSerifVN"  # what the engine writes the fields with (the document itself is in DejaVu Sans)


@dataclass(frozen=True)
class Char:
    text: str
    x: float  # origin: the point on the baseline where the glyph starts
    baseline: float
    box: tuple[float, float, float, float]  # the glyph's own bounds (left, bottom, right, top)
    matrix: tuple[float, float, float, float]  # a b c d of the text rendering matrix
    font: str


@dataclass(frozen=True)
class Case:
    place: str
    number: str
    title_kind: str
    notation: str


CASES = (
    Case("Hòa Bình", "15", "QUYẾT ĐỊNH", "QĐ-UBND"),
    Case("Thành phố Hồ Chí Minh", "1234", "", "UBND-VP"),  # a long place name, an official letter
    Case("Hà Nội", "7", "QUYẾT ĐỊNH", "QĐ-SNV"),
)


@pytest.fixture(scope="module")
def pki() -> DemoPki:
    return build_demo_pki(seals={"HB": "Ủy ban nhân dân tỉnh Hòa Bình"}, people={"loi.td": SIGNER}, now=NOW)


def _holder(identity: Identity) -> StoredKeyHolder:
    kek = os.urandom(32)
    return StoredKeyHolder(
        encrypt_key_for(identity.certificate, identity.private_key, kek), kek, identity.certificate, identity.chain
    )


def _png(rgb: tuple[int, int, int]) -> bytes:
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((6, 6, 194, 194), outline=(*rgb, 255), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _document(case: Case) -> bytes:
    return build_decree30_pdf(
        agency_parent="ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH",
        agency_name="VĂN PHÒNG ỦY BAN NHÂN DÂN",
        notation_suffix=case.notation,
        title_kind=case.title_kind,
        subject="Về việc triển khai Kế hoạch cải cách hành chính năm 2027",
        body_paragraphs=["Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020;", "Điều 1. Thi hành."],
        place=case.place,
        position_title="CHÁNH VĂN PHÒNG",
        signer_name=SIGNER,
        recipients=["Như trên;", "Lưu: VT."],
    )


@pytest.fixture(scope="module", params=CASES, ids=lambda case: case.number)
def issued(request, pki: DemoPki) -> tuple[Case, bytes, bytes, str]:
    """The document after the leader's signature and the clerk's fill-and-seal, with the values the issuing
    service computes (the number before the slash, `services.date_line` for the place and date)."""
    case = request.param
    source = _document(case)
    layout = find_layout(source, signer_name=SIGNER)
    assert layout.number_box is not None and layout.date_box is not None, layout.notes
    signed = engine.sign_personal(
        source,
        _holder(pki.people["loi.td"]),
        image_png=_png((20, 40, 200)),
        box=layout.signature_box,
        number_box=layout.number_box,
        date_box=layout.date_box,
        signer_name=SIGNER,
    )
    dated = date_line(SimpleNamespace(place_name=case.place, name=""), date(2026, 2, 3))
    result = engine.fill_and_seal(
        signed,
        _holder(pki.seals["HB"]),
        number_notation=case.number,
        date_text=dated,
        seal_png=_png((220, 20, 20)),
        box=layout.seal_box,
        agency_name="Ủy ban nhân dân tỉnh Hòa Bình",
    )
    return case, source, result, dated


# --- reading the page back with pdfium ----------------------------------------------------------------


def first_page_chars(pdf: bytes) -> list[Char]:
    """Every character of page 1 after flattening the form fields into the page."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        flattened = pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_PRINT)
        assert flattened in (pdfium_c.FLATTEN_SUCCESS, pdfium_c.FLATTEN_NOTHINGTODO)
        page.close()
        page = document[0]  # flattening takes effect on the reloaded page
        text_page = page.get_textpage()
        chars = []
        for index in range(text_page.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(text_page.raw, index)
            if code in (0, 0xFFFE, 0xFFFF) or chr(code) in "\r\n":
                continue
            x, y = ctypes.c_double(), ctypes.c_double()
            pdfium_c.FPDFText_GetCharOrigin(text_page.raw, index, x, y)
            left, right, bottom, top = (ctypes.c_double() for _ in range(4))
            pdfium_c.FPDFText_GetCharBox(text_page.raw, index, left, right, bottom, top)
            matrix = pdfium_c.FS_MATRIX()
            pdfium_c.FPDFText_GetMatrix(text_page.raw, index, matrix)
            name = ctypes.create_string_buffer(256)
            pdfium_c.FPDFText_GetFontInfo(text_page.raw, index, name, 256, None)
            chars.append(
                Char(
                    chr(code),
                    x.value,
                    y.value,
                    (left.value, bottom.value, right.value, top.value),
                    (matrix.a, matrix.b, matrix.c, matrix.d),
                    name.value.decode("latin-1"),
                )
            )
        text_page.close()
        page.close()
        return chars
    finally:
        document.close()


def written_text(chars: list[Char]) -> str:
    return "".join(char.text for char in chars)


def filled(chars: list[Char]) -> list[Char]:
    """What the clerk's fill drew (the engine's embedded serif), not the document's own text."""
    return [char for char in chars if char.font.endswith(FILL_FONT)]


def field_rects(pdf: bytes) -> dict[str, tuple[float, float, float, float]]:
    reader = PdfReader(io.BytesIO(pdf))
    return {
        str(field["/T"]): tuple(float(value) for value in field["/Rect"])
        for field in (reference.get_object() for reference in reader.trailer["/Root"]["/AcroForm"]["/Fields"])
    }


def _appearance(pdf: bytes, name: str) -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    for reference in reader.trailer["/Root"]["/AcroForm"]["/Fields"]:
        field = reference.get_object()
        if field["/T"] == name:
            return field["/AP"]["/N"].get_object().get_data()
    raise AssertionError(f"no field {name}")


def label_chars(chars: list[Char]) -> list[Char]:
    """The document's own "Số:" at the top of the page (box 3)."""
    text = "".join(char.text for char in chars)
    start = text.index("Số:")
    return chars[start : start + 3]


# --- the checks -----------------------------------------------------------------------------------------


def test_the_number_sits_on_the_baseline_of_so(issued):
    case, _source, pdf, _dated = issued
    chars = first_page_chars(pdf)
    label = label_chars(chars)
    number = [char for char in filled(chars) if abs(char.baseline - label[0].baseline) < 20 and char.x < PAGE_WIDTH / 2]
    assert written_text(number) == case.number
    for char in number:
        assert char.baseline == pytest.approx(label[0].baseline, abs=0.5)
        assert char.matrix == pytest.approx((1, 0, 0, 1), abs=0.01)  # upright
    # In the blank between "Số:" and "/notation".
    slash = next(char for char in chars if char.text == "/" and abs(char.baseline - label[0].baseline) < 0.5)
    assert label[-1].box[2] < number[0].box[0] and number[-1].box[2] < slash.box[0]
    # ... and it touches the slash, "15/QĐ-UBND" read as one notation (at most the field's padding apart).
    assert slash.box[0] - number[-1].box[2] < 4, (number[-1].box, slash.box)


def test_the_date_line_is_whole_italic_and_inside_the_text_area(issued):
    case, _source, pdf, dated = issued
    chars = first_page_chars(pdf)
    label = label_chars(chars)
    line = [char for char in filled(chars) if char.x > PAGE_WIDTH / 2 - 20 * mm]
    # Every character is there: nothing was cut off or dropped.
    assert written_text(line).replace(" ", "") == dated.replace(" ", "")
    assert dated.startswith(f"{case.place}, ngày 03 tháng 02 năm 2026")
    rect = field_rects(pdf)[engine.DATE_FIELD]
    left, bottom, right, top = TEXT_AREA
    for char in line:
        # Boxes 3 and 4 share a baseline (PL I template), and the line is italic: sheared by the text matrix.
        assert char.baseline == pytest.approx(label[0].baseline, abs=0.5)
        a, b, c, d = char.matrix
        assert b == pytest.approx(0, abs=0.01) and c / d == pytest.approx(engine.ITALIC_SLANT, abs=0.01)
        if char.text.isspace():
            continue
        x1, y1, x2, y2 = char.box
        # Not clipped: every glyph lies inside its field's appearance box ...
        assert rect[0] - 0.5 <= x1 and x2 <= rect[2] + 0.5, (char, rect)
        assert rect[1] - 0.5 <= y1 and y2 <= rect[3] + 0.5, (char, rect)
        # ... and inside the page's text area.
        assert left <= x1 and x2 <= right and bottom <= y1 and y2 <= top, char


def test_the_filled_line_covers_the_blank_template_line(issued):
    """The field paints its box white before writing: every glyph of the template's blank line
    ("…, ngày      tháng      năm 20..") lies inside the box, so the page shows one date, not two."""
    _case, source, pdf, _dated = issued
    template = [char for char in first_page_chars(source) if char.matrix[2] > 0.1]  # the slanted template line
    assert "ngày" in written_text(template)
    x1, y1, x2, y2 = field_rects(pdf)[engine.DATE_FIELD]
    for char in template:
        if not char.text.isspace():
            cx1, cy1, cx2, cy2 = char.box
            assert x1 <= cx1 and cx2 <= x2 and y1 <= cy1 and cy2 <= y2, char
    outer = _appearance(pdf, engine.DATE_FIELD)
    assert outer.startswith(b"q 1 g 0 0 ") and b" re f Q" in outer


def test_the_template_date_line_itself_fits_in_the_text_area():
    """The sample documents' blank "…, ngày … tháng … năm 20.." stays inside the right margin, however long
    the place name: the line is set smaller rather than running off the page."""
    for case in CASES:
        chars = first_page_chars(_document(case))
        template = [char for char in chars if char.matrix[2] > 0.1 and not char.text.isspace()]
        assert written_text(template).startswith(case.place.replace(" ", ""))
        left, _bottom, right, _top = TEXT_AREA
        assert all(left <= char.box[0] and char.box[2] <= right for char in template), case.place
