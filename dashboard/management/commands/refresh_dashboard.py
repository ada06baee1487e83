"""`manage.py refresh_dashboard`: rebuild the dashboard's summary tables now (what the maintenance task
`dashboard.tasks.refresh_tallies` does every 5 minutes), e.g. after a restore or an import."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dashboard import services
from dashboard.models import DocumentTally, HandlingTally, QueueTally


class Command(BaseCommand):
    help = "Rebuild the dashboard's summary tables (the non-secret documents' figures)."

    def handle(self, *args, **options) -> None:
        refresh = services.refresh_tallies()
        self.stdout.write(
            f"Dashboard tallies refreshed in {refresh.seconds:.1f} s: {DocumentTally.objects.count():,} document, "
            f"{HandlingTally.objects.count():,} handling and {QueueTally.objects.count():,} queue rows.")
