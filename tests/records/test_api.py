"""The records API (/api/v1/records/): the whole annual cycle through it with its audit trail, and the permission
rule: an object outside the caller's selector queryset is 404 (and absent from every list), a role the service
refuses is 403, a change the record's state forbids is 400."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts import roles
from audit.models import AuditEvent
from documents import services as documents_services
from documents.models import Confidentiality, Document
from records import events, services
from records.models import BagExport, JobState, RetentionPeriod, WorkFile, WorkFileState
from tests.factories import AgencyFactory, UnitFactory, clerk, doc_type, make_user
from workflows import services as workflow_services
from workflows.models import CaseState, IncomingCase

pytestmark = pytest.mark.django_db

API = "/api/v1/records"


def _incoming(user, number: str, *, day: date = date(2015, 3, 2),
              confidentiality: int = Confidentiality.NORMAL) -> Document:
    data = documents_services.IncomingInput(
        document_type_id=doc_type().pk, subject=f"Về việc điều động công chức số {number}",
        organ_name="Ủy ban nhân dân tỉnh Hòa Bình", code_number=number, code_notation="QĐ-UBND", issued_date=day,
        confidentiality=confidentiality,
    )
    return documents_services.register_incoming(user, data)


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def world():
    agency = AgencyFactory()
    unit, other_unit = UnitFactory(agency=agency, abbreviation="TCCB"), UnitFactory(agency=agency)
    keeper = clerk(agency, unit=unit)  # keeps the unit's files and registers documents
    return {
        "agency": agency, "unit": unit, "keeper": keeper,
        "archivist": make_user(roles.ARCHIVIST, agency),
        "leader": make_user(roles.AGENCY_LEADER, agency),
        "neighbour": make_user(roles.STAFF, agency, unit=other_unit),
        "foreign_archivist": make_user(roles.ARCHIVIST, AgencyFactory()),
        "document": _incoming(keeper, "12"),
    }


def _closed_file(world, notation: str = "02.TCCB", *, years: int | None = 10) -> WorkFile:
    """A closed file of the keeper's unit holding the world's document, built through the services."""
    keeper = world["keeper"]
    work_file = services.open_ad_hoc(keeper, services.WorkFileInput(
        title="Hồ sơ nâng lương năm 2015", file_notation=notation, start_date=date(2015, 1, 5),
        retention_years=years, permanent=years is None,
    ))
    services.add_document(keeper, work_file, world["document"])
    return services.close_work_file(keeper, work_file)


def _verbs() -> list[str]:
    return list(AuditEvent.objects.filter(verb__startswith="records.").order_by("id").values_list("verb", flat=True))


def test_the_annual_cycle_through_the_api(world):
    keeper, archivist, leader = world["keeper"], client_for(world["archivist"]), client_for(world["leader"])
    as_keeper = client_for(keeper)
    secret = _incoming(keeper, "13", day=date(2015, 2, 1), confidentiality=Confidentiality.SECRET)

    # The archivist writes the 2015 catalogue, and publishes it as approved by the head.
    response = archivist.post(f"{API}/catalogues/", {"year": 2015}, format="json")
    assert response.status_code == 201, response.json()
    catalogue = response.json()["id"]
    heading = archivist.post(f"{API}/catalogues/{catalogue}/headings/",
                             {"title": "Tổ chức cán bộ", "abbreviation": "tccb"}, format="json").json()
    assert heading["abbreviation"] == "TCCB"
    response = archivist.post(f"{API}/catalogues/{catalogue}/entries/", {
        "heading": heading["id"], "title": "Hồ sơ điều động công chức", "retention_years": 5,
        "unit": world["unit"].pk, "responsible": keeper.pk}, format="json")
    assert response.status_code == 201, response.json()
    entry = response.json()
    assert entry["file_notation"] == "01.TCCB" and entry["retention_years"] == 5
    assert as_keeper.get(f"{API}/catalogues/{catalogue}/").status_code == 404  # a draft: record keepers only
    response = archivist.post(f"{API}/catalogues/{catalogue}/publish/", {"approved_by_name": "Nguyễn Văn Giám"},
                              format="json")
    assert response.status_code == 200 and response.json()["state"] == "published"
    detail = as_keeper.get(f"{API}/catalogues/{catalogue}/").json()
    assert [e["file_notation"] for e in detail["entries"]] == ["01.TCCB"] and len(detail["headings"]) == 1

    # The keeper opens the planned file and links two documents into it.
    response = as_keeper.post(f"{API}/files/from-catalogue/", {"entry": entry["id"], "start_date": "05/01/2015"},
                              format="json")
    assert response.status_code == 201, response.json()
    work_file = response.json()
    assert (work_file["FileNotation"], work_file["FileCatalog"], work_file["state"]) == ("01.TCCB", 2015, "open")
    assert work_file["FileCode"] == f"{world['agency'].organ_id}.2015.01.TCCB"
    url = f"{API}/files/{work_file['id']}/"
    for document in (world["document"], secret):
        response = as_keeper.post(f"{url}documents/", {"document": document.pk}, format="json")
        assert response.status_code == 201, response.json()
    assert as_keeper.post(f"{url}documents/", {"document": secret.pk}, format="json").status_code == 400  # twice
    mine = as_keeper.get(url).json()
    assert [(d["DocOrdinal"], d["CodeNumber"]) for d in mine["documents"]] == [(1, "13"), (2, "12")]
    theirs = archivist.get(url).json()  # the archivist may not open the secret document: counted, not shown
    assert [d["CodeNumber"] for d in theirs["documents"]] == ["12"] and theirs["hidden_documents"] == 1

    response = as_keeper.post(f"{url}close/")
    assert response.status_code == 200, response.json()
    closed = response.json()
    assert (closed["state"], closed["EndDate"], closed["DocTotal"]) == ("closed", "2015-03-02", 2)
    assert closed["transfer_due"] == "2016-03-02" and closed["held_until"] is None and "fixity" in closed
    assert [row["file"]["id"] for row in as_keeper.get(f"{API}/due/").json()["results"]] == [work_file["id"]]

    # Transfer to the archive; the archivist receives it, and the archive lists the file.
    response = as_keeper.post(f"{API}/transfers/", {"files": [work_file["id"]], "note": "Nộp lưu năm 2016"},
                              format="json")
    assert response.status_code == 201, response.json()
    transfer = response.json()
    assert [f["id"] for f in transfer["files"]] == [work_file["id"]] and transfer["state"] == "submitted"
    assert [(t["id"], t["file_count"]) for t in as_keeper.get(f"{API}/transfers/").json()["results"]] == [
        (transfer["id"], 1)]
    assert as_keeper.post(f"{API}/transfers/{transfer['id']}/receive/").status_code == 403
    response = archivist.post(f"{API}/transfers/{transfer['id']}/receive/")
    assert response.status_code == 200 and response.json()["state"] == "received"
    archive = archivist.get(f"{API}/archive/", {"year": 2015, "q": "điều động"}).json()
    assert [(f["id"], f["state"]) for f in archive["results"]] == [(work_file["id"], "archived")]
    assert as_keeper.get(f"{API}/due/").json()["results"] == []

    # Its 5 years ended in 2020: the archivist proposes it, the head decides, the archivist destroys it.
    response = archivist.post(f"{API}/dispositions/", {"files": [work_file["id"]]}, format="json")
    assert response.status_code == 201, response.json()
    disposition = response.json()
    item = disposition["items"][0]
    assert item["work_file"] == work_file["id"] and item["retention_ends"] == "2020-03-02"
    decide = f"{API}/dispositions/{disposition['id']}/decide/"
    decision = {"decisions": [{"item": item["id"], "destroy": True}]}
    assert archivist.post(decide, decision, format="json").status_code == 403  # only the head decides
    assert archivist.post(f"{API}/dispositions/{disposition['id']}/execute/").status_code == 400  # not decided
    response = leader.post(decide, decision, format="json")
    assert response.status_code == 200 and response.json()["items"][0]["decision"] == "destroy"
    response = archivist.post(f"{API}/dispositions/{disposition['id']}/execute/")
    assert response.status_code == 200, response.json()
    executed = response.json()
    assert executed["state"] == "executed" and executed["destroyed"]["files"][0]["file_notation"] == "01.TCCB"
    assert archivist.get(url).json()["state"] == WorkFileState.DESTROYED

    assert _verbs() == [
        events.CATALOGUE_CREATED, events.CATALOGUE_CHANGED, events.CATALOGUE_CHANGED, events.CATALOGUE_PUBLISHED,
        events.FILE_OPENED, events.FILE_DOCUMENT_ADDED, events.FILE_DOCUMENT_ADDED, events.FILE_CLOSED,
        events.TRANSFER_SUBMITTED, events.TRANSFER_RECEIVED,
        events.DISPOSITION_PROPOSED, events.DISPOSITION_DECIDED, events.DISPOSITION_EXECUTED,
    ]
    actors = dict(AuditEvent.objects.filter(verb__in=[events.CATALOGUE_PUBLISHED, events.FILE_CLOSED,
                                                      events.DISPOSITION_DECIDED]).values_list("verb", "actor_id"))
    assert actors == {events.CATALOGUE_PUBLISHED: world["archivist"].pk, events.FILE_CLOSED: keeper.pk,
                      events.DISPOSITION_DECIDED: world["leader"].pk}


def test_another_units_staff_neither_finds_nor_reaches_a_file(world, django_assert_max_num_queries):
    work_file = _closed_file(world)
    _closed_file(world, "04.TCCB", years=None)
    neighbour, keeper = client_for(world["neighbour"]), client_for(world["keeper"])
    url = f"{API}/files/{work_file.pk}/"
    assert neighbour.get(url).status_code == 404
    assert neighbour.post(f"{url}hold-back/", {"until": "2017-01-01", "reason": "x"}, format="json").status_code == 404
    assert neighbour.post(f"{API}/transfers/", {"files": [work_file.pk]}, format="json").status_code == 400
    for path in ("files/", "due/", "archive/", "transfers/"):
        assert neighbour.get(f"{API}/{path}").json()["results"] == [], path
    # The keeper finds it, with the list's filters.
    finds = [{"state": "closed"}, {"year": 2015}, {"q": "nâng lương"}, {"q": "02.tc"}, {"retention": "10"},
             {"unit": world["unit"].pk}]
    misses = [{"state": "open"}, {"year": 2016}, {"unit": world["neighbour"].unit_id}, {"q": "khác"}]
    for query in finds + misses:
        found = [f["id"] for f in keeper.get(f"{API}/files/", {**query, "retention": query.get("retention", "10")})
                 .json()["results"]]
        assert found == ([work_file.pk] if query in finds else []), query
    permanent = keeper.get(f"{API}/files/", {"retention": "permanent"}).json()["results"]
    assert [f["FileNotation"] for f in permanent] == ["04.TCCB"]
    with django_assert_max_num_queries(2):  # the count and the page, however many files (roles read above)
        assert keeper.get(f"{API}/files/").json()["count"] == 2
    assert keeper.get(f"{API}/files/", {"retention": "forever"}).status_code == 400


def test_another_agencys_archivist_sees_nothing(world):
    work_file = _closed_file(world)
    archivist = world["archivist"]
    catalogue = services.create_catalogue(archivist, world["agency"].pk, 2016)
    transfer = services.submit_transfer(world["keeper"], [work_file])
    foreign = client_for(world["foreign_archivist"])
    for path in ("files/", "archive/", "due/", "catalogues/", "transfers/", "dispositions/", "hold-backs/"):
        body = foreign.get(f"{API}/{path}").json()
        assert body["results"] == [], path
    assert foreign.get(f"{API}/files/{work_file.pk}/").status_code == 404
    assert foreign.get(f"{API}/catalogues/{catalogue.pk}/").status_code == 404
    assert foreign.post(f"{API}/catalogues/{catalogue.pk}/publish/", {"approved_by_name": "X"},
                        format="json").status_code == 404
    assert foreign.post(f"{API}/transfers/{transfer.pk}/receive/").status_code == 404
    assert foreign.post(f"{API}/files/{work_file.pk}/export/").status_code == 404
    assert foreign.post(f"{API}/dispositions/", {"files": [work_file.pk]}, format="json").status_code == 400


def test_staff_cannot_publish_or_create_a_catalogue(world):
    archivist = world["archivist"]
    catalogue = services.create_catalogue(archivist, world["agency"].pk, 2016)
    heading = services.add_heading(archivist, catalogue, title="Tổ chức cán bộ", abbreviation="TCCB")
    services.add_entry(archivist, catalogue, services.EntryInput(title="Hồ sơ", heading=heading, permanent=True))
    staff = client_for(world["neighbour"])
    publish = f"{API}/catalogues/{catalogue.pk}/publish/"
    assert staff.post(publish, {"approved_by_name": "X"}, format="json").status_code == 404  # a draft: not theirs
    services.publish_catalogue(archivist, catalogue, approved_by_name="Nguyễn Văn Giám")
    response = staff.post(publish, {"approved_by_name": "X"}, format="json")
    assert response.status_code == 403 and response.json()["message"]
    assert staff.post(f"{API}/catalogues/", {"year": 2017}, format="json").status_code == 403
    # Published: the archivist can no longer add to it either (400, nothing changed).
    response = client_for(archivist).post(f"{API}/catalogues/{catalogue.pk}/headings/",
                                          {"title": "Khác", "abbreviation": "K"}, format="json")
    assert response.status_code == 400 and response.json()["message"]
    assert _verbs().count(events.CATALOGUE_PUBLISHED) == 1


def test_closing_waits_for_handling_and_nobody_adds_to_a_closed_file(world):
    keeper = world["keeper"]
    work_file = services.open_ad_hoc(keeper, services.WorkFileInput(
        title="Hồ sơ tiếp nhận", file_notation="03.TCCB", start_date=date(2015, 1, 5), retention_years=10))
    services.add_document(keeper, work_file, world["document"])
    case = workflow_services.open_case(keeper, world["document"])
    url = f"{API}/files/{work_file.pk}/"
    response = client_for(keeper).post(f"{url}close/")
    assert response.status_code == 400 and "12/QĐ-UBND" in response.json()["message"]
    IncomingCase.objects.filter(pk=case.pk).update(state=CaseState.COMPLETED)
    assert client_for(keeper).post(f"{url}close/").status_code == 200
    other = _incoming(keeper, "20")
    for user in (keeper, world["archivist"]):
        client = client_for(user)
        response = client.post(f"{url}documents/", {"document": other.pk}, format="json")
        assert response.status_code == 400 and response.json()["message"], user
        assert client.delete(f"{url}documents/{world['document'].pk}/").status_code == 400
        assert client.patch(url, {"title": "Khác"}, format="json").status_code == 400
    assert WorkFile.objects.get(pk=work_file.pk).items.count() == 1
    assert _verbs().count(events.FILE_DOCUMENT_ADDED) == 1


def test_hold_back_requested_by_the_unit_and_decided_by_the_head(world):
    work_file = _closed_file(world)
    keeper, leader, neighbour = (client_for(world[k]) for k in ("keeper", "leader", "neighbour"))
    response = keeper.post(f"{API}/files/{work_file.pk}/hold-back/", {"until": "2099-01-01", "reason": "Cần tra cứu"},
                           format="json")
    assert response.status_code == 400  # more than two years past the deadline
    response = keeper.post(f"{API}/files/{work_file.pk}/hold-back/", {"until": "2017-06-30", "reason": "Cần tra cứu"},
                           format="json")
    assert response.status_code == 201, response.json()
    hold = response.json()["id"]
    assert keeper.get(f"{API}/due/").json()["results"][0]["pending_hold_back"] == hold
    assert neighbour.get(f"{API}/hold-backs/").json()["results"] == []
    assert neighbour.post(f"{API}/hold-backs/{hold}/decide/", {"approve": True}, format="json").status_code == 404
    assert [h["id"] for h in leader.get(f"{API}/hold-backs/").json()["results"]] == [hold]
    assert leader.post(f"{API}/hold-backs/{hold}/decide/", {"approve": False}, format="json").status_code == 400
    response = leader.post(f"{API}/hold-backs/{hold}/decide/", {"approve": True}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "approved"
    assert keeper.get(f"{API}/files/{work_file.pk}/").json()["held_until"] == "2017-06-30"
    assert _verbs()[-2:] == [events.HOLD_BACK_REQUESTED, events.HOLD_BACK_DECIDED]


def test_export_is_the_requesters_alone_and_its_download_is_audited(world):
    work_file = _closed_file(world)
    keeper, archivist = client_for(world["keeper"]), client_for(world["archivist"])
    response = keeper.post(f"{API}/files/{work_file.pk}/export/")
    assert response.status_code == 202, response.json()
    job = response.json()
    assert job["state"] == "queued" and job["download_url"] is None
    assert job["status_url"].endswith(f"{API}/exports/{job['id']}/")
    assert keeper.get(job["status_url"]).json()["id"] == job["id"]
    assert archivist.get(job["status_url"]).status_code == 404  # sees the file, not another's export
    download = f"{API}/exports/{job['id']}/download/"
    assert keeper.get(download).status_code == 409
    export = BagExport.objects.get(pk=job["id"])
    export.file.save("bag.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18), save=False)
    export.state = JobState.DONE
    export.save()
    assert archivist.get(download).status_code == 404
    response = keeper.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"PK")
    assert response["Content-Type"] == "application/zip"
    assert _verbs()[-2:] == [events.EXPORT_REQUESTED, events.EXPORT_DOWNLOADED]


def test_import_upload_is_for_record_keepers_and_followed_by_its_requester(world):
    def upload(name: str = "ho-so.zip") -> dict:
        return {"file": SimpleUploadedFile(name, b"PK\x05\x06" + b"\0" * 18, content_type="application/zip")}

    keeper, archivist = client_for(world["keeper"]), client_for(world["archivist"])
    assert keeper.post(f"{API}/imports/", upload(), format="multipart").status_code == 403
    assert archivist.post(f"{API}/imports/", upload("ho-so.tar"), format="multipart").status_code == 400
    response = archivist.post(f"{API}/imports/", upload(), format="multipart")
    assert response.status_code == 202, response.json()
    job = response.json()
    assert job["state"] == "queued" and job["original_name"] == "ho-so.zip"
    assert archivist.get(job["status_url"]).json()["id"] == job["id"]
    assert keeper.get(job["status_url"]).status_code == 404
    assert _verbs() == [events.IMPORT_REQUESTED]


def test_retention_table_is_read_by_all_and_edited_by_archivists(world):
    staff, archivist = client_for(world["neighbour"]), client_for(world["archivist"])
    row = {"code": "TEST.1", "title": "Hồ sơ thử", "years": 10, "source": "Thông tư 10/2022/TT-BNV"}
    assert staff.post(f"{API}/retention/", row, format="json").status_code == 403
    assert archivist.post(f"{API}/retention/", {**row, "years": 500}, format="json").status_code == 400
    response = archivist.post(f"{API}/retention/", row, format="json")
    assert response.status_code == 201, response.json()
    period = response.json()["id"]
    assert archivist.post(f"{API}/retention/", row, format="json").status_code == 400  # the code is taken
    assert staff.patch(f"{API}/retention/{period}/", {"years": None}, format="json").status_code == 403
    response = archivist.patch(f"{API}/retention/{period}/", {"years": None}, format="json")
    assert response.status_code == 200 and response.json()["years"] is None
    assert RetentionPeriod.objects.get(pk=period).years is None
    assert period in [r["id"] for r in staff.get(f"{API}/retention/").json()]
    saved = AuditEvent.objects.filter(verb=events.RETENTION_SAVED).order_by("id")
    assert [e.data["changed"] for e in saved] == [[], ["years"]]
