"""Template tags of notices for pages of other apps (the header's bell, the "My work" reminders): a template
names them, no other app's Python imports this one."""

from __future__ import annotations

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notice_count(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    return selectors.unread_count(user) if user is not None else 0


@register.simple_tag(takes_context=True)
def unread_notices(context, limit: int = 20) -> list:
    request = context.get("request")
    user = getattr(request, "user", None)
    return list(selectors.unread_notices(user)[:limit]) if user is not None and user.is_authenticated else []
