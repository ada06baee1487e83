"""The tracking register and the handling report of incoming documents: on screen for whoever may view
registers, as PDF/XLSX (audited) for whoever may print them."""

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


def _unit(user, unit_id) -> Unit | None:
    """A unit of the viewer's agency, 404 for another agency's (or unknown) unit."""
    if unit_id in (None, ""):
        return None
    try:
        pk = int(unit_id)
    except (TypeError, ValueError) as error:
        raise Http404 from error
    return get_object_or_404(Unit, pk=pk, agency_id=user.agency_id)


@login_required
def reports_page(request: HttpRequest) -> HttpResponse:
    """Period chooser, the handling report as a table and a preview of the tracking register."""
    user = request.user
    if not user.has_perm("documents.view_register") or not user.agency_id:
        raise PermissionDenied
    units = list(Unit.objects.filter(agency_id=user.agency_id).order_by("name"))
    _unit(user, request.GET.get("unit"))  # another agency's unit: 404 before the form says "invalid choice"
    form = ReportPeriodForm(request.GET or None, units=units)
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        return render(request, "workflows/reports.html", {"form": form}, status=400)
    date_from, date_to = _period(cleaned)
    unit = cleaned.get("unit")
    if not form.is_bound:
        form = ReportPeriodForm(units=units, initial={"date_from": date_from, "date_to": date_to})
    report = reports.handling_report(user, date_from, date_to)
    cases = reports.tracked_cases(user, date_from, date_to, unit)
    total = cases.count()
    query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    tracking_query = urlencode({**query, **({"unit": unit} if unit else {})})
    context = {
        "form": form,
        "date_from": date_from,
        "date_to": date_to,
        "can_print": user.has_perm("documents.print_register"),
        "handling_columns": [name for name, _w in reports.HANDLING_COLUMNS],
        "handling_rows": reports.handling_rows(report),
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


@login_required
def report_print(request: HttpRequest, report: str, fmt: str) -> HttpResponse:
    """The tracking register or the handling report as PDF (inline) or XLSX (download); audited."""
    user = request.user
    if not user.has_perm("documents.print_register") or not user.agency_id:
        raise PermissionDenied
    if report not in FILE_STEMS or fmt not in CONTENT_TYPES:
        raise Http404
    unit = _unit(user, request.GET.get("unit"))
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
        handling = reports.handling_report(user, date_from, date_to)
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
