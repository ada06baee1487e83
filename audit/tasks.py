"""The audit app's periodic task: chain events a process wrote and could not chain (it died right after its
commit); normally every commit chains its own events at once."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="audit.tasks.chain_pending", acks_late=True, ignore_result=True)
def chain_pending() -> int:
    return services.chain_all_pending()


@shared_task(name="audit.tasks.anchor_chains", acks_late=True, ignore_result=True)
def anchor_chains() -> int:
    """Daily: each chain's head into a signed (and, with a TSA, timestamped) anchor. A redelivered run finds
    the chains anchored and unchanged and writes nothing."""
    return services.anchor_all()
