"""API routes of the dashboard (included under /api/v1/ by eoffice/api_urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("dashboard/", api.DashboardView.as_view(), name="dashboard-figures"),
    path("reports/", api.ReportListView.as_view(), name="report-jobs"),
    path("reports/<int:pk>/", api.ReportDetailView.as_view(), name="report-job"),
    path("reports/<int:pk>/download/", api.ReportDownloadView.as_view(), name="report-job-download"),
]
