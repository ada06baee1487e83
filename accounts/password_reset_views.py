"""The "forgot your password?" pages: Django's views, with the mail sent by a worker and the new password set
through accounts.password_reset (audited; every session and the API token end)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.translation import get_language

from . import password_reset


class ResetRequestView(auth_views.PasswordResetView):
    """Asks for the address; the same answer whether or not it belongs to someone."""

    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        password_reset.request_password_reset(form.cleaned_data["email"], get_language())
        return HttpResponseRedirect(self.get_success_url())


class ServiceSetPasswordForm(SetPasswordForm):
    """Django's new-password form, saved through accounts.password_reset.reset_password."""

    def save(self, commit: bool = True):
        return password_reset.reset_password(self.user, self.cleaned_data["new_password1"])


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    """The mailed link: a new password, then the log-in page (never logged in here: the second factor and the
    lock-out apply at the next log-in)."""

    template_name = "registration/password_reset_confirm.html"
    form_class = ServiceSetPasswordForm
    post_reset_login = False
    success_url = reverse_lazy("password_reset_complete")


class ResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}


class ResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
