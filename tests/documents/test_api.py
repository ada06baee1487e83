"""The registry's REST API: registration through services, visibility through selectors, JSON errors.

Paired tests: each permission rule is checked for the person who has it and for one who does not,
and every change is checked against the audit events it wrote."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import roles
from audit.models import AuditEvent
from documents import events, services
from documents.models import (
    Confidentiality,
    Direction,
    Document,
    DocumentFile,
    FileBlob,
    Register,
    RegisterKind,
    Urgency,
)
from tests.factories import PASSWORD, AgencyFactory, UnitFactory, clerk, doc_type, make_pdf, make_user

pytestmark = pytest.mark.django_db

PDF_BYTES = make_pdf(pages=2)
OUTGOING_URL = "/api/v1/documents/outgoing/"
INCOMING_URL = "/api/v1/documents/incoming/"
LIST_URL = "/api/v1/documents/"


def token_client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def session_client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def pdf_file(name: str = "qd.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def outgoing_payload(**overrides) -> dict:
    payload = {"document_type": doc_type().pk, "subject": "Về việc phê duyệt kế hoạch năm", "signer_name": "Bùi Văn Khánh",
               "signer_position": "Chủ tịch", "authority_prefix": "TM."}
    payload.update(overrides)
    return payload


def incoming_payload(**overrides) -> dict:
    payload = {"document_type": doc_type("cong-van").pk, "subject": "Về việc báo cáo số liệu", "organ_name": "Bộ Nội vụ",
               "code_number": "05", "code_notation": "BNV-VP", "issued_date": timezone.localdate().isoformat()}
    payload.update(overrides)
    return payload


def verbs_for(document_id: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="documents.document", target_id=str(document_id))
        .order_by("id").values_list("verb", flat=True)
    )


def listed_ids(client: APIClient, **params) -> list[int]:
    response = client.get(LIST_URL, params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def register_outgoing(user, **overrides) -> Document:
    values = {"document_type_id": doc_type().pk, "subject": "Kế hoạch cải cách hành chính"}
    values.update(overrides)
    return services.register_outgoing(user, services.OutgoingInput(**values))


# --- registration ---------------------------------------------------------------------------------


def test_clerk_registers_outgoing_with_files_by_token():
    agency = AgencyFactory(abbreviation="UBND", identifier="H10.999")
    target = AgencyFactory(name="Sở Nội vụ")
    user = clerk(agency)
    recipients = [{"agency": target.pk}, {"name": "Lưu: VT"}]
    response = token_client(user).post(
        OUTGOING_URL,
        {**outgoing_payload(), "recipients": json.dumps(recipients), "files": [pdf_file(), pdf_file("phu-luc.pdf")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    today = timezone.localdate()
    assert body["number_notation"] == "01/QĐ-UBND" and body["direction"] == Direction.OUTGOING
    assert body["identifier"] == f"H10.999,{today:%Y/%m/%d},01/QĐ-UBND"
    assert [(r["agency"], r["name"]) for r in body["recipients"]] == [(target.pk, "Sở Nội vụ"), (None, "Lưu: VT")]
    files = body["files"]
    assert [f["name"] for f in files] == ["qd.pdf", "phu-luc.pdf"] and files[0]["is_main"]
    assert files[0]["size"] == len(PDF_BYTES) and files[0]["content_type"] == "application/pdf"
    assert len(files[0]["sha256"]) == 64 and files[0]["extraction_status"] == "pending"
    assert files[0]["download_url"].endswith(f"/api/v1/documents/{body['id']}/files/{files[0]['id']}/download/")
    assert verbs_for(body["id"]) == [  # then the exchange sends it to the recipient agency (exchange/)
        events.DOCUMENT_REGISTERED_OUTGOING, events.DOCUMENT_FILE_ATTACHED, events.DOCUMENT_FILE_ATTACHED,
        "exchange.deliveries_created",
    ]
    event = AuditEvent.objects.get(verb=events.DOCUMENT_REGISTERED_OUTGOING)
    assert event.actor_id == user.pk and event.agency_id == agency.pk


def test_clerk_registers_incoming_as_json_by_session():
    agency = AgencyFactory()
    user = clerk(agency)
    response = session_client(user).post(INCOMING_URL, incoming_payload(urgency=Urgency.URGENT), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["direction"] == Direction.INCOMING and body["register_number"] == 1
    assert body["number_notation"] == "05/BNV-VP" and body["urgency"] == Urgency.URGENT
    assert body["arrival_date"] == timezone.localdate().isoformat() and body["files"] == []
    assert verbs_for(body["id"]) == [events.DOCUMENT_REGISTERED_INCOMING]


@pytest.mark.parametrize("url,payload", [(OUTGOING_URL, outgoing_payload), (INCOMING_URL, incoming_payload)])
def test_staff_cannot_register(url, payload):
    agency = AgencyFactory()
    staff = make_user(roles.STAFF, agency)
    response = token_client(staff).post(url, {**payload(), "files": [pdf_file()]}, format="multipart")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json" and response.json()["message"]
    assert Document.objects.count() == 0 and FileBlob.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_anonymous_gets_401_json():
    response = APIClient().get(LIST_URL)
    assert response.status_code == 401 and response.json()["message"]
    response = APIClient().post(OUTGOING_URL, outgoing_payload(), format="json")
    assert response.status_code == 401 and Document.objects.count() == 0


def test_session_post_without_csrf_token_is_refused():
    user = clerk(AgencyFactory())
    client = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.login(username=user.username, password=PASSWORD)
    response = client.post(OUTGOING_URL, outgoing_payload(), format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["message"]
    assert Document.objects.count() == 0


def test_non_pdf_renamed_pdf_is_refused_and_nothing_is_saved():
    user = clerk(AgencyFactory())
    fake = pdf_file("to-trinh.pdf", b"just some text, not a pdf at all")
    response = token_client(user).post(
        OUTGOING_URL, {**outgoing_payload(), "files": [pdf_file(), fake]}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["file"] == "to-trinh.pdf" and body["reason"]
    assert body["message"] == f"to-trinh.pdf: {body['reason']}"
    assert Document.objects.count() == 0 and DocumentFile.objects.count() == 0 and AuditEvent.objects.count() == 0
    assert not Register.objects.filter(last_number__gt=0).exists()


def test_invalid_input_gives_field_errors():
    agency = AgencyFactory()
    other_unit = UnitFactory()  # a unit of another agency
    client = token_client(clerk(agency))
    response = client.post(OUTGOING_URL, outgoing_payload(subject="", urgency=9), format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"subject", "urgency"} and response.json()["message"]
    # rules of the service come back as field errors too
    response = client.post(OUTGOING_URL, outgoing_payload(drafting_unit=other_unit.pk), format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"drafting_unit"}
    response = client.post(OUTGOING_URL, outgoing_payload(document_type=99999), format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"document_type"}
    response = client.post(OUTGOING_URL, outgoing_payload(recipients=[{"agency": 99999}]), format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"recipients"}
    response = client.post(OUTGOING_URL, outgoing_payload(recipients=[{}]), format="json")
    assert response.status_code == 400 and "recipients" in response.json()["errors"]
    response = client.post(INCOMING_URL, incoming_payload(signer_name="x" * 51), format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"signer_name"}
    assert Document.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_duplicate_incoming_is_409_until_confirmed():
    agency = AgencyFactory()
    user = clerk(agency)
    client = token_client(user)
    first = client.post(INCOMING_URL, incoming_payload(), format="json").json()
    response = client.post(INCOMING_URL, incoming_payload(organ_name="bộ nội vụ"), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["message"]
    assert body["duplicates"] == [
        {"id": first["id"], "number_notation": "05/BNV-VP", "organ_name": "Bộ Nội vụ", "issued_date": first["issued_date"]}
    ]
    assert Document.objects.count() == 1
    response = client.post(INCOMING_URL, incoming_payload(confirm_duplicate=True), format="json")
    assert response.status_code == 201 and response.json()["register_number"] == 2
    event = AuditEvent.objects.get(target_id=str(response.json()["id"]), verb=events.DOCUMENT_REGISTERED_INCOMING)
    assert event.data["duplicate_of"] == [first["id"]]


def test_duplicate_warning_does_not_describe_documents_the_clerk_cannot_see():
    agency = AgencyFactory()
    secret_clerk = clerk(agency)
    services.register_incoming(secret_clerk, services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Mật", organ_name="Bộ Nội vụ", code_number="05",
        code_notation="BNV-VP", confidentiality=Confidentiality.SECRET,
    ))
    response = token_client(clerk(agency)).post(INCOMING_URL, incoming_payload(), format="json")
    assert response.status_code == 409 and response.json()["duplicates"] == []


# --- visibility -----------------------------------------------------------------------------------


def test_other_agency_gets_404_and_an_empty_list():
    agency = AgencyFactory()
    owner = clerk(agency)
    document = services.register_outgoing(
        owner, services.OutgoingInput(document_type_id=doc_type().pk, subject="Nội bộ"), [pdf_file()]
    )
    doc_file = document.files.get()
    outsider = token_client(clerk(AgencyFactory()))
    for url in (f"/api/v1/documents/{document.pk}/", f"/api/v1/documents/{document.pk}/files/{doc_file.pk}/download/"):
        response = outsider.get(url)
        assert response.status_code == 404 and response.json()["message"]
    assert listed_ids(outsider) == []
    response = outsider.post(f"/api/v1/documents/{document.pk}/grants/", {"user": outsider_user_id(outsider)})
    assert response.status_code == 404
    # the owner's colleagues do see it
    colleague = token_client(make_user(roles.STAFF, agency))
    assert colleague.get(f"/api/v1/documents/{document.pk}/").status_code == 200
    assert listed_ids(colleague) == [document.pk]
    assert not AuditEvent.objects.filter(verb=events.DOCUMENT_ACCESS_GRANTED).exists()


def outsider_user_id(client: APIClient) -> int:
    return client.get("/api/v1/me/").json()["id"]


def test_secret_document_is_invisible_to_a_colleague_until_granted():
    agency = AgencyFactory()
    owner = clerk(agency)
    colleague = make_user(roles.STAFF, agency)
    secret = register_outgoing(owner, confidentiality=Confidentiality.SECRET)
    normal = register_outgoing(owner)
    owner_api, colleague_api = token_client(owner), token_client(colleague)
    detail = f"/api/v1/documents/{secret.pk}/"
    assert colleague_api.get(detail).status_code == 404
    assert listed_ids(colleague_api) == [normal.pk]

    response = owner_api.post(f"{detail}grants/", {"user": colleague.pk, "confirm": True}, format="json")
    assert response.status_code == 201 and response.json() == {"user": colleague.pk, "group": None}
    assert colleague_api.get(detail).status_code == 200
    assert set(listed_ids(colleague_api)) == {normal.pk, secret.pk}
    granted = AuditEvent.objects.get(verb=events.DOCUMENT_ACCESS_GRANTED)
    assert granted.target_id == str(secret.pk) and granted.data == {
        "user_id": colleague.pk, "group": None, "to": colleague.display_name, "user_agency_id": agency.pk,
        "other_agency": False, "confidentiality": Confidentiality.SECRET, "confirmed": True,
    }

    response = owner_api.delete(f"{detail}grants/", {"user": colleague.pk}, format="json")
    assert response.status_code == 204
    assert colleague_api.get(detail).status_code == 404
    assert verbs_for(secret.pk) == [
        events.DOCUMENT_REGISTERED_OUTGOING, events.DOCUMENT_ACCESS_GRANTED, events.DOCUMENT_ACCESS_REVOKED
    ]


def test_grant_to_a_group_and_revoke_by_query_string():
    agency = AgencyFactory()
    owner = clerk(agency)
    outsider = make_user(roles.STAFF, AgencyFactory())
    document = register_outgoing(owner)
    url = f"/api/v1/documents/{document.pk}/grants/"
    api = token_client(owner)
    assert api.post(url, {"group": roles.STAFF}, format="json").status_code == 201
    assert token_client(outsider).get(f"/api/v1/documents/{document.pk}/").status_code == 200
    assert api.delete(f"{url}?group={roles.STAFF}").status_code == 204
    assert token_client(outsider).get(f"/api/v1/documents/{document.pk}/").status_code == 404
    assert verbs_for(document.pk)[-2:] == [events.DOCUMENT_ACCESS_GRANTED, events.DOCUMENT_ACCESS_REVOKED]


def test_only_clerks_of_the_owning_agency_may_grant():
    agency = AgencyFactory()
    document = register_outgoing(clerk(agency))
    staff = make_user(roles.STAFF, agency)
    target = make_user(roles.STAFF, AgencyFactory())
    response = token_client(staff).post(f"/api/v1/documents/{document.pk}/grants/", {"user": target.pk}, format="json")
    assert response.status_code == 403 and response.json()["message"]
    owner_api = token_client(clerk(agency))
    url = f"/api/v1/documents/{document.pk}/grants/"
    assert owner_api.post(url, {"user": 99999}, format="json").status_code == 400
    assert owner_api.post(url, {"group": "No such group"}, format="json").status_code == 400
    response = owner_api.post(url, {"user": target.pk, "group": roles.STAFF}, format="json")
    assert response.status_code == 400 and response.json()["message"]
    assert not AuditEvent.objects.filter(verb=events.DOCUMENT_ACCESS_GRANTED).exists()


# --- list, filters, query count -------------------------------------------------------------------


def test_filters():
    agency = AgencyFactory()
    user = clerk(agency)
    today = timezone.localdate()
    decision = register_outgoing(user, subject="Quyết định về việc thành lập Hội đồng", urgency=Urgency.EXPRESS)
    letter = register_outgoing(user, document_type_id=doc_type("cong-van").pk, subject="Công văn đôn đốc")
    secret = register_outgoing(user, confidentiality=Confidentiality.SECRET, subject="Kế hoạch mật")
    old_incoming = services.register_incoming(user, services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Báo cáo quý", organ_name="Sở Tài chính", code_number="12",
        issued_date=today - timedelta(days=40),
    ))
    api = token_client(user)
    assert set(listed_ids(api)) == {decision.pk, letter.pk, secret.pk, old_incoming.pk}
    assert listed_ids(api)[0] == decision.pk  # most urgent first
    assert listed_ids(api, direction="incoming") == [old_incoming.pk]
    assert set(listed_ids(api, direction="outgoing")) == {decision.pk, letter.pk, secret.pk}
    assert set(listed_ids(api, document_type=doc_type("cong-van").pk)) == {letter.pk, old_incoming.pk}
    assert listed_ids(api, date_to=(today - timedelta(days=1)).isoformat()) == [old_incoming.pk]
    assert old_incoming.pk not in listed_ids(api, date_from=today.isoformat())
    assert listed_ids(api, urgency=Urgency.EXPRESS) == [decision.pk]
    assert listed_ids(api, confidentiality=Confidentiality.SECRET) == [secret.pk]
    assert listed_ids(api, register=secret.register_id) == [secret.pk]
    assert listed_ids(api, q="THÀNH LẬP hội đồng") == [decision.pk]  # case folded
    assert listed_ids(api, q="Sở Tài chính") == [old_incoming.pk]
    response = api.get(LIST_URL, {"date_from": "not-a-date", "urgency": 7})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"date_from", "urgency"}
    row = api.get(LIST_URL, {"urgency": Urgency.EXPRESS}).json()["results"][0]
    assert row["number_notation"] == decision.number_notation and row["document_type_name"] == decision.document_type.name
    assert row["url"].endswith(f"/api/v1/documents/{decision.pk}/")


def test_list_query_count_does_not_grow_with_the_number_of_documents():
    agency = AgencyFactory()
    user = clerk(agency)
    for _ in range(5):
        register_outgoing(user)
    api = token_client(user)

    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(LIST_URL, {"q": "cải cách"})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    count_queries()  # warm the per-process cache of the view permission's id
    few, listed = count_queries()
    assert listed == 5
    for _ in range(25):
        register_outgoing(user)
    many, listed = count_queries()
    assert listed == 30
    # token + user, two permission lookups, count, page: none of them per row
    assert many == few <= 5


# --- files ----------------------------------------------------------------------------------------


def test_download_is_verified_and_a_damaged_file_is_409():
    agency = AgencyFactory()
    user = clerk(agency)
    document = services.register_outgoing(
        user, services.OutgoingInput(document_type_id=doc_type().pk, subject="Có tệp"), [pdf_file()]
    )
    doc_file = document.files.select_related("blob").get()
    url = f"/api/v1/documents/{document.pk}/files/{doc_file.pk}/download/"
    api = token_client(make_user(roles.STAFF, agency))
    response = api.get(url, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert "attachment" in response["Content-Disposition"] and "qd.pdf" in response["Content-Disposition"]
    assert api.get(f"/api/v1/documents/{document.pk}/files/{doc_file.pk + 1000}/download/").status_code == 404

    # Damage the bytes at rest: the API refuses to serve them.
    name = doc_file.blob.storage_name
    damaged = bytearray(PDF_BYTES)
    damaged[len(damaged) // 2] ^= 0xFF
    default_storage.delete(name)
    default_storage.save(name, ContentFile(bytes(damaged)))
    response = api.get(url)
    assert response.status_code == 409
    assert response.json() == {"message": "Tệp lưu trữ đã bị hỏng.", "file": "qd.pdf"}


# --- document types and registers -----------------------------------------------------------------


def test_document_types_are_listed_in_order():
    response = token_client(make_user(roles.STAFF, AgencyFactory())).get("/api/v1/document-types/")
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()]
    assert len(codes) == 29 and "quyet-dinh" in codes and "cong-van" in codes


def test_registers_and_their_entries_are_for_the_agency_with_the_role():
    agency = AgencyFactory()
    user = clerk(agency)
    first, second = register_outgoing(user), register_outgoing(user, subject="Thứ hai")
    register = first.register
    register_outgoing(clerk(AgencyFactory()))  # another agency's register
    api = token_client(user)
    response = api.get("/api/v1/registers/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [register.pk]
    response = api.get(f"/api/v1/registers/{register.pk}/entries/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [first.pk, second.pk]
    assert rows[0]["register_number"] == 1 and rows[1]["subject"] == "Thứ hai"
    today = timezone.localdate()
    empty = api.get(f"/api/v1/registers/{register.pk}/entries/", {"date_to": (today - timedelta(days=1)).isoformat()})
    assert empty.json()["count"] == 0
    bad = api.get(f"/api/v1/registers/{register.pk}/entries/", {"date_from": today.isoformat(),
                                                               "date_to": (today - timedelta(days=1)).isoformat()})
    assert bad.status_code == 400 and "date_to" in bad.json()["errors"]
    # staff have no register role; other agencies do not see the register at all
    staff = token_client(make_user(roles.STAFF, agency))
    assert staff.get("/api/v1/registers/").json()["count"] == 0
    assert staff.get(f"/api/v1/registers/{register.pk}/entries/").status_code == 404
    assert token_client(clerk(AgencyFactory())).get(f"/api/v1/registers/{register.pk}/").status_code == 404


def test_only_administrators_open_registers():
    agency = AgencyFactory()
    year = timezone.localdate().year
    payload = {"agency": agency.pk, "kind": RegisterKind.OUTGOING, "year": year, "code": "HĐND",
               "name": "Sổ văn bản đi của Hội đồng"}
    response = token_client(clerk(agency)).post("/api/v1/registers/", payload, format="json")
    assert response.status_code == 403 and Register.objects.count() == 0
    admin = token_client(make_user(roles.ADMINISTRATOR, agency))
    response = admin.post("/api/v1/registers/", payload, format="json")
    assert response.status_code == 201, response.content
    register = Register.objects.get()
    assert response.json()["id"] == register.pk and register.code == "HĐND" and register.last_number == 0
    event = AuditEvent.objects.get(verb=events.REGISTER_CREATED)
    assert event.target_id == str(register.pk) and event.agency_id == agency.pk
    again = admin.post("/api/v1/registers/", payload, format="json")
    assert again.status_code == 400 and "code" in again.json()["errors"]
    assert admin.post("/api/v1/registers/", {**payload, "kind": "nope"}, format="json").status_code == 400
    assert Register.objects.count() == 1


def test_register_printout_is_recorded_and_needs_the_print_role():
    agency = AgencyFactory()
    user = clerk(agency)
    document = register_outgoing(user)
    register = document.register
    url = f"/api/v1/registers/{register.pk}/print/"
    archivist = token_client(make_user(roles.ARCHIVIST, agency))  # sees registers, may not print them
    response = archivist.get(url, {"format": "pdf"})
    assert response.status_code == 403 and response.json()["message"]
    assert not AuditEvent.objects.filter(verb=events.REGISTER_PRINTED).exists()

    api = token_client(user)
    response = api.get(url, {"format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and "attachment" in response["Content-Disposition"]
    response = api.get(url, {"format": "xlsx", "date_from": timezone.localdate().isoformat()})
    assert response.status_code == 200 and response.content.startswith(b"PK\x03\x04")
    assert ".xlsx" in response["Content-Disposition"]
    printed = list(AuditEvent.objects.filter(verb=events.REGISTER_PRINTED).order_by("id"))
    assert [(e.data["format"], e.data["rows"], e.target_id) for e in printed] == [
        ("pdf", 1, str(register.pk)), ("xlsx", 1, str(register.pk))
    ]
    response = api.get(url, {"format": "docx"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert AuditEvent.objects.filter(verb=events.REGISTER_PRINTED).count() == 2


@pytest.mark.parametrize("form_fields", [
    {"recipients": ['{"agency": AGENCY}', '{"name": "Lưu: VT"}']},  # one JSON object per field
    {"recipients[0]agency": "AGENCY", "recipients[1]name": "Lưu: VT"},  # indexed form fields
])
def test_multipart_recipients_in_other_shapes(form_fields):
    target = AgencyFactory()
    fields = {
        key: [v.replace("AGENCY", str(target.pk)) for v in value] if isinstance(value, list)
        else value.replace("AGENCY", str(target.pk))
        for key, value in form_fields.items()
    }
    response = token_client(clerk(AgencyFactory())).post(
        OUTGOING_URL, {**outgoing_payload(), **fields, "files": [pdf_file()]}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert [(r["agency"], r["name"]) for r in response.json()["recipients"]] == [(target.pk, target.name), (None, "Lưu: VT")]
