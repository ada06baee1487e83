"""Dates dd/mm/yyyy and times 24 h in English too (FORMAT_MODULE_PATH, eoffice/settings.py): the Vietnamese
formats, with English number separators. A person who switches the interface to English reads and types the same
dates as in Vietnamese (Decree 30), never the US month-first order."""

from eoffice.formats.vi.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
