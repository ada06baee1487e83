"""Web pages of the registry: registration forms, list filters, detail, files, and what each role sees."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from audit.models import AuditEvent
from documents import events, services
from documents.models import Confidentiality, Document, Urgency
from tests.factories import PASSWORD, AgencyFactory, UnitFactory, clerk, doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def register(user, **overrides) -> Document:
    values = {"document_type_id": doc_type().pk, "subject": "Quyết định về việc thành lập tổ công tác"}
    values.update(overrides)
    return services.register_outgoing(user, services.OutgoingInput(**values))


@pytest.fixture
def agency():
    return AgencyFactory(abbreviation="UBND", name="Ủy ban nhân dân tỉnh Hòa Bình")


def test_clerk_registers_outgoing_through_the_form(client, agency, django_capture_on_commit_callbacks):
    user = clerk(agency)
    unit = UnitFactory(agency=agency, abbreviation="VP")
    recipient = AgencyFactory(name="Sở Nội vụ")
    login(client, user)
    assert client.get(reverse("documents:register_outgoing")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents:register_outgoing"), {
            "document_type": doc_type("cong-van").pk, "subject": "V/v báo cáo tình hình", "drafting_unit": unit.pk,
            "signer_position": "Chủ tịch", "signer_name": "Bùi Văn Khánh", "authority_prefix": "KT.",
            "urgency": Urgency.URGENT, "confidentiality": 0, "recipient_agencies": [recipient.pk],
            "recipient_places": "Như trên;\nLưu: VT, VP.", "issued_amount": 5,
            "files": [SimpleUploadedFile("cv.pdf", make_pdf(2))],
        })
    document = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("documents:detail", args=[document.pk])
    assert document.number_notation == "01/UBND-VP"
    assert [r.name for r in document.recipients.all()] == ["Sở Nội vụ", "Như trên;", "Lưu: VT, VP."]
    assert document.page_amount == 2
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "01/UBND-VP" in html and "cv.pdf" in html and "THƯỢNG KHẨN" not in html and "KHẨN" in html


def test_refused_file_is_explained_and_nothing_saved(client, agency):
    login(client, clerk(agency))
    response = client.post(reverse("documents:register_outgoing"), {
        "document_type": doc_type().pk, "subject": "Quyết định", "urgency": 0, "confidentiality": 0,
        "files": [SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 this is an executable")],
    })
    assert response.status_code == 400
    assert "fake.pdf" in response.content.decode()
    assert Document.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_incoming_duplicate_is_warned_then_confirmed(client, agency):
    login(client, clerk(agency))
    data = {
        "organ_name": "Bộ Nội vụ", "document_type": doc_type("cong-van").pk, "code_number": "12",
        "code_notation": "BNV-VP", "issued_date": timezone.localdate().isoformat(), "subject": "V/v tuyển dụng",
        "urgency": 0, "confidentiality": 0,
    }
    assert client.post(reverse("documents:register_incoming"), data).status_code == 302
    warned = client.post(reverse("documents:register_incoming"), data)
    assert warned.status_code == 400 and 'id="duplicate-warning"' in warned.content.decode()
    assert Document.objects.count() == 1
    live = client.get(reverse("documents:check_duplicates"), {"code_number": "12", "code_notation": "bnv-vp", "organ_name": "Bộ Nội vụ"})
    assert len(live.json()["duplicates"]) == 1
    confirmed = client.post(reverse("documents:register_incoming"), {**data, "confirm_duplicate": "on"})
    assert confirmed.status_code == 302
    assert sorted(Document.objects.values_list("register_number", flat=True)) == [1, 2]


@pytest.mark.parametrize("role", [roles.STAFF, roles.UNIT_LEADER, roles.AGENCY_LEADER, roles.ARCHIVIST])
def test_roles_without_registration_rights_get_403(client, agency, role):
    login(client, make_user(role, agency))
    assert client.get(reverse("documents:register_outgoing")).status_code == 403
    assert client.post(reverse("documents:register_incoming"), {}).status_code == 403
    assert client.get(reverse("documents:check_duplicates")).status_code == 403


@pytest.mark.parametrize("role", [roles.STAFF, roles.UNIT_LEADER, roles.AGENCY_LEADER, roles.CLERK, roles.ARCHIVIST])
def test_each_role_sees_own_agency_but_nothing_of_another(client, agency, role):
    mine = register(clerk(agency), subject="Văn bản của tỉnh")
    other_agency = AgencyFactory()
    theirs = register(clerk(other_agency), subject="Văn bản của sở khác")
    secret = register(clerk(agency), subject="Văn bản mật", confidentiality=Confidentiality.SECRET)
    login(client, make_user(role, agency))
    listing = client.get(reverse("documents:list")).content.decode()
    assert "Văn bản của tỉnh" in listing
    assert "Văn bản của sở khác" not in listing and "Văn bản mật" not in listing
    assert client.get(reverse("documents:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("documents:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("documents:detail", args=[secret.pk])).status_code == 404


def test_person_without_role_sees_only_grants(client, agency):
    document = register(clerk(agency))
    nobody = make_user(None, agency)
    login(client, nobody)
    assert client.get(reverse("documents:detail", args=[document.pk])).status_code == 404
    assert document.subject not in client.get(reverse("documents:list")).content.decode()


def test_clerk_shares_a_secret_document_with_a_person_of_another_agency(client, agency):
    owner = clerk(agency)
    secret = register(owner, subject="Kế hoạch mật", confidentiality=Confidentiality.SECRET)
    outsider = make_user(roles.STAFF, AgencyFactory())
    login(client, outsider)
    assert client.get(reverse("documents:detail", args=[secret.pk])).status_code == 404
    client.logout()
    login(client, owner)
    response = client.post(reverse("documents:detail", args=[secret.pk]), {"username": outsider.username})
    assert response.status_code == 400 and 'id="grant-confirmation"' in response.content.decode()
    assert not AuditEvent.objects.filter(verb=events.DOCUMENT_ACCESS_GRANTED, target_id=str(secret.pk)).exists()
    response = client.post(reverse("documents:detail", args=[secret.pk]),
                           {"username": outsider.username, "confirm": "on"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(verb=events.DOCUMENT_ACCESS_GRANTED, target_id=str(secret.pk)).count() == 1
    client.logout()
    login(client, outsider)
    assert client.get(reverse("documents:detail", args=[secret.pk])).status_code == 200
    assert "Kế hoạch mật" in client.get(reverse("documents:list")).content.decode()


def test_staff_cannot_share(client, agency):
    document = register(clerk(agency))
    staff = make_user(roles.STAFF, agency)
    login(client, staff)
    client.post(reverse("documents:detail", args=[document.pk]), {"username": staff.username})
    assert not AuditEvent.objects.filter(verb=events.DOCUMENT_ACCESS_GRANTED).exists()


def test_list_filters(client, agency):
    user = clerk(agency)
    register(user, subject="Kế hoạch phòng chống thiên tai", urgency=Urgency.EXPRESS)
    register(user, subject="Thông báo lịch họp", document_type_id=doc_type("thong-bao").pk)
    login(client, user)

    def subjects(**params):
        return client.get(reverse("documents:list"), params).content.decode()

    html = subjects(q="THIÊN TAI")
    assert "Kế hoạch phòng chống thiên tai" in html and "Thông báo lịch họp" not in html
    html = subjects(document_type=doc_type("thong-bao").pk)
    assert "Thông báo lịch họp" in html and "thiên tai" not in html
    html = subjects(urgency=Urgency.EXPRESS)
    assert "thiên tai" in html and "lịch họp" not in html
    html = subjects(q="02/TB-UBND")
    assert "lịch họp" in html
    html = subjects(date_from="2000-01-01", date_to="2000-12-31")
    assert "lịch họp" not in html and "thiên tai" not in html


def test_list_query_count_is_constant(client, agency, django_assert_max_num_queries):
    user = clerk(agency)
    for _ in range(3):
        register(user)
    login(client, user)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("documents:list"))
    for _ in range(30):
        register(user)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("documents:list"))
    assert len(many) == len(few)


def test_file_download_preview_and_integrity(client, agency):
    user = clerk(agency)
    document = services.register_outgoing(
        user, services.OutgoingInput(document_type_id=doc_type().pk, subject="Quyết định"),
        [SimpleUploadedFile("qd.pdf", make_pdf(1))],
    )
    doc_file = document.files.get()
    login(client, user)
    download = client.get(reverse("documents:file_download", args=[document.pk, doc_file.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    preview = client.get(reverse("documents:file_preview", args=[document.pk, doc_file.pk]))
    assert preview.status_code == 200 and "inline" in preview["Content-Disposition"]
    outsider = make_user(roles.CLERK, AgencyFactory())
    client.logout()
    login(client, outsider)
    assert client.get(reverse("documents:file_download", args=[document.pk, doc_file.pk])).status_code == 404
    client.logout()
    login(client, user)
    with default_storage.open(doc_file.blob.storage_name, "wb") as handle:
        handle.write(b"%PDF-1.4 tampered")
    damaged = client.get(reverse("documents:file_download", args=[document.pk, doc_file.pk]))
    assert damaged.status_code == 409


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("documents:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_settings_page_is_for_administrators(client, agency):
    login(client, make_user(roles.CLERK, agency))
    assert client.get(reverse("accounts:settings")).status_code == 403
    client.logout()
    admin = make_user(roles.ADMINISTRATOR, agency)
    login(client, admin)
    page = client.get(reverse("accounts:settings"))
    assert page.status_code == 200 and agency.name in page.content.decode()
    year = timezone.localdate().year + 1
    response = client.post(reverse("accounts:settings"), {"section": "registers", "agency": agency.pk,
                                                          "kind": "outgoing", "year": year})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(verb=events.REGISTER_CREATED).count() == 1
