"""Admin for the organisation tree, people and delegations. Saves go through accounts.services so that
every change is permission-checked and audited like any other."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Agency, Delegation, Unit, User


class UnitInline(admin.TabularInline):
    model = Unit
    fields = ("name", "abbreviation", "identifier", "parent", "is_active")
    extra = 0
    show_change_link = True

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "abbreviation", "kind", "parent", "identifier", "legacy_code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "abbreviation", "identifier", "legacy_code")
    autocomplete_fields = ("parent",)
    fieldsets = (
        (None, {"fields": ("name", "abbreviation", "kind", "parent", "is_active")}),
        (_("Identifiers"), {"fields": ("identifier", "legacy_code")}),
        (_("Contact and seal"), {"fields": ("place_name", "address", "email", "phone", "seal_image")}),
    )

    def save_model(self, request, obj, form, change):
        services.save_agency(request.user, obj, {f: form.cleaned_data.get(f) for f in form.changed_data})

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "abbreviation", "agency", "parent", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "abbreviation", "agency__name")
    autocomplete_fields = ("agency", "parent")

    def save_model(self, request, obj, form, change):
        services.save_unit(request.user, obj, {f: form.cleaned_data.get(f) for f in form.changed_data})

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "email", "agency", "unit", "position", "is_active")
    list_filter = ("is_active", "groups", "agency")
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

    def save_model(self, request, obj, form, change):
        # Roles are groups: the service sets them (and audits them) together with the person.
        roles = [group.name for group in form.cleaned_data["groups"]] if "groups" in form.cleaned_data else None
        services.save_user(request.user, obj, roles)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("delegate", "authority_prefix", "delegator", "agency", "valid_from", "valid_to", "revoked_at")
    list_filter = ("authority_prefix", "agency")
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
