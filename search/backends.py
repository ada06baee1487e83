"""The word index on each database: PostgreSQL full-text search, SQLite FTS5.

Both receive words already folded in Python (search.text), so they agree on what matches, and both are asked
through SQL fragments that the selectors put into an ordinary queryset: the match is one more condition beside
the permission filter, never a list of ids fetched first and filtered afterwards.

PostgreSQL (the `simple` configuration: no stemming, no stop words, as Vietnamese syllables need):
- `vector`: folded head (weight A), folded metadata (B) and the files' text (D), GIN-indexed; it decides
  what matches.
- `head_vector`: exact head and folded head (A) and folded metadata (B), small and stored inline; it ranks,
  so ranking never reads the files' words (a rank over `vector` would de-TOAST every matching row).
A change of metadata rewrites the head and keeps the files' words: they are the weight-D part of `vector`
(`ts_filter(vector, '{d}')`), so they are stored once and the files are not read again.
Diacritics are folded in Python rather than by the `unaccent` extension: the same folding then serves SQLite,
and the tone-placement rule of documents.text (which unaccent does not know) applies first.

SQLite: one FTS5 table (`head`, `meta`, `body` folded, `head_exact`), rowid = the entry's id, ranked by bm25.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, FloatField
from django.db.models.expressions import RawSQL

from .text import ParsedQuery

TABLE = "search_searchentry"

# The word index's schema (migration 0002 runs it; idempotent, so it can be run again on a damaged database).
SCHEMA = {
    "postgresql": [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS head_vector tsvector, ADD COLUMN IF NOT EXISTS vector tsvector",
        f"CREATE INDEX IF NOT EXISTS search_entry_vector_gin ON {TABLE} USING gin (vector)",
        f"CREATE INDEX IF NOT EXISTS search_entry_notation_trgm ON {TABLE} USING gin (notation_key gin_trgm_ops)",
        f"CREATE INDEX IF NOT EXISTS search_entry_names_trgm ON {TABLE} USING gin (names_key gin_trgm_ops)",
    ],
    "sqlite": [
        "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(head, meta, body, head_exact, "
        "tokenize = 'unicode61 remove_diacritics 0')",
    ],
}
DROP_SCHEMA = {
    "postgresql": [
        "DROP INDEX IF EXISTS search_entry_names_trgm",
        "DROP INDEX IF EXISTS search_entry_notation_trgm",
        "DROP INDEX IF EXISTS search_entry_vector_gin",
        f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS vector, DROP COLUMN IF EXISTS head_vector",
    ],
    "sqlite": ["DROP TABLE IF EXISTS search_fts"],
}



@dataclass
class IndexRow:
    entry_id: int
    head_exact: str
    head: str
    meta: str
    body: str | None  # None: keep the words of the files indexed before


@dataclass
class Match:
    """The condition and the rank of a query, as expressions for the entries' queryset."""

    condition: RawSQL
    rank: RawSQL


class PostgresBackend:
    vendor = "postgresql"

    def write(self, rows: list[IndexRow]) -> None:
        head = ("head_vector = setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'A')"
                " || setweight(to_tsvector('simple', %s), 'B'), "
                "vector = setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B')")
        with connection.cursor() as cursor:
            with_body = [(row.head_exact, row.head, row.meta, row.head, row.meta, row.body, row.entry_id)
                         for row in rows if row.body is not None]
            if with_body:
                cursor.executemany(
                    f"UPDATE {TABLE} SET {head} || setweight(to_tsvector('simple', %s), 'D') WHERE id = %s", with_body)
            # Metadata only: the files' words are the weight-D part of the stored vector, kept as they are.
            without_body = [(row.head_exact, row.head, row.meta, row.head, row.meta, row.entry_id)
                            for row in rows if row.body is None]
            if without_body:
                cursor.executemany(
                    f"UPDATE {TABLE} SET {head} || coalesce(ts_filter(vector, '{{d}}'), ''::tsvector) WHERE id = %s",
                    without_body)

    def delete(self, entry_ids: list[int]) -> None:
        """Nothing to do: the words are columns of the deleted rows."""

    @staticmethod
    def _tsquery(phrases: list[str], joiner: str = "&&") -> tuple[str, list[str]]:
        sql = f" {joiner} ".join("phraseto_tsquery('simple', %s)" for _ in phrases)
        return f"({sql})", list(phrases)

    def match(self, query: ParsedQuery) -> Match:
        conditions: list[str] = []
        params: list = []
        rank_sql = ["0"]
        rank_params: list = []
        if query.terms:
            folded_sql, folded_params = self._tsquery([" ".join(term.folded) for term in query.terms])
            conditions.append(f"{TABLE}.vector @@ {folded_sql}")
            params += folded_params
            rank_sql.append(f"ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {TABLE}.head_vector, {folded_sql})")
            rank_params += folded_params
            if query.has_marks:
                exact_sql, exact_params = self._tsquery([" ".join(term.exact) for term in query.terms])
                rank_sql.append(f"CASE WHEN {TABLE}.head_vector @@ {exact_sql} THEN 1 ELSE 0 END")
                rank_params += exact_params
        for key in query.notations:
            words = " ".join(_words(key))
            conditions.append(f"({TABLE}.notation_key = %s OR {TABLE}.vector @@ phraseto_tsquery('simple', %s))")
            params += [key, words]
            rank_sql.append(f"CASE WHEN {TABLE}.notation_key = %s THEN 10 ELSE 0 END")
            rank_params.append(key)
        return Match(
            condition=RawSQL(" AND ".join(conditions) or "TRUE", params, output_field=BooleanField()),
            rank=RawSQL(" + ".join(rank_sql), rank_params, output_field=FloatField()),
        )

    def any_of(self, words: list[str]) -> Match:
        sql, params = self._tsquery(words, "||")
        return Match(
            condition=RawSQL(f"{TABLE}.vector @@ {sql}", params, output_field=BooleanField()),
            rank=RawSQL(f"ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {TABLE}.head_vector, {sql})", params,
                        output_field=FloatField()),
        )

    def missing_words_condition(self) -> RawSQL:
        return RawSQL(f"{TABLE}.vector IS NULL", [], output_field=BooleanField())

    def size(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_total_relation_size(%s), pg_relation_size('search_entry_vector_gin'), "
                "pg_relation_size('search_entry_notation_trgm') + pg_relation_size('search_entry_names_trgm')",
                [TABLE],
            )
            total, words, trigrams = cursor.fetchone()
        return {"total_bytes": total, "word_index_bytes": words, "trigram_index_bytes": trigrams}


class SqliteBackend:
    vendor = "sqlite"
    _COLUMNS = "{head meta body}"

    def write(self, rows: list[IndexRow]) -> None:
        with connection.cursor() as cursor:
            for row in rows:
                if row.body is None:
                    cursor.execute("UPDATE search_fts SET head = %s, meta = %s, head_exact = %s WHERE rowid = %s",
                                   [row.head, row.meta, row.head_exact, row.entry_id])
                    if cursor.rowcount:
                        continue
                cursor.execute("DELETE FROM search_fts WHERE rowid = %s", [row.entry_id])
                cursor.execute("INSERT INTO search_fts (rowid, head, meta, body, head_exact) VALUES (%s, %s, %s, %s, %s)",
                               [row.entry_id, row.head, row.meta, row.body or "", row.head_exact])

    def delete(self, entry_ids: list[int]) -> None:
        if entry_ids:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM search_fts WHERE rowid IN ({', '.join(['%s'] * len(entry_ids))})",
                               entry_ids)

    @staticmethod
    def _phrase(words) -> str:
        return '"' + " ".join(words) + '"'  # words are \w+ runs: no quotes inside

    def _in_fts(self, expression: str) -> tuple[str, list[str]]:
        return f"{TABLE}.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s)", [expression]

    def match(self, query: ParsedQuery) -> Match:
        conditions: list[str] = []
        params: list = []
        rank_sql = ["0"]
        rank_params: list = []
        if query.terms:
            expression = f"{self._COLUMNS} : (" + " AND ".join(self._phrase(t.folded) for t in query.terms) + ")"
            sql, sql_params = self._in_fts(expression)
            conditions.append(sql)
            params += sql_params
            rank_sql.append("coalesce((SELECT -bm25(search_fts, 10.0, 4.0, 1.0, 0.0) FROM search_fts "
                            f"WHERE search_fts MATCH %s AND search_fts.rowid = {TABLE}.id), 0)")
            rank_params.append(expression)
            if query.has_marks:
                exact = "{head_exact} : (" + " AND ".join(self._phrase(t.exact) for t in query.terms) + ")"
                sql, sql_params = self._in_fts(exact)
                rank_sql.append(f"CASE WHEN {sql} THEN 5 ELSE 0 END")
                rank_params += sql_params
        for key in query.notations:
            sql, sql_params = self._in_fts(f"{self._COLUMNS} : {self._phrase(_words(key))}")
            conditions.append(f"({TABLE}.notation_key = %s OR {sql})")
            params += [key, *sql_params]
            rank_sql.append(f"CASE WHEN {TABLE}.notation_key = %s THEN 10 ELSE 0 END")
            rank_params.append(key)
        return Match(
            condition=RawSQL(" AND ".join(conditions) or "1", params, output_field=BooleanField()),
            rank=RawSQL(" + ".join(rank_sql), rank_params, output_field=FloatField()),
        )

    def any_of(self, words: list[str]) -> Match:
        expression = f"{self._COLUMNS} : (" + " OR ".join(self._phrase(w.split()) for w in words) + ")"
        sql, params = self._in_fts(expression)
        return Match(
            condition=RawSQL(sql, params, output_field=BooleanField()),
            rank=RawSQL("coalesce((SELECT -bm25(search_fts, 10.0, 4.0, 1.0, 0.0) FROM search_fts "
                        f"WHERE search_fts MATCH %s AND search_fts.rowid = {TABLE}.id), 0)", [expression],
                        output_field=FloatField()),
        )

    def missing_words_condition(self) -> RawSQL:
        return RawSQL(f"{TABLE}.id NOT IN (SELECT rowid FROM search_fts)", [], output_field=BooleanField())

    def size(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            try:
                cursor.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'search_%%'")
                total = cursor.fetchone()[0]
            except Exception:  # noqa: BLE001 - dbstat is an optional SQLite module
                total = 0
        return {"total_bytes": total, "word_index_bytes": total, "trigram_index_bytes": 0}


def _words(key: str) -> list[str]:
    return re.findall(r"\w+", key)


def backend() -> PostgresBackend | SqliteBackend:
    """The backend of the default database (the index lives beside the registry)."""
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise NotImplementedError(f"search: no word index for {connection.vendor}")
