"""Opening or downloading a file of a confidential document is an audit event (who, when, which file), and the
document's page lists who opened its files to the owning agency's clerks and leaders only (issue 11)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import roles
from audit.models import AuditEvent
from documents import events, services
from documents.models import Confidentiality
from documents.selectors import may_see_file_openings
from tests.factories import PASSWORD, AgencyFactory, clerk, doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db


def register(user, confidentiality):
    return services.register_outgoing(
        user, services.OutgoingInput(document_type_id=doc_type().pk, subject="Kế hoạch bảo vệ bí mật",
                                     confidentiality=confidentiality),
        [SimpleUploadedFile("kh-mat.pdf", make_pdf(1))],
    )


def web(user):
    from django.test import Client

    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def opened_events(document):
    return AuditEvent.objects.filter(verb=events.DOCUMENT_FILE_OPENED, target_id=str(document.pk)).order_by("id")


@pytest.fixture
def province():
    agency = AgencyFactory(abbreviation="UBND", name="Ủy ban nhân dân tỉnh Hòa Bình")
    owner = clerk(agency, full_name="Lê Thị Văn Thư", position="Văn thư")
    document = register(owner, Confidentiality.SECRET)
    people = {
        "clerk": owner,
        "leader": make_user(roles.AGENCY_LEADER, agency, full_name="Bùi Văn Khánh", position="Chủ tịch"),
        "staff": make_user(roles.STAFF, agency, full_name="Đinh Thị Chuyên", position="Chuyên viên"),
        "other_leader": make_user(roles.AGENCY_LEADER, AgencyFactory(), full_name="Hà Văn Ngoài", position="Giám đốc"),
    }
    for name in ("leader", "staff", "other_leader"):  # a secret document: named people only, confirmed
        services.grant_document_access(owner, document, user=people[name], confirm=True)
    return {"agency": agency, "document": document, "file": document.files.get(), **people}


@pytest.mark.parametrize("level", [Confidentiality.SECRET, Confidentiality.TOP_SECRET])
def test_downloading_or_previewing_a_confidential_file_writes_an_event(province, level):
    document, doc_file, staff = province["document"], province["file"], province["staff"]
    if level != document.confidentiality:
        type(document).objects.filter(pk=document.pk).update(confidentiality=level)
    client = web(staff)
    download = client.get(reverse("documents:file_download", args=[document.pk, doc_file.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    preview = client.get(reverse("documents:file_preview", args=[document.pk, doc_file.pk]))
    assert preview.status_code == 200
    recorded = list(opened_events(document))
    assert [(e.actor_id, e.agency_id, e.target_type, e.data["via"]) for e in recorded] == [
        (staff.pk, document.agency_id, "documents.document", "download"),
        (staff.pk, document.agency_id, "documents.document", "preview"),
    ]
    assert recorded[0].data["file_id"] == doc_file.pk and recorded[0].data["file"] == "kh-mat.pdf"
    assert recorded[0].data["sha256"] == doc_file.blob.sha256


def test_downloading_through_the_api_writes_an_event(province):
    document, doc_file, leader = province["document"], province["file"], province["other_leader"]
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=leader)[0].key}")
    response = client.get(f"/api/v1/documents/{document.pk}/files/{doc_file.pk}/download/")
    assert response.status_code == 200
    (event,) = opened_events(document)
    assert (event.actor_id, event.data["via"], event.data["file_id"]) == (leader.pk, "api", doc_file.pk)


def test_files_of_a_normal_document_are_not_audited_and_refused_ones_leave_nothing(province):
    normal = register(province["clerk"], Confidentiality.NORMAL)
    client = web(province["clerk"])
    assert client.get(reverse("documents:file_download", args=[normal.pk, normal.files.get().pk])).status_code == 200
    assert not opened_events(normal).exists()
    outsider = clerk(AgencyFactory())
    document, doc_file = province["document"], province["file"]
    assert web(outsider).get(reverse("documents:file_download", args=[document.pk, doc_file.pk])).status_code == 404
    assert not opened_events(document).exists()


def test_the_page_lists_who_opened_the_files_to_the_agencys_clerks_and_leaders_only(province):
    document, doc_file = province["document"], province["file"]
    web(province["staff"]).get(reverse("documents:file_download", args=[document.pk, doc_file.pk]))
    web(province["other_leader"]).get(reverse("documents:file_preview", args=[document.pk, doc_file.pk]))
    detail = reverse("documents:detail", args=[document.pk])
    for allowed in ("clerk", "leader"):
        html = web(province[allowed]).get(detail).content.decode()
        assert 'id="file-openings"' in html and "Những người đã mở tệp" in html, allowed
        assert "Đinh Thị Chuyên" in html and "Chuyên viên" in html and "đã tải về" in html
        assert "Hà Văn Ngoài" in html and "Giám đốc" in html and "đã xem" in html
    for refused in ("staff", "other_leader"):
        response = web(province[refused]).get(detail)
        assert response.status_code == 200  # they see the document ...
        html = response.content.decode()
        assert 'id="file-openings"' not in html, refused  # ... not who opened it
        assert "mở tệp văn bản mật" not in html  # nor in its history
    assert [may_see_file_openings(province[name], document) for name in ("clerk", "leader", "staff", "other_leader")] \
        == [True, True, False, False]


def test_the_list_speaks_vietnamese_and_english(province):
    document, doc_file = province["document"], province["file"]
    web(province["staff"]).get(reverse("documents:file_download", args=[document.pk, doc_file.pk]))
    html = web(province["leader"]).get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert "Những người đã mở tệp" in html and "Người mở" in html and "Chức vụ" in html
    with translation.override("en"):
        assert gettext("Who opened its files") == "Who opened its files"
        assert str(events.LABELS[events.DOCUMENT_FILE_OPENED]) == "confidential file opened"
    with translation.override("vi"):
        assert str(events.LABELS[events.DOCUMENT_FILE_OPENED]) == "mở tệp văn bản mật"


def test_a_normal_documents_page_has_no_list(province):
    normal = register(province["clerk"], Confidentiality.NORMAL)
    html = web(province["clerk"]).get(reverse("documents:detail", args=[normal.pk])).content.decode()
    assert 'id="file-openings"' not in html


def test_the_api_lists_who_opened_the_files_to_the_same_people(province):
    document, doc_file = province["document"], province["file"]
    web(province["staff"]).get(reverse("documents:file_download", args=[document.pk, doc_file.pk]))
    url = f"/api/v1/documents/{document.pk}/file-openings/"

    def api(user):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client.get(url)

    response = api(province["leader"])
    assert response.status_code == 200
    assert [(row["name"], row["position"], row["file"], row["via"]) for row in response.json()] == [
        ("Đinh Thị Chuyên", "Chuyên viên", "kh-mat.pdf", "download")]
    assert api(province["clerk"]).status_code == 200
    assert api(province["staff"]).status_code == 403
    assert api(province["other_leader"]).status_code == 403
    assert api(clerk(AgencyFactory())).status_code == 404  # does not see the document at all
