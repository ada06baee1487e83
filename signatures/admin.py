"""Read-only admin of the trust store, signing certificates, signing requests and verification results.

Nothing here can be added, changed or deleted, not even by a superuser: importing a certificate checks it
(dates, usage, revocation, chain to the trust store) and encrypts its key, trusting a CA or deactivating a
certificate is audited, and a signing request moves only through the signing task. All of that lives in
`signatures.services` (and `signing.py`), which writes the audit trail in the same transaction; a save here
would bypass both. Administrators act on the certificates page (/signatures/certificates/) instead; the one
exception is the trust store's "Import CA certificates from a file" page (superusers), which calls
`services.add_trust_anchors` like that page does.

Key material is never shown: the encrypted key, the encrypted token PIN and the raw certificate and CRL bytes
are on no page (every page lists its fields explicitly); a certificate is shown by its fingerprint, subject,
issuer, serial number and validity.
"""

from __future__ import annotations

import json

from cryptography import x509
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from eoffice.admin_scope import ReadOnlyModelAdmin

from . import services
from .expiry import SOON, expiry_html
from .models import (
    FileVerification,
    KeyStorage,
    SignatureCheck,
    SigningCredential,
    SigningRequest,
    TrustAnchor,
)
from .selectors import visible_signing_requests

ReadOnlyAdmin = ReadOnlyModelAdmin  # view only: changes go through `signatures.services`, checked and audited


class ValidityFilter(admin.SimpleListFilter):
    """Certificates by where today falls in their validity (`not_before` .. `not_after`)."""

    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return (
            ("valid", _("Valid now")),
            ("expiring", _("Expiring within 30 days")),
            ("expired", _("Expired")),
            ("not_yet_valid", _("Not valid yet")),
        )

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "valid":
            return queryset.filter(not_before__lte=now, not_after__gte=now)
        if self.value() == "expiring":
            return queryset.filter(not_before__lte=now, not_after__gte=now, not_after__lt=now + SOON)
        if self.value() == "expired":
            return queryset.filter(not_after__lt=now)
        if self.value() == "not_yet_valid":
            return queryset.filter(not_before__gt=now)
        return queryset


def _grouped(fingerprint: str) -> str:
    """AB:CD:EF:... as certificate viewers show it, so an administrator can compare it by eye."""
    return ":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)).upper()


class ExpiryColumn:
    """The "valid until" column with the days left, red once expired (signatures/expiry.py)."""

    class Media:
        css = {"all": ("signatures/expiry.css",)}

    @admin.display(description=_("valid until"), ordering="not_after")
    def expiry(self, certificate) -> str:
        return expiry_html(certificate.not_after)


class TrustAnchorImportForm(forms.Form):
    file = forms.FileField(label=_("CA certificates (.p7b, .pem, .crt or .cer)"))


@admin.register(TrustAnchor)
class TrustAnchorAdmin(ExpiryColumn, ReadOnlyAdmin):
    list_display = ("subject", "is_root", "expiry", "is_active", "crl_next_update", "short_fingerprint")
    change_list_template = "admin/signatures/trustanchor/change_list.html"
    list_filter = ("is_active", "is_root", ValidityFilter)
    search_fields = ("subject", "issuer", "fingerprint")
    fieldsets = (
        (None, {"fields": ("subject", "issuer", "serial_number", "fingerprint_grouped", "is_root", "is_active")}),
        (_("Validity"), {"fields": ("not_before", "not_after", "crl_next_update")}),
        (_("Who and when"), {"fields": ("added_by", "added_at")}),
    )
    readonly_fields = ("serial_number", "fingerprint_grouped")

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="signatures_trustanchor_import"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import_anchors": request.user.is_superuser}
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Import CA certificates from one file (PEM bundle, DER or PKCS#7) through the audited service:
        superusers only, as on the certificates page."""
        if not request.user.is_superuser:
            raise PermissionDenied
        form = TrustAnchorImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                added = services.add_trust_anchors(request.user, form.cleaned_data["file"].read())
            except ValidationError as error:
                form.add_error("file", " ".join(error.messages))
            else:
                count = len(added)
                self.message_user(request, ngettext("%(count)d CA certificate is trusted.",
                                                    "%(count)d CA certificates are trusted.", count)
                                  % {"count": count}, messages.SUCCESS)
                return redirect("admin:signatures_trustanchor_changelist")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": _("Import CA certificates from a file")}
        return TemplateResponse(request, "admin/signatures/trustanchor/import.html", context)

    @admin.display(description=_("SHA-256 fingerprint"), ordering="fingerprint")
    def short_fingerprint(self, anchor: TrustAnchor) -> str:
        return anchor.fingerprint[:16]

    @admin.display(description=_("SHA-256 fingerprint"))
    def fingerprint_grouped(self, anchor: TrustAnchor) -> str:
        return _grouped(anchor.fingerprint)

    @admin.display(description=_("serial number"))
    def serial_number(self, anchor: TrustAnchor) -> str:
        # Parsed for display only: the stored DER itself is never put on the page.
        return format(x509.load_der_x509_certificate(bytes(anchor.certificate_der)).serial_number, "X")


@admin.register(SigningCredential)
class SigningCredentialAdmin(ExpiryColumn, ReadOnlyAdmin):
    list_display = ("subject", "kind", "agency", "user", "key_storage", "expiry", "is_active", "short_fingerprint")
    list_filter = ("kind", "is_active", "key_storage", ValidityFilter, "agency")
    search_fields = ("subject", "issuer", "serial", "fingerprint", "agency__name", "user__username", "user__full_name")
    list_select_related = ("agency", "user")
    fieldsets = (
        (None, {"fields": ("kind", "user", "agency", "is_active", "deactivated_at")}),
        (
            _("Certificate"),
            {
                "fields": (
                    "subject",
                    "issuer",
                    "serial",
                    "fingerprint_grouped",
                    "not_before",
                    "not_after",
                    "chain_subjects",
                )
            },
        ),
        (
            _("Key"),
            {"fields": ("key_storage", "key_protection", "pkcs11_token_label", "pkcs11_key_label", "has_image")},
        ),
        (_("Who and when"), {"fields": ("created_by", "created_at")}),
    )
    readonly_fields = ("fingerprint_grouped", "chain_subjects", "key_protection", "has_image")

    def get_queryset(self, request: HttpRequest) -> QuerySet[SigningCredential]:
        queryset = super().get_queryset(request)
        # The credential columns that hold key material are never read for these pages.
        queryset = queryset.defer("certificate_der", "encrypted_key", "encrypted_pin", "image_png")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(agency_id=request.user.agency_id)

    @admin.display(description=_("SHA-256 fingerprint"), ordering="fingerprint")
    def short_fingerprint(self, credential: SigningCredential) -> str:
        return credential.fingerprint[:16]

    @admin.display(description=_("SHA-256 fingerprint"))
    def fingerprint_grouped(self, credential: SigningCredential) -> str:
        return _grouped(credential.fingerprint)

    @admin.display(description=_("issuing CA certificates"))
    def chain_subjects(self, credential: SigningCredential) -> str:
        if not credential.chain_pem:
            return "-"
        certificates = x509.load_pem_x509_certificates(credential.chain_pem.encode())
        return format_html_join(
            "", "<div>{} ({})</div>", ((c.subject.rfc4514_string(), _validity_text(c)) for c in certificates)
        )

    @admin.display(description=_("Key protection"))
    def key_protection(self, credential: SigningCredential) -> str:
        if credential.key_storage == KeyStorage.STORED:
            return _("Stored encrypted (AES-256-GCM) under the server's key-encryption key; never shown.")
        if credential.key_storage == KeyStorage.PKCS11:
            return _("On a PKCS#11 token; its PIN is stored encrypted and never shown.")
        return _("Not held by the server.")

    @admin.display(description=_("Signature or seal image"), boolean=True)
    def has_image(self, credential: SigningCredential) -> bool:
        return SigningCredential.objects.filter(pk=credential.pk, image_png__isnull=False).exists()


def _validity_text(certificate: x509.Certificate) -> str:
    start = timezone.localtime(certificate.not_valid_before_utc).strftime("%d/%m/%Y")
    end = timezone.localtime(certificate.not_valid_after_utc).strftime("%d/%m/%Y")
    return f"{start} - {end}"


@admin.register(SigningRequest)
class SigningRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "state", "subject_label", "document", "requested_by", "attempts", "created_at",
                    "finished_at")
    list_filter = ("state", "kind")
    search_fields = (
        "subject_label",
        "number_text",
        "credential__subject",
        "credential__fingerprint",
        "requested_by__username",
        "requested_by__full_name",
        "error",
    )
    list_select_related = ("document", "requested_by")
    fieldsets = (
        (None, {"fields": ("kind", "state", "error", "attempts")}),
        (
            _("What is signed"),
            {"fields": ("subject_type", "subject_id", "subject_label", "source_blob", "document", "number_text",
                        "date_text", "attachments", "result_blob", "result_attachments")},
        ),
        (_("Who signs"), {"fields": ("credential", "requested_by", "signer_name", "authority_prefix",
                                     "on_behalf_of")}),
        (_("Who and when"), {"fields": ("created_at", "started_at", "finished_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[SigningRequest]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=visible_signing_requests(request.user).values("pk"))


class SignatureCheckInline(admin.TabularInline):
    model = SignatureCheck
    extra = 0
    can_delete = False
    fields = (
        "position",
        "field_name",
        "signer",
        "trusted",
        "intact",
        "coverage",
        "modification_level",
        "signing_time",
        "timestamp_time",
        "revocation",
        "verdict",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(FileVerification)
class FileVerificationAdmin(ReadOnlyAdmin):
    list_display = ("blob", "state", "verdict", "signature_count", "created_at", "verified_at")
    list_filter = ("verdict", "state")
    search_fields = ("blob__sha256", "signatures__signer")
    fields = ("blob", "state", "verdict", "signature_count", "created_at", "verified_at", "report_text")
    readonly_fields = ("report_text",)
    inlines = [SignatureCheckInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FileVerification]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        from documents.selectors import visible_documents

        # A report names signers of a document: shown only to those who may see a document holding the file.
        return queryset.filter(blob__uses__document__in=visible_documents(request.user).values("pk")).distinct()

    @admin.display(description=_("report"))
    def report_text(self, verification: FileVerification) -> str:
        return format_html("<pre>{}</pre>", json.dumps(verification.report, ensure_ascii=False, indent=2))
