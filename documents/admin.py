"""Admin for document types, registers and a read-only view of documents. Changes go through services."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from audit.services import record_event

from . import events, services
from .models import Document, DocumentType, Register


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "abbreviation", "code", "sort_order", "is_active")
    list_editable = ("is_active",)
    readonly_fields = ("code",)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Register)
class RegisterAdmin(admin.ModelAdmin):
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
        with transaction.atomic():
            obj.save(update_fields=["name", "volume", "is_active"])
            record_event(
                actor=request.user, verb=events.REGISTER_CHANGED, target=obj, agency_id=obj.agency_id,
                data={field: form.cleaned_data.get(field) for field in form.changed_data},
            )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Read-only: registered documents are immutable and only services create them."""

    list_display = ("number_notation", "issued_date", "direction", "agency", "subject")
    list_filter = ("direction", "urgency", "confidentiality")
    search_fields = ("code_number", "code_notation", "subject", "identifier")
    list_select_related = ("agency",)

    def get_queryset(self, request):
        from .selectors import visible_documents

        return super().get_queryset(request).filter(pk__in=visible_documents(request.user).values("pk"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
