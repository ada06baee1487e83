"""Web routes of signing and verification (included at /signatures/)."""

from django.urls import path

from . import views

app_name = "signatures"

urlpatterns = [
    path("certificates/", views.certificates, name="certificates"),
    path("verify/", views.verify, name="verify"),
    path("drafts/<int:pk>/sign/", views.sign_draft, name="sign"),
    path("drafts/<int:pk>/seal/", views.seal_draft, name="seal"),
    path("requests/<int:pk>/retry/", views.retry, name="retry"),
]
