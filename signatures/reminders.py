"""Reminders that a certificate expires soon, sent once per certificate and threshold by a daily task.

An active seal or personal signing certificate: the administrators of its agency (role Administrator) and, for
a personal one, its owner. A trusted CA certificate: the installation's superusers. The reminder is an e-mail
(Django's mail, the console backend unless configured) recorded in `ExpiryReminder` under a unique key and in
the audit trail in the same transaction, so running the task again, or twice at once, sends nothing more.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import ADMINISTRATOR
from audit.services import record_event

from . import events
from .models import ExpiryReminder, SigningCredential, TrustAnchor

logger = logging.getLogger(__name__)

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


def _message(item: _Due, now: dt.datetime) -> tuple[str, str]:
    target = item.target
    names = {
        "subject": target.subject,
        "date": timezone.localtime(target.not_after).strftime("%d/%m/%Y"),
        "days": days_left(target.not_after, now),
    }
    if item.target_type == "trust_anchor":
        subject = _("A trusted CA certificate expires on %(date)s") % names
        body = _("The trusted CA certificate %(subject)s expires on %(date)s (in %(days)s days). Import its "
                 "renewed certificate into the trust store before then.") % names
    elif target.kind == "seal":
        names["agency"] = target.agency.name
        subject = _("The seal certificate of %(agency)s expires on %(date)s") % names
        body = _("The seal certificate %(subject)s of %(agency)s expires on %(date)s (in %(days)s days). Renew "
                 "it and import the new certificate before then, or documents cannot be sealed.") % names
    else:
        subject = _("A signing certificate expires on %(date)s") % names
        body = _("The personal signing certificate %(subject)s expires on %(date)s (in %(days)s days). Renew "
                 "it and import the new certificate before then, or documents cannot be signed with it.") % names
    return subject, body


def send_expiry_reminders(now: dt.datetime | None = None) -> int:
    """Send what is due; returns how many reminders were sent (each to one or more people)."""
    now = now or timezone.now()
    sent = 0
    for item in _due(now):
        target = item.target
        key = f"{item.target_type}:{target.pk}:{target.fingerprint}:{item.threshold}"
        if ExpiryReminder.objects.filter(key=key).exists():
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _message(item, now)
        addresses = sorted({user.email for user in item.recipients if user.email})
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
                if addresses:
                    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses]
                    transaction.on_commit(lambda messages=messages: _send(messages))
        except IntegrityError:
            continue  # another run recorded it first
        sent += 1
    return sent


def _send(messages: list) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # noqa: BLE001 - a mail server down must not undo the record; it is logged
        logger.warning("certificate expiry reminder could not be mailed", exc_info=True)
