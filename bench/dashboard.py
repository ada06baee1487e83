#!/usr/bin/env python
"""Dashboard benchmark on PostgreSQL: the server time of the leaders' dashboard for the whole province read from
the summary tables (dashboard.models tallies, refreshed by `dashboard.tasks.refresh_tallies`), beside the live
aggregate queries and the naive alternative (the same figures computed by a Python loop over the documents),
and the time of the refresh itself.

    .venv/bin/python bench/dashboard.py              # fills what is missing, then measures
    .venv/bin/python bench/dashboard.py --repeat 40

Runs on the registry benchmark database (bench/registry.py: DATABASE_URL, default eoffice_bench; its fill
is made first if missing), with the workflow rows of bench/workflows.py (100,000 cases, 30,000 drafts; made
if missing) and, once, the rows the dashboard's channel and signature figures read, by INSERT … SELECT:
a delivery through the exchange for 70 % of the outgoing documents, 40 % of the incoming ones registered
from a delivery, and a valid stored verification of the main file of 60 % of the outgoing ones.

Measured through `django.test.Client` (middleware, session, view, template; no network) as the Agency
leader of the provincial committee (every agency; period: this year, the dashboard's default, or with
`--period two-years` the two calendar years the bench data spans): `/dashboard/` and
`/api/v1/dashboard/`, 3 warm-up and `--repeat` timed requests, p50 / p95 and SQL queries: first the refresh
(`--refresh-repeat` runs), then with the tallies (refreshed just before each series), then live (no refresh
row: what a new installation does), the unit scope (always live), then the naive computation of the same
figures (documents, channels, signatures, handling per agency, queues, drafts) read row by row into Python,
and the ratios. The tallied figures are checked equal to the live ones (every figure), the totals to the
naive ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import registry  # noqa: E402  (sets DATABASE_URL / settings defaults on import)

TARGET_MS = 500.0


def _bench_workflows():
    """bench/workflows.py, loaded under another name (a module called `workflows` is the Django app)."""
    spec = importlib.util.spec_from_file_location("bench_workflows", Path(__file__).with_name("workflows.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill_channels() -> None:
    """Deliveries, registrations from deliveries and verifications, once (skipped when deliveries exist)."""
    from django.db import connection, transaction

    from exchange.models import Delivery

    if Delivery.objects.exists():
        print(f"Channel rows present ({Delivery.objects.count():,} deliveries).")
        return
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO exchange_delivery (business_type, status, return_reason, recall_reason, take_back_state,
                version, created_at, arrived_at, document_id, recipient_agency_id, sender_agency_id)
            SELECT 1, '03', '', '', '', 1, now(), now(), d.id,
                   (SELECT min(id) FROM accounts_agency a WHERE a.id <> d.agency_id), d.agency_id
            FROM documents_document d WHERE d.direction = 'outgoing' AND d.id % 10 < 7""")
        cursor.execute("""
            WITH i AS (SELECT id, agency_id, row_number() OVER (ORDER BY id) AS rn FROM documents_document
                       WHERE direction = 'incoming' AND id % 10 < 4),
                 o AS (SELECT id, agency_id, row_number() OVER (ORDER BY id) AS rn FROM documents_document
                       WHERE direction = 'outgoing')
            INSERT INTO exchange_delivery (business_type, status, return_reason, recall_reason, take_back_state,
                version, created_at, arrived_at, registered_at, document_id, recipient_agency_id, sender_agency_id,
                received_document_id)
            SELECT 1, '03', '', '', '', 1, now(), now(), now(), o.id, i.agency_id, o.agency_id, i.id
            FROM i JOIN o ON o.rn = i.rn WHERE o.agency_id <> i.agency_id
            ON CONFLICT DO NOTHING""")
        cursor.execute("""
            INSERT INTO signatures_fileverification (blob_id, state, verdict, signature_count, report, created_at,
                verified_at)
            SELECT DISTINCT f.blob_id, 'done', 'valid', 1, '{}'::jsonb, now(), now()
            FROM documents_documentfile f JOIN documents_document d ON d.id = f.document_id
            WHERE f.is_main AND d.direction = 'outgoing' AND d.id % 10 >= 4
            ON CONFLICT (blob_id) DO NOTHING""")
        cursor.execute("ANALYZE exchange_delivery; ANALYZE signatures_fileverification")
    print(f"Filled {Delivery.objects.count():,} deliveries and the verifications in "
          f"{time.perf_counter() - started:.0f} s.")


def province_leader():
    from accounts import roles
    from accounts.models import AgencyKind, User

    return (User.objects.filter(agency__kind=AgencyKind.PROVINCE_COMMITTEE, groups__name=roles.AGENCY_LEADER,
                                is_active=True).order_by("id").first())


def measure(label: str, call, repeat: int, warmup: int = 3) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as captured:
        call()
    p50, p95 = statistics.median(times), registry.percentile(times, 0.95)
    flag = "" if p95 <= TARGET_MS else "   > target"
    print(f"  {label:<52} {p50:9.1f} {p95:9.1f} {len(captured):8d}{flag}", flush=True)
    return p50, p95, len(captured)


def naive_figures(user, scope, date_from: date, date_to: date, as_of: date) -> dict:
    """The same figures by reading the rows into Python and counting in loops (the way to avoid)."""
    from dashboard import selectors
    from documents.models import DocumentFile
    from exchange.models import Delivery
    from signatures.models import FileVerification, SigningRequest
    from workflows import reports as handling_reports
    from workflows.models import Assignment

    signed_blobs = set(FileVerification.objects.filter(verdict__in=("valid", "warnings")).values_list("blob_id", flat=True))
    signed = set(SigningRequest.objects.filter(state="done", document__isnull=False).values_list("document_id", flat=True))
    signed |= {f.document_id for f in DocumentFile.objects.filter(is_main=True).only("document_id", "blob_id")
               if f.blob_id in signed_blobs}
    sent = set(Delivery.objects.values_list("document_id", flat=True))
    received = set(Delivery.objects.filter(received_document__isnull=False).values_list("received_document_id", flat=True))
    totals, months = Counter(), Counter()
    for d in selectors.scope_documents(user, scope).only("id", "direction", "arrival_date", "issued_date"):
        when = d.arrival_date if d.direction == "incoming" else d.issued_date
        if when is None or not date_from <= when <= date_to:
            continue
        months[(when.replace(day=1), d.direction)] += 1
        if d.direction == "incoming":
            totals["in"] += 1
            totals["in_electronic" if d.pk in received else "in_paper"] += 1
        elif d.direction == "outgoing":
            totals["out"] += 1
            is_signed, is_sent = d.pk in signed, d.pk in sent
            totals["out_signed"] += is_signed
            totals["out_sent"] += is_sent
            totals["out_electronic" if is_signed and is_sent else "out_paper" if not (is_signed or is_sent)
                   else "out_both"] += 1
        else:
            totals["internal"] += 1
    handling: dict = defaultdict(Counter)
    for a in Assignment.objects.filter(role__in=("lead", "coordinate")).exclude(state="for_information").select_related(
            "case", "case__document"):
        doc = a.case.document
        if doc.confidentiality == 0 and doc.arrival_date and date_from <= doc.arrival_date <= date_to:
            handling[a.case.agency_id][handling_reports.classify(a.state, a.due_date, a.completed_at, as_of)] += 1
    queues = Counter()
    for a in Assignment.objects.filter(state__in=("waiting", "handling", "submitted")).exclude(role="inform").select_related("user"):
        queues[a.unit_id or a.user.unit_id] += 1
    return {"totals": totals, "months": months, "handling": handling, "queues": queues.most_common(10)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--naive-repeat", type=int, default=3)
    parser.add_argument("--refresh-repeat", type=int, default=5)
    parser.add_argument("--period", choices=("year", "two-years"), default="year",
                        help="this year (the dashboard's default) or the last two calendar years to today")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    registry.ensure_database(url, drop=False)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    if not registry.is_filled(200_000):
        registry.fill(200_000, 5_000, random.Random(2020))
    wf = _bench_workflows()
    from workflows.drafting import Draft
    from workflows.models import IncomingCase

    if IncomingCase.objects.count() < wf.TOTAL_CASES * 0.9:
        wf.fill_workflows(wf.TOTAL_CASES, random.Random(2020))
    if Draft.objects.count() < wf.TOTAL_DRAFTS * 0.9:
        wf.fill_drafts(wf.TOTAL_DRAFTS, random.Random(2021))
    fill_channels()

    from dashboard import selectors

    user = province_leader()
    today = timezone.localdate()
    date_from, date_to = date(today.year - (args.period == "two-years"), 1, 1), today
    scope = selectors.dashboard_scope(user)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    from documents.models import Document

    print(f"\n{today} · PostgreSQL {server.split()[0]} · {os.cpu_count()} CPUs · {Document.objects.count():,} documents"
          f" · {user.name_and_position} ({user.agency.name}), scope {scope.level} · {date_from} – {date_to}")
    print(f"  {'':<52} {'p50 ms':>9} {'p95 ms':>9} {'queries':>8}")
    client = Client()
    client.force_login(user)
    query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}

    def page():
        response = client.get("/dashboard/", query)
        assert response.status_code == 200, response.status_code

    def api():
        response = client.get("/api/v1/dashboard/", query)
        assert response.status_code == 200, response.status_code

    from dataclasses import asdict

    from accounts import roles
    from accounts.models import AgencyKind, User
    from dashboard import services
    from dashboard.models import TallyRefresh

    # The refresh of the summary tables (the maintenance task's body), timed; then the pages that read them.
    refresh_times = []
    for _ in range(args.refresh_repeat):
        refresh_times.append(services.refresh_tallies().seconds * 1000)
    refresh_p50 = statistics.median(refresh_times)
    print(f"  {'refresh_tallies (the task, every 5 min)':<52} {refresh_p50:9.1f} {max(refresh_times):9.1f}"
          f"        -   (p50 / max of {args.refresh_repeat})")

    def tallied(label, call, repeat=args.repeat, **kwargs):
        services.refresh_tallies()  # a fresh refresh (a page reads one under 10 minutes old)
        return measure(label, call, repeat, **kwargs)

    page_p50, page_p95, _q = tallied("/dashboard/ (whole province), tallies", page)
    assert b'id="figures-as-of"' in client.get("/dashboard/", query).content  # read from the tallies
    from desk.selectors import work_counts

    measure("  of which the menu's badges (desk work_counts)", lambda: work_counts(user), args.repeat)
    tallied("/api/v1/dashboard/ (whole province), tallies", api)
    tallied("dashboard_figures, tallies",
            lambda: selectors.dashboard_figures(user, scope, date_from, date_to))
    with_tallies = selectors.dashboard_figures(user, scope, date_from, date_to)
    agency_scope = selectors.dashboard_scope(user, with_tallies.by_agency[0]["agency_id"])
    tallied("dashboard_figures, one agency (province filter), tallies",
            lambda: selectors.dashboard_figures(user, agency_scope, date_from, date_to))
    agency_leader = (User.objects.filter(groups__name=roles.AGENCY_LEADER, is_active=True)
                     .exclude(agency__kind=AgencyKind.PROVINCE_COMMITTEE).order_by("id").first())
    own_scope = selectors.dashboard_scope(agency_leader) if agency_leader else None
    if own_scope is not None:
        tallied(f"dashboard_figures, agency leader ({own_scope.level} {own_scope.agency_id}), tallies",
                lambda: selectors.dashboard_figures(agency_leader, own_scope, date_from, date_to))
        measure(f"dashboard_figures, agency leader ({own_scope.level} {own_scope.agency_id}), live",
                lambda: selectors.dashboard_figures(agency_leader, own_scope, date_from, date_to, tallies=False),
                args.repeat)
    TallyRefresh.objects.all().delete()  # no refresh: the page counts live (a new installation's case)
    live_page_p50, live_page_p95, _q = measure("/dashboard/ (whole province), live", page, args.repeat)
    live = selectors.dashboard_figures(user, scope, date_from, date_to, tallies=False)
    measure("dashboard_figures, live", lambda: selectors.dashboard_figures(user, scope, date_from, date_to,
                                                                          tallies=False), args.repeat)
    unit_leader = (User.objects.filter(groups__name=roles.UNIT_LEADER, is_active=True, unit__isnull=False)
                   .order_by("id").first())
    if unit_leader is not None:
        unit_scope = selectors.dashboard_scope(unit_leader)
        if unit_scope is not None and unit_scope.unit_id is not None:
            measure(f"dashboard_figures, unit scope (always live), unit {unit_scope.unit_id}",
                    lambda: selectors.dashboard_figures(unit_leader, unit_scope, date_from, date_to), args.repeat)
    naive_p50, naive_p95, _q = measure(
        "naive: the same figures by a Python loop", lambda: naive_figures(user, scope, date_from, date_to, today),
        args.naive_repeat, warmup=0)
    services.refresh_tallies()
    figures = selectors.dashboard_figures(user, scope, date_from, date_to)
    live = selectors.dashboard_figures(user, scope, date_from, date_to, tallies=False)
    a, b = asdict(figures), asdict(live)
    a.pop("refreshed_at"), b.pop("refreshed_at")
    naive = naive_figures(user, scope, date_from, date_to, today)
    mismatched = [k for k in ("in", "in_electronic", "out", "out_signed", "out_sent", "out_electronic", "internal")
                  if figures.totals[k] != naive["totals"][k]]
    print(f"\n  ratio live / tallies (page): {live_page_p50 / page_p50:.1f}× (p50), {live_page_p95 / page_p95:.1f}× (p95)")
    print(f"  ratio naive / tallies (page): {naive_p50 / page_p50:.1f}× (p50), {naive_p95 / page_p95:.1f}× (p95)")
    print(f"  ratio naive / live (page): {naive_p50 / live_page_p50:.1f}× (p50)")
    print(f"  totals: {dict((k, figures.totals[k]) for k in selectors.DOCUMENT_FIGURES)}")
    print("  tallied and live figures agree (every figure)" if a == b else "  MISMATCH between tallies and live")
    print("  naive and aggregate totals agree" if not mismatched else f"  MISMATCH in {mismatched}")
    print(f"  target {TARGET_MS:.0f} ms (p50 of the page with tallies): "
          + ("met" if page_p50 <= TARGET_MS else "NOT met"))

if __name__ == "__main__":
    main()
