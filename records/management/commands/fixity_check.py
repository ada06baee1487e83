"""`manage.py fixity_check [--all] [--limit N]`: re-hash stored files now (what the hourly task does, on
demand) and print what was found; exit code 1 when any file is altered or missing (cron mail, monitoring)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from documents.models import FileBlob
from records import fixity


class Command(BaseCommand):
    help = "Check stored files against their SHA-256 (least recently checked first) and report damage."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="check every stored file, not one batch")
        parser.add_argument("--limit", type=int, default=None, help="check at most N files")

    def handle(self, *args, **options):
        max_blobs, max_bytes = fixity.batch_limits()
        if options["all"]:
            max_blobs, max_bytes = FileBlob.objects.filter(destroyed_at__isnull=True).count(), 2**62
        if options["limit"] is not None:
            max_blobs = max(1, options["limit"])
        summary = fixity.check_batch(max_blobs=max_blobs, max_bytes=max_bytes)
        self.stdout.write(
            f"Checked {summary.checked} file(s), {summary.megabytes:.1f} MB in {summary.seconds:.1f} s "
            f"({summary.mb_per_second:.1f} MB/s): {summary.ok} intact, {summary.mismatched} altered, "
            f"{summary.missing} missing.")
        for failure in summary.failures:
            label = "ALTERED" if failure.status == "mismatch" else "MISSING"
            new = " (new)" if failure.newly_failing else ""
            documents = "; ".join(failure.documents) or "no registered document"
            self.stdout.write(f"{label}{new} {failure.sha256}: {failure.detail} — {documents}")
        if summary.failed:
            raise CommandError(f"{summary.failed} stored file(s) failed the fixity check "
                               f"({summary.mismatched} altered, {summary.missing} missing).")
