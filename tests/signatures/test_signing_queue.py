"""Signing goes through Redis to a worker that consumes the `signing` queue; a broker that is down loses
nothing (the request stays queued and the sweeper publishes it again)."""

from __future__ import annotations

import json
import time

import pytest

from signatures import tasks
from signatures.models import SigningRequest, SigningState
from tests.factories import PASSWORD
from tests.test_celery import app, using_broker
from workflows import draft_signing
from workflows.drafting import DraftState

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def committed_setup(reference_data, superuser_actor):
    """The draft of `signed_setup`, committed for real so that a worker thread sees it."""
    from tests.signatures.conftest import make_signed_setup

    return make_signed_setup(superuser_actor)


def test_signing_request_goes_through_the_signing_queue_to_a_worker(redis_url, committed_setup):
    import redis
    from celery.contrib.testing.worker import start_worker

    o, draft = committed_setup
    client = redis.Redis.from_url(redis_url)
    client.delete("signing", "default", "unacked", "unacked_index")
    try:
        with using_broker(redis_url):
            request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)  # autocommit
            message = json.loads(client.lindex("signing", 0))
            assert client.llen("signing") == 1
            assert (message["headers"]["task"], message["headers"]["argsrepr"]) == ("signatures.tasks.sign",
                                                                                   f"({request.pk},)")
            with start_worker(app, pool="solo", queues=["signing"], perform_ping_check=False, loglevel="WARNING",
                              shutdown_timeout=30):
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    request.refresh_from_db()
                    if request.state in (SigningState.DONE, SigningState.FAILED):
                        break
                    time.sleep(0.1)
        assert request.state == SigningState.DONE, request.error
        draft.refresh_from_db()
        assert draft.state == DraftState.SIGNED
        assert client.llen("signing") == 0 and client.hlen("unacked") == 0
    finally:
        client.delete("signing", "default", "unacked", "unacked_index")


def test_broker_down_keeps_the_request_and_the_sweeper_publishes_it_again(committed_setup, monkeypatch):
    o, draft = committed_setup
    with using_broker("redis://127.0.0.1:1/0"):  # nothing listens there
        monkeypatch.setattr(app.conf, "broker_connection_timeout", 0.5, raising=False)
        monkeypatch.setattr(app.conf, "broker_connection_max_retries", 0, raising=False)
        request = draft_signing.request_personal_signature(o.leader, draft, password=PASSWORD)
    request.refresh_from_db()
    assert request.state == SigningState.QUEUED  # the click was accepted; the intent is stored
    SigningRequest.objects.filter(pk=request.pk).update(created_at=request.created_at.replace(year=2020))
    published = []
    monkeypatch.setattr(tasks, "enqueue_signing", published.append)
    monkeypatch.setattr(tasks, "enqueue_verification", lambda sha: None)
    assert tasks.sweep() >= 1 and published == [request.pk]
