"""State changes of the dashboard: asking for a report (audited, queued after commit), building it (the task's
body: idempotent, one file per job whatever the redeliveries) and taking the file away (audited)."""

from __future__ import annotations

import logging
import time
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from eoffice.tasking import publish_on_commit
from workflows import reports as handling_reports

from . import events, reports, selectors
from .models import (
    DocumentTally,
    HandlingTally,
    JobState,
    QueueTally,
    ReportFormat,
    ReportJob,
    ReportKind,
    TallyRefresh,
)

logger = logging.getLogger(__name__)
TASK = "dashboard.tasks.build_report"


def _check_report(actor, kind: str, fmt: str, agency_id: int | None) -> selectors.Scope:
    """The scope the person may report on, or PermissionDenied / ValidationError with the reason."""
    if kind not in ReportKind.values or fmt not in ReportFormat.values:
        raise ValidationError(_("Unknown report or format."))
    scope = selectors.dashboard_scope(actor, agency_id)
    if scope is None:
        raise PermissionDenied(_("You may not open the dashboard and its reports."))
    if agency_id and not selectors.scope_agencies(actor, scope).filter(pk=agency_id).exists():
        raise ValidationError({"agency": _("Unknown agency.")})
    if kind == ReportKind.AGENCIES and not scope.province:
        raise PermissionDenied(_("Only the provincial office compares agencies."))
    if kind == ReportKind.HANDLING and handling_reports.report_access(actor) is None:
        raise PermissionDenied(_("You may not open the handling report."))
    return scope


def request_report(actor, *, kind: str, fmt: str, date_from: date, date_to: date,
                   agency_id: int | None = None) -> ReportJob:
    """Store the job and its audit event in one transaction; its task is queued once that commits (with no
    broker, it runs in-process at once and the job is done when this returns)."""
    if date_from > date_to:
        raise ValidationError(_("The start date must not be after the end date."))
    scope = _check_report(actor, kind, fmt, agency_id)
    params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "agency": scope.agency_id,
              "level": scope.level}
    with transaction.atomic():
        job = ReportJob.objects.create(requested_by=actor, kind=kind, format=fmt, params=params)
        record_event(actor=actor, verb=events.REPORT_REQUESTED, target=job, agency_id=actor.agency_id,
                     data={"kind": kind, "format": fmt, **params})
        publish_on_commit(TASK, job.pk)
    job.refresh_from_db()
    return job


def _progress(job_id: int, value: int) -> None:
    ReportJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(progress=value)


def build_report(job_id: int) -> None:
    """The task's body. A job already done returns at once; a redelivered or concurrent run builds again but
    only one stores its file (under the job's own name, decided under the row's lock)."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state == JobState.DONE:
            return
        job.state, job.progress, job.started_at, job.error = JobState.RUNNING, 5, timezone.now(), ""
        job.save(update_fields=["state", "progress", "started_at", "error"])
    try:
        user = job.requested_by
        date_from, date_to = (date.fromisoformat(job.params[k]) for k in ("date_from", "date_to"))
        scope = _check_report(user, job.kind, job.format, job.params.get("agency"))
        content = reports.build(job.kind, job.format, user, scope, date_from, date_to,
                                progress=lambda value: _progress(job_id, value))
    except Exception as error:  # noqa: BLE001 - any failure is the job's, shown to its requester
        logger.warning("Report job %s failed", job_id, exc_info=True)
        reason = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        ReportJob.objects.filter(pk=job_id).exclude(state=JobState.DONE).update(
            state=JobState.FAILED, error=reason or error.__class__.__name__, finished_at=timezone.now())
        return
    name = f"{reports.FILE_STEMS[job.kind]}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.{job.format}"
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job_id)
        if job.state == JobState.DONE:
            return  # another run stored it first: no second file
        path = f"reports/job-{job.pk}-{job.created_at:%Y%m%d%H%M%S%f}.{job.format}"  # one name per job
        if default_storage.exists(path):
            default_storage.delete(path)  # left by a run that died before committing
        job.file.name = default_storage.save(path, ContentFile(content))
        job.file_name, job.state, job.progress, job.finished_at = name, JobState.DONE, 100, timezone.now()
        job.save(update_fields=["file", "file_name", "state", "progress", "finished_at"])


def own_job(actor, job_id: int) -> ReportJob:
    """A job of the person's own; any other (or none): 404, whoever asks."""
    job = ReportJob.objects.filter(pk=job_id, requested_by_id=actor.pk).first()
    if job is None or not actor.is_authenticated:
        raise Http404
    return job


def open_report(actor, job_id: int):
    """The finished file of the person's own job, opened for reading; the taking is audited (a report names
    documents and people). 404 for another's job or one not done."""
    job = own_job(actor, job_id)
    if job.state != JobState.DONE or not job.file:
        raise Http404
    with transaction.atomic():
        record_event(actor=actor, verb=events.REPORT_DOWNLOADED, target=job, agency_id=actor.agency_id,
                     data={"kind": job.kind, "format": job.format, "file": job.file_name})
    return job, default_storage.open(job.file.name, "rb")


# --- the dashboard's summary tables ----------------------------------------------------------------------


def refresh_tallies(now=None) -> TallyRefresh:
    """Rebuild every tally from the live figures' own grouped querysets (`selectors.tally_sources`, compiled
    into INSERT … SELECT: nothing goes through Python) and record the refresh, in one transaction: a reader
    sees the previous tallies until it commits, never half of them. Concurrent runs wait for each other on the
    refresh row; running again gives the same rows (idempotent)."""
    started = time.monotonic()
    with transaction.atomic():
        TallyRefresh.objects.get_or_create(pk=1, defaults={"refreshed_at": timezone.now(),
                                                           "as_of": timezone.localdate()})
        refresh = TallyRefresh.objects.select_for_update().get(pk=1)
        now = now or timezone.now()
        as_of = timezone.localdate(now)
        with connection.cursor() as cursor:
            for model in (DocumentTally, HandlingTally, QueueTally):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            for model, source in selectors.tally_sources(as_of):
                sql, params = source.query.sql_with_params()
                fields = [f for f in model._meta.concrete_fields if not f.primary_key]
                columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
                picked = ", ".join(f"source.{connection.ops.quote_name('t_' + f.attname)}" for f in fields)
                cursor.execute(f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608
                               f"SELECT {picked} FROM ({sql}) source", params)
        # The moment the figures were read: the start of the transaction's first statement (READ COMMITTED
        # reads each statement's own snapshot, so a change committed meanwhile is in the next refresh).
        refresh.refreshed_at, refresh.as_of = now, as_of
        refresh.seconds = time.monotonic() - started
        refresh.save()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Each refresh leaves the previous rows dead: reclaim them now rather than when autovacuum comes by,
        # or every page reads through them (and give the planner the new row counts).
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (DocumentTally, HandlingTally, QueueTally))
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {tables}")
    logger.info("Dashboard tallies refreshed in %.1f s", refresh.seconds)
    return refresh
