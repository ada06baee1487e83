"""Vietnamese by default: the language is the one the person chose (cookie set by /i18n/setlang/),
otherwise LANGUAGE_CODE. Unlike Django's LocaleMiddleware, the browser's Accept-Language is ignored:
most office PCs send en-US while their users expect the Vietnamese UI."""

from __future__ import annotations

from django.conf import settings
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
