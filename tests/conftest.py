"""Shared fixtures. Tests that need PostgreSQL or Redis fail in CI when missing and skip elsewhere."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests import flushing

# Transactional tests empty the database by deleting rows instead of `flush` (TRUNCATE and post_migrate).
flushing.install()

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPORA = PROJECT_ROOT.parent / "shared" / "corpora"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_service(reason: str) -> None:
    """Fail loudly in CI (the service must be there), skip with the reason elsewhere."""
    if IN_CI:
        pytest.fail(f"CI requires this service: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def require_postgres():
    from django.db import connection

    if connection.vendor != "postgresql":
        missing_service("PostgreSQL not in use: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/eoffice")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        missing_service("Redis not configured: set CELERY_BROKER_URL=redis://127.0.0.1:6379/0")
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=2).close()
    except OSError:
        missing_service(f"Redis not reachable at {host_port}")
    return url


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.is_dir():
        missing_service(f"test corpora not found at {CORPORA}")
    return CORPORA


@pytest.fixture
def reference_data():
    """Document types and role groups, for tests that commit for real (transactional): the flush after
    such a test empties every table, and only post_migrate rows (permissions, groups) come back."""
    from importlib import import_module

    from django.apps import apps as django_apps

    from accounts.roles import sync_role_groups

    import_module("documents.migrations.0002_load_document_types").load_types(django_apps, None)
    sync_role_groups()


@pytest.fixture(scope="session")
def api_schema_text(tmp_path_factory, django_db_blocker) -> str:
    """The OpenAPI schema as `manage.py spectacular --validate --fail-on-warn` writes it, generated and validated
    once per process for the tests that look for their routes in it (it takes seconds): a warning or an
    invalid schema fails every one of them."""
    from django.core.management import call_command
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()  # earlier imports in this process must not count
    target = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return target.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


TOPOLOGY_TEST = "test_production_topology.py"
# The longest tests go first: pytest-xdist hands tests out in collection order, so a long test met at the end
# would leave the other worker idle while it runs.
LONG_TESTS = ("test_permission_crawl.py", "test_schemathesis.py", "test_seed_demo.py")


def pytest_collection_modifyitems(config, items) -> None:
    """Browser tests run last: Playwright's sync API leaves an event loop running in the test thread, and
    code that runs its own asyncio loop (pyHanko's signing and validation) cannot start one after that. The
    multi-process topology test runs just before them, so its database is prepared while the rest runs. The
    longest tests run first (LONG_TESTS)."""
    items.sort(key=lambda item: (item.get_closest_marker("browser") is not None, TOPOLOGY_TEST in item.nodeid,
                                 not any(name in item.nodeid for name in LONG_TESTS)))


def pytest_collection_finish(session) -> None:
    """Start preparing the topology test's database in the background (see its `Preparation`)."""
    if session.config.option.collectonly or not any(TOPOLOGY_TEST in item.nodeid for item in session.items):
        return
    if not (os.environ.get("DATABASE_URL", "").startswith("postgres")
            and os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")):
        return  # the test skips (or fails in CI) through its fixtures, with the reason
    from tests import test_production_topology

    test_production_topology.start_preparation()


_KEY_POOL_SIZE = 128


@pytest.fixture(scope="session", autouse=True)
def _shared_rsa_keys():
    """One pool of RSA keys for the whole run: every test that builds a demo PKI (a root, an issuing CA, a
    seal and people) would otherwise generate eight or more 2048-bit keys. The pool grows as keys are asked
    for, then hands them out in turn, so one PKI (and the few a test builds side by side) never gets the same
    key twice."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from signatures import pki

    pools: dict[int, list] = {}
    turns: dict[int, int] = {}
    original = pki._new_key

    def pooled_key(key_size: int):
        pool = pools.setdefault(key_size, [])
        turn = turns.get(key_size, 0)
        turns[key_size] = turn + 1
        if len(pool) < _KEY_POOL_SIZE:
            pool.append(rsa.generate_private_key(public_exponent=65537, key_size=key_size))
            return pool[-1]
        return pool[turn % _KEY_POOL_SIZE]

    pki._new_key = pooled_key
    yield
    pki._new_key = original
