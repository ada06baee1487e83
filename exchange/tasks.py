"""Thin Celery tasks of the exchange (queue "exchange"; the sweeper and the late flags on "maintenance").
Each is idempotent: a redelivered message finds the work done."""

from __future__ import annotations

from celery import shared_task

from eoffice.tasking import publish

from . import services


@shared_task(name="exchange.tasks.deliver")
def deliver(document_id: int) -> int:
    """Make the deliveries of one issued document arrive in their recipients' queues."""
    arrived = services.complete_arrivals(document_id)
    if arrived and services.pending_count(document_id):
        publish("exchange.tasks.deliver", document_id)  # more than one batch: carry on in a new message
    return arrived


@shared_task(name="exchange.tasks.sweep")
def sweep() -> int:
    """Re-publish the arrival of deliveries a lost message or a dead worker left behind."""
    documents = services.pending_arrivals()
    for document_id in documents:
        publish("exchange.tasks.deliver", document_id)
    return len(documents)


@shared_task(name="exchange.tasks.flag_late_registrations")
def flag_late_registrations() -> int:
    return services.flag_late_registrations()


@shared_task(name="exchange.tasks.send_package")
def send_package(message_id: int) -> str:
    """Sign and post one edXML package to another system (exchange/outbound.py): one attempt, the next one is
    the sweeper's when it is due."""
    from . import outbound

    return outbound.send(message_id)


@shared_task(name="exchange.tasks.sweep_outbound")
def sweep_outbound() -> int:
    """Publish again the packages to other systems whose next attempt is due (backoff, lost messages)."""
    from . import peers

    due = peers.due_messages()
    for message_id in due:
        publish("exchange.tasks.send_package", message_id)
    return len(due)
