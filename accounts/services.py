"""Every state change of the organisation tree, people and delegations.

The API and the Django admin both call these: each checks the model permission and that the agencies
concerned are administered by the actor (accounts.selectors.administered_agencies: an agency's
administrators manage their own agency, superusers every agency), validates the row
(full_clean, plus the rules a single row cannot express), saves it and writes one audit event in the
same transaction. Callers pass the instance (new or loaded) and the field values to apply; the audit
event records what actually changed, compared with the stored row.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from audit.services import TargetRef, record_event

from . import events, selectors, two_factor
from . import roles as role_defs
from .models import Agency, Delegation, Unit, User

# Never written to the audit trail, even hashed.
_SECRET_FIELDS = {"password"}
# Fields whose change does not describe the person (bookkeeping by Django itself, and the moment sessions
# were ended, which the event says in its own words).
_IGNORED_FIELDS = {"last_login", "sessions_revoked_at"}
# Only a superuser may give or take these: they bypass every role.
_PRIVILEGED_FIELDS = {"is_superuser", "is_staff"}
_MAX_TREE_DEPTH = 100


def _require(actor, permission: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(permission):
        raise PermissionDenied(_("You are not allowed to do this."))


def _require_scope(actor, *agencies: Agency | int | None) -> None:
    """Each agency (a row or an id; None: outside every agency) must be administered by the actor."""
    for agency in agencies:
        if not selectors.may_administer(actor, agency):
            raise PermissionDenied(_("You do not administer this agency."))


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
    """Create or change an agency of the tree (administrators: accounts.add_agency / change_agency). A new
    agency goes under an agency the actor administers (selectors.may_add_agency); moving an agency to
    another governing agency needs both the old and the new one administered (so only superusers move the
    top of an administrator's scope)."""
    creating = agency._state.adding
    _require(actor, "accounts.add_agency" if creating else "accounts.change_agency")
    before = _stored(agency)
    if not creating:
        _require_scope(actor, agency.pk)
    _apply(agency, changed)
    if creating and not selectors.may_add_agency(actor, agency.parent_id):
        raise PermissionDenied(_("You may add an agency only under an agency you administer."))
    if not creating and before.get("parent") != agency.parent_id:
        _require_scope(actor, before.get("parent"), agency.parent_id)
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
    if not creating:
        _require_scope(actor, before.get("agency"))
    _apply(unit, changed)
    _require_scope(actor, unit.agency_id)
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
    disable_password: bool = False,
) -> User:
    """Create or change a person: work e-mail, agency, unit, position and roles (group names from
    accounts.roles; None leaves them as they are). A new person without a password cannot log in
    until one is set; `disable_password` takes the password away. A new or removed password, or a
    deactivation, ends every session and API token of the person at once. Only a superuser may change a superuser or the staff/superuser flags. The person's
    agency, before and after, must be administered by the actor, and the roles given or taken must be
    ones the actor may give (selectors.grantable_roles)."""
    creating = user._state.adding
    _require(actor, "accounts.add_user" if creating else "accounts.change_user")
    before = _stored(user)
    if before.get("is_superuser") and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser may change a superuser."))
    if not creating:
        _require_scope(actor, before.get("agency"))
    old_roles = _role_names(user)
    _apply(user, changed)
    _require_scope(actor, user.agency_id)
    if roles is not None:
        given_or_taken = set(roles) ^ set(old_roles)
        out_of_reach = sorted(given_or_taken & (set(role_defs.ROLE_PERMISSIONS) - selectors.grantable_roles(actor)))
        if out_of_reach:
            raise PermissionDenied(_("You may not give or take these roles: %(roles)s.") % {
                "roles": ", ".join(out_of_reach)})
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
    elif disable_password:
        user.set_unusable_password()
    elif creating and not user.password:
        user.set_unusable_password()
    user.full_clean()  # also normalises the e-mail and username
    after = _snapshot(user)
    changes = _diff(before, after)
    role_changed = new_roles is not None and new_roles != old_roles
    password_changed = password is not None or disable_password
    if not creating and not changes and not role_changed and not password_changed:
        return user
    revoke = not creating and (password_changed or (before.get("is_active") and not user.is_active))
    with transaction.atomic():
        if revoke:  # every session's hash changes (User._get_session_auth_hash): they end at their next request
            user.sessions_revoked_at = timezone.now()
        user.save()
        if revoke:
            Token.objects.filter(user_id=user.pk).delete()
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
        if disable_password:
            data["password_disabled"] = True
        if revoke:
            data["sessions_revoked"] = True
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
    if not creating:
        _require_scope(actor, before.get("agency"))
    if before.get("revoked_at"):
        raise ValidationError(_("A revoked delegation cannot be changed."))
    _apply(delegation, changed)
    _require_scope(actor, delegation.agency_id)
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
        _require_scope(actor, locked.agency_id)
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


# --- sessions, tokens and log-in locks ---------------------------------------------------------------


def revoke_sessions(actor, user: User) -> User:
    """Log the person out everywhere: every session (browsers, the admin) and the API token end at once,
    the current one included. The person does it for themself; an administrator (accounts.change_user) for
    the people of the agencies they administer. Sessions are not searched for: their hash includes
    `sessions_revoked_at` (User._get_session_auth_hash), so each one ends at its next request."""
    if actor is None or not actor.is_authenticated or actor.pk != user.pk:
        _require(actor, "accounts.change_user")
        _require_scope(actor, user.agency_id)
    with transaction.atomic():
        now = timezone.now()
        User.objects.filter(pk=user.pk).update(sessions_revoked_at=now)
        user.sessions_revoked_at = now
        tokens, _detail = Token.objects.filter(user_id=user.pk).delete()
        record_event(
            actor=actor, verb=events.USER_SESSIONS_REVOKED, target=user, agency_id=user.agency_id,
            data={"tokens_revoked": tokens, "by_self": actor.pk == user.pk},
        )
    return user


def reset_second_factor(actor, user: User) -> User:
    """An administrator (accounts.change_user, in the person's agency) removes the person's second factor,
    e.g. after a lost phone; with OTP_REQUIRED they must enrol again at their next request. Sessions verified
    with the removed device stop counting as verified (django-otp no longer finds it)."""
    _require(actor, "accounts.change_user")
    _require_scope(actor, user.agency_id)
    with transaction.atomic():
        removed = two_factor.delete_devices(user)
        record_event(actor=actor, verb=events.OTP_RESET, target=user, agency_id=user.agency_id,
                     data={"devices_removed": removed})
    return user


def change_own_password(user: User, password: str) -> User:
    """The person sets a new password for themself (the caller has checked the current one): Django's
    validators apply, every other session and the API token end (the caller keeps its own session with
    `update_session_auth_hash`), and it is audited like an administrator's change."""
    if not user.is_authenticated:
        raise PermissionDenied(_("You are not allowed to do this."))
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    with transaction.atomic():
        user.set_password(password)
        user.sessions_revoked_at = timezone.now()
        user.save(update_fields=["password", "sessions_revoked_at"])
        Token.objects.filter(user_id=user.pk).delete()
        record_event(
            actor=user, verb=events.USER_CHANGED, target=user, agency_id=user.agency_id,
            data={"changes": {}, "password_set": True, "sessions_revoked": True},
        )
    return user


def _login_target(username: str | None, address: str | None, by_account: bool) -> tuple[Any, int | None]:
    """The audit target and chain of a lock: the person when an existing account is what was locked,
    otherwise a reference to the log-in name or the address (system chain: it may be no one's)."""
    if by_account and username:
        person = User.objects.filter(username=username).first()
        if person is not None:
            return person, person.agency_id
    key = (username or "-") if by_account else (address or "-")
    return TargetRef("accounts.login", key[:150], f"{username or '-'} @ {address or '-'}"), None


def record_login_locked(*, username: str | None, address: str | None, kind: str, failures: int | None) -> None:
    """Audit the start of a log-in lock (accounts.lockout); `kind` is "account" or "address". Whoever typed
    the passwords is unknown: the event is the system's."""
    target, agency_id = _login_target(username, address, kind == "account")
    with transaction.atomic():
        record_event(
            actor=None, verb=events.LOGIN_LOCKED, target=target, agency_id=agency_id,
            data={"username": (username or "")[:150], "address": address or "", "locked": kind,
                  "failures": failures, "minutes": settings.LOGIN_LOCKOUT_MINUTES},
        )


def _unlock(actor, attempts) -> int:
    """Delete failed log-in records (what a lock is made of), with one audit event per log-in name."""
    rows = list(attempts.values("username", "ip_address", "failures_since_start"))
    if not rows:
        return 0
    by_name: dict[str, list[dict]] = {}
    for row in rows:
        by_name.setdefault(row["username"] or "", []).append(row)
    with transaction.atomic():
        attempts.delete()
        for username, name_rows in sorted(by_name.items()):
            target, agency_id = _login_target(username, name_rows[0]["ip_address"], True)
            record_event(
                actor=actor, verb=events.LOGIN_UNLOCKED, target=target, agency_id=agency_id,
                data={"username": username[:150], "addresses": sorted({r["ip_address"] or "" for r in name_rows}),
                      "failures": sum(r["failures_since_start"] for r in name_rows)},
            )
    return len(rows)


def unlock_person(actor, user: User) -> int:
    """End the lock of a person's account: their failed log-ins from every address are forgotten
    (accounts.change_user, in an agency the actor administers). Returns how many failure records were
    removed (0: nothing to unlock, nothing recorded)."""
    _require(actor, "accounts.change_user")
    _require_scope(actor, user.agency_id)
    return _unlock(actor, AccessAttempt.objects.filter(username=user.get_username()))


def unlock_attempts(actor, attempts) -> int:
    """End the locks made of these failure records, addresses included (the axes admin's delete: the
    installation's administrators, axes.delete_accessattempt)."""
    _require(actor, "axes.delete_accessattempt")
    return _unlock(actor, attempts)
