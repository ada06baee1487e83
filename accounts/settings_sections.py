"""The administrator's settings page is made of sections that apps contribute.

accounts owns the page (its URL, who may open it) and knows nothing of the apps above it: each app
registers its sections from its AppConfig.ready(), e.g. documents adds its registers:

    register_section(SettingsSection(
        key="registers", title=gettext_lazy("Registers"), template="documents/settings_registers.html",
        context=registers_context, post=open_register, order=30,
        links=[SettingsLink(gettext_lazy("Registers"), "admin:documents_register_changelist", order=40)],
    ))

A section is rendered on its own with its own context (names such as `form` do not clash between
sections). `links` are shortcut buttons into the admin, shown together in the page's first card in
`order`. The orders in use: accounts 10 (overview), 20 (organisation tree), 40 (delegations); documents
30 (registers). Links: accounts 10, 20, 30, 50, 70; documents 40, 60.

A POST goes to the section named by the form's `section` field (a hidden input in the section's form);
without that field, to the only section that accepts POSTs. The section's `post(request)` answers with
an HttpResponse (typically a redirect back to the page after success, with a message), or with a dict
of context that replaces parts of the section's own (the bound form with its errors) for the page
rendered again.

The registry is filled once per process at start-up (AppConfig.ready), the same in every process; it is
configuration, not state shared between requests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponseBase

ContextCallable = Callable[[HttpRequest], Mapping[str, Any]]
PostHandler = Callable[[HttpRequest], "HttpResponseBase | Mapping[str, Any]"]


@dataclass(frozen=True)
class SettingsLink:
    """A button of the page's first card: `label` linking to the URL named `url_name` (no arguments)."""

    label: str
    url_name: str
    order: int = 100


@dataclass(frozen=True)
class SettingsSection:
    """One part of the settings page. `title` becomes its heading (blank: no heading); `template` is
    rendered with `context(request)` (plus `links`, the page's shortcut buttons, for sections that show
    them); `post`, if given, handles the section's form."""

    key: str
    title: str
    template: str
    context: ContextCallable | None = None
    post: PostHandler | None = None
    order: int = 100
    links: Sequence[SettingsLink] = field(default_factory=tuple)


_SECTIONS: dict[str, SettingsSection] = {}


def register_section(section: SettingsSection) -> None:
    """Add a section, or replace the one with the same key (ready() may run more than once in tests)."""
    _SECTIONS[section.key] = section


def unregister_section(key: str) -> None:
    _SECTIONS.pop(key, None)


def get_sections() -> list[SettingsSection]:
    """The sections in page order (then by key, so equal orders stay stable)."""
    return sorted(_SECTIONS.values(), key=lambda section: (section.order, section.key))


def get_links() -> list[SettingsLink]:
    """Every section's shortcut links, in their order."""
    return sorted((link for section in _SECTIONS.values() for link in section.links), key=lambda link: link.order)


def section_for_post(posted_key: str | None) -> SettingsSection | None:
    """The section a POST is for: the one named by its `section` field, or else the only one that
    accepts POSTs. None when there is no such section."""
    accepting = [section for section in get_sections() if section.post is not None]
    if posted_key:
        return next((section for section in accepting if section.key == posted_key), None)
    return accepting[0] if len(accepting) == 1 else None
