"""The demo's registry (documents): each agency's registers for last year and this one, and two years of
outgoing, internal and incoming documents with cross-agency and secret-document grants.

Why the documents go through the real services: registration takes "today" from the clock, so the seed
replays the history drawn by `demo.plan` by running `register_outgoing` / `register_incoming` /
`grant_document_access` with the clock set to each action's moment. Numbers, notations, identifiers,
secret series, grants and audit events are therefore exactly what the services produce, and stay so when
the services change; the actions are replayed in date order, so every register's numbers are gapless and
increase with the dates, and the audit chain verifies.

Idempotent: documents are created only when the demo agencies hold none yet; a later run only opens the
new year's registers.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import datetime, timedelta
from functools import cache

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from documents import services
from documents.models import (
    Confidentiality,
    Direction,
    Document,
    DocumentGroupObjectPermission,
    DocumentType,
    DocumentUserObjectPermission,
    Register,
    RegisterKind,
)
from documents.pdf import register_fonts

from . import exchange
from .accounts import ADMIN_USERNAME
from .context import Context, clock
from .plan import GrantPlan, IncomingPlan, OpenRegistersPlan, OutgoingPlan, Planner

DEFAULT_DOCUMENTS = 360
REGISTER_KINDS = (
    RegisterKind.OUTGOING, RegisterKind.INCOMING, RegisterKind.SECRET_OUTGOING, RegisterKind.SECRET_INCOMING,
)
_PDF_TITLES = {
    "quyet-dinh": "QUYẾT ĐỊNH", "cong-van": "CÔNG VĂN", "bao-cao": "BÁO CÁO", "ke-hoach": "KẾ HOẠCH",
    "thong-bao": "THÔNG BÁO", "giay-moi": "GIẤY MỜI", "to-trinh": "TỜ TRÌNH",
}


def seed(ctx: Context) -> None:
    ctx.types.update({t.code: t for t in DocumentType.objects.all()})
    if Document.objects.filter(agency__in=ctx.agencies.values()).exists():
        ctx.say("Demo documents exist already: none added.")
        open_registers(ctx, timezone.localdate().year, at=None)
        return
    actions = Planner(random.Random(ctx.seed), ctx.now, ctx.documents).plan()
    # The documents sent inside the installation arrive electronically (demo.exchange): where the plan has
    # the recipient register one, its clerk registers the delivery; the others are registered on arrival.
    registered_later = {(id(a.source), a.agency) for a in actions if isinstance(a, IncomingPlan) and a.source}
    for action in actions:
        if isinstance(action, OpenRegistersPlan):
            open_registers(ctx, action.year, at=action.moment)
            continue
        with clock(action.moment):
            if isinstance(action, OutgoingPlan):
                action.document = _register_outgoing(ctx, action)
                exchange.arrive(action.document)
                exchange.register_on_arrival(ctx, action.document, action.moment, [
                    key for key in action.recipients if (id(action), key) not in registered_later])
            elif isinstance(action, IncomingPlan):
                received = (exchange.receive(ctx.clerks[action.agency], action.source.document)
                            if action.source is not None else None)
                if received is not None:
                    ctx.created["documents (incoming, received electronically)"] += 1
                    ctx.created["paper registrations replaced by deliveries"] += 1
                action.document = received or _register_incoming(ctx, action)
            else:
                _grant(ctx, action)


def totals(ctx: Context) -> dict[str, int]:
    docs = Document.objects.filter(agency_id__in=ctx.agency_ids)
    by_direction = Counter(docs.values_list("direction", flat=True))
    return {
        "registers": Register.objects.filter(agency_id__in=ctx.agency_ids).count(),
        "documents": docs.count(),
        "outgoing": by_direction[Direction.OUTGOING],
        "incoming": by_direction[Direction.INCOMING],
        "internal": by_direction[Direction.INTERNAL],
        "secret": docs.exclude(confidentiality=Confidentiality.NORMAL).count(),
        "user grants": DocumentUserObjectPermission.objects.filter(content_object__agency_id__in=ctx.agency_ids)
        .count(),
        "group grants": DocumentGroupObjectPermission.objects.filter(content_object__agency_id__in=ctx.agency_ids)
        .count(),
    }


def open_registers(ctx: Context, year: int, at: datetime | None) -> None:
    """The main series of each kind for the year, opened by the administrator (audited by the service)."""
    admin = ctx.users[ADMIN_USERNAME]
    existing = set(Register.objects.filter(year=year, code="").values_list("agency_id", "kind"))
    for agency in ctx.agencies.values():
        for kind in REGISTER_KINDS:
            if (agency.pk, kind) in existing:
                continue
            if at is None:
                services.create_register(admin, agency=agency, kind=kind, year=year)
            else:
                with clock(at):
                    services.create_register(admin, agency=agency, kind=kind, year=year)
            ctx.created["registers"] += 1


@cache
def sample_pdf(title: str) -> bytes:
    """A small A4 sample in Vietnamese; `invariant` makes the bytes reproducible, so re-runs reuse blobs."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(f"{title} (văn bản mẫu)")
    width, height = A4
    pdf.setFont("DejaVuSans-Bold", 11)
    pdf.drawCentredString(150, height - 60, "CƠ QUAN BAN HÀNH")
    pdf.drawCentredString(width - 170, height - 60, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    pdf.drawCentredString(width - 170, height - 76, "Độc lập - Tự do - Hạnh phúc")
    pdf.setFont("DejaVuSans", 11)
    pdf.drawCentredString(150, height - 82, "Số:      /")
    pdf.drawCentredString(width - 170, height - 100, "Hòa Bình, ngày     tháng     năm")
    pdf.setFont("DejaVuSans-Bold", 14)
    pdf.drawCentredString(width / 2, height - 150, title)
    pdf.setFont("DejaVuSans", 12)
    body = [
        "Văn bản mẫu của dữ liệu trình diễn (demo) hệ thống quản lý văn bản và điều hành.",
        "Nội dung chỉ nhằm minh họa thể thức văn bản hành chính theo Nghị định số 30/2020/NĐ-CP.",
        "Căn cứ Luật Tổ chức chính quyền địa phương;",
        "Theo đề nghị của Chánh Văn phòng,",
        "Điều 1. Phê duyệt nội dung kèm theo văn bản này.",
        "Điều 2. Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành.",
    ]
    for index, line in enumerate(body):
        pdf.drawString(85, height - 200 - index * 22, line)
    pdf.drawString(85, 120, "Nơi nhận: - Như Điều 2; - Lưu: VT.")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _upload(type_code: str, moment: datetime) -> SimpleUploadedFile:
    title = _PDF_TITLES.get(type_code, "VĂN BẢN")
    return SimpleUploadedFile(f"{type_code}-{moment:%Y%m%d-%H%M}.pdf", sample_pdf(title), "application/pdf")


def _register_outgoing(ctx: Context, plan: OutgoingPlan) -> Document:
    name, position, prefix = plan.signer
    data = services.OutgoingInput(
        document_type_id=ctx.types[plan.type_code].pk, subject=plan.subject, signer_name=name,
        signer_position=position, authority_prefix=prefix, urgency=plan.urgency,
        confidentiality=plan.confidentiality, drafting_unit_id=ctx.units[(plan.agency, plan.unit)].pk,
        recipients=[services.RecipientInput(agency_id=ctx.agencies[key].pk) for key in plan.recipients]
        + [services.RecipientInput(name=text) for text in plan.recipient_names],
        page_amount=1, issued_amount=plan.issued_amount, internal=plan.internal,
    )
    ctx.created[f"documents ({'internal' if plan.internal else 'outgoing'})"] += 1
    return services.register_outgoing(ctx.clerks[plan.agency], data, [_upload(plan.type_code, plan.moment)])


def _register_incoming(ctx: Context, plan: IncomingPlan) -> Document:
    arrival = timezone.localdate()
    if plan.source is not None:
        sent = plan.source.document
        sender = {"organ_name": sent.organ_name, "organ_id": sent.organ_id, "code_number": sent.code_number,
                  "code_notation": sent.code_notation, "issued_date": sent.issued_date,
                  "identifier": sent.identifier, "signer_name": sent.signer_name,
                  "signer_position": sent.signer_position}
    else:
        sender = plan.sender
    data = services.IncomingInput(
        document_type_id=ctx.types[plan.type_code].pk, subject=plan.subject, urgency=plan.urgency,
        confidentiality=plan.confidentiality, arrival_date=arrival, to_places=plan.to_places, page_amount=1,
        due_date=arrival + timedelta(days=plan.due_in_days) if plan.due_in_days else None, **sender,
    )
    ctx.created["documents (incoming)"] += 1
    clerk = ctx.clerks[plan.agency]
    try:
        return services.register_incoming(clerk, data, [_upload(plan.type_code, plan.moment)])
    except services.DuplicateDocument as exc:
        # The warning matches number + notation + sender, but numbers restart every year and secret
        # documents have their own series (Art. 15), so last year's "05/QĐ-UBND", or a secret one, is
        # another document: the clerk confirms the warning, as in the form. The same identifier
        # (same date too) would be a real duplicate, i.e. a bug of the plan.
        identifier = data.identifier or services.build_identifier(
            data.organ_id, data.issued_date, data.code_number, data.code_notation)
        if any(d.identifier == identifier for d in exc.duplicates):
            raise
        ctx.created["duplicate warnings confirmed"] += 1
        return services.register_incoming(clerk, data, [_upload(plan.type_code, plan.moment)], confirm_duplicate=True)


def _grant(ctx: Context, plan: GrantPlan) -> None:
    document = plan.target.document
    clerk = ctx.clerks[plan.target.agency]
    if plan.group:
        services.grant_document_access(clerk, document, group=Group.objects.get(name=plan.group))
    else:
        # A secret document's grant asks the clerk to confirm who will see it: the plan is that confirmation.
        services.grant_document_access(clerk, document, user=ctx.users[plan.username], confirm=True)
    ctx.created["grants"] += 1

