"""The second factor at log-in (after django_otp's OTPMiddleware, which marks a session verified).

After the password, a person with a second factor is sent to the code page, and one who must have one
(accounts.two_factor.must_have_second_factor) to enrolment, until done; a session-authenticated API call is
refused (403) instead. API tokens are not sessions: they reach DRF as anonymous here, and signing through
the API asks for a code with each request anyway."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import two_factor


def _open_paths() -> tuple[str, ...]:
    return (
        reverse("login"), reverse("logout"), reverse("accounts:two_factor"), reverse("accounts:otp_verify"),
        "/i18n/", "/admin/logout/", settings.STATIC_URL or "/static/",
    )


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not user.is_verified()
                and not request.path_info.startswith(_open_paths())):
            if two_factor.has_second_factor(user):
                return self._refuse(request, "accounts:otp_verify",
                                    _("Enter the one-time code of your authenticator app first."))
            if two_factor.must_have_second_factor(user):
                return self._refuse(request, "accounts:two_factor",
                                    _("Set up two-factor authentication first: your account requires it."))
        return self.get_response(request)

    @staticmethod
    def _refuse(request, url_name: str, message: str):
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        return redirect(f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}")
