"""Read queries of the organisation, and the one rule of who administers what.

Administration is scoped: an agency's administrators manage their own agency (and, when the installation
sets ADMIN_SCOPE_INCLUDES_SUBTREE, the agencies below it in the tree); only the installation's superusers act
everywhere. `administered_agencies` is that rule and the only place it is written: accounts' services, the
API's querysets, the admin's querysets and choices, the settings page, documents' registers and the audit
trail (through the scope accounts registers with audit) all start from it.

It says *where*, not *what*: the role's model permissions (accounts.change_user, documents.add_register...)
say what a person may do, and the services ask for both.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Model, QuerySet

from . import roles
from .models import Agency, User

_MAX_TREE_DEPTH = 100


def role_names(user) -> frozenset[str]:
    """The person's role (group) names, read once per user object: a page asks several "is a leader of…"
    questions, each of which would otherwise query the groups again."""
    cached = getattr(user, "_role_names_cache", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True)) if user.is_authenticated else frozenset()
        user._role_names_cache = cached
    return cached


def unit_leader_ids(unit_ids) -> list[int]:
    """The active leaders of these units: who is told of what concerns a unit (internal documents sent to it,
    its work files due for transfer)."""
    return list(User.objects.filter(unit_id__in=unit_ids, is_active=True, groups__name=roles.UNIT_LEADER)
                .values_list("pk", flat=True))


def scope_includes_subtree() -> bool:
    return bool(getattr(settings, "ADMIN_SCOPE_INCLUDES_SUBTREE", False))


def _acting(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def administered_agencies(user) -> QuerySet[Agency]:
    """The agencies `user` administers: every agency for an active superuser; otherwise the person's own
    agency, with the agencies below it when ADMIN_SCOPE_INCLUDES_SUBTREE is on; none for a person without an
    agency, an inactive person or an anonymous request. Use `.values("pk")` as a subquery."""
    if not _acting(user):
        return Agency.objects.none()
    if user.is_superuser:
        return Agency.objects.all()
    if not user.agency_id:
        return Agency.objects.none()
    if not scope_includes_subtree():
        return Agency.objects.filter(pk=user.agency_id)
    return Agency.objects.filter(pk__in=_subtree_ids(user.agency_id))


def administered_agency_ids(user) -> QuerySet:
    """`administered_agencies(user)` as an id subquery (`agency_id__in=...`)."""
    return administered_agencies(user).values("pk")


def _subtree_ids(root_id: int) -> list[int]:
    """The agency and every agency below it: one query per level of the tree (province → district →
    commune: three or four). Rows already seen are not followed again, so a broken tree cannot loop."""
    ids, level = [root_id], [root_id]
    for _depth in range(_MAX_TREE_DEPTH):
        level = list(Agency.objects.filter(parent_id__in=level).exclude(pk__in=ids).values_list("pk", flat=True))
        if not level:
            break
        ids.extend(level)
    return ids


def may_administer(user, agency: Agency | int | None) -> bool:
    """Whether `agency` (a row or an id) is in `user`'s scope of administration. Rows outside every agency
    (a person without one, the installation-wide audit chain) belong to the superusers only."""
    if not _acting(user):
        return False
    if user.is_superuser:
        return True
    agency_id = agency.pk if isinstance(agency, Model) else agency
    if agency_id is None:
        return False
    return administered_agencies(user).filter(pk=agency_id).exists()


def in_administered_agencies(queryset: QuerySet, user, field: str = "agency") -> QuerySet:
    """`queryset` narrowed to the rows whose `field` (an agency foreign key) is administered by `user`.
    Superusers keep every row, also those without an agency."""
    if _acting(user) and user.is_superuser:
        return queryset
    return queryset.filter(**{f"{field}__in": administered_agencies(user).values("pk")})


def parents_for_new_agencies(user) -> QuerySet[Agency]:
    """Agencies under which `user` may add an agency. The new agency must be one they administer once it
    exists: under one of their agencies when the scope includes the subtree; otherwise (and at the root of
    the tree) only superusers add agencies."""
    if _acting(user) and user.is_superuser:
        return Agency.objects.all()
    if not scope_includes_subtree():
        return Agency.objects.none()
    return administered_agencies(user)


def may_add_agency(user, parent: Agency | int | None) -> bool:
    if _acting(user) and user.is_superuser:
        return True
    parent_id = parent.pk if isinstance(parent, Model) else parent
    return parent_id is not None and parents_for_new_agencies(user).filter(pk=parent_id).exists()


def grantable_roles(user) -> set[str]:
    """The roles (accounts.roles) `user` may give or take away: all of them for superusers; for someone who
    manages people (accounts.add_user or change_user), the working roles, and a role that itself manages
    the organisation (one carrying accounts.* permissions, the Administrator) only if they hold every
    permission of that role, so nobody hands out more than they have."""
    if not _acting(user):
        return set()
    if user.is_superuser:
        return set(roles.ROLE_PERMISSIONS)
    if not (user.has_perm("accounts.add_user") or user.has_perm("accounts.change_user")):
        return set()
    return {
        role for role, permissions in roles.ROLE_PERMISSIONS.items()
        if not any(name.startswith("accounts.") for name in permissions) or user.has_perms(permissions)
    }
