"""The search tests again on the other database: the suite runs on PostgreSQL in CI, so this runs them on
SQLite (FTS5, the embedded default) in a child process; on a machine without DATABASE_URL it runs them on
PostgreSQL when one answers. Beside the parallel suite (marker `beside`): it creates its own test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.beside

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/eoffice_search_other"
# The child needs none of these; loading them costs it a second or two.
UNUSED_PLUGINS = ("xdist", "xdist.looponfail", "playwright", "base_url", "hypothesispytest", "schemathesis", "anyio",
                  "faker")


def _postgres_answers() -> bool:
    try:
        import psycopg

        psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2).close()
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False
    return True


def test_search_behaves_the_same_on_the_other_database():
    environment = dict(os.environ)
    if connection.vendor == "postgresql":
        environment.pop("DATABASE_URL", None)
        other = "SQLite (FTS5)"
    else:
        if not _postgres_answers():
            pytest.skip("PostgreSQL is not running here: the search tests ran on SQLite only")
        environment["DATABASE_URL"] = POSTGRES_URL
        other = "PostgreSQL"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         *(arg for plugin in UNUSED_PLUGINS for arg in ("-p", f"no:{plugin}")), "tests/search/test_search.py"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"search tests on {other}:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
