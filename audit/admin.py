from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is written only by services."""

    list_display = ("created_at", "actor_name", "verb", "target_repr", "agency_id", "chain", "seq")
    list_filter = ("verb",)
    search_fields = ("target_repr", "actor_name", "verb")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
