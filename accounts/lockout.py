"""Log-in lock-out, with django-axes: after repeated failures an account, or an address, is refused for a while.

Two limits, both counted over the failures of the last LOGIN_LOCKOUT_MINUTES:
- per account (LOGIN_FAILURE_LIMIT, from any address): guessing one person's password, even from many
  machines, stops after a few tries;
- per address (LOGIN_FAILURE_LIMIT_PER_ADDRESS, to any accounts): one machine trying a common password on
  many accounts (spraying) stops too. It is higher because a whole office often reaches the site through one
  address, and a few typing errors of its people must not lock them all out.

Axes compares one number with one limit, so `LockoutHandler.get_failures` gives the larger of the two
counts, the address's scaled to the account's limit: it reaches AXES_FAILURE_LIMIT exactly when either
limit is reached. The address is `eoffice.http.client_address` (X-Forwarded-For only from TRUSTED_PROXIES).
The same lock covers the web log-in (`/login/`, the admin's) and the API token (/api/v1/auth/token/), since
both go through `django.contrib.auth.authenticate`. The start of a lock is audited once
(accounts.services.record_login_locked); unlocking is deleting the failed attempts, audited too
(accounts.services.unlock_person / unlock_attempts: the person's admin page or API, or the axes admin).
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from eoffice.http import client_address

from . import services


def lockout_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address, None when there is none (a Unix-socket server may
    leave REMOTE_ADDR empty, which the address column cannot store)."""
    return client_address(request) or None


def lockout_message() -> str:
    return _(
        "Too many failed log-in attempts: logging in to this account or from this address is locked for "
        "%(minutes)d minutes. Try again later, or ask your administrator to unlock it."
    ) % {"minutes": settings.LOGIN_LOCKOUT_MINUTES}


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a locked person sees (AXES_LOCKOUT_CALLABLE): the log-in page with the reason, or JSON under
    /api/, with 429 and Retry-After."""
    retry_after = str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"message": lockout_message()}, status=429)
    else:
        next_url = request.POST.get("next", "") if request.method == "POST" else ""
        response = render(request, "registration/login.html",
                          {"locked_message": lockout_message(), "next": next_url}, status=429)
    response["Retry-After"] = retry_after
    return response


class LockoutBackend(AxesStandaloneBackend):
    """Axes' backend (first in AUTHENTICATION_BACKENDS): refuses a locked account or address before any
    password is checked. Only a request can be locked out: `authenticate()` called without one (the test
    client's `login`, code checking a password it already holds) is left to the other backends instead of
    failing; every log-in form and the API pass their request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with the two limits of this module and the audit of each new lock."""

    def get_failures(self, request, credentials=None) -> int:
        # AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]: one queryset each, in that order.
        by_account, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        account_limit = max(1, settings.LOGIN_FAILURE_LIMIT)
        address_limit = max(1, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS)
        request.login_lock_kind = (
            "account" if by_account >= account_limit else "address" if by_address >= address_limit else ""
        )
        # floor(n * a / b) >= a exactly when n >= b: the address's count on the account's scale.
        return max(by_account, by_address * account_limit // address_limit)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # With AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off, the backend marks a request it refused as
        # locked before this runs: only a lock set by this very failure is new.
        already_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and getattr(request, "axes_locked_out", False) and not already_locked:
            services.record_login_locked(
                username=get_client_username(request, credentials),
                address=request.axes_ip_address,
                kind=getattr(request, "login_lock_kind", "") or "account",
                failures=request.axes_failures_since_start,
            )
