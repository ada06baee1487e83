"""A forgotten password, reset by e-mail (Django's tokens), without revealing who has an account.

The web process only publishes `accounts.tasks.send_password_reset` with the address typed in, and answers the
same page whatever the address: the worker looks the address up, builds the one-time link and sends the mail,
so neither the answer nor its time tells whether an account exists. Nothing is stored before publishing: the
request is the visitor's own and retried by them, and a table of addresses typed by anonymous visitors could be
filled by anyone. A person gets at most PASSWORD_RESET_MAILS_PER_HOUR mails (a stranger cannot flood a mailbox).

The link works once and for PASSWORD_RESET_TIMEOUT seconds (Django's token covers the password hash and the last
log-in). Setting the new password (`reset_password`) is audited and ends every session and the API token, as a
password change does; it does not log the person in, so the second factor and the log-in lock-out
(accounts.lockout) still apply at the next log-in. The other way back in: the agency's administrator sets a
password on the people page (accounts.admin_login.ServicePasswordChangeForm).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from audit.services import record_event
from eoffice.tasking import publish, publish_on_commit

from . import events
from .models import User

SEND_TASK = "accounts.tasks.send_password_reset"
SEND_TO_TASK = "accounts.tasks.send_password_reset_to"


def request_password_reset(email: str, language: str) -> None:
    """Hand the address to a worker (the web process never sends mail, nor looks the address up)."""
    publish(SEND_TASK, email.strip(), language)


def people_with_address(email: str) -> list[User]:
    """Active people with this address (case-insensitive) and a usable password: Django's rule. A person
    without a password yet gets one from the administrator, not from a link."""
    return list(PasswordResetForm().get_users(email))


def _mail_allowed(email: str) -> bool:
    """At most PASSWORD_RESET_MAILS_PER_HOUR mails per address per hour (the cache is shared across nodes
    when CACHE_URL is Redis)."""
    key = "password-reset-mails:" + hashlib.sha256(email.strip().casefold().encode()).hexdigest()
    cache.add(key, 0, timeout=3600)
    try:
        sent = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        sent = 1
    return sent <= settings.PASSWORD_RESET_MAILS_PER_HOUR


def reset_link(user: User) -> str:
    """The absolute one-time link for `user` (SITE_URL: e-mails are read outside the request)."""
    path = reverse("password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user),
    })
    return settings.SITE_URL.rstrip("/") + path


def send_password_reset(email: str, language: str) -> int:
    """The worker's part: one mail per matching person, in the language of the page the request came from.
    Returns the number of mails sent (0 for an unknown address, which nobody else learns)."""
    people = people_with_address(email)
    if not people or not _mail_allowed(email):
        return 0
    for person in people:
        _mail_link(person, language)
    return len(people)


def send_password_reset_to(user_id: int, language: str) -> int:
    """The worker's part of an administrator's "send a reset link" (`mail_reset_link`): to that person only."""
    person = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if person is None or not person.has_usable_password():
        return 0
    _mail_link(person, language)
    return 1


def _mail_link(person: User, language: str) -> None:
    from eoffice.branding import installation_name

    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "person": person, "link": reset_link(person), "installation_name": installation_name(),
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600, "username": person.get_username(),
        }
        subject = " ".join(render_to_string("registration/password_reset_subject.txt", context).split())
        body = render_to_string("registration/password_reset_email.txt", context)
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[person.email]).send()
    with transaction.atomic():
        record_event(actor=None, verb=events.PASSWORD_RESET_MAILED, target=person, agency_id=person.agency_id,
                     data={"language": language})


def mail_reset_link(actor, person: User, language: str) -> bool:
    """An administrator (accounts.change_user, in the person's agency) sends the person a reset link: the person
    chooses the new password, which the administrator never learns. False (nothing sent) for someone inactive,
    without an e-mail address or without a password yet: the administrator sets one on the person's page."""
    from .services import _require, _require_scope

    _require(actor, "accounts.change_user")
    _require_scope(actor, person.agency_id)
    if not person.is_active or not person.email or not person.has_usable_password():
        return False
    with transaction.atomic():
        record_event(actor=actor, verb=events.PASSWORD_RESET_LINK_SENT, target=person, agency_id=person.agency_id,
                     data={"language": language})
        publish_on_commit(SEND_TO_TASK, person.pk, language)
    return True


def reset_password(user: User, password: str) -> User:
    """Set the new password from a valid link: Django's validators, then every session and the API token end
    (the person logs in again, with their second factor if they have one); audited as the person's own act."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    with transaction.atomic():
        user.set_password(password)
        user.sessions_revoked_at = timezone.now()
        user.save(update_fields=["password", "sessions_revoked_at"])
        Token.objects.filter(user_id=user.pk).delete()
        record_event(
            actor=user, verb=events.USER_CHANGED, target=user, agency_id=user.agency_id,
            data={"changes": {}, "password_set": True, "password_reset_by_email": True, "sessions_revoked": True},
        )
    return user
