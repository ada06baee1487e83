"""Reads of notices: a person only ever reads their own (every query starts from the user's id)."""

from __future__ import annotations

from django.db.models import QuerySet

from eoffice import notices

from .models import EmailMode, Notice, NotificationSettings, Preference
from .notice_kinds import UNLISTED


def notices_for(user) -> QuerySet[Notice]:
    """The notices `user` sees in the application, newest first."""
    if not user.is_authenticated:
        return Notice.objects.none()
    return Notice.objects.filter(user_id=user.pk, in_app=True).order_by("-created_at", "-id")


def unread_notices(user) -> QuerySet[Notice]:
    return notices_for(user).filter(read_at__isnull=True)


def unread_count(user) -> int:
    return unread_notices(user).count() if user.is_authenticated else 0


def settings_of(user) -> NotificationSettings:
    """The person's settings row, or an unsaved one with the defaults."""
    return NotificationSettings.objects.filter(user_id=user.pk).first() or NotificationSettings(user_id=user.pk)


def default_preference(kind: notices.NoticeKind) -> tuple[bool, str]:
    return True, EmailMode.IMMEDIATE if kind.email else EmailMode.OFF


def preferences_of(user) -> list[dict]:
    """One line per registered kind: its code and label, in-app on/off and the e-mail mode (defaults where the
    person chose nothing)."""
    chosen = {p.kind: p for p in Preference.objects.filter(user_id=user.pk)}
    lines = []
    for kind in notices.kinds():
        if kind.code in UNLISTED:
            continue
        in_app, email = default_preference(kind)
        if kind.code in chosen:
            in_app, email = chosen[kind.code].in_app, chosen[kind.code].email
        lines.append({"kind": kind.code, "label": kind.label, "in_app": in_app, "email": email})
    return lines
