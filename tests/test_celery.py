"""Celery: every task routed to a named queue, reliable delivery settings, a real round trip through
Redis to a worker, and a dead broker that loses nothing (the sweeper re-publishes later)."""

from __future__ import annotations

import json
import logging
import os
import time
from contextlib import contextmanager
from datetime import timedelta
from importlib import import_module

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from audit.services import verify_all
from documents import events, services
from documents.models import Document, DocumentFile, ExtractionStatus
from documents.processing import requeue_stale_files
from documents.tasks import extract_file_content
from eoffice.celery import QUEUES, TASK_ROUTES, app, check_routes, unrouted_tasks
from signatures.models import FileVerification
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def project_tasks() -> dict:
    unrouted_tasks()  # imports every app's tasks module
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


# --- routing and configuration ------------------------------------------------------------------


def test_every_project_task_is_routed_to_a_named_queue():
    assert unrouted_tasks() == []
    tasks = project_tasks()
    assert {"documents.tasks.extract_file_content", "documents.tasks.sweep_pending_extractions"} <= set(tasks)
    for name in tasks:
        assert app.amqp.router.route({}, name)["queue"].name in QUEUES, name
    for name, route in TASK_ROUTES.items():
        assert name in tasks, f"route for a task that does not exist: {name}"
        assert route["queue"] in QUEUES
    assert app.amqp.router.route({}, "documents.tasks.extract_file_content")["queue"].name == "default"
    assert app.amqp.router.route({}, "documents.tasks.sweep_pending_extractions")["queue"].name == "maintenance"


def test_an_unrouted_task_is_reported_and_stops_the_worker():
    from eoffice.checks import check_task_routes

    project_tasks()  # finalise the app so the probe below registers at once

    @app.task(name="tests.unrouted_probe", shared=False)
    def probe() -> None:  # pragma: no cover - never run
        pass

    try:
        assert unrouted_tasks() == ["tests.unrouted_probe"]
        with pytest.raises(RuntimeError, match="tests.unrouted_probe"):
            check_routes()
        assert [error.id for error in check_task_routes(None)] == ["eoffice.E002"]
    finally:
        app.tasks.pop("tests.unrouted_probe", None)
    assert unrouted_tasks() == [] and check_task_routes(None) == []


def test_delivery_is_acknowledged_late_and_redelivered_soon():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_default_queue == "default"
    broker_timeout = conf.broker_transport_options["visibility_timeout"]
    assert 0 < broker_timeout < 3600
    assert 0 < conf.result_backend_transport_options["visibility_timeout"] < 3600
    for name, task in project_tasks().items():
        assert task.acks_late, name
        # A task still running when the visibility timeout ends would be delivered a second time.
        if task.time_limit:
            assert task.time_limit < broker_timeout, name
    assert extract_file_content.time_limit and extract_file_content.soft_time_limit < extract_file_content.time_limit


# --- broker switching for the tests below -------------------------------------------------------


def _reset_connections() -> None:
    from kombu import pools

    pools.reset()  # closes and forgets every pooled connection and producer (they are keyed by broker)
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def using_broker(url: str):
    """Point the project app at `url` with eager execution off; restore everything afterwards."""
    # Celery reads CELERY_BROKER_URL from the environment before its own setting: switch both.
    saved_env = os.environ.get("CELERY_BROKER_URL")
    keys = ("broker_url", "task_always_eager", "worker_hijack_root_logger")
    saved = {key: app.conf[key] for key in keys}
    _reset_connections()
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.update(broker_url=url, task_always_eager=False, worker_hijack_root_logger=False)
    try:
        yield
    finally:
        _reset_connections()
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        app.conf.update(saved)


def _register_with_pdf(text: str) -> Document:
    user = clerk(AgencyFactory())
    data = services.OutgoingInput(document_type_id=doc_type().pk, subject="Văn bản có tệp đính kèm")
    return services.register_outgoing(user, data, [SimpleUploadedFile("qd.pdf", make_pdf(pages=2, text=text))])


def _processed_count(document: Document) -> int:
    return AuditEvent.objects.filter(target_id=str(document.pk), verb=events.DOCUMENT_FILE_PROCESSED).count()


# --- a real broker ------------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_extraction_goes_through_redis_to_a_worker(redis_url):
    import redis
    from celery.contrib.testing.worker import start_worker
    from django.apps import apps

    # A transactional test may start from a flushed database: reload the document types.
    import_module("documents.migrations.0002_load_document_types").load_types(apps, None)

    client = redis.Redis.from_url(redis_url)
    client.delete("default", "unacked", "unacked_index")
    try:
        with using_broker(redis_url):
            document = _register_with_pdf("Công văn gửi qua hàng đợi")  # autocommit: published on commit
            doc_file = DocumentFile.objects.get(document=document)
            assert doc_file.extraction_status == ExtractionStatus.PENDING
            # Two messages: the text extraction, and the signature verification every stored PDF gets.
            messages = [json.loads(raw) for raw in client.lrange("default", 0, -1)]
            tasks = {m["headers"]["task"]: m["headers"]["argsrepr"] for m in messages}
            assert tasks == {"documents.tasks.extract_file_content": f"({doc_file.pk},)",
                             "signatures.tasks.verify_file": f"('{doc_file.blob_id}',)"}
            assert client.llen("maintenance") == 0

            with start_worker(app, pool="solo", queues=["default"], perform_ping_check=False,
                              loglevel="WARNING", shutdown_timeout=30):
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    doc_file.refresh_from_db()
                    verified = FileVerification.objects.filter(blob_id=doc_file.blob_id, state="done").exists()
                    if doc_file.extraction_status != ExtractionStatus.PENDING and verified:
                        break
                    time.sleep(0.1)
        doc_file.refresh_from_db()
        assert doc_file.extraction_status == ExtractionStatus.DONE
        assert doc_file.page_count == 2 and "hàng đợi" in doc_file.text
        assert client.llen("default") == 0
        assert client.hlen("unacked") == 0  # acknowledged after the work was done
        assert _processed_count(document) == 1
        assert FileVerification.objects.get(blob_id=doc_file.blob_id).verdict == "unsigned"
        assert verify_all() == []
    finally:
        client.delete("default", "unacked", "unacked_index")
        client.close()


# --- a dead broker ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_broker_down_registration_succeeds_and_the_sweeper_requeues(caplog, django_capture_on_commit_callbacks):
    with using_broker(CLOSED_PORT_BROKER):
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="eoffice.tasking"):
            with django_capture_on_commit_callbacks(execute=True):
                document = _register_with_pdf("Máy chủ hàng đợi ngừng hoạt động")
        elapsed = time.monotonic() - started
        doc_file = DocumentFile.objects.get(document=document)
        assert Document.objects.filter(pk=document.pk).exists()
        assert (doc_file.extraction_status, doc_file.extraction_attempts) == (ExtractionStatus.PENDING, 0)
        warnings = [r for r in caplog.records if r.name == "eoffice.tasking" and r.levelno == logging.WARNING
                    and "documents.tasks" in r.getMessage()]  # the PDF's verification is refused alike
        assert [r.getMessage() for r in warnings] == [
            f"Could not publish documents.tasks.extract_file_content({doc_file.pk},); the sweeper will publish it again."
        ]
        assert elapsed < 15, f"a dead broker held the request for {elapsed:.1f} s"

        # The sweeper runs while the broker is still down: the row stays pending, one more attempt counted.
        assert requeue_stale_files(older_than=timedelta(0)) == 1
        doc_file.refresh_from_db()
        assert (doc_file.extraction_status, doc_file.extraction_attempts) == (ExtractionStatus.PENDING, 1)

    # The broker is back (eager again here): the next sweep gets the file processed.
    assert requeue_stale_files(older_than=timedelta(0)) == 1
    doc_file.refresh_from_db()
    assert doc_file.extraction_status == ExtractionStatus.DONE and doc_file.page_count == 2
    assert _processed_count(document) == 1
    assert requeue_stale_files(older_than=timedelta(0)) == 0  # nothing pending any more
    assert verify_all() == []


@pytest.mark.django_db
def test_sweeper_skips_fresh_files(django_capture_on_commit_callbacks):
    with using_broker(CLOSED_PORT_BROKER):
        with django_capture_on_commit_callbacks(execute=True):
            _register_with_pdf("Mới tải lên")
    assert requeue_stale_files(older_than=timedelta(minutes=2)) == 0
    assert DocumentFile.objects.get().extraction_status == ExtractionStatus.PENDING


def test_using_broker_restores_the_configuration():
    before = (app.conf.broker_url, app.conf.task_always_eager)
    with using_broker(CLOSED_PORT_BROKER):
        assert (app.conf.broker_url, app.conf.task_always_eager) == (CLOSED_PORT_BROKER, False)
    assert (app.conf.broker_url, app.conf.task_always_eager) == before
