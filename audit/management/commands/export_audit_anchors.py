"""`manage.py export_audit_anchors`: the signed anchors of the audit chains as JSON lines, each with its
signature, the exact signed text and the public key, to keep outside the installation and check offline
(`manage.py audit_anchor_key` prints the key to compare with; docs/deployment.md shows the check)."""

import json
import sys

from django.core.management.base import BaseCommand

from audit.models import AuditAnchor
from audit.services import export_anchor


class Command(BaseCommand):
    help = "Export the signed audit anchors as JSON lines (one anchor a line)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument("--chain", help="only this chain (e.g. agency:3)")

    def handle(self, *args, **options):
        anchors = AuditAnchor.objects.order_by("chain", "last_seq", "id")
        if options["chain"]:
            anchors = anchors.filter(chain=options["chain"])
        out = open(options["output"], "w", encoding="utf-8") if options["output"] else sys.stdout  # noqa: SIM115
        count = 0
        try:
            for anchor in anchors.iterator():
                out.write(json.dumps(export_anchor(anchor), ensure_ascii=False, sort_keys=True) + "\n")
                count += 1
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"Exported {count} anchor(s).")
