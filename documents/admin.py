"""Admin for document types, registers and a read-only view of documents. Changes go through services."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_scope import AgencyScopedAdmin
from eoffice.admin_scope import ReadOnlyModelAdmin

from . import services
from .models import Document, DocumentType, Register


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    """The Decree 30 document types are the installation's, shared by every agency (their abbreviations make
    every agency's notations): only the installation's superusers change them; agency administrators read."""

    list_display = ("name", "abbreviation", "code", "sort_order", "is_active")
    list_editable = ("is_active",)
    readonly_fields = ("code",)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Register)
class RegisterAdmin(AgencyScopedAdmin, admin.ModelAdmin):
    """The registers of the agencies the person administers (accounts.selectors); another agency's is a
    404 and cannot be chosen for a new one."""

    list_display = ("name", "agency", "kind", "year", "code", "volume", "last_number", "is_active")
    list_filter = ("kind", "year", "is_active")
    search_fields = ("name", "agency__name", "agency__abbreviation")
    autocomplete_fields = ("agency",)

    def get_readonly_fields(self, request, obj=None):
        # The counter only moves by registering; kind/year/agency are fixed once numbers exist.
        return ("last_number", "agency", "kind", "year", "code") if obj else ("last_number",)

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.create_register(
                request.user, agency=obj.agency, kind=obj.kind, year=obj.year, name=obj.name, code=obj.code,
                volume=obj.volume,
            )
            obj.pk = created.pk
            return
        services.change_register(request.user, obj, {
            field: form.cleaned_data.get(field) for field in form.changed_data if field in {"name", "volume", "is_active"}
        })

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyModelAdmin):
    """Read-only: registered documents are immutable and only services create them."""

    list_display = ("number_notation", "issued_date", "direction", "agency", "subject")
    list_filter = ("direction", "urgency", "confidentiality")
    search_fields = ("code_number", "code_notation", "subject", "identifier")
    list_select_related = ("agency",)

    def get_queryset(self, request):
        from .selectors import visible_documents

        return super().get_queryset(request).filter(pk__in=visible_documents(request.user).values("pk"))
