"""The printable delivery report of one sent document: each recipient, its current status and every status
of its trace (who, when, why), as an A4 PDF with the shipped DejaVu fonts (Vietnamese renders anywhere).
The labels follow the active language (the page links to it in the reader's language)."""

from __future__ import annotations

import io
import re
import unicodedata
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from documents.models import Document
from documents.pdf import register_fonts

from .models import Delivery

_FONT = "DejaVuSans"
_FONT_BOLD = "DejaVuSans-Bold"


def _p(text: str, style) -> Paragraph:
    return Paragraph(escape(unicodedata.normalize("NFC", str(text or ""))).replace("\n", "<br/>"), style)


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def report_filename(document: Document) -> str:
    stem = unicodedata.normalize("NFKD", document.number_notation).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-") or str(document.pk)
    return f"delivery-report-{stem}.pdf"


def build_delivery_report(document: Document, deliveries: list[Delivery]) -> bytes:
    register_fonts()
    body = ParagraphStyle("body", fontName=_FONT, fontSize=9, leading=11)
    bold = ParagraphStyle("bold", parent=body, fontName=_FONT_BOLD)
    title = ParagraphStyle("title", parent=body, fontName=_FONT_BOLD, fontSize=14, leading=18, alignment=1)

    story = [
        _p(_("Delivery report"), title),
        Spacer(1, 4 * mm),
        _p(f"{document.organ_name} – {document.number_notation} – {document.issued_date:%d/%m/%Y}", bold),
        _p(document.subject, body),
        _p(_("Printed on %(when)s") % {"when": _when(timezone.now())}, body),
        Spacer(1, 5 * mm),
    ]
    widths = [52 * mm, 34 * mm, 26 * mm, 34 * mm, 40 * mm]
    data = [[_p(_("Recipient"), bold), _p(_("Status"), bold), _p(_("At"), bold), _p(_("By"), bold),
             _p(_("Reason"), bold)]]
    spans = []
    for delivery in deliveries:
        traces = list(delivery.traces.all())
        current = delivery.get_status_display() if delivery.status else _("On its way")
        if delivery.is_recalled:
            current = f"{current} – {_('Recalled')}"
        first_row = len(data)
        data.append([_p(f"{delivery.recipient_name}\n({current})", bold), "", "", "", ""])
        if delivery.is_recalled:
            data.append(["", _p(_("Recalled"), body), _p(_when(delivery.recalled_at), body), "",
                         _p(delivery.recall_reason, body)])
        for trace in traces:
            data.append(["", _p(f"{trace.code} {trace.get_code_display()}", body), _p(_when(trace.at), body),
                         _p(trace.actor_name or (trace.agency.name if trace.agency_id else ""), body),
                         _p(trace.reason, body)])
        if len(data) - 1 > first_row:
            spans.append(("SPAN", (0, first_row), (0, len(data) - 1)))
        else:
            data[first_row][1] = _p(_("No status yet"), body)
    if not deliveries:
        data.append([_p(_("This document was not sent electronically to any recipient."), body), "", "", "", ""])
        spans.append(("SPAN", (0, 1), (-1, 1)))
    style = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        *spans,
    ])
    story.append(LongTable(data, colWidths=widths, repeatRows=1, style=style, splitInRow=1))
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"{_('Delivery report')} {document.number_notation}",
                            author=document.organ_name, creator="E-office")
    pdf.build(story)
    return buffer.getvalue()
