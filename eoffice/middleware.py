"""Project middleware. Vietnamese by default: the language is the one the person chose (cookie set by /i18n/setlang/),
otherwise LANGUAGE_CODE. Unlike Django's LocaleMiddleware, the browser's Accept-Language is ignored:
most office PCs send en-US while their users expect the Vietnamese UI."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils import translation


class DefaultLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


SESSION_TOUCHED_KEY = "_touched"


class IdleSessionMiddleware:
    """Sessions end after SESSION_IDLE_MINUTES without a request. Django's SESSION_SAVE_EVERY_REQUEST would
    write the session row on every request (three statements and a commit on every page and API call); here
    the session is renewed at most once a minute, so the idle limit holds to within that minute."""

    RENEW_AFTER_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - int(session.get(SESSION_TOUCHED_KEY, 0)) >= self.RENEW_AFTER_SECONDS:
                session[SESSION_TOUCHED_KEY] = now  # marks it modified: SessionMiddleware saves and re-sends it
        return response


def mark_session_fresh(sender, request, user, **kwargs) -> None:
    """A log-in has just saved the session: it counts as renewed now (the next request writes nothing)."""
    if hasattr(request, "session"):
        request.session[SESSION_TOUCHED_KEY] = int(time.time())


class RefuseTraceMiddleware:
    """TRACE and TRACK echo a request back (cookies included, for cross-site tracing); no page needs them.
    Django's function views would answer them like GET, so they are refused here for every URL."""

    REFUSED = {"TRACE", "TRACK"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in self.REFUSED:
            response = HttpResponseNotAllowed(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
            if request.path.startswith("/api/"):
                response = JsonResponse({"message": f'Method "{request.method}" not allowed.'}, status=405,
                                        headers={"Allow": response["Allow"]})
            return response
        return self.get_response(request)
