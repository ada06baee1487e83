"""REST API v1: each app contributes its routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("documents.api_urls")),
    path("", include("workflows.api_urls")),
    path("", include("signatures.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("exchange.api_urls")),
    path("", include("desk.api_urls")),
    path("", include("search.api_urls")),
    path("", include("dashboard.api_urls")),
    path("", include("records.api_urls")),
]
