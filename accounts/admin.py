"""Admin for the organisation tree, people and delegations. Saves go through accounts.services so that
every change is permission-checked and audited like any other.

Each page shows the rows of the agencies the person administers (accounts.selectors.administered_agencies:
their own agency, superusers every agency); another agency's row is a 404, and the choices of agency, unit,
person and role are limited the same way, so a form cannot point outside the scope either."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import roles as role_defs
from . import selectors, services
from .admin_login import LoginSecurityUserAdmin
from .admin_scope import AgencyScopedAdmin
from .models import Agency, Delegation, Unit, User


class UnitInline(admin.TabularInline):
    model = Unit
    fields = ("name", "abbreviation", "identifier", "parent", "is_active")
    extra = 0
    show_change_link = True

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Agency)
class AgencyAdmin(AgencyScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "abbreviation", "kind", "parent", "identifier", "legacy_code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "abbreviation", "identifier", "legacy_code")
    autocomplete_fields = ("parent",)
    fieldsets = (
        (None, {"fields": ("name", "abbreviation", "kind", "parent", "is_active")}),
        (_("Identifiers"), {"fields": ("identifier", "legacy_code")}),
        (_("Contact and seal"), {"fields": ("place_name", "address", "email", "phone", "seal_image")}),
    )

    scope_field = "pk"

    def has_add_permission(self, request):
        # A new agency goes under one the person administers (only superusers add one elsewhere).
        return super().has_add_permission(request) and selectors.parents_for_new_agencies(request.user).exists()

    def get_readonly_fields(self, request, obj=None):
        # Moving an agency needs its governing agency administered too: not the top of one's own scope.
        if obj is not None and not selectors.may_administer(request.user, obj.parent_id):
            return (*super().get_readonly_fields(request, obj), "parent")
        return super().get_readonly_fields(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and not request.user.is_superuser and "parent" in form.base_fields:
            form.base_fields["parent"].required = True  # only superusers add an agency at the top of the tree
        return form

    def save_model(self, request, obj, form, change):
        services.save_agency(request.user, obj, {f: form.cleaned_data.get(f) for f in form.changed_data})

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Unit)
class UnitAdmin(AgencyScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "abbreviation", "agency", "parent", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "abbreviation", "agency__name")
    autocomplete_fields = ("agency", "parent")

    def get_readonly_fields(self, request, obj=None):
        # A unit never moves to another agency (services.save_unit).
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "agency") if obj is not None else readonly

    def save_model(self, request, obj, form, change):
        services.save_unit(request.user, obj, {f: form.cleaned_data.get(f) for f in form.changed_data})

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(LoginSecurityUserAdmin, AgencyScopedAdmin, DjangoUserAdmin):
    list_display = ("username", "full_name", "email", "agency", "unit", "position", "is_active")
    list_filter = ("is_active", "groups", ("agency", admin.RelatedOnlyFieldListFilter))
    search_fields = ("username", "full_name", "email")
    autocomplete_fields = ("agency", "unit")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("full_name", "email", "agency", "unit", "position")}),
        (_("Roles"), {"fields": ("is_active", "groups", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        (_("Person"), {"fields": ("full_name", "email", "agency", "unit", "position", "groups")}),
    )
    readonly_fields = ("last_login", "date_joined")
    actions = [*LoginSecurityUserAdmin.actions, "reset_second_factor", "send_password_reset_link"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return (*super().get_readonly_fields(request, obj), "is_staff", "is_superuser")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":  # roles, and only those the person may give
            kwargs["queryset"] = Group.objects.filter(name__in=selectors.grantable_roles(request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Roles are groups: the service sets them (and audits them) together with the person. The roles
        # the person holds that the administrator may not give were not offered: they stay.
        roles = None
        if "groups" in form.cleaned_data:
            out_of_reach = set(role_defs.ROLE_PERMISSIONS) - selectors.grantable_roles(request.user)
            kept = set() if obj.pk is None else set(
                obj.groups.filter(name__in=out_of_reach).values_list("name", flat=True)
            )
            roles = sorted({group.name for group in form.cleaned_data["groups"]} | kept)
        services.save_user(request.user, obj, roles)

    def save_related(self, request, form, formsets, change):
        # The groups were set by the service; the form's own save_m2m would set them again, unaudited.
        form.cleaned_data.pop("groups", None)
        super().save_related(request, form, formsets, change)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Reset the two-factor authentication of the selected people"), permissions=["change"])
    def reset_second_factor(self, request, queryset):
        people = [services.reset_second_factor(request.user, person) for person in queryset]
        self.message_user(request, gettext("Two-factor authentication reset for: %(people)s.") % {
            "people": ", ".join(person.get_username() for person in people)})

    @admin.action(description=_("Send a password reset link by e-mail to the selected people"), permissions=["change"])
    def send_password_reset_link(self, request, queryset):
        """The person chooses the new password from the link (accounts.password_reset.mail_reset_link); people
        without an address or a password yet get one set on their page instead."""
        from django.contrib import messages
        from django.utils.translation import get_language

        from . import password_reset

        sent, skipped = [], []
        for person in queryset:
            (sent if password_reset.mail_reset_link(request.user, person, get_language()) else skipped).append(person)
        if sent:
            self.message_user(request, gettext("A password reset link is being e-mailed to: %(people)s.") % {
                "people": ", ".join(str(person) for person in sent)})
        if skipped:
            self.message_user(request, gettext(
                "No link for %(people)s (inactive, no e-mail address or no password yet): set a password on "
                "their page instead.") % {"people": ", ".join(str(person) for person in skipped)}, messages.WARNING)


@admin.register(Delegation)
class DelegationAdmin(AgencyScopedAdmin, admin.ModelAdmin):
    list_display = ("delegate", "authority_prefix", "delegator", "agency", "valid_from", "valid_to", "revoked_at")
    list_filter = ("authority_prefix", ("agency", admin.RelatedOnlyFieldListFilter))
    autocomplete_fields = ("agency", "delegator", "delegate")
    readonly_fields = ("revoked_at",)
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        services.save_delegation(request.user, obj)

    @admin.action(description=_("Revoke the selected delegations"))
    def revoke(self, request, queryset):
        for delegation in queryset.filter(revoked_at__isnull=True):
            services.revoke_delegation(request.user, delegation)

    def has_delete_permission(self, request, obj=None):
        return False


# django-otp's own device pages show every person's TOTP key (as a QR code) and backup codes in clear, to
# whoever may view them, outside any agency scope and without an audit event: removed. An administrator resets
# a person's second factor with the people page's action (accounts.services.reset_second_factor).
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
