"""Every change of notices: the intent row (in the teller's transaction), the fan-out to people, the e-mails
(at once and in daily digests), the sweeper, reading and preferences.

Never lost, never doubled: the intent (`NoticeEvent`) commits with the change that caused it and its fan-out is
published after commit; a sweeper publishes again what was not processed in time. A redelivered fan-out finds
the event processed (and the unique constraints make a second pass write nothing anyway): one notice per person
per event, one e-mail per notice, one digest per person per period. Sending is at-least-once: an e-mail handed
to the server whose "sent" mark was lost with a dying worker is sent again; nothing else repeats."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from eoffice import notices
from eoffice.branding import installation_name
from eoffice.tasking import publish, publish_on_commit

from .models import (
    DEFAULT_DIGEST_HOUR,
    EmailMode,
    EmailState,
    Notice,
    NoticeEmail,
    NoticeEvent,
    NotificationSettings,
    Preference,
)
from .selectors import default_preference

logger = logging.getLogger(__name__)

FAN_OUT_TASK = "notifications.tasks.fan_out"
SEND_TASK = "notifications.tasks.send_emails"
EMAIL_BATCH = 200
WRITE_BATCH = 1000


# --- the intent -----------------------------------------------------------------------------------------


def store_event(request: notices.NoticeRequest) -> bool:
    """Write the intent row in the caller's transaction and publish its fan-out after commit. A key already
    stored (a retried request, a redelivered task, a second run of a periodic reminder) adds nothing."""
    if NoticeEvent.objects.filter(key=request.key).exists():
        return False
    NoticeEvent.objects.bulk_create([NoticeEvent(
        key=request.key, kind=request.kind, audience=request.audience.to_dict(), params=request.params,
        url=request.url[:500], document_id=request.document_id, exclude_user_ids=list(request.exclude_user_ids),
    )], ignore_conflicts=True)  # a concurrent teller of the same key: one row, no error inside their transaction
    publish_on_commit(FAN_OUT_TASK, request.key)
    return True


def audience_of(audience: notices.Audience, exclude: list[int] | tuple[int, ...] = ()) -> list[tuple[int, str]]:
    """(id, e-mail) of the active people told: those named, and those of `agency_ids` holding `permission`
    themselves or through a group — one query. Superusers are not counted as holders: only explicit ones."""
    User = get_user_model()
    who = Q(pk__in=audience.user_ids) if audience.user_ids else Q(pk__in=[])
    if audience.agency_ids and audience.permission and "." in audience.permission:
        app_label, codename = audience.permission.split(".", 1)
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).values("pk")
        direct = User.user_permissions.through.objects.filter(permission_id__in=permission).values("user_id")
        via_group = User.groups.through.objects.filter(group__permissions__in=permission).values("user_id")
        who |= Q(agency_id__in=audience.agency_ids) & (Q(pk__in=direct) | Q(pk__in=via_group))
    people = User.objects.filter(who, is_active=True).exclude(pk__in=list(exclude)).order_by("pk")
    return list(people.values_list("pk", "email"))


def fan_out(event_key: str) -> int:
    """Write one notice per person of the event's audience (as their preferences say) and the e-mail rows of
    those who want it at once; mark the event processed. Idempotent. Returns the number of notices written."""
    with transaction.atomic():
        event = NoticeEvent.objects.select_for_update().filter(key=event_key).first()
        if event is None or event.processed_at is not None:
            return 0
        people = audience_of(notices.Audience.from_dict(event.audience), event.exclude_user_ids)
        kind = notices.kind(event.kind)
        default = default_preference(kind) if kind is not None else (True, EmailMode.OFF)
        chosen = {
            p.user_id: (p.in_app, p.email)
            for p in Preference.objects.filter(kind=event.kind, user_id__in=[pk for pk, _email in people])
        }
        rows, mail_to = [], []
        for pk, address in people:
            in_app, mode = chosen.get(pk, default)
            if not address:
                mode = EmailMode.OFF  # nobody to write to: no e-mail row at all
            if not in_app and mode == EmailMode.OFF:
                continue  # the person wants nothing of this kind: no row
            rows.append(Notice(user_id=pk, event=event, kind=event.kind, params=event.params, url=event.url,
                               document_id=event.document_id, in_app=in_app,
                               digest_pending=mode == EmailMode.DIGEST))
            if mode == EmailMode.IMMEDIATE:
                mail_to.append(pk)
        Notice.objects.bulk_create(rows, ignore_conflicts=True, batch_size=WRITE_BATCH)
        if mail_to:
            written = Notice.objects.filter(event=event, user_id__in=mail_to).values_list("pk", "user_id")
            NoticeEmail.objects.bulk_create(
                [NoticeEmail(user_id=user_id, notice_id=pk) for pk, user_id in written],
                ignore_conflicts=True, batch_size=WRITE_BATCH,
            )
            # One message per batch of e-mails: every worker of the queue takes a share (the batches are
            # claimed with SKIP LOCKED), so 1,500 e-mails are not sent by one worker while the other waits.
            for _batch in range(-(-len(mail_to) // EMAIL_BATCH)):
                publish_on_commit(SEND_TASK)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    return len(rows)


# --- e-mail ---------------------------------------------------------------------------------------------


def _languages(user_ids: list[int]) -> dict[int, str]:
    chosen = dict(
        NotificationSettings.objects.filter(user_id__in=user_ids).exclude(language="").values_list("user_id", "language")
    )
    return {pk: chosen.get(pk, settings.LANGUAGE_CODE) for pk in user_ids}


def absolute_link(notice_id: int) -> str:
    """The link an e-mail carries: the notice's "open" page (marks it read, then goes to the object)."""
    return settings.SITE_URL.rstrip("/") + reverse("notifications:open", args=[notice_id])


def _lines(items: list[Notice]) -> list[dict]:
    return [{"text": n.text, "link": absolute_link(n.pk), "created_at": timezone.localtime(n.created_at)}
            for n in items]


def _message(row: NoticeEmail, language: str, digest_notices: list[Notice]) -> EmailMessage | None:
    """The e-mail of `row` in the reader's language; None when there is nothing left to say."""
    with translation.override(language):
        if row.notice_id is not None:
            lines = _lines([row.notice])
            subject = f"[{installation_name()}] {lines[0]['text']}"
            template = "notifications/email/notice.txt"
        else:
            if not digest_notices:
                return None
            lines = _lines(digest_notices)
            subject = f"[{installation_name()}] " + _("Your daily summary: %(count)d notices") % {"count": len(lines)}
            template = "notifications/email/digest.txt"
        body = render_to_string(template, {"user": row.user, "lines": lines, "site_url": settings.SITE_URL,
                                           "installation_name": installation_name()})
    subject = " ".join(subject.split())[:200]
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[row.user.email])


def send_pending_emails(batch_size: int = EMAIL_BATCH) -> int:
    """Send pending e-mails, batch by batch, through one connection per batch. Rows are locked with SKIP
    LOCKED, so workers running this at once share the work. A failure keeps the row pending with one more
    attempt (the sweeper retries it a minute later) until MAX_ATTEMPTS, then it is marked failed. Returns the
    number sent."""
    sent, last_pk = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                NoticeEmail.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(state=EmailState.PENDING, pk__gt=last_pk)
                .select_related("user", "notice").order_by("pk")[:batch_size]
            )
            if not batch:
                return sent
            last_pk = batch[-1].pk
            sent += _send_batch(batch)


def _send_batch(batch: list[NoticeEmail]) -> int:
    languages = _languages(sorted({row.user_id for row in batch}))
    digest_ids = [pk for row in batch if row.notice_id is None for pk in row.notice_ids]
    digested: dict[int, Notice] = {n.pk: n for n in Notice.objects.filter(pk__in=digest_ids)}
    now = timezone.now()
    outgoing: list[tuple[NoticeEmail, EmailMessage]] = []
    for row in batch:
        row.attempts += 1
        row.last_attempt_at = now
        if not row.user.email or not row.user.is_active:
            row.state, row.error = EmailState.FAILED, "no address"
            continue
        items = [digested[pk] for pk in row.notice_ids if pk in digested and digested[pk].user_id == row.user_id]
        message = _message(row, languages[row.user_id], items)
        if message is None:
            row.state, row.sent_at, row.error = EmailState.SENT, now, "nothing to send"
            continue
        outgoing.append((row, message))
    sent = 0
    if outgoing:
        connection = get_connection(fail_silently=False)
        try:
            connection.open()
            for row, message in outgoing:
                try:
                    connection.send_messages([message])
                except Exception as exc:  # noqa: BLE001 - one refused recipient must not stop the batch
                    _failed(row, exc)
                else:
                    row.state, row.sent_at, row.error = EmailState.SENT, timezone.now(), ""
                    sent += 1
        except Exception as exc:  # noqa: BLE001 - the server cannot be reached: the whole batch waits
            for row in (item[0] for item in outgoing):
                if row.state == EmailState.PENDING:
                    _failed(row, exc)
        finally:
            try:
                connection.close()
            except Exception:  # noqa: BLE001
                logger.warning("Closing the e-mail connection failed", exc_info=True)
    # executemany (pipelined by psycopg), not bulk_update: its CASE expressions for 200 rows cost more
    # Python time than sending the e-mails.
    with db_connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {NoticeEmail._meta.db_table} SET state = %s, attempts = %s, last_attempt_at = %s, sent_at = %s, "
            "error = %s WHERE id = %s",
            [(row.state, row.attempts, row.last_attempt_at, row.sent_at, row.error, row.pk) for row in batch],
        )
    return sent


def _failed(row: NoticeEmail, exc: Exception) -> None:
    row.error = f"{type(exc).__name__}: {exc}"[:500]
    if row.attempts >= NoticeEmail.MAX_ATTEMPTS:
        row.state = EmailState.FAILED
    logger.warning("E-mail %s to user %s failed (attempt %s): %s", row.pk, row.user_id, row.attempts, row.error)


def digest_period(now: datetime, hour: int) -> datetime:
    """The latest digest moment at `hour` (local time) not after `now`."""
    local = timezone.localtime(now)
    period = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return period if period <= local else period - timedelta(days=1)


def send_digests(now: datetime | None = None) -> int:
    """Write the digest e-mail of each person whose digest moment has come: their unread digest notices made
    before it. Run hourly; a missed hour is caught up by the next run (the period is the latest digest
    moment, one digest per person per period). Returns the number of digests written."""
    now = now or timezone.now()
    waiting = list(Notice.objects.filter(digest_pending=True).values_list("user_id", flat=True).distinct())
    hours = dict(NotificationSettings.objects.filter(user_id__in=waiting).values_list("user_id", "digest_hour"))
    written = 0
    for user_id in waiting:
        period = digest_period(now, hours.get(user_id, DEFAULT_DIGEST_HOUR))
        try:
            with transaction.atomic():
                rows = list(
                    Notice.objects.select_for_update()
                    .filter(user_id=user_id, digest_pending=True, created_at__lt=period)
                    .order_by("created_at", "pk").values_list("pk", "read_at")
                )
                if not rows or NoticeEmail.objects.filter(user_id=user_id, period=period).exists():
                    continue
                Notice.objects.filter(pk__in=[pk for pk, _read in rows]).update(digest_pending=False)
                unread = [pk for pk, read_at in rows if read_at is None]
                if unread:  # what the person already read in the application is not mailed again
                    NoticeEmail.objects.create(user_id=user_id, period=period, notice_ids=unread)
                    written += 1
        except IntegrityError:
            continue  # another worker wrote this period's digest at the same moment
    if written:
        publish_on_commit(SEND_TASK)
    return written


# --- the sweeper ----------------------------------------------------------------------------------------


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Publish again the fan-out of events unprocessed a minute after they were written, and the sending of
    e-mails pending for a minute (never sent, or failed a minute ago)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.INTENT_SWEEP_AFTER_SECONDS)
    keys = list(
        NoticeEvent.objects.filter(processed_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at").values_list("key", flat=True)[:1000]
    )
    waiting = NoticeEmail.objects.filter(state=EmailState.PENDING, created_at__lt=cutoff).filter(
        Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=cutoff)
    ).exists()
    if waiting:
        publish(SEND_TASK)
    for key in keys:
        publish(FAN_OUT_TASK, key)  # each fan-out publishes the sending of the e-mails it writes
    return {"events": len(keys), "emails": int(waiting)}


# --- the reader -----------------------------------------------------------------------------------------


def _require_person(actor) -> None:
    if not actor.is_authenticated:
        raise PermissionDenied(_("Log in first."))


def mark_read(actor, notice_id: int) -> Notice:
    """The person marks one of their own notices read (Notice.DoesNotExist for anyone else's).

    Not audited: it changes only the reader's own list, nothing of a document."""
    _require_person(actor)
    notice = Notice.objects.get(pk=notice_id, user_id=actor.pk)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=notice.read_at)
    return notice


def mark_all_read(actor) -> int:
    """The person marks all their unread notices read; returns how many."""
    _require_person(actor)
    return Notice.objects.filter(user_id=actor.pk, read_at__isnull=True).update(read_at=timezone.now())


@dataclass
class KindChoice:
    kind: str
    in_app: bool
    email: str


def save_preferences(actor, choices: list[KindChoice], *, language: str | None = None,
                     digest_hour: int | None = None) -> None:
    """The person sets, for themselves only, how each kind reaches them, their language and digest hour."""
    _require_person(actor)
    known = {k.code for k in notices.kinds()}
    errors = []
    if any(c.kind not in known for c in choices):
        errors.append(_("Unknown kind of notice."))
    if any(c.email not in EmailMode.values for c in choices):
        errors.append(_("Choose at once, in the daily digest or no e-mail."))
    if language is not None and language and language not in dict(settings.LANGUAGES):
        errors.append(_("Unknown language."))
    if digest_hour is not None and not 0 <= digest_hour <= 23:
        errors.append(_("The digest hour is between 0 and 23."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if choices:
            Preference.objects.bulk_create(
                [Preference(user_id=actor.pk, kind=c.kind, in_app=c.in_app, email=c.email) for c in choices],
                update_conflicts=True, unique_fields=["user", "kind"], update_fields=["in_app", "email"],
            )
        if language is not None or digest_hour is not None:
            row, _created = NotificationSettings.objects.select_for_update().get_or_create(user_id=actor.pk)
            if language is not None:
                row.language = language
            if digest_hour is not None:
                row.digest_hour = digest_hour
            row.save()
