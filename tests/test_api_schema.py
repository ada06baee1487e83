"""The API as a whole: an OpenAPI schema without warnings, offline Swagger UI, JSON for every error."""

from __future__ import annotations

import re

import pytest
import yaml
from django.urls import path
from rest_framework.test import APIClient

from accounts import roles
from eoffice import urls as root_urls
from tests.factories import AgencyFactory, make_user

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("a bug outside DRF")


# Root URLconf for the handler tests: the real one plus a plain Django view that fails.
urlpatterns = [*root_urls.urlpatterns, path("api/v1/boom/", _boom)]
handler404 = root_urls.handler404
handler500 = root_urls.handler500

MAIN_PATHS = {
    "/api/v1/me/", "/api/v1/auth/token/", "/api/v1/agencies/", "/api/v1/agencies/{id}/", "/api/v1/units/",
    "/api/v1/users/", "/api/v1/delegations/", "/api/v1/delegations/{id}/revoke/", "/api/v1/document-types/",
    "/api/v1/registers/", "/api/v1/registers/{id}/entries/", "/api/v1/registers/{id}/print/", "/api/v1/documents/",
    "/api/v1/documents/{id}/", "/api/v1/documents/{id}/files/{file_id}/download/", "/api/v1/documents/outgoing/",
    "/api/v1/documents/incoming/", "/api/v1/documents/{id}/grants/",
}


def test_schema_generates_without_warnings_and_has_the_main_paths(api_schema_text):
    schema = yaml.safe_load(api_schema_text)
    assert MAIN_PATHS <= set(schema["paths"])
    outgoing = schema["paths"]["/api/v1/documents/outgoing/"]["post"]
    assert "multipart/form-data" in outgoing["requestBody"]["content"]
    assert set(outgoing["responses"]) == {"201", "400", "403", "409"}
    printing = schema["paths"]["/api/v1/registers/{id}/print/"]["get"]["responses"]["200"]["content"]
    assert set(printing) == {"application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def test_swagger_ui_is_served_without_any_external_url():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert references, "the page loads its scripts and styles"
    assert all(not ref.startswith(("http:", "https:", "//")) for ref in references), references
    assert not re.search(r"https?://", html)
    # No CDN host or path (a bare "cdn" may occur by chance in the page's random CSRF token).
    assert not re.search(r"cdn[\w.-]*\.(?:com|net|org|io|cloud)|/cdn/|jsdelivr|unpkg|cdnjs", html.lower())
    assert all("cdn" not in ref.lower() for ref in references), references
    for ref in references:
        if ref.startswith("/static/"):  # the sidecar's files, and our page style (no inline style under the CSP)
            assert "drf_spectacular_sidecar" in ref or ref.startswith("/static/css/swagger"), ref


def test_schema_endpoint_serves_json():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200 and "/api/v1/documents/" in response.json()["paths"]


@pytest.mark.urls("tests.test_api_schema")
def test_unknown_api_urls_are_json_404(settings):
    settings.DEBUG = False
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"message": "Không tìm thấy."}
    # logged in, and an unknown id under a real route: JSON as well
    client.force_authenticate(make_user(roles.STAFF, AgencyFactory()))
    response = client.get("/api/v1/documents/999999/")
    assert response.status_code == 404 and response.json()["message"]
    # the web pages keep their HTML error page
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]


@pytest.mark.urls("tests.test_api_schema")
def test_server_errors_are_json(settings, monkeypatch):
    settings.DEBUG = False
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json" and response.json()["message"]

    from documents import selectors

    def failing(*args, **kwargs):
        raise RuntimeError("a bug inside a DRF view")

    monkeypatch.setattr(selectors, "document_list", failing)
    client.force_authenticate(make_user(roles.STAFF, AgencyFactory()))
    response = client.get("/api/v1/documents/")
    assert response.status_code == 500
    assert response.json() == {"message": "Đã xảy ra lỗi ngoài dự kiến. Lỗi đã được ghi lại."}


def test_wrong_method_and_browser_accept_header_still_get_json():
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(make_user(roles.STAFF, AgencyFactory()))
    response = client.delete("/api/v1/documents/")
    assert response.status_code == 405 and response.json()["message"]
    response = client.get("/api/v1/documents/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


def test_oversized_or_overstuffed_bodies_are_refused_with_json(settings):
    from documents.models import Document

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(make_user(roles.CLERK, AgencyFactory()))
    response = client.post("/api/v1/documents/incoming/", {"subject": "x" * 2000}, format="json")
    assert response.status_code == 413 and response.json()["message"]
    response = client.post("/api/v1/documents/incoming/", {f"f{i}": "x" for i in range(10)}, format="multipart")
    assert response.status_code == 400 and response.json()["message"]
    assert Document.objects.count() == 0
