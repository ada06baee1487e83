"""`{{ user|may_open_dashboard }}`: the menu shows the dashboard link to exactly those its views let in."""

from __future__ import annotations

from django import template

from ..selectors import dashboard_scope

register = template.Library()


@register.filter
def may_open_dashboard(user) -> bool:
    return dashboard_scope(user) is not None
