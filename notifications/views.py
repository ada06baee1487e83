"""Web pages of notices: the list, the bell's count (JSON, polled by static/notifications/bell.js), opening a
notice, marking read, and the person's preferences. Thin: reads from selectors, changes through services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from eoffice.http import posted_int

from . import selectors, services
from .models import EmailMode, Notice

PAGE_SIZE = 25


def local_url(url: str) -> bool:
    """Only a path of this site ("/work/..."), never another host, a scheme or a protocol-relative "//" URL."""
    return (
        bool(url) and url.startswith("/") and not url.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    )


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    return redirect(target if local_url(target) else "notifications:list")


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notices_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {
        "page": page, "unread": selectors.unread_count(request.user),
    })


@login_required
@require_GET
def unread_count(request: HttpRequest) -> JsonResponse:
    """The bell's number; never cached by the browser."""
    response = JsonResponse({"unread": selectors.unread_count(request.user)})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def open_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notice read and go to what it is about (a local page only; else the list)."""
    try:
        notice = services.mark_read(request.user, pk)
    except Notice.DoesNotExist:
        raise Http404 from None
    return redirect(notice.url if local_url(notice.url) else "notifications:list")


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    try:
        services.mark_read(request.user, posted_int(request, "notice") or 0)
    except Notice.DoesNotExist:
        pass  # not theirs, or a malformed id: nothing is marked
    return _back(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(request.user)
    return _back(request)


class SettingsForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language of notices and e-mails"), required=False)
    digest_hour = forms.TypedChoiceField(label=gettext_lazy("Hour of the daily digest"), coerce=int,
                                         choices=[(h, f"{h:02d}:00") for h in range(24)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The site's default")), *settings.LANGUAGES]


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """A table of kinds × in-app / e-mail mode, the digest hour and the language. Saving the language also sets
    the language cookie, so the pages follow it too."""
    current = selectors.preferences_of(request.user)
    row = selectors.settings_of(request.user)
    form = SettingsForm(request.POST or None, initial={"language": row.language, "digest_hour": row.digest_hour})
    if request.method == "POST" and form.is_valid():
        choices = [
            services.KindChoice(
                kind=line["kind"], in_app=request.POST.get(f"in_app:{line['kind']}") == "on",
                email=request.POST.get(f"email:{line['kind']}", line["email"]),
            )
            for line in current
        ]
        try:
            services.save_preferences(request.user, choices, language=form.cleaned_data["language"],
                                      digest_hour=form.cleaned_data["digest_hour"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Your notification preferences were saved."))
            response = redirect("notifications:preferences")
            if form.cleaned_data["language"]:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.cleaned_data["language"],
                                    max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax",
                                    secure=settings.SESSION_COOKIE_SECURE)
            return response
    return render(request, "notifications/preferences.html", {
        "lines": current, "form": form, "modes": EmailMode.choices,
    })
