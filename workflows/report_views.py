"""The tracking register and the handling report of incoming documents: on screen and as PDF/XLSX (audited)
for whoever reports.report_access lets in (the agency's for clerks and agency leaders, the unit's for a unit
leader), and the list behind each figure of the report and of the leaders' oversight table."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from documents.forms import PeriodForm

from . import reports

PREVIEW_ROWS = 200
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FILE_STEMS = {"tracking": "so-theo-doi-giai-quyet-van-ban-den", "handling": "bao-cao-giai-quyet-van-ban-den"}


class ReportPeriodForm(PeriodForm):
    unit = forms.TypedChoiceField(label=gettext_lazy("Unit"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, units: list[Unit], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", _("All units"))] + [(u.pk, u.name) for u in units]


def _period(cleaned: dict) -> tuple[date, date]:
    """Default: 1 January of this year to today."""
    today = timezone.localdate()
    return cleaned.get("date_from") or date(today.year, 1, 1), cleaned.get("date_to") or today


def _access(user) -> reports.ReportAccess:
    access = reports.report_access(user)
    if access is None:
        raise PermissionDenied
    return access


def _units(user, access: reports.ReportAccess):
    """The units the person may report on: the agency's, or only their own for a unit leader."""
    units = Unit.objects.filter(agency_id=user.agency_id)
    return units.filter(pk=access.unit_id) if access.unit_id is not None else units


def _unit(user, unit_id, access: reports.ReportAccess | None = None) -> Unit | None:
    """A unit the person may report on, 404 for another agency's (or unknown) unit, and for a unit leader any
    unit but their own."""
    if unit_id in (None, ""):
        return None
    try:
        pk = int(unit_id)
    except (TypeError, ValueError) as error:
        raise Http404 from error
    return get_object_or_404(_units(user, access or _access(user)), pk=pk)


@login_required
def reports_page(request: HttpRequest) -> HttpResponse:
    """Period chooser, the handling report as a table (each figure opening the list behind it) and a preview
    of the tracking register."""
    user = request.user
    access = _access(user)
    units = list(_units(user, access).order_by("name"))
    _unit(user, request.GET.get("unit"), access)  # another agency's unit: 404 before "invalid choice"
    form = ReportPeriodForm(request.GET or None, units=units)
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        return render(request, "workflows/reports.html", {"form": form}, status=400)
    date_from, date_to = _period(cleaned)
    unit = cleaned.get("unit") or access.unit_id
    if not form.is_bound:
        form = ReportPeriodForm(units=units, initial={"date_from": date_from, "date_to": date_to})
    report = reports.handling_report(user, date_from, date_to, unit_id=access.unit_id)
    cases = reports.tracked_cases(user, date_from, date_to, unit)
    total = cases.count()
    query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    tracking_query = urlencode({**query, **({"unit": unit} if unit else {})})
    context = {
        "form": form,
        "date_from": date_from,
        "date_to": date_to,
        "can_print": access.can_print,
        "scope_unit": units[0] if access.unit_id is not None and units else None,
        "handling_columns": [name for name, _w in reports.HANDLING_COLUMNS],
        "handling_rows": _linked_rows(report, query),
        "tracking_columns": [name for name, _w in reports.TRACKING_COLUMNS],
        "tracking_rows": [[reports.as_text(v) for v in row] for row in reports.tracking_table(cases[:PREVIEW_ROWS])],
        "tracking_total": total,
        "preview_limit": PREVIEW_ROWS,
        "links": {
            f"{name}_{fmt}": f"{reverse('workflows:report_print', args=[name, fmt])}?"
            + (tracking_query if name == "tracking" else urlencode(query))
            for name in FILE_STEMS for fmt in CONTENT_TYPES
        },
    }
    return render(request, "workflows/reports.html", context)


def _linked_rows(report: reports.HandlingReport, query: dict) -> list[tuple[str, list]]:
    """The handling report's lines for the page: (kind, [(text, url or "")...]); each figure links to the
    list of the targets it counts (report_list, same query and classification)."""
    base = reverse("workflows:report_list")
    lines = []
    tallies = [(kind, tally) for unit in report.units for kind, tally in
               [("unit", unit), *(("person", p) for p in unit.people)]] + [("total", report.total)]
    for kind, tally in tallies:
        cells = tally.cells()
        label = ("    " + cells[0]) if kind == "person" else cells[0]
        linked = [(label, "")]
        for value, cls in zip(cells[1:], (None, *reports.CLASSES), strict=True):
            params = {**query, **tally.filters, **({"class": cls} if cls else {})}
            linked.append((value, f"{base}?{urlencode(params)}" if value else ""))
        lines.append((kind, linked))
    return lines


@login_required
def report_print(request: HttpRequest, report: str, fmt: str) -> HttpResponse:
    """The tracking register or the handling report as PDF (inline) or XLSX (download); audited."""
    user = request.user
    access = _access(user)
    if not access.can_print:
        raise PermissionDenied
    if report not in FILE_STEMS or fmt not in CONTENT_TYPES:
        raise Http404
    unit = _unit(user, request.GET.get("unit"), access)
    if unit is None and access.unit_id is not None:
        unit = _unit(user, access.unit_id, access)
    form = ReportPeriodForm(request.GET, units=[unit] if unit else [])
    if not form.is_valid():
        errors = "; ".join(e for messages in form.errors.values() for e in messages)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    date_from, date_to = _period(form.cleaned_data)
    if report == "tracking":
        cases = list(reports.tracked_cases(user, date_from, date_to, unit.pk if unit else None))
        content = reports.build_tracking(fmt, user.agency, cases, date_from, date_to)
        rows = len(cases)
    else:
        handling = reports.handling_report(user, date_from, date_to, unit_id=access.unit_id)
        content = reports.build_handling(fmt, user.agency, handling)
        rows = handling.total.total
    reports.record_report_printed(user, report, fmt=fmt, date_from=date_from, date_to=date_to, rows=rows,
                                  unit_id=unit.pk if unit else None)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    disposition = "inline" if fmt == "pdf" else "attachment"
    name = f"{FILE_STEMS[report]}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _figure_list(request: HttpRequest, title: str, rows, back: str) -> HttpResponse:
    return render(request, "workflows/assignment_list.html", {
        "title": title, "rows": rows, "back": back, "today": timezone.localdate(),
    })


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    """The targets behind one figure of the handling report: the same rows (reports.handled_targets, under the
    same access rule and period) picked by unit, person and class as the report counts them."""
    user = request.user
    access = _access(user)
    unit, person, cls = (request.GET.get(name) for name in ("unit", "person", "class"))
    if cls not in (None, *reports.CLASSES):
        raise Http404
    if unit not in (None, "none"):
        _unit(user, unit, access)
    if person not in (None, "none") and not person.isdigit():
        raise Http404
    form = PeriodForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(e for messages in form.errors.values() for e in messages)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    date_from, date_to = _period(form.cleaned_data)
    rows = reports.handled_targets_in(reports.handled_targets(user, date_from, date_to, access.unit_id),
                                      unit=unit, person=person, cls=cls)
    title = _("Handling report, %(from)s to %(to)s") % {"from": f"{date_from:%d/%m/%Y}", "to": f"{date_to:%d/%m/%Y}"}
    if cls:
        title += f": {reports.CLASS_HEADINGS[cls]}"
    query = urlencode({"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
    return _figure_list(request, title, rows, f"{reverse('workflows:reports')}?{query}")


OVERSIGHT_TITLES = {
    "waiting": gettext_lazy("Waiting for assignment"),
    "handling": gettext_lazy("Being handled"),
    "overdue": gettext_lazy("Overdue"),
    "due_soon": gettext_lazy("Due within 2 days"),
}


@login_required
def oversight_list(request: HttpRequest, figure: str) -> HttpResponse:
    """The open work behind one figure of the leader's oversight table (workflows.selectors.oversight_targets:
    the table's own query and filters); 403 for people without an oversight."""
    from .selectors import oversight_targets

    group = request.GET.get("group")
    if figure not in OVERSIGHT_TITLES or (group not in (None, "none") and not group.isdigit()):
        raise Http404
    rows = oversight_targets(request.user, figure=figure, group=group)
    if rows is None:
        raise PermissionDenied
    return _figure_list(request, str(OVERSIGHT_TITLES[figure]), list(rows), reverse("workflows:oversight"))
