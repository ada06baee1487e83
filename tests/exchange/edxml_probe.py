"""One step of the two-installation test (tests/exchange/test_two_instances.py), run as a process of one
installation (its DATABASE_URL, MEDIA_ROOT, the eager task mode): python -m tests.exchange.edxml_probe STEP JSON.

Prints one JSON line with what the test asserts on. Every step goes through the services, as the pages do; the
packages travel by real HTTP to the other installation's server."""

from __future__ import annotations

import json
import sys


def _setup() -> None:
    import django

    django.setup()


def seed(args: dict) -> dict:
    """Our agency, its clerk, the other installation's agency as a node of our tree served by a peer, the trust
    store, our seal."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: F401  (warm import)

    from accounts import roles
    from accounts.models import Agency, AgencyKind
    from accounts.roles import sync_role_groups
    from signatures.pki import DemoPki
    from tests.exchange.edxml_support import add_peer, install_seal, install_trust

    sync_role_groups()
    pki = DemoPki.load(__import__("pathlib").Path(args["pki"]), password=b"two-instances")
    ours = Agency.objects.create(name=args["name"], abbreviation=args["abbreviation"], identifier=args["organ_id"],
                                 kind=AgencyKind.PROVINCE_BODY, place_name=args["place"])
    theirs = Agency.objects.create(name=args["peer_name"], abbreviation=args["peer_abbreviation"],
                                   identifier=args["peer_organ_id"], kind=AgencyKind.OTHER)
    user_model = get_user_model()
    admin = user_model.objects.create_superuser("quantri", "quantri@example.gov.vn", "x-unused-1", agency=ours)
    clerk = user_model.objects.create_user("vanthu", "vanthu@example.gov.vn", "x-unused-2", agency=ours,
                                           full_name="Nguyễn Thị Văn Thư", position="Văn thư")
    from django.contrib.auth.models import Group

    clerk.groups.add(Group.objects.get(name=roles.CLERK))
    install_trust(admin, pki)
    install_seal(admin, ours, pki.seals[args["seal"]])
    add_peer(theirs, pki.seals[args["peer_seal"]], args["peer_url"])
    return {"agency": ours.pk, "peer_agency": theirs.pk}


def _clerk():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="vanthu")


def issue(args: dict) -> dict:
    from accounts.models import Agency
    from documents import services as documents_services
    from documents.models import DocumentType
    from tests.exchange.helpers import pdf_upload

    _point_peer(args)
    clerk = _clerk()
    peer_agency = Agency.objects.get(identifier=args["to"])
    data = documents_services.OutgoingInput(
        document_type_id=DocumentType.objects.get(code="cong-van").pk, subject=args["subject"],
        signer_name="Lê Văn Ký", signer_position="Giám đốc",
        recipients=[documents_services.RecipientInput(agency_id=peer_agency.pk)],
    )
    document = documents_services.register_outgoing(clerk, data, [pdf_upload("cv-lien-tinh.pdf")])
    return {"document": document.pk, "identifier": document.identifier,
            "sha256": document.files.get().blob_id}


def register(args: dict) -> dict:
    from exchange import services
    from exchange.models import Delivery

    documents = [services.register_delivery(_clerk(), Delivery.objects.get(document__identifier=identifier))
                 for identifier in args.get("identifiers") or [args["identifier"]]]
    return {"incoming": documents[0].pk, "number": documents[0].register_number}


def recall(args: dict) -> dict:
    from documents.models import Document
    from exchange import services

    document = Document.objects.get(identifier=args["identifier"], direction="outgoing")
    return {"recalled": services.recall_document(_clerk(), document, args["reason"])}


def _point_peer(args: dict) -> None:
    """With `peer_url`: our peer row points there first (a server that hangs, then the real one again)."""
    if args.get("peer_url"):
        from exchange.models import Peer

        Peer.objects.update(inbound_url=args["peer_url"])


def sweep(args: dict) -> dict:
    """What this installation's beat would do: publish the due packages again (eager: sent here), until none is
    pending or `seconds` have passed (the first backoff is short in these installations)."""
    import time

    from exchange import tasks
    from exchange.models import OutboundMessage, OutboundState

    _point_peer(args)
    deadline = time.monotonic() + float(args.get("seconds", 20))
    published = 0
    while True:
        published += tasks.sweep_outbound()
        if not OutboundMessage.objects.filter(state=OutboundState.PENDING).exists() or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return {"published": published,
            "pending": OutboundMessage.objects.filter(state=OutboundState.PENDING).count()}


STEPS = {"seed": seed, "issue": issue, "register": register, "recall": recall, "sweep": sweep}


if __name__ == "__main__":
    _setup()
    result = STEPS[sys.argv[1]](json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
    print(json.dumps(result, default=str))
