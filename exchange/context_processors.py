"""The navigation's "Received electronically" entry with the number waiting: computed only when a page
renders it (lazy), as one COUNT for a clerk (a unit leader who is not a clerk: one query for the role, then
the COUNT), nothing for the others."""

from __future__ import annotations

from django.db.models import Exists, Q
from django.utils.functional import SimpleLazyObject

from accounts import roles

from .models import Delivery, StatusCode
from .services import CLERK_PERMISSION


def _nav(user) -> dict:
    if not user.is_authenticated or not user.is_active or not user.agency_id:
        return {"show": False, "waiting": 0}
    leader_groups = user.groups.through.objects.filter(user_id=user.pk, group__name=roles.UNIT_LEADER)
    unit_condition = Q(recipient_unit_id=user.unit_id) & Q(Exists(leader_groups)) if user.unit_id else Q(pk__in=[])
    if user.has_perm(CLERK_PERMISSION):
        condition = Q(recipient_agency_id=user.agency_id, recipient_unit__isnull=True) | unit_condition
    elif user.unit_id and leader_groups.exists():
        condition = Q(recipient_unit_id=user.unit_id)
    else:
        return {"show": False, "waiting": 0}
    waiting = Delivery.objects.filter(condition, status=StatusCode.ARRIVED, recalled_at__isnull=True).count()
    return {"show": True, "waiting": waiting}


def exchange_nav(request) -> dict:
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"exchange_nav": SimpleLazyObject(lambda: _nav(user))}
