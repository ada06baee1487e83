"""Root URLs: the web UI, the admin, and the REST API under /api/v1/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import password_reset_views

from .branding import favicon

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="desk:home", permanent=False)),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # "Forgot your password?": the mail is sent by a worker (accounts/password_reset.py).
    path("password-reset/", password_reset_views.ResetRequestView.as_view(), name="password_reset"),
    path("password-reset/sent/", password_reset_views.ResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", password_reset_views.ResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/done/", password_reset_views.ResetCompleteView.as_view(), name="password_reset_complete"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("documents/", include("documents.urls")),
    path("settings/", include("accounts.urls")),
    # Before the workflows' routes: the desk serves "My work" at /work/ (where "workflows:my_work" points too).
    path("", include("desk.urls")),
    path("work/", include("workflows.urls")),
    path("signatures/", include("signatures.urls")),
    path("notifications/", include("notifications.urls")),
    path("help/", include("eoffice.help")),  # the user guide of docs/guide/ (Help / Hướng dẫn)
    path("exchange/", include("exchange.urls")),
    path("search/", include("search.urls")),
    path("records/", include("records.urls")),
    path("dashboard/", include("dashboard.urls")),
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
