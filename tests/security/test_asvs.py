"""OWASP ASVS 5.0.0 pass over `../shared/corpora/api-security/asvs-5.0.0-dms-subset.csv` (issue 11).

Each test below names, in its docstring, the requirement ids it checks. Requirements already proven by
other tests are mapped here rather than tested twice; `test_the_map_names_only_requirements_of_the_corpus`
keeps this map honest against the corpus file (skipped, with the reason, when the corpus is absent).

Covered elsewhere (requirement -> tests):

- V2.4.1, V6.3.1 (anti-automation, brute force): tests/accounts/test_login_protection.py (per-account and
  per-address lock-out, web and token endpoint, token throttle).
- V4.1.3, V15.3.4 (intermediary headers, client address): tests/accounts/test_login_protection.py
  `test_forwarded_for_is_ignored_without_a_trusted_proxy`, `test_a_trusted_proxy_is_believed_from_the_right`,
  `test_changing_forwarded_for_does_not_escape_the_token_throttle`.
- V3.4.3, V3.4.6 (Content-Security-Policy, frame-ancestors): tests/test_csp.py (the pages pass the policy);
  here `test_html_pages_carry_a_policy_and_refuse_framing`.
- V5.1.1, V5.2.1, V5.2.2, V5.2.3, V5.2.6 (upload size, type by content, office and zip bombs, pixel
  floods): tests/documents/test_hostile_uploads.py over `../shared/corpora/hostile-uploads`.
- V6.3.3 (multi-factor for privileged people and signing): tests/accounts/test_two_factor.py.
- V7.2.1, V7.2.2, V7.2.4 (sessions, tokens: expiry, revocation on password change and deactivation, log out
  everywhere, idle expiry): tests/accounts/test_sessions_and_tokens.py, tests/test_idle_session.py.
- V8.2.1, V8.2.2, V8.3.1, V8.4.1 (function- and data-level access, cross-agency "tenants"): the permission
  crawl tests/security/test_permission_crawl.py; tests/accounts/test_admin_scope.py,
  tests/documents/test_register_scope.py, tests/documents/test_secret_grants.py.
- V5.4.1, V3.4.4 on files (Content-Disposition, nosniff on every download): test_permission_crawl.py.
- V11.3.2 (AES-GCM for stored keys): tests/signatures/test_keys.py (`test_each_encryption_uses_a_fresh_nonce`,
  `test_tampered_blob_does_not_decrypt`).
- V13.4.2 (no debug in production), V3.4.1 (HSTS in production): tests/test_settings.py
  `test_production_settings_pass_check_deploy`; here `test_debug_is_off_and_hsts_is_sent_when_configured`.
- V16.2.1, V16.3.1, V16.3.2, V16.4.2 (audit events: who/when/what, authentication and refused access,
  tamper-evident keyed chain): tests/audit/test_audit_chain.py, tests/audit/test_audit_keys_and_anchors.py,
  tests/audit/test_audit_visibility.py, tests/documents/test_confidential_openings.py.
- V16.5.1, V16.5.3 (generic JSON errors, no stack trace): tests/test_api_schema.py
  `test_server_errors_are_json`, `test_unknown_api_urls_are_json_404`; here `test_errors_reveal_nothing`.
- V4.1.1 / V15.3.1 conformance of every API answer to its schema: tests/security/test_schemathesis.py.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from accounts import roles
from tests.factories import AgencyFactory, make_user

pytestmark = pytest.mark.django_db

ASVS_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "api-security" / \
    "asvs-5.0.0-dms-subset.csv"
COVERED = {
    # in this module
    "V3.4.1", "V3.4.2", "V3.4.3", "V3.4.4", "V3.4.5", "V3.4.6", "V4.1.1", "V4.1.4", "V13.4.2", "V13.4.3",
    "V13.4.4", "V13.4.6", "V14.2.1", "V15.3.3", "V16.5.1", "V6.3.8", "V8.2.3",
    # mapped in the docstring above
    "V2.4.1", "V6.3.1", "V4.1.3", "V15.3.4", "V5.1.1", "V5.2.1", "V5.2.2", "V5.2.3", "V5.2.6", "V6.3.3",
    "V7.2.1", "V7.2.2", "V7.2.4", "V8.2.1", "V8.2.2", "V8.3.1", "V8.4.1", "V5.4.1", "V11.3.2", "V16.2.1",
    "V16.3.1", "V16.3.2", "V16.4.2", "V16.5.3", "V15.3.1",
}


@pytest.fixture
def people():
    agency = AgencyFactory()
    clerk = make_user(roles.CLERK, agency)
    staff = make_user(roles.STAFF, agency)
    return {"clerk": clerk, "staff": staff, "agency": agency}


def _api(user) -> Client:
    token = Token.objects.create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_the_map_names_only_requirements_of_the_corpus():
    """Bookkeeping: every id this pass claims is a requirement of the corpus subset."""
    if not ASVS_CSV.is_file():
        pytest.skip(f"ASVS corpus not found at {ASVS_CSV}")
    with ASVS_CSV.open(encoding="utf-8") as handle:
        ids = {row["req_id"] for row in csv.DictReader(handle)}
    assert len(ids) > 100
    assert COVERED <= ids, sorted(COVERED - ids)


def test_api_and_pages_send_nosniff_referrer_policy_and_a_charset(people):
    """V3.4.4 (X-Content-Type-Options: nosniff), V3.4.5 (Referrer-Policy), V4.1.1 (Content-Type with the
    charset) on the API (JSON, errors included) and on the web pages."""
    api = _api(people["clerk"])
    web = Client()
    web.force_login(people["clerk"])
    answers = {
        "API me": api.get("/api/v1/me/"),
        "API 404": api.get("/api/v1/documents/999999/"),
        "API 401": Client().get("/api/v1/documents/"),
        "web list": web.get("/documents/"),
        "login page": Client().get("/login/"),
    }
    for name, response in answers.items():
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response.get("Referrer-Policy") in {"same-origin", "no-referrer", "strict-origin",
                                                   "strict-origin-when-cross-origin"}, name
        content_type = response["Content-Type"].lower()
        assert content_type.startswith(("application/json", "text/html")), (name, content_type)
        if content_type.startswith("text/"):
            assert "charset=utf-8" in content_type, (name, content_type)


def test_html_pages_carry_a_policy_and_refuse_framing(people):
    """V3.4.3 (a Content-Security-Policy on HTML answers, restricting objects) and V3.4.6 (framing refused:
    frame-ancestors, with X-Frame-Options: DENY for older browsers). What each page loads is checked
    against the policy in tests/test_csp.py."""
    web = Client()
    web.force_login(people["clerk"])
    for url in ("/login/", "/documents/", "/work/"):
        response = (Client() if url == "/login/" else web).get(url)
        assert response.status_code == 200, url
        policy = response.get("Content-Security-Policy", "")
        assert policy, url
        directives = {part.strip().split(" ")[0]: part.strip() for part in policy.split(";") if part.strip()}
        assert "frame-ancestors 'none'" in directives.get("frame-ancestors", "") or \
            response.get("X-Frame-Options") == "DENY", (url, policy)
        assert "default-src" in directives or "script-src" in directives, (url, policy)
        assert response.get("X-Frame-Options") == "DENY", url


def test_cors_is_not_opened_to_any_origin(people):
    """V3.4.2: no Access-Control-Allow-Origin for a foreign Origin (the API is same-origin or token only)."""
    api = _api(people["clerk"])
    for method in ("get", "options"):
        response = getattr(api, method)("/api/v1/documents/", HTTP_ORIGIN="https://evil.example")
        assert "Access-Control-Allow-Origin" not in response, method
        assert "Access-Control-Allow-Credentials" not in response, method


def test_unused_methods_and_trace_are_refused(people):
    """V4.1.4 (only the methods an endpoint supports), V13.4.4 (no TRACE, API part): read-only API resources
    answer 405 to writes, and TRACE is refused by the API, in JSON."""
    api = _api(people["clerk"])
    for method in ("put", "patch", "delete"):
        response = getattr(api, method)("/api/v1/document-types/", content_type="application/json")
        assert response.status_code == 405, method
    for url in ("/api/v1/documents/", "/api/v1/me/"):
        response = api.generic("TRACE", url)
        assert response.status_code == 405, url
        assert response["Content-Type"].startswith("application/json")


def test_web_pages_refuse_trace(people):
    """V13.4.4 on the web pages (the API part is in `test_unused_methods_and_trace_are_refused`): refused for
    every URL by eoffice.middleware.RefuseTraceMiddleware."""
    web = Client()
    web.force_login(people["clerk"])
    for url in ("/documents/", "/login/", "/work/"):
        assert web.generic("TRACE", url).status_code == 405, url
        assert web.generic("TRACK", url).status_code == 405, url


def test_debug_is_off_and_hsts_is_sent_when_configured(people, settings):
    """V13.4.2 (debug off: no technical page for a missing URL), V3.4.1 (HSTS of at least one year on
    every response, subdomains included, once the deployment configures it as docs/deployment.md says;
    `check --deploy` is clean in tests/test_settings.py), V13.4.3 (no directory listing of static files)."""
    from django.conf import settings as live

    assert live.DEBUG is False
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    assert b"Traceback" not in response.content and b"URLconf" not in response.content
    assert Client().get("/static/").status_code == 404
    assert Client().get("/static/css/").status_code == 404

    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_version_of_the_backend_is_announced(people):
    """V13.4.6: no Server / X-Powered-By header naming the framework or its version."""
    api = _api(people["clerk"])
    for response in (api.get("/api/v1/me/"), Client().get("/login/"), Client().get("/api/v1/documents/")):
        assert "X-Powered-By" not in response
        server = response.get("Server", "")
        assert not re.search(r"django|python|wsgi|\d+\.\d+", server, re.IGNORECASE), server


def test_tokens_travel_in_headers_only(people):
    """V14.2.1: the API token is accepted in the Authorization header, never from the URL's query string."""
    token = Token.objects.create(user=people["clerk"])
    assert Client(HTTP_AUTHORIZATION=f"Token {token.key}").get("/api/v1/me/").status_code == 200
    for name in ("token", "auth_token", "key", "access_token"):
        response = Client().get(f"/api/v1/me/?{name}={token.key}")
        assert response.status_code in (401, 403), name


def test_errors_reveal_nothing(people):
    """V16.5.1: an unknown id, a malformed query and a malformed body answer with a short JSON message,
    without stack traces, SQL or settings."""
    api = _api(people["clerk"])
    answers = [
        api.get("/api/v1/documents/abc/"),
        api.get("/api/v1/documents/?date_from=not-a-date&page=x"),
        api.post("/api/v1/documents/outgoing/", data="{not json", content_type="application/json"),
        api.get("/api/v1/registers/999999/entries/"),
    ]
    for response in answers:
        assert 400 <= response.status_code < 500, response.status_code
        text = response.content.decode()
        for leak in ("Traceback", "SELECT ", "psycopg", "django.", "/work/", "SECRET_KEY", "File \""):
            assert leak not in text, (response.status_code, text[:200])


def test_a_failed_token_request_does_not_tell_whether_the_account_exists(people):
    """V6.3.8: the token endpoint gives the same answer for a wrong password and for an unknown user."""
    people["staff"].set_password("correct-horse-9")
    people["staff"].save()
    wrong_password = Client().post("/api/v1/auth/token/", {"username": people["staff"].username,
                                                           "password": "wrong-horse-9"})
    unknown = Client().post("/api/v1/auth/token/", {"username": "no.such.person", "password": "wrong-horse-9"})
    assert wrong_password.status_code == unknown.status_code
    assert wrong_password.status_code in (400, 401, 403)
    assert wrong_password.json() == unknown.json()


def test_a_person_cannot_write_fields_outside_the_action(people):
    """V15.3.3 (mass assignment), V8.2.3 (field-level access): a staff member writing privileged fields of
    their own record through the API changes none of them."""
    staff = people["staff"]
    api = _api(staff)
    other = AgencyFactory()
    payload = {"is_superuser": True, "is_staff": True, "agency": other.pk, "roles": [roles.ADMINISTRATOR],
               "groups": [1], "username": "root"}
    for method in ("patch", "put"):
        for url in ("/api/v1/me/", f"/api/v1/users/{staff.pk}/"):
            response = getattr(api, method)(url, data=payload, content_type="application/json")
            assert response.status_code < 500, (method, url, response.status_code)
    staff.refresh_from_db()
    assert not staff.is_superuser and not staff.is_staff
    assert staff.agency_id == people["agency"].pk
    assert staff.username != "root"
    assert set(staff.groups.values_list("name", flat=True)) <= {roles.STAFF}
