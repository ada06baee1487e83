"""Notices: the intent to tell (an outbox row per event), one notice per person per event, one e-mail per
notice (or per person per digest period), and each person's preferences.

Texts are never stored as sentences: a notice keeps its kind and parameters and is rendered in the reader's
language when shown or mailed (eoffice.notices.render). `document_id` is a plain integer: this app depends on
accounts only, and a notice outlives nothing it points to by more than a dangling link."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from eoffice import notices

DEFAULT_DIGEST_HOUR = 7


class NoticeEvent(models.Model):
    """What happened and who is to be told, written in the transaction of the change (the outbox row).
    `processed_at` stays empty until the fan-out has written the notices; the sweeper publishes the fan-out
    again for rows left unprocessed (broker down, worker killed)."""

    key = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=60)
    audience = models.JSONField(default=dict)
    params = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    url = models.CharField(max_length=500, blank=True)
    document_id = models.BigIntegerField(null=True, blank=True)
    exclude_user_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice event")
        verbose_name_plural = _("notice events")
        indexes = [
            models.Index(fields=["created_at"], condition=Q(processed_at__isnull=True), name="notif_event_unprocessed"),
        ]

    def __str__(self) -> str:
        return self.key


class Notice(models.Model):
    """One person told of one event. `in_app` is False when the person turned in-app notices of this kind off
    but still gets the e-mail: the row is the record (and the e-mail's anchor), never shown in the bell or the
    list. `digest_pending` marks a notice waiting for the person's next daily digest e-mail."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    event = models.ForeignKey(NoticeEvent, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=60)
    params = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    url = models.CharField(max_length=500, blank=True)
    document_id = models.BigIntegerField(null=True, blank=True)
    in_app = models.BooleanField(default=True)
    digest_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="notif_one_per_person_event")]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notif_user_unread_idx"),
            models.Index(fields=["user"], condition=Q(digest_pending=True), name="notif_digest_pending_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def text(self) -> str:
        """The notice in the active language."""
        return notices.render(self.kind, self.params)


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("At once")
    DIGEST = "digest", _("In the daily digest")
    OFF = "off", _("No e-mail")


class NotificationSettings(models.Model):
    """A person's language for notices and e-mails (empty: the site's default, Vietnamese) and the local hour
    (Asia/Ho_Chi_Minh) of their daily digest. A person without this row has the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="notification_settings")
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)
    digest_hour = models.PositiveSmallIntegerField(_("digest hour"), default=DEFAULT_DIGEST_HOUR)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
        constraints = [models.CheckConstraint(condition=Q(digest_hour__lte=23), name="notif_digest_hour_0_23")]

    def __str__(self) -> str:
        return str(self.user_id)


class Preference(models.Model):
    """How a person is told of one kind. A person without a row for a kind has the defaults: in-app on,
    e-mail at once when the kind's default says so (NoticeKind.email), otherwise none."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences")
    kind = models.CharField(max_length=60)
    in_app = models.BooleanField(_("in the application"), default=True)
    email = models.CharField(_("e-mail"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE)

    class Meta:
        verbose_name = _("notice preference")
        verbose_name_plural = _("notice preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notif_one_preference_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class EmailState(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class NoticeEmail(models.Model):
    """An e-mail to send: of one notice (at once; `notice` is unique, so a notice is mailed once), or a
    person's digest of one period (`period` is the digest's hour; unique per person, `notice_ids` lists the
    notices it carries). Pending until sent; a failure is retried by the sweeper, up to MAX_ATTEMPTS."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_emails")
    notice = models.OneToOneField(Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="email")
    period = models.DateTimeField(null=True, blank=True)
    notice_ids = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    MAX_ATTEMPTS = 5

    class Meta:
        verbose_name = _("notice e-mail")
        verbose_name_plural = _("notice e-mails")
        constraints = [
            models.UniqueConstraint(fields=["user", "period"], condition=Q(period__isnull=False),
                                    name="notif_one_digest_per_period"),
            models.CheckConstraint(condition=Q(notice__isnull=True) | Q(period__isnull=True),
                                   name="notif_email_notice_or_digest"),
        ]
        indexes = [models.Index(fields=["created_at"], condition=Q(state="pending"), name="notif_email_pending_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.state}"
