"""Every state change of the organisation tree, people and delegations.

The API and the Django admin both call these: each checks the model permission, validates the row
(full_clean, plus the rules a single row cannot express), saves it and writes one audit event in the
same transaction. Callers pass the instance (new or loaded) and the field values to apply; the audit
event records what actually changed, compared with the stored row.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event

from . import events
from . import roles as role_defs
from .models import Agency, Delegation, Unit, User

# Never written to the audit trail, even hashed.
_SECRET_FIELDS = {"password"}
# Fields whose change does not describe the person (bookkeeping by Django itself).
_IGNORED_FIELDS = {"last_login"}
# Only a superuser may give or take these: they bypass every role.
_PRIVILEGED_FIELDS = {"is_superuser", "is_staff"}
_MAX_TREE_DEPTH = 100


def _require(actor, permission: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(permission):
        raise PermissionDenied(_("You are not allowed to do this."))


def _plain(value: Any) -> Any:
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def _snapshot(instance: models.Model) -> dict[str, Any]:
    """Field name → stored value (foreign keys as ids), for the audit trail."""
    return {
        field.name: _plain(field.value_from_object(instance))
        for field in instance._meta.concrete_fields
        if not field.primary_key and field.name not in _SECRET_FIELDS | _IGNORED_FIELDS
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def _apply(instance: models.Model, changed: dict[str, Any] | None) -> None:
    """Set the given field values; unknown names are a programming error, not user input."""
    field_names = {f.name for f in instance._meta.concrete_fields if not f.primary_key}
    for name, value in (changed or {}).items():
        if name not in field_names:
            raise TypeError(f"{type(instance).__name__} has no editable field {name!r}")
        setattr(instance, name, value)


def _stored(instance: models.Model) -> dict[str, Any]:
    if instance._state.adding or instance.pk is None:
        return {}
    return _snapshot(type(instance)._default_manager.get(pk=instance.pk))


def _check_no_cycle(instance: Agency | Unit, message: str) -> None:
    """A parent chain must not come back to the row itself (the tree stays a tree)."""
    if instance.pk is None:
        return
    parent_id = instance.parent_id
    model = type(instance)
    for _step in range(_MAX_TREE_DEPTH):
        if parent_id is None:
            return
        if parent_id == instance.pk:
            raise ValidationError({"parent": message})
        parent_id = model._default_manager.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    raise ValidationError({"parent": message})


# --- agencies and units -----------------------------------------------------------------------


def save_agency(actor, agency: Agency, changed: dict[str, Any] | None = None) -> Agency:
    """Create or change an agency of the tree (administrators: accounts.add_agency / change_agency)."""
    creating = agency._state.adding
    _require(actor, "accounts.add_agency" if creating else "accounts.change_agency")
    before = _stored(agency)
    _apply(agency, changed)
    _check_no_cycle(agency, _("An agency cannot be governed by itself or by one of its subordinates."))
    agency.full_clean()
    after = _snapshot(agency)
    changes = _diff(before, after)
    if not creating and not changes:
        return agency
    with transaction.atomic():
        agency.save()
        record_event(
            actor=actor, verb=events.AGENCY_CREATED if creating else events.AGENCY_CHANGED, target=agency,
            agency_id=agency.pk, data=after if creating else {"changes": changes},
        )
    return agency


def save_unit(actor, unit: Unit, changed: dict[str, Any] | None = None) -> Unit:
    """Create or change an internal unit of an agency (accounts.add_unit / change_unit)."""
    creating = unit._state.adding
    _require(actor, "accounts.add_unit" if creating else "accounts.change_unit")
    before = _stored(unit)
    _apply(unit, changed)
    errors = {}
    if not creating and before.get("agency") != unit.agency_id:
        # Its people, documents and sub-units belong to the old agency: create a new unit instead.
        errors["agency"] = _("A unit cannot move to another agency.")
    if unit.parent_id:
        parent = Unit.objects.filter(pk=unit.parent_id).only("agency_id").first()
        if parent is not None and parent.agency_id != unit.agency_id:
            errors["parent"] = _("The parent unit must belong to the same agency.")
    if errors:
        raise ValidationError(errors)
    _check_no_cycle(unit, _("A unit cannot be inside itself or one of its sub-units."))
    unit.full_clean()
    after = _snapshot(unit)
    changes = _diff(before, after)
    if not creating and not changes:
        return unit
    with transaction.atomic():
        unit.save()
        record_event(
            actor=actor, verb=events.UNIT_CREATED if creating else events.UNIT_CHANGED, target=unit,
            agency_id=unit.agency_id, data=after if creating else {"changes": changes},
        )
    return unit


# --- people -----------------------------------------------------------------------------------


def _role_names(user: User) -> list[str]:
    if user.pk is None:
        return []
    return sorted(user.groups.filter(name__in=role_defs.ROLE_PERMISSIONS).values_list("name", flat=True))


def save_user(
    actor,
    user: User,
    roles: list[str] | None = None,
    *,
    changed: dict[str, Any] | None = None,
    password: str | None = None,
) -> User:
    """Create or change a person: work e-mail, agency, unit, position and roles (group names from
    accounts.roles; None leaves them as they are). A new person without a password cannot log in
    until one is set. Only a superuser may change a superuser or the staff/superuser flags."""
    creating = user._state.adding
    _require(actor, "accounts.add_user" if creating else "accounts.change_user")
    before = _stored(user)
    if before.get("is_superuser") and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser may change a superuser."))
    old_roles = _role_names(user)
    _apply(user, changed)
    after = _snapshot(user)
    changes = _diff(before, after)
    privileged = any(after.get(f) for f in _PRIVILEGED_FIELDS) if creating else bool(set(changes) & _PRIVILEGED_FIELDS)
    if privileged and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser may give or take administrative access to the site."))
    errors: dict[str, Any] = {}
    if user.unit_id:
        unit_agency = Unit.objects.filter(pk=user.unit_id).values_list("agency_id", flat=True).first()
        if unit_agency != user.agency_id:
            errors["unit"] = _("The unit must belong to the person's agency.")
    new_roles = None
    if roles is not None:
        unknown = sorted(set(roles) - set(role_defs.ROLE_PERMISSIONS))
        if unknown:
            errors["roles"] = _("Unknown roles: %(roles)s.") % {"roles": ", ".join(unknown)}
        new_roles = sorted(set(roles))
    if password is not None:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if password is not None:
        user.set_password(password)
    elif creating and not user.password:
        user.set_unusable_password()
    user.full_clean()  # also normalises the e-mail and username
    after = _snapshot(user)
    changes = _diff(before, after)
    role_changed = new_roles is not None and new_roles != old_roles
    if not creating and not changes and not role_changed and password is None:
        return user
    with transaction.atomic():
        user.save()
        if new_roles is not None:
            role_groups = list(Group.objects.filter(name__in=new_roles))
            if len(role_groups) != len(new_roles):
                raise ValidationError({"roles": _("The role groups are missing; run the migrations.")})
            user.groups.remove(*user.groups.filter(name__in=role_defs.ROLE_PERMISSIONS))
            user.groups.add(*role_groups)
        data: dict[str, Any] = after if creating else {"changes": changes}
        if role_changed or (creating and new_roles):
            data["roles"] = new_roles if creating else [old_roles, new_roles]
        if password is not None:
            data["password_set"] = True
        record_event(
            actor=actor, verb=events.USER_CREATED if creating else events.USER_CHANGED, target=user,
            agency_id=user.agency_id, data=data,
        )
    return user


# --- delegations ------------------------------------------------------------------------------


def save_delegation(actor, delegation: Delegation, changed: dict[str, Any] | None = None) -> Delegation:
    """Record (or correct) who acts for whom, under which prefix, between two dates. A revoked
    delegation is history and stays as it was."""
    creating = delegation._state.adding
    _require(actor, "accounts.add_delegation" if creating else "accounts.change_delegation")
    before = _stored(delegation)
    if before.get("revoked_at"):
        raise ValidationError(_("A revoked delegation cannot be changed."))
    _apply(delegation, changed)
    errors = {}
    people = dict(
        User.objects.filter(pk__in=[delegation.delegator_id, delegation.delegate_id]).values_list("pk", "agency_id")
    )
    for field in ("delegator", "delegate"):
        person_id = getattr(delegation, f"{field}_id")
        if person_id and person_id in people and people[person_id] != delegation.agency_id:
            errors[field] = _("The person must belong to the delegation's agency.")
    if errors:
        raise ValidationError(errors)
    delegation.full_clean()
    after = _snapshot(delegation)
    changes = _diff(before, after)
    if not creating and not changes:
        return delegation
    with transaction.atomic():
        delegation.save()
        record_event(
            actor=actor, verb=events.DELEGATION_CREATED if creating else events.DELEGATION_CHANGED,
            target=delegation, agency_id=delegation.agency_id, data=after if creating else {"changes": changes},
        )
    return delegation


def revoke_delegation(actor, delegation: Delegation) -> Delegation:
    """End a delegation now; it stays in the records as revoked."""
    _require(actor, "accounts.change_delegation")
    with transaction.atomic():
        locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if locked.revoked_at is not None:
            raise ValidationError(_("This delegation is already revoked."))
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            actor=actor, verb=events.DELEGATION_REVOKED, target=locked, agency_id=locked.agency_id,
            data={"revoked_at": locked.revoked_at},
        )
    delegation.revoked_at = locked.revoked_at
    return delegation
