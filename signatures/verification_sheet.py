"""The printed verification sheet (phiếu kết quả kiểm tra chữ ký số): a PDF a clerk prints and files.

It says what the verification page and the API say, in the same words: every label and value comes from
`signatures.verification_text` (`signature_lines`, `revision_lines`, `change_text`), so the page, the API
and the paper never disagree. Pure: no database, no network; the caller passes the report (an upload's, or
a stored file's `FileVerification.report` through `VerificationReport.from_dict`; None while the stored file
waits to be verified) and who prints it. Fonts are the shipped DejaVu (documents.pdf), so Vietnamese prints.
"""

from __future__ import annotations

import io
from contextlib import nullcontext
from datetime import datetime
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle

from documents.pdf import register_fonts

from .verification import VERDICT_LABELS, Verdict, VerificationReport
from .verification_text import change_text, local_time, revision_lines, signature_lines

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
_MARGIN = 18 * mm
_LABEL_WIDTH = 52 * mm
_TEXT_WIDTH = A4[0] - 2 * _MARGIN


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("sheet", fontName=FONT, fontSize=9.5, leading=12.5)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=15, leading=19, alignment=TA_CENTER,
                                spaceAfter=8),
        "heading": ParagraphStyle("heading", parent=base, fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=10,
                                  spaceAfter=4),
        "label": ParagraphStyle("label", parent=base, fontName=BOLD),
        "value": base,
        "footer": ParagraphStyle("footer", parent=base, fontSize=9, spaceBefore=14),
    }


def _text(value: object) -> str:
    return escape(str(value if value not in (None, "") else "-"))


def _table(rows: list[tuple[str, str]], styles: dict[str, ParagraphStyle], *, verdict_rows: tuple[str, ...] = ()):
    """Label/value rows; `value` may already be paragraph markup (revision changes, one per line)."""
    data = []
    for label, value in rows:
        data.append([Paragraph(_text(label), styles["label"]), Paragraph(value, styles["value"])])
    table = Table(data, colWidths=[_LABEL_WIDTH, _TEXT_WIDTH - _LABEL_WIDTH], hAlign="LEFT")
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
    ]
    for index, (label, _value) in enumerate(rows):
        if label in verdict_rows:
            commands.append(("BACKGROUND", (1, index), (1, index), colors.HexColor("#fff7d6")))
    table.setStyle(TableStyle(commands))
    return table


def _file_reasons(report: VerificationReport) -> list[tuple[str, str]]:
    """Why the file got its verdict: the file's own problem, then the reasons (and, for 'valid with warnings',
    the warnings) of the signatures that share the file's verdict, each said once."""
    rows: list[tuple[str, str]] = []
    if report.error:
        rows.append((_("Problem"), _(report.error)))
    if report.verdict == Verdict.UNSIGNED:
        rows.append((_("Reason"), _("The file does not contain any digital signature.")))
    seen: set[str] = set()
    for signature in report.signatures:
        if signature.verdict != report.verdict:
            continue
        messages = [(_("Reason"), _(reason)) for reason in signature.reasons]
        if report.verdict == Verdict.VALID_WITH_WARNINGS:
            messages += [(_("Warning"), _(warning)) for warning in signature.warnings]
        for label, message in messages:
            if message not in seen:
                seen.add(message)
                rows.append((label, message))
    return rows


def _signature_section(report: VerificationReport, signature, number: int, styles) -> list:
    later = report.changes_after(signature)
    lines = signature_lines(signature, number, report.validation_time, later)
    (heading, field_name), rest = lines[0], lines[1:]
    # Each later revision's changes one per line (the page joins the same texts with "; ").
    by_label = {
        label: "<br/>".join(escape(change_text(change)) for change in revision.changes)
        for (label, _joined), revision in zip(revision_lines(later), later, strict=True)
        if revision.changes
    }
    rows, revision_labels = [], set(by_label)
    for label, value in rest:
        rows.append((label, by_label[label] if label in revision_labels else _text(value)))
    title = Paragraph(f"{_text(heading)}: {_text(field_name)}", styles["heading"])
    return [KeepTogether([title, _table(rows, styles, verdict_rows=(_("Verdict"),))])]


def render_sheet(
    report: VerificationReport | None,
    *,
    file_name: str,
    sha256: str,
    printed_by: str,
    language: str | None = None,
    printed_at: datetime | None = None,
) -> bytes:
    """The sheet as PDF bytes, in `language` (the reader's; None keeps the active one). `report` None: the
    stored file has not been verified yet, and the sheet says so instead of a verdict."""
    register_fonts()
    with translation.override(language) if language else nullcontext():
        return _render(report, file_name=file_name, sha256=sha256, printed_by=printed_by,
                       printed_at=printed_at or timezone.now())


def _render(report, *, file_name: str, sha256: str, printed_by: str, printed_at: datetime) -> bytes:
    styles = _styles()
    title = _("Signature verification sheet")
    story: list = [Paragraph(_text(title), styles["title"])]
    header = [
        (_("File name"), _text(file_name)),
        ("SHA-256", f'<font name="{FONT}" size="7.5">{_text(sha256)}</font>'),
    ]
    if report is None:
        header.append((_("Result"), _text(_("Not verified yet: the file is waiting to be checked."))))
    else:
        header += [
            (_("Checked at"), _text(local_time(report.validation_time))),
            (_("Result"), _text(VERDICT_LABELS.get(report.verdict, report.verdict))),
        ]
        header += [(label, _text(value)) for label, value in _file_reasons(report)]
    story.append(_table(header, styles, verdict_rows=(_("Result"),)))
    if report is not None:
        for number, signature in enumerate(report.signatures, start=1):
            story += _signature_section(report, signature, number, styles)
    printed = _("Printed by %(name)s on %(time)s") % {"name": printed_by or "-", "time": local_time(printed_at)}
    story.append(Paragraph(_text(printed), styles["footer"]))

    page_label = _("Page %(number)s")

    def footer(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(_MARGIN, 10 * mm, f"{title} · SHA-256 {sha256[:16]}…")
        canvas.drawRightString(A4[0] - _MARGIN, 10 * mm, page_label % {"number": document.page})
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN, bottomMargin=_MARGIN,
        title=title, author=printed_by, subject=file_name, creator="eoffice",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def sheet_filename(file_name: str) -> str:
    """`quyet-dinh.pdf` -> `quyet-dinh-kiem-tra-chu-ky.pdf` (ASCII; the browser gets the rest from the header)."""
    from django.utils.text import slugify

    stem = slugify(file_name.rsplit(".", 1)[0]) or "tep"
    return f"{stem[:60]}-kiem-tra-chu-ky.pdf"


def stored_report(doc_file) -> VerificationReport | None:
    """The stored verification of a document's file (blob and verification already loaded), None while it
    waits to be verified or when the stored report cannot be read."""
    verification = getattr(doc_file.blob, "verification", None)
    if verification is None or verification.state != "done":
        return None
    try:
        return VerificationReport.from_dict(verification.report)
    except (KeyError, TypeError, ValueError):
        return None


def printed_by(user) -> str:
    return getattr(user, "display_name", "") or user.get_username()


def sheet_response(content: bytes, file_name: str):
    """The sheet as a download that the browser never runs anything in (like documents' file downloads)."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True,
                                                                 filename=sheet_filename(file_name))
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
