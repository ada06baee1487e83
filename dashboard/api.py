"""The dashboard's API: the figures of the caller's scope (`GET /api/v1/dashboard/`, the page's rule: 403
without a scope) and the report jobs (`/api/v1/reports/`: ask for one, list and follow one's own, download
the file; another's job is 404)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eoffice.api import DownloadNegotiation, JSONOnlyMixin
from workflows import reports as handling_reports

from . import selectors, services
from .forms import DashboardForm
from .models import ReportFormat, ReportJob, ReportKind
from .views import CONTENT_TYPES, job_json

_PERIOD = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Start of the period (default: 1 January)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="End of the period (default: today)."),
    OpenApiParameter("agency", OpenApiTypes.INT, description="One agency (provincial scope only)."),
]
_Counts = inline_serializer("DashboardDocumentCounts",
                            {name: serializers.IntegerField() for name in selectors.DOCUMENT_FIGURES})
_Figures = inline_serializer("DashboardFigures", {
    "scope": inline_serializer("DashboardScope", {
        "level": serializers.ChoiceField(choices=[selectors.PROVINCE, selectors.AGENCY, selectors.UNIT]),
        "agency": serializers.IntegerField(allow_null=True), "unit": serializers.IntegerField(allow_null=True)}),
    "date_from": serializers.DateField(), "date_to": serializers.DateField(), "as_of": serializers.DateField(),
    "refreshed_at": serializers.DateTimeField(allow_null=True, help_text=(
        "When the summary tables the figures were read from were refreshed (at most 10 minutes ago); null: "
        "counted live.")),
    "documents": _Counts,
    "shares": inline_serializer("DashboardShares", {
        key: serializers.FloatField(allow_null=True) for key in ("in_electronic", "out_signed", "out_electronic")}),
    "months": serializers.ListField(child=serializers.DictField()),
    "agencies": serializers.ListField(child=serializers.DictField()),
    "handling": serializers.ListField(child=serializers.DictField()),
    "unit_queues": serializers.ListField(child=serializers.DictField()),
    "person_queues": serializers.ListField(child=serializers.DictField()),
    "drafts_waiting": serializers.IntegerField(),
    "drafts_by_signer": serializers.ListField(child=serializers.DictField()),
})
_JOB_FIELDS = {
    "id": serializers.IntegerField(), "report": serializers.ChoiceField(choices=ReportKind.choices),
    "report_label": serializers.CharField(), "format": serializers.ChoiceField(choices=ReportFormat.choices),
    "params": serializers.DictField(), "state": serializers.CharField(), "state_label": serializers.CharField(),
    "progress": serializers.IntegerField(), "error": serializers.CharField(), "file_name": serializers.CharField(),
    "created_at": serializers.DateTimeField(), "finished_at": serializers.DateTimeField(allow_null=True),
    "download": serializers.CharField(allow_null=True, help_text="Web download address once done."),
}
_Job = inline_serializer("ReportJob", _JOB_FIELDS)
_Jobs = inline_serializer("ReportJobList", _JOB_FIELDS, many=True)


class ReportRequestSerializer(serializers.Serializer):
    report = serializers.ChoiceField(choices=ReportKind.choices, help_text=(
        "clerical: statistics of clerical work; handling: handling report by unit and person; agencies: "
        "comparison of agencies (provincial scope only)"))
    format = serializers.ChoiceField(choices=ReportFormat.choices)
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    agency = serializers.IntegerField(required=False, allow_null=True)


def _scope_and_period(request: Request):
    base = selectors.dashboard_scope(request.user)
    if base is None:
        raise PermissionDenied
    agencies = list(selectors.scope_agencies(request.user, base)) if base.province else []
    form = DashboardForm(request.query_params or None, agencies=agencies)
    if form.is_bound and not form.is_valid():
        raise ValidationError(form.errors.get_json_data())
    agency_id = form.cleaned_data.get("agency") if form.is_bound else None
    date_from, date_to = form.period()
    return selectors.dashboard_scope(request.user, agency_id), date_from, date_to


def _rows(rows: list[dict], keep: tuple[str, ...]) -> list[dict]:
    return [{k: row[k] for k in keep if k in row} for row in rows]


class DashboardView(JSONOnlyMixin, APIView):
    """The dashboard's figures for the caller's scope and the period (the web page's numbers)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=_PERIOD, responses={200: _Figures, 400: OpenApiResponse(description="A filter is not valid"),
                              403: OpenApiResponse(description="No dashboard")},
                   summary="Dashboard figures")
    def get(self, request: Request) -> Response:
        scope, date_from, date_to = _scope_and_period(request)
        f = selectors.dashboard_figures(request.user, scope, date_from, date_to)
        t = f.totals
        classes = ("total", *handling_reports.CLASSES)
        return Response({
            "scope": {"level": scope.level, "agency": scope.agency_id, "unit": scope.unit_id},
            "date_from": date_from, "date_to": date_to, "as_of": f.as_of, "refreshed_at": f.refreshed_at,
            "documents": t,
            "shares": {"in_electronic": f.share(t[selectors.IN_ELECTRONIC], t[selectors.IN]),
                       "out_signed": f.share(t[selectors.OUT_SIGNED], t[selectors.OUT]),
                       "out_electronic": f.share(t[selectors.OUT_ELECTRONIC], t[selectors.OUT])},
            "months": [{"month": m["month"].strftime("%Y-%m"), **{k: m[k] for k in ("in", "out", "internal")}}
                       for m in f.months],
            "agencies": _rows(f.by_agency, ("agency_id", "label", *selectors.DOCUMENT_FIGURES)),
            "handling": _rows(f.handling, ("group", "label", *classes, "days")),
            "unit_queues": _rows(f.unit_queues, ("group", "label", "open", "overdue")),
            "person_queues": _rows(f.person_queues, ("group", "label", "open", "overdue")),
            "drafts_waiting": f.drafts_waiting,
            "drafts_by_signer": [{"signer": r["current_holder_id"], "label": r["label"], "drafts": r["n"]}
                                 for r in f.drafts_by_signer],
        })


class ReportListView(JSONOnlyMixin, APIView):
    """The caller's report jobs (newest first), and asking for a new one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: _Jobs}, summary="My report jobs")
    def get(self, request: Request) -> Response:
        jobs = ReportJob.objects.filter(requested_by=request.user)[:100]
        return Response([job_json(job) for job in jobs])

    @extend_schema(request=ReportRequestSerializer, responses={201: _Job, 403: OpenApiResponse(description="Not allowed")},
                   summary="Ask for a report (built by a task; follow its state)")
    def post(self, request: Request) -> Response:
        data = ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            job = services.request_report(request.user, kind=v["report"], fmt=v["format"], date_from=v["date_from"],
                                          date_to=v["date_to"], agency_id=v.get("agency"))
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error) or None) from error
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from error
        return Response(job_json(job), status=status.HTTP_201_CREATED)


class ReportDetailView(JSONOnlyMixin, APIView):
    """One of the caller's report jobs: state, progress, reason of failure (404 for another's)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: _Job}, summary="A report job's state")
    def get(self, request: Request, pk: int) -> Response:
        return Response(job_json(services.own_job(request.user, pk)))


class ReportDownloadView(JSONOnlyMixin, APIView):
    """The finished file of one of the caller's jobs (404 otherwise); audited."""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = DownloadNegotiation

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, summary="Download a report")
    def get(self, request: Request, pk: int) -> FileResponse:
        job, handle = services.open_report(request.user, pk)
        response = FileResponse(handle, as_attachment=True, filename=job.file_name,
                                content_type=CONTENT_TYPES[job.format])
        response["Cache-Control"] = "private, no-store"
        return response
