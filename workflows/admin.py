"""Read-only admin: every change goes through workflows.services (locking, checks, audit)."""

from django.contrib import admin

from .models import Assignment, ExtensionRequest, IncomingCase, Notice


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("user", "text", "document", "created_at", "read_at")


# --- outgoing drafts: review chains are data an administrator edits; drafts change only through services.
from .drafting import Draft, DraftVersion, ReviewChain, ReviewStep  # noqa: E402


class ReviewStepInline(admin.TabularInline):
    model = ReviewStep
    extra = 1
    fields = ("order", "action", "role", "user")
    raw_id_fields = ("user",)


@admin.register(ReviewChain)
class ReviewChainAdmin(admin.ModelAdmin):
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
