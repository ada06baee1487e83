"""Content-Security-Policy (django-csp): every main page sends the strict policy, and its HTML has nothing the policy
would block (no inline script without the page's nonce, no on*= handler, no inline style)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from documents import services as documents_services
from tests.factories import make_pdf, make_user
from tests.otp import enrol, verified_client
from tests.workflows.helpers import office
from tests.workflows.test_drafting import new_draft

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} sends no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_page_passes(response) -> None:
    path = response.request["PATH_INFO"]
    assert response.status_code == 200, path
    directives = policy(response)
    assert directives["default-src"] == ["'self'"], path
    for name in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in directives[name] and "'unsafe-eval'" not in directives[name], (path, name)
        assert "'self'" in directives[name], path
    assert directives["img-src"] == ["'self'", "data:"], path
    assert directives["object-src"] == ["'none'"], path
    assert directives["base-uri"] == ["'self'"], path
    assert directives["frame-ancestors"] == ["'none'"], path
    assert directives["form-action"] == ["'self'"], path
    nonces = {value[len("'nonce-"):-1] for value in directives["script-src"] if value.startswith("'nonce-")}

    html = response.content.decode()
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)
    for tag in tags:
        assert not re.search(r"\son[a-z]+\s*=", tag, re.IGNORECASE), (path, tag)  # inline event handler
        assert not re.search(r"\sstyle\s*=", tag, re.IGNORECASE), (path, tag)  # inline style attribute
        assert not re.search(r"""\s(?:href|src|action)\s*=\s*["']?\s*javascript:""", tag, re.IGNORECASE), (path, tag)
    for tag in re.findall(r"<script\b[^>]*>", html, re.IGNORECASE):
        if re.search(r"\ssrc\s*=", tag):
            continue
        nonce = re.search(r"""\snonce\s*=\s*["']([^"']+)["']""", tag)
        assert nonce and nonce.group(1) in nonces, (path, tag)  # an inline script only with the page's nonce
    assert not re.search(r"<style\b", html, re.IGNORECASE), path  # style-src has no nonce: no inline style block


def pdf(name: str = "van-ban.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_pdf(2), content_type="application/pdf")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_login_and_api_docs_pass_the_policy():
    anonymous = Client()
    assert_page_passes(anonymous.get("/login/"))
    docs = anonymous.get("/api/docs/")
    assert_page_passes(docs)
    script = re.search(r"""<script src="([^"]*\?[^"]*script[^"]*)">""", docs.content.decode())
    assert script, "Swagger UI's init script is a request of its own, not inline"
    init = anonymous.get(script.group(1).replace("&amp;", "&"))
    assert init.status_code == 200 and "SwaggerUIBundle" in init.content.decode()


def test_the_main_pages_pass_the_policy():
    o = office()
    draft = new_draft(o)
    document = documents_services.register_outgoing(o.clerk, documents_services.OutgoingInput(
        document_type_id=draft.document_type_id, subject="Kế hoạch cải cách hành chính",
    ))
    clerk = client_for(o.clerk)
    for path in ("/documents/", f"/documents/{document.pk}/", "/work/", "/work/drafts/",
                 "/signatures/certificates/", "/signatures/verify/", "/settings/account/",
                 "/documents/registers/", f"/documents/registers/?register={document.register_id}", "/work/reports/",
                 "/documents/outgoing/new/", "/documents/incoming/new/"):
        assert_page_passes(clerk.get(path))
    handler = client_for(o.handler)
    for path in ("/work/", f"/work/drafts/{draft.pk}/", "/work/drafts/new/"):
        assert_page_passes(handler.get(path))


def test_document_with_a_pdf_passes_the_policy():
    o = office()
    document = documents_services.register_outgoing(o.clerk, documents_services.OutgoingInput(
        document_type_id=new_draft(o).document_type_id, subject="Kế hoạch có tệp",
    ), uploads=[pdf()])
    page = client_for(o.clerk).get(f"/documents/{document.pk}/")
    assert_page_passes(page)
    assert b"data-reveal=" in page.content  # the preview link works through static/js/eoffice.js
    preview = client_for(o.clerk).get(f"/documents/{document.pk}/files/{document.files.get().pk}/preview/")
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]  # the view's own policy is kept


def test_settings_and_two_factor_pages_pass_the_policy():
    admin = make_user(is_superuser=True, is_staff=True)
    client = verified_client(admin, enrol(admin))
    for path in ("/settings/", "/settings/account/two-factor/"):
        assert_page_passes(client.get(path))

    person = office().handler
    client = client_for(person)
    assert_page_passes(client.get("/settings/account/two-factor/"))
    client.post("/settings/account/two-factor/start/")
    enrolment = client.get("/settings/account/two-factor/")
    assert_page_passes(enrolment)
    assert b"<svg" in enrolment.content  # the QR code: inline SVG, no style, no script

    enrolled = make_user()
    enrol(enrolled)
    client = client_for(enrolled)  # password given, code not yet
    assert_page_passes(client.get("/settings/account/verify/"))
