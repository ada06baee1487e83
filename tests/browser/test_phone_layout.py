"""A 390 px phone: the landing page, the document list and detail, the processing slip and the draft pages
(the signer's and the clerk's) have no horizontal overflow, every button and form control is at least 44 px
high, and the document's rendered pages are there, above the decision."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import roles
from documents import services as documents_services
from documents.models import Confidentiality
from tests.factories import PASSWORD, AgencyFactory, UnitFactory, clerk, doc_type, make_pdf, make_user
from workflows import drafting_services as ds
from workflows import services as wf_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LOADED = "() => { const img = document.querySelector('#pdf-pages img'); return !!img && img.complete && img.naturalWidth > 0; }"

# Controls lower than 44 px (hidden ones and check boxes/radios, which sit in 44 px labels, aside).
SMALL_CONTROLS = """() => Array.from(document.querySelectorAll(
    'button, .btn, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio])'))
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.height < 43.5; })
  .map(el => el.outerHTML.slice(0, 120) + ' ' + el.getBoundingClientRect().height)"""


@pytest.fixture
def desk(reference_data):
    agency = AgencyFactory(name="Sở Nội vụ tỉnh Hòa Bình", abbreviation="SNV")
    unit = UnitFactory(agency=agency, name="Phòng Tổng hợp", abbreviation="TH")
    people = {
        "clerk": clerk(agency, username="vanthu.snv", full_name="Hoàng Thị Văn Thư"),
        "leader": make_user(roles.AGENCY_LEADER, agency, username="giamdoc.snv", full_name="Xa Văn Thành",
                            position="Giám đốc"),
        "chief": make_user(roles.UNIT_LEADER, agency, unit=unit, username="truongphong.th",
                           full_name="Trần Thị Trưởng"),
        "handler": make_user(roles.STAFF, agency, unit=unit, username="chuyenvien.th", full_name="Lê Văn Xử"),
    }
    data = documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject="Về việc báo cáo công tác cải cách hành chính năm 2026",
        organ_name="Bộ Nội vụ", code_number="1234", code_notation="BNV-CCHC", confidentiality=Confidentiality.NORMAL,
    )
    document = documents_services.register_incoming(
        people["clerk"], data, [SimpleUploadedFile("cong-van-den.pdf", make_pdf(3), content_type="application/pdf")])
    case = wf_services.present(people["clerk"], wf_services.open_case(people["clerk"], document), people["leader"])
    ds.ensure_default_chain(agency)
    draft = ds.create_draft(people["handler"], ds.DraftInput(
        document_type_id=doc_type("ke-hoach").pk, subject="Kế hoạch kiểm tra công tác văn thư, lưu trữ năm 2027",
        proposed_signer_id=people["leader"].pk, recipients=[{"name": "Như trên"}]),
        SimpleUploadedFile("du-thao.pdf", make_pdf(2, "Dự thảo kế hoạch"), content_type="application/pdf"))
    draft = ds.submit(people["handler"], draft)
    draft = ds.approve_step(people["chief"], draft)
    draft = ds.approve_step(people["clerk"], draft)
    return {"people": people, "document": document, "case": case, "draft": draft}


def phone_session(browser, live_server, user):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/(documents|work)/"))
    return page


def check_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{url}: {width} px wide"
    assert page.evaluate(SMALL_CONTROLS) == [], url


def test_no_overflow_and_44px_controls_on_a_phone(browser, live_server, desk):
    base = live_server.url
    document, case, draft = desk["document"], desk["case"], desk["draft"]
    leader = phone_session(browser, live_server, desk["people"]["leader"])
    for url in (f"{base}/", f"{base}/documents/", f"{base}/documents/{document.pk}/", f"{base}/work/incoming/{case.pk}/",
                f"{base}/work/drafts/", f"{base}/work/drafts/{draft.pk}/"):
        check_page(leader, url)
    # The signer's page: the document's pages are drawn and come before the decision on a phone.
    leader.goto(f"{base}/work/drafts/{draft.pk}/")
    first_page = leader.locator("#pdf-pages .pdf-page img").first
    first_page.scroll_into_view_if_needed()
    leader.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first_page.element_handle(), timeout=45000)
    assert leader.locator("#pdf-pages .pdf-page").count() == 2
    pages_box = leader.locator("#pdf-pages").bounding_box()
    actions_box = leader.locator("#signer-actions").bounding_box()
    assert pages_box["y"] < actions_box["y"] and pages_box["width"] <= PHONE["width"]
    leader.screenshot(path=str(_artefact("phone-signer-draft.png")), full_page=True)
    # The processing slip shows the incoming document's pages.
    leader.goto(f"{base}/work/incoming/{case.pk}/")
    assert leader.locator("#pdf-pages .pdf-page").count() == 3
    leader.screenshot(path=str(_artefact("phone-leader-case.png")))

    clerk_page = phone_session(browser, live_server, desk["people"]["clerk"])
    check_page(clerk_page, f"{base}/work/drafts/{draft.pk}/")
    assert clerk_page.locator("#issue-form input[value=paper]").is_checked()
    clerk_page.screenshot(path=str(_artefact("phone-clerk-issue.png")), full_page=True)
    check_page(clerk_page, f"{base}/documents/{document.pk}/")


def test_pages_sit_beside_the_decision_on_a_wide_screen(browser, live_server, desk):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", desk["people"]["leader"].username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/(documents|work)/"))
    page.goto(f"{live_server.url}/work/drafts/{desk['draft'].pk}/")
    pages_box = page.locator("#pdf-pages").bounding_box()
    actions_box = page.locator("#signer-actions").bounding_box()
    assert pages_box["x"] > actions_box["x"] + actions_box["width"] - 1  # a second column
    assert abs(pages_box["y"] - actions_box["y"]) < 40
    page.wait_for_function(LOADED, timeout=45000)
    page.screenshot(path=str(_artefact("wide-signer-draft.png")))
    page.goto(f"{live_server.url}/work/incoming/{desk['case'].pk}/")
    page.wait_for_function(LOADED, timeout=45000)
    page.screenshot(path=str(_artefact("wide-leader-case.png")))


def _artefact(name: str):
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent.parent / "var" / "test-artefacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
