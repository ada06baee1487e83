"""`manage.py rebuild_search_index`: index every document and draft again (after a restore, an upgrade of the
folding rules, or a damaged index); `--check` only reports what the index lacks and exits 1 if anything."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from search import indexing
from search.backends import backend


class Command(BaseCommand):
    help = "Re-create the full-text search index, or check it with --check."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Report documents missing from the index; change nothing.")
        parser.add_argument("--batch", type=int, default=500, help="Documents per transaction (default 500).")

    def handle(self, *args, check: bool = False, batch: int = 500, verbosity: int = 1, **options) -> None:
        if not check:
            started = time.monotonic()
            last = [0.0]

            def progress(done: int, total: int) -> None:
                if verbosity and (time.monotonic() - last[0] > 5 or done == total):
                    last[0] = time.monotonic()
                    self.stdout.write(f"  {done:,} / {total:,}")

            done = indexing.rebuild(batch=max(1, batch), progress=progress)
            self.stdout.write(f"Indexed {done:,} documents and drafts in {time.monotonic() - started:.1f} s.")
        state = indexing.check()
        size = backend().size()
        self.stdout.write(
            f"Documents: {state.documents:,}; missing from the index: {state.missing:,}; waiting to be indexed: "
            f"{state.stale:,}; without words: {state.without_words:,}; index size: {size['total_bytes'] / 1e6:.1f} MB."
        )
        if check and not state.ok:
            raise CommandError("The search index is incomplete: run `manage.py rebuild_search_index`.")
