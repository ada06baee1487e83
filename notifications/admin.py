"""Read-only admin of notices: they change through notifications.services only."""

from django.contrib import admin

from eoffice.admin_scope import ReadOnlyModelAdmin

from .models import Notice, NoticeEmail, NoticeEvent


@admin.register(NoticeEvent)
class NoticeEventAdmin(ReadOnlyModelAdmin):
    list_display = ("key", "kind", "document_id", "created_at", "processed_at")
    list_filter = ("kind",)
    search_fields = ("key",)


@admin.register(Notice)
class NoticeAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "kind", "text", "document_id", "created_at", "read_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    raw_id_fields = ("user", "event")


@admin.register(NoticeEmail)
class NoticeEmailAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "notice", "period", "state", "attempts", "sent_at", "error")
    list_filter = ("state",)
    list_select_related = ("user",)
    raw_id_fields = ("user", "notice")
