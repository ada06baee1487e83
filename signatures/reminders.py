"""Reminders that a certificate expires soon, sent once per certificate and threshold by a daily task.

An active seal or personal signing certificate: the administrators of its agency (role Administrator) and, for
a personal one, its owner. A trusted CA certificate: the installation's superusers. The reminder is a notice
(eoffice.notices: in the app and by e-mail as each person's preferences say, in each reader's language), recorded
in `ExpiryReminder` under a unique key and in the audit trail in the same transaction, so running the task again,
or twice at once, sends nothing more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMINISTRATOR
from audit.services import record_event
from eoffice import notices

from . import events, notice_kinds
from .models import ExpiryReminder, SigningCredential, TrustAnchor

# Days before `not_after` at which a reminder goes out (one each); the smallest one reached is used.
THRESHOLDS_DAYS = (30,)


@dataclass(frozen=True)
class _Due:
    target: SigningCredential | TrustAnchor
    target_type: str
    threshold: int
    recipients: list
    agency_id: int | None


def days_left(not_after: dt.datetime, now: dt.datetime | None = None) -> int:
    """Whole days until `not_after` (negative once expired)."""
    return (not_after - (now or timezone.now())).days


def _threshold(not_after: dt.datetime, now: dt.datetime) -> int | None:
    if not_after <= now:
        return None  # expired: nothing to remind, the certificate pages show it in red
    reached = [days for days in THRESHOLDS_DAYS if not_after <= now + dt.timedelta(days=days)]
    return min(reached) if reached else None


def _administrators(agency_id: int):
    return get_user_model().objects.filter(is_active=True, agency_id=agency_id, groups__name=ADMINISTRATOR)


def _due(now: dt.datetime) -> list[_Due]:
    horizon = now + dt.timedelta(days=max(THRESHOLDS_DAYS))
    due: list[_Due] = []
    credentials = (SigningCredential.objects.filter(is_active=True, not_after__gt=now, not_after__lte=horizon)
                   .select_related("user", "agency")
                   .defer("certificate_der", "encrypted_key", "encrypted_pin", "image_png", "chain_pem"))
    for credential in credentials:
        threshold = _threshold(credential.not_after, now)
        if threshold is None:
            continue
        people = {user.pk: user for user in _administrators(credential.agency_id)}
        if credential.user is not None and credential.user.is_active:
            people[credential.user.pk] = credential.user
        due.append(_Due(credential, "credential", threshold, list(people.values()), credential.agency_id))
    superusers = list(get_user_model().objects.filter(is_active=True, is_superuser=True))
    for anchor in TrustAnchor.objects.filter(is_active=True, not_after__gt=now, not_after__lte=horizon):
        threshold = _threshold(anchor.not_after, now)
        if threshold is not None:
            due.append(_Due(anchor, "trust_anchor", threshold, superusers, None))
    return due


def _notice(item: _Due, now: dt.datetime) -> tuple[str, dict, str]:
    """The kind, parameters and link of the reminder: a code and values, rendered in each reader's language
    when shown or mailed (notifications/), never a sentence in the site's language."""
    target = item.target
    params = {
        "subject": target.subject,
        "date": timezone.localtime(target.not_after).strftime("%d/%m/%Y"),
        "days": days_left(target.not_after, now),
    }
    if item.target_type == "trust_anchor":
        return notice_kinds.CA_EXPIRING, params, reverse("admin:signatures_trustanchor_changelist")
    if target.kind == "seal":
        return notice_kinds.SEAL_EXPIRING, {**params, "agency": target.agency.name}, reverse("signatures:certificates")
    return notice_kinds.PERSONAL_EXPIRING, params, reverse("signatures:certificates")


def send_expiry_reminders(now: dt.datetime | None = None) -> int:
    """Send what is due; returns how many reminders were sent (each to one or more people)."""
    now = now or timezone.now()
    sent = 0
    for item in _due(now):
        target = item.target
        key = f"{item.target_type}:{target.pk}:{target.fingerprint}:{item.threshold}"
        if ExpiryReminder.objects.filter(key=key).exists():
            continue
        kind, params, url = _notice(item, now)
        try:
            with transaction.atomic():
                ExpiryReminder.objects.create(
                    key=key, target_type=item.target_type, target_id=target.pk, fingerprint=target.fingerprint,
                    threshold_days=item.threshold, not_after=target.not_after,
                    recipients=sorted(user.get_username() for user in item.recipients),
                )
                record_event(actor=None, verb=events.EXPIRY_REMINDER_SENT, target=target, agency_id=item.agency_id,
                             data={"fingerprint": target.fingerprint, "not_after": target.not_after,
                                   "threshold_days": item.threshold,
                                   "recipients": sorted(user.get_username() for user in item.recipients)})
                notices.tell(kind, key=f"expiry:{key}", user_ids=[user.pk for user in item.recipients],
                             params=params, url=url)
        except IntegrityError:
            continue  # another run recorded it first
        sent += 1
    return sent
