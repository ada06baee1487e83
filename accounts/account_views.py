"""The person's own page: who they are in the system, changing their password, and "log out all my sessions"
(the administrator's settings page is accounts/views.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services


def _page(request, password_form: PasswordChangeForm, status: int = 200):
    return render(request, "accounts/account.html", {
        "person": request.user, "idle_minutes": settings.SESSION_IDLE_MINUTES, "password_form": password_form,
    }, status=status)


@login_required
def my_account(request):
    return _page(request, PasswordChangeForm(request.user))


@login_required
@require_POST
def change_password(request):
    """A new password (the current one and Django's validators checked by the form); this session stays,
    the others and the API token end (accounts.services.change_own_password)."""
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    user = services.change_own_password(request.user, form.cleaned_data["new_password1"])
    update_session_auth_hash(request, user)
    messages.success(request, _("Your password has been changed. Your other sessions and your API token have ended."))
    return redirect("accounts:account")


@login_required
@require_POST
def logout_everywhere(request):
    """End every session (this one too) and the API token of the person, then back to the log-in page."""
    services.revoke_sessions(request.user, request.user)
    logout(request)
    messages.success(request, _("You have been logged out everywhere: every session and API token has ended."))
    return redirect("login")
