"""`manage.py verify_audit`: check every audit chain and report the first broken link of each."""

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import BrokenLink, verify_all


def describe(link: BrokenLink) -> str:
    event = f" (event id {link.event_id})" if link.event_id else ""
    return f"Chain {link.chain}: first broken link at sequence {link.seq}{event}: {link.reason}"


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail and report the first broken link."

    def handle(self, *args, **options):
        broken = verify_all()
        if not broken:
            self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {AuditEvent.objects.count()} events checked."))
            return
        for link in broken:
            self.stderr.write(describe(link))
        # The exit message carries the links too: cron mail and CI logs often keep only that line.
        raise CommandError(f"Audit trail broken in {len(broken)} chain(s). " + "; ".join(describe(b) for b in broken))
