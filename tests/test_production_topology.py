"""The production topology for real: separate processes started from the Procfile's own lines (gunicorn, a
Celery worker for `signing`, one for `exchange,notifications`, one for `default,maintenance`, and beat) on a
PostgreSQL database and a Redis database of their own, driven only over HTTP like a client would.

1. A leader signs a seeded "ready to sign" draft through the API and the clerk of the agency issues it with the
   agency seal; the issued PDF downloaded through the API carries two valid signatures (verify_pdf with the
   trust store read from the database).
2. A signing worker is killed with SIGKILL in the middle of a signature; a fresh worker, the broker's
   redelivery (short visibility timeout) and beat's sweeper (short lease) finish the request exactly once.

Slow by nature (about a minute and a half on two cores): it migrates and seeds a database and starts six Python
processes. Every process is killed at the end, in its own process group; the logs are printed on failure."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.topology]

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "demo12345"
SIGN_TASK = "signatures.tasks.sign"
SIGNING_DONE = "signatures.signing_done"
# Generous: a loaded two-core machine runs six Python processes here besides the test.
COMMAND_TIMEOUT = 900
START_TIMEOUT = 180
SIGNING_TIMEOUT = 240
# Short enough for the crash test to finish in well under two minutes.
VISIBILITY_TIMEOUT = 8
LEASE_SECONDS = 10
SWEEP_SECONDS = 3


# --- processes ------------------------------------------------------------------------------------------------


def procfile() -> dict[str, str]:
    from honcho.environ import parse_procfile

    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)


class Topology:
    """Processes started in their own process groups (a Celery worker is a parent and its pool children), with
    their output in one log file each."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.commands = procfile()

    def start(self, name: str, argv: list[str], **extra_env: str) -> subprocess.Popen:
        assert name not in self.procs or self.procs[name].poll() is not None, f"{name} is running already"
        with open(self.log_dir / f"{name}.log", "ab") as log:
            log.write(f"\n===== {' '.join(argv)}\n".encode())
            log.flush()
            proc = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **extra_env}, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_procfile(self, process_type: str, name: str | None = None) -> subprocess.Popen:
        """A Procfile line as honcho would run it (through the shell, with the environment expanded)."""
        return self.start(name or process_type, ["/bin/sh", "-c", f"exec {self.commands[process_type]}"])

    def signal_group(self, name: str, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.procs[name].pid, signum)

    def kill9(self, name: str) -> None:
        self.signal_group(name, signal.SIGKILL)
        self.procs[name].wait(timeout=30)

    def stop(self, name: str, timeout: float = 60) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL for whatever is left of the group."""
        proc = self.procs[name]
        if proc.poll() is None:
            self.signal_group(name, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(name, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name, timeout=20)

    def assert_running(self, *names: str) -> None:
        dead = {name: self.procs[name].returncode for name in names if self.procs[name].poll() is not None}
        assert not dead, f"processes exited: {dead}"

    def logs(self, lines: int = 150) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()
            parts.append(f"----- {path.name} (last {lines} of {len(text)} lines) -----\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def manage(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def probe(self, *args: str) -> dict:
        result = subprocess.run([PYTHON, str(ROOT / "tests" / "topology_probe.py"), *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        assert result.returncode == 0, f"topology_probe {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout.strip().splitlines()[-1])


def wait_for(what: str, check, timeout: float, topology: Topology | None = None, running: tuple[str, ...] = (),
             interval: float = 0.5):
    """Poll `check` until it returns something truthy; fail early if a process that should run has died."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if topology is not None and running:
            topology.assert_running(*running)
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- services of its own ----------------------------------------------------------------------------------------


def own_database(base_url: str) -> str:
    """A database of this test next to the suite's (eoffice -> eoffice_topology), dropped and created again."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'eoffice'}_topology"
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        template = os.environ.get("EOFFICE_TEST_TEMPLATE")  # migrated once by `make test`: migrate finds it done
        if template:
            connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                                sql.Identifier(template)))
        else:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return parts._replace(path=f"/{name}").geturl()


def own_redis(base_url: str) -> str:
    """A Redis database of this test (TOPOLOGY_REDIS_DB, default 9), emptied first."""
    import redis

    parts = urllib.parse.urlsplit(base_url)
    url = parts._replace(path=f"/{int(os.environ.get('TOPOLOGY_REDIS_DB', '9'))}").geturl()
    redis.Redis.from_url(url).flushdb()
    return url


# --- HTTP -----------------------------------------------------------------------------------------------------


class Api:
    def __init__(self, base: str, token: str = ""):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: dict | None = None, accept: str = "application/json",
             timeout: float = 120) -> tuple[int, bytes, dict]:
        headers = {"Accept": accept, "Accept-Language": "en"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def answers(self, path: str) -> int | None:
        """The status of a GET, or None while nothing listens yet."""
        try:
            return self.call("GET", path, timeout=10)[0]
        except OSError:
            return None

    def json(self, method: str, path: str, body: dict | None = None, expect: int = 200):
        status, content, _headers = self.call(method, path, body)
        assert status == expect, f"{method} {path}: {status} {content[:1000]!r}"
        return json.loads(content)

    def get(self, path: str):
        return self.json("GET", path)

    def login(self, username: str) -> Api:
        answer = self.json("POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD})
        return Api(self.base, answer["token"])

    def signing_request(self, request_id: int) -> dict:
        return self.get(f"/api/v1/signing-requests/{request_id}/")

    def wait_signed(self, request_id: int, topology: Topology, running: tuple[str, ...]) -> dict:
        def finished():
            request = self.signing_request(request_id)
            return request if request["state"] in ("done", "failed") else None

        request = wait_for(f"signing request {request_id} to finish", finished, SIGNING_TIMEOUT, topology, running)
        assert request["state"] == "done", request
        return request


def results(api: Api, path: str) -> list[dict]:
    answer = api.get(path + ("&" if "?" in path else "?") + "page_size=500")
    return answer["results"] if isinstance(answer, dict) else answer


def ready_drafts(web: Api) -> list[tuple[dict, str, str]]:
    """(draft, leader, clerk) for the seeded drafts ready to sign, one per agency, found through the API: the
    administrator lists the people; each agency leader lists the drafts they are the proposed signer of."""
    admin = web.login("quantri")
    people = results(admin, "/api/v1/users/")
    # The seed drafts in agencies with internal units led by a unit leader: ask their leaders first (each login
    # costs a password hash), then the others.
    with_units = {p["agency"] for p in people if "Unit leader" in p["roles"]}
    leaders = sorted((p for p in people if "Agency leader" in p["roles"]), key=lambda p: p["agency"] not in with_units)
    found = []
    for leader in leaders:
        if any(agency == leader["agency"] for _d, _l, _c, agency in found):
            continue
        clerk = next((p for p in people if p["agency"] == leader["agency"] and "Clerk" in p["roles"]), None)
        drafts = [d for d in results(web.login(leader["username"]), "/api/v1/drafts/")
                  if d["state"] == "ready_to_sign" and d["proposed_signer"] == leader["id"]]
        if drafts and clerk is not None:
            found.append((drafts[0], leader["username"], clerk["username"], leader["agency"]))
        if len(found) == 2:
            break
    return [(draft, leader, clerk) for draft, leader, clerk, _agency in found]


def pending_sign_messages(client, request_id: int) -> int:
    """Messages of the signing task for this request still in the `signing` queue or taken and not acknowledged
    (Redis transport: the list `signing`, the hash `unacked`)."""
    def ours(payload: dict) -> bool:
        headers = payload.get("headers", {})
        return headers.get("task") == SIGN_TASK and headers.get("argsrepr") == f"({request_id},)"

    queued = [json.loads(raw) for raw in client.lrange("signing", 0, -1)]
    unacked = [json.loads(raw)[0] for raw in client.hvals("unacked")]
    return sum(1 for payload in queued + unacked if ours(payload))


# --- the test -----------------------------------------------------------------------------------------------------


def topology_environment(base_database_url: str, base_broker_url: str, folder: Path) -> dict[str, str]:
    """The real settings (not the eager test settings) on a database and a Redis database of this test."""
    from signatures.keys import generate_kek

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "STORAGE_", "SIGNING_", "CELERY_", "PYTEST_"))}
    broker_url = own_redis(base_broker_url)
    env.update({
        "DJANGO_SETTINGS_MODULE": "eoffice.settings",
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(PYTHON).parent}:{env.get('PATH', '/usr/bin:/bin')}",
        "DATABASE_URL": own_database(base_database_url),
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": broker_url,  # throttle counters shared by the web workers
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "SIGNING_LEASE_SECONDS": str(LEASE_SECONDS),
        "SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SIGNING_KEY_ENCRYPTION_KEY": generate_kek(),
        "SIGNING_DEMO_PKI_DIR": str(folder / "demo-pki"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "EOFFICE_VAR_DIR": str(folder / "var"),
        "MEDIA_ROOT": str(folder / "media"),  # one host: a local folder all processes share
        "STATIC_ROOT": str(folder / "static"),
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",  # API only: no collectstatic
        "STORAGE_BACKEND": "django.core.files.storage.FileSystemStorage",
        "API_TOKEN_RATE": "100/minute",
        "LOG_LEVEL": "INFO",
        "PORT": str(free_port()),
        "WEB_BIND": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "WEB_TIMEOUT": "120",
        "SIGNING_CONCURRENCY": "1",
        "EXCHANGE_CONCURRENCY": "1",
        "DEFAULT_CONCURRENCY": "1",
        # The demo people have no second-factor device: this test is about the processes, not the log-in
        # (tests/accounts/test_two_factor.py and tests/signatures/test_two_factor_signing.py cover that).
        "OTP_REQUIRED": "false",
    })
    (folder / "var").mkdir(parents=True, exist_ok=True)
    return env


# A smaller history than the demo's 360 documents: the drafts ready to sign are seeded all the same.
PREPARATION_COMMANDS = (["migrate", "--noinput", "-v", "0"], ["seed_demo", "--documents", "30"], ["create_demo_pki"])


class Preparation:
    """Migrating, seeding and the demo PKI of the test's own database take most of its time but need none of
    the processes: the suite starts them in the background when this test is collected (tests/conftest.py),
    on the core the other tests leave free, and the test waits for them."""

    def __init__(self) -> None:
        import tempfile
        import threading

        self.folder = Path(tempfile.mkdtemp(prefix="eoffice-topology-"))
        self.env: dict[str, str] = {}
        self.log: list[str] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="topology-preparation", daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        try:
            self.env = topology_environment(os.environ["DATABASE_URL"], os.environ["CELERY_BROKER_URL"], self.folder)
            for command in PREPARATION_COMMANDS:
                result = subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=self.env,
                                        capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
                if result.returncode != 0:
                    raise AssertionError(f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
                self.log.append(f"[{time.monotonic() - started:6.1f} s] manage.py {command[0]} done")
        except BaseException as error:  # noqa: BLE001 - reported by the test that waits for it
            self.error = error

    def wait(self) -> dict[str, str]:
        self.thread.join(COMMAND_TIMEOUT * len(PREPARATION_COMMANDS))
        assert not self.thread.is_alive(), "the preparation of the topology database did not finish"
        if self.error is not None:
            raise self.error
        return self.env


_PREPARATION: Preparation | None = None


def start_preparation() -> None:
    """Called once by tests/conftest.py when this test is collected and PostgreSQL and Redis are configured."""
    global _PREPARATION
    if _PREPARATION is None:
        _PREPARATION = Preparation()
        _PREPARATION.thread.start()


@pytest.fixture
def topology(require_postgres, redis_url):
    import redis

    start_preparation()  # already running when the suite started it; started now when this test runs alone
    env = _PREPARATION.wait()
    print("\n".join(_PREPARATION.log))
    log_dir = _PREPARATION.folder / "logs"
    log_dir.mkdir(exist_ok=True)
    topology = Topology(env, log_dir)
    try:
        yield topology
    finally:
        topology.stop_all()
        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()


def test_production_topology_signs_issues_and_survives_a_killed_worker(topology, redis_url):
    started = time.monotonic()
    try:
        run_topology(topology)
    except BaseException:
        print(f"failed after {time.monotonic() - started:.0f} s; logs of every process:\n{topology.logs()}")
        raise
    print(f"topology test took {time.monotonic() - started:.0f} s")


def run_topology(topology: Topology) -> None:
    import redis

    started = time.monotonic()

    def phase(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    topology.start_procfile("web")
    topology.start_procfile("signing")
    topology.start_procfile("exchange")
    topology.start_procfile("default")
    topology.start_procfile("beat")
    everything = ("web", "signing", "exchange", "default", "beat")
    web = Api(f"http://127.0.0.1:{topology.env['PORT']}")
    wait_for("gunicorn to answer", lambda: web.answers("/api/v1/me/") in (401, 403), START_TIMEOUT, topology,
             everything)

    phase("gunicorn answers")
    drafts = ready_drafts(web)
    assert len(drafts) == 2, f"expected seeded drafts ready to sign in two agencies, found {drafts}"
    (draft, leader_name, clerk_name), (crash_draft, crash_leader_name, _crash_clerk) = drafts
    phase(f"drafts ready to sign found: {[(d['id'], leader) for d, leader, _clerk in drafts]}")

    # 1. The leader signs, the clerk issues with the seal: each through the `signing` queue.
    leader, clerk = web.login(leader_name), web.login(clerk_name)
    request = leader.json("POST", f"/api/v1/drafts/{draft['id']}/sign/", {"password": PASSWORD}, expect=202)
    signed = leader.wait_signed(request["id"], topology, everything)
    assert leader.get(f"/api/v1/drafts/{draft['id']}/")["state"] == "signed"
    phase(f"draft {draft['id']} signed by {leader_name}")
    seal = clerk.json("POST", f"/api/v1/drafts/{draft['id']}/seal/", {"password": PASSWORD}, expect=202)
    clerk.wait_signed(seal["id"], topology, everything)
    issued = clerk.get(f"/api/v1/drafts/{draft['id']}/")
    assert issued["state"] == "issued" and issued["issued_document"], issued
    document = clerk.get(f"/api/v1/documents/{issued['issued_document']}/")
    main = next(f for f in document["files"] if f["is_main"])
    status, pdf, headers = clerk.call("GET", f"/api/v1/documents/{document['id']}/files/{main['id']}/download/",
                                      accept="application/pdf")
    assert status == 200 and headers.get("Content-Type") == "application/pdf" and pdf.startswith(b"%PDF-")
    issued_pdf = topology.log_dir.parent / "issued.pdf"
    issued_pdf.write_bytes(pdf)
    report = topology.probe("verify", str(issued_pdf))
    assert len(report["signatures"]) == 2, report
    assert all(s["trusted"] and s["intact"] and s["valid"] for s in report["signatures"]), report
    # The clerk's number, date and seal are the expected additions of the issuing agency: both plainly valid.
    assert [s["verdict"] for s in report["signatures"]] == ["valid", "valid"], report
    assert report["signatures"][0]["issuing_agency"] and report["signatures"][0]["issuing_filled"], report
    assert signed["signed_file_sha256"]
    phase(f"issued by {clerk_name}; two valid signatures")

    # 2. A signing worker dies (SIGKILL, parent and pool child) in the middle of a signature.
    broker = redis.Redis.from_url(topology.env["CELERY_BROKER_URL"])
    topology.stop("signing")  # warm shutdown: from now on only the slow worker consumes `signing`
    topology.start("slow-signing", [PYTHON, str(ROOT / "tests" / "topology_worker.py"), "worker", "--queues",
                                    "signing", "--hostname", "slow-signing@%h", "--concurrency", "1",
                                    "--loglevel", "INFO"], TOPOLOGY_SLOW_SIGNING_SECONDS="300")
    crash_leader = web.login(crash_leader_name)
    versions_before = len(crash_leader.get(f"/api/v1/drafts/{crash_draft['id']}/")["versions"])
    request = crash_leader.json("POST", f"/api/v1/drafts/{crash_draft['id']}/sign/", {"password": PASSWORD},
                                expect=202)
    request_id = request["id"]
    taken = wait_for("the slow worker to take the request",
                     lambda: (r := crash_leader.signing_request(request_id))["state"] == "signing" and r,
                     START_TIMEOUT, topology, ("web", "slow-signing", "beat"))
    assert taken["attempts"] == 1, taken
    topology.kill9("slow-signing")
    phase(f"slow worker killed while signing request {request_id}")
    assert crash_leader.signing_request(request_id)["state"] == "signing"  # left behind by the dead worker
    assert pending_sign_messages(broker, request_id) == 1  # taken, never acknowledged

    # A fresh worker; the broker hands the message back after the visibility timeout, and beat's sweeper
    # re-queues the request once its lease has run out: whichever comes first signs, the other finds it taken
    # or done.
    topology.start_procfile("signing")
    done = crash_leader.wait_signed(request_id, topology, ("web", "signing", "beat"))
    assert done["attempts"] >= 2, done
    phase(f"request {request_id} done after {done['attempts']} attempts")
    wait_for("every delivery of the signing task to be acknowledged",
             lambda: pending_sign_messages(broker, request_id) == 0, VISIBILITY_TIMEOUT * 6 + 60, topology,
             ("web", "signing", "beat"))

    events = topology.probe("events", SIGNING_DONE, str(request_id))
    assert events["count"] == 1, events
    after = crash_leader.get(f"/api/v1/drafts/{crash_draft['id']}/")
    assert after["state"] == "signed" and len(after["versions"]) == versions_before + 1, after
    assert done["signed_file_sha256"] in [version["sha256"] for version in after["versions"]], (after, done)
    assert crash_leader.signing_request(request_id) == done  # nothing ran after it finished

    # The audit chains and every stored file are intact after all these processes wrote concurrently.
    assert "intact" in topology.manage("verify_audit")
    assert "intact" in topology.manage("verify_files")
    phase("audit chains and stored files verified")
