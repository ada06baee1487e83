#!/usr/bin/env python
"""Workflow benchmark on PostgreSQL: the "My work" query with 100,000 active incoming cases, and
transitions per second with concurrent actors.

    .venv/bin/python bench/workflows.py             # registry fill if missing, workflow fill once, measure
    .venv/bin/python bench/workflows.py --refill    # delete the workflow rows and fill them again

Runs on the registry benchmark database (bench/registry.py: DATABASE_URL, default eoffice_bench; its fill
is reused and made first if missing). Adds, with COPY, one IncomingCase per incoming document (100,000
by default, all active: registered, presented, directed or in progress, with deadlines spread around
today so a share is overdue), a lead Assignment per directed case (waiting in the unit or being handled
by one of its people), a co-ordinating unit for 40 % of them, and pending extension requests for 2 % of
the handled ones. Grants and audit events are not generated for the bulk rows (the documents are
non-secret, so agency scope makes them visible).

Then `workflows.selectors.my_incoming_work` (and the /work/ page) for the busiest agency leader, unit
leader and staff member: median, p95 and SQL queries; and `services.complete_assignment` from 8 threads
(own connections), on distinct agencies and on a single agency (one audit chain), as transitions/s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import registry  # noqa: E402  (sets DATABASE_URL / settings defaults on import)

TOTAL_CASES = 100_000


def fill_workflows(total: int, rng: random.Random) -> None:
    """Cases, assignments and extension requests by COPY, in one transaction."""
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from accounts import roles
    from accounts.models import User
    from documents.models import Direction, Document
    from workflows.models import (
        Assignment,
        AssignmentState,
        CaseState,
        ExtensionRequest,
        IncomingCase,
        TargetRole,
    )

    started = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate()
    people: dict[tuple[str, int], list[int]] = {}
    staff_by_unit: dict[int, list[int]] = {}
    leaders_by_unit: dict[int, list[int]] = {}
    units_by_agency: dict[int, list[int]] = {}
    for pk, agency_id, unit_id, role in User.objects.filter(is_active=True, agency__isnull=False).values_list(
        "pk", "agency_id", "unit_id", "groups__name"
    ):
        people.setdefault((role, agency_id), []).append(pk)
        if unit_id and role == roles.STAFF:
            staff_by_unit.setdefault(unit_id, []).append(pk)
        if unit_id and role == roles.UNIT_LEADER:
            leaders_by_unit.setdefault(unit_id, []).append(pk)
        if unit_id:
            units_by_agency.setdefault(agency_id, [])
            if unit_id not in units_by_agency[agency_id]:
                units_by_agency[agency_id].append(unit_id)
    documents = list(
        Document.objects.filter(direction=Direction.INCOMING, incoming_case__isnull=True)
        .order_by("pk").values_list("pk", "agency_id", "urgency")[:total]
    )
    case_id = (IncomingCase.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    cases, assignments, extensions = [], [], []
    for document_id, agency_id, urgency in documents:
        clerks = people.get((roles.CLERK, agency_id))
        leaders = people.get((roles.AGENCY_LEADER, agency_id))
        units = [u for u in units_by_agency.get(agency_id, []) if staff_by_unit.get(u) or leaders_by_unit.get(u)]
        if not clerks or not leaders or not units:
            continue
        draw = rng.random()
        state = (CaseState.REGISTERED if draw < 0.10 else CaseState.PRESENTED if draw < 0.25
                 else CaseState.DIRECTED if draw < 0.50 else CaseState.IN_PROGRESS)
        opened = now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 600))
        leader = rng.choice(leaders)
        row = {"id": case_id, "document_id": document_id, "agency_id": agency_id, "state": state, "version": 1,
               "opened_by_id": rng.choice(clerks), "opened_at": opened}
        if state != CaseState.REGISTERED:
            row.update(presented_to_id=leader, presented_at=opened, version=2)
        if state in (CaseState.DIRECTED, CaseState.IN_PROGRESS):
            row.update(instruction="Giao phòng chủ trì tham mưu.", directed_by_id=leader, directed_at=opened,
                       version=3)
            targets = [(TargetRole.LEAD, rng.choice(units))]
            if rng.random() < 0.4 and len(units) > 1:
                targets.append((TargetRole.COORDINATE, rng.choice([u for u in units if u != targets[0][1]])))
            for role, unit_id in targets:
                due = today + timedelta(days=rng.randint(-5, 20))
                handlers = staff_by_unit.get(unit_id) or leaders_by_unit.get(unit_id)
                handled = state == CaseState.IN_PROGRESS and (role == TargetRole.LEAD or rng.random() < 0.5)
                assignment = {"id": None, "case_id": case_id, "role": role, "unit_id": unit_id, "deadline": due,
                              "state": AssignmentState.HANDLING if handled else AssignmentState.WAITING, "urgency": urgency,
                              "due_date": due, "deadline_set_by_id": leader, "created_at": opened,
                              "overdue_since": due + timedelta(days=1) if due < today else None}
                if handled:
                    assignment.update(assignee_id=rng.choice(handlers), assigned_at=opened,
                                      assigned_by_id=(leaders_by_unit.get(unit_id) or [leader])[0],
                                      handler_deadline=due)
                assignments.append(assignment)
        cases.append(row)
        case_id += 1
    with transaction.atomic():
        registry.copy_rows(IncomingCase, cases, with_pk=True)
        first = (Assignment.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        for i, assignment in enumerate(assignments):
            assignment["id"] = first + i
        registry.copy_rows(Assignment, assignments, with_pk=True)
        for assignment in assignments:
            if assignment["state"] == AssignmentState.HANDLING and rng.random() < 0.02:
                extensions.append({
                    "assignment_id": assignment["id"], "requested_by_id": assignment["assignee_id"],
                    "approver_id": assignment["assigned_by_id"], "current_deadline": assignment["due_date"],
                    "requested_deadline": assignment["due_date"] + timedelta(days=7), "reason": "Cần thêm thời gian.",
                    "state": "pending", "created_at": now,
                })
        registry.copy_rows(ExtensionRequest, extensions)
        with connection.cursor() as cursor:
            for model in (IncomingCase, Assignment, ExtensionRequest):
                table = model._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflows_incomingcase, workflows_assignment, workflows_extensionrequest")
    print(f"Filled {len(cases):,} cases, {len(assignments):,} assignments, {len(extensions):,} extension requests "
          f"in {time.perf_counter() - started:.0f} s.")


TOTAL_DRAFTS = 30_000


def fill_drafts(total: int, rng: random.Random) -> None:
    """Drafts at every stage of the agencies' default chains (bulk rows, no files or audit events):
    15 % drafting, 55 % in review (spread over the chain's steps), 20 % ready to sign, 10 % signed."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts import roles
    from accounts.models import Agency, User
    from documents.models import DocumentType
    from workflows.drafting import Draft, DraftState, ReviewStep, StepAction
    from workflows.drafting_services import ensure_default_chain

    started = time.perf_counter()
    now = timezone.now()
    type_ids = list(DocumentType.objects.values_list("pk", flat=True))
    staff: dict[int, list[tuple[int, int]]] = {}
    for pk, agency_id, unit_id in User.objects.filter(
        is_active=True, groups__name=roles.STAFF, unit__isnull=False
    ).values_list("pk", "agency_id", "unit_id"):
        staff.setdefault(agency_id, []).append((pk, unit_id))
    rows = []
    with transaction.atomic():
        agencies = [agency for agency in Agency.objects.filter(pk__in=staff) if staff.get(agency.pk)]
        steps = {agency.pk: list(ReviewStep.objects.filter(chain=ensure_default_chain(agency)).order_by("order"))
                 for agency in agencies}
        chains = {agency_id: agency_steps[0].chain_id for agency_id, agency_steps in steps.items()}
        for i in range(total):
            agency = rng.choice(agencies)
            drafter, unit_id = rng.choice(staff[agency.pk])
            draw = rng.random()
            agency_steps = steps[agency.pk]
            row = {"agency_id": agency.pk, "drafting_unit_id": unit_id, "drafter_id": drafter,
                   "document_type_id": rng.choice(type_ids), "subject": f"Dự thảo văn bản số {i} về việc triển khai",
                   "urgency": 1 if rng.random() < 0.1 else 0, "chain_id": chains[agency.pk],
                   "recipients": [], "created_at": now, "updated_at": now - timedelta(minutes=rng.randint(0, 90_000))}
            if draw < 0.15:
                row["state"] = DraftState.DRAFTING
            elif draw < 0.70:
                step = rng.choice([s for s in agency_steps if s.action != StepAction.SIGN])
                row.update(state=DraftState.IN_REVIEW, current_step_id=step.pk)
            elif draw < 0.90:
                row.update(state=DraftState.READY_TO_SIGN, current_step_id=agency_steps[-1].pk)
            else:
                row.update(state=DraftState.SIGNED, signed_at=now)
            rows.append(row)
        registry.copy_rows(Draft, rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflows_draft")
    print(f"Filled {len(rows):,} drafts in {time.perf_counter() - started:.0f} s.")


def clear_workflows() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_noticeemail, notifications_notice, notifications_noticeevent, "
                       "workflows_extensionrequest, workflows_assignment, "
                       "workflows_incomingcase, workflows_draftversion, workflows_draft")


def pick_people():
    """The busiest agency leader (presented cases), unit leader (waiting assignments of the unit) and
    staff member (assignments being handled): the worst cases of each role."""
    from django.db.models import Count

    from accounts import roles
    from accounts.models import User
    from workflows.models import Assignment, AssignmentState, CaseState, IncomingCase

    leader_id = (IncomingCase.objects.filter(state=CaseState.PRESENTED).values("presented_to_id")
                 .annotate(n=Count("id")).order_by("-n")[0]["presented_to_id"])
    unit_id = (Assignment.objects.filter(state=AssignmentState.WAITING).values("unit_id")
               .annotate(n=Count("id")).order_by("-n").values_list("unit_id", flat=True))
    unit_leader = next(u for unit in unit_id[:20] for u in
                       User.objects.filter(unit_id=unit, groups__name=roles.UNIT_LEADER).order_by("pk")[:1])
    staff_id = (Assignment.objects.filter(state=AssignmentState.HANDLING, assignee__groups__name=roles.STAFF)
                .values("assignee_id").annotate(n=Count("id")).order_by("-n")[0]["assignee_id"])
    clerk = (User.objects.filter(agency_id=User.objects.get(pk=leader_id).agency_id, groups__name=roles.CLERK)
             .order_by("pk").first())
    return [("agency leader", User.objects.get(pk=leader_id)), ("unit leader", unit_leader),
            ("staff", User.objects.get(pk=staff_id)), ("clerk", clerk)]


def measure_my_work(timer, people) -> None:
    from django.test import Client

    from workflows.drafting_selectors import my_drafting_work
    from workflows.selectors import my_incoming_work

    print(f"\n  {'':<46} {'median':>8} {'p95':>8} {'queries':>8} {'slowest q':>10}   (ms)")
    for role, user in people:
        work = my_incoming_work(user)
        counts = {kind: c.total for kind, c in work.counts.items() if c.total}
        print(f"{role} {user.username} ({user.agency.name}): {counts}")
        drafts = {kind: n for kind, n in my_drafting_work(user).counts.items() if n}
        print(f"  drafts waiting: {drafts}")
        timer.measure(f"{role}: my_incoming_work", lambda user=user: my_incoming_work(user))
        timer.measure(f"{role}: my_drafting_work", lambda user=user: my_drafting_work(user))
        client = Client()
        client.force_login(user)

        def page(client: Client = client) -> None:
            response = client.get("/work/")
            if response.status_code != 200:
                raise RuntimeError(f"/work/ answered {response.status_code}")
            _ = response.content

        timer.measure(f"{role}: web page /work/", page)


def concurrent_transitions(assignment_ids_by_actor: dict[int, list[int]]) -> tuple[float, float, float, int]:
    """Each thread (its own connection) completes its actor's assignments one after another."""
    from django.db import connection

    from accounts.models import User
    from workflows import services
    from workflows.models import Assignment

    started: list[float] = []
    barrier = threading.Barrier(len(assignment_ids_by_actor), action=lambda: started.append(time.perf_counter()))
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(actor_id: int, ids: list[int]) -> None:
        try:
            actor = User.objects.get(pk=actor_id)
            mine = []
            rows = {a.pk: a for a in Assignment.objects.filter(pk__in=ids)}
            barrier.wait()
            for pk in ids:
                start = time.perf_counter()
                services.complete_assignment(actor, rows[pk], outcome="Đã giải quyết (bench).")
                mine.append((time.perf_counter() - start) * 1000)
            with lock:
                latencies.extend(mine)
        except BaseException as error:  # noqa: BLE001 - reported after the join
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=item) for item in assignment_ids_by_actor.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    elapsed = time.perf_counter() - started[0]
    return len(latencies) / elapsed, statistics.median(latencies), registry.percentile(latencies, 0.95), len(latencies)


def pick_actors(actors: int, per_actor: int, *, same_agency: bool) -> dict[int, list[int]]:
    """Staff members with enough assignments being handled: in distinct agencies, or all in one."""
    from django.db.models import Count

    from accounts import roles
    from workflows.models import Assignment, AssignmentState

    handling = Assignment.objects.filter(state=AssignmentState.HANDLING, assignee__groups__name=roles.STAFF)
    busy = list(handling.values("assignee_id", "assignee__agency_id").annotate(n=Count("id"))
                .filter(n__gte=per_actor).order_by("-n", "assignee_id"))
    chosen: list[int] = []
    if same_agency:
        by_agency: dict[int, list[int]] = {}
        for row in busy:
            by_agency.setdefault(row["assignee__agency_id"], []).append(row["assignee_id"])
        chosen = max(by_agency.values(), key=len)[:actors]
    else:
        seen: set[int] = set()
        for row in busy:
            if row["assignee__agency_id"] not in seen:
                seen.add(row["assignee__agency_id"])
                chosen.append(row["assignee_id"])
    chosen = chosen[:actors]
    return {actor: list(handling.filter(assignee_id=actor).order_by("id").values_list("id", flat=True)[:per_actor])
            for actor in chosen}


def measure_transitions(actors: int, per_actor: int) -> None:
    print(f"\nTransitions (complete_assignment), {actors} concurrent actors × {per_actor}:")
    for same in (False, True):
        plan = pick_actors(actors, per_actor, same_agency=same)
        if len(plan) < actors:
            print(f"  {'one agency' if same else 'distinct agencies'}: only {len(plan)} actors available")
        if not plan:
            continue
        rate, median, p95, done = concurrent_transitions(plan)
        label = "one agency (one audit chain)" if same else "distinct agencies"
        print(f"  {label:<30} {done:5d} transitions  {rate:7.1f}/s   latency median {median:6.1f} ms  "
              f"p95 {p95:6.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refill", action="store_true", help="delete the workflow rows and fill them again")
    parser.add_argument("--cases", type=int, default=TOTAL_CASES)
    parser.add_argument("--repeat", type=int, default=50, help="timed repetitions per measurement")
    parser.add_argument("--actors", type=int, default=8)
    parser.add_argument("--per-actor", type=int, default=25)
    parser.add_argument("--explain", type=int, default=2, help="EXPLAIN ANALYZE the N slowest queries")
    parser.add_argument("--skip-writes", action="store_true")
    args = parser.parse_args()

    import os
    import platform

    url = os.environ["DATABASE_URL"]
    registry.ensure_database(url, drop=False)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if not registry.is_filled(200_000):
        print("Registry bench data missing: run bench/registry.py first (it fills the database).")
        sys.exit(1)
    from workflows.models import IncomingCase

    if args.refill:
        clear_workflows()
    if IncomingCase.objects.count() < args.cases * 0.9:
        clear_workflows()
        fill_workflows(args.cases, random.Random(2020))
    else:
        print(f"Workflow bench data present ({IncomingCase.objects.count():,} cases; --refill to rebuild).")
    from workflows.drafting import Draft

    if Draft.objects.count() < TOTAL_DRAFTS * 0.9:
        fill_drafts(TOTAL_DRAFTS, random.Random(2021))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"\n{registry.date.today()} · PostgreSQL {server.split()[0]} · Python {platform.python_version()} · "
          f"{os.cpu_count()} CPUs · target p95 ≤ {registry.TARGET_P95_MS:.0f} ms")
    timer = registry.Timer(args.repeat)
    print("\nMy work:")
    measure_my_work(timer, pick_people())
    if args.explain:
        registry.explain_slowest(timer, args.explain)
    if not args.skip_writes:
        measure_transitions(args.actors, args.per_actor)


if __name__ == "__main__":
    main()
