"""Who is told when a signature is applied or fails: the app that asked for it.

Signing is a service: it signs the PDF blob it is given, for an opaque subject ("workflows.draft", 12),
and never decides what happens to that subject next. The app that owns a subject type registers one
`SigningSubscriber` for it (in its AppConfig.ready); the signing task calls `on_signed` inside the
transaction that stores the result, so the caller's next step (a new draft version, issuing the document)
commits or rolls back with it. A subscriber that no longer wants the result (the draft changed while it was
being signed) raises `SigningRefused` and nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from documents.models import FileBlob

    from .models import SigningRequest


class SigningRefused(Exception):
    """Raised by `on_signed`: the result is discarded and the request fails with this message."""


@dataclass(frozen=True)
class SignedFile:
    name: str
    blob: FileBlob
    signed: bool  # False: a non-PDF attachment passed through unchanged


@dataclass(frozen=True)
class SigningResult:
    blob: FileBlob
    attachments: list[SignedFile]


@dataclass(frozen=True)
class SigningSubscriber:
    """What the owner of a subject type answers for its subjects.

    - `on_signed(request, result)`: store the result and move on; runs in the storing transaction.
    - `on_failed(request)`: optional, told after a request failed (the reason is `request.error`).
    - `visible_subjects(user)`: ids (a queryset or values) of the subjects this person may see; their
      signing requests are then visible to them (API, retry).
    - `retry(actor, request)`: ask again for a failed request, with the caller's own checks (authority).
    """

    on_signed: Callable[[SigningRequest, SigningResult], None]
    visible_subjects: Callable[[Any], Iterable[int]]
    retry: Callable[[Any, SigningRequest], SigningRequest]
    on_failed: Callable[[SigningRequest], None] | None = None


_SUBSCRIBERS: dict[str, SigningSubscriber] = {}


def subscribe(subject_type: str, subscriber: SigningSubscriber) -> None:
    """Register the owner of `subject_type` ("app_label.model"); one owner per type."""
    known = _SUBSCRIBERS.get(subject_type)
    if known is not None and known != subscriber:
        raise RuntimeError(f"{subject_type} already has a signing subscriber")
    _SUBSCRIBERS[subject_type] = subscriber


def subscriber_for(subject_type: str) -> SigningSubscriber:
    try:
        return _SUBSCRIBERS[subject_type]
    except KeyError:
        raise LookupError(f"nobody handles signatures of {subject_type}") from None


def subscribed_types() -> dict[str, SigningSubscriber]:
    return dict(_SUBSCRIBERS)
