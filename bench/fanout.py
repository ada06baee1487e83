#!/usr/bin/env python
"""Fan-out benchmark: one document issued to many agencies, on PostgreSQL, Redis and two real Celery workers.

    .venv/bin/python bench/fanout.py                  # 500 agencies x 3 clerks, a burst of 100 documents
    .venv/bin/python bench/fanout.py --agencies 100   # smaller

What it measures (issue 12's targets in brackets):
1. The web request that issues (POST /api/v1/documents/outgoing/ through Django's test client, the API's own
   path: validation, numbering, the deliveries' INSERT, the notice intent, the audit event) for 5, 50 and N
   recipients [< 200 ms whatever the count].
2. Seconds from that request's commit until every delivery has arrived (01) and every notice (one per clerk)
   and its e-mail (received by a loopback SMTP sink, aiosmtpd) are committed [<= 5 s for 500 agencies x 3 clerks].
3. A burst of documents issued one after another, each to --burst-recipients agencies: deliveries per second
   from the first commit until the last delivery arrived.
4. The naive alternative, measured in the same run: inside the request, one INSERT per delivery, per trace and
   per notice, and one e-mail (its own SMTP connection) per clerk — and the ratio.

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/eoffice_bench_fanout: dropped and
created again, the name must contain "bench") and Redis (CELERY_BROKER_URL, default redis://127.0.0.1:6379/15:
flushed). Starts two Celery worker processes on the exchange and notifications queues (killed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/eoffice_bench_fanout"
DEFAULT_BROKER = "redis://127.0.0.1:6379/15"
STAGES: dict[str, float] = {}
"""When each stage of the latest wait_done was first seen complete (monotonic)."""


class SmtpSink:
    """A real SMTP server on loopback that counts what it receives (aiosmtpd)."""

    def __init__(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO

        self.count = 0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
                with sink.lock:
                    sink.count += len(envelope.rcpt_tos)
                return "250 OK"

        import socket

        with socket.socket() as probe:  # aiosmtpd checks its own server by connecting: it needs a real port
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def environment(database_url: str, broker_url: str, smtp_port: int, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "PYTEST_", "EMAIL_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "eoffice.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "MEDIA_ROOT": str(folder / "media"),
        "EOFFICE_VAR_DIR": str(folder / "var"),
        "OTP_REQUIRED": "false",
        "SIGNATURE_REVOCATION_CHECKING": "false",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def start_workers(env: dict[str, str], count: int, folder: Path) -> list[subprocess.Popen]:
    celery = str(Path(sys.executable).parent / "celery")
    workers = []
    for index in range(count):
        log = open(folder / f"worker{index}.log", "wb")  # noqa: SIM115 - closed with the process
        workers.append(subprocess.Popen(
            [celery, "-A", "eoffice", "worker", "--queues", "exchange,notifications", "--concurrency", "1",
             "--hostname", f"bench{index}@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        try:
            os.killpg(worker.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def wait_workers_ready(broker_url: str, count: int, timeout: float = 120) -> None:
    from eoffice.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= count:
            return
        time.sleep(0.5)
    sys.exit("The Celery workers did not start (see their logs).")


def build_province(agencies: int, clerks_per_agency: int):
    """The sending agency and its clerk, and `agencies` recipient agencies with their clerks (bulk rows: the
    setup is not what is measured)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.models import Agency, AgencyKind

    user_model = get_user_model()
    clerk_group = Group.objects.get(name=roles.CLERK)
    sender = Agency.objects.create(name="Sở Nội vụ (bench)", abbreviation="SNV", kind=AgencyKind.PROVINCE_BODY,
                                   identifier="H10.01", place_name="Hòa Bình")
    password = make_password("bench-pass-123")
    sender_clerk = user_model.objects.create(username="vanthu.snv", full_name="Văn thư Sở Nội vụ", agency=sender,
                                             email="vanthu.snv@bench.gov.vn", password=password)
    sender_clerk.groups.add(clerk_group)
    recipients = Agency.objects.bulk_create([
        Agency(name=f"Cơ quan nhận {i}", abbreviation=f"CQ{i}", kind=AgencyKind.OTHER, identifier=f"H10.9{i:04d}",
               place_name="Hòa Bình") for i in range(agencies)])
    people = user_model.objects.bulk_create([
        user_model(username=f"vanthu.{a.pk}.{j}", full_name=f"Văn thư {j} {a.name}", agency=a,
                   email=f"vanthu.{a.pk}.{j}@bench.gov.vn", password=password)
        for a in recipients for j in range(clerks_per_agency)])
    user_model.groups.through.objects.bulk_create(
        [user_model.groups.through(user_id=p.pk, group_id=clerk_group.pk) for p in people])
    return sender_clerk, recipients


def issue_request(client, document_type_id: int, recipients, subject: str) -> tuple[float, int]:
    """POST the outgoing registration through the API; (milliseconds, document id)."""
    body = {"document_type": document_type_id, "subject": subject, "signer_name": "Nguyễn Văn Giám",
            "recipients": [{"agency": a.pk} for a in recipients]}
    started = time.perf_counter()
    response = client.post("/api/v1/documents/outgoing/", data=json.dumps(body), content_type="application/json")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 201:
        sys.exit(f"issuing failed: {response.status_code} {response.content[:500]!r}")
    return elapsed, response.json()["id"]


def wait_done(document_ids: list[int], deliveries: int, notices: int, emails: int, sink: SmtpSink,
              timeout: float = 300) -> float:
    """Poll until every delivery arrived and every notice and e-mail is committed (and received); returns the
    monotonic time when it was seen."""
    from exchange.models import Delivery
    from notifications.models import Notice, NoticeEmail

    deadline = time.monotonic() + timeout
    while True:
        arrived = Delivery.objects.filter(document_id__in=document_ids).exclude(status="").count()
        stored = Notice.objects.filter(document_id__in=document_ids, kind="exchange.arrived").count()
        sent = NoticeEmail.objects.filter(notice__document_id__in=document_ids, state="sent").count()
        now = time.monotonic()
        for stage, done in (("arrived", arrived >= deliveries), ("notices", stored >= notices),
                            ("e-mails", sent >= emails and sink.count >= emails)):
            if done:
                STAGES.setdefault(stage, now)
        if arrived >= deliveries and stored >= notices and sent >= emails and sink.count >= emails:
            return now
        if time.monotonic() > deadline:
            sys.exit(f"timed out: {arrived}/{deliveries} arrived, {stored}/{notices} notices, {sent}/{emails} "
                     f"e-mails sent, {sink.count} received")
        time.sleep(0.02)


def naive_issue(sender_clerk, document_type_id: int, recipients, clerks_by_agency, smtp_port: int) -> float:
    """What a naive implementation does inside the request: one INSERT per delivery, per trace and per notice,
    one e-mail with its own SMTP connection per clerk. Seconds."""
    from django.core.mail import EmailMessage, get_connection
    from django.db import transaction
    from django.utils import timezone

    from documents import services as documents_services
    from exchange.models import Delivery, StatusTrace
    from notifications.models import Notice, NoticeEvent

    started = time.perf_counter()
    with transaction.atomic():
        document = documents_services.register_outgoing(
            sender_clerk, documents_services.OutgoingInput(document_type_id=document_type_id,
                                                           subject="Naive fan-out", signer_name="Nguyễn Văn Giám"))
        event = NoticeEvent.objects.create(key=f"naive:{document.pk}", kind="exchange.arrived", audience={},
                                           processed_at=timezone.now())
        for agency in recipients:
            delivery = Delivery.objects.create(document=document, sender_agency_id=document.agency_id,
                                               recipient_agency=agency, status="01", arrived_at=timezone.now())
            StatusTrace.objects.create(delivery=delivery, code="01", key="01", at=timezone.now(),
                                       agency_id=agency.pk)
            for person in clerks_by_agency[agency.pk]:
                Notice.objects.create(user=person, event=event, kind="exchange.arrived", document_id=document.pk)
                connection = get_connection("django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1",
                                            port=smtp_port)
                EmailMessage("Văn bản đến", "Có văn bản đến", "eoffice@localhost", [person.email],
                             connection=connection).send()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--clerks", type=int, default=3, help="clerks per recipient agency")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--burst", type=int, default=100, help="documents issued one after another")
    parser.add_argument("--burst-recipients", type=int, default=20)
    parser.add_argument("--naive-agencies", type=int, default=0,
                        help="recipients of the naive run (default: the same as --agencies)")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    broker_url = os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER)
    import dj_database_url

    if "bench" not in dj_database_url.parse(database_url)["NAME"]:
        sys.exit(f"Refusing to drop {database_url!r}: this bench only recreates a database named *bench*.")
    import redis
    import registry

    registry.ensure_database(database_url, drop=True)
    redis.Redis.from_url(broker_url).flushdb()
    folder = Path(tempfile.mkdtemp(prefix="eoffice-fanout-"))
    sink = SmtpSink()
    env = environment(database_url, broker_url, sink.port, folder)
    os.environ.update(env)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    override_settings(ALLOWED_HOSTS=["testserver", *settings.ALLOWED_HOSTS]).enable()
    from documents.models import DocumentType

    document_type_id = DocumentType.objects.get(code="cong-van").pk
    setup_started = time.monotonic()
    sender_clerk, recipients = build_province(args.agencies, args.clerks)
    print(f"setup: {args.agencies} agencies x {args.clerks} clerks in {time.monotonic() - setup_started:.1f} s; "
          f"PostgreSQL {database_url.rsplit('/', 1)[-1]}, Redis {broker_url}, {args.workers} worker processes, "
          f"SMTP sink on 127.0.0.1:{sink.port}")
    workers = start_workers(env, args.workers, folder)
    try:
        wait_workers_ready(broker_url, args.workers)
        client = Client()
        client.force_login(sender_clerk)
        issue_request(client, document_type_id, recipients[:1], "Warm-up")  # first request: imports, caches

        # 1 + 2. The request, then the fan-out to every recipient.
        print(f"\n{'issuing request (API, in-process)':44s} {'ms':>8s}")
        timings = {}
        for count in sorted({5, 50, args.agencies}):
            times = []
            for _ in range(3):
                sink.count = 0
                elapsed, document_id = issue_request(client, document_type_id, recipients[:count], f"Đo {count}")
                times.append(elapsed)
                # everything of this one done (e-mails too) before the next: the workers start each run idle
                wait_done([document_id], count, count * args.clerks, count * args.clerks, sink)
            timings[count] = statistics.median(times)
            print(f"  {count:4d} recipients (median of 3)            {timings[count]:8.1f}")

        sink.count = 0
        STAGES.clear()
        elapsed, document_id = issue_request(client, document_type_id, recipients, "Công văn gửi toàn tỉnh")
        committed = time.monotonic()
        expected = args.agencies * args.clerks
        done = wait_done([document_id], args.agencies, expected, expected, sink)
        fanout_seconds = done - committed
        print(f"\nfan-out of one document to {args.agencies} agencies: {args.agencies} deliveries, {expected} notices, "
              f"{expected} e-mails received")
        print(f"  request {elapsed:.0f} ms; commit -> everything committed and received: {fanout_seconds:.2f} s "
              f"(target <= 5 s)")
        print("  stages after the commit: " + ", ".join(f"{stage} {at - committed:.2f} s" for stage, at in
                                                       sorted(STAGES.items(), key=lambda item: item[1])))

        # 3. A burst.
        sink.count = 0
        ids = []
        burst_started = time.monotonic()
        for index in range(args.burst):
            offset = (index * args.burst_recipients) % max(1, args.agencies - args.burst_recipients)
            _ms, document_id = issue_request(client, document_type_id,
                                             recipients[offset:offset + args.burst_recipients], f"Loạt {index}")
            ids.append(document_id)
        issued_in = time.monotonic() - burst_started
        total = args.burst * args.burst_recipients
        done = wait_done(ids, total, total * args.clerks, total * args.clerks, sink, timeout=600)
        burst_seconds = done - burst_started
        print(f"\nburst: {args.burst} documents x {args.burst_recipients} agencies = {total} deliveries, "
              f"{total * args.clerks} notices and e-mails")
        print(f"  issued in {issued_in:.1f} s; all arrived and notified after {burst_seconds:.1f} s: "
              f"{total / burst_seconds:.0f} deliveries/s, {total * args.clerks / burst_seconds:.0f} notices+e-mails/s")
    finally:
        stop_workers(workers)

    # 4. The naive alternative, in the request.
    from django.contrib.auth import get_user_model

    naive_count = args.naive_agencies or args.agencies
    naive_recipients = recipients[:naive_count]
    clerks_by_agency: dict[int, list] = {}
    for person in get_user_model().objects.filter(agency__in=naive_recipients):
        clerks_by_agency.setdefault(person.agency_id, []).append(person)
    sink.count = 0
    naive_seconds = naive_issue(sender_clerk, document_type_id, naive_recipients, clerks_by_agency, sink.port)
    scale = args.agencies / naive_count
    print(f"\nnaive (one INSERT and one e-mail per recipient inside the request), {naive_count} agencies: "
          f"{naive_seconds:.2f} s in the request" + (f" (x{scale:.0f} for {args.agencies}: "
                                                     f"{naive_seconds * scale:.1f} s)" if scale != 1 else ""))
    print(f"  request: ours {timings[args.agencies]:.0f} ms vs naive {naive_seconds * scale * 1000:.0f} ms -> "
          f"{naive_seconds * scale * 1000 / timings[args.agencies]:.0f}x shorter")
    print(f"  until everyone is told: ours {fanout_seconds:.2f} s vs naive {naive_seconds * scale:.2f} s -> "
          f"{naive_seconds * scale / fanout_seconds:.1f}x")
    sink.stop()


if __name__ == "__main__":
    main()
