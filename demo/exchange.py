"""The demo's document exchange: documents flowing between the demo agencies, with deliveries in every
state of the exchange's trace.

Two parts:
- the history: `demo.documents` issues two years of documents with recipient agencies, and the exchange
  writes their deliveries with each issue. `arrive` (called right after each issue, under the history's
  clock) makes them arrive at that moment, and `receive` lets the recipient's clerk register the delivery
  (one click, status 03) where the plan has them register that document as incoming; `register_on_arrival`
  registers the others on arrival (unit leaders take note of internal ones), except those of the last days,
  which stay in the clerks' queues (01).
- the showcase (`seed`, after the workflows): fresh documents between the province's main agencies, one per
  state: waiting, returned, registered and directed (04), in progress (05), completed (06), recalled, asked
  back and given back (15), refused (16) or waiting for the answer (13), a replacement linked to the document
  it replaces, and an internal document to two units of the province committee (one acknowledged).

Everything goes through exchange.services, documents.services and workflows.services with the acting demo
person. Idempotent: the showcase is added only when no demo delivery was returned yet.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts import roles
from accounts.models import User
from documents import services as documents_services
from documents.models import Document
from exchange import services
from exchange.models import BusinessType, Delivery, StatusCode
from workflows import services as workflow_services

from .context import Context, clock

WAITING_DAYS = 2
"""Historical deliveries that arrived in the last days stay waiting in the recipients' queues."""


def arrive(document: Document) -> None:
    """The arrival task's body, now (the seed's transaction commits only at the end: the eager task that
    runs then finds nothing left)."""
    services.complete_arrivals(document.pk)


def receive(clerk: User, source: Document) -> Document | None:
    """The clerk registers the delivery of `source` to their agency, if it came electronically."""
    delivery = (Delivery.objects.filter(document=source, recipient_agency_id=clerk.agency_id,
                                        recipient_unit__isnull=True, status=StatusCode.ARRIVED).first())
    if delivery is None:
        return None
    return _register(clerk, delivery)


def register_on_arrival(ctx: Context, document: Document, moment, keys: list[str]) -> None:
    """Deliveries of the history the plan does not register later: their clerks register them on arrival
    (in date order, so the incoming registers stay in date order), but those of the last days wait."""
    if moment >= ctx.now - timedelta(days=WAITING_DAYS):
        return
    for key in keys:
        clerk = ctx.clerks.get(key)
        delivery = Delivery.objects.filter(document=document, recipient_agency=ctx.agencies.get(key),
                                           recipient_unit__isnull=True, status=StatusCode.ARRIVED).first()
        if clerk is None or delivery is None:
            continue
        _register(clerk, delivery)
        ctx.created["documents (incoming, received electronically)"] += 1
    for delivery in Delivery.objects.filter(document=document, recipient_unit__isnull=False,
                                            status=StatusCode.ARRIVED):
        leader = _unit_leader(delivery.recipient_unit_id)
        if leader is not None:
            services.acknowledge_delivery(leader, delivery)


def _register(clerk: User, delivery: Delivery) -> Document:
    try:
        return services.register_delivery(clerk, delivery)
    except documents_services.DuplicateDocument:
        # Numbers restart every year: last year's "05/QĐ-UBND" is another document; the clerk confirms.
        return services.register_delivery(clerk, delivery, confirm_duplicate=True)


def seed(ctx: Context) -> None:
    agencies = list(ctx.agencies.values())
    if Delivery.objects.filter(sender_agency__in=agencies, status=StatusCode.RETURNED).exists():
        return
    _showcase(ctx)


def totals(ctx: Context) -> dict[str, int]:
    deliveries = Delivery.objects.filter(sender_agency_id__in=ctx.agency_ids)
    return {"deliveries": deliveries.count(),
            "deliveries waiting": deliveries.filter(status=StatusCode.ARRIVED, recalled_at__isnull=True).count()}


def _unit_leader(unit_id: int) -> User | None:
    return User.objects.filter(unit_id=unit_id, is_active=True, groups__name=roles.UNIT_LEADER).first()


# --- the showcase ----------------------------------------------------------------------------------------


def _showcase(ctx: Context) -> None:
    from .workflows import cast

    needed = ("ubnd", "snv", "stc", "syt", "sgddt", "skhdt", "stp")
    if any(key not in ctx.agencies or key not in ctx.clerks for key in needed):
        return
    # After the history's last registration (the registers' numbers keep increasing with their dates), in the
    # last two hours.
    last = Document.objects.filter(agency__in=ctx.agencies.values()).order_by("-created_at").first()
    start = max(last.created_at if last else ctx.now, ctx.now - timedelta(hours=2)) + timedelta(seconds=30)
    moments = iter(start + timedelta(seconds=30 * i) for i in range(400))

    def step():
        return clock(min(next(moments), ctx.now - timedelta(seconds=1)))

    def send(sender: str, recipients: tuple[str, ...], subject: str, **extra) -> Document:
        with step():
            document = _issue(ctx, sender, recipients, subject, **extra)
            arrive(document)
        ctx.created["documents (sent electronically)"] += 1
        return document

    def register(key: str, document: Document) -> Document:
        ctx.created["documents (incoming, received electronically)"] += 1
        return _register(clerk[key], delivery(document, key))

    def delivery(document: Document, key: str) -> Delivery:
        return Delivery.objects.get(document=document, recipient_agency=ctx.agencies[key], recipient_unit=None)

    clerk = ctx.clerks

    # 1. The province committee asks three departments for reports: waiting at SNV, directed at STC,
    #    in progress at SYT.
    plan = send("ubnd", ("snv", "stc", "syt"), "Về việc báo cáo kết quả cải cách hành chính năm {year}",
                urgency=1)
    for key, stage in (("stc", "directed"), ("syt", "in progress")):
        with step():
            incoming = register(key, plan)
        people = cast(ctx, key)
        if people is not None:
            _handle(incoming, people, stage, step)

    # 2. SNV reports to the province committee, which completed its handling (06).
    report = send("snv", ("ubnd",), "Báo cáo tình hình thực hiện công tác thi đua, khen thưởng quý {quarter}")
    with step():
        incoming = register("ubnd", report)
    people = cast(ctx, "ubnd")
    if people is not None:
        _handle(incoming, people, "completed", step)

    # 3. Sent to the wrong place: returned (02).
    wrong = send("stc", ("sgddt",), "Về việc thẩm định dự toán kinh phí sửa chữa trụ sở Sở Y tế")
    with step():
        services.return_delivery(clerk["sgddt"], delivery(wrong, "sgddt"),
                                 "Văn bản gửi nhầm cơ quan: nội dung thuộc thẩm quyền của Sở Y tế.")

    # 4. Recalled after one recipient registered it.
    recalled = send("skhdt", ("snv", "stc"), "Về việc điều chỉnh kế hoạch đầu tư công trung hạn (bản có sai sót)")
    with step():
        register("stc", recalled)
    with step():
        services.recall_document(clerk["skhdt"], recalled, "Văn bản có sai sót về số liệu, sẽ ban hành văn bản thay thế.")

    # 5. Asked back: given back (15) by UBND, refused (16) by STP; SNV's answer still awaited (13).
    asked = send("snv", ("ubnd", "stp", "stc"), "Về việc đề nghị thẩm định đề án vị trí việc làm")
    for key in ("ubnd", "stp", "stc"):
        with step():
            register(key, asked)
    for key, accept, reason in (("ubnd", True, ""), ("stp", False, "Văn bản đang được xử lý, đã giao phòng chuyên môn."),
                                ("stc", None, "")):
        with step():
            services.ask_back(clerk["snv"], delivery(asked, key), "Đề án cần bổ sung hồ sơ trước khi thẩm định.")
        if accept is not None:
            with step():
                services.answer_take_back(clerk[key], delivery(asked, key), accept=accept, reason=reason)

    # 6. A replacement linked to the document it replaces at every recipient (waiting at SNV).
    old = send("syt", ("snv", "ubnd"), "Về việc tổ chức khám sức khỏe định kỳ cho cán bộ, công chức")
    with step():
        register("ubnd", old)
    new = send("syt", ("snv", "ubnd"), "Về việc tổ chức khám sức khỏe định kỳ cho cán bộ, công chức (thay thế)")
    with step():
        services.link_replacement(clerk["syt"], new, old, BusinessType.REPLACE)

    # 7. An internal document of the province committee to two of its units: one took note of it.
    units = [u for (key, _abbr), u in ctx.units.items() if key == "ubnd" and _unit_leader(u.pk)][:2]
    if units:
        internal = send("ubnd", (), "Thông báo lịch họp giao ban tháng {month}", units=tuple(units))
        with step():
            first = Delivery.objects.get(document=internal, recipient_unit=units[0])
            services.acknowledge_delivery(_unit_leader(units[0].pk), first)


def _issue(ctx: Context, sender: str, recipients: tuple[str, ...], subject: str, *, urgency: int = 0,
           units: tuple = ()) -> Document:
    today = timezone.localdate()
    data = documents_services.OutgoingInput(
        document_type_id=ctx.types["cong-van"].pk,
        subject=subject.format(year=today.year, quarter=(today.month - 1) // 3 + 1, month=today.month),
        signer_name="", signer_position="", urgency=urgency, internal=bool(units), page_amount=1,
        recipients=[documents_services.RecipientInput(agency_id=ctx.agencies[key].pk) for key in recipients]
        + [documents_services.RecipientInput(unit_id=u.pk) for u in units]
        + [documents_services.RecipientInput(name="Lưu: VT")],
    )
    from .documents import _upload

    return documents_services.register_outgoing(ctx.clerks[sender], data, [_upload("cong-van", timezone.now())])


def _handle(incoming: Document, people: dict[str, User], stage: str, step) -> None:
    """The recipient's handling: directed (04), in progress (05) or completed (06), reported back."""
    with step():
        case = workflow_services.open_case(people["clerk"], incoming)
        case = workflow_services.present(people["clerk"], case, people["leader"])
    with step():
        case = workflow_services.direct(
            people["leader"], case, instruction="Giao phòng chủ trì tham mưu, báo cáo.",
            targets=[workflow_services.TargetInput(role="lead", unit_id=people["chief"].unit_id,
                                                   deadline=timezone.localdate() + timedelta(days=7))],
        )
    if stage == "directed":
        return
    assignment = case.assignments.get(role="lead")
    with step():
        assignment = workflow_services.assign_within_unit(
            people["chief"], assignment, people["handler"], deadline=timezone.localdate() + timedelta(days=5))
        assignment = workflow_services.record_progress(people["handler"], assignment,
                                                       note="Đang tổng hợp số liệu.")
    if stage == "completed":
        with step():
            workflow_services.complete_assignment(people["handler"], assignment, outcome="Đã báo cáo.")
