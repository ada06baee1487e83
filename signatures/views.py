"""Web pages of the signatures app: the certificates page (a person's own certificate; for administrators
the agency seal, the people's certificates and the trust store) and the verification page. Thin: every
change goes through signatures.services. Signing a draft is on the draft page (workflows)."""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from eoffice.http import posted_int, posted_person_or_404

from . import services
from .models import CredentialKind, KeyStorage, SigningCredential, TrustAnchor
from .selectors import MAX_VERIFY_BYTES, visible_stored_file
from .verification_sheet import printed_by, render_sheet, sheet_response, stored_report
from .verification_text import report_lines
from .verifying import verify_bytes


def _act(request: HttpRequest, call, success: str) -> bool:
    try:
        call()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not do this."))
        return False
    messages.success(request, success)
    return True


class OwnerConfirmationMixin:
    """Administrators (only) get the box that confirms the owner of a certificate naming somebody else."""

    def __init__(self, *args, is_admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if is_admin:
            self.fields["confirm_owner"] = forms.BooleanField(
                label=gettext_lazy("I confirm that this certificate belongs to the chosen person"), required=False,
                help_text=gettext_lazy("Only when its subject names somebody else (another name, e-mail or user "
                                       "id) and you checked that it is theirs. Recorded in the audit trail."),
            )


class Pkcs12Form(OwnerConfirmationMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Certificate file (.p12 or .pfx)"))
    password = forms.CharField(label=gettext_lazy("Password of the file"), widget=forms.PasswordInput, required=False)
    image = forms.FileField(label=gettext_lazy("Signature or seal image (PNG, transparent background)"),
                            required=False)


class CertificateOnlyForm(OwnerConfirmationMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Certificate (.cer, .crt or .pem)"))
    chain = forms.FileField(label=gettext_lazy("Issuing CA certificates (optional)"), required=False)
    key_storage = forms.ChoiceField(label=gettext_lazy("Where the key is"), choices=[
        (KeyStorage.PKCS11, KeyStorage.PKCS11.label), (KeyStorage.EXTERNAL, KeyStorage.EXTERNAL.label)])
    token_label = forms.CharField(label=gettext_lazy("Token label"), required=False)
    key_label = forms.CharField(label=gettext_lazy("Key label on the token"), required=False)
    pin = forms.CharField(label=gettext_lazy("Token PIN"), widget=forms.PasswordInput, required=False)
    image = forms.FileField(label=gettext_lazy("Signature or seal image (PNG, transparent background)"),
                            required=False)


def _target(request: HttpRequest, data: dict) -> services.CredentialInput:
    """Whose certificate the form imports: the agency's seal, a person of the agency chosen by an
    administrator, or the person themselves (services.import_* check who may import what)."""
    target, image = request.POST.get("for", "me"), data["image"].read() if data.get("image") else None
    confirm_owner = bool(data.get("confirm_owner"))
    if target == "seal":
        return services.CredentialInput(kind=CredentialKind.SEAL, agency=request.user.agency, image_png=image)
    if target == "person":
        if posted_int(request, "person") is None:
            raise ValidationError({"person": _("Choose the person the certificate belongs to.")})
        person = posted_person_or_404(request, "person", agency_id=request.user.agency_id)
        return services.CredentialInput(kind=CredentialKind.PERSONAL, user=person, image_png=image,
                                        confirm_owner=confirm_owner)
    return services.CredentialInput(kind=CredentialKind.PERSONAL, user=request.user, image_png=image,
                                    confirm_owner=confirm_owner)


@login_required
def certificates(request: HttpRequest) -> HttpResponse:
    user = request.user
    is_admin = user.has_perm("signatures.add_signingcredential") and user.agency_id is not None
    p12_form, cert_form = Pkcs12Form(is_admin=is_admin), CertificateOnlyForm(is_admin=is_admin)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "pkcs12":
            p12_form = Pkcs12Form(request.POST, request.FILES, is_admin=is_admin)
            if p12_form.is_valid():
                data = p12_form.cleaned_data
                if _act(request, lambda: services.import_pkcs12(
                        user, _target(request, data), data["file"].read(), data["password"]),
                        _("The certificate was imported; its key is stored encrypted.")):
                    return redirect("signatures:certificates")
        elif action == "certificate":
            cert_form = CertificateOnlyForm(request.POST, request.FILES, is_admin=is_admin)
            if cert_form.is_valid():
                data = cert_form.cleaned_data
                chain = data["chain"].read() if data.get("chain") else b""
                if _act(request, lambda: services.import_certificate(
                        user, _target(request, data), data["file"].read(), key_storage=data["key_storage"],
                        token_label=data["token_label"], key_label=data["key_label"], pin=data["pin"],
                        chain_content=chain), _("The certificate was imported.")):
                    return redirect("signatures:certificates")
        elif action == "deactivate":
            # Only credentials the person could manage are looked up: another agency's ids give 404.
            manageable = Q(user=user) | (Q(agency_id=user.agency_id) if is_admin else Q(pk__in=[]))
            credential = get_object_or_404(SigningCredential.objects.filter(manageable, is_active=True),
                                           pk=posted_int(request, "credential") or 0)
            _act(request, lambda: services.deactivate_credential(user, credential), _("The certificate was deactivated."))
            return redirect("signatures:certificates")
        elif action in ("trust", "crl", "untrust"):
            if action == "untrust":
                anchor = get_object_or_404(TrustAnchor, pk=posted_int(request, "anchor") or 0)
                _act(request, lambda: services.remove_trust_anchor(user, anchor), _("The CA is no longer trusted."))
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    messages.error(request, _("Choose a file."))
                elif action == "trust":
                    _act(request, lambda: services.add_trust_anchors(user, upload.read()), _("The CA is now trusted."))
                else:
                    _act(request, lambda: services.set_revocation_list(user, upload.read()),
                         _("The revocation list was stored."))
            return redirect("signatures:certificates")
    mine = SigningCredential.objects.filter(user=user).order_by("-is_active", "-created_at")
    agency_credentials = (SigningCredential.objects.filter(agency_id=user.agency_id, is_active=True)
                          .select_related("user").order_by("kind", "subject") if is_admin else [])
    return render(request, "signatures/certificates.html", {
        "mine": mine,
        "is_admin": is_admin,
        "agency_credentials": agency_credentials,
        "people": get_user_model().objects.filter(agency_id=user.agency_id, is_active=True) if is_admin else [],
        "anchors": TrustAnchor.objects.filter(is_active=True) if user.has_perm("signatures.view_trustanchor") else [],
        "can_manage_trust": user.is_superuser,
        "p12_form": p12_form,
        "cert_form": cert_form,
    })


class VerifyForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Signed PDF"))


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST or None, request.FILES or None)
    report = lines = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_VERIFY_BYTES:
            form.add_error("file", _("The file is too large to check."))
        else:
            content = upload.read()
            report = verify_bytes(content)
            if request.POST.get("format") == "pdf":  # the "Print verification sheet" button
                return sheet_response(render_sheet(
                    report, file_name=upload.name, sha256=hashlib.sha256(content).hexdigest(),
                    printed_by=printed_by(request.user), language=get_language()), upload.name)
            lines = report_lines(report)
    return render(request, "signatures/verify.html", {"form": form, "report": report, "lines": lines})


@login_required
def stored_sheet(request: HttpRequest, sha256: str) -> HttpResponse:
    """The verification sheet of a document's stored file: `?document=<id>` names the document, which this
    person must be able to see; 404 otherwise, never saying whether the content exists."""
    try:
        document_id = int(request.GET.get("document", ""))
    except ValueError:
        raise Http404 from None
    if not 0 < document_id < 2**63:
        raise Http404
    doc_file = visible_stored_file(request.user, document_id, sha256)
    if doc_file is None:
        raise Http404
    content = render_sheet(stored_report(doc_file), file_name=doc_file.original_name, sha256=doc_file.blob_id,
                           printed_by=printed_by(request.user), language=get_language())
    return sheet_response(content, doc_file.original_name)
