"""The search index's sweeper: entries left stale by a process that stopped between a commit and the indexing
right after it (search.indexing). Idempotent: indexing an entry twice writes the same words."""

from __future__ import annotations

from celery import shared_task

from . import indexing


@shared_task(name="search.tasks.index_stale", acks_late=True, ignore_result=True)
def index_stale() -> int:
    total = 0
    while batch := indexing.index_stale(limit=500):
        total += batch
        if total >= 20_000:  # bounded: the next run goes on
            break
    return total
