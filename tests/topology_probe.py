"""Test-only reader of the database of tests/test_production_topology.py (run as a subprocess with that
test's DATABASE_URL), printing JSON:

    python tests/topology_probe.py verify FILE.pdf     # signatures.verification.verify_pdf, trust store from the DB
    python tests/topology_probe.py events VERB REQUEST_ID   # audit events of that verb for one signing request
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def verify(path: str) -> dict:
    from cryptography import x509

    from signatures.models import TrustAnchor
    from signatures.verification import verify_pdf

    anchors = TrustAnchor.objects.filter(is_active=True)
    certificate = {anchor.pk: x509.load_der_x509_certificate(bytes(anchor.certificate_der)) for anchor in anchors}
    report = verify_pdf(
        Path(path).read_bytes(),
        trust_roots=[certificate[a.pk] for a in anchors if a.is_root],
        intermediates=[certificate[a.pk] for a in anchors if not a.is_root],
        crls=[bytes(a.crl_der) for a in anchors if a.crl_der],
    )
    return {
        "verdict": str(report.verdict),
        "error": report.error,
        "signatures": [
            {key: getattr(s, key) for key in ("field_name", "signer_name", "trusted", "intact", "valid", "coverage",
                                              "modification_level", "reasons", "issuing_agency", "issuing_filled")}
            | {"verdict": str(s.verdict)}
            for s in report.signatures
        ],
    }


def events(verb: str, request_id: str) -> dict:
    from audit.models import AuditEvent

    found = AuditEvent.objects.filter(verb=verb, data__request_id=int(request_id)).order_by("pk")
    return {"count": found.count(), "events": list(found.values("pk", "target_type", "target_id", "data"))}


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")
    import django

    django.setup()
    command, *args = argv
    result = {"verify": verify, "events": events}[command](*args)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
