"""Template context every page needs: the installation's name (title, header, login page, e-mails)."""

from __future__ import annotations

from django.http import HttpRequest

from .branding import installation_name


def installation(request: HttpRequest) -> dict[str, str]:
    """The installation's name in the active language (settings.INSTALLATION_NAME or the translated default)."""
    return {"installation_name": installation_name()}
