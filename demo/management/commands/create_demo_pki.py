from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Agency, User
from demo.pki import install


class Command(BaseCommand):
    help = ("Create the demo PKI (root and issuing CA, TSA, a seal per agency, a certificate per leader and "
            "clerk) and install it: trust store, CRL, certificates with keys stored encrypted. Idempotent.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--directory", default=settings.SIGNING_DEMO_PKI_DIR,
                            help="where the PKI files are kept between runs")

    def handle(self, *args, directory: str, **options) -> None:
        actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if actor is None:
            raise CommandError("No superuser exists: run `manage.py seed_demo` (or createsuperuser) first.")
        agencies = Agency.objects.filter(is_active=True).order_by("pk")
        result = install(actor, agencies, directory=Path(directory))
        self.stdout.write(f"Demo PKI in {directory}: {len(result.anchors)} trusted CA certificates, "
                          f"{result.seals} seal and {result.people} personal certificates added.")
