"""The annual records cycle through records.services and the web pages: catalogue numbering, opening and
closing files (refused while documents are in handling), the transfer deadlines (1 year; 3 months after a
capital construction settlement; none under 5 years), hold-back limits and approval, the 30-day reminder,
disposition approval and execution, and who sees what."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts import roles
from accounts.models import Agency, Unit, User
from audit.models import AuditEvent
from documents import services as documents_services
from documents.models import Document, FileBlob
from notifications.models import NoticeEvent
from records import events, printouts, selectors, services
from records.models import (
    CatalogueState,
    Disposition,
    DispositionState,
    FileCatalogue,
    HoldBack,
    RetentionPeriod,
    Transfer,
    WorkFile,
    WorkFileState,
)
from tests.factories import AgencyFactory, UnitFactory, clerk, doc_type, make_pdf, make_user
from workflows.models import CaseState, IncomingCase

pytestmark = pytest.mark.django_db


@dataclass
class Office:
    agency: Agency
    unit: Unit
    other_unit: Unit
    archivist: User
    leader: User
    chief: User
    staff: User
    outsider: User  # staff of another unit
    clerk: User


@pytest.fixture
def office() -> Office:
    agency = AgencyFactory(name="Sở Nội vụ", abbreviation="SNV", identifier="H10.05")
    unit = UnitFactory(agency=agency, name="Phòng Tổ chức cán bộ", abbreviation="TCCB")
    other = UnitFactory(agency=agency, name="Phòng Cải cách hành chính", abbreviation="CCHC")
    return Office(
        agency=agency, unit=unit, other_unit=other,
        archivist=make_user(roles.ARCHIVIST, agency, unit=unit, username="luutru"),
        leader=make_user(roles.AGENCY_LEADER, agency, username="giamdoc"),
        chief=make_user(roles.UNIT_LEADER, agency, unit=unit, username="truongphong"),
        staff=make_user(roles.STAFF, agency, unit=unit, username="chuyenvien"),
        outsider=make_user(roles.STAFF, agency, unit=other, username="khac"),
        clerk=clerk(agency, username="vanthu"),
    )


def outgoing(office: Office, subject: str = "Về việc tuyển dụng công chức", pages: int = 2) -> Document:
    return documents_services.register_outgoing(office.clerk, documents_services.OutgoingInput(
        document_type_id=doc_type().pk, subject=subject, signer_name="Xa Văn Thành", signer_position="Giám đốc",
        page_amount=pages, recipients=[documents_services.RecipientInput(name="Các phòng")],
    ), [SimpleUploadedFile("qd.pdf", make_pdf(text=subject), content_type="application/pdf")])


def incoming(office: Office, subject: str = "Công văn đề nghị báo cáo") -> Document:
    return documents_services.register_incoming(office.clerk, documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject=subject, organ_name="Bộ Nội vụ", code_number="77",
        code_notation="BNV-TCBC", issued_date=timezone.localdate(), page_amount=1,
    ), [SimpleUploadedFile("cv.pdf", make_pdf(text=subject), content_type="application/pdf")])


def published_catalogue(office: Office, year: int = 2025) -> FileCatalogue:
    catalogue = services.create_catalogue(office.archivist, office.agency.pk, year)
    heading = services.add_heading(office.archivist, catalogue, title="Tổ chức, cán bộ", abbreviation="tccb")
    sub = services.add_heading(office.archivist, catalogue, title="Tuyển dụng", parent=heading)
    period = RetentionPeriod.objects.get(code="TC.02")
    services.add_entry(office.archivist, catalogue, services.EntryInput(
        title="Hồ sơ tuyển dụng năm 2025", heading=sub, retention=period, unit=office.unit,
        responsible=office.staff))
    services.add_entry(office.archivist, catalogue, services.EntryInput(
        title="Báo cáo năm", heading=heading, permanent=True, unit=office.unit))
    return services.publish_catalogue(office.archivist, catalogue, approved_by_name="Xa Văn Thành (Giám đốc)")


def closed_file(office: Office, *, years: int | None = 10, notation: str = "05.TCCB", **extra) -> WorkFile:
    work_file = services.open_ad_hoc(office.staff, services.WorkFileInput(
        title="Hồ sơ thi đua", file_notation=notation, start_date=timezone.localdate() - timedelta(days=30),
        retention_years=years, permanent=years is None, **extra))
    services.add_document(office.staff, work_file, outgoing(office, f"Về việc thi đua {notation}"))
    return services.close_work_file(office.staff, work_file)


def verbs(target) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(target.pk), target_type=target._meta.label_lower)
                .order_by("id").values_list("verb", flat=True))


def test_catalogue_numbers_files_per_major_heading_and_is_fixed_once_published(office):
    catalogue = published_catalogue(office)
    assert list(catalogue.entries.values_list("file_notation", flat=True)) == ["01.TCCB", "02.TCCB"]
    first = catalogue.entries.get(file_notation="01.TCCB")
    assert first.retention_years == 70 and catalogue.entries.get(file_notation="02.TCCB").retention_years is None
    assert catalogue.state == CatalogueState.PUBLISHED and catalogue.approved_by_name.startswith("Xa Văn Thành")
    with pytest.raises(services.RecordsError):
        services.add_heading(office.archivist, catalogue, title="Khác", abbreviation="K")
    with pytest.raises(PermissionDenied):
        services.create_catalogue(office.staff, office.agency.pk, 2026)
    nxt = services.create_catalogue(office.archivist, office.agency.pk, 2026, copy_from=catalogue)
    assert nxt.entries.count() == 2 and nxt.headings.count() == 2 and nxt.state == CatalogueState.DRAFT
    assert nxt.entries.get(file_notation="01.TCCB").title == "Hồ sơ tuyển dụng năm 2026"
    assert verbs(catalogue)[:1] == [events.CATALOGUE_CREATED] and events.CATALOGUE_PUBLISHED in verbs(catalogue)
    # A later edit of the retention table never moves a planned file.
    RetentionPeriod.objects.filter(code="TC.02").update(years=50)
    first.refresh_from_db()
    assert first.retention_years == 70


def test_open_add_and_close_fixes_totals_and_deadline(office):
    catalogue = published_catalogue(office)
    entry = catalogue.entries.get(file_notation="01.TCCB")
    with pytest.raises(PermissionDenied):
        services.open_from_catalogue(office.outsider, entry)
    work_file = services.open_from_catalogue(office.staff, entry)
    assert work_file.creator == office.staff and work_file.retention_years == 70 and work_file.year == 2025
    later = outgoing(office, "Thông báo kết quả tuyển dụng", pages=3)
    earlier = outgoing(office, "Kế hoạch tuyển dụng", pages=2)
    Document.objects.filter(pk=earlier.pk).update(issued_date=timezone.localdate() - timedelta(days=10))
    services.add_document(office.staff, work_file, later)
    services.add_document(office.staff, work_file, earlier)
    assert list(work_file.items.order_by("ordinal").values_list("document_id", flat=True)) == [earlier.pk, later.pk]
    with pytest.raises(services.RecordsError):
        services.add_document(office.staff, work_file, later)
    # A document can sit in several files, never copied.
    other = services.open_ad_hoc(office.staff, services.WorkFileInput(
        title="Hồ sơ khác", file_notation="09.TCCB", start_date=timezone.localdate(), retention_years=5))
    services.add_document(office.staff, other, later)
    assert Document.objects.count() == 2
    work_file = services.close_work_file(office.staff, work_file)
    assert (work_file.doc_total, work_file.page_total) == (2, 5)
    assert work_file.end_date == timezone.localdate()
    assert work_file.transfer_due == work_file.end_date.replace(year=work_file.end_date.year + 1)
    with pytest.raises(services.RecordsError):
        services.add_document(office.staff, work_file, incoming(office))
    with pytest.raises(services.RecordsError):
        services.change_work_file(office.archivist, work_file, {"title": "Đổi"})
    assert verbs(work_file) == [events.FILE_OPENED, events.FILE_DOCUMENT_ADDED, events.FILE_DOCUMENT_ADDED,
                                events.FILE_CLOSED]


def test_closing_is_refused_while_a_document_is_in_handling(office):
    work_file = services.open_ad_hoc(office.staff, services.WorkFileInput(
        title="Hồ sơ", file_notation="07.TCCB", start_date=timezone.localdate(), retention_years=10))
    letter = incoming(office)
    services.add_document(office.staff, work_file, letter)
    case = IncomingCase.objects.create(document=letter, agency=office.agency, state=CaseState.IN_PROGRESS,
                                       opened_by=office.clerk)
    with pytest.raises(services.RecordsError) as refused:
        services.close_work_file(office.staff, work_file)
    assert letter.number_notation in str(refused.value)
    work_file.refresh_from_db()
    assert work_file.state == WorkFileState.OPEN and work_file.end_date is None
    case.state = CaseState.COMPLETED
    case.save()
    assert services.close_work_file(office.staff, work_file).state == WorkFileState.CLOSED


def test_transfer_deadlines(office):
    assert closed_file(office, years=4, notation="01.A").transfer_due is None  # under 5 years: stays in the unit
    permanent = closed_file(office, years=None, notation="02.A")
    assert permanent.transfer_due == permanent.end_date.replace(year=permanent.end_date.year + 1)
    settled = date(2025, 11, 30)
    capital = services.open_ad_hoc(office.staff, services.WorkFileInput(
        title="Hồ sơ công trình", file_notation="03.A", start_date=timezone.localdate(), retention_years=20,
        capital_construction=True))
    services.add_document(office.staff, capital, outgoing(office))
    with pytest.raises(services.RecordsError):
        services.close_work_file(office.staff, capital)  # needs its settlement date
    services.change_work_file(office.staff, capital, {"settlement_date": settled})
    assert services.close_work_file(office.staff, capital).transfer_due == date(2026, 2, 28)
    with pytest.raises(services.RecordsError):
        services.submit_transfer(office.staff, [WorkFile.objects.get(file_notation="01.A")])


def test_hold_back_needs_the_heads_approval_and_at_most_two_years(office):
    work_file = closed_file(office)
    due = work_file.transfer_due
    with pytest.raises(services.RecordsError):
        services.request_hold_back(office.chief, work_file, until=due + timedelta(days=2 * 366), reason="Còn dùng")
    hold = services.request_hold_back(office.chief, work_file, until=due + timedelta(days=400), reason="Còn dùng")
    with pytest.raises(PermissionDenied):
        services.decide_hold_back(office.chief, hold, approve=True)
    assert NoticeEvent.objects.filter(kind="records.hold_back_requested").count() == 1
    services.decide_hold_back(office.leader, hold, approve=True, note="Đồng ý")
    work_file.refresh_from_db()
    assert work_file.held_until == due + timedelta(days=400)
    assert selectors.effective_due(work_file) == work_file.held_until
    assert HoldBack.objects.get().decided_by == office.leader
    assert verbs(work_file)[-2:] == [events.HOLD_BACK_REQUESTED, events.HOLD_BACK_DECIDED]


def test_reminder_thirty_days_before_the_deadline_once(office):
    work_file = closed_file(office)
    due = work_file.transfer_due
    assert services.remind_transfers_due(due - timedelta(days=31)) == 0
    assert services.remind_transfers_due(due - timedelta(days=30)) == 1
    assert services.remind_transfers_due(due - timedelta(days=29)) == 0
    notice = NoticeEvent.objects.get(kind="records.transfer_due")
    assert set(notice.audience["user_ids"]) == {office.staff.pk, office.chief.pk}


def test_transfer_received_becomes_read_only_archive(office):
    work_file = closed_file(office)
    with pytest.raises(PermissionDenied):
        services.submit_transfer(office.outsider, [work_file])
    transfer = services.submit_transfer(office.chief, [work_file])
    with pytest.raises(services.RecordsError):
        services.submit_transfer(office.chief, [work_file])
    with pytest.raises(PermissionDenied):
        services.receive_transfer(office.chief, transfer)
    with pytest.raises(services.RecordsError):
        services.receive_transfer(office.archivist, transfer, paper_boxes=-1)
    services.receive_transfer(office.archivist, transfer, paper_boxes=2, shelf_metres=Decimal("0.25"))
    work_file.refresh_from_db()
    assert work_file.state == WorkFileState.ARCHIVED and work_file.archived_at
    record = "".join(page.extract_text() for page in PdfReader(io.BytesIO(
        printouts.handover_record_pdf(Transfer.objects.get()))).pages)
    assert "0,25" in record
    assert list(selectors.archive(office.archivist)) == [work_file]
    assert list(selectors.archive(office.outsider)) == []
    with pytest.raises(services.RecordsError):
        services.change_work_file(office.archivist, work_file, {"title": "Đổi"})
    assert [e for e in verbs(transfer)] == [events.TRANSFER_SUBMITTED, events.TRANSFER_RECEIVED]
    assert Transfer.objects.get().received_by == office.archivist


def _expire(work_file: WorkFile, years_ago: int = 20) -> None:
    past = work_file.end_date.replace(year=work_file.end_date.year - years_ago)
    WorkFile.objects.filter(pk=work_file.pk).update(end_date=past, start_date=past)


def test_disposition_needs_approval_never_touches_permanent_files_and_keeps_its_record(
        office, django_capture_on_commit_callbacks):
    doomed = closed_file(office, years=5, notation="01.H")
    kept = closed_file(office, years=5, notation="02.H")
    permanent = closed_file(office, years=None, notation="03.H")
    for work_file in (doomed, kept, permanent):
        _expire(work_file)
    shared_document = doomed.items.get().document
    holder = services.open_ad_hoc(office.staff, services.WorkFileInput(
        title="Giữ", file_notation="04.H", start_date=timezone.localdate(), retention_years=10))
    services.add_document(office.staff, holder, kept.items.get().document)
    doomed.refresh_from_db()
    assert {f.pk for f in selectors.expired_files(office.archivist)} == {doomed.pk, kept.pk}
    with pytest.raises(services.RecordsError):
        services.propose_disposition(office.archivist, [permanent])
    with pytest.raises(PermissionDenied):
        services.propose_disposition(office.staff, [doomed])
    disposition = services.propose_disposition(office.archivist, [doomed, kept])
    with pytest.raises(services.RecordsError):
        services.execute_disposition(office.archivist, disposition)  # no approval row yet
    items = {item.work_file_id: item for item in disposition.items.all()}
    with pytest.raises(PermissionDenied):
        services.decide_disposition(office.archivist, disposition, [])
    with pytest.raises(services.RecordsError):  # keeping needs a reason
        services.decide_disposition(office.leader, disposition, [
            services.ItemDecisionInput(items[doomed.pk].pk, destroy=True),
            services.ItemDecisionInput(items[kept.pk].pk, destroy=False, keep_until=date(2099, 1, 1))])
    services.decide_disposition(office.leader, disposition, [
        services.ItemDecisionInput(items[doomed.pk].pk, destroy=True),
        services.ItemDecisionInput(items[kept.pk].pk, destroy=False, keep_until=date(2099, 1, 1),
                                   reason="Còn giá trị tham khảo")])
    blob = shared_document.files.get().blob
    assert default_storage.exists(blob.storage_name)
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        services.execute_disposition(office.archivist, disposition)
    # Marked in the transaction, the bytes still there until the task runs after the commit.
    assert FileBlob.objects.get(pk=blob.pk).destroyed_at is not None and default_storage.exists(blob.storage_name)
    for callback in after_commit:
        callback()
    disposition.refresh_from_db()
    assert disposition.content_removed_at is not None
    doomed.refresh_from_db()
    kept.refresh_from_db()
    assert disposition.state == DispositionState.EXECUTED and disposition.decided_by == office.leader
    assert doomed.state == WorkFileState.DESTROYED and kept.state == WorkFileState.CLOSED
    assert kept.kept_until == date(2099, 1, 1)
    assert not default_storage.exists(blob.storage_name)
    assert FileBlob.objects.get(pk=blob.pk).destroyed_at is not None
    assert disposition.destroyed["files"][0]["file_notation"] == "01.H"
    assert disposition.destroyed["blobs_removed"][0]["sha256"] == blob.sha256
    assert disposition.destroyed["approved_by"] == office.leader.name_and_position
    assert verbs(disposition) == [events.DISPOSITION_PROPOSED, events.DISPOSITION_DECIDED,
                                  events.DISPOSITION_EXECUTED]
    # The kept file's document is intact; the destroyed one's page says why its file is gone.
    assert default_storage.exists(kept.items.get().document.files.get().blob.storage_name)
    client_response = _client(office.clerk).get(
        reverse("documents:file_download", args=[shared_document.pk, shared_document.files.get().pk]))
    assert client_response.status_code == 410
    assert Disposition.objects.filter(pk=disposition.pk).exists()


def test_bytes_used_by_another_record_are_not_removed(office, django_capture_on_commit_callbacks):
    doomed = closed_file(office, years=5, notation="01.H")
    _expire(doomed)
    document = doomed.items.get().document
    twin = outgoing(office, "Bản sao")  # another record using the same stored bytes
    documents_services.attach_stored_blob(office.clerk, twin, document.files.get().blob, "ban-sao.pdf")
    twin.files.exclude(blob_id=document.files.get().blob_id).delete()
    disposition = services.propose_disposition(office.archivist, [doomed])
    services.decide_disposition(office.leader, disposition, [
        services.ItemDecisionInput(disposition.items.get().pk, destroy=True)])
    with django_capture_on_commit_callbacks(execute=True):
        services.execute_disposition(office.archivist, disposition)
    blob = FileBlob.objects.get(pk=twin.files.get().blob_id)
    assert blob.destroyed_at is None and default_storage.exists(blob.storage_name)
    assert Disposition.objects.get().destroyed["blobs_kept_in_use"] == [blob.pk]


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_who_sees_which_files_on_the_web(office):
    mine = closed_file(office)
    other = services.open_ad_hoc(office.outsider, services.WorkFileInput(
        title="Hồ sơ phòng khác", file_notation="01.CCHC", start_date=timezone.localdate(), retention_years=10))
    stranger = make_user(roles.ARCHIVIST, AgencyFactory(name="Sở Tài chính", identifier="H10.06"))
    staff, outsider = _client(office.staff), _client(office.outsider)
    assert staff.get(reverse("records:file", args=[mine.pk])).status_code == 200
    assert outsider.get(reverse("records:file", args=[mine.pk])).status_code == 404
    assert _client(stranger).get(reverse("records:file", args=[mine.pk])).status_code == 404
    listing = outsider.get(reverse("records:files")).content.decode()
    assert "Hồ sơ phòng khác" in listing and "Hồ sơ thi đua" not in listing
    assert "Hồ sơ phòng khác" in _client(office.archivist).get(reverse("records:files")).content.decode()
    assert outsider.post(reverse("records:file_action", args=[mine.pk, "close"])).status_code == 404
    assert staff.post(reverse("records:file_action", args=[other.pk, "close"])).status_code == 404
    assert staff.get(reverse("records:dispositions")).status_code == 403
    assert staff.post(reverse("records:catalogues"), {"year": 2026}).status_code == 403
    assert _client(stranger).get(reverse("records:archive")).status_code == 200
    assert staff.get(reverse("records:imports")).status_code == 403


def test_pages_render_for_each_role(office):
    catalogue = published_catalogue(office)
    work_file = closed_file(office)
    transfer = services.submit_transfer(office.chief, [work_file])
    pages = [reverse("records:home"), reverse("records:catalogues"), reverse("records:catalogue", args=[catalogue.pk]),
             reverse("records:files"), reverse("records:open_file"), reverse("records:file", args=[work_file.pk]),
             reverse("records:transfers"), reverse("records:transfer", args=[transfer.pk]),
             reverse("records:archive"), reverse("records:retention")]
    for user in (office.archivist, office.staff, office.leader):
        client = _client(user)
        for url in pages:
            assert client.get(url).status_code == 200, (user.username, url)
    archivist = _client(office.archivist)
    assert archivist.get(reverse("records:dispositions")).status_code == 200
    due = closed_file(office, notation="07.TCCB")
    per_unit = archivist.get(reverse("records:transfers"), {"unit": office.other_unit.pk}).content.decode()
    assert f'data-file="{due.pk}"' not in per_unit and office.other_unit.name in per_unit
    assert f'data-file="{due.pk}"' in archivist.get(reverse("records:transfers"), {"unit": office.unit.pk}).content.decode()
    assert archivist.get(reverse("records:imports")).status_code == 200
    page = archivist.get(reverse("records:file", args=[work_file.pk])).content.decode()
    assert work_file.file_code in page and "Hồ sơ thi đua" in page


def test_add_to_work_file_from_the_document_page(office):
    work_file = services.open_ad_hoc(office.staff, services.WorkFileInput(
        title="Hồ sơ tuyển dụng", file_notation="01.TCCB", start_date=timezone.localdate(), retention_years=10))
    document = outgoing(office)
    client = _client(office.staff)
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert "Hồ sơ tuyển dụng" in page and reverse("records:add_from_document", args=[document.pk]) in page
    response = client.post(reverse("records:add_from_document", args=[document.pk]), {"file": work_file.pk})
    assert response.status_code == 302 and work_file.items.get().document == document
    # The outsider neither sees the file on the page nor can add to it.
    outsider = _client(office.outsider)
    assert "Hồ sơ tuyển dụng" not in outsider.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert outsider.post(reverse("records:add_from_document", args=[document.pk]),
                         {"file": work_file.pk}).status_code == 404


def test_search_finds_work_files_the_person_may_see_typed_without_diacritics(office):
    mine = services.open_ad_hoc(office.staff, services.WorkFileInput(
        title="Hồ sơ tuyển dụng viên chức", file_notation="01.TCCB", start_date=timezone.localdate(),
        retention_years=10))
    services.open_ad_hoc(office.outsider, services.WorkFileInput(
        title="Hồ sơ tuyển dụng phòng khác", file_notation="01.CCHC", start_date=timezone.localdate(),
        retention_years=10))
    page = _client(office.staff).get(reverse("search:home"), {"q": "tuyen dung"}).content.decode()
    assert reverse("records:file", args=[mine.pk]) in page and "phòng khác" not in page
    services.change_work_file(office.staff, mine, {"title": "Hồ sơ thi nâng ngạch"})
    assert "01.TCCB" not in _client(office.staff).get(reverse("search:home"), {"q": "tuyển dụng"}).content.decode()
    assert "01.TCCB" in _client(office.staff).get(reverse("search:home"), {"q": "nang ngach"}).content.decode()


def test_a_returned_transfer_is_corrected_by_reopening_the_file(office):
    work_file = closed_file(office)
    transfer = services.submit_transfer(office.chief, [work_file])
    with pytest.raises(services.RecordsError):  # waiting in a transfer
        services.reopen_work_file(office.chief, work_file, reason="Thiếu văn bản")
    services.return_transfer(office.archivist, transfer, reason="Thiếu báo cáo tổng kết")
    with pytest.raises(PermissionDenied):
        services.reopen_work_file(office.outsider, work_file, reason="Thiếu văn bản")
    work_file = services.reopen_work_file(office.chief, work_file, reason="Bổ sung báo cáo")
    assert work_file.state == WorkFileState.OPEN and work_file.transfer_due is None
    services.add_document(office.chief, work_file, outgoing(office, "Báo cáo tổng kết"))
    work_file = services.close_work_file(office.chief, work_file)
    services.receive_transfer(office.archivist, services.submit_transfer(office.chief, [work_file]))
    with pytest.raises(services.RecordsError):
        services.reopen_work_file(office.archivist, WorkFile.objects.get(pk=work_file.pk), reason="Sửa")
    assert events.FILE_REOPENED in verbs(work_file)


def test_the_sweeper_publishes_again_what_a_broker_outage_lost(office, monkeypatch):
    from records import jobs
    from records.models import BagExport

    work_file = closed_file(office)
    services.receive_transfer(office.archivist, services.submit_transfer(office.chief, [work_file]))
    export = BagExport.objects.create(work_file=work_file, requested_by=office.archivist)
    published = []
    monkeypatch.setattr(jobs, "publish", lambda name, *args: published.append((name, *args)) or True)
    executed = Disposition.objects.create(agency=office.agency, proposed_by=office.archivist,
                                          state=DispositionState.EXECUTED, executed_at=timezone.now())
    assert jobs.sweep() == 0  # too recent: its own message may still be on the way
    later = timezone.now() + timedelta(minutes=6)
    assert jobs.sweep(now=later) == 3
    assert ("records.tasks.remove_destroyed_content", executed.pk) in published
    assert ("records.tasks.build_export", export.pk) in published
    assert ("records.tasks.timestamp_archived", work_file.pk) in published


def test_an_imported_incoming_record_is_history_not_work(office):
    from django.db import transaction

    from desk.selectors import work_counts
    from workflows import services as workflow_services
    from workflows.selectors import TO_REGISTER, my_incoming_work

    with transaction.atomic():
        imported = documents_services.import_document_record(office.archivist, office.agency, {
            "direction": "incoming", "document_type": "cong-van", "code_number": "15", "code_notation": "UBND-VP",
            "issued_date": date(2019, 3, 1), "organ_name": "UBND huyện Lạc Sơn", "subject": "Báo cáo năm 2018",
        }, [("bao-cao.pdf", make_pdf(text="Báo cáo năm 2018"), "application/pdf")])
    fresh = incoming(office)
    work = my_incoming_work(office.clerk)
    listed = {item.document.pk for item in work.items[TO_REGISTER]}
    assert fresh.pk in listed and imported.pk not in listed
    assert work_counts(office.clerk)["to_register"] == work.counts[TO_REGISTER].total == 1
    with pytest.raises(ValidationError):
        workflow_services.open_case(office.clerk, imported)


def test_garbage_ids_are_404_not_500(office):
    work_file = services.open_ad_hoc(office.staff, services.WorkFileInput(
        title="Hồ sơ", file_notation="01.TCCB", start_date=timezone.localdate(), retention_years=10))
    staff, archivist = _client(office.staff), _client(office.archivist)
    huge = str(2**70)
    assert staff.post(reverse("records:file_action", args=[work_file.pk, "add"]), {"document": "x"}).status_code == 404
    assert staff.post(reverse("records:file_action", args=[work_file.pk, "remove"]),
                      {"document": huge}).status_code == 404
    assert staff.post(reverse("records:transfers"), {"files": ["1", "abc"]}).status_code == 404
    assert archivist.get(reverse("records:retention"), {"edit": "abc"}).status_code == 404
    assert archivist.post(reverse("records:dispositions"), {"files": [huge]}).status_code == 404
    assert staff.get(reverse("records:archive"), {"year": huge, "unit": "abc"}).status_code == 200
    catalogue = published_catalogue(office)
    assert staff.get(reverse("records:catalogue_print", args=[catalogue.pk, "docx"])).status_code == 404
    assert staff.get(reverse("records:catalogue_print", args=[catalogue.pk, "xlsx"])).status_code == 200
    assert staff.get("/api/v1/records/due/", {"unit": huge}).status_code == 400


def test_imported_records_are_not_counted_as_the_agencys_clerical_work(office):
    from django.db import transaction

    from dashboard.selectors import Scope, dashboard_figures

    incoming(office)
    with transaction.atomic():
        documents_services.import_document_record(office.archivist, office.agency, {
            "direction": "incoming", "document_type": "cong-van", "code_number": "15", "code_notation": "UBND-VP",
            "issued_date": timezone.localdate(), "arrival_date": timezone.localdate(),
            "organ_name": "UBND huyện Lạc Sơn", "subject": "Báo cáo",
        }, [("bao-cao.pdf", make_pdf(text="Báo cáo cũ"), "application/pdf")])
    today = timezone.localdate()
    figures = dashboard_figures(office.leader, Scope("agency", office.agency.pk), today.replace(day=1), today,
                                tallies=False)
    assert figures.totals["in"] == 1


def test_my_work_shows_what_waits_in_the_records_cycle(office):
    work_file = closed_file(office)
    services.request_hold_back(office.chief, work_file, until=work_file.transfer_due + timedelta(days=30),
                               reason="Còn dùng")
    services.submit_transfer(office.chief, [closed_file(office, notation="06.TCCB")])
    assert selectors.records_work(office.archivist).transfers_to_receive == 1
    assert selectors.records_work(office.leader).hold_backs_to_decide == 1
    assert selectors.records_work(office.staff, today=work_file.transfer_due).files_due == 1  # the keeper
    assert selectors.records_work(office.outsider).total == 0
    page = _client(office.archivist).get(reverse("desk:home")).content.decode()
    assert 'id="records-work"' in page and reverse("records:transfers") in page
    assert 'id="records-work"' not in _client(office.outsider).get(reverse("desk:home")).content.decode()


def test_the_file_page_follows_its_package_until_it_is_ready(office):
    work_file = closed_file(office)
    job = services.request_export(office.staff, work_file)
    staff = _client(office.staff)
    page = staff.get(reverse("records:file", args=[work_file.pk])).content.decode()
    state_url = reverse("records:export_state", args=[job.pk])
    assert f'data-status-url="{state_url}"' in page and "js/jobs.js" in page
    state = staff.get(state_url).json()
    assert state["state"] == "queued" and state["download"] == ""
    assert _client(office.chief).get(state_url).status_code == 404  # someone else's package
    assert _client(office.chief).get(reverse("records:export_download", args=[job.pk])).status_code == 404
