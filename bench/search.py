#!/usr/bin/env python
"""Search benchmark on PostgreSQL (issue 14, "Performance"): full-text search at 20,000 and 200,000 documents.

    .venv/bin/python bench/search.py                      # 200,000 documents (eoffice_bench_search)
    .venv/bin/python bench/search.py --documents 20000    # 20,000 documents (eoffice_bench_search_20k)

Uses its own database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/eoffice_bench_search, with
`_20k` appended for --documents 20000, `_<N>` for other sizes), filled once by bench/registry.py's `fill`
(agencies, people, grants, documents with one file each). Then every file gets an extracted text of 1–5
pages (~2,500 characters a page) of Vietnamese administrative prose: sentences of Decree 30/2020/NĐ-CP
(../shared/corpora/vietnamese/legal/nd-30-2020-ND-CP.md, read now) mixed with the document's own subject,
deterministic per file (seeded by its id), written with COPY into a temporary table and one UPDATE ... FROM
per batch. The index is then built with `search.indexing.rebuild` (up to --rebuild-limit documents) or with
the bulk path (the same `index_documents`, with the word indexes dropped during the load and re-created
after, the files' words folded once per corpus sentence instead of once per document, the facet columns
written with executemany); after a bulk load the real path's speed is measured on a sample, whose words must
come out the same as the bulk path's.

Then, for a district staff member with grants and working groups (registry.pick_people) and a clerk of the
committee (the largest agency): server time (p50, p95) of `/search/?q=...` and `/api/v1/search/?q=...` through
django.test.Client (middleware, session, view, template or JSON; no network), 5 warm-up and --repeat timed
requests (2 and --slow-repeat when the first takes more than --slow-ms), SQL queries per request, for (a) two
common words with diacritics, (b) four words without diacritics, (c) the number and notation of one of the
person's documents, (d) two words with a direction and a year; beside it the naive database search
(visible_documents + `search_text` contains OR the file's text contains, page of 20 + count: what the project
did before, and Mayan EDMS's database search); the index size;
`search.indexing.check()`; EXPLAIN (ANALYZE, BUFFERS) of each case's slowest query; where a search's time goes
(page query, facets, snippets); and, with --experiments, alternative implementations monkeypatched into
`search.selectors` (nothing is changed in search/), measured the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "vietnamese" / "legal" / "nd-30-2020-ND-CP.md"
BASE_URL = "postgres://postgres@127.0.0.1:5432/eoffice_bench_search"
TARGET_P95_MS = 150.0
PAGE_CHARS = 2500
SEED = 30_2020
MAYAN_REFERENCE = "Mayan EDMS 4.12.2, database search over fields and file text, 20,000 documents (issue 14, " \
                  "measured elsewhere): 876 ms p50 / 1,087 ms p95"

registry = None  # bench/registry.py, imported once DATABASE_URL is set (it sets its own default on import)


def database_url(documents: int) -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if documents == 200_000:
        return BASE_URL
    return f"{BASE_URL}_{documents // 1000}k" if documents % 1000 == 0 else f"{BASE_URL}_{documents}"


# --- the files' text ---------------------------------------------------------------------------------


def load_sentences() -> list[str]:
    """The decree's sentences (markdown marks removed), each with at least five words."""
    text = CORPUS.read_text(encoding="utf-8")
    sentences = []
    for line in text.splitlines():
        line = re.sub(r"^[#>*\-\s]+|[*_|]+", " ", line).strip()
        for sentence in re.split(r"(?<=[.;:])\s+", line):
            sentence = sentence.strip()
            if len(re.findall(r"\w+", sentence)) >= 5:
                sentences.append(sentence)
    return sentences


class Prose:
    """Deterministic text of a file: 1–5 pages of the decree's sentences with the document's subject woven in
    (as a heading, and again every few sentences), with its words already folded as search.text.index_text
    folds them (the concatenation of each part's folded words: folding works word by word)."""

    def __init__(self, sentences: list[str]):
        from search.text import index_text

        self.sentences = sentences
        self.folded = [index_text(sentence) for sentence in sentences]
        self.index_text = index_text

    def make(self, file_id: int, subject: str) -> tuple[str, str, int]:
        rng = random.Random(SEED * 10_000_000 + file_id)
        pages = rng.randint(1, 5)
        target = pages * PAGE_CHARS
        subject_folded = self.index_text(subject)
        parts, folded, size, since_break = [subject], [subject_folded], len(subject), 0
        separators = ["\n"]
        count = len(self.sentences)
        while size < target:
            if rng.random() < 0.12:
                index = -1
                parts.append(f"Về {subject[0].lower()}{subject[1:]}.")
                folded.append("ve " + subject_folded)
            else:
                index = rng.randrange(count)
                parts.append(self.sentences[index])
                folded.append(self.folded[index])
            since_break += 1
            if since_break >= rng.randint(4, 9):
                separators.append("\n")
                since_break = 0
            else:
                separators.append(" ")
            size += len(parts[-1]) + 1
        text = parts[0] + "".join(sep + part for sep, part in zip(separators, parts[1:], strict=False))
        return text, " ".join(folded), pages


def write_texts(prose: Prose, batch: int = 10_000) -> tuple[int, float]:
    """Give every file without text its extracted text (COPY into a temporary table, UPDATE ... FROM)."""
    from django.db import connection, transaction

    started = time.perf_counter()
    written = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT f.id, d.subject FROM documents_documentfile f JOIN documents_document d ON d.id = f.document_id"
                " WHERE f.text = '' ORDER BY f.id LIMIT %s", [batch])
            rows = cursor.fetchall()
        if not rows:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS bench_file_text (id bigint PRIMARY KEY, text text, "
                           "pages int) ON COMMIT DELETE ROWS")
            with cursor.cursor.copy("COPY bench_file_text (id, text, pages) FROM STDIN") as copy:
                for file_id, subject in rows:
                    text, _folded, pages = prose.make(file_id, subject)
                    copy.write_row((file_id, text, pages))
            cursor.execute("UPDATE documents_documentfile f SET text = t.text, page_count = t.pages, "
                           "extraction_status = 'done' FROM bench_file_text t WHERE f.id = t.id")
        written += len(rows)
        print(f"  texts: {written:,} files ({time.perf_counter() - started:.0f} s)", flush=True)
    return written, time.perf_counter() - started


# --- the index -----------------------------------------------------------------------------------------


class _Prefolded(str):
    """A body whose folded words are known already (the bulk path)."""

    folded: str


@contextmanager
def prefolded_bodies(prose: Prose):
    """While active, search.indexing folds a document's body by joining its sentences' folded words (computed
    once per corpus sentence) instead of folding its 2,500–12,500 characters again. The regenerated text is
    compared with the stored one, so the words are exactly what index_text would give."""
    from search import indexing

    original_body, original_index_text = indexing._body, indexing.index_text
    subjects: dict[int, str] = {}

    def body(files):
        text = original_body(files)
        if len(files) != 1:
            return text
        made, folded, _pages = prose.make(files[0].pk, subjects[files[0].document_id])
        if made != text:
            return text
        value = _Prefolded(text)
        value.folded = folded
        return value

    def index_text(text):
        return text.folded if isinstance(text, _Prefolded) else original_index_text(text)

    indexing._body, indexing.index_text = body, index_text
    try:
        yield subjects
    finally:
        indexing._body, indexing.index_text = original_body, original_index_text


def _word_index_statements() -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the word and trigram indexes, as search's migration 0002 creates them."""
    import importlib

    migration = importlib.import_module("search.migrations.0002_word_index")
    return [(statement.split()[2], statement) for statement in migration.POSTGRES_CREATE
            if statement.startswith("CREATE INDEX")]


@contextmanager
def executemany_bulk_update():
    """SearchEntry.objects.bulk_update as one parameterised UPDATE per row sent with executemany (psycopg
    pipelines them) instead of Django's CASE WHEN per field and row, which costs more Python than the rows cost
    the database (a quarter of index_documents' time in a profile)."""
    from django.db import connection

    from search.models import SearchEntry

    manager = SearchEntry.objects

    def bulk_update(objs, fields, batch_size=None):
        model_fields = [SearchEntry._meta.get_field(name) for name in fields]
        assignments = ", ".join(f'"{field.column}" = %s' for field in model_fields)
        rows = [[field.get_db_prep_save(getattr(obj, field.attname), connection) for field in model_fields] + [obj.pk]
                for obj in objs]
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE search_searchentry SET {assignments} WHERE id = %s", rows)
        return len(rows)

    manager.bulk_update = bulk_update
    try:
        yield
    finally:
        del manager.bulk_update


def bulk_index(prose: Prose, batch: int = 1000) -> tuple[int, float, float]:
    """Index every document with search.indexing.index_documents, the word indexes dropped meanwhile, the
    bodies' words folded per sentence and the facet columns written with executemany."""
    from django.db import connection

    from documents.models import Document
    from search import indexing

    statements = _word_index_statements()
    with connection.cursor() as cursor:
        for name, _statement in statements:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    started = time.perf_counter()
    ids = list(Document.objects.order_by("id").values_list("id", flat=True))
    done = 0
    with prefolded_bodies(prose) as subjects, executemany_bulk_update():
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            subjects.clear()
            subjects.update(Document.objects.filter(id__in=chunk).values_list("id", "subject"))
            done += indexing.index_documents(chunk, bodies=chunk)
            if start // batch % 20 == 0:
                elapsed = time.perf_counter() - started
                print(f"  bulk index: {done:,} documents, {done / elapsed:.0f}/s", flush=True)
    rows_time = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, statement in statements:
            cursor.execute(statement)
            print(f"  re-created {name} ({time.perf_counter() - started:.0f} s)", flush=True)
        cursor.execute("RESET maintenance_work_mem")
    return done, rows_time, time.perf_counter() - started


def sample_rebuild_speed(prose: Prose, count: int) -> tuple[float, int, int]:
    """The real path (index_documents with the files' words folded as in production) on `count` documents
    already indexed: documents per second, and how many of them got different words than they had."""
    from django.db import connection

    from documents.models import Document
    from search import indexing

    ids = sorted(random.Random(7).sample(list(Document.objects.values_list("id", flat=True)), count))
    sql = "SELECT document_id, vector::text, head_vector::text FROM search_searchentry WHERE document_id = ANY(%s)"
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        before = {row[0]: row[1:] for row in cursor.fetchall()}
    started = time.perf_counter()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        indexing.index_documents(chunk, bodies=chunk)
    rate = len(ids) / (time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        after = {row[0]: row[1:] for row in cursor.fetchall()}
    differing = sum(1 for doc_id in ids if before.get(doc_id) != after.get(doc_id))
    return rate, differing, len(ids)


_CACHED_TONE: list = []


@contextmanager
def cached_tone_placement():
    """documents.text._place_tone memoised per syllable (Vietnamese has a few thousand syllables; the index
    folds every word of every file through it)."""
    from functools import lru_cache

    from documents import text

    original = text._place_tone
    if not _CACHED_TONE:  # one cache for the process, as a module-level lru_cache would be
        _CACHED_TONE.append(lru_cache(maxsize=65_536)(original))
    text._place_tone = _CACHED_TONE[0]
    try:
        yield
    finally:
        text._place_tone = original


class _FoldTable(dict):
    """str.translate's table for search.text.fold, filled on first sight of each character."""

    def __missing__(self, code: int) -> str:
        from search.text import fold_char

        value = self[code] = fold_char(chr(code))
        return value


_FOLD_TABLE = _FoldTable()


@contextmanager
def fold_by_translate():
    """search.text.fold as one str.translate (C) with a cached per-character table, instead of a generator
    calling fold_char for every character: the same one-for-one characters, ~5× faster."""
    from search import text

    original = text.fold
    text.fold = lambda value: value.translate(_FOLD_TABLE)
    try:
        yield
    finally:
        text.fold = original


def indexing_experiment(prose: Prose, count: int) -> None:
    """The real indexing path (index_documents, word indexes in place) on the same sampled documents: as it is,
    with the tone placement memoised, and with the facet columns also written with executemany."""
    print(f"\nIndexing speed, index_documents on {count:,} sampled documents (documents/s; words unchanged?):")
    for label, patches in [("as is", []), ("tone placement memoised (documents/text.py)", [cached_tone_placement]),
                           ("... and facets written with executemany instead of bulk_update",
                            [cached_tone_placement, executemany_bulk_update])]:
        with contextlib.ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch())
            rate, differing, total = sample_rebuild_speed(prose, count)
        print(f"  {label:<70} {rate:6.0f}/s   {total - differing:,} of {total:,} unchanged", flush=True)


def ensure_index(prose: Prose, args) -> None:
    from django.db import connection

    from documents.models import Document
    from search import indexing
    from search.models import SearchEntry

    total = Document.objects.count()
    indexed = SearchEntry.objects.filter(document__isnull=False, indexed_at__isnull=False, stale=False).count()
    if indexed >= total and not args.reindex:
        print(f"Index present: {indexed:,} documents indexed.")
        return
    use_rebuild = args.index == "rebuild" or (args.index == "auto" and total <= args.rebuild_limit)
    if use_rebuild:
        started = time.perf_counter()
        last = [started]

        def progress(done: int, all_: int) -> None:
            if time.perf_counter() - last[0] > 30:
                last[0] = time.perf_counter()
                print(f"  rebuild: {done:,}/{all_:,} ({done / (last[0] - started):.0f}/s)", flush=True)

        done = indexing.rebuild(progress=progress)
        elapsed = time.perf_counter() - started
        print(f"Index: search.indexing.rebuild of {done:,} documents in {elapsed:.0f} s "
              f"({done / elapsed:.0f} documents/s)", flush=True)
    else:
        done, rows_time, index_time = bulk_index(prose)
        print(f"Index: bulk path ({done:,} documents through index_documents with the word indexes dropped and "
              f"the words folded per sentence) in {rows_time:.0f} s ({done / rows_time:.0f} documents/s), "
              f"word indexes re-created in {index_time:.0f} s", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE search_searchentry")
        cursor.execute("VACUUM ANALYZE documents_documentfile")
    print(f"  VACUUM ANALYZE of the index and files tables: {time.perf_counter() - started:.0f} s")
    if not use_rebuild:
        rate, differing, count = sample_rebuild_speed(prose, args.rebuild_sample)
        print(f"  the real path (index_documents, words folded per document, word indexes in place) on "
              f"{count:,} sampled documents: {rate:.0f} documents/s, so a rebuild of {total:,} would take "
              f"~{total / rate / 60:.0f} min; words different from the bulk path's: {differing}", flush=True)


# --- measuring -----------------------------------------------------------------------------------------


def common_words(prose: Prose) -> list[tuple[str, int]]:
    """The corpus's words by how many sentences hold them (to pick queries)."""
    from collections import Counter

    counts: Counter[str] = Counter()
    for sentence in prose.sentences:
        counts.update(set(re.findall(r"\w+", sentence.lower())))
    return counts.most_common(60)


def person_notation(user) -> str:
    """The number and notation of a recent document the person sees from their own agency (or any they see)."""
    from documents.models import Direction
    from documents.selectors import visible_documents

    documents = visible_documents(user).exclude(code_notation="").order_by("-issued_date", "-id")
    document = (documents.filter(agency_id=user.agency_id, direction=Direction.OUTGOING).first()
                or documents.first())
    return document.number_notation


def naive_search(user, text: str, filters: dict | None = None) -> tuple[int, list]:
    """The database search before the index (and Mayan EDMS's): every word in the metadata text or in a file's
    text, matched with LIKE over the documents the person may see; first page of 20 and the count."""
    from django.db.models import Q

    from documents.selectors import visible_documents
    from documents.text import normalize_vietnamese

    documents = visible_documents(user)
    if filters:
        documents = documents.filter(**filters)
    for word in normalize_vietnamese(text).split():
        documents = documents.filter(Q(search_text__contains=word) | Q(files__text__icontains=word))
    documents = documents.distinct()
    page = list(documents.order_by("-created_at", "-id").values("id", "subject", "code_number", "code_notation")[:20])
    return documents.count(), page


class Phases:
    """Time spent in search.selectors' parts (wrapped module functions), per call of search()."""

    def __init__(self):
        self.totals: dict[str, list[float]] = {}

    @contextmanager
    def wrapped(self):
        from search import selectors

        saved = {name: getattr(selectors, name) for name in ("_facets", "_hits")}
        current: dict[str, float] = {}

        def wrap(name, function):
            def timed(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    current[name] = current.get(name, 0.0) + (time.perf_counter() - start) * 1000
            return timed

        for name, function in saved.items():
            setattr(selectors, name, wrap(name, function))
        self.current = current
        try:
            yield
        finally:
            for name, function in saved.items():
                setattr(selectors, name, function)

    def measure(self, call, repeat: int, slow_ms: float = 1500, slow_repeat: int = 2) -> dict[str, float]:
        with self.wrapped():
            start = time.perf_counter()
            call()
            if (time.perf_counter() - start) * 1000 > slow_ms:
                repeat = slow_repeat
            else:
                call()
            samples: dict[str, list[float]] = {}
            for _ in range(repeat):
                self.current.clear()
                start = time.perf_counter()
                call()
                total = (time.perf_counter() - start) * 1000
                for name, value in [("total", total), *self.current.items()]:
                    samples.setdefault(name, []).append(value)
        result = {name: statistics.median(values) for name, values in samples.items()}
        result["page query + parse"] = result["total"] - result.get("_facets", 0) - result.get("_hits", 0)
        return result


def cases_for(user, words2: str, words4: str, facet_words: str) -> list[tuple[str, dict, dict]]:
    """(label, query parameters, naive filters) of the four cases."""
    year = date.today().year
    return [
        ("a) 2 words, diacritics", {"q": words2}, {}),
        ("b) 4 words, no diacritics", {"q": words4}, {}),
        ("c) notation", {"q": person_notation(user)}, {}),
        ("d) 2 words + direction + year", {"q": facet_words, "direction": "incoming", "year": year},
         {"direction": "incoming", "issued_date__year": year}),
    ]


def measure_people(people, args, cases_spec) -> tuple[list, dict]:
    from django.test import Client

    from documents.selectors import visible_documents
    from search.selectors import Filters, search

    timer = registry.Timer(args.repeat)
    slow_timer = registry.Timer(args.slow_repeat, warmup=2)  # for requests of more than --slow-ms
    results = []
    slow_per_case: dict[str, tuple[float, str]] = {}
    print(f"\n  {'':<58} {'median':>8} {'p95':>8} {'queries':>8} {'slowest q':>10}   (ms)")
    for role, user in people:
        client = Client()
        client.force_login(user)
        visible = visible_documents(user).count()
        print(f"{role} {user.username} ({user.agency.name}, {visible:,} documents visible)", flush=True)
        for label, params, naive_filters in cases_for(user, *cases_spec):
            query = urlencode(params)

            def get(url: str, client: Client = client) -> None:
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")
                _ = response.content

            found = client.get("/api/v1/search/?" + query).json()["count"]
            print(f"  {label}: {params} -> {found:,} matches", flush=True)
            row = {"role": role, "case": label, "params": params, "matches": found, "visible": visible}
            for kind, url in (("web", "/search/?" + query), ("api", "/api/v1/search/?" + query)):
                key = f"{role}: {label}, {kind}"
                start = time.perf_counter()
                get(url)
                chosen = slow_timer if (time.perf_counter() - start) * 1000 > args.slow_ms else timer
                median, p95, queries = chosen.measure(key, lambda url=url: get(url))
                row[kind] = (median, p95, queries, chosen.repeat)
                slow = chosen.slow_sql.get(key)
                if slow and slow[0] > slow_per_case.get(f"{role}: {label}", (0.0, ""))[0]:
                    slow_per_case[f"{role}: {label}"] = slow
            filters = Filters(direction=params.get("direction", ""), year=params.get("year"))
            row["phases"] = Phases().measure(lambda p=params, f=filters, u=user: search(u, p["q"], f), args.phase_repeat,
                                             args.slow_ms)
            print("    search() alone, median ms: " + ", ".join(f"{name} {value:.1f}" for name, value in
                                                             row["phases"].items()), flush=True)
            if not args.skip_naive:
                row["naive"] = measure_naive(user, params["q"], naive_filters, args)
                naive_median, naive_p95, count = row["naive"]
                print(f"    naive database search (LIKE on metadata OR file text, page 20 + count): {naive_median:.1f} / "
                      f"{naive_p95:.1f} ms, {count:,} matches; ×{naive_median / row['api'][0]:.1f} the API's "
                      f"median, ×{naive_median / row['phases']['total']:.1f} search()'s", flush=True)
            results.append(row)
    return results, slow_per_case


def measure_naive(user, text: str, filters: dict, args) -> tuple[float, float, int]:
    start = time.perf_counter()
    count, _page = naive_search(user, text, filters)
    first = (time.perf_counter() - start) * 1000
    repeat = args.naive_repeat if first < 2000 else max(3, args.naive_repeat // 3)
    for _ in range(2):
        naive_search(user, text, filters)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        naive_search(user, text, filters)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), registry.percentile(times, 0.95), count


def explain(slow_per_case: dict[str, tuple[float, str]]) -> None:
    from django.db import connection

    for label, (ms, sql) in slow_per_case.items():
        print(f"\n--- EXPLAIN of the slowest query of '{label}' ({ms:.1f} ms as captured):\n{sql[:2500]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print("\n".join(row[0] for row in cursor.fetchall()), flush=True)


# --- experiments: proposed changes, monkeypatched into search.selectors (search/ itself is not changed) -----


def _permission_any_array(user):
    """visible_entries with the two permission subqueries as `= ANY(ARRAY(subquery))`, like
    documents.selectors.visible_documents: PostgreSQL evaluates each once (an InitPlan) and can combine the
    entries' document_id and draft_id indexes with the word index in a BitmapAnd, instead of testing every
    matching entry against two hashed subplans."""
    from django.db.models import BooleanField, Q
    from django.db.models.expressions import RawSQL

    from documents.selectors import visible_documents
    from search.models import SearchEntry
    from workflows.drafting_selectors import drafts_for

    if not user.is_authenticated or not user.is_active:
        return SearchEntry.objects.none()
    documents_sql, documents_params = visible_documents(user).order_by().values("id").query.sql_with_params()
    drafts_sql, drafts_params = drafts_for(user).order_by().values("id").query.sql_with_params()
    condition = RawSQL(f"(search_searchentry.document_id = ANY(ARRAY({documents_sql})) "
                       f"OR search_searchentry.draft_id = ANY(ARRAY({drafts_sql})))",
                       (*documents_params, *drafts_params), output_field=BooleanField())
    return SearchEntry.objects.filter(Q(condition), indexed_at__isnull=False)


def _facets_grouping_sets(entries):
    """The two facet groupings in one statement (GROUP BY GROUPING SETS): the match is found once, not twice."""
    from collections import defaultdict

    from django.db import connection
    from django.db.models import Count

    from search import selectors

    small = ["direction", "document_type_id", "year", "urgency", "state", "signature"]
    large = ["agency_id", "unit_id", "register_id"]
    query = entries.order_by().values(*small, *large).annotate(n=Count("id"))
    sql, params = query.query.sql_with_params()
    head, _group_by = sql.rsplit(" GROUP BY ", 1)
    columns = [f'"search_searchentry"."{column}"' for column in (*small, *large)]
    sql = (f"{head} GROUP BY GROUPING SETS (({', '.join(columns[:len(small)])}), "
           f"({', '.join(columns[len(small):])}))")
    counts: dict[str, dict] = {name: defaultdict(int) for name in (*selectors.SMALL_FACETS, *selectors.LARGE_FACETS)}
    names = [*selectors.SMALL_FACETS, *selectors.LARGE_FACETS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            *values, n = row
            if values[0] is not None:  # direction is never NULL: a row of the first grouping set
                for index in range(len(small)):
                    counts[names[index]][values[index]] += n
            else:
                for index in range(len(small), len(names)):
                    if values[index] is not None:
                        counts[names[index]][values[index]] += n
    return {name: selectors._labelled(name, values) for name, values in counts.items()}


PIECE = 600


def _windowed_highlight(original):
    """highlight() that normalises and folds the text in pieces of ~PIECE characters (overlapping by a fifth, so
    a phrase across two pieces is seen) until a piece holds a match, then highlights only a window from `width`
    before that piece to 2 × `width` after it, instead of normalising and folding the whole 2,500–12,500
    characters of every hit's file. Gives the same segments: the window is cut where the original cuts it."""

    def at_space(text: str, index: int, step: int) -> int:
        while 0 < index < len(text) and not text[index - 1 if step < 0 else index].isspace():
            index += step
        return index

    def highlight(text, phrases, *, width=220, whole=False):
        if whole or not phrases or len(text) <= 2 * PIECE:
            return original(text, phrases, width=width, whole=whole)
        position = 0
        while position < len(text):
            end = at_space(text, min(len(text), position + PIECE), 1)
            first = at_space(text, max(0, position - PIECE // 5), -1)
            if original(text[first:end], phrases, width=width):
                start = at_space(text, max(0, first - width), -1) if first > 0 else 0
                stop = at_space(text, min(len(text), end + 2 * width), 1)
                return original(text[start:stop], phrases, width=width)
            position = end
        return []

    return highlight


def _comparable(body: dict) -> dict:
    """An API answer with each facet's values in value order (ties of count and label come in the database's
    order, which may differ between two equal queries)."""
    facets = {name: sorted(items, key=lambda item: item["value"]) for name, items in body.get("facets", {}).items()}
    return {**body, "facets": facets}


VARIANTS = {
    "as is": {},
    "permission as = ANY(ARRAY(...))": {"visible_entries": _permission_any_array},
    "facets in one GROUPING SETS query": {"_facets": _facets_grouping_sets},
    "snippets: only a window normalised": {"highlight": "windowed"},
    "all three": {"visible_entries": _permission_any_array, "_facets": _facets_grouping_sets,
                  "highlight": "windowed"},
    "all three + tone placement memoised + fold by str.translate": {
        "visible_entries": _permission_any_array, "_facets": _facets_grouping_sets, "highlight": "windowed",
        "tone": True},
}


@contextmanager
def variant(name: str):
    from search import selectors

    patches = dict(VARIANTS[name])
    tone = contextlib.ExitStack()
    if patches.pop("tone", False):
        tone.enter_context(cached_tone_placement())
        tone.enter_context(fold_by_translate())
    if patches.get("highlight") == "windowed":
        patches["highlight"] = _windowed_highlight(selectors.highlight)
    saved = {attribute: getattr(selectors, attribute) for attribute in patches}
    for attribute, value in patches.items():
        setattr(selectors, attribute, value)
    try:
        with tone:
            yield
    finally:
        for attribute, value in saved.items():
            setattr(selectors, attribute, value)


VARIANT_KEYS = {"asis": "as is", "permission": "permission as = ANY(ARRAY(...))",
                "facets": "facets in one GROUPING SETS query", "snippets": "snippets: only a window normalised",
                "all": "all three",
                "tone": "all three + tone placement memoised + fold by str.translate"}


def experiments(people, args) -> None:
    """Each variant through the API (the same Client measurement), interleaved per round so load hits all
    alike; every variant must answer the same JSON (facet ties aside) as the code as it is."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    chosen = [VARIANT_KEYS[key] for key in args.variants.split(",")]
    print(f"\nProposed changes, monkeypatched into search.selectors, API /api/v1/search/, interleaved rounds "
          f"({args.repeat}, or {args.slow_repeat} when a variant takes more than {args.slow_ms:.0f} ms; "
          "median / p95 ms, queries):")
    table = []
    for role, user in people:
        client = Client()
        client.force_login(user)
        for label, params, _naive in cases_for(user, args.words2, args.words4, args.facet_words):
            url = "/api/v1/search/?" + urlencode(params)
            reference = _comparable(client.get(url).json())
            times: dict[str, list[float]] = {name: [] for name in chosen}
            queries: dict[str, int] = {}
            slowest = 0.0
            for name in chosen:
                with variant(name):
                    start = time.perf_counter()
                    body = _comparable(client.get(url).json())
                    slowest = max(slowest, (time.perf_counter() - start) * 1000)
                    if body != reference:
                        print(f"  {role} {label}: variant '{name}' answers differently")
                    with CaptureQueriesContext(connection) as captured:
                        client.get(url)
                    queries[name] = len(captured)
                    for _ in range(2):
                        client.get(url)
            rounds = args.slow_repeat if slowest > args.slow_ms else args.repeat
            for _ in range(rounds):
                for name in chosen:
                    with variant(name):
                        start = time.perf_counter()
                        client.get(url).content  # noqa: B018 - the body is what is timed
                        times[name].append((time.perf_counter() - start) * 1000)
            cells = []
            for name in chosen:
                cells.append(f"{statistics.median(times[name]):.1f} / {registry.percentile(times[name], 0.95):.1f} "
                             f"({queries[name]})")
            table.append((role, label + ("" if rounds == args.repeat else f" ({rounds} rounds)"), cells))
            print(f"  {role}, {label}: " + " · ".join(f"{name} {cell}" for name, cell in zip(chosen, cells,
                                                                                                strict=True)), flush=True)
    print("\n| who | case | " + " | ".join(chosen) + " |")
    print("|---|---|" + "---|" * len(chosen))
    for role, label, cells in table:
        print(f"| {role} | {label} | " + " | ".join(cells) + " |")


def registry_repeat(results: list[dict]) -> int:
    """The usual number of timed requests (the most frequent one in the results)."""
    counts = [row[kind][3] for row in results for kind in ("web", "api")]
    return max(set(counts), key=counts.count)


def print_table(results: list[dict]) -> None:
    print("\n| who | case | matches | web p50 / p95 (queries) | API p50 / p95 (queries) | search() alone: total · "
          "page query · facets · snippets | naive p50 / p95 | naive ÷ API p50 |")
    print("|---|---|---:|---|---|---|---|---:|")
    for row in results:
        web, api, phases = row["web"], row["api"], row["phases"]
        naive = row.get("naive")
        naive_text = f"{naive[0]:.0f} / {naive[1]:.0f}" if naive else "—"
        ratio = f"{naive[0] / api[0]:.1f}×" if naive else "—"
        reps = "" if web[3] == api[3] == registry_repeat(results) else f" [{web[3]}/{api[3]} runs]"
        print(f"| {row['role']} ({row['visible']:,} visible) | {row['case']}{reps} | {row['matches']:,} | {web[0]:.1f} / "
              f"{web[1]:.1f} ({web[2]}) | {api[0]:.1f} / {api[1]:.1f} ({api[2]}) | {phases['total']:.1f} · "
              f"{phases['page query + parse']:.1f} · {phases.get('_facets', 0):.1f} · {phases.get('_hits', 0):.1f} | "
              f"{naive_text} | {ratio} |")
    print(f"\nQuoted reference: {MAYAN_REFERENCE}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--documents", type=int, default=200_000, help="documents of a fill (default 200,000)")
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--refill", action="store_true", help="drop this benchmark's database and fill it again")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per measurement (after 5 warm-up)")
    parser.add_argument("--phase-repeat", type=int, default=15, help="timed search() calls for the breakdown")
    parser.add_argument("--naive-repeat", type=int, default=10, help="timed naive searches (a third when slow)")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--slow-ms", type=float, default=1500,
                        help="a request slower than this (first try) is timed --slow-repeat times only")
    parser.add_argument("--slow-repeat", type=int, default=10)
    parser.add_argument("--index", choices=["auto", "rebuild", "bulk"], default="auto",
                        help="how to build the index: rebuild up to --rebuild-limit documents, else bulk (default)")
    parser.add_argument("--rebuild-limit", type=int, default=50_000)
    parser.add_argument("--rebuild-sample", type=int, default=2_000,
                        help="documents re-indexed through the real path after a bulk load (speed, same words)")
    parser.add_argument("--reindex", action="store_true", help="build the index again even if it is complete")
    parser.add_argument("--prepare-only", action="store_true", help="fill, write the texts, index; no measuring")
    parser.add_argument("--words2", default="lưu trữ", help="case (a): two common words, with diacritics")
    parser.add_argument("--words4", default="quan ly van ban", help="case (b): four words without diacritics")
    parser.add_argument("--facet-words", default="hồ sơ", help="case (d): two words, with a direction and a year")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--experiments", action="store_true",
                        help="also measure the proposed changes, monkeypatched into search.selectors")
    parser.add_argument("--variants", default=",".join(VARIANT_KEYS),
                        help="experiments to measure, of " + ", ".join(VARIANT_KEYS))
    parser.add_argument("--indexing-experiment", action="store_true",
                        help="index_documents' speed on --rebuild-sample documents, as is and with proposed changes")
    parser.add_argument("--experiments-only", action="store_true", help="only the proposed changes' measurement")
    args = parser.parse_args()

    url = database_url(args.documents)
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    global registry
    import registry as registry_module

    registry = registry_module
    registry.TARGET_P95_MS = TARGET_P95_MS  # the "> target" flag of registry.Timer
    if not CORPUS.exists():
        print(f"Skipped: the corpus {CORPUS} is not there (the benchmark needs ../shared).")
        return

    registry.ensure_database(url, drop=args.refill)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"Database {connection.settings_dict['NAME']}")
    if not registry.is_filled(args.documents):
        from accounts.models import Agency

        if Agency.objects.exists():
            connection.close()
            registry.ensure_database(url, drop=True)
            call_command("migrate", verbosity=0)
        started = time.perf_counter()
        registry.fill(args.documents, args.users, random.Random(2020))
        print(f"Fill (bench/registry.py fill): {time.perf_counter() - started:.0f} s", flush=True)
    prose = Prose(load_sentences())
    written, seconds = write_texts(prose)
    if written:
        print(f"Texts: {written:,} files given 1–5 pages from {len(prose.sentences)} sentences of the decree in "
              f"{seconds:.0f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE documents_documentfile")
    ensure_index(prose, args)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(length(text)), avg(length(text)), sum(page_count), "
                       "pg_total_relation_size('documents_documentfile') FROM documents_documentfile")
        chars, average, pages, file_bytes = cursor.fetchone()
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"Files: {chars:,} characters of text, {average:,.0f} a file, {pages:,} pages; files table "
          f"{file_bytes / 2**20:,.0f} MB")
    from search.backends import backend
    from search.indexing import check

    size = backend().size()
    print("Index size: " + ", ".join(f"{name} {value / 2**20:,.1f} MB" for name, value in size.items()))
    consistency = check()
    print(f"Consistency: {consistency} -> {'OK' if consistency.ok else 'NOT CONSISTENT'}", flush=True)
    if args.indexing_experiment:
        indexing_experiment(prose, args.rebuild_sample)
    if args.prepare_only:
        return
    if args.experiments_only:
        people = registry.pick_people()
        experiments([people[-1], people[0]], args)
        return

    print(f"\n{date.today()} · PostgreSQL {server.split()[0]} · {os.cpu_count()} CPUs · load average "
          f"{os.getloadavg()[0]:.1f} · target p95 ≤ {TARGET_P95_MS:.0f} ms (restricted user, 200,000 documents)")
    print("Most common words of the decree's sentences: " + ", ".join(f"{w} {n}" for w, n in common_words(prose)[:25]))
    people = registry.pick_people()
    chosen = [people[-1], people[0]]  # the district staff member (restricted), the committee's clerk
    results, slow = measure_people(chosen, args, (args.words2, args.words4, args.facet_words))
    print_table(results)
    if not args.no_explain:
        explain(slow)
    if args.experiments:
        experiments(chosen, args)


if __name__ == "__main__":
    main()
