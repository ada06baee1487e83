"""The receiver of `eoffice.notices.notice_requested`: the intent row, in the caller's transaction."""

from __future__ import annotations

from eoffice.notices import NoticeRequest

from . import services


def store_intent(sender, request: NoticeRequest, **kwargs) -> None:
    services.store_event(request)
