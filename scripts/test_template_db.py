"""Create and migrate the template database the test processes copy (used by `make test` on PostgreSQL).

`make test` runs the suite in three processes (two pytest-xdist workers and the process beside them), each
with a test database of its own; migrating each from nothing costs ~15 s of CPU apiece on a two-core machine.
Migrating once here and letting PostgreSQL copy it (`CREATE DATABASE ... TEMPLATE`, settings_test's
`TEST["TEMPLATE"]` when EOFFICE_TEST_TEMPLATE is set) leaves each process nothing to migrate. Prints the
template's name."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    import psycopg
    from psycopg import sql

    url = os.environ["DATABASE_URL"]
    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'eoffice'}_test_template"
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = {**os.environ, "DATABASE_URL": parts._replace(path=f"/{name}").geturl(),
           "DJANGO_SETTINGS_MODULE": "eoffice.settings_test"}
    env.pop("EOFFICE_TEST_TEMPLATE", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(name)


if __name__ == "__main__":
    main()
