"""Web routes of incoming-document handling (to be included as path("work/", include("workflows.urls")))."""

from django.urls import path

from . import views

app_name = "workflows"

urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("oversight/", views.oversight, name="oversight"),
    path("incoming/open/", views.open_cases, name="open_cases"),
    path("incoming/open/<int:document_pk>/", views.open_case, name="open_case"),
    path("incoming/register/", views.register_and_present, name="register_and_present"),
    path("incoming/<int:pk>/", views.case_detail, name="case"),
    path("incoming/<int:pk>/<slug:step>/", views.case_step, name="case_step"),
    path("assignments/<int:pk>/<slug:step>/", views.assignment_step, name="assignment_step"),
    path("extensions/<int:pk>/decide/", views.decide_extension, name="decide_extension"),
]

from . import report_views  # noqa: E402

urlpatterns += [
    path("reports/", report_views.reports_page, name="reports"),
    path("reports/<slug:report>.<str:fmt>", report_views.report_print, name="report_print"),
    path("reports/targets/", report_views.report_list, name="report_list"),
    path("oversight/<slug:figure>/", report_views.oversight_list, name="oversight_list"),
]

from . import result_views  # noqa: E402

urlpatterns += [
    path("results/<int:pk>/", result_views.result_file, name="result_file"),
    path("assignments/<int:pk>/result/<slug:step>/", result_views.result_step, name="result_step"),
]

from . import drafting_views  # noqa: E402

urlpatterns += [
    path("drafts/", drafting_views.draft_list, name="drafts"),
    path("drafts/new/", drafting_views.draft_new, name="draft_new"),
    path("drafts/<int:pk>/", drafting_views.draft_detail, name="draft"),
    path("drafts/<int:pk>/versions/<int:number>/", drafting_views.draft_version_file, name="draft_version_file"),
    path("drafts/<int:pk>/versions/<int:number>/pages/<int:page>/", drafting_views.draft_version_page,
         name="draft_version_page"),
    path("drafts/<int:pk>/attachments/<int:attachment_id>/", drafting_views.draft_attachment_file,
         name="draft_attachment_file"),
    path("drafts/<int:pk>/sign/", drafting_views.draft_sign, name="draft_sign"),
    path("drafts/<int:pk>/seal/", drafting_views.draft_seal, name="draft_seal"),
    path("drafts/<int:pk>/issuing/", drafting_views.draft_issue, name="draft_issue"),
    path("drafts/<int:pk>/signing-state/", drafting_views.draft_signing_state, name="draft_signing_state"),
    path("signing-requests/<int:pk>/retry/", drafting_views.draft_signing_retry, name="draft_signing_retry"),
    path("drafts/<int:pk>/<slug:step>/", drafting_views.draft_step, name="draft_step"),
]
