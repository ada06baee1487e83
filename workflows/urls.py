"""Web routes of incoming-document handling (to be included as path("work/", include("workflows.urls")))."""

from django.urls import path

from . import views

app_name = "workflows"

urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("incoming/open/<int:document_pk>/", views.open_case, name="open_case"),
    path("incoming/<int:pk>/", views.case_detail, name="case"),
    path("incoming/<int:pk>/<slug:step>/", views.case_step, name="case_step"),
    path("assignments/<int:pk>/<slug:step>/", views.assignment_step, name="assignment_step"),
    path("extensions/<int:pk>/decide/", views.decide_extension, name="decide_extension"),
]
