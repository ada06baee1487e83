"""Never lose, never duplicate (issue 12), with the real processes: gunicorn, Celery workers on the exchange and
notifications queues, beat, PostgreSQL, and a Redis server of this test's own (so it can be stopped).

1. A worker is killed with SIGKILL in the middle of a 200-recipient fan-out (inside the arrival's transaction);
   a fresh worker, the broker's redelivery and the sweepers finish it: every recipient has exactly one delivery
   that arrived once (one 01 trace), every clerk exactly one notice and one e-mail.
2. Redis is stopped while documents are issued: the requests still succeed (the deliveries and notice intents
   are database rows); when Redis is back, the sweepers publish again what was lost and everything arrives,
   once.

It shares the production topology test's prepared database (tests/test_production_topology.py) and runs beside
the parallel suite with it (`make test`, marker `topology`)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests import test_production_topology as topology_test
from tests.test_production_topology import PYTHON, ROOT, START_TIMEOUT, Api, Topology, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.topology]

RECIPIENTS = 200
SWEEP_SECONDS = 2
FAN_OUT_TIMEOUT = 120


class PrivateRedis:
    """A redis-server of this test on a free port, nothing kept on disk; stopped and started on the same port."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with open(self.log_dir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no"], stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        import redis

        client = redis.Redis(port=self.port)
        wait_for("redis-server to answer", lambda: self._pings(client), 30)

    @staticmethod
    def _pings(client) -> bool:
        try:
            return bool(client.ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


STATE_SQL = {
    "deliveries": "SELECT count(*) FROM exchange_delivery WHERE document_id = ANY(%(ids)s)",
    "arrived": "SELECT count(*) FROM exchange_delivery WHERE document_id = ANY(%(ids)s) AND status = '01'",
    "pending": "SELECT count(*) FROM exchange_delivery WHERE document_id = ANY(%(ids)s) AND status = ''",
    "traces": "SELECT count(*) FROM exchange_statustrace t JOIN exchange_delivery d ON d.id = t.delivery_id "
              "WHERE d.document_id = ANY(%(ids)s)",
    "max_traces_per_delivery": "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM exchange_statustrace t "
                               "JOIN exchange_delivery d ON d.id = t.delivery_id WHERE d.document_id = ANY(%(ids)s) "
                               "GROUP BY t.delivery_id) per_delivery",
    "notices": "SELECT count(*) FROM notifications_notice WHERE document_id = ANY(%(ids)s) "
               "AND kind = 'exchange.arrived'",
    "people_told": "SELECT count(DISTINCT (user_id, document_id)) FROM notifications_notice "
                   "WHERE document_id = ANY(%(ids)s) AND kind = 'exchange.arrived'",
    "max_notices_per_person": "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM notifications_notice "
                              "WHERE document_id = ANY(%(ids)s) AND kind = 'exchange.arrived' "
                              "GROUP BY user_id, document_id) per_person",
    "emails": "SELECT count(*) FROM notifications_noticeemail e JOIN notifications_notice n ON n.id = e.notice_id "
              "WHERE n.document_id = ANY(%(ids)s) AND n.kind = 'exchange.arrived'",
    "emails_sent": "SELECT count(*) FROM notifications_noticeemail e JOIN notifications_notice n "
                   "ON n.id = e.notice_id WHERE n.document_id = ANY(%(ids)s) AND n.kind = 'exchange.arrived' "
                   "AND e.state = 'sent'",
}


def read_state(env: dict[str, str], document_ids: list[int]) -> dict:
    """Deliveries, traces, notices and e-mails of documents, read straight from the database (polled every
    second: a Django process per look would cost seconds of CPU each)."""
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as connection:
        return {name: connection.execute(sql, {"ids": list(document_ids)}).fetchone()[0]
                for name, sql in STATE_SQL.items()}


def probe(env: dict[str, str], *args: str) -> dict:
    result = subprocess.run([PYTHON, str(ROOT / "tests" / "exchange_fault_probe.py"), *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"exchange_fault_probe {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def faults(require_postgres, redis_url):
    topology_test.start_preparation()
    prepared = topology_test._PREPARATION.wait()
    log_dir = topology_test._PREPARATION.folder / "fault-logs"
    log_dir.mkdir(exist_ok=True)
    broker = PrivateRedis(log_dir)
    broker.start()
    env = {**prepared, "CELERY_BROKER_URL": broker.url, "SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS),
           "INTENT_SWEEP_AFTER_SECONDS": str(SWEEP_SECONDS), "PORT": str(free_port()), "WEB_CONCURRENCY": "1"}
    processes = Topology(env, log_dir)
    try:
        yield processes, broker
    finally:
        processes.stop_all()
        broker.stop()


def test_fan_out_survives_a_killed_worker_and_a_stopped_broker(faults):
    processes, broker = faults
    started = time.monotonic()
    try:
        run_faults(processes, broker)
    except BaseException:
        print(f"failed after {time.monotonic() - started:.0f} s; logs of every process:\n{processes.logs()}")
        raise
    print(f"fault test took {time.monotonic() - started:.0f} s")


def run_faults(processes: Topology, broker: PrivateRedis) -> None:
    started = time.monotonic()

    def phase(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    env = processes.env

    def state_of(document_ids: list[int]) -> dict:
        return read_state(env, document_ids)

    province = probe(env, "setup", str(RECIPIENTS))
    agencies = province["agencies"]
    phase(f"{RECIPIENTS} recipient agencies with a clerk each")

    processes.start_procfile("web")
    processes.start("slow-exchange", [PYTHON, str(ROOT / "tests" / "topology_worker.py"), "worker", "--queues",
                                      "exchange,notifications", "--hostname", "slow-exchange@%h", "--concurrency", "1",
                                      "--loglevel", "INFO"], TOPOLOGY_SLOW_ARRIVAL_SECONDS="300")
    processes.start_procfile("default")  # the maintenance queue: the sweepers
    processes.start_procfile("beat")
    web = Api(f"http://127.0.0.1:{env['PORT']}")
    wait_for("gunicorn to answer", lambda: web.answers("/api/v1/me/") in (401, 403), START_TIMEOUT, processes,
             ("web", "slow-exchange", "default", "beat"))
    clerk = web.login(province["sender_clerk"])
    document_type = _document_type(clerk)

    # 1. SIGKILL in the middle of the fan-out.
    first = clerk.json("POST", "/api/v1/documents/outgoing/", {
        "document_type": document_type, "subject": "Công văn gửi 200 cơ quan",
        "recipients": [{"agency": pk} for pk in agencies]}, expect=201)["id"]
    log = processes.log_dir / "slow-exchange.log"
    wait_for("the slow worker to be inside the arrival", lambda: "arrival sleeping" in log.read_text(errors="replace"),
             START_TIMEOUT, processes, ("web", "slow-exchange"))
    processes.kill9("slow-exchange")
    state = state_of([first])
    assert state["deliveries"] == RECIPIENTS and state["pending"] == RECIPIENTS, state  # rolled back, not lost
    phase("exchange worker killed inside the arrival of 200 deliveries")
    processes.start_procfile("exchange")
    expected_notices = RECIPIENTS

    def complete(document_ids: list[int], deliveries: int, told: int):
        current = state_of(document_ids)
        done = (current["arrived"] == deliveries and current["notices"] >= told
                and current["emails_sent"] >= told)
        return current if done else None

    state = wait_for("the fan-out to finish after the crash", lambda: complete([first], RECIPIENTS, expected_notices),
                     FAN_OUT_TIMEOUT, processes, ("web", "exchange", "default", "beat"), interval=1.0)
    assert state["traces"] == RECIPIENTS and state["max_traces_per_delivery"] == 1, state
    assert state["notices"] == expected_notices and state["max_notices_per_person"] == 1, state
    assert state["emails"] == state["notices"], state
    phase(f"fan-out finished once after the crash: {state}")

    # 2. The broker stops while documents are issued.
    broker.stop()
    phase("Redis stopped")
    issued = []
    for index in range(3):
        chosen = agencies[index * 20:(index + 1) * 20]
        began = time.monotonic()
        issued.append(clerk.json("POST", "/api/v1/documents/outgoing/", {
            "document_type": document_type, "subject": f"Công văn khi Redis dừng {index}",
            "recipients": [{"agency": pk} for pk in chosen]}, expect=201)["id"])
        assert time.monotonic() - began < 30, "issuing must not hang on a broker that is down"
    state = state_of(issued)
    assert state["deliveries"] == 60 and state["pending"] == 60 and state["notices"] == 0, state
    phase("3 documents issued with Redis down: 60 deliveries waiting")
    broker.start()
    phase("Redis started again")
    state = wait_for("the sweepers to deliver what the broker lost", lambda: complete(issued, 60, 60),
                     FAN_OUT_TIMEOUT, processes, ("web", "exchange", "default", "beat"), interval=1.0)
    assert state["traces"] == 60 and state["max_traces_per_delivery"] == 1, state
    assert state["notices"] == 60 and state["max_notices_per_person"] == 1 and state["emails"] == 60, state
    phase(f"everything delivered once after Redis came back: {state}")
    assert "intact" in processes.manage("verify_audit")


def _document_type(api: Api) -> int:
    answer = api.get("/api/v1/document-types/")
    rows = answer["results"] if isinstance(answer, dict) else answer
    return next(row["id"] for row in rows if row.get("code") == "cong-van")
