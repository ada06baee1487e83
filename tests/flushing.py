"""Emptying the database after a transactional test, at a fraction of `manage.py flush`'s cost.

Django's TransactionTestCase (pytest-django's `transactional_db`, `live_server`) runs `flush` after each test:
a TRUNCATE of every table (on PostgreSQL that creates new files for ~90 tables and their indexes, then syncs
them: seconds on a loaded machine) and the post_migrate signal, which creates the content types, permissions
and role groups again (~2 s of CPU). `flush_database` leaves the database in the same state: the first call
in a process does what flush does, with DELETE instead of TRUNCATE (only in the tables that hold rows), and
notes what post_migrate left (the "baseline" rows); every later call deletes the rows of the tables that hold
any, keeping the baseline rows, and checks that those are still exactly as noted. Should a test have changed
or removed one of them, it falls back to the first call's way (and notes the baseline again), so the next
test meets the same database either way.
"""

from __future__ import annotations

import contextlib
from importlib import import_module

from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal
from django.db import DEFAULT_DB_ALIAS, connections, transaction

# alias -> table -> (primary key column, its position in a row, the rows sorted): what post_migrate leaves.
_BASELINE: dict[str, dict[str, tuple[str, int, list[tuple]]]] = {}
_TABLES: dict[str, list[str]] = {}


class _Changed(Exception):
    """A baseline row was changed or removed: the fast path rolls back and the real flush runs."""


def _sorted_rows(cursor, quote, table: str) -> list[tuple]:
    cursor.execute(f"SELECT * FROM {quote(table)}")
    return sorted(cursor.fetchall(), key=repr)


def _noted(cursor, quote, table: str, key: str) -> tuple[str, int, list[tuple]]:
    rows = _sorted_rows(cursor, quote, table)
    return key, [column[0] for column in cursor.description].index(key), rows


def _non_empty(cursor, quote, tables: list[str]) -> list[str]:
    """The tables that hold at least one row, in one query."""
    union = " UNION ALL ".join(
        f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {quote(table)})" for index, table in enumerate(tables)
    )
    cursor.execute(union)
    return [tables[row[0]] for row in cursor.fetchall()]


def _primary_keys() -> dict[str, str]:
    return {model._meta.db_table: model._meta.pk.column for model in apps.get_models(include_auto_created=True)}


def _delete_all(connection, cursor, quote, tables: list[str]) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # rows go in any order; checked at commit
    for table in tables:
        cursor.execute(f"DELETE FROM {quote(table)}")


def _full_flush(alias: str) -> None:
    """What `flush` does (as TransactionTestCase runs it: every table emptied, then post_migrate), with DELETE
    where it would TRUNCATE; then the baseline noted again."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    if alias not in _TABLES:
        _TABLES[alias] = sorted(connection.introspection.django_table_names(only_existing=True,
                                                                              include_views=False))
        for app_config in apps.get_app_configs():  # as flush does: receivers some apps connect there
            with contextlib.suppress(ImportError):
                import_module(".management", app_config.name)
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        _delete_all(connection, cursor, quote, _non_empty(cursor, quote, _TABLES[alias]))
    emit_post_migrate_signal(0, False, alias)
    keys = _primary_keys()
    with connection.cursor() as cursor:
        filled = _non_empty(cursor, quote, _TABLES[alias])
        _BASELINE[alias] = {table: _noted(cursor, quote, table, keys[table]) for table in filled}


def _clear_caches() -> None:
    """What post_migrate's receivers do besides writing rows: they forget cached ids."""
    from django.contrib.contenttypes.models import ContentType
    from guardian.shortcuts import clear_ct_cache

    from documents.selectors import forget_permission_ids

    ContentType.objects.clear_cache()
    clear_ct_cache()
    forget_permission_ids()


def flush_database(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Empty every table but for the rows post_migrate creates, as `flush` (with post_migrate) would."""
    baseline = _BASELINE.get(alias)
    if baseline is None:
        _full_flush(alias)
        return
    connection = connections[alias]
    quote = connection.ops.quote_name
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            filled = _non_empty(cursor, quote, _TABLES[alias])
            _delete_all(connection, cursor, quote, [table for table in filled if table not in baseline])
            for table in filled:
                if table not in baseline:
                    continue
                key, position, rows = baseline[table]
                kept = [row[position] for row in rows]
                placeholders = ", ".join(["%s"] * len(kept))
                cursor.execute(f"DELETE FROM {quote(table)} WHERE {quote(key)} NOT IN ({placeholders})", kept)
                if _sorted_rows(cursor, quote, table) != rows:
                    raise _Changed(table)
            for table in baseline:
                cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
                if cursor.fetchone()[0] != len(baseline[table][2]):
                    raise _Changed(table)
    except _Changed:
        _full_flush(alias)
        return
    _clear_caches()


def install() -> None:
    """TransactionTestCase (and so pytest-django's transactional tests) empties the database this way."""
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self) -> None:
        if self.available_apps is not None or self.serialized_rollback:
            original(self)
            return
        for alias in self._databases_names(include_mirrors=False):
            flush_database(alias)

    TransactionTestCase._fixture_teardown = _fixture_teardown
