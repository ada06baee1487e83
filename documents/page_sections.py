"""Sections that the apps above `documents` add to a document's page, without `documents` importing them.

A provider is a callable `(request, document) -> str | None` returning rendered (safe) HTML, or None when it
has nothing to show to this person; apps register theirs in `AppConfig.ready`. Sections are shown in
`order`, then in registration order, below the document's own details."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe

Provider = Callable[..., "str | None"]

_providers: list[tuple[int, str, Provider]] = []


def register(provider: Provider, *, order: int = 100, name: str = "") -> Provider:
    """Add `provider` (idempotent per name: registering again replaces it)."""
    key = name or f"{provider.__module__}.{provider.__qualname__}"
    _providers[:] = [entry for entry in _providers if entry[1] != key]
    _providers.append((order, key, provider))
    _providers.sort(key=lambda entry: entry[0])
    return provider


def render_sections(request, document) -> list[SafeString]:
    """The HTML of every registered section that has something for this person, in order."""
    sections = []
    for _order, _key, provider in _providers:
        html = provider(request, document)
        if html:
            sections.append(mark_safe(html))  # noqa: S308 - providers return template-rendered HTML
    return sections
