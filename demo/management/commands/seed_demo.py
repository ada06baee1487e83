"""`manage.py seed_demo`: a demo province (Hòa Bình) with its agencies, people, registers, two years of
documents and work in progress, so that `make run` opens on something that looks like a real e-office.

The work is done by the area modules of `demo/`, one per app, in `AREAS` order: each reads what the
ones before it created (the shared `Context`) and adds its own, through that app's services. Each is
idempotent: a second run creates only what is missing and never resets a password.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Agency
from audit.models import AuditEvent
from demo import accounts, documents, exchange, records, workflows
from demo.accounts import DEMO_PASSWORD, PROVINCE_IDENTIFIER
from demo.context import Context, quiet_eager_tasks
from demo.documents import DEFAULT_DOCUMENTS

# Each area module has `seed(ctx)` and `totals(ctx)`; an area only uses what the areas before it made.
AREAS = (accounts, documents, workflows, exchange, records)


class Command(BaseCommand):
    help = "Create the Hòa Bình demo: agencies, units, ~40 people, registers and two years of documents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--documents", type=int, default=DEFAULT_DOCUMENTS,
                            help=f"Documents to create on the first run (default {DEFAULT_DOCUMENTS}).")
        parser.add_argument("--seed", type=int, default=2020, help="Random seed of the generated history.")
        parser.add_argument("--force", action="store_true",
                            help="Add the demo even though the database holds other agencies.")

    def handle(self, *args, **options) -> None:
        province_exists = Agency.objects.filter(identifier=PROVINCE_IDENTIFIER).exists()
        if not province_exists and Agency.objects.exists() and not options["force"]:
            raise CommandError("This database already holds agencies that are not demo data; "
                               "refusing to mix the demo into them (use --force to do it anyway).")
        if options["documents"] < 0:
            raise CommandError("--documents must not be negative.")
        ctx = Context(now=timezone.now(), documents=options["documents"], seed=options["seed"],
                      existed=province_exists, say=self.stdout.write)
        # A first run writes everything in one transaction: a crash leaves nothing half-seeded.
        with quiet_eager_tasks(), transaction.atomic():
            for area in AREAS:
                area.seed(ctx)
        self._summary(ctx)

    def _summary(self, ctx: Context) -> None:
        totals: dict[str, int] = {}
        for area in AREAS:
            totals.update(area.totals(ctx))
        totals["audit events"] = AuditEvent.objects.count()
        added = ", ".join(f"{count} {what}" for what, count in sorted(ctx.created.items()) if count) or "nothing"
        self.stdout.write(("Demo seed found; " if ctx.existed else "Demo seeded; ") + f"added {added}.")
        self.stdout.write("Totals: " + ", ".join(f"{what} {count}" for what, count in totals.items()) + ".")
        self.stdout.write(f"Log in as e.g. vanthu.ubnd, chuyenvien.snv or quantri with the password "
                          f"{DEMO_PASSWORD!r} (docs/demo-accounts.md).")
