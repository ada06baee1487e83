"""The admin's side of logging in: a person's password, sessions and log-in lock (actions of the people page,
mixed into accounts.admin.UserAdmin), and the failed log-ins recorded by django-axes, whose deletion is the
unlock. Every change goes through accounts.services (permission, agency scope, audit)."""

from __future__ import annotations

from contextvars import ContextVar

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services

# The administrator using the password form: Django builds the form with the person and the data only.
_PASSWORD_FORM_ACTOR: ContextVar = ContextVar("password_form_actor", default=None)


class ServicePasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" form, saved through accounts.services.save_user: the password is
    checked, the change audited, and the person's other sessions and API tokens end."""

    def save(self, commit=True):
        usable = self.cleaned_data.get("set_usable_password", True)
        return services.save_user(
            _PASSWORD_FORM_ACTOR.get(), self.user, None,
            password=self.cleaned_data["password1"] if usable else None, disable_password=not usable,
        )


class LoginSecurityUserAdmin:
    """Mixed into the people page: the password form through the services, and two actions."""

    change_password_form = ServicePasswordChangeForm
    actions = ["unlock_login", "log_out_everywhere"]

    def user_change_password(self, request, id, form_url=""):
        token = _PASSWORD_FORM_ACTOR.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _PASSWORD_FORM_ACTOR.reset(token)

    @admin.action(description=gettext_lazy("Unlock the log-in of the selected people"), permissions=["change"])
    def unlock_login(self, request, queryset):
        unlocked = [person for person in queryset if services.unlock_person(request.user, person)]
        if unlocked:
            self.message_user(request, _("Log-in unlocked: %(people)s.") % {
                "people": ", ".join(person.get_username() for person in unlocked)})
        else:
            self.message_user(request, _("None of the selected people was locked out."), messages.WARNING)

    @admin.action(description=gettext_lazy("Log the selected people out everywhere"), permissions=["change"])
    def log_out_everywhere(self, request, queryset):
        count = 0
        for person in queryset:
            services.revoke_sessions(request.user, person)
            count += 1
        self.message_user(request, _("Every session and API token of %(count)d people has ended.") % {"count": count})


# Failed log-ins (django-axes' own pages, for the installation's administrators): deleting them is
# unlocking, and it is audited.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AuditedAccessAttemptAdmin(AccessAttemptAdmin):
    def delete_model(self, request, obj):
        services.unlock_attempts(request.user, AccessAttempt.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.unlock_attempts(request.user, queryset)
