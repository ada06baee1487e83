"""Two-factor authentication: who must have a second factor, and every change of one (django-otp).

A person's second factor is an authenticator app (django-otp's TOTP device, confirmed with a first code) and
ten one-time backup codes (its static device), made together at enrolment. Whoever has one enters a code
after the password at log-in (accounts.middleware) and with each signature or seal (signatures.services
.confirm_signer). With OTP_REQUIRED on, these people must have one: administrators (staff, superusers, the
Administrator role), and those named by the rules the apps above register here (signatures: holders of an
active personal signing certificate, clerks who seal for an agency with an active seal) — accounts imports
none of them.

A code is checked against the devices under `select_for_update` in its own transaction, so the TOTP
device's replay protection (the last accepted time step is stored) and django-otp's throttling of failed
attempts hold across processes, and a refusal is remembered even when the caller then raises.
"""

from __future__ import annotations

from collections.abc import Callable

import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import record_event

from . import events, roles

BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup"

# Rules of the apps above: `rule(user) -> bool`, true when the person must have a second factor.
_RULES: list[Callable[[object], bool]] = []


def register_requirement(rule: Callable[[object], bool]) -> None:
    """Called from an AppConfig.ready(); registering the same rule twice has no effect."""
    if rule not in _RULES:
        _RULES.append(rule)


def _acting(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def must_have_second_factor(user) -> bool:
    """Whether OTP_REQUIRED applies to `user`: administrators and the people the registered rules name."""
    if not getattr(settings, "OTP_REQUIRED", True) or not _acting(user):
        return False
    if user.is_staff or user.is_superuser or user.groups.filter(name=roles.ADMINISTRATOR).exists():
        return True
    return any(rule(user) for rule in _RULES)


def has_second_factor(user) -> bool:
    """A confirmed authenticator app (backup codes alone do not count: they are made with one)."""
    return _acting(user) and TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def code_required(user) -> bool:
    """Whether a log-in or a signature of `user` needs a one-time code."""
    return has_second_factor(user) or must_have_second_factor(user)


def verify_code(user, code: str | None) -> Device | None:
    """The device (the app first, then the backup codes) that accepts `code`, or None. An accepted TOTP code
    cannot be used again (its time step is stored); a backup code is deleted once used."""
    code = "".join((code or "").split()).lower()
    if not code or not _acting(user):
        return None
    for model in (TOTPDevice, StaticDevice):
        with transaction.atomic():
            for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
                if device.verify_token(code):
                    return device
    return None


def record_refused_code(user, *, purpose: str, code_given: bool, address: str = "") -> None:
    """Audit a refused one-time code (a guess, a replay, a stolen password without the phone): the security
    officer sees who was asked for a code and failed, at log-in or for an API token. Its own transaction:
    the refusal itself changes nothing else."""
    with transaction.atomic():
        record_event(actor=user, verb=events.OTP_CODE_REFUSED, target=user, agency_id=user.agency_id,
                     data={"purpose": purpose, "code_given": code_given, "address": address})


def pending_app(user) -> TOTPDevice | None:
    """The authenticator app being enrolled (shown as a QR code until confirmed with a first code)."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URI as an inline SVG QR code, made here (no external service sees the key)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)


def backup_codes(user) -> list[str]:
    """The backup codes not used yet."""
    return list(StaticToken.objects.filter(device__user=user, device__confirmed=True)
                .order_by("id").values_list("token", flat=True))


def _require_self(user) -> None:
    if not _acting(user):
        raise PermissionDenied(_("You are not allowed to do this."))


def start_enrolment(user) -> TOTPDevice:
    """A new, unconfirmed authenticator app for `user` (any earlier unconfirmed one is dropped)."""
    _require_self(user)
    if has_second_factor(user):
        raise ValidationError(_("You already have a second factor. Remove it first to set up another one."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def _new_backup_codes(user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME,
                                                          defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _index in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def confirm_enrolment(user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending app with its first code; the backup codes are made now. Audited."""
    _require_self(user)
    device = pending_app(user)
    if device is None:
        raise ValidationError(_("Start the set-up again: there is no authenticator app waiting to be confirmed."))
    with transaction.atomic():  # its own transaction: a refused code's throttling is kept
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        accepted = device.verify_token("".join((code or "").split()))
    if not accepted:
        raise ValidationError(_("The code is not correct. Check the time of your phone and try the current code."))
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _new_backup_codes(user)
        record_event(actor=user, verb=events.OTP_ENROLLED, target=user, agency_id=user.agency_id,
                     data={"backup_codes": len(codes)})
    return device, codes


def _require_code(user, code: str) -> Device:
    device = verify_code(user, code)
    if device is None:
        raise ValidationError(_("The code is not correct or has been used already."))
    return device


def regenerate_backup_codes(user, code: str) -> list[str]:
    """New backup codes (the old ones stop working), confirmed with a current code. Audited."""
    _require_self(user)
    if not has_second_factor(user):
        raise ValidationError(_("Set up an authenticator app first."))
    _require_code(user, code)
    with transaction.atomic():
        codes = _new_backup_codes(user)
        record_event(actor=user, verb=events.OTP_BACKUP_CODES_REGENERATED, target=user, agency_id=user.agency_id,
                     data={"backup_codes": len(codes)})
    return codes


def delete_devices(user) -> int:
    """Remove every device of `user` (the caller checks and audits); returns how many."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        count, _detail = model.objects.filter(user=user).delete()
        removed += count
    return removed


def remove_second_factor(user, code: str) -> None:
    """The person removes their app and backup codes, confirmed with a code. Audited."""
    _require_self(user)
    if not has_second_factor(user):
        raise ValidationError(_("You have no second factor to remove."))
    _require_code(user, code)
    with transaction.atomic():
        delete_devices(user)
        record_event(actor=user, verb=events.OTP_REMOVED, target=user, agency_id=user.agency_id, data={})
