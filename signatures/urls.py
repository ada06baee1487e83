"""Web routes of signing and verification (included at /signatures/)."""

from django.urls import path

from . import views

app_name = "signatures"

urlpatterns = [
    path("certificates/", views.certificates, name="certificates"),
    path("verify/", views.verify, name="verify"),
    path("files/<str:sha256>/verification.pdf", views.stored_sheet, name="stored_sheet"),
]
