"""Read-only admin: every change goes through workflows.services (locking, checks, audit)."""

from django.contrib import admin

from accounts.admin_scope import AgencyScopedAdmin
from accounts.selectors import in_administered_agencies
from eoffice.admin_scope import ReadOnlyModelAdmin

from .models import Assignment, ExtensionRequest, IncomingCase

ReadOnlyAdmin = ReadOnlyModelAdmin


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    can_delete = False
    fields = ("role", "unit", "user", "state", "assignee", "deadline", "due_date", "overdue_since", "completed_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IncomingCase)
class IncomingCaseAdmin(ReadOnlyAdmin):
    list_display = ("document", "agency", "state", "presented_to", "directed_by", "direction_authority_prefix")
    list_filter = ("state",)
    list_select_related = ("document", "agency", "presented_to", "directed_by")
    inlines = [AssignmentInline]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ("assignment", "requested_by", "approver", "requested_deadline", "state")
    list_filter = ("state",)


# --- outgoing drafts: review chains are data an administrator edits; drafts change only through services.
from .drafting import Draft, DraftVersion, ReviewChain, ReviewStep  # noqa: E402


class ReviewStepInline(admin.TabularInline):
    model = ReviewStep
    extra = 1
    fields = ("order", "action", "role", "user")
    raw_id_fields = ("user",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":  # people of the agencies the administrator administers
            kwargs["queryset"] = in_administered_agencies(db_field.related_model._default_manager.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ReviewChain)
class ReviewChainAdmin(AgencyScopedAdmin, admin.ModelAdmin):
    """The chains of the agencies the administrator administers (accounts.selectors); another agency's is
    a 404 and cannot be chosen."""

    list_display = ("name", "agency", "document_type", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("agency", "document_type")
    inlines = [ReviewStepInline]


class DraftVersionInline(admin.TabularInline):
    model = DraftVersion
    extra = 0
    can_delete = False
    fields = ("number", "file_name", "uploaded_by", "uploaded_at", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Draft)
class DraftAdmin(ReadOnlyAdmin):
    list_display = ("subject", "agency", "drafter", "state", "current_holder", "issued_document")
    list_filter = ("state",)
    list_select_related = ("agency", "drafter", "current_holder", "issued_document")
    inlines = [DraftVersionInline]
