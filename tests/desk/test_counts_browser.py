"""The menu's counts in the browser: a person lands on "My work" after logging in, the badge shows what waits,
and static/desk/counts.js brings it up to date when the tab becomes visible again, without a reload (the
strict Content-Security-Policy allows no inline script: nothing is refused)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts import roles
from documents import services as documents_services
from documents.models import Confidentiality
from tests.browser.conftest import browser_type_launch_args  # noqa: F401  (Debian's chromium)
from tests.factories import PASSWORD, AgencyFactory, clerk, doc_type, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _incoming(user, number: str):
    data = documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk, subject=f"Về việc báo cáo số {number}", organ_name="Bộ Nội vụ",
        code_number=number, code_notation="BNV-VP", confidentiality=Confidentiality.NORMAL,
    )
    return documents_services.register_incoming(user, data)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_badge_follows_the_work_without_a_reload(browser, live_server, reference_data, width):
    agency = AgencyFactory(name="Sở Nội vụ", abbreviation="SNV")
    person = clerk(agency, username="vanthu.desk")
    make_user(roles.AGENCY_LEADER, agency, username="giamdoc.desk")
    _incoming(person, "1")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", person.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/work/$"))
    badge = page.locator('#nav-work [data-desk-count="total"]')
    assert badge.inner_text() == "1"
    assert page.locator("#to_register").is_visible()

    _incoming(person, "2")
    _incoming(person, "3")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # the tab is shown again
    expect(badge).to_have_text("3")
    page.click("#nav-kinds summary")
    kind = page.locator('#nav-kinds [data-desk-kind="to_register"]')
    assert kind.is_visible() and "3" in kind.inner_text()
    assert kind.locator("a").bounding_box()["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not refused
    context.close()
