"""A clerk logs in, registers an outgoing document with a file, finds it in the list and opens the register printout;
the browser reports no Content-Security-Policy violation on the way."""

from __future__ import annotations

import re

import pytest

from accounts.models import Agency
from documents.models import Document
from tests.factories import PASSWORD, AgencyFactory, UnitFactory, clerk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_registers_outgoing_document_and_prints_the_register(page, live_server, tmp_path, reference_data):
    agency: Agency = AgencyFactory(name="Ủy ban nhân dân tỉnh Hòa Bình", abbreviation="UBND")
    UnitFactory(agency=agency, name="Văn phòng", abbreviation="VP")
    user = clerk(agency, username="vanthu.test")
    pdf = tmp_path / "ke-hoach.pdf"
    from tests.factories import make_pdf

    pdf.write_bytes(make_pdf(3))

    # The Content-Security-Policy (no inline script or style) must not block anything these pages do.
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/work/"))

    page.click("text=Đăng ký văn bản đi")
    page.select_option("#id_document_type", label="Kế hoạch (KH)")
    page.fill("#id_subject", "Kế hoạch cải cách hành chính năm")
    page.fill("#id_signer_position", "Chủ tịch")
    page.fill("#id_signer_name", "Bùi Văn Khánh")
    page.set_input_files("#id_files", str(pdf))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/documents/\d+/$"))
    assert page.locator("h1").inner_text().startswith("Kế hoạch 01/KH-UBND")
    document = Document.objects.get()
    assert document.files.count() == 1

    page.goto(f"{live_server.url}/documents/?q=cải cách")
    row = page.locator("#document-list tbody tr").first
    assert "01/KH-UBND" in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_url(re.compile(rf"/documents/{document.pk}/$"))
    assert "ke-hoach.pdf" in page.locator("#file-list").inner_text()

    page.click("nav.mainnav >> text=Sổ văn bản")
    page.wait_for_load_state()
    pdf_link = page.locator("a[href*='print.pdf'], button:has-text('PDF')").first
    assert pdf_link.count() == 1
    response = page.request.get(f"{live_server.url}/documents/registers/{document.register_id}/print.pdf")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # The language selector submits itself (static/js/eoffice.js, no inline handler).
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("nav.mainnav >> text=Registers")
    # Swagger UI runs under the same policy (its init script is a request of its own).
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .information-container", timeout=15000)
    violations = [text for text in console if "Content Security Policy" in text]
    assert not violations, violations
