"""Who reads which audit events: the trail is read through the same rules as what it describes.

audit is the lowest app and knows agencies and targets only by id, so the apps above it tell it their rules
at start-up (their AppConfig.ready):

- accounts registers the agency scope (`register_agency_scope`): the agencies whose chains a person reads,
  those they administer (accounts.selectors.administered_agencies). Superusers read every chain, the
  installation's own ("system") included; without a registered scope nobody else reads any.
- an app whose objects may be kept from people registers a target filter for its target type
  (`register_target_filter("documents.document", documents.selectors.audit_target_filter)`): given the
  person, it returns the condition (a Q over AuditEvent) the events of that type must meet. documents and
  workflows let the events of a secret document or draft through only for those who may see it.

The filters apply to everyone, superusers included: whoever gets "not found" for a secret document does not
read its number and subject in the trail either. The registries are configuration filled once per process,
the same in every process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from .models import AuditEvent

AgencyScope = Callable[[Any], QuerySet]  # person → a values("pk") query of agency ids
TargetFilter = Callable[[Any], Q]  # person → condition on AuditEvent for the events of one target type

_agency_scope: list[AgencyScope] = []
_target_filters: dict[str, TargetFilter] = {}


def register_agency_scope(scope: AgencyScope) -> None:
    """Set the agencies whose chains a person reads (replaces an earlier one: ready() may run twice)."""
    _agency_scope[:] = [scope]


def register_target_filter(target_type: str, restrict: TargetFilter) -> None:
    """Set the condition the events of `target_type` ("app_label.model") must meet for a person."""
    _target_filters[target_type] = restrict


def unregister_target_filter(target_type: str) -> None:
    _target_filters.pop(target_type, None)


def _acting(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def without_hidden_targets(events: QuerySet[AuditEvent], user) -> QuerySet[AuditEvent]:
    """`events` without those whose target a registered filter keeps from `user`."""
    for target_type, restrict in sorted(_target_filters.items()):
        events = events.filter(~Q(target_type=target_type) | restrict(user))
    return events


def visible_events(user) -> QuerySet[AuditEvent]:
    """The events `user` reads in the audit log: with the permission audit.view_auditevent, the chains of
    the agencies in their scope (every chain for superusers), less the events of targets kept from them."""
    if not _acting(user) or not user.has_perm("audit.view_auditevent"):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.all()
    if not user.is_superuser:
        if not _agency_scope:
            return AuditEvent.objects.none()
        events = events.filter(agency_id__in=_agency_scope[0](user))
    return without_hidden_targets(events, user)
