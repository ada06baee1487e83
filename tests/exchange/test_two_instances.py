"""Two installations of the project exchange a document by edXML over real HTTP on 127.0.0.1.

Each installation has its own PostgreSQL database (B is cloned from A's freshly migrated one), its own file
folder and its own development server (`runserver --noreload`, threaded); tasks run eagerly in whichever process
caused them, so the package leaves from the process that commits its intent. The steps run as separate processes
of one installation each (tests/exchange/edxml_probe.py), through the services as the pages would:

1. A's clerk issues a document to the agency that B serves: it leaves A as a signed package, B accepts it and
   its delivery arrives (01), and B's 01 comes back to A.
2. B's clerk registers it (03): A's delivery shows 03.
3. A's clerk recalls the document: B's copy is recalled.
4. B's server is down when A issues a second document: A keeps its package pending (attempt and error
   recorded). B restarts on the same port meanwhile.
5. B "hangs" (A's peer URL points at a socket that accepts and never answers) when A issues a third one: the
   send times out (EXCHANGE_HTTP_TIMEOUT 2 s for that process) and stays pending. Pointed back at B, A's
   sweeper (what its beat would run) delivers both: one delivery and one 01 each at B, one notice per person
   and event on both sides, A's traces 01 then 03 once B registers them.

Both seals are issued by one demo CA that both trust stores hold; each side's Peer row names the other's seal
certificate and server. Skipped (failed in CI) without PostgreSQL."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

# Runs with the multi-process tests beside the parallel suite (`make test` selects the `topology` marker there).
pytestmark = [pytest.mark.postgres, pytest.mark.two_instances, pytest.mark.topology]

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
STEP_TIMEOUT = 120
PKI_PASSWORD = b"two-instances"

A = {"name": "Sở Nội vụ tỉnh Hòa Bình", "abbreviation": "SNV", "organ_id": "H23.15", "place": "Hòa Bình",
     "seal": "a"}
B = {"name": "Sở Tài chính tỉnh Lạng Sơn", "abbreviation": "STC", "organ_id": "H37.02.02", "place": "Lạng Sơn",
     "seal": "b"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    return f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/eoffice"


def databases(base_url: str, suffix: str) -> tuple[str, str, callable]:
    """Two database URLs (created later from a template), and a function that drops both."""
    parts = urllib.parse.urlsplit(base_url)
    stem = parts.path.lstrip("/") or "eoffice"
    names = [f"{stem}_peer_a_{suffix}", f"{stem}_peer_b_{suffix}"]
    admin_url = parts._replace(path="/postgres").geturl()

    def drop() -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(admin_url, autocommit=True) as connection:
            for name in names:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    return parts._replace(path=f"/{names[0]}").geturl(), parts._replace(path=f"/{names[1]}").geturl(), drop


def create_database(base_url: str, url: str, template: str | None = None) -> None:
    import psycopg
    from psycopg import sql

    admin_url = urllib.parse.urlsplit(base_url)._replace(path="/postgres").geturl()
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)))
        else:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class Installation:
    def __init__(self, label: str, database_url: str, folder: Path, port: int, kek: str) -> None:
        self.label, self.port, self.folder, self.database_url = label, port, folder, database_url
        self.url = f"http://127.0.0.1:{port}/api/v1/exchange/edxml/"
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("AWS_", "STORAGE_", "CELERY_", "PYTEST_", "CACHE_URL", "DATABASE_"))}
        env.update({
            "DJANGO_SETTINGS_MODULE": "eoffice.settings",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url,
            "DB_CONN_MAX_AGE": "0",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SIGNING_KEY_ENCRYPTION_KEY": kek,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DEBUG": "false",
            "OTP_REQUIRED": "false",
            "EXTRACTION_ISOLATED": "false",
            "EOFFICE_VAR_DIR": str(folder / "var"),
            "MEDIA_ROOT": str(folder / "media"),
            "STATIC_ROOT": str(folder / "static"),
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "EXCHANGE_HTTP_TIMEOUT": "60",
            "EXCHANGE_RETRY_FIRST_SECONDS": "1",  # the backoff's first wait, shortened for steps 4 and 5
            "SWEEP_INTERVAL_SECONDS": "3600",  # the servers' embedded sweepers stay out of it: the test sweeps
        })
        self.env = env
        self.server: subprocess.Popen | None = None
        self.log = folder / "server.log"

    def run(self, *argv: str) -> str:
        done = subprocess.run([PYTHON, *argv], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=STEP_TIMEOUT)
        if done.returncode:
            raise AssertionError(f"{self.label}: {' '.join(argv[:3])} failed:\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-6000:]}\n--- server log ---\n{self.server_log()}")
        return done.stdout

    def step(self, name: str, env: dict | None = None, **args) -> dict:
        saved = self.env
        self.env = {**saved, **(env or {})}
        try:
            out = self.run("-m", "tests.exchange.edxml_probe", name, json.dumps(args))
        finally:
            self.env = saved
        return json.loads(out.strip().splitlines()[-1])

    def state(self) -> dict:
        """What the test asserts on, read straight from this installation's database (no process to start)."""
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            deliveries = []
            for row in connection.execute(
                    "SELECT d.id, doc.identifier, d.status, d.recalled_at IS NOT NULL, d.recall_reason, "
                    "d.received_document_id, d.document_id FROM exchange_delivery d "
                    "JOIN documents_document doc ON doc.id = d.document_id ORDER BY d.id").fetchall():
                traces = [code for (code,) in connection.execute(
                    "SELECT code FROM exchange_statustrace WHERE delivery_id = %s ORDER BY at, id", [row[0]])]
                files = [sha for (sha,) in connection.execute(
                    "SELECT blob_id FROM documents_documentfile WHERE document_id = %s ORDER BY id", [row[6]])]
                deliveries.append({"identifier": row[1], "status": row[2], "recalled": row[3],
                                   "recall_reason": row[4], "registered_as": row[5], "traces": traces,
                                   "files": files})
            outbound = [list(r) for r in connection.execute(
                "SELECT kind, business_type, status_code, state FROM exchange_outboundmessage ORDER BY id")]
            (inbound,) = connection.execute("SELECT count(*) FROM exchange_inboundpackage").fetchone()
            outbox = [list(r) for r in connection.execute(
                "SELECT doc.identifier, m.kind, m.business_type, m.status_code, m.state, m.attempts, m.last_error "
                "FROM exchange_outboundmessage m JOIN exchange_delivery d ON d.id = m.delivery_id "
                "JOIN documents_document doc ON doc.id = d.document_id ORDER BY m.id")]
            notices = [list(r) for r in connection.execute(
                "SELECT u.username, n.kind, doc.identifier, e.key FROM notifications_notice n "
                "JOIN notifications_noticeevent e ON e.id = n.event_id JOIN accounts_user u ON u.id = n.user_id "
                "LEFT JOIN documents_document doc ON doc.id = n.document_id ORDER BY n.id")]
        return {"deliveries": deliveries, "outbound": outbound, "inbound": inbound, "outbox": outbox,
                "notices": notices}

    def start(self) -> None:
        handle = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.server = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload", "--skip-checks"], cwd=ROOT,
            env=self.env, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.server.poll() is None, f"{self.label} server died:\n{self.server_log()}"
            if answers(self.url):  # GET: 405, but it answers
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.label} server did not start:\n{self.server_log()}")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


class Hanging:
    """A server that accepts connections and never answers (a peer that hangs), on a thread of the test."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v1/exchange/edxml/"
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:  # closed
                return
            self.accepted.append(connection)  # kept open, never read nor answered

    def close(self) -> None:
        self.sock.close()
        for connection in self.accepted:
            connection.close()


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@pytest.fixture
def installations(require_postgres, tmp_path):
    from signatures.keys import generate_kek
    from signatures.pki import build_demo_pki

    pki = build_demo_pki(seals={"a": A["name"], "b": B["name"]})
    pki.save(tmp_path / "pki", password=PKI_PASSWORD)
    base = base_database_url()
    url_a, url_b, drop = databases(base, secrets.token_hex(3))
    a = Installation("A", url_a, tmp_path / "a", free_port(), generate_kek())
    b = Installation("B", url_b, tmp_path / "b", free_port(), generate_kek())
    for installation in (a, b):
        installation.folder.mkdir()
    try:
        create_database(base, url_a, template=os.environ.get("EOFFICE_TEST_TEMPLATE"))  # `make test`: migrated once
        a.run("manage.py", "migrate", "--noinput", "--skip-checks")
        create_database(base, url_b, template=urllib.parse.urlsplit(url_a).path.lstrip("/"))
        for ours, theirs, own, other in ((a, b, A, B), (b, a, B, A)):
            ours.seeding = subprocess.Popen(  # both at once
                [PYTHON, "-m", "tests.exchange.edxml_probe", "seed", json.dumps({
                    **own, "pki": str(tmp_path / "pki"), "peer_name": other["name"],
                    "peer_abbreviation": other["abbreviation"], "peer_organ_id": other["organ_id"],
                    "peer_seal": other["seal"], "peer_url": theirs.url})],
                cwd=ROOT, env=ours.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for installation in (a, b):
            installation.start()
        for installation in (a, b):
            out, err = installation.seeding.communicate(timeout=STEP_TIMEOUT)
            assert installation.seeding.returncode == 0, f"{installation.label} seed failed:\n{out}\n{err}"
        for installation in (a, b):
            installation.wait_ready()
        yield a, b
    finally:
        for installation in (a, b):
            installation.stop()
        drop()


def arrived_once(a: Installation, b: Installation, identifier: str) -> None:
    """After a fault: one delivery at B with one 01 and one notice per person and event, A's package sent on its
    second attempt and B's 01 back at A."""
    at_b = b.state()
    received = [d for d in at_b["deliveries"] if d["identifier"] == identifier]
    assert [(d["status"], d["traces"]) for d in received] == [("01", ["01"])], at_b
    assert [m[1:5] for m in at_b["outbox"] if m[0] == identifier] == [["status", None, "01", "sent"]], at_b
    told = [n for n in at_b["notices"] if n[2] == identifier]
    assert [n[:2] for n in told if n[0] == "vanthu"] == [["vanthu", "exchange.arrived"]], at_b["notices"]
    assert len({(n[0], n[3]) for n in told}) == len(told), at_b["notices"]  # one notice per person and event
    at_a = a.state()
    assert [m[1:6] for m in at_a["outbox"] if m[0] == identifier] == [["edoc", 0, "", "sent", 2]], at_a
    assert [(d["status"], d["traces"]) for d in at_a["deliveries"] if d["identifier"] == identifier] == [
        ("01", ["01"])], at_a


def registered_once(a: Installation, identifier: str) -> None:
    """B registered it: A's traces read 01 then 03, its clerk told once of each."""
    at_a = a.state()
    assert [d["traces"] for d in at_a["deliveries"] if d["identifier"] == identifier] == [["01", "03"]], at_a
    told = [n for n in at_a["notices"] if n[2] == identifier]
    assert [n[:2] for n in told] == [["vanthu", "exchange.status"]] * 2, at_a["notices"]  # 01, then 03
    assert len({n[3] for n in told}) == 2, at_a["notices"]


def test_two_installations_exchange_a_document_its_statuses_a_recall_and_outlast_a_peer_down_or_hanging(
        installations):
    a, b = installations

    # 1. A issues to the agency B serves: the package leaves A signed, arrives at B (01), and B's 01 comes back.
    issued = a.step("issue", to=B["organ_id"], subject="Về việc phối hợp quyết toán liên tỉnh")
    assert issued["identifier"].startswith(f"{A['organ_id']},")
    at_b = b.state()
    (received,) = at_b["deliveries"]
    assert received["identifier"] == issued["identifier"], at_b
    assert (received["status"], received["traces"], received["files"]) == ("01", ["01"], [issued["sha256"]])
    assert at_b["inbound"] == 1 and at_b["outbound"] == [["status", None, "01", "sent"]]
    at_a = a.state()
    (sent,) = at_a["deliveries"]
    assert (sent["status"], sent["traces"]) == ("01", ["01"]), at_a
    assert at_a["outbound"] == [["edoc", 0, "", "sent"]] and at_a["inbound"] == 1

    # 2. B registers it as its incoming document: A's trace gets 03.
    registered = b.step("register", identifier=issued["identifier"])
    assert registered["number"] == 1
    at_a = a.state()
    assert (at_a["deliveries"][0]["status"], at_a["deliveries"][0]["traces"]) == ("03", ["01", "03"]), at_a

    # 3. A recalls the document: B's copy is recalled, with the reason.
    assert a.step("recall", identifier=issued["identifier"], reason="Sai thể thức, sẽ ban hành lại")["recalled"] == 1
    at_b = b.state()
    (received,) = at_b["deliveries"]
    assert received["recalled"] and received["recall_reason"] == "Sai thể thức, sẽ ban hành lại", at_b
    assert received["registered_as"] is not None
    at_a = a.state()
    assert [m[:2] for m in at_a["outbound"]] == [["edoc", 0], ["edoc", 1]] and all(
        m[3] == "sent" for m in at_a["outbound"]), at_a

    # 4. B's server is down when A issues: A's package stays pending, its attempt and error recorded.
    b.stop()
    down = a.step("issue", to=B["organ_id"], subject="Về việc báo cáo khi hệ thống nhận ngừng hoạt động")
    b.start()  # back on the same port (it boots while step 5 runs)
    (message,) = [m for m in a.state()["outbox"] if m[0] == down["identifier"]]
    assert message[1:6] == ["edoc", 0, "", "pending", 1] and "ConnectionError" in message[6], message

    # 5. B hangs (A's peer URL points at a socket that accepts and never answers) when A issues another: the
    # send times out after 2 s (EXCHANGE_HTTP_TIMEOUT of that process) and stays pending.
    hanging = Hanging()
    try:
        slow = a.step("issue", env={"EXCHANGE_HTTP_TIMEOUT": "2"}, peer_url=hanging.url, to=B["organ_id"],
                      subject="Về việc báo cáo khi hệ thống nhận không trả lời")
        (message,) = [m for m in a.state()["outbox"] if m[0] == slow["identifier"]]
        assert message[1:6] == ["edoc", 0, "", "pending", 1] and "Timeout" in message[6], message
        assert hanging.accepted, "A never reached the hanging server"
    finally:
        hanging.close()

    # B answers again: A's sweeper (what its beat runs; first backoff 1 s here) sends both once, B registers them.
    b.wait_ready()
    assert a.step("sweep", peer_url=b.url)["pending"] == 0
    for identifier in (down["identifier"], slow["identifier"]):
        arrived_once(a, b, identifier)
    b.step("register", identifiers=[down["identifier"], slow["identifier"]])
    for identifier in (down["identifier"], slow["identifier"]):
        registered_once(a, identifier)
