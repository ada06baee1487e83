"""The dashboard's reads: who sees which scope, the documents a scope counts, and every figure as an aggregate
query. Each figure is a filter (`document_filter`, `handling_class`, `OPEN_WORK`) used twice: by the count
and by the list behind it, so a list shows exactly the documents its figure counted.

Scopes (`dashboard_scope`):

- **province**: people who hold `dashboard.view_all_agencies` (given to a person in the admin) and the Agency
  leaders of an agency of kind "Provincial People's Committee". They see every agency, with an agency filter.
  What they count is restricted the way `visible_documents` restricts a member of each agency: the non-secret
  documents of the agencies (agency scope), plus any document they may see themselves (their grants).
- **agency**: an Agency leader and those who keep or read the registers (`documents.view_register`: clerks,
  archivists): the documents of their own agency they may see (`visible_documents`).
- **unit**: a Unit leader: of their agency's documents they may see, the incoming ones directed to their unit
  (or to its people) and the outgoing and internal ones drafted by it.
- anybody else: no dashboard (None; the pages answer 403 and the menu hides the link).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from accounts import roles
from accounts.models import Agency, AgencyKind, Unit
from accounts.selectors import role_names
from documents.models import Confidentiality, Direction, Document, DocumentFile, Register, RegisterKind
from documents.selectors import visible_documents
from exchange.models import Delivery
from signatures.models import FileVerification, SigningRequest, SigningState
from signatures.verification import Verdict
from workflows import reports as handling_reports
from workflows.drafting import Draft, DraftState
from workflows.drafting_selectors import drafts_for
from workflows.models import OPEN_ASSIGNMENT_STATES, Assignment, AssignmentState, TargetRole

from .models import DocumentTally, HandlingTally, QueueTally, TallyRefresh

PROVINCE = "province"
AGENCY = "agency"
UNIT = "unit"
TOP = 10  # rows of the "heaviest queues" and "waiting for signature" tables


# --- who sees what ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What one person's dashboard counts: `level` (province / agency / unit), the agency looked at (None: all
    agencies, province level only) and the unit (unit level)."""

    level: str
    agency_id: int | None
    unit_id: int | None = None

    @property
    def province(self) -> bool:
        return self.level == PROVINCE


def sees_all_agencies(user) -> bool:
    """The provincial rule: the permission held personally, or Agency leader of the provincial committee."""
    if user.has_perm("dashboard.view_all_agencies"):
        return True
    return (roles.AGENCY_LEADER in role_names(user) and user.agency_id is not None
            and user.agency.kind == AgencyKind.PROVINCE_COMMITTEE)


def dashboard_scope(user, agency_id: int | None = None) -> Scope | None:
    """The person's scope (see the module's docstring); `agency_id` narrows a provincial scope to one agency
    (ignored for the others, who only ever see their own). None: no dashboard."""
    if not user.is_authenticated or not user.is_active:
        return None
    if sees_all_agencies(user):
        return Scope(PROVINCE, agency_id)
    if not user.agency_id:
        return None
    names = role_names(user)
    if roles.AGENCY_LEADER in names or user.has_perm("documents.view_register"):
        return Scope(AGENCY, user.agency_id)
    if roles.UNIT_LEADER in names and user.unit_id:
        return Scope(UNIT, user.agency_id, user.unit_id)
    return None


def scope_agencies(user, scope: Scope) -> QuerySet[Agency]:
    """The agencies a scope may be narrowed to (the province's filter); just the own one otherwise."""
    agencies = Agency.objects.order_by("name")
    return agencies if scope.province else agencies.filter(pk=user.agency_id)


def province_filter(user, scope: Scope, prefix: str = "") -> Q:
    """The province's rule as a condition on a document reached through `prefix` ("case__document__"): the
    non-secret documents of every agency (or the one chosen), plus those the person may see themselves."""
    rule = Q(**{f"{prefix}confidentiality": Confidentiality.NORMAL}) | Q(
        **{f"{prefix}pk__in": visible_documents(user).values("pk")})
    return rule & Q(**{f"{prefix}agency_id": scope.agency_id}) if scope.agency_id else rule


def scope_documents(user, scope: Scope) -> QuerySet[Document]:
    """The documents a scope counts, always built on `visible_documents` (or, for the province, on the same
    agency rule applied to every agency)."""
    if scope.province:
        return Document.objects.filter(province_filter(user, scope))
    documents = visible_documents(user).filter(agency_id=scope.agency_id)
    if scope.unit_id is not None:
        directed = Assignment.objects.filter(handling_reports.unit_work(scope.unit_id)).values("case__document_id")
        documents = documents.filter(
            Q(direction=Direction.INCOMING, pk__in=directed)
            | Q(direction__in=(Direction.OUTGOING, Direction.INTERNAL), drafting_unit_id=scope.unit_id))
    return documents


# --- documents: in, out, channels, signatures -------------------------------------------------------

IN = "in"
IN_ELECTRONIC = "in_electronic"
IN_PAPER = "in_paper"
OUT = "out"
OUT_SIGNED = "out_signed"
OUT_UNSIGNED = "out_unsigned"
OUT_SENT = "out_sent"
OUT_ELECTRONIC = "out_electronic"
OUT_PAPER = "out_paper"
OUT_BOTH = "out_both"
INTERNAL = "internal"
DOCUMENT_FIGURES = (IN, IN_ELECTRONIC, IN_PAPER, OUT, OUT_SIGNED, OUT_UNSIGNED, OUT_SENT, OUT_ELECTRONIC, OUT_PAPER, OUT_BOTH,
                    INTERNAL)

# Signed digitally: the agency's seal request for the document completed (the signing service's record), or
# the verification of its main file found a valid signature (documents signed elsewhere and uploaded).
# Each is an uncorrelated `id IN (…)`: PostgreSQL reads the set once and hashes it, where a correlated EXISTS
# per document made the province's dashboard four times slower (bench/dashboard.py).
_VALID_BLOBS = FileVerification.objects.filter(verdict__in=(Verdict.VALID, Verdict.VALID_WITH_WARNINGS)).values("blob_id")
SIGNED = Q(pk__in=SigningRequest.objects.filter(state=SigningState.DONE, document__isnull=False).values("document_id")) | Q(
    pk__in=DocumentFile.objects.filter(is_main=True, blob_id__in=_VALID_BLOBS).values("document_id"))
# Sent electronically: at least one delivery through the exchange (agencies of the installation or edXML peers).
SENT = Q(pk__in=Delivery.objects.values("document_id"))
# Received electronically: registered from a delivery (exchange.Delivery.received_document); else from paper.
RECEIVED = Q(pk__in=Delivery.objects.filter(received_document__isnull=False).values("received_document_id"))


def period_date():
    """The date a document counts on: arrival for incoming documents, issue for outgoing and internal ones."""
    return Case(When(direction=Direction.INCOMING, then=F("arrival_date")), default=F("issued_date"),
                output_field=DateField())


def in_period(date_from: date, date_to: date) -> Q:
    return (Q(direction=Direction.INCOMING, arrival_date__gte=date_from, arrival_date__lte=date_to)
            | Q(direction__in=(Direction.OUTGOING, Direction.INTERNAL), issued_date__gte=date_from,
                issued_date__lte=date_to))


# Each document of a period falls in exactly one channel class, computed once per row by `channel()`; every
# document figure is a set of classes. The counts group by the class, the lists filter on it: a list shows
# exactly what its figure counted, and the signature and delivery look-ups run once per document.
_IN_E, _IN_P, _OUT_E, _OUT_S, _OUT_T, _OUT_P, _INT = "in_e", "in_p", "out_e", "out_s", "out_t", "out_p", "int"
_IMPORTED = "imported"  # in no figure (see channel)
FIGURE_CLASSES = {
    IN: (_IN_E, _IN_P),
    IN_ELECTRONIC: (_IN_E,),
    IN_PAPER: (_IN_P,),
    OUT: (_OUT_E, _OUT_S, _OUT_T, _OUT_P),
    OUT_SIGNED: (_OUT_E, _OUT_S),
    OUT_UNSIGNED: (_OUT_T, _OUT_P),
    OUT_SENT: (_OUT_E, _OUT_T),
    OUT_ELECTRONIC: (_OUT_E,),
    OUT_PAPER: (_OUT_P,),
    OUT_BOTH: (_OUT_S, _OUT_T),
    INTERNAL: (_INT,),
}


def channel(among: list[int] | None = None) -> Case:
    """A document's channel class. Outgoing: "electronic" is signed digitally and sent electronically,
    "paper" neither (signed on paper, sent on paper), "both" one of the two (a paper original whose scan
    was sent, or a digital signature delivered on paper only). Incoming: received through the exchange, or
    entered from paper. `among`: the query counts only these few documents (ids), so each signature and
    delivery set is read for them alone (by index) instead of hashed whole — the same classes."""
    signed, sent, received = SIGNED, SENT, RECEIVED
    if among is not None:
        signed = Q(pk__in=SigningRequest.objects.filter(state=SigningState.DONE, document_id__in=among)
                   .values("document_id")) | Q(
            pk__in=DocumentFile.objects.filter(is_main=True, blob_id__in=_VALID_BLOBS, document_id__in=among)
            .values("document_id"))
        sent = Q(pk__in=Delivery.objects.filter(document_id__in=among).values("document_id"))
        received = Q(pk__in=Delivery.objects.filter(received_document_id__in=among).values("received_document_id"))
    return Case(
        # Records imported from another installation (records/ BagIt import) are history, not this agency's
        # clerical work: a class of their own that no figure counts.
        When(register_id__in=Register.objects.filter(kind=RegisterKind.IMPORTED).values("pk"),
             then=Value(_IMPORTED)),
        When(Q(direction=Direction.INCOMING) & received, then=Value(_IN_E)),
        When(direction=Direction.INCOMING, then=Value(_IN_P)),
        When(direction=Direction.INTERNAL, then=Value(_INT)),
        When(signed, then=Case(When(sent, then=Value(_OUT_E)), default=Value(_OUT_S))),
        When(sent, then=Value(_OUT_T)),
        default=Value(_OUT_P),
        output_field=CharField(),
    )


def month_filter(month: date) -> Q:
    """Documents counted on a month (the first day of it), by arrival or issue date."""
    end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return in_period(month, end)


def figure_documents(user, scope: Scope, figure: str, date_from: date, date_to: date,
                     month: date | None = None) -> QuerySet[Document]:
    """The documents behind one document figure (the dashboard's list), in the order of the registers."""
    documents = scope_documents(user, scope).filter(in_period(date_from, date_to))
    if month is not None:
        documents = documents.filter(month_filter(month))
    return (documents.alias(channel=channel()).filter(channel__in=FIGURE_CLASSES[figure])
            .select_related("document_type", "agency").order_by("agency__name", "-register_number", "-id"))


_CHANNEL_FIGURES = {channel: tuple(figure for figure, classes in FIGURE_CLASSES.items() if channel in classes)
                    for channel in (_IN_E, _IN_P, _OUT_E, _OUT_S, _OUT_T, _OUT_P, _INT, _IMPORTED)}


def _fold(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """Rows of (keys..., channel, n) into one row per key with every document figure (aggregate rows, never
    documents: a few thousand at most, summed per key and class first)."""
    sums: dict[tuple, int] = {}
    for row in rows:
        key = (tuple(row[k] for k in keys), row["channel"])
        sums[key] = sums.get(key, 0) + row["n"]
    folded: dict[tuple, dict] = {}
    for (key, channel_class), n in sums.items():
        target = folded.get(key)
        if target is None:
            target = folded[key] = {**dict(zip(keys, key, strict=True)), **dict.fromkeys(DOCUMENT_FIGURES, 0)}
        for figure in _CHANNEL_FIGURES[channel_class]:
            target[figure] += n
    return list(folded.values())


def document_counts(user, scope: Scope, date_from: date, date_to: date,
                    group_by: str | None = None) -> list[dict]:
    """Every document figure counted in one grouped query (`group_by` "agency_id", "document_type_id",
    "register_id", or None for one row of totals)."""
    keys = (group_by,) if group_by else ()
    rows = list(scope_documents(user, scope).filter(in_period(date_from, date_to)).order_by()
                .annotate(channel=channel()).values(*keys, "channel").annotate(n=Count("pk")))
    folded = _fold(rows, keys)
    if group_by is None:
        return folded or [dict.fromkeys(DOCUMENT_FIGURES, 0)]
    return sorted(folded, key=lambda r: (r[group_by] is None, r[group_by] or 0))


def monthly_and_agency_counts(user, scope: Scope, date_from: date, date_to: date,
                              refresh: TallyRefresh | None = None) -> tuple[list[dict], list[dict]]:
    """Per month of the period ([{"month", figures...}], every month listed) and per agency, from one grouped
    query over the scope's documents; with a `refresh`, the non-secret ones from the tallies and the secret
    ones the person may see live (`untallied_documents`)."""
    among = None
    documents = scope_documents(user, scope).filter(in_period(date_from, date_to))
    if refresh:
        among = list(untallied_documents(user, scope, _among(user, scope, refresh)).filter(in_period(date_from, date_to))
                     .values_list("pk", flat=True))
        documents = Document.objects.filter(pk__in=among)
    rows = list(documents.order_by()
                .annotate(channel=channel(among), month=TruncMonth(period_date(), output_field=DateField()))
                .values("agency_id", "month", "channel").annotate(n=Count("pk")))
    for row in rows:
        row["month"] = _as_date(row["month"])
    month_rows, agency_rows = rows, rows
    if refresh:  # summed per month and per agency by the database: a few hundred rows, not agencies × months
        tallied = _tally_agency(DocumentTally.objects.filter(tally_span(date_from, date_to)), scope).order_by()
        month_rows = rows + list(tallied.values("month", "channel").annotate(n=Sum("n")))
        agency_rows = rows + list(tallied.values("agency_id", "channel").annotate(n=Sum("n")))
    by_month = {row["month"]: row for row in _fold(month_rows, ("month",))}
    months, current = [], date_from.replace(day=1)
    while current <= date_to:
        months.append(by_month.get(current, {"month": current, **dict.fromkeys(DOCUMENT_FIGURES, 0)}))
        current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months, sorted(_fold(agency_rows, ("agency_id",)), key=lambda r: r["agency_id"])


def monthly_counts(user, scope: Scope, date_from: date, date_to: date) -> list[dict]:
    """Documents in and out per month of the period: [{"month": date, "in": n, "out": n, ...}]."""
    return monthly_and_agency_counts(user, scope, date_from, date_to)[0]


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


# --- handling of incoming documents -----------------------------------------------------------------

_DONE = Q(state__in=(AssignmentState.COMPLETED, AssignmentState.CLOSED))


def handling_class(as_of: date) -> Case:
    """workflows.reports.classify as SQL: on time / late / overdue / in progress / not acted, as of `as_of`."""
    from django.utils.timezone import get_current_timezone

    done_on = TruncDate("completed_at", tzinfo=get_current_timezone())
    return Case(
        When(state=AssignmentState.NOT_ACTED, then=Value(handling_reports.NOT_ACTED)),
        When(_DONE & Q(completed_at__isnull=True, due_date__lt=as_of), then=Value(handling_reports.LATE)),
        When(_DONE & Q(completed_at__isnull=False, due_date__isnull=False, due_date__lt=done_on),
             then=Value(handling_reports.LATE)),
        When(_DONE, then=Value(handling_reports.ON_TIME)),
        When(due_date__lt=as_of, then=Value(handling_reports.OVERDUE)),
        default=Value(handling_reports.IN_PROGRESS),
        output_field=CharField(),
    )


def handled_targets(user, scope: Scope, date_from: date, date_to: date,
                    among: list[int] | None = None) -> QuerySet[Assignment]:
    """The handled targets the scope counts: for an agency or unit, exactly workflows' handling report rows
    (`workflows.reports.handled_targets`, the same access rule); for the province, the lead and co-ordinating
    targets of the cases of the scope's documents that arrived in the period. `among`: only those of these
    documents (ids), which for the province are already within its rule (`untallied_ids`)."""
    if not scope.province:
        rows = handling_reports.handled_targets(user, date_from, date_to, scope.unit_id)
        if among is not None:
            rows = rows.filter(case__document_id__in=among)
        return rows.select_related(None).order_by()
    rows = Assignment.objects.filter(
        province_filter(user, scope, "case__document__") if among is None else Q(case__document_id__in=among),
        case__document__arrival_date__gte=date_from, case__document__arrival_date__lte=date_to,
        role__in=(TargetRole.LEAD, TargetRole.COORDINATE),
    ).exclude(state=AssignmentState.FOR_INFORMATION)
    return rows.filter(case__agency_id=scope.agency_id) if scope.agency_id else rows


def handling_group(scope: Scope):
    """A target counts under its agency (province) or its unit (a person directed personally: their unit)."""
    return F("case__agency_id") if scope.province else Coalesce("unit_id", "user__unit_id")


def _took():
    return ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())


_TOOK_COUNTED = _DONE & Q(completed_at__isnull=False)  # the completed targets whose handling time is averaged


def _handling_sums(rows: QuerySet[Assignment], group, as_of: date) -> list[dict]:
    """Per group: targets per class, and the summed handling time (directed to completed) with its count."""
    return list(rows.alias(cls=handling_class(as_of)).annotate(group=group).values("group")
                .annotate(total=Count("pk"), **{cls: Count("pk", filter=Q(cls=cls)) for cls in handling_reports.CLASSES},
                          took=Sum(_took(), filter=_TOOK_COUNTED), took_n=Count("pk", filter=_TOOK_COUNTED))
                .order_by())


def handling_counts(user, scope: Scope, date_from: date, date_to: date, as_of: date | None = None,
                    refresh: TallyRefresh | None = None) -> list[dict]:
    """Per unit (agency for the province): targets per class and the average handling time in days of the
    completed ones (directed to completed). One grouped query; with a `refresh`, the non-secret documents'
    targets from the tallies (classified as of the refresh, the same day) and the rest live."""
    as_of = as_of or timezone.localdate()
    keys = ("total", *handling_reports.CLASSES, "took_n")
    if refresh:
        rows = _handling_sums(handled_targets(user, scope, date_from, date_to, _among(user, scope, refresh)), handling_group(scope),
                              as_of)
        rows += list(_tally_agency(HandlingTally.objects.filter(tally_span(date_from, date_to)), scope)
                     .annotate(group=F("agency_id") if scope.province else F("unit_id")).values("group")
                     .annotate(total=Sum("n"), **{cls: Sum("n", filter=Q(cls=cls)) for cls in handling_reports.CLASSES},
                               took=Sum("took"), took_n=Sum("took_n")).order_by())
    else:
        rows = _handling_sums(handled_targets(user, scope, date_from, date_to), handling_group(scope), as_of)
    sums: dict = {}
    for row in rows:
        target = sums.setdefault(row["group"], {"group": row["group"], **dict.fromkeys(keys, 0), "took": None})
        for key in keys:
            target[key] += row[key] or 0
        if row["took"] is not None:
            target["took"] = row["took"] if target["took"] is None else target["took"] + row["took"]
    rows = [row for row in sums.values() if row["total"]]
    names = _group_names(scope, {row["group"] for row in rows})
    for row in rows:
        row["label"] = names.get(row["group"], "")
        row["key"] = "none" if row["group"] is None else str(row["group"])
        took_value, took_n = row.pop("took"), row.pop("took_n")
        row["days"] = round(took_value.total_seconds() / took_n / 86400, 1) if took_value is not None and took_n else None
    rows.sort(key=lambda r: (r["group"] is None, r["label"]))
    return rows


def _group_names(scope: Scope, ids: set) -> dict:
    model = Agency if scope.province else Unit
    return dict(model.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", "name"))


def handling_targets_in(user, scope: Scope, date_from: date, date_to: date, *, group: str | None = None,
                        cls: str | None = None, as_of: date | None = None) -> QuerySet[Assignment]:
    """The targets behind one handling figure, filtered by the same expressions as the counts."""
    rows = handled_targets(user, scope, date_from, date_to).alias(
        cls=handling_class(as_of or timezone.localdate()), group=handling_group(scope))
    if group == "none":
        rows = rows.filter(group__isnull=True)
    elif group is not None:
        rows = rows.filter(group=int(group))
    if cls is not None:
        rows = rows.filter(cls=cls)
    return _for_list(rows)


def _for_list(rows: QuerySet[Assignment]) -> QuerySet[Assignment]:
    return rows.select_related("case", "case__document", "case__document__document_type", "unit", "user",
                               "assignee").order_by(F("due_date").asc(nulls_last=True), "id")


# --- open work and drafts waiting for signature ------------------------------------------------------


def open_work(user, scope: Scope, among: list[int] | None = None) -> QuerySet[Assignment]:
    """Open lead and co-ordinating work on the scope's documents now (whatever the period); `among` as for
    `handled_targets`."""
    documents = (province_filter(user, scope, "case__document__") if scope.province
                 else Q(case__document__in=scope_documents(user, scope).values("pk")))
    if among is not None:
        documents = (Q(case__document_id__in=among) if scope.province
                     else documents & Q(case__document_id__in=among))
    rows = Assignment.objects.filter(state__in=OPEN_ASSIGNMENT_STATES).exclude(role=TargetRole.INFORM).filter(documents)
    if scope.agency_id:
        rows = rows.filter(case__agency_id=scope.agency_id)
    if scope.unit_id is not None:
        rows = rows.filter(handling_reports.unit_work(scope.unit_id))
    return rows


def queue_group(by: str):
    """Open work per unit (a person directed personally: their unit) or per person (the handler, or the
    person directed)."""
    return Coalesce("unit_id", "user__unit_id") if by == "unit" else Coalesce("assignee_id", "user_id")


def _queue_pairs(rows: QuerySet[Assignment], as_of: date) -> QuerySet:
    return (rows.annotate(unit_group=queue_group("unit"), person_group=queue_group("person"))
            .values("unit_group", "person_group")
            .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=as_of))).order_by())


def heaviest_queues(user, scope: Scope, as_of: date | None = None, limit: int = TOP,
                    refresh: TallyRefresh | None = None) -> tuple[list[dict], list[dict]]:
    """The units and the people with most open work, with how much of it is overdue: one query grouped by
    (unit, person), whose few thousand rows at most are summed per unit and per person (with a `refresh`:
    the tallied pairs of the non-secret documents and the live ones of the rest)."""
    from accounts.models import User

    as_of = as_of or timezone.localdate()
    pairs = list(_queue_pairs(open_work(user, scope, _among(user, scope, refresh) if refresh else None), as_of))
    if refresh:
        pairs += list(_tally_agency(QueueTally.objects.all(), scope)
                      .values(unit_group=F("unit_id"), person_group=F("person_id"))
                      .annotate(open=Sum("open"), overdue=Sum("overdue")).order_by())
    sums: dict[str, dict] = {"unit": {}, "person": {}}
    for pair in pairs:
        for by in ("unit", "person"):
            row = sums[by].setdefault(pair[f"{by}_group"], {"group": pair[f"{by}_group"], "open": 0, "overdue": 0})
            row["open"] += pair["open"]
            row["overdue"] += pair["overdue"]
    top = {by: sorted(rows.values(), key=lambda r: (-r["open"], r["group"] is None, r["group"] or 0))[:limit]
           for by, rows in sums.items()}
    units = {u.pk: f"{u.name} – {u.agency.abbreviation}" if scope.province else u.name
             for u in Unit.objects.filter(pk__in=[r["group"] for r in top["unit"] if r["group"]])
             .select_related("agency")}
    people = {u.pk: u.name_and_position
              for u in User.objects.filter(pk__in=[r["group"] for r in top["person"] if r["group"]])}
    for by, names in (("unit", units), ("person", people)):
        for row in top[by]:
            row["label"] = names.get(row["group"], "")
            row["key"] = "none" if row["group"] is None else str(row["group"])
    return top["unit"], top["person"]


def open_work_in(user, scope: Scope, by: str, group: str | None, *, overdue: bool = False,
                 as_of: date | None = None) -> QuerySet[Assignment]:
    rows = open_work(user, scope).alias(group=queue_group(by))
    if group == "none":
        rows = rows.filter(group__isnull=True)
    elif group is not None:
        rows = rows.filter(group=int(group))
    if overdue:
        rows = rows.filter(due_date__lt=as_of or timezone.localdate())
    return _for_list(rows)


def waiting_drafts(user, scope: Scope) -> QuerySet[Draft]:
    """Drafts ready to sign in the scope: those the person may see (workflows' `drafts_for`) of their agency
    or unit; for the province the non-secret drafts of every agency as well."""
    if scope.province:
        drafts = Draft.objects.filter(Q(confidentiality=Confidentiality.NORMAL)
                                      | Q(pk__in=drafts_for(user).values("pk")))
        if scope.agency_id:
            drafts = drafts.filter(agency_id=scope.agency_id)
    else:
        drafts = drafts_for(user).filter(agency_id=scope.agency_id)
        if scope.unit_id is not None:
            drafts = drafts.filter(drafting_unit_id=scope.unit_id)
    return drafts.filter(state=DraftState.READY_TO_SIGN)


def drafts_by_signer(user, scope: Scope, limit: int = TOP) -> list[dict]:
    from accounts.models import User

    rows = list(waiting_drafts(user, scope).order_by().values("current_holder_id")
                .annotate(n=Count("pk"), since=Min("updated_at")).order_by("-n", "current_holder_id")[:limit])
    names = {u.pk: u.name_and_position for u in
             User.objects.filter(pk__in=[r["current_holder_id"] for r in rows if r["current_holder_id"]])}
    for row in rows:
        row["label"] = names.get(row["current_holder_id"], "")
        row["key"] = str(row["current_holder_id"]) if row["current_holder_id"] else "none"
    return rows


# --- summary tables: what they hold, and the rest read live -------------------------------------------
#
# The tallies (dashboard.models, rebuilt by services.refresh_tallies every few minutes) hold the non-secret
# documents' figures, grouped by the same expressions the live queries use (the `*_tally_source` querysets
# below, compiled into INSERT … SELECT). For the province and an agency, a page reads them and adds, live,
# what they do not hold: the scope's rows of any document other than the non-secret ones of the scope's
# agency (or of every agency) — for the province the secret documents the person may see, a small set.
# The unit scope, and anybody without the agencies' role permission (their agency's non-secret documents are
# not all visible to them), stay live. Every figure is then the live one as of the refresh; the lists behind
# the figures are always live.

TALLY_MAX_AGE = timedelta(minutes=10)  # older tallies (a stopped worker) are not read: the page counts live


def tally_refresh(user, scope: Scope, as_of: date | None = None, now: datetime | None = None) -> TallyRefresh | None:
    """The refresh a page may read for this scope, or None (count live): none yet, older than TALLY_MAX_AGE,
    classified as of another day, the unit scope, or a person who does not see their agency's documents."""
    if scope.unit_id is not None:
        return None
    if not scope.province and not user.has_perm("documents.view_document"):
        return None
    refresh = TallyRefresh.objects.filter(pk=1).first()
    now = now or timezone.now()
    if (refresh is None or refresh.as_of != (as_of or timezone.localdate(now))
            or not timedelta(0) <= now - refresh.refreshed_at <= TALLY_MAX_AGE):
        return None
    return refresh


def _tally_agency(rows: QuerySet, scope: Scope) -> QuerySet:
    """Tally rows of the scope: all of them for the whole province, else those of the agency (its cases and
    its documents)."""
    if not scope.agency_id:
        return rows
    if rows.model is DocumentTally:
        return rows.filter(agency_id=scope.agency_id)
    return rows.filter(agency_id=scope.agency_id, document_agency_id=scope.agency_id)


def untallied_ids(user, scope: Scope) -> list[int]:
    """The documents of the scope's rule the tallies do not hold (read once per page, a small set): for the
    province the secret documents the person may see (of its agency, if one); for an agency, those the person
    may see other than the agency's non-secret ones (secret ones, and others' documents shared with them)."""
    documents = visible_documents(user)
    if scope.province:
        documents = documents.exclude(confidentiality=Confidentiality.NORMAL)
        if scope.agency_id:
            documents = documents.filter(agency_id=scope.agency_id)
    else:
        documents = documents.exclude(confidentiality=Confidentiality.NORMAL, agency_id=scope.agency_id)
    return list(documents.order_by().values_list("pk", flat=True))


def _among(user, scope: Scope, refresh: TallyRefresh) -> list[int]:
    """`untallied_ids`, read once per refresh object (one page's figures)."""
    if getattr(refresh, "among", None) is None:
        refresh.among = untallied_ids(user, scope)
    return refresh.among


def untallied_documents(user, scope: Scope, among: list[int] | None = None) -> QuerySet[Document]:
    """The scope's documents the tallies do not hold."""
    among = untallied_ids(user, scope) if among is None else among
    documents = Document.objects.filter(pk__in=among)
    return documents.filter(agency_id=scope.agency_id) if scope.agency_id else documents


# The rows of each tally, as grouped querysets (one source of truth with the live figures): each selects
# columns named `t_<tally field>`; services.refresh_tallies inserts them with INSERT … SELECT.

# Each tally has a row per day and one per whole month (`day` null): a period reads its whole months from the
# month rows and its ragged ends from the day rows (`tally_span`), a tenth of the rows for a year.

def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def tally_span(date_from: date, date_to: date) -> Q:
    """The tally rows that together count [date_from, date_to] once: its whole months, and its other days."""
    first_whole = date_from if date_from.day == 1 else _next_month(date_from)
    end_whole = _next_month(date_to) if _next_month(date_to) - timedelta(days=1) == date_to else date_to.replace(day=1)
    if first_whole >= end_whole:
        return Q(day__gte=date_from, day__lte=date_to)
    return (Q(day__isnull=True, month__gte=first_whole, month__lt=end_whole)
            | Q(day__gte=date_from, day__lt=first_whole) | Q(day__gte=end_whole, day__lte=date_to))


def _spans(rows: QuerySet, when, whole_months: bool) -> QuerySet:
    return rows.annotate(t_month=TruncMonth(when, output_field=DateField()),
                         t_day=Cast(Value(None), DateField()) if whole_months else when)


def document_tally_source(whole_months: bool) -> QuerySet:
    rows = (Document.objects.filter(confidentiality=Confidentiality.NORMAL,
                                    direction__in=(Direction.INCOMING, Direction.OUTGOING, Direction.INTERNAL))
            .alias(t_when=period_date()).filter(t_when__isnull=False)
            .annotate(t_agency_id=F("agency_id"), t_channel=channel()))
    return (_spans(rows, period_date(), whole_months)
            .values("t_agency_id", "t_month", "t_day", "t_channel").annotate(t_n=Count("pk")).order_by())


def handling_tally_source(as_of: date, whole_months: bool) -> QuerySet:
    rows = Assignment.objects.filter(
        case__document__confidentiality=Confidentiality.NORMAL, case__document__arrival_date__isnull=False,
        role__in=(TargetRole.LEAD, TargetRole.COORDINATE),
    ).exclude(state=AssignmentState.FOR_INFORMATION)
    rows = rows.annotate(t_agency_id=F("case__agency_id"), t_document_agency_id=F("case__document__agency_id"),
                         t_unit_id=handling_group(Scope(AGENCY, None)), t_cls=handling_class(as_of))
    return (_spans(rows, F("case__document__arrival_date"), whole_months)
            .values("t_agency_id", "t_document_agency_id", "t_unit_id", "t_month", "t_day", "t_cls")
            .annotate(t_n=Count("pk"), t_took=Sum(_took(), filter=_TOOK_COUNTED),
                      t_took_n=Count("pk", filter=_TOOK_COUNTED))
            .order_by())


def queue_tally_source(as_of: date) -> QuerySet:
    rows = (Assignment.objects.filter(state__in=OPEN_ASSIGNMENT_STATES).exclude(role=TargetRole.INFORM)
            .filter(case__document__confidentiality=Confidentiality.NORMAL))
    return (rows.annotate(t_agency_id=F("case__agency_id"), t_document_agency_id=F("case__document__agency_id"),
                          t_unit_id=queue_group("unit"), t_person_id=queue_group("person"))
            .values("t_agency_id", "t_document_agency_id", "t_unit_id", "t_person_id")
            .annotate(t_open=Count("pk"), t_overdue=Count("pk", filter=Q(due_date__lt=as_of)))
            .order_by())


def tally_sources(as_of: date) -> list[tuple[type, QuerySet]]:
    return [(DocumentTally, document_tally_source(whole_months=False)),
            (DocumentTally, document_tally_source(whole_months=True)),
            (HandlingTally, handling_tally_source(as_of, whole_months=False)),
            (HandlingTally, handling_tally_source(as_of, whole_months=True)),
            (QueueTally, queue_tally_source(as_of))]


# --- everything on one page ------------------------------------------------------------------------


@dataclass
class Figures:
    scope: Scope
    date_from: date
    date_to: date
    as_of: date
    totals: dict
    months: list[dict]
    by_agency: list[dict] = field(default_factory=list)
    handling: list[dict] = field(default_factory=list)
    handling_total: dict = field(default_factory=dict)
    unit_queues: list[dict] = field(default_factory=list)
    person_queues: list[dict] = field(default_factory=list)
    drafts_waiting: int = 0
    drafts_by_signer: list[dict] = field(default_factory=list)
    refreshed_at: datetime | None = None  # the tallies' refresh read (None: every figure counted live)

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None


def dashboard_figures(user, scope: Scope, date_from: date, date_to: date, as_of: date | None = None, *,
                      tallies: bool = True) -> Figures:
    """Every figure of the dashboard (seven aggregate queries, none per document): from the summary tables plus
    the live rest when a recent refresh may be read (`tally_refresh`), else live (`tallies=False`: live)."""
    as_of = as_of or timezone.localdate()
    refresh = tally_refresh(user, scope, as_of) if tallies else None
    months, per_agency = monthly_and_agency_counts(user, scope, date_from, date_to, refresh)
    totals = {name: sum(r[name] for r in per_agency) for name in DOCUMENT_FIGURES}
    by_agency = []
    if scope.province and not scope.agency_id:
        names = dict(Agency.objects.filter(pk__in=[r["agency_id"] for r in per_agency]).values_list("pk", "name"))
        by_agency = sorted(({**row, "label": names.get(row["agency_id"], "")} for row in per_agency),
                           key=lambda r: r["label"])
    handling = handling_counts(user, scope, date_from, date_to, as_of, refresh)
    handling_total = {key: sum(r[key] for r in handling) for key in ("total", *handling_reports.CLASSES)}
    drafts = drafts_by_signer(user, scope)
    unit_queues, person_queues = heaviest_queues(user, scope, as_of, refresh=refresh)
    return Figures(
        scope=scope, date_from=date_from, date_to=date_to, as_of=as_of, totals=totals,
        months=months, by_agency=by_agency,
        handling=handling, handling_total=handling_total,
        unit_queues=unit_queues, person_queues=person_queues,
        drafts_waiting=waiting_drafts(user, scope).count(), drafts_by_signer=drafts,
        refreshed_at=refresh.refreshed_at if refresh else None,
    )
