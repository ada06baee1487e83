"""Form widgets shared by every app.

`<input type="date">` shows and takes the date in the browser's locale: an en-US browser asks for mm/dd/yyyy,
and a clerk who types 05/06/2026 for 5 June gets 6 May. Vietnamese administrative practice (Decree 30) writes
dd/mm/yyyy, so date fields are text inputs that take dd/mm/yyyy whatever the browser, with a small calendar
(static/js/datepicker.js, attached to `data-datepicker`) that writes the same. ISO dates (yyyy-mm-dd) are
still accepted, for the API and for links built by code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

# What the fields accept, in this order: the Vietnamese form first, ISO second. No mm/dd/yyyy: 05/06/2026 is
# 5 June in every language of this installation (the format modules in eoffice/formats/ say the same).
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DATE_DISPLAY_FORMAT = "%d/%m/%Y"
# dd/mm/yyyy with one- or two-digit day and month, or yyyy-mm-dd (the browser's check; the server checks again).
DATE_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}"


class DateInput(forms.DateInput):
    """A text input for dd/mm/yyyy; shows its value as dd/mm/yyyy in both languages.

    templates/base.html loads the picker on every page, so a form needs no `{{ form.media }}`.
    """

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:
        defaults = {
            "placeholder": _("dd/mm/yyyy"),
            "inputmode": "numeric",
            "pattern": DATE_PATTERN,
            "autocomplete": "off",
            "maxlength": "10",
            "size": "10",
            "data-datepicker": "",
            "class": "date-input",
        }
        attrs = {key: value for key, value in (attrs or {}).items() if key != "type"}
        super().__init__(attrs={**defaults, **attrs}, format=format or DATE_DISPLAY_FORMAT)


class DateField(forms.DateField):
    """A date field that accepts dd/mm/yyyy (or ISO) whatever the active language, with `DateInput`."""

    widget = DateInput
    input_formats = DATE_INPUT_FORMATS
    default_error_messages = {"invalid": _("Enter a valid date as dd/mm/yyyy.")}


def parse_date_input(text: str | None) -> date | None:
    """A date typed in a plain `<input data-datepicker>` (dd/mm/yyyy or ISO); None when empty.

    For views that read a date from request.POST without a form; raises ValueError on anything else.
    """
    text = (text or "").strip()
    if not text:
        return None
    for fmt in DATE_INPUT_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)
