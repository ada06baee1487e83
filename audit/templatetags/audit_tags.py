"""`{{ event.verb|verb_label }}`: the human label of an audit verb, from the apps' events modules."""

from __future__ import annotations

from importlib import import_module

from django import template

register = template.Library()
_LABEL_MODULES = ("documents.events", "accounts.events", "workflows.events", "signatures.events", "search.events",
                  "dashboard.events", "records.events")


def _labels() -> dict:
    labels: dict = {}
    for module_name in _LABEL_MODULES:
        try:
            labels.update(getattr(import_module(module_name), "LABELS", {}))
        except ImportError:
            continue
    return labels


@register.filter
def verb_label(verb: str) -> str:
    return str(_labels().get(verb, verb))
