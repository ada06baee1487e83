"""Realistic unsigned Decree 30 documents, for demo data, tests and benchmarks of the signing flow.

A document reaches the signing step with its number and date still blank (the Văn thư fills them when
issuing it) and an empty space between the position title and the signer's name for the signature
image. These builders lay the page out like Decree 30/2020/NĐ-CP Appendix I (A4 portrait, the margins
and "ô số" boxes of PL I §IV), so `signatures.layout.find_layout` meets the same shapes as on real files.

The shipped DejaVu fonts stand in for Times New Roman (not redistributable); DejaVu has no italic in
the repository, so the place-and-date line is slanted with the text matrix instead.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from documents.pdf import register_fonts

# PL I: A4 only; top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
MARGIN_LEFT = 30 * mm
MARGIN_RIGHT = 15 * mm
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

# The header's two columns: agency and number on the left (boxes 2, 3), motto and date on the right (1, 4).
LEFT_COLUMN_WIDTH = 73 * mm
RIGHT_COLUMN_WIDTH = TEXT_WIDTH - LEFT_COLUMN_WIDTH

SIGNATURE_SPACE = 28 * mm
"""Empty height left for the signature image between the position title and the name (box 7c)."""

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
NUMBER_BLANK = " " * 10  # room for a four-digit number at 13 pt, so the filled number keeps its size
DATE_BLANK = " " * 6
NO_BREAK_BLANK = "\u00a0"  # Paragraph collapses ordinary spaces; a blank to fill in needs these

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC_SLANT = 0.21  # tan(12°): a synthetic oblique for the lines PL I sets in italics

_BODY = ParagraphStyle(
    "decree30-body",
    fontName=REGULAR,
    fontSize=12,
    leading=17,
    alignment=TA_JUSTIFY,
    firstLineIndent=10 * mm,
    spaceAfter=5,
)
_BODY_HEADING = ParagraphStyle(
    "decree30-body-heading", parent=_BODY, fontName=BOLD, alignment=TA_CENTER, firstLineIndent=0, spaceBefore=3
)
_TITLE = ParagraphStyle("decree30-title", fontName=BOLD, fontSize=13, leading=17, alignment=TA_CENTER)
_SUBJECT = ParagraphStyle("decree30-subject", fontName=BOLD, fontSize=12, leading=16, alignment=TA_CENTER)
_SIGN_BLOCK = ParagraphStyle("decree30-sign", fontName=BOLD, fontSize=12, leading=16, alignment=TA_CENTER)
_SIGNER = ParagraphStyle("decree30-signer", fontName=BOLD, fontSize=13, leading=17, alignment=TA_CENTER)
_RECIPIENTS_HEAD = ParagraphStyle("decree30-recipients-head", fontName=BOLD, fontSize=11, leading=14)
_RECIPIENT = ParagraphStyle("decree30-recipient", fontName=REGULAR, fontSize=10, leading=13, alignment=TA_LEFT)
_CELL = ParagraphStyle("decree30-cell", fontName=REGULAR, fontSize=10.5, leading=13.5)
_CELL_HEAD = ParagraphStyle("decree30-cell-head", parent=_CELL, fontName=BOLD, alignment=TA_CENTER)

# Padding prose for long documents: plausible implementing clauses of a provincial decision.
_PADDING_CLAUSES = (
    "Tổ chức triển khai thực hiện các nhiệm vụ, giải pháp đã đề ra, bảo đảm tiến độ, chất lượng và hiệu quả; "
    "định kỳ hằng quý báo cáo kết quả thực hiện về Ủy ban nhân dân tỉnh qua Sở Nội vụ để tổng hợp.",
    "Rà soát, chuẩn hóa quy trình nội bộ giải quyết thủ tục hành chính, công khai đầy đủ trên Cổng Dịch vụ "
    "công quốc gia; bảo đảm 100% hồ sơ được tiếp nhận, xử lý và trả kết quả đúng hạn.",
    "Bố trí kinh phí thực hiện từ nguồn ngân sách nhà nước được giao trong dự toán hằng năm của các cơ quan, "
    "đơn vị theo phân cấp ngân sách hiện hành và các nguồn kinh phí hợp pháp khác.",
    "Đẩy mạnh ứng dụng công nghệ thông tin trong quản lý văn bản và điều hành; thực hiện gửi, nhận văn bản "
    "điện tử có ký số qua Trục liên thông văn bản quốc gia, trừ văn bản mật theo quy định.",
    "Tăng cường công tác kiểm tra, giám sát việc thực hiện; kịp thời phát hiện, chấn chỉnh những tồn tại, hạn "
    "chế và đề xuất cấp có thẩm quyền khen thưởng tập thể, cá nhân có thành tích xuất sắc.",
    "Phối hợp chặt chẽ với Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức chính trị - xã hội trong công "
    "tác tuyên truyền, phổ biến, nâng cao nhận thức của cán bộ, công chức, viên chức và Nhân dân.",
    "Chủ động xây dựng kế hoạch đào tạo, bồi dưỡng nâng cao năng lực, kỹ năng số cho đội ngũ cán bộ, công chức "
    "làm công tác văn thư, lưu trữ tại cơ quan, đơn vị và Ủy ban nhân dân cấp xã.",
    "Trong quá trình tổ chức thực hiện, nếu có khó khăn, vướng mắc, các cơ quan, đơn vị kịp thời phản ánh về "
    "Sở Nội vụ để tổng hợp, báo cáo Ủy ban nhân dân tỉnh xem xét, quyết định.",
)

_APPENDIX_TASKS = (
    ("Rà soát, cập nhật danh mục hồ sơ năm", "Văn phòng UBND tỉnh", "Quý I"),
    ("Số hóa tài liệu lưu trữ có giá trị bảo quản vĩnh viễn", "Sở Nội vụ", "Quý II"),
    ("Triển khai chữ ký số chuyên dùng cho lãnh đạo cấp phòng", "Sở Khoa học và Công nghệ", "Quý II"),
    ("Kết nối hệ thống quản lý văn bản với Trục liên thông", "Sở Khoa học và Công nghệ", "Quý III"),
    ("Tập huấn nghiệp vụ văn thư cho UBND cấp xã", "Sở Nội vụ", "Quý III"),
    ("Kiểm tra công tác văn thư, lưu trữ tại các sở, ngành", "Sở Nội vụ", "Quý IV"),
    ("Tổng kết, đánh giá kết quả thực hiện kế hoạch", "Văn phòng UBND tỉnh", "Tháng 12"),
)


def build_decree30_pdf(
    *,
    agency_parent: str,
    agency_name: str,
    notation_suffix: str,
    title_kind: str,
    subject: str,
    body_paragraphs: Sequence[str],
    place: str,
    position_title: str,
    authority_prefix: str = "",
    signer_name: str,
    recipients: Sequence[str],
    pages: int | None = None,
) -> bytes:
    """An unsigned A4 document with blank number and date and an empty signature space.

    `notation_suffix` is the part after the slash ("QĐ-UBND"); `title_kind` the document kind in capitals
    ("QUYẾT ĐỊNH"), or "" for an official letter (công văn), whose subject then goes under the number as
    "V/v …" (box 5b). `pages` pads the body with implementing clauses until the document has exactly that
    many pages (for 2- and 50-page benchmarks); it is a floor when the given text is already longer.
    Identical arguments give identical bytes.
    """
    return _build_decree30_cached(
        agency_parent=agency_parent,
        agency_name=agency_name,
        notation_suffix=notation_suffix,
        title_kind=title_kind,
        subject=subject,
        body_paragraphs=tuple(body_paragraphs),
        place=place,
        position_title=position_title,
        authority_prefix=authority_prefix,
        signer_name=signer_name,
        recipients=tuple(recipients),
        pages=pages,
    )


def build_attachment_pdf(title: str, pages: int = 1) -> bytes:
    """A separate appendix file ("Phụ lục …"): a plan table, exactly `pages` pages long.

    Separate attachment files get the agency signature as text in the top-right corner of page 1
    (PL I §II.8.b), so that corner is left empty. The "(Kèm theo văn bản số …)" line stays blank, as on
    electronic documents.
    """
    return _build_attachment_cached(title, max(1, pages))


# --- the main document -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _build_decree30_cached(*, pages: int | None, body_paragraphs: tuple[str, ...], **fields) -> bytes:
    register_fonts()

    def build(padding: int) -> tuple[bytes, int]:
        body = _padded_body(body_paragraphs, padding)
        return _render(_decree30_story(body=body, **fields), title=fields["subject"], author=fields["agency_name"])

    return _fit_to_pages(build, pages)


def _padded_body(body: tuple[str, ...], padding: int) -> list[str]:
    """Insert numbered clauses before the closing paragraph ("Điều N. … chịu trách nhiệm thi hành")."""
    clauses = [f"{n + 1}. {_PADDING_CLAUSES[n % len(_PADDING_CLAUSES)]}" for n in range(padding)]
    if len(body) >= 2:
        return [*body[:-1], *clauses, body[-1]]
    return [*body, *clauses]


def _decree30_story(
    *,
    agency_parent: str,
    agency_name: str,
    notation_suffix: str,
    title_kind: str,
    subject: str,
    body: Sequence[str],
    place: str,
    position_title: str,
    authority_prefix: str,
    signer_name: str,
    recipients: Sequence[str],
) -> list[Flowable]:
    letter_subject = "" if title_kind.strip() else subject
    story: list[Flowable] = [
        _Header(
            agency_parent=agency_parent,
            agency_name=agency_name,
            notation_suffix=notation_suffix,
            place=place,
            letter_subject=letter_subject,
        ),
    ]
    if title_kind.strip():
        story += [
            Spacer(1, 6 * mm),
            Paragraph(escape(title_kind.strip().upper()), _TITLE),
            Paragraph(escape(subject), _SUBJECT),
            _Rule(35 * mm),
            Spacer(1, 4 * mm),
        ]
    else:
        story.append(Spacer(1, 8 * mm))
    paragraphs = [_body_paragraph(text) for text in body]
    signature = _signature_block(authority_prefix, position_title, signer_name, recipients)
    # The closing paragraph stays with the signature block, so the block never sits alone on a page.
    closing = paragraphs.pop() if paragraphs else Spacer(1, 0)
    story += [*paragraphs, KeepTogether([closing, Spacer(1, 4 * mm), signature])]
    return story


def _body_paragraph(text: str) -> Paragraph:
    """Body prose is justified; a line all in capitals ("QUYẾT ĐỊNH:", the issuing authority) is a centred
    bold heading, as in the PL I templates."""
    letters = [char for char in text if char.isalpha()]
    if letters and all(char.isupper() for char in letters):
        return Paragraph(escape(text), _BODY_HEADING)
    return Paragraph(escape(text), _BODY)


def _signature_block(authority_prefix: str, position_title: str, signer_name: str, recipients: Sequence[str]) -> Table:
    """Nơi nhận on the left (box 9b), authority, title, empty space and name on the right (7a–7c)."""
    signing: list[Flowable] = []
    if authority_prefix.strip():
        signing.append(Paragraph(escape(authority_prefix.strip().upper()), _SIGN_BLOCK))
    signing += [
        Paragraph(escape(position_title.strip().upper()), _SIGN_BLOCK),
        Spacer(1, SIGNATURE_SPACE),
        Paragraph(escape(signer_name.strip()), _SIGNER),
    ]
    receiving: list[Flowable] = [Paragraph("Nơi nhận:", _RECIPIENTS_HEAD)]
    receiving += [Paragraph(escape(f"- {line.lstrip('- ').strip()}"), _RECIPIENT) for line in recipients]
    table = Table([[receiving, signing]], colWidths=[TEXT_WIDTH * 0.45, TEXT_WIDTH * 0.55])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


class _Header(Flowable):
    """Boxes 1–4 (and 5b for letters), drawn at fixed offsets like the PL I template."""

    def __init__(
        self, *, agency_parent: str, agency_name: str, notation_suffix: str, place: str, letter_subject: str
    ) -> None:
        super().__init__()
        self.parent_lines = _wrap(agency_parent.strip().upper(), REGULAR, 11, LEFT_COLUMN_WIDTH - 4)
        self.agency_lines = _wrap(agency_name.strip().upper(), BOLD, 11, LEFT_COLUMN_WIDTH - 4)
        self.number_line = f"Số:{NUMBER_BLANK}/{notation_suffix.strip()}"
        self.date_line = f"{place.strip()}, ngày{DATE_BLANK}tháng{DATE_BLANK}năm 20.."
        self.date_size = _fitting_size(self.date_line, REGULAR, 12, RIGHT_COLUMN_WIDTH - 4, slant=ITALIC_SLANT)
        self.subject_lines = (
            _wrap(f"V/v {letter_subject.strip()}", REGULAR, 10.5, LEFT_COLUMN_WIDTH - 8)
            if letter_subject.strip()
            else []
        )
        left_lines = len(self.parent_lines) + len(self.agency_lines)
        self.number_offset = max(3, left_lines + 1) * 15 + 4
        self.height = self.number_offset + 8 + len(self.subject_lines) * 13

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return TEXT_WIDTH, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        top = self.height
        left_centre = LEFT_COLUMN_WIDTH / 2
        right_centre = LEFT_COLUMN_WIDTH + RIGHT_COLUMN_WIDTH / 2

        y = top - 11
        canvas.setFont(REGULAR, 11)
        for line in self.parent_lines:
            canvas.drawCentredString(left_centre, y, line)
            y -= 15
        canvas.setFont(BOLD, 11)
        widest = 0.0
        for line in self.agency_lines:
            canvas.drawCentredString(left_centre, y, line)
            widest = max(widest, stringWidth(line, BOLD, 11))
            y -= 15
        rule = max(20 * mm, widest / 3)
        canvas.setLineWidth(0.6)
        canvas.line(left_centre - rule / 2, y + 11, left_centre + rule / 2, y + 11)

        canvas.setFont(BOLD, 11)
        canvas.drawCentredString(right_centre, top - 11, NATIONAL_NAME)
        canvas.setFont(BOLD, 12)
        canvas.drawCentredString(right_centre, top - 26, MOTTO)
        motto_width = stringWidth(MOTTO, BOLD, 12)
        canvas.line(right_centre - motto_width / 2, top - 29, right_centre + motto_width / 2, top - 29)

        baseline = top - self.number_offset
        canvas.setFont(REGULAR, 12)
        canvas.drawCentredString(left_centre, baseline, self.number_line)
        _draw_oblique_centred(canvas, self.date_line, right_centre, baseline, REGULAR, self.date_size)

        canvas.setFont(REGULAR, 10.5)
        y = baseline - 16
        for line in self.subject_lines:
            canvas.drawCentredString(left_centre, y, line)
            y -= 13


class _Rule(Flowable):
    """The short centred line under the subject (PL I: one third to one half of the subject's width)."""

    def __init__(self, length: float) -> None:
        super().__init__()
        self.length = length

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.available_width = available_width
        return available_width, 4

    def draw(self) -> None:
        centre = self.available_width / 2
        self.canv.setLineWidth(0.6)
        self.canv.line(centre - self.length / 2, 2, centre + self.length / 2, 2)


def _draw_oblique_centred(canvas: Canvas, text: str, centre: float, baseline: float, font: str, size: float) -> None:
    width = stringWidth(text, font, size)
    text_object = canvas.beginText()
    text_object.setTextTransform(1, 0, ITALIC_SLANT, 1, centre - width / 2, baseline)
    text_object.setFont(font, size)
    text_object.textOut(text)
    canvas.drawText(text_object)


def _fitting_size(text: str, font: str, size: float, width: float, *, slant: float = 0.0) -> float:
    """`size`, or smaller (in half points) when the line would not fit `width`: a long place name
    ("Thành phố Hồ Chí Minh, ngày … tháng … năm …") stays in its column, inside the right margin."""
    while size > 8 and stringWidth(text, font, size) + slant * size > width:
        size -= 0.5
    return size


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit

    return simpleSplit(text, font, size, width) if text else []


def _page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    """PL I §I: page numbers from page 2 on, centred in the top margin."""
    canvas.saveState()
    canvas.setFont(REGULAR, 11)
    canvas.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - MARGIN_TOP / 2 - 2, str(doc.page))
    canvas.restoreState()


def _render(story: list[Flowable], *, title: str, author: str) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=author,
        creator="eoffice sample documents",
        invariant=True,
    )
    doc.build(story, onFirstPage=lambda canvas, doc: None, onLaterPages=_page_number)
    return buffer.getvalue(), doc.page


def _fit_to_pages(build: Callable[[int], tuple[bytes, int]], target: int | None) -> bytes:
    """The least padding that gives `target` pages (page count never falls as padding grows)."""
    results: dict[int, tuple[bytes, int]] = {}

    def page_count(padding: int) -> int:
        if padding not in results:
            results[padding] = build(padding)
        return results[padding][1]

    if page_count(0) >= (target or 0):
        return results[0][0]
    # Bracket the answer with an estimate from a small probe, then bisect the bracket.
    low, high = 0, 8
    while page_count(high) < target:
        per_page = high / max(page_count(high) - page_count(0), 0.5)
        low, high = high, high + max(1, math.ceil((target - page_count(high) + 0.3) * per_page))
    while high - low > 1:
        middle = (low + high) // 2
        if page_count(middle) < target:
            low = middle
        else:
            high = middle
    return results[high][0]


# --- separate appendix files -----------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _build_attachment_cached(title: str, pages: int) -> bytes:
    register_fonts()

    def build(rows: int) -> tuple[bytes, int]:
        return _render(_attachment_story(title, rows), title=title, author="")

    return _fit_to_pages(lambda padding: build(len(_APPENDIX_TASKS) + padding), pages)


def _attachment_story(title: str, rows: int) -> list[Flowable]:
    heading = title.strip()
    if heading.casefold().startswith("phụ lục"):
        label, _sep, rest = heading.partition(":")
        heading_lines = [label.strip().upper(), (rest or "").strip().upper()]
    else:
        heading_lines = ["PHỤ LỤC", heading.upper()]
    story: list[Flowable] = [Spacer(1, 8 * mm)]
    story += [Paragraph(escape(line), _TITLE) for line in heading_lines if line]
    story += [
        Paragraph(
            f"(Kèm theo văn bản số{NO_BREAK_BLANK * 12}ngày{NO_BREAK_BLANK * 12})",
            ParagraphStyle("appendix-ref", parent=_CELL, alignment=TA_CENTER),
        ),
        _Rule(35 * mm),
        Spacer(1, 5 * mm),
    ]
    data = [[Paragraph(text, _CELL_HEAD) for text in ("STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời gian hoàn thành")]]
    for index in range(rows):
        task, owner, when = _APPENDIX_TASKS[index % len(_APPENDIX_TASKS)]
        data.append(
            [
                Paragraph(str(index + 1), ParagraphStyle("stt", parent=_CELL, alignment=TA_CENTER)),
                Paragraph(escape(task), _CELL),
                Paragraph(escape(owner), _CELL),
                Paragraph(escape(when), ParagraphStyle("when", parent=_CELL, alignment=TA_CENTER)),
            ]
        )
    table = LongTable(
        data, colWidths=[12 * mm, TEXT_WIDTH - 12 * mm - 48 * mm - 30 * mm, 48 * mm, 30 * mm], repeatRows=1
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, "black"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(table)
    return story
