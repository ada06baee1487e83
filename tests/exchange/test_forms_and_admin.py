"""Picking recipients for the exchange in the forms (recipient agencies and, for internal documents, units
of the own agency, as checkboxes), and the read-only admin of deliveries scoped to the administrator's
agencies."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import roles
from exchange.models import Delivery, StatusCode
from tests.exchange.helpers import delivery_to, issue, province
from tests.factories import doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db


def test_an_internal_document_registered_through_the_form_goes_to_the_units_ticked(
        client, django_capture_on_commit_callbacks):
    p = province()
    client.force_login(p.sender_clerk)
    page = client.get(reverse("documents:register_outgoing")).content.decode()
    assert f'name="recipient_units" value="{p.unit.pk}"' in page and 'type="checkbox"' in page
    form = {"document_type": doc_type("thong-bao").pk, "subject": "Thông báo lịch họp", "urgency": 0,
            "confidentiality": 0, "recipient_units": [p.unit.pk]}
    response = client.post(reverse("documents:register_outgoing"), {**form, "files": [
        SimpleUploadedFile("tb.pdf", make_pdf())]})
    assert response.status_code == 400  # units receive internal documents only
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents:register_outgoing"), {**form, "internal": "on", "files": [
            SimpleUploadedFile("tb.pdf", make_pdf())]})
    assert response.status_code == 302
    delivery = Delivery.objects.get(recipient_unit=p.unit)
    assert delivery.status == StatusCode.ARRIVED and delivery.recipient_agency_id == p.sender.pk


def test_the_draft_form_stores_recipient_agencies_and_units():
    from django.test import Client

    from workflows.drafting import Draft

    p = province()
    drafter = Client()
    drafter.force_login(p.unit_staff)
    page = drafter.get("/work/drafts/new/").content.decode()
    assert f'name="recipient_agencies" value="{p.recipient.pk}"' in page
    assert f'name="recipient_agencies" value="{p.sender.pk}"' not in page  # not to itself
    from tests.exchange.helpers import pdf_upload

    response = drafter.post("/work/drafts/new/", {
        "document_type": doc_type("cong-van").pk, "subject": "Về việc phối hợp", "urgency": 0, "confidentiality": 0,
        "recipient_agencies": [p.recipient.pk], "recipient_units": [p.unit.pk], "internal": "on",
        "recipients": "Lưu: VT", "file": pdf_upload(),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = Draft.objects.get(subject="Về việc phối hợp")
    assert draft.recipients == [{"agency_id": p.recipient.pk, "name": p.recipient.name},
                                {"unit_id": p.unit.pk, "name": p.unit.name}, {"name": "Lưu: VT"}]


def test_the_admin_shows_deliveries_of_the_administrators_agencies_only(client, django_capture_on_commit_callbacks):
    p = province()
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(p, p.recipient)
    delivery = delivery_to(document, p.recipient)
    own = make_user(roles.ADMINISTRATOR, p.recipient, is_staff=True)
    other = make_user(roles.ADMINISTRATOR, p.third, is_staff=True)
    url = reverse("admin:exchange_delivery_change", args=[delivery.pk])
    client.force_login(own)
    listing = client.get(reverse("admin:exchange_delivery_changelist"))
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    assert client.get(url).status_code == 200
    assert b"Save" not in client.get(url).content  # read-only
    client.force_login(other)
    assert client.get(url).status_code == 404
