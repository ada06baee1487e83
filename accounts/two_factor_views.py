"""The person's two-factor pages: enrolment (QR code, first code, backup codes), new backup codes, removal,
and the code asked after the password at log-in. Thin views over accounts.two_factor."""

from __future__ import annotations

from base64 import b32encode

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from eoffice.http import client_address

from . import two_factor


def _next_url(request, default: str = "accounts:two_factor") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return redirect(default).url


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _page(request, *, codes: list[str] | None = None, status: int = 200):
    user = request.user
    device = None if two_factor.has_second_factor(user) else two_factor.pending_app(user)
    return render(request, "accounts/two_factor.html", {
        "enrolled": device is None and two_factor.has_second_factor(user),
        "required": two_factor.must_have_second_factor(user),
        "pending": device,
        "qr_svg": mark_safe(two_factor.qr_code_svg(device)) if device else "",  # noqa: S308 - made by segno
        "secret": b32encode(device.bin_key).decode() if device else "",  # to type in by hand
        "new_codes": codes,
        "remaining_codes": two_factor.backup_codes(user) if user.is_verified() else [],
        "next": _next_url(request, "documents:list"),
    }, status=status)


@login_required
def overview(request):
    return _page(request)


@login_required
@require_POST
def start(request):
    try:
        two_factor.start_enrolment(request.user)
    except ValidationError as error:
        messages.error(request, _errors(error))
    return redirect("accounts:two_factor")


@login_required
@require_POST
def confirm(request):
    try:
        device, codes = two_factor.confirm_enrolment(request.user, request.POST.get("code", ""))
    except ValidationError as error:
        messages.error(request, _errors(error))
        return _page(request, status=400)
    django_otp.login(request, device)  # the code just given verifies this session
    messages.success(request, _("Two-factor authentication is on. Keep your backup codes somewhere safe."))
    return _page(request, codes=codes)


@login_required
@require_POST
def regenerate(request):
    try:
        codes = two_factor.regenerate_backup_codes(request.user, request.POST.get("code", ""))
    except ValidationError as error:
        messages.error(request, _errors(error))
        return _page(request, status=400)
    messages.success(request, _("New backup codes have been made; the old ones no longer work."))
    return _page(request, codes=codes)


@login_required
@require_POST
def remove(request):
    try:
        two_factor.remove_second_factor(request.user, request.POST.get("code", ""))
    except ValidationError as error:
        messages.error(request, _errors(error))
        return _page(request, status=400)
    messages.success(request, _("Your authenticator app and backup codes have been removed."))
    return redirect("accounts:two_factor")


@login_required
def verify(request):
    """The code after the password: a code of the app or a backup code verifies this session."""
    if request.user.is_verified() or not two_factor.has_second_factor(request.user):
        return redirect(_next_url(request, "documents:list"))
    status = 200
    if request.method == "POST":
        device = two_factor.verify_code(request.user, request.POST.get("code", ""))
        if device is not None:
            django_otp.login(request, device)
            return redirect(_next_url(request, "documents:list"))
        two_factor.record_refused_code(request.user, purpose="login", code_given=bool(request.POST.get("code", "").strip()),
                                       address=client_address(request))
        messages.error(request, _("The code is not correct or has been used already."))
        status = 400
    return render(request, "accounts/otp_verify.html", {"next": _next_url(request, "documents:list")},
                  status=status)
