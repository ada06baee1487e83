"""Both workflows end to end in the browser, each person in their own session:
an incoming document from the clerk to the leader's direction, the unit's assignment and the handler's
completion; an outgoing draft from the drafter through review, format check and paper signing to issuing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles
from documents import services as documents_services
from documents.models import Confidentiality, Direction, Document
from tests.factories import PASSWORD, AgencyFactory, UnitFactory, clerk, doc_type, make_pdf, make_user
from workflows.drafting import Draft, DraftState
from workflows.models import CaseState, IncomingCase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office(reference_data):
    agency = AgencyFactory(name="Sở Nội vụ tỉnh Hòa Bình", abbreviation="SNV")
    unit = UnitFactory(agency=agency, name="Phòng Tổng hợp", abbreviation="TH")
    return {
        "agency": agency,
        "unit": unit,
        "clerk": clerk(agency, username="vanthu.snv"),
        "leader": make_user(roles.AGENCY_LEADER, agency, username="giamdoc.snv", full_name="Nguyễn Văn Giám"),
        "chief": make_user(roles.UNIT_LEADER, agency, unit=unit, username="truongphong.th", full_name="Trần Thị Trưởng"),
        "handler": make_user(roles.STAFF, agency, unit=unit, username="chuyenvien.th", full_name="Lê Văn Xử"),
    }


def session_of(browser, live_server, user):
    """A fresh browser context logged in as `user`."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/work/"))
    return page


def submit(page, action_suffix: str) -> None:
    page.click(f"form[action$='{action_suffix}'] button[type=submit]")
    page.wait_for_load_state()


def test_incoming_document_from_arrival_to_completion(browser, live_server, office):
    data = documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Về việc báo cáo công tác cải cách hành chính",
        organ_name="Bộ Nội vụ", code_number="1234", code_notation="BNV-CCHC",
        confidentiality=Confidentiality.NORMAL,
    )
    document = documents_services.register_incoming(office["clerk"], data)
    deadline = (timezone.localdate() + timedelta(days=7)).isoformat()

    clerk_page = session_of(browser, live_server, office["clerk"])
    clerk_page.goto(f"{live_server.url}/work/")
    submit(clerk_page, f"/incoming/open/{document.pk}/")
    clerk_page.wait_for_url(re.compile(r"/work/incoming/\d+/$"))
    case = IncomingCase.objects.get(document=document)
    clerk_page.select_option("select[name=leader]", str(office["leader"].pk))
    submit(clerk_page, f"/incoming/{case.pk}/present/")

    leader_page = session_of(browser, live_server, office["leader"])
    leader_page.goto(f"{live_server.url}/work/")
    leader_page.click(f"a[href$='/work/incoming/{case.pk}/']")
    # A usual phrase is one click; the units and people filter as one types (accents ignored).
    leader_page.click("#instruction-phrases button[data-phrase='Để biết.']")
    assert leader_page.input_value("#id_instruction") == "Để biết."
    leader_page.fill("#id_instruction", "Giao Phòng Tổng hợp chủ trì tham mưu báo cáo.")
    leader_page.fill("#target-filter", "tong hop")
    assert leader_page.locator("#direct-picker tr[data-search]:visible").count() == 3  # the unit and its people
    leader_page.check(f"#direct-picker input[name=lead][value='unit:{office['unit'].pk}']")
    leader_page.fill("#id_lead_deadline", deadline)
    submit(leader_page, f"/incoming/{case.pk}/direct/")
    assert "Giao Phòng Tổng hợp chủ trì" in leader_page.content()

    chief_page = session_of(browser, live_server, office["chief"])
    chief_page.goto(f"{live_server.url}/work/")
    chief_page.click(f"a[href$='/work/incoming/{case.pk}/']")
    chief_page.select_option("select[name=assignee]", str(office["handler"].pk))
    chief_page.fill("input[name=deadline]", deadline)
    chief_page.fill("input[name=note]", "Đồng chí Xử nghiên cứu, đề xuất.")
    chief_page.click("form[action*='/assign/'] button[type=submit]")
    chief_page.wait_for_load_state()

    handler_page = session_of(browser, live_server, office["handler"])
    handler_page.goto(f"{live_server.url}/work/")
    handler_page.click(f"a[href$='/work/incoming/{case.pk}/']")
    handler_page.fill("form[action*='/complete/'] textarea[name=outcome]", "Đã tham mưu văn bản báo cáo Bộ.")
    handler_page.click("form[action*='/complete/'] button[type=submit]")
    handler_page.wait_for_load_state()

    case.refresh_from_db()
    assert case.state == CaseState.COMPLETED
    timeline = handler_page.locator("#timeline").inner_text()
    for name in ("Nguyễn Văn Giám", "Trần Thị Trưởng", "Lê Văn Xử"):
        assert name in timeline


def test_outgoing_draft_from_drafting_to_issued_document(browser, live_server, office, tmp_path):
    draft_file = tmp_path / "du-thao.pdf"
    draft_file.write_bytes(make_pdf(2, "Dự thảo kế hoạch"))
    final_file = tmp_path / "ban-ky.pdf"
    final_file.write_bytes(make_pdf(2, "Bản đã ký"))

    drafter = session_of(browser, live_server, office["handler"])
    drafter.goto(f"{live_server.url}/work/drafts/new/")
    drafter.select_option("#id_document_type", str(doc_type("ke-hoach").pk))
    drafter.fill("#id_subject", "Kế hoạch kiểm tra công tác văn thư, lưu trữ năm 2027")
    drafter.select_option("#id_proposed_signer", str(office["leader"].pk))
    drafter.fill("#id_recipients", "Các phòng thuộc Sở\nLưu: VT, TH")
    drafter.set_input_files("#id_file", str(draft_file))
    drafter.click("main form button[type=submit]")
    drafter.wait_for_url(re.compile(r"/work/drafts/\d+/$"))
    draft = Draft.objects.get()
    submit(drafter, f"/drafts/{draft.pk}/submit/")

    for person in ("chief", "clerk"):
        page = session_of(browser, live_server, office[person])
        page.goto(f"{live_server.url}/work/")
        page.click(f"a[href$='/work/drafts/{draft.pk}/']")
        submit(page, f"/drafts/{draft.pk}/approve/")

    leader = session_of(browser, live_server, office["leader"])
    leader.goto(f"{live_server.url}/work/")
    leader.click(f"a[href$='/work/drafts/{draft.pk}/']")
    # The signer's page: sign or return beside the document; signing on paper is the clerk's choice.
    assert leader.locator("#signer-actions #return-form").count() == 1
    assert leader.locator(f"form[action$='/drafts/{draft.pk}/sign-paper/']").count() == 0

    issuer = session_of(browser, live_server, office["clerk"])
    issuer.goto(f"{live_server.url}/work/drafts/{draft.pk}/")
    issuer.check("#issue-form input[value=paper]")
    issuer.set_input_files("#issue-form input[type=file]", str(final_file))
    submit(issuer, f"/drafts/{draft.pk}/issuing/")

    draft.refresh_from_db()
    assert draft.state == DraftState.ISSUED
    issued = Document.objects.get(pk=draft.issued_document_id)
    assert issued.direction == Direction.OUTGOING and issued.number_notation.startswith("01/KH-SNV")
