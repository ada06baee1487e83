"""`manage.py verify_audit`: check every audit chain and report the first broken link of each."""

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import verify_all


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail and report the first broken link."

    def handle(self, *args, **options):
        broken = verify_all()
        if not broken:
            self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {AuditEvent.objects.count()} events checked."))
            return
        for link in broken:
            self.stderr.write(
                f"Chain {link.chain}: first broken link at sequence {link.seq}"
                f"{f' (event id {link.event_id})' if link.event_id else ''}: {link.reason}"
            )
        raise CommandError(f"Audit trail broken in {len(broken)} chain(s).")
