"""Where signatures, seal, number and date go on Decree 30 documents, and the sample documents themselves.

Positions are checked against poppler's own word boxes (`pdftotext -bbox`), an extractor independent of
the pypdf-based finder under test.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, RectangleObject
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from documents.pdf import register_fonts
from signatures.geometry import Box
from signatures.layout import SEAL_DIAMETER, SignatureLayout, attachment_box, find_layout
from signatures.sample_documents import build_attachment_pdf, build_decree30_pdf
from tests.conftest import CORPORA, missing_service

PAGE_WIDTH, PAGE_HEIGHT = A4

BODY = (
    "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH",
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 02 năm 2025;",
    "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
    "Theo đề nghị của Giám đốc Sở Nội vụ tại Tờ trình số 125/TTr-SNV ngày 10 tháng 11 năm 2026.",
    "QUYẾT ĐỊNH:",
    "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch cải cách hành chính năm 2027 của tỉnh Hòa Bình.",
    "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
    "Điều 3. Chánh Văn phòng Ủy ban nhân dân tỉnh, Giám đốc Sở Nội vụ, Thủ trưởng các sở, ban, ngành và Chủ "
    "tịch Ủy ban nhân dân các huyện, thành phố chịu trách nhiệm thi hành Quyết định này./.",
)
RECIPIENTS = ("Như Điều 3;", "Bộ Nội vụ (b/c);", "TT Tỉnh ủy, TT HĐND tỉnh;", "Lưu: VT, NC (02).")


@dataclass(frozen=True)
class Sample:
    pages: int
    signer: str
    authority_prefix: str
    position_title: str


SAMPLES = (
    Sample(1, "Nguyễn Thị Thu Hường", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    Sample(2, "Trần Đức Lợi", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
    Sample(50, "Phạm Thị Ngọc Ánh", "", "GIÁM ĐỐC"),
)


def sample_pdf(sample: Sample) -> bytes:
    return build_decree30_pdf(
        agency_parent="Ủy ban nhân dân",
        agency_name="Tỉnh Hòa Bình",
        notation_suffix="QĐ-UBND",
        title_kind="Quyết định",
        subject="Về việc ban hành Kế hoạch cải cách hành chính năm 2027",
        body_paragraphs=BODY,
        place="Hòa Bình",
        position_title=sample.position_title,
        authority_prefix=sample.authority_prefix,
        signer_name=sample.signer,
        recipients=RECIPIENTS,
        pages=sample.pages if sample.pages > 1 else None,
    )


# --- an independent oracle: poppler's word boxes -----------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str
    x1: float
    top: float  # PDF coordinates (origin lower-left), from poppler's top-left ones
    x2: float
    bottom: float


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        missing_service(f"{tool} (poppler-utils) not installed")
    return path


def words_on(pdf: bytes, page: int) -> list[Word]:
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "in.pdf"
        source.write_bytes(pdf)
        html = subprocess.run(
            [poppler("pdftotext"), "-bbox", "-f", str(page + 1), "-l", str(page + 1), str(source), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', html).group(1))
    return [
        Word(unicodedata.normalize("NFC", text), float(x1), height - float(y1), float(x2), height - float(y2))
        for x1, y1, x2, y2, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
        )
    ]


def phrase(words: list[Word], text: str, *, highest: bool = False) -> Word:
    """The lowest (or highest) occurrence of consecutive words spelling `text`, as one box."""
    wanted = text.split()
    found = []
    for start in range(len(words) - len(wanted) + 1):
        run = words[start : start + len(wanted)]
        if [word.text for word in run] == wanted:
            found.append(Word(text, run[0].x1, max(w.top for w in run), run[-1].x2, min(w.bottom for w in run)))
    assert found, f"{text!r} not on the page"
    return (max if highest else min)(found, key=lambda word: word.bottom)


def intersects(box: Box, word: Word) -> bool:
    return word.x1 < box.x2 and word.x2 > box.x1 and word.bottom < box.y2 and word.top > box.y1


# --- layouts on generated documents ----------------------------------------------------------------


@pytest.fixture(scope="module", params=SAMPLES, ids=lambda sample: f"{sample.pages}-pages")
def laid_out(request) -> tuple[Sample, bytes, SignatureLayout]:
    sample = request.param
    pdf = sample_pdf(sample)
    return sample, pdf, find_layout(pdf, signer_name=sample.signer)


def test_signature_box_is_the_gap_between_title_and_name_on_the_last_page(laid_out):
    sample, pdf, layout = laid_out
    assert layout.found, layout.notes
    assert layout.notes == []
    assert layout.signature_box.page == sample.pages - 1 == len(PdfReader(io.BytesIO(pdf)).pages) - 1

    words = words_on(pdf, layout.signature_box.page)
    name = phrase(words, sample.signer)
    title = phrase(words, sample.position_title)
    box = layout.signature_box
    assert name.top <= box.y1 < box.y2 <= title.bottom
    assert box.height >= 20 * mm  # the 28 mm space the template leaves, less the glyph extents
    assert box.x1 < name.x1 + 1 and box.x2 > name.x2 - 1
    assert (box.x1 + box.x2) / 2 == pytest.approx((name.x1 + name.x2) / 2, abs=1.5)
    assert not any(intersects(box, word) for word in words), "the signature space must be empty"


def test_seal_covers_the_left_third_of_the_signature(laid_out):
    _sample, _pdf, layout = laid_out
    signature, seal = layout.signature_box, layout.seal_box
    assert seal.page == signature.page
    assert 35 * mm <= seal.width <= 40 * mm and seal.height == pytest.approx(seal.width)
    assert seal.width == pytest.approx(SEAL_DIAMETER)
    assert seal.x1 < signature.x1 < seal.x2
    assert seal.x2 == pytest.approx(signature.x1 + signature.width / 3, abs=0.5)
    overlap = seal.overlap(signature)
    assert overlap is not None and overlap.height == pytest.approx(signature.height)
    assert (seal.y1 + seal.y2) / 2 == pytest.approx((signature.y1 + signature.y2) / 2, abs=0.5)


def test_number_box_is_the_blank_between_so_and_the_notation(laid_out):
    _sample, pdf, layout = laid_out
    words = words_on(pdf, 0)
    label, notation = phrase(words, "Số:", highest=True), phrase(words, "/QĐ-UBND", highest=True)
    box = layout.number_box
    assert box is not None and box.page == 0
    assert label.x2 <= box.x1 < box.x2 <= notation.x1
    assert box.width >= 6 * mm
    assert box.y1 <= label.bottom and box.y2 >= label.top - 1
    assert box.x2 < PAGE_WIDTH / 2 and box.y1 > PAGE_HEIGHT * 0.7  # top left, box 3
    assert not any(intersects(box, word) for word in words)
    assert layout.number_line is not None
    assert layout.number_line.text.startswith("Số:") and layout.number_line.text.endswith("/QĐ-UBND")


def test_date_box_covers_the_whole_place_and_date_line(laid_out):
    _sample, pdf, layout = laid_out
    words = words_on(pdf, 0)
    day = phrase(words, "ngày", highest=True)
    line_words = [word for word in words if abs(word.bottom - day.bottom) < 1 and word.x1 > PAGE_WIDTH / 2]
    assert [word.text for word in line_words][:3] == ["Hòa", "Bình,", "ngày"]
    box = layout.date_box
    assert box is not None and box.page == 0
    for word in line_words:
        assert box.x1 <= word.x1 and word.x2 <= box.x2 and box.y1 <= word.bottom and word.top - 1 <= box.y2
    assert box.x1 > PAGE_WIDTH / 2 - 10 * mm and box.y1 > PAGE_HEIGHT * 0.7  # top right, box 4
    line = layout.date_line
    assert line is not None and "ngày" in line.text and "tháng" in line.text and "năm" in line.text
    assert line.x1 == pytest.approx(line_words[0].x1, abs=1.5)
    assert line.x2 == pytest.approx(line_words[-1].x2, abs=1.5)
    assert line.baseline == pytest.approx(layout.number_line.baseline)  # boxes 3 and 4 share a line
    assert line.font_size == pytest.approx(12)


def test_the_same_layout_is_found_without_the_signer_name(laid_out):
    _sample, pdf, layout = laid_out
    anonymous = find_layout(pdf)
    assert anonymous.found
    assert anonymous.signature_box == layout.signature_box
    assert anonymous.number_box == layout.number_box and anonymous.date_box == layout.date_box


def test_the_name_matches_whatever_its_unicode_form_or_accents():
    sample = SAMPLES[0]
    pdf = sample_pdf(sample)
    reference = find_layout(pdf, signer_name=sample.signer)
    decomposed = find_layout(pdf, signer_name=unicodedata.normalize("NFD", f"  {sample.signer.upper()} "))
    assert decomposed.found and decomposed.notes == []
    assert decomposed.signature_box == reference.signature_box
    unaccented = find_layout(pdf, signer_name="Nguyen Thi Thu Huong")
    assert unaccented.found and unaccented.signature_box == reference.signature_box
    assert unaccented.notes == ["signer name matched without diacritics"]


def test_a_name_mentioned_in_the_body_does_not_move_the_signature():
    sample = Sample(1, "Lê Văn Hùng", "", "GIÁM ĐỐC")
    pdf = build_decree30_pdf(
        agency_parent="UBND tỉnh Hòa Bình",
        agency_name="Sở Nội vụ",
        notation_suffix="QĐ-SNV",
        title_kind="Quyết định",
        subject="Về việc cử cán bộ đi công tác",
        body_paragraphs=[
            "Điều 1. Cử ông Lê Văn Hùng, Giám đốc Sở, đi công tác tại Hà Nội.",
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký./.",
        ],
        place="Hòa Bình",
        position_title=sample.position_title,
        signer_name=sample.signer,
        recipients=["Như Điều 1;", "Lưu: VT."],
    )
    layout = find_layout(pdf, signer_name=sample.signer)
    words = words_on(pdf, 0)
    name = phrase(words, sample.signer)  # the lowest: the signature block, not Điều 1
    assert layout.found
    assert name.top <= layout.signature_box.y1 < layout.signature_box.y2 <= phrase(words, "GIÁM ĐỐC").bottom


def test_other_producers_split_runs_and_decompose_text():
    """A file from another producer: the notation is a separate text run and the text is NFD."""
    register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont("DejaVuSans", 13)
    pdf.drawString(40 * mm, PAGE_HEIGHT - 45 * mm, unicodedata.normalize("NFD", "Số:"))
    pdf.drawString(62 * mm, PAGE_HEIGHT - 45 * mm, "/BC-SNV")
    pdf.drawString(120 * mm, PAGE_HEIGHT - 45 * mm, unicodedata.normalize("NFD", "Mai Châu, ngày ... tháng ... năm"))
    pdf.setFont("DejaVuSans-Bold", 13)
    pdf.drawCentredString(150 * mm, 150 * mm, unicodedata.normalize("NFD", "GIÁM ĐỐC"))
    pdf.drawCentredString(150 * mm, 115 * mm, unicodedata.normalize("NFD", "Đinh Thị Thủy"))
    pdf.showPage()
    pdf.save()

    layout = find_layout(buffer.getvalue(), signer_name="Đinh Thị Thủy")
    assert layout.found, layout.notes
    assert 115 * mm + 13 <= layout.signature_box.y1 < layout.signature_box.y2 <= 150 * mm
    assert (layout.signature_box.x1 + layout.signature_box.x2) / 2 == pytest.approx(150 * mm, abs=1)
    words = words_on(buffer.getvalue(), 0)
    assert phrase(words, "Số:").x2 <= layout.number_box.x1 < layout.number_box.x2 <= 62 * mm
    assert layout.date_box.x1 <= 120 * mm and layout.date_line.text.startswith("Mai Châu, ngày")


# --- fallbacks and hostile files -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["baseline-benign/pdflatex-4-pages.pdf", "baseline-benign/grayscale-image.pdf"])
def test_documents_without_a_signature_block_get_standard_positions(corpora, name):
    pdf = (corpora / "hostile" / name).read_bytes()
    last_page = len(PdfReader(io.BytesIO(pdf)).pages) - 1
    layout = find_layout(pdf, signer_name="Nguyễn Văn An")
    assert not layout.found
    assert layout.number_box is None and layout.date_box is None
    assert "signer name not found in the text" in layout.notes
    assert layout.signature_box.page == last_page
    page = PdfReader(io.BytesIO(pdf)).pages[last_page]
    assert layout.signature_box.x1 >= float(page.mediabox.width) / 2  # right half
    assert layout.signature_box.height > 20 * mm
    assert layout.seal_box.x1 < layout.signature_box.x1 < layout.seal_box.x2


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\n%%EOF"], ids=["empty", "text", "header-only"])
def test_garbage_falls_back_on_an_a4_page(data):
    layout = find_layout(data, signer_name="Nguyễn Văn An")
    assert not layout.found and layout.signature_box.page == 0 and layout.notes
    assert Box(0, 0, 0, PAGE_WIDTH, PAGE_HEIGHT).contains(layout.signature_box)
    assert Box(0, 0, 0, PAGE_WIDTH, PAGE_HEIGHT).contains(attachment_box(data))


def hostile_files() -> list[Path]:
    return sorted(path for path in (CORPORA / "hostile").rglob("*") if path.is_file())


@pytest.mark.skipif(not (CORPORA / "hostile").is_dir(), reason="hostile corpus not present")
@pytest.mark.parametrize("path", hostile_files(), ids=lambda path: str(path.relative_to(CORPORA / "hostile")))
def test_hostile_files_never_raise(path):
    data = path.read_bytes()
    for signer_name in ("Nguyễn Văn An", None):
        layout = find_layout(data, signer_name=signer_name)
        assert isinstance(layout, SignatureLayout)
        for box in (layout.signature_box, layout.seal_box, layout.number_box, layout.date_box):
            assert box is None or (box.x1 <= box.x2 and box.y1 <= box.y2 and box.page >= 0)
        if not layout.found:
            assert layout.notes
    box = attachment_box(data)
    assert box.x1 < box.x2 and box.y1 < box.y2


def test_encrypted_with_an_empty_password_is_still_read():
    writer = PdfWriter(clone_from=io.BytesIO(sample_pdf(SAMPLES[0])))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-256")
    output = io.BytesIO()
    writer.write(output)
    layout = find_layout(output.getvalue(), signer_name=SAMPLES[0].signer)
    assert layout.found
    assert "PDF is encrypted with an empty user password" in layout.notes


# --- attachment box --------------------------------------------------------------------------------


def test_attachment_box_is_the_top_right_corner_inside_the_margins():
    pdf = build_attachment_pdf("Phụ lục I: Danh mục nhiệm vụ năm 2027", pages=2)
    box = attachment_box(pdf)
    assert box.page == 0
    assert box.width == pytest.approx(60 * mm) and box.height == pytest.approx(15 * mm)
    assert box.x2 == pytest.approx(PAGE_WIDTH - 15 * mm) and box.y2 == pytest.approx(PAGE_HEIGHT - 10 * mm)
    assert not any(intersects(box, word) for word in words_on(pdf, 0)), "the corner is left free"


def rendered_dark_area(pdf: bytes, resolution: int = 36) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """Render page 1 as a viewer shows it (CropBox, rotation): the dark pixels' bbox and the image size."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "page.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                poppler("pdftoppm"),
                "-cropbox",
                "-gray",
                "-png",
                "-r",
                str(resolution),
                "-f",
                "1",
                "-l",
                "1",
                str(source),
                str(Path(directory) / "out"),
            ],
            check=True,
            capture_output=True,
        )
        image = Image.open(next(Path(directory).glob("out*.png"))).convert("L")
        image.load()
    return image.point(lambda value: 255 if value < 128 else 0).getbbox(), image.size


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_attachment_box_follows_rotation_and_cropbox(rotation):
    """Paint the box found on a rotated, cropped page and look where a viewer shows it."""
    writer = PdfWriter()
    page = writer.add_blank_page(PAGE_WIDTH, PAGE_HEIGHT)
    page[NameObject("/CropBox")] = RectangleObject([30, 40, PAGE_WIDTH - 25, PAGE_HEIGHT - 35])
    page[NameObject("/Rotate")] = NumberObject(rotation)
    source = io.BytesIO()
    writer.write(source)
    box = attachment_box(source.getvalue())

    overlay = io.BytesIO()
    painter = canvas.Canvas(overlay, pagesize=A4)
    painter.rect(box.x1, box.y1, box.width, box.height, stroke=0, fill=1)
    painter.save()
    writer = PdfWriter(clone_from=io.BytesIO(source.getvalue()))
    writer.pages[0].merge_page(PdfReader(overlay).pages[0])
    painted = io.BytesIO()
    writer.write(painted)

    resolution = 36
    (left, top, right, bottom), (width, height) = rendered_dark_area(painted.getvalue(), resolution)
    pixels = resolution / 72
    assert width - right == pytest.approx(15 * mm * pixels, abs=2)  # 15 mm from the shown right edge
    assert top == pytest.approx(10 * mm * pixels, abs=2)  # 10 mm from the shown top edge
    assert right - left == pytest.approx(60 * mm * pixels, abs=2)  # wide side horizontal as shown
    assert bottom - top == pytest.approx(15 * mm * pixels, abs=2)


# --- the sample documents themselves ---------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: f"{sample.pages}-pages")
def test_sample_documents_have_the_requested_pages_and_decree_30_parts(sample):
    pdf = sample_pdf(sample)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == sample.pages
    first = unicodedata.normalize("NFC", reader.pages[0].extract_text())
    last = unicodedata.normalize("NFC", reader.pages[-1].extract_text())
    for part in (
        "ỦY BAN NHÂN DÂN",
        "TỈNH HÒA BÌNH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "QUYẾT ĐỊNH",
        "Về việc ban hành Kế hoạch",
    ):
        assert part in first
    assert re.search(r"Số:\s+/QĐ-UBND", first), "the number is left blank"
    assert re.search(r"Hòa Bình, ngày\s+tháng\s+năm", first), "the date is left blank"
    for part in ("Nơi nhận:", "Lưu: VT, NC (02).", sample.position_title, sample.signer, "thi hành Quyết định"):
        assert part in last
    if sample.pages > 1:
        assert reader.pages[1].extract_text().strip().startswith("2")  # PL I: numbered from page 2


def test_sample_documents_are_reproducible():
    assert sample_pdf(SAMPLES[1]) == sample_pdf(SAMPLES[1])
    assert build_attachment_pdf("Danh mục", pages=1) == build_attachment_pdf("Danh mục", pages=1)


@pytest.mark.parametrize("pages", [1, 3])
def test_attachment_documents(pages):
    pdf = build_attachment_pdf("Danh mục nhiệm vụ cải cách hành chính", pages=pages)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == pages
    lines = [line.strip() for line in unicodedata.normalize("NFC", reader.pages[0].extract_text()).splitlines()]
    assert lines[:2] == ["PHỤ LỤC", "DANH MỤC NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH"]
    assert lines[2].startswith("(Kèm theo văn bản số")
