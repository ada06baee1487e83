"""Thin Celery tasks of the signatures app: signing in the `signing` queue, verification of received PDFs,
and a sweeper that re-queues what a dead broker or worker dropped (the intent is always a database row)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="signatures.tasks.sign", acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def sign(request_id: int) -> str:
    from .signing import run_signing_request

    return run_signing_request(request_id)


@shared_task(name="signatures.tasks.verify_file", acks_late=True, ignore_result=True, soft_time_limit=120,
             time_limit=150)
def verify_file(blob_sha256: str) -> str:
    from .verifying import verify_stored_file

    return verify_stored_file(blob_sha256)


@shared_task(name="signatures.tasks.sweep", acks_late=True, ignore_result=True)
def sweep() -> int:
    from .signing import stale_request_ids
    from .verifying import pending_verifications

    requests, files = stale_request_ids(), pending_verifications()
    for request_id in requests:
        enqueue_signing(request_id)
    for sha256 in files:
        enqueue_verification(sha256)
    return len(requests) + len(files)


def enqueue_signing(request_id: int) -> None:
    """Publish after commit; if the broker is down the request stays queued and the sweeper retries."""
    try:
        sign.delay(request_id)
    except Exception:  # noqa: BLE001 - kombu raises many kinds when the broker is unreachable
        logger.warning("Could not enqueue signing request %s; the sweeper will retry.", request_id, exc_info=True)


def enqueue_verification(blob_sha256: str) -> None:
    try:
        verify_file.delay(blob_sha256)
    except Exception:  # noqa: BLE001
        logger.warning("Could not enqueue verification of %s; the sweeper will retry.", blob_sha256, exc_info=True)
