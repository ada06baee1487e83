"""In a browser whose locale would ask for mm/dd/yyyy: the date fields take and show dd/mm/yyyy, with a calendar
worked by the keyboard, on a phone without overflow; the log-in page with its names and "forgot password"."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.factories import PASSWORD, AgencyFactory, clerk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def person(reference_data):
    return clerk(AgencyFactory(name="Sở Nội vụ tỉnh Hòa Bình", abbreviation="SNV"), username="vanthu.snv")


def session(browser, live_server, user, viewport):
    context = browser.new_context(viewport=viewport, locale="en-US")  # the browser would say mm/dd/yyyy
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/(documents|work)/"))
    return page


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}])
def test_date_fields_take_dd_mm_yyyy_and_the_calendar_works_by_keyboard(browser, live_server, person, viewport):
    page = session(browser, live_server, person, viewport)
    page.goto(f"{live_server.url}/documents/incoming/new/")
    assert page.locator('input[type="date"]').count() == 0

    page.click("#id_issued_date + .dp-open")
    dialog = page.locator(".dp-popup[role=dialog]")
    assert dialog.is_visible()
    page.keyboard.press("ArrowRight")  # today + 1 day
    page.keyboard.press("ArrowDown")  # + 7 days
    page.keyboard.press("Enter")
    expected = dt.date.today() + dt.timedelta(days=8)
    assert page.input_value("#id_issued_date") == expected.strftime("%d/%m/%Y")
    assert not dialog.is_visible()

    page.click("#id_arrival_date")
    page.keyboard.type("05062026")  # a digits-only keypad: the slashes come by themselves
    page.keyboard.press("Tab")
    assert page.input_value("#id_arrival_date") == "05/06/2026"
    page.fill("#id_due_date", "2026-07-01")
    page.keyboard.press("Tab")
    assert page.input_value("#id_due_date") == "01/07/2026"

    page.click("#id_due_date + .dp-open")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    heights = page.evaluate("Array.from(document.querySelectorAll('.dp-popup button, .dp-open'))"
                            ".map(b => b.getBoundingClientRect().height)")
    assert heights and min(heights) >= 43.5
    page.keyboard.press("Escape")
    assert page.locator(".dp-popup").count() == 0


def test_the_login_page_on_a_phone(browser, live_server, person):
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{live_server.url}/login/")
    assert "Sở Nội vụ tỉnh Hòa Bình".upper() in page.inner_text(".login-brand").upper()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click("text=" + page.inner_text(".login-help a"))
    page.wait_for_url(re.compile(r"/password-reset/$"))
    page.fill("#id_email", "nobody@example.gov.vn")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/password-reset/sent/$"))
