"""What the demo's area modules share while seeding: the `Context` handed from one area to the next, the
clock that replays history, and the quieting of in-process tasks."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from unittest import mock

from django.utils import timezone

from accounts.models import Agency, Unit, User
from documents.models import DocumentType


@dataclass
class Context:
    """One run of `seed_demo`. Each area reads what the areas before it filled in and adds its own."""

    now: datetime
    documents: int  # how many documents a first run creates
    seed: int  # of the random history
    existed: bool  # the demo province was there before this run
    say: Callable[[str], None]
    created: Counter[str] = field(default_factory=Counter)  # what this run added, for the summary
    # Filled by demo.accounts, keyed by the seeds' keys and usernames:
    agencies: dict[str, Agency] = field(default_factory=dict)
    units: dict[tuple[str, str], Unit] = field(default_factory=dict)  # (agency key, unit abbreviation)
    users: dict[str, User] = field(default_factory=dict)
    clerks: dict[str, User] = field(default_factory=dict)  # the clerk who registers each agency's documents
    # Filled by demo.documents:
    types: dict[str, DocumentType] = field(default_factory=dict)

    @property
    def agency_ids(self) -> list[int]:
        return [agency.pk for agency in self.agencies.values()]


@contextmanager
def clock(moment: datetime) -> Iterator[None]:
    """Let the services (and auto_now fields, audit timestamps) see `moment` as now.

    Why: the services take "today" from the clock, so the seed replays history through them with the
    clock set to each action's moment. In UTC, like the real `timezone.now()`: the audit hash covers
    the timestamp's text, and the database hands it back in UTC."""
    utc_moment = moment.astimezone(UTC)
    with mock.patch.object(timezone, "now", lambda: utc_moment):
        yield


@contextmanager
def quiet_eager_tasks() -> Iterator[None]:
    """In the embedded mode the file-extraction tasks run in-process after commit, each logging a line."""
    trace_logger = logging.getLogger("celery.app.trace")
    level = trace_logger.level
    trace_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        trace_logger.setLevel(level)
