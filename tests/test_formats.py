"""Dates dd/mm/yyyy and times 24 h in both languages (eoffice/formats/), and date fields that take dd/mm/yyyy
whatever the browser's locale (eoffice/widgets.py, static/js/datepicker.js)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from documents.forms import DocumentFilterForm, PeriodForm
from eoffice.widgets import DateField, DateInput, parse_date_input
from tests.factories import PASSWORD, AgencyFactory, clerk

MOMENT = dt.datetime(2026, 6, 5, 14, 30, tzinfo=dt.UTC)  # 21:30 in Hà Nội


@pytest.mark.parametrize("language", ["vi", "en"])
def test_dates_and_times_render_dd_mm_yyyy_and_24_hours(language):
    template = Template("{{ day }}|{{ day|date }}|{{ moment }}|{{ moment|date:'SHORT_DATETIME_FORMAT' }}|"
                        "{{ moment|time }}")
    with translation.override(language), timezone.override("Asia/Ho_Chi_Minh"):
        text = template.render(Context({"day": dt.date(2026, 6, 5), "moment": MOMENT}))
    assert text == "05/06/2026|05/06/2026|05/06/2026 21:30|05/06/2026 21:30|21:30"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_forms_take_dd_mm_yyyy_and_iso_never_mm_dd_yyyy(language):
    with translation.override(language):
        form = PeriodForm({"date_from": "05/06/2026", "date_to": "2026-06-30"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data == {"date_from": dt.date(2026, 6, 5), "date_to": dt.date(2026, 6, 30)}
        american = PeriodForm({"date_from": "06/31/2026"})  # 31 June does not exist: not read as mm/dd
        assert not american.is_valid() and "date_from" in american.errors
        assert DocumentFilterForm.base_fields["date_from"].clean("1/2/2026") == dt.date(2026, 2, 1)


def test_the_error_is_vietnamese_in_the_vietnamese_interface():
    with translation.override("vi"):  # the messages are lazy: read them while Vietnamese is active
        errors = list(PeriodForm({"date_from": "31-31-2026"}).errors["date_from"])
    assert errors == ["Nhập ngày hợp lệ theo dạng dd/mm/yyyy (ngày/tháng/năm)."]


def test_the_widget_is_a_text_input_showing_dd_mm_yyyy_with_the_picker():
    html = DateInput().render("deadline", dt.date(2026, 6, 5))
    assert 'type="text"' in html and 'value="05/06/2026"' in html and "data-datepicker" in html
    assert 'placeholder="dd/mm/yyyy"' in html and 'inputmode="numeric"' in html
    assert 'type="date"' not in DateInput(attrs={"type": "date"}).render("x", None)  # never the browser's own
    assert DateField().clean("05/06/2026") == dt.date(2026, 6, 5)
    assert parse_date_input(" 5/6/2026 ") == dt.date(2026, 6, 5) and parse_date_input("") is None
    with pytest.raises(ValueError):
        parse_date_input("2026/06/05")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_registration_form_has_no_browser_date_input_and_loads_the_picker(client, language):
    user = clerk(AgencyFactory())
    assert client.login(username=user.username, password=PASSWORD)
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    page = client.get(reverse("documents:register_incoming")).content.decode()
    assert 'type="date"' not in page
    assert 'name="issued_date"' in page and "data-datepicker" in page and "js/datepicker.js" in page


@pytest.mark.django_db
def test_the_document_list_filters_by_dd_mm_yyyy(client):
    user = clerk(AgencyFactory())
    assert client.login(username=user.username, password=PASSWORD)
    page = client.get(reverse("documents:list"), {"date_from": "01/02/2026", "date_to": "2026-12-31"})
    assert page.status_code == 200
    assert page.context["form"].cleaned_data["date_from"] == dt.date(2026, 2, 1)  # 1 February, not 2 January
    assert page.context["form"].cleaned_data["date_to"] == dt.date(2026, 12, 31)
    assert 'value="01/02/2026"' in page.content.decode()


def test_the_signature_report_shows_dd_mm_yyyy_24_hours_with_the_offset():
    from signatures.verification_text import local_time

    with timezone.override("Asia/Ho_Chi_Minh"):
        assert local_time(MOMENT) == "05/06/2026 21:30:00 +07:00"
    assert local_time(None) == "-"


def test_the_api_accepts_dd_mm_yyyy_and_answers_iso():
    from rest_framework import serializers

    field = serializers.DateField()
    assert field.to_internal_value("05/06/2026") == dt.date(2026, 6, 5)
    assert field.to_internal_value("2026-06-05") == dt.date(2026, 6, 5)
    assert field.to_representation(dt.date(2026, 6, 5)) == "2026-06-05"


def test_the_picker_script_is_a_static_file_of_our_own():
    from django.contrib.staticfiles import finders

    script = finders.find("js/datepicker.js")
    assert script and "data-datepicker" in open(script, encoding="utf-8").read()
