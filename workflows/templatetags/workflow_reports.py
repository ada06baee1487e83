"""`{{ user|may_open_reports }}`: the menu and pages show the Reports link to exactly those the reports
let in (workflows.reports.report_access, the rule the views apply)."""

from __future__ import annotations

from django import template

from ..reports import report_access

register = template.Library()


@register.filter
def may_open_reports(user) -> bool:
    return report_access(user) is not None
