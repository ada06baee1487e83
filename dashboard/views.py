"""The dashboard's pages: the figures of the person's scope with their charts, the lists behind every figure,
and the report jobs (ask, follow, download). Thin: reads in selectors, changes in services."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from documents.selectors import visible_documents
from workflows import reports as handling_reports

from . import charts, selectors, services
from .forms import DashboardForm, ReportRequestForm, default_period
from .models import JobState, ReportJob, ReportKind

PAGE_SIZE = 50
JOB_ROWS = 50

FIGURE_TITLES = {
    selectors.IN: gettext_lazy("Incoming documents"),
    selectors.IN_ELECTRONIC: gettext_lazy("Incoming documents received electronically"),
    selectors.IN_PAPER: gettext_lazy("Incoming documents entered from paper"),
    selectors.OUT: gettext_lazy("Outgoing documents"),
    selectors.OUT_SIGNED: gettext_lazy("Outgoing documents signed digitally"),
    selectors.OUT_UNSIGNED: gettext_lazy("Outgoing documents not signed digitally"),
    selectors.OUT_SENT: gettext_lazy("Outgoing documents sent electronically"),
    selectors.OUT_ELECTRONIC: gettext_lazy("Outgoing documents fully electronic (signed digitally and sent)"),
    selectors.OUT_PAPER: gettext_lazy("Outgoing documents on paper only"),
    selectors.OUT_BOTH: gettext_lazy("Outgoing documents on paper and electronically"),
    selectors.INTERNAL: gettext_lazy("Internal documents"),
}
CLASS_LABELS = {
    handling_reports.ON_TIME: gettext_lazy("On time"),
    handling_reports.LATE: gettext_lazy("Completed late"),
    handling_reports.OVERDUE: gettext_lazy("Overdue"),
    handling_reports.IN_PROGRESS: gettext_lazy("In progress"),
    handling_reports.NOT_ACTED: gettext_lazy("Not acted"),
}


# --- scope and period ------------------------------------------------------------------------------


class _Request:
    """The scope, period and query of one dashboard request (403 without a scope, 400 on a bad period)."""

    def __init__(self, request: HttpRequest):
        user = request.user
        base = selectors.dashboard_scope(user)
        if base is None:
            raise PermissionDenied
        self.agencies = list(selectors.scope_agencies(user, base)) if base.province else []
        self.form = DashboardForm(request.GET or None, agencies=self.agencies)
        if self.form.is_bound and not self.form.is_valid():
            raise ValidationError(self.form.errors.as_text())
        agency_id = self.form.cleaned_data.get("agency") if self.form.is_bound else None
        self.scope = selectors.dashboard_scope(user, agency_id)
        self.date_from, self.date_to = self.form.period()
        self.query = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                      **({"agency": agency_id} if agency_id else {})}
        if not self.form.is_bound:
            self.form = DashboardForm(agencies=self.agencies,
                                      initial={"date_from": self.date_from, "date_to": self.date_to})

    def link(self, name: str, **params) -> str:
        params = {k: v for k, v in params.items() if v is not None}
        return f"{reverse(name)}?{urlencode({**self.query, **params})}"


def _bad_request(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return HttpResponse("; ".join(error.messages), status=400, content_type="text/plain; charset=utf-8")


def _month_label(month: date) -> str:
    return f"{month:%m/%Y}"


# --- the dashboard ---------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The figures of the person's scope for the period (default: this year), each linked to its list."""
    try:
        r = _Request(request)
    except ValidationError as error:
        return _bad_request(request, error)
    user = request.user
    figures = selectors.dashboard_figures(user, r.scope, r.date_from, r.date_to)
    doc = lambda figure, month=None: r.link("dashboard:documents", figure=figure,  # noqa: E731
                                             month=f"{month:%Y-%m}" if month else None)
    months = figures.months
    monthly_chart = charts.grouped_bars(
        "months", [_month_label(m["month"]) for m in months],
        [charts.Series(str(FIGURE_TITLES[f]), [m[f] for m in months], [doc(f, m["month"]) for m in months])
         for f in (selectors.IN, selectors.OUT, selectors.INTERNAL)],
        title=_("Documents in and out per month"))
    t = figures.totals
    channel_labels = [_("Electronic"), _("Paper and electronic"), _("Paper")]
    channel_chart = charts.stacked_rows("channels", [
        (_("Incoming"), [t[selectors.IN_ELECTRONIC], 0, t[selectors.IN_PAPER]],
         [doc(selectors.IN_ELECTRONIC), "", doc(selectors.IN_PAPER)]),
        (_("Outgoing"), [t[selectors.OUT_ELECTRONIC], t[selectors.OUT_BOTH], t[selectors.OUT_PAPER]],
         [doc(selectors.OUT_ELECTRONIC), doc(selectors.OUT_BOTH), doc(selectors.OUT_PAPER)]),
    ], channel_labels, title=_("Channel"), percent=True)
    signed_chart = charts.stacked_rows("signed", [
        (_("Outgoing"), [t[selectors.OUT_SIGNED], t[selectors.OUT_UNSIGNED]],
         [doc(selectors.OUT_SIGNED), doc(selectors.OUT_UNSIGNED)]),
    ], [_("Signed digitally"), _("Not signed digitally")], title=_("Signed digitally"), percent=True)
    handling_rows = [_handling_row(r, row) for row in figures.handling]
    handling_chart = charts.stacked_rows(
        "handling", [(row["label"] or _("No unit"), [row[c] for c in handling_reports.CLASSES],
                      [cell["link"] for cell in row["cells"][1:]]) for row in handling_rows],
        [str(CLASS_LABELS[c]) for c in handling_reports.CLASSES], title=_("Handling of incoming documents"))
    return render(request, "dashboard/home.html", {
        "r": r, "figures": figures, "scope": r.scope, "totals": t,
        "scope_name": _scope_name(user, r.scope),
        "monthly_chart": monthly_chart, "channel_chart": channel_chart, "signed_chart": signed_chart,
        "handling_chart": handling_chart, "handling_rows": handling_rows,
        "handling_total": _handling_row(r, {**figures.handling_total, "key": None, "label": _("Total"),
                                            "days": None}),
        "class_labels": [CLASS_LABELS[c] for c in handling_reports.CLASSES],
        "shares": {
            "in_electronic": figures.share(t[selectors.IN_ELECTRONIC], t[selectors.IN]),
            "out_signed": figures.share(t[selectors.OUT_SIGNED], t[selectors.OUT]),
            "out_electronic": figures.share(t[selectors.OUT_ELECTRONIC], t[selectors.OUT]),
        },
        "links": {f: doc(f) for f in selectors.DOCUMENT_FIGURES},
        "agency_rows": [{**row, "link": {f: _agency_link(r, row["agency_id"], f) for f in selectors.DOCUMENT_FIGURES},
                         "in_share": figures.share(row[selectors.IN_ELECTRONIC], row[selectors.IN]),
                         "signed_share": figures.share(row[selectors.OUT_SIGNED], row[selectors.OUT])}
                        for row in figures.by_agency],
        "unit_queues": [{**q, "link": r.link("dashboard:targets", kind="open", by="unit", group=q["key"]),
                         "overdue_link": r.link("dashboard:targets", kind="open", by="unit", group=q["key"],
                                                overdue=1)} for q in figures.unit_queues],
        "person_queues": [{**q, "link": r.link("dashboard:targets", kind="open", by="person", group=q["key"]),
                           "overdue_link": r.link("dashboard:targets", kind="open", by="person", group=q["key"],
                                                  overdue=1)} for q in figures.person_queues],
        "drafts_link": r.link("dashboard:drafts"),
        "signers": [{**s, "link": r.link("dashboard:drafts", signer=s["key"])} for s in figures.drafts_by_signer],
        "may_open_handling_report": handling_reports.report_access(user) is not None,
    })


def _scope_name(user, scope: selectors.Scope) -> str:
    if scope.province:
        if scope.agency_id:
            from accounts.models import Agency

            return Agency.objects.filter(pk=scope.agency_id).values_list("name", flat=True).first() or ""
        return _("All agencies")
    if scope.unit_id is not None:
        return f"{user.unit.name} – {user.agency.name}"
    return user.agency.name


def _agency_link(r: _Request, agency_id: int, figure: str) -> str:
    return f"{reverse('dashboard:documents')}?{urlencode({**r.query, 'agency': agency_id, 'figure': figure})}"


def _handling_row(r: _Request, row: dict) -> dict:
    """A handling line with its cells linked: workflows' list behind the handling report for an agency or a
    unit (the same rows), the dashboard's own for the province."""
    def link(cls: str | None) -> str:
        if r.scope.province:
            return r.link("dashboard:targets", kind="handling", group=row["key"], **{"class": cls})
        params = {"date_from": r.query["date_from"], "date_to": r.query["date_to"]}
        if row["key"] is not None:
            params["unit"] = row["key"]
        if cls:
            params["class"] = cls
        return f"{reverse('workflows:report_list')}?{urlencode(params)}"

    cells = [{"value": row["total"], "link": link(None) if row["total"] else ""}]
    cells += [{"value": row[c], "link": link(c) if row[c] else ""} for c in handling_reports.CLASSES]
    return {**row, "cells": cells}


# --- the lists behind the figures ------------------------------------------------------------------


def _page(request: HttpRequest, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
@require_GET
def documents(request: HttpRequest) -> HttpResponse:
    """The documents behind one document figure (`figure`, optionally one `month` YYYY-MM): the very filter
    the figure counted with. A row links to the document when the person may open it."""
    try:
        r = _Request(request)
    except ValidationError as error:
        return _bad_request(request, error)
    figure = request.GET.get("figure")
    if figure not in selectors.DOCUMENT_FIGURES:
        raise Http404
    month = None
    if request.GET.get("month"):
        try:
            month = date.fromisoformat(request.GET["month"] + "-01")
        except ValueError as error:
            raise Http404 from error
    rows = selectors.figure_documents(request.user, r.scope, figure, r.date_from, r.date_to, month)
    page = _page(request, rows)
    ids = [d.pk for d in page]
    openable = set(visible_documents(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    title = str(FIGURE_TITLES[figure]) + (f", {_month_label(month)}" if month else "")
    return render(request, "dashboard/documents.html", {
        "r": r, "title": title, "page": page, "openable": openable, "back": r.link("dashboard:home"),
        "show_agency": r.scope.province, "page_query": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
    })


@login_required
@require_GET
def targets(request: HttpRequest) -> HttpResponse:
    """The handled or open work behind a handling or queue figure (`kind` handling / open)."""
    try:
        r = _Request(request)
    except ValidationError as error:
        return _bad_request(request, error)
    kind, group = request.GET.get("kind"), request.GET.get("group")
    if group not in (None, "none") and not group.isdigit():
        raise Http404
    user = request.user
    if kind == "handling":
        cls = request.GET.get("class") or None
        if cls not in (None, *handling_reports.CLASSES):
            raise Http404
        rows = selectors.handling_targets_in(user, r.scope, r.date_from, r.date_to, group=group, cls=cls)
        title = _("Handling of incoming documents") + (f": {CLASS_LABELS[cls]}" if cls else "")
    elif kind == "open":
        by = request.GET.get("by")
        if by not in ("unit", "person"):
            raise Http404
        overdue = request.GET.get("overdue") == "1"
        rows = selectors.open_work_in(user, r.scope, by, group, overdue=overdue)
        title = _("Open work, overdue") if overdue else _("Open work")
    else:
        raise Http404
    return render(request, "workflows/assignment_list.html", {
        "title": title, "rows": list(rows[:500]), "back": r.link("dashboard:home"), "today": timezone.localdate(),
    })


@login_required
@require_GET
def drafts(request: HttpRequest) -> HttpResponse:
    """The drafts waiting for a signature in the scope (optionally one signer's: `signer`)."""
    try:
        r = _Request(request)
    except ValidationError as error:
        return _bad_request(request, error)
    signer = request.GET.get("signer")
    rows = selectors.waiting_drafts(request.user, r.scope).select_related(
        "document_type", "drafting_unit", "current_holder", "agency")
    if signer == "none":
        rows = rows.filter(current_holder__isnull=True)
    elif signer:
        if not signer.isdigit():
            raise Http404
        rows = rows.filter(current_holder_id=int(signer))
    page = _page(request, rows.order_by("updated_at", "id"))
    return render(request, "dashboard/drafts.html", {
        "r": r, "page": page, "back": r.link("dashboard:home"), "show_agency": r.scope.province,
        "page_query": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
    })


# --- report jobs -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def jobs(request: HttpRequest) -> HttpResponse:
    """Ask for a report (POST) and follow the person's report jobs (static/js/jobs.js polls them)."""
    user = request.user
    scope = selectors.dashboard_scope(user)
    if scope is None:
        raise PermissionDenied
    agencies = list(selectors.scope_agencies(user, scope)) if scope.province else []
    status = 200
    if request.method == "POST":
        form = ReportRequestForm(request.POST, agencies=agencies, province=scope.province)
        if form.is_valid():
            date_from, date_to = form.period()
            try:
                services.request_report(user, kind=form.cleaned_data["kind"], fmt=form.cleaned_data["format"],
                                        date_from=date_from, date_to=date_to,
                                        agency_id=form.cleaned_data.get("agency"))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("dashboard:jobs")
        status = 400
    else:
        start, end = default_period()
        form = ReportRequestForm(agencies=agencies, province=scope.province,
                                 initial={"date_from": start, "date_to": end})
    rows = ReportJob.objects.filter(requested_by=user)[:JOB_ROWS]
    return render(request, "dashboard/jobs.html", {"form": form, "jobs": rows, "kinds": ReportKind}, status=status)


def job_json(job: ReportJob) -> dict:
    """A job as the page's script and the API show it."""
    return {
        "id": job.pk, "report": job.kind, "report_label": str(job.get_kind_display()), "format": job.format,
        "params": job.params, "state": job.state, "state_label": str(job.get_state_display()),
        "progress": job.progress, "error": job.error, "file_name": job.file_name,
        "created_at": job.created_at.isoformat(), "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "download": reverse("dashboard:job_download", args=[job.pk]) if job.state == JobState.DONE else None,
    }


@login_required
@require_GET
def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """One of the person's jobs as JSON (404 for anyone else's)."""
    response = JsonResponse(job_json(services.own_job(request.user, pk)))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    """The finished file, only to its requester (404 for others); audited."""
    job, handle = services.open_report(request.user, pk)
    response = FileResponse(handle, as_attachment=job.format != "pdf", filename=job.file_name,
                            content_type=CONTENT_TYPES[job.format])
    response["Cache-Control"] = "private, no-store"
    return response


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
