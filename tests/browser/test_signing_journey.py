"""A leader signs the approved draft from its page and the clerk issues it with the agency seal, in the
browser, each with two-factor authentication (a code after the password at log-in, and a fresh one with the
signature); the issued PDF then carries both signatures, valid."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import roles
from demo.pki import install
from documents.storage import open_verified
from signatures import services
from signatures.models import SigningRequest, SigningState
from signatures.sample_documents import build_decree30_pdf
from signatures.verification import Verdict, verify_pdf
from tests.factories import PASSWORD, AgencyFactory, UnitFactory, clerk, doc_type, make_user
from tests.otp import code_for, enrol
from workflows import drafting_services as ds
from workflows.drafting import DraftState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ready_draft(reference_data):
    agency = AgencyFactory(name="Ủy ban nhân dân huyện Lạc Sơn", abbreviation="UBND", place_name="Lạc Sơn")
    unit = UnitFactory(agency=agency, name="Văn phòng", abbreviation="VP")
    people = {
        "clerk": clerk(agency, username="vanthu.ls"),
        "leader": make_user(roles.AGENCY_LEADER, agency, username="chutich.ls", full_name="Bùi Văn Khánh",
                            position="Chủ tịch"),
        "chief": make_user(roles.UNIT_LEADER, agency, unit=unit, username="chanhvp.ls"),
        "drafter": make_user(roles.STAFF, agency, unit=unit, username="chuyenvien.ls"),
    }
    admin = get_user_model().objects.create_superuser("quantri.ls", password=PASSWORD)
    install(admin, [agency])
    ds.ensure_default_chain(agency)
    pdf = build_decree30_pdf(
        agency_parent="", agency_name="ỦY BAN NHÂN DÂN HUYỆN LẠC SƠN", notation_suffix="QĐ-UBND",
        title_kind="QUYẾT ĐỊNH", subject="Về việc kiện toàn Ban Chỉ đạo chuyển đổi số huyện",
        body_paragraphs=["Căn cứ Luật Tổ chức chính quyền địa phương;"], place="Lạc Sơn", position_title="CHỦ TỊCH",
        signer_name="Bùi Văn Khánh", recipients=["Như Điều 3;", "Lưu: VT."],
    )
    data = ds.DraftInput(document_type_id=doc_type("quyet-dinh").pk, subject="Về việc kiện toàn Ban Chỉ đạo",
                         proposed_signer_id=people["leader"].pk)
    draft = ds.create_draft(people["drafter"], data, SimpleUploadedFile("qd.pdf", pdf, "application/pdf"))
    draft = ds.approve_step(people["clerk"], ds.approve_step(people["chief"], ds.submit(people["drafter"], draft)))
    assert draft.state == DraftState.READY_TO_SIGN
    return draft, people


def session_with_code(browser, live_server, user):
    """Logged in as `user` with an authenticator app: the password, then the code page; returns the page and
    the device (its next code is `code_for(device, step=1)`: the log-in used the current one)."""
    device = enrol(user)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/settings/account/verify/"))
    page.fill("#id_code", code_for(device))
    page.press("#id_code", "Enter")
    page.wait_for_url(re.compile(r"/work/"))
    return page, device


def test_leader_signs_and_clerk_issues_with_the_seal(browser, live_server, ready_draft, settings):
    settings.OTP_REQUIRED = True
    draft, people = ready_draft
    leader, leader_app = session_with_code(browser, live_server, people["leader"])
    leader.goto(f"{live_server.url}/work/drafts/{draft.pk}/")
    leader.fill("#sign-form input[name=password]", PASSWORD)
    leader.fill("#sign-form input[name=otp]", code_for(leader_app, step=1))
    leader.click("#sign-form button[type=submit]")
    leader.wait_for_url(re.compile(rf"/work/drafts/{draft.pk}/$"))
    personal = SigningRequest.objects.get(subject_type="workflows.draft", subject_id=draft.pk, kind="personal")
    assert personal.state == SigningState.DONE, personal.error
    assert leader.locator("#signing .signing-request.state-done").count() == 1

    issuer, clerk_app = session_with_code(browser, live_server, people["clerk"])
    issuer.goto(f"{live_server.url}/work/drafts/{draft.pk}/")
    assert issuer.locator("#issue-form input[value=digital]").is_checked()  # digital by default
    issuer.fill("#issue-form input[name=password]", PASSWORD)
    issuer.fill("#issue-form input[name=otp]", code_for(clerk_app, step=1))
    issuer.click("#issue-form button[type=submit]")
    issuer.wait_for_url(re.compile(rf"/work/drafts/{draft.pk}/$"))
    seal = SigningRequest.objects.exclude(pk=personal.pk).get(subject_type="workflows.draft", subject_id=draft.pk)
    assert seal.state == SigningState.DONE, seal.error

    issuer.goto(f"{live_server.url}/documents/{seal.document_id}/")
    assert "verdict-" in issuer.locator("#file-list").inner_html()
    with open_verified(seal.result_blob) as handle:
        issued = handle.read()
    roots, intermediates = services.trust_roots(), services.intermediates()
    # pyHanko runs its own event loop: validate off the test thread, where Playwright's loop is running.
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(verify_pdf, issued, trust_roots=roots, intermediates=intermediates).result()
    assert [s.verdict for s in report.signatures] == [Verdict.VALID, Verdict.VALID]  # number, date, seal: expected
    assert [s.signer_name for s in report.signatures][0] == "Bùi Văn Khánh"
