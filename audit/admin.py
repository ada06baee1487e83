from django.contrib import admin

from eoffice.admin_scope import ReadOnlyModelAdmin, RowsOutsideQuerysetNotFound

from .models import AuditAnchor, AuditEvent
from .selectors import visible_events


@admin.register(AuditEvent)
class AuditEventAdmin(RowsOutsideQuerysetNotFound, ReadOnlyModelAdmin):
    """Read-only: the trail is written only by services. Each person reads the events audit.selectors lets
    them see (the chains of the agencies they administer, not the secret targets kept from them); any other
    event is a 404."""

    list_display = ("created_at", "actor_name", "verb", "target_repr", "agency_id", "chain", "seq")
    list_filter = ("verb",)
    search_fields = ("target_repr", "actor_name", "actor__username", "verb")

    def get_queryset(self, request):
        return visible_events(request.user)


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyModelAdmin):
    """Read-only, for the installation's superusers: the signed daily heads of every chain (chains and hashes,
    no event content). `manage.py export_audit_anchors` exports them; `verify_audit` checks them."""

    list_display = ("anchored_at", "chain", "last_seq", "key_id", "timestamp_error")
    list_filter = ("key_id",)
    search_fields = ("chain",)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
