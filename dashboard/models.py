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
