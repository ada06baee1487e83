"""Thin Celery tasks of the signatures app: signing in the `signing` queue, finding a signature's placement
ahead of time, verification of received PDFs, and a sweeper that re-queues what a dead broker or worker
dropped (the intent is always a database row). Services publish these by name (`eoffice.tasking`)."""

from __future__ import annotations

import logging

from celery import shared_task

from eoffice.tasking import publish

from . import reminders, signing, verifying

logger = logging.getLogger(__name__)


@shared_task(name="signatures.tasks.sign", acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def sign(request_id: int) -> str:
    return signing.run_signing_request(request_id)


@shared_task(name="signatures.tasks.place", acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def place(blob_sha256: str, signer_name: str) -> str:
    return signing.prepare_placement(blob_sha256, signer_name)


@shared_task(name="signatures.tasks.verify_file", acks_late=True, ignore_result=True, soft_time_limit=120,
             time_limit=150)
def verify_file(blob_sha256: str) -> str:
    return verifying.verify_stored_file(blob_sha256)


@shared_task(name="signatures.tasks.sweep", acks_late=True, ignore_result=True)
def sweep() -> int:
    requests, files = signing.stale_request_ids(), verifying.pending_verifications()
    for request_id in requests:
        enqueue_signing(request_id)
    for sha256 in files:
        enqueue_verification(sha256)
    return len(requests) + len(files)


@shared_task(name="signatures.tasks.remind_expiring_certificates", acks_late=True, ignore_result=True)
def remind_expiring_certificates() -> int:
    return reminders.send_expiry_reminders()


def enqueue_signing(request_id: int) -> None:
    """Publish now; if the broker is down the request stays queued and the sweeper retries."""
    publish("signatures.tasks.sign", request_id)


def enqueue_verification(blob_sha256: str) -> None:
    publish("signatures.tasks.verify_file", blob_sha256)
