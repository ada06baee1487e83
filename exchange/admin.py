"""Read-only admin of deliveries and their traces: every change goes through exchange.services (locking,
checks, audit). An administrator sees the deliveries their agencies sent or received; other rows are 404."""

from django.contrib import admin
from django.db.models import Q

from accounts.selectors import administered_agencies
from eoffice.admin_scope import ReadOnlyModelAdmin, RowsOutsideQuerysetNotFound

from .models import Delivery, StatusTrace


def _scoped(queryset, user, prefix: str = ""):
    if user.is_active and user.is_superuser:
        return queryset
    agencies = administered_agencies(user).values("pk")
    return queryset.filter(Q(**{f"{prefix}sender_agency__in": agencies})
                           | Q(**{f"{prefix}recipient_agency__in": agencies}))


class StatusTraceInline(admin.TabularInline):
    model = StatusTrace
    extra = 0
    can_delete = False
    fields = ("code", "at", "actor_name", "agency", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(RowsOutsideQuerysetNotFound, ReadOnlyModelAdmin):
    list_display = ("document", "sender_agency", "recipient_agency", "recipient_unit", "status", "business_type",
                    "arrived_at", "registered_at", "recalled_at")
    list_filter = ("status", "business_type")
    list_select_related = ("document", "sender_agency", "recipient_agency", "recipient_unit")
    search_fields = ("document__code_number", "document__code_notation", "document__subject")
    raw_id_fields = ("document", "received_document", "replaces")
    inlines = [StatusTraceInline]

    def get_queryset(self, request):
        return _scoped(super().get_queryset(request), request.user)


@admin.register(StatusTrace)
class StatusTraceAdmin(RowsOutsideQuerysetNotFound, ReadOnlyModelAdmin):
    list_display = ("delivery", "code", "at", "actor_name", "agency", "reason")
    list_filter = ("code",)
    list_select_related = ("delivery", "agency")

    def get_queryset(self, request):
        return _scoped(super().get_queryset(request), request.user, "delivery__")
