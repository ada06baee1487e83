"""`manage.py audit_anchor_key`: the public keys that verify the audit anchors (one per configured audit key
id), to publish or keep with the exported anchors."""

from django.core.management.base import BaseCommand

from audit import keys


class Command(BaseCommand):
    help = "Print the Ed25519 public key(s) that verify the audit anchors."

    def add_arguments(self, parser):
        parser.add_argument("--pem", action="store_true", help="PEM (SubjectPublicKeyInfo) instead of raw base64")

    def handle(self, *args, **options):
        current = keys.current_key_id()
        for key_id in keys.known_key_ids():
            marker = " (current)" if key_id == current else ""
            if options["pem"]:
                self.stdout.write(f"# key id {key_id}{marker}\n{keys.public_key_pem(key_id)}")
            else:
                self.stdout.write(f"{key_id}\t{keys.public_key_b64(key_id)}{marker}")
