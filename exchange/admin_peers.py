"""Administration of the other systems (edXML peers) and a read-only view of the packages exchanged with them.

Imported from exchange/admin.py. Only superusers configure peers: a peer's certificate decides whose packages
are believed, for every agency of the installation."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import InboundPackage, OutboundMessage, OutboundState, Peer


class PeerForm(forms.ModelForm):
    inbound_url = forms.URLField(label=_("inbound endpoint"), max_length=500, assume_scheme="https",
                                 help_text=_("Where the other system receives edXML packages (HTTPS in production)."))

    class Meta:
        model = Peer
        fields = ["name", "agency", "organ_id", "inbound_url", "certificate_pem", "is_active"]
        widgets = {"certificate_pem": forms.Textarea(attrs={"rows": 12, "cols": 80})}


class SuperuserOnly:
    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # packages refer to it: deactivate instead


@admin.register(Peer)
class PeerAdmin(SuperuserOnly, admin.ModelAdmin):
    form = PeerForm
    list_display = ["name", "organ_id", "agency", "inbound_url", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "organ_id", "agency__name"]
    readonly_fields = ["certificate_fingerprint", "created_at", "updated_at"]
    autocomplete_fields = ["agency"]


class ReadOnly(SuperuserOnly):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "peer", "kind", "business_type", "status_code", "state", "attempts",
                    "next_attempt_at", "last_error"]
    list_filter = ["state", "kind", "peer"]
    actions = ["retry_now"]

    @admin.action(description=_("Try again now"))
    def retry_now(self, request, queryset) -> None:
        from django.utils import timezone

        from eoffice.tasking import publish

        ids = list(queryset.filter(state__in=[OutboundState.PENDING, OutboundState.FAILED]).values_list("pk", flat=True))
        queryset.filter(pk__in=ids).update(state=OutboundState.PENDING, next_attempt_at=timezone.now(),
                                           leased_until=None)
        for message_id in ids:
            publish("exchange.tasks.send_package", message_id)
        self.message_user(request, _("%(count)d packages sent again.") % {"count": len(ids)})

    def has_change_permission(self, request, obj=None) -> bool:  # the action needs it; no field is editable
        return request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(InboundPackage)
class InboundPackageAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["received_at", "peer", "kind", "document_identifier", "business_type", "status_code", "size"]
    list_filter = ["kind", "peer"]
    search_fields = ["document_identifier"]
