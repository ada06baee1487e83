"""Web routes of the dashboard (at /dashboard/)."""

from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("documents/", views.documents, name="documents"),
    path("work/", views.targets, name="targets"),
    path("drafts/", views.drafts, name="drafts"),
    path("reports/", views.jobs, name="jobs"),
    path("reports/<int:pk>/", views.job_status, name="job_status"),
    path("reports/<int:pk>/download/", views.job_download, name="job_download"),
]
