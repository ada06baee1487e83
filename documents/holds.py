"""Why a registered document may not be acted on any more, as told by the apps above `documents`.

The exchange freezes a recipient's copy when its sender recalls it (or the recipient gives it back): the
handling of that copy (workflows) must stop, but workflows does not import the exchange. So apps register
a *hold provider* here — a callable `(document_id) -> str | None` returning the reason, in the reader's
language, or None — and the services that act on documents ask `hold_reason` first."""

from __future__ import annotations

from collections.abc import Callable

HoldProvider = Callable[[int], "str | None"]

_providers: dict[str, HoldProvider] = {}


def register(name: str, provider: HoldProvider) -> None:
    _providers[name] = provider


def hold_reason(document_id: int) -> str | None:
    """The first reason a provider gives for holding `document_id`, or None when it may be acted on."""
    for provider in _providers.values():
        reason = provider(document_id)
        if reason:
            return reason
    return None
