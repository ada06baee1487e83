"""The embedded mode (no broker, no beat) still runs the sweepers: a file whose extraction was lost is picked
up again after a later request, and nothing runs when a broker is configured."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from documents import services as documents_services
from documents.models import DocumentFile, ExtractionStatus
from eoffice import embedded
from eoffice.celery import app
from tests.factories import AgencyFactory, clerk, doc_type, make_pdf

pytestmark = pytest.mark.django_db


def _stuck_file() -> DocumentFile:
    user = clerk(AgencyFactory())
    document = documents_services.register_outgoing(
        user, documents_services.OutgoingInput(document_type_id=doc_type().pk, subject="Về việc thử"),
        [SimpleUploadedFile("thu.pdf", make_pdf(1, "Nội dung cần tìm"))])
    stuck = document.files.get()
    # What a failed in-process extraction leaves behind: the intent row, pending, for good.
    DocumentFile.objects.filter(pk=stuck.pk).update(extraction_status=ExtractionStatus.PENDING,
                                                    uploaded_at=timezone.now() - timedelta(minutes=10))
    return stuck


def test_a_lost_extraction_is_picked_up_again_after_a_later_request(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    stuck = _stuck_file()
    interval = app.conf.beat_schedule["sweep-pending-extractions"]["schedule"]
    start = timezone.now().timestamp()
    assert embedded.run_due_maintenance(start) == []  # the process starts: the clock starts
    ran = embedded.run_due_maintenance(start + interval + 1)
    assert "documents.tasks.sweep_pending_extractions" in ran
    stuck.refresh_from_db()
    assert stuck.extraction_status == ExtractionStatus.DONE and "Nội dung cần tìm" in stuck.text
    assert embedded.run_due_maintenance(start + interval + 2) == []  # not again before its interval


def test_requests_trigger_it_only_in_the_embedded_mode(settings, client, monkeypatch):
    calls = []
    monkeypatch.setattr(embedded, "run_due_maintenance", lambda now=None: calls.append(now) or [])
    embedded.connect()
    embedded._LAST_LOOK["at"] = 0.0
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client.get("/login/")
    assert calls == []
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client.get("/login/")
    assert len(calls) == 1
