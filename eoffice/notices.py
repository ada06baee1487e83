"""Telling people that something happened, without knowing how they are told.

The apps that cause notices (workflows, exchange, signatures) sit below `notifications/`, which must not be
imported by them. So they speak this small vocabulary instead:

- each app registers its kinds of notice once (`register_kind`, at import of its `notice_kinds` module): a
  code, a label for the preferences page and the text, both translatable with `%(name)s` parameters — the
  text is rendered in the reader's language when shown, never stored as a sentence;
- a service calls `tell(...)` inside the transaction of the change: the `notice_requested` signal is sent at
  once, and `notifications/` writes its intent row in that same transaction (so a notice is never lost when
  the change commits, and never sent when it rolls back) and fans it out in a task after commit.

`key` makes a notice idempotent: the same key told twice (a redelivered task, a retried request) gives each
person one notice. With no receiver connected (notifications not installed), telling does nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal
from django.utils.functional import Promise

notice_requested = Signal()
"""Sent by `tell` with `request`: a NoticeRequest."""


@dataclass(frozen=True)
class NoticeKind:
    code: str
    label: str | Promise
    """What the person switches on or off in their preferences ("A document arrived for my agency")."""
    text: str | Promise
    """The notice itself, with %(name)s parameters filled from the request's params when shown."""
    email: bool = True
    """Whether e-mail is on by default for this kind (the person may change it)."""
    choices: Mapping[str, Mapping[str, str | Promise]] = field(default_factory=dict)
    """Parameters stored as codes and shown as translated labels: {"status": {"03": _("Registered"), ...}}."""


@dataclass(frozen=True)
class Audience:
    """Who is told: named people, and/or the holders of a permission in some agencies (resolved when the
    notice is fanned out, in a task: 500 agencies' clerks are not looked up inside the web request)."""

    user_ids: tuple[int, ...] = ()
    agency_ids: tuple[int, ...] = ()
    permission: str = ""
    """"app_label.codename" held (directly or through a group) by active people of `agency_ids`."""

    def to_dict(self) -> dict[str, Any]:
        return {"user_ids": list(self.user_ids), "agency_ids": list(self.agency_ids), "permission": self.permission}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Audience:
        return cls(tuple(data.get("user_ids", ())), tuple(data.get("agency_ids", ())), data.get("permission", ""))


@dataclass(frozen=True)
class NoticeRequest:
    kind: str
    key: str
    audience: Audience
    params: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    document_id: int | None = None
    exclude_user_ids: tuple[int, ...] = ()
    """People not told even if the audience names them (usually the actor: nobody is told of their own act)."""


_kinds: dict[str, NoticeKind] = {}


def register_kind(
    code: str, label: str | Promise, text: str | Promise, *, email: bool = True,
    choices: Mapping[str, Mapping[str, str | Promise]] | None = None,
) -> NoticeKind:
    kind = NoticeKind(code=code, label=label, text=text, email=email, choices=dict(choices or {}))
    _kinds[code] = kind
    return kind


def kinds() -> list[NoticeKind]:
    return list(_kinds.values())


def kind(code: str) -> NoticeKind | None:
    return _kinds.get(code)


def render(code: str, params: Mapping[str, Any] | None) -> str:
    """The notice's text in the active language; a missing parameter shows as empty, never an error."""
    found = _kinds.get(code)
    if found is None:
        return code
    text = str(found.text)
    values = dict(params or {})
    for name, labels in found.choices.items():
        if name in values and str(values[name]) in labels:
            values[name] = str(labels[str(values[name])])
    try:
        rendered = text % _Lenient(values)
    except (TypeError, ValueError):
        return text
    # An optional part left empty (e.g. no proposal) leaves no double or trailing space.
    return _SPACES.sub(" ", rendered).strip()


_SPACES = re.compile(r" {2,}")


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return ""


def tell(
    kind_code: str,
    *,
    key: str,
    user_ids: Iterable[int | None] = (),
    agency_ids: Iterable[int] = (),
    permission: str = "",
    params: Mapping[str, Any] | None = None,
    url: str = "",
    document_id: int | None = None,
    exclude: Iterable[int | None] = (),
) -> None:
    """Ask for a notice, inside the transaction of the change that causes it (see the module docstring)."""
    if kind_code not in _kinds:
        raise ValueError(f"Unknown notice kind {kind_code!r}: register it with eoffice.notices.register_kind")
    audience = Audience(
        user_ids=tuple(sorted({pk for pk in user_ids if pk})),
        agency_ids=tuple(sorted(set(agency_ids))),
        permission=permission,
    )
    if not audience.user_ids and not (audience.agency_ids and audience.permission):
        return
    request = NoticeRequest(
        kind=kind_code, key=key[:150], audience=audience, params=dict(params or {}), url=url,
        document_id=document_id, exclude_user_ids=tuple(sorted({pk for pk in exclude if pk})),
    )
    notice_requested.send(sender=NoticeRequest, request=request)
