"""The demo's work in progress (workflows): incoming documents at every stage of handling and outgoing
drafts at every stage of the default chain, so that each demo person opens on work waiting for them.

Replayed through workflows.services and workflows.drafting_services with the clock set to each step's
moment, like the registrations. Idempotent: cases are created only when the demo agencies have none,
drafts only when they have no draft.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from accounts import roles
from accounts.models import User
from documents.models import Confidentiality, Direction, Document
from workflows import drafting_services
from workflows import services as workflow_services
from workflows.drafting import Draft
from workflows.models import IncomingCase

from .accounts import PEOPLE
from .context import Context, clock
from .signatures import draft_pdf

# Stages of the demo's incoming cases and the age (days since registration) a document needs to have
# reached that stage honestly; the newest document old enough is taken, in this order.
WORKFLOW_STAGES: tuple[tuple[str, float], ...] = (
    ("registered", 0), ("presented", 0.2), ("directed", 1.2), ("being handled", 2.2),
    ("extension requested", 2.7), ("completed on time", 3.2), ("completed late", 6.2), ("overdue", 5.2),
    ("returned", 0.2),
)

# One draft per stage and agency, started that many days ago: (stage, subject, document type, urgency).
DRAFT_STAGES = (
    ("returned", "Về việc tổ chức tập huấn nghiệp vụ văn thư, lưu trữ năm {year}", "cong-van", 0),
    ("in review", "Kế hoạch triển khai chuyển đổi số trong cơ quan năm {year}", "ke-hoach", 0),
    ("format check", "Báo cáo kết quả thực hiện nhiệm vụ quý IV năm {year}", "bao-cao", 0),
    ("ready to sign", "Về việc thành lập Tổ công tác rà soát thủ tục hành chính", "quyet-dinh", 1),
    ("signed on paper", "Thông báo lịch tiếp công dân tháng 12 năm {year}", "thong-bao", 0),
)


def seed(ctx: Context) -> None:
    _incoming_cases(ctx)
    _drafts(ctx)


def totals(ctx: Context) -> dict[str, int]:
    return {"incoming cases": IncomingCase.objects.filter(agency_id__in=ctx.agency_ids).count()}


def cast(ctx: Context, key: str) -> dict[str, User] | None:
    """The agency's clerk, leader, a unit leader and a person of that unit (the unit leader when the
    unit has nobody else); None for an agency without them."""
    members = [p for p in PEOPLE if p.agency == key]
    leader = next((p for p in members if p.role == roles.AGENCY_LEADER), None)
    chiefs = [p for p in members if p.role == roles.UNIT_LEADER and p.unit]
    if key not in ctx.clerks or leader is None or not chiefs:
        return None
    chief = next((c for c in chiefs if any(p.role == roles.STAFF and p.unit == c.unit for p in members)),
                 chiefs[0])
    handler = next((p for p in members if p.role == roles.STAFF and p.unit == chief.unit), chief)
    return {"clerk": ctx.clerks[key], "leader": ctx.users[leader.username],
            "chief": ctx.users[chief.username], "handler": ctx.users[handler.username]}


# --- incoming-document handling ----------------------------------------------------------------------


def _incoming_cases(ctx: Context) -> None:
    """Incoming documents at every stage of handling (Decree 30 Art. 20-24): entered and presented,
    directed, being handled, with an extension request, completed on time and late, left overdue,
    returned. Secret documents are left alone."""
    if IncomingCase.objects.filter(agency__in=ctx.agencies.values()).exists():
        return
    created = 0
    for key, agency in ctx.agencies.items():
        people = cast(ctx, key)
        if people is None:
            continue
        documents = list(
            Document.objects.filter(agency=agency, direction=Direction.INCOMING,
                                    confidentiality=Confidentiality.NORMAL)
            .order_by("-created_at", "-pk")
        )
        used: set[int] = set()
        for stage, min_age in WORKFLOW_STAGES:
            document = next((d for d in documents if d.pk not in used
                             and (ctx.now - d.created_at) >= timedelta(days=min_age)), None)
            if document is None:
                continue
            used.add(document.pk)
            _handle(stage, document, people, ctx.now)
            created += 1
            ctx.created[f"incoming cases ({stage})"] += 1
    if created:
        workflow_services.mark_overdue()


def _handle(stage: str, document: Document, people: dict[str, User], now: datetime) -> None:
    """Replay one case up to `stage`; each step at registration + offset (never after now)."""
    start = document.created_at
    day = timezone.localtime(start).date()

    def at(hours: float):
        return clock(min(start + timedelta(hours=hours), now - timedelta(seconds=1)))

    late = stage == "completed late"
    overdue = stage == "overdue"
    with at(1):
        case = workflow_services.open_case(people["clerk"], document)
    if stage == "registered":
        return
    if stage == "returned":
        with at(2):
            workflow_services.return_case(people["clerk"], case, "Văn bản gửi nhầm cơ quan, đề nghị gửi lại.")
        return
    with at(2):
        case = workflow_services.present(people["clerk"], case, people["leader"])
    if stage == "presented":
        return
    unit_deadline = day + timedelta(days=4 if late or overdue else 10)
    with at(24):
        case = workflow_services.direct(
            people["leader"], case, instruction="Giao phòng chủ trì nghiên cứu, tham mưu, báo cáo.",
            targets=[workflow_services.TargetInput(role="lead", unit_id=people["chief"].unit_id,
                                                   deadline=unit_deadline)],
        )
    if stage == "directed":
        return
    assignment = case.assignments.get(role="lead")
    with at(26):
        assignment = workflow_services.assign_within_unit(
            people["chief"], assignment, people["handler"], deadline=unit_deadline - timedelta(days=1),
            note="Đồng chí nghiên cứu, đề xuất.",
        )
    if stage in ("being handled", "extension requested"):
        with at(48):
            assignment = workflow_services.record_progress(
                people["handler"], assignment, note="Đang tổng hợp số liệu từ các đơn vị.")
    if stage == "extension requested":
        with at(60):
            workflow_services.request_extension(
                people["handler"], assignment, new_deadline=unit_deadline, reason="Các đơn vị chưa gửi đủ số liệu.")
    elif stage == "completed on time" or late:
        with at(6 * 24 if late else 72):
            workflow_services.complete_assignment(people["handler"], assignment, outcome="Đã tham mưu văn bản trả lời.")


# --- outgoing drafts ---------------------------------------------------------------------------------


def _recipient_agency(ctx: Context, key: str) -> dict:
    target = ctx.agencies["ubnd" if key != "ubnd" else "snv"]
    return {"agency_id": target.pk, "name": target.name}


def _drafts(ctx: Context) -> None:
    """Outgoing drafts at every stage of the default chain (Decree 30 Art. 10-14): returned to the drafter
    with a comment, waiting for the unit leader, at the clerk's format check, ready for the leader to sign
    (one urgent), signed on paper and waiting to be issued. Only agencies with a drafter other than the
    unit leader get them."""
    if Draft.objects.filter(agency__in=ctx.agencies.values()).exists():
        return
    types = ctx.types
    year = timezone.localdate().year
    for key, agency in ctx.agencies.items():
        people = cast(ctx, key)
        if people is None or people["handler"] == people["chief"]:
            continue
        for days_ago, (stage, subject, type_code, urgency) in enumerate(DRAFT_STAGES, start=1):
            started = ctx.now - timedelta(days=days_ago)
            with clock(started):
                data = drafting_services.DraftInput(
                    document_type_id=types.get(type_code, types["cong-van"]).pk,
                    subject=subject.format(year=year), urgency=urgency, proposed_signer_id=people["leader"].pk,
                    # Sent electronically when issued: to the province committee (its office for the committee).
                    recipients=[_recipient_agency(ctx, key), {"name": "Lưu: VT"}],
                )
                pdf = draft_pdf(agency, people["leader"], types.get(type_code), data.subject)
                draft = drafting_services.create_draft(people["handler"], data, pdf)
                draft = drafting_services.submit(people["handler"], draft)
            with clock(started + timedelta(hours=3)):
                if stage == "returned":
                    drafting_services.return_draft(
                        people["chief"], draft, comment="Đề nghị bổ sung số liệu và căn cứ pháp lý.")
                elif stage != "in review":
                    draft = drafting_services.approve_step(people["chief"], draft, comment="Đồng ý.")
            if stage in ("ready to sign", "signed on paper"):
                with clock(started + timedelta(hours=5)):
                    draft = drafting_services.approve_step(people["clerk"], draft)
            if stage == "signed on paper":
                with clock(started + timedelta(hours=8)):
                    drafting_services.mark_signed_on_paper(people["leader"], draft)
            ctx.created[f"drafts ({stage})"] += 1
