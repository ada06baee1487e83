"""Report jobs: the intent to build one statistical report file, stored before its task is queued (so a lost
task can be queued again and a redelivered one finds the work done), with its progress and its file."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    CLERICAL = "clerical", _("Statistics of clerical work")
    HANDLING = "handling", _("Handling of incoming documents by unit and person")
    AGENCIES = "agencies", _("Comparison of agencies")


class ReportFormat(models.TextChoices):
    XLSX = "xlsx", "XLSX"
    PDF = "pdf", "PDF"


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ReportJob(models.Model):
    """One report asked for by one person: kind, format and parameters (period, scope) as given, the state and
    progress of its task, and the file once built (Django's default storage, never served publicly)."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("requested by"))
    kind = models.CharField(_("report"), max_length=10, choices=ReportKind.choices)
    format = models.CharField(_("format"), max_length=4, choices=ReportFormat.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/", max_length=300, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("reason of failure"), blank=True)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="dash_job_owner_idx")]
        # Held by a person (given in the admin), or implied for the Agency leaders of the provincial
        # committee (dashboard.selectors.dashboard_scope): the dashboard and reports of every agency.
        permissions = [("view_all_agencies", _("Can see the dashboard and reports of all agencies"))]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} #{self.pk}: {self.state}"


# --- summary tables of the dashboard (dashboard.services.refresh_tallies, a maintenance task) --------------
# Counts of the NON-SECRET documents only (confidentiality "Not secret"), grouped by what the province's and an
# agency's figures need, each computed by the very expression the live selectors use (selectors.channel,
# handling_class, queue_group). A page adds the live counts of the secret documents the person may see, so the
# permission rule is unchanged. Agencies, units and people are plain ids: the tallies are rebuilt as a whole,
# and a deleted agency must not wait for them.


class TallyRefresh(models.Model):
    """The last refresh (one row): when it committed, the date its classes were computed as of, how long."""

    refreshed_at = models.DateTimeField(_("refreshed at"))
    as_of = models.DateField(_("as of"))
    seconds = models.FloatField(_("duration (s)"), default=0)

    class Meta:
        verbose_name = _("dashboard refresh")
        verbose_name_plural = _("dashboard refreshes")

    def __str__(self) -> str:
        return f"{self.refreshed_at:%Y-%m-%d %H:%M} ({self.seconds:.1f} s)"


class DocumentTally(models.Model):
    """Non-secret documents of an agency counted on one day (arrival or issue), or in a whole month (`day`
    null), in one channel class."""

    agency_id = models.BigIntegerField()
    month = models.DateField()
    day = models.DateField(null=True)
    channel = models.CharField(max_length=8)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "agency_id"], name="dash_doctally_day_idx"),
                   models.Index(fields=["month", "agency_id"], name="dash_doctally_month_idx")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day or self.month} {self.channel}: {self.n}"


class HandlingTally(models.Model):
    """Handled targets (lead, co-ordinating) of the non-secret documents that arrived on one day: per agency of
    the case and of the document, unit (a person directed personally: their unit) and class as of the refresh;
    with the summed handling time of the completed ones. A row per day, and one per whole month (`day` null)."""

    agency_id = models.BigIntegerField()
    document_agency_id = models.BigIntegerField()
    unit_id = models.BigIntegerField(null=True)
    month = models.DateField()
    day = models.DateField(null=True)
    cls = models.CharField(max_length=12)
    n = models.PositiveIntegerField()
    took = models.DurationField(null=True)
    took_n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "agency_id"], name="dash_handtally_day_idx"),
                   models.Index(fields=["month", "agency_id"], name="dash_handtally_month_idx")]

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.unit_id} {self.day or self.month} {self.cls}: {self.n}"


class QueueTally(models.Model):
    """Open lead and co-ordinating work on non-secret documents per agency (case, document), unit and person,
    with how much of it is overdue as of the refresh."""

    agency_id = models.BigIntegerField()
    document_agency_id = models.BigIntegerField()
    unit_id = models.BigIntegerField(null=True)
    person_id = models.BigIntegerField(null=True)
    open = models.PositiveIntegerField()
    overdue = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.unit_id}/{self.person_id}: {self.open} ({self.overdue} overdue)"
