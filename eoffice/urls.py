"""Root URLs: the web UI, the admin, and the REST API under /api/v1/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="documents:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("documents/", include("documents.urls")),
    path("settings/", include("accounts.urls")),
    path("work/", include("workflows.urls")),
    path("signatures/", include("signatures.urls")),
    path("notifications/", include("notifications.urls")),
    path("exchange/", include("exchange.urls")),
    path("api/v1/", include("eoffice.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script as its own request (?script), so no inline script is needed
    # under the Content-Security-Policy; the template drops drf-spectacular's inline style block.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
]

handler404 = "eoffice.views.not_found"
handler500 = "eoffice.views.server_error"
handler403 = "eoffice.views.forbidden"
