"""The installation's name, one place for the page title, the header, the login page, the admin and e-mails.

settings.INSTALLATION_NAME (env INSTALLATION_NAME) names the installation as its owner wants it, e.g.
"Hệ thống quản lý văn bản và điều hành tỉnh Lào Cai", shown as written in both languages; empty (the default):
"Document management and operations system", translated ("Hệ thống quản lý văn bản và điều hành").
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.utils.functional import lazy
from django.utils.translation import gettext


def installation_name() -> str:
    """The configured name, or the translated default."""
    return getattr(settings, "INSTALLATION_NAME", "") or gettext("Document management and operations system")


installation_name_lazy = lazy(installation_name, str)


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """/favicon.ico, which browsers ask for whatever the page links: the icon among the static files."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))
