"""API of logging in and out: the token (with the log-in lock-out and an expiry), "log out everywhere",
and an administrator's unlock of a person's log-in. Thin views over accounts.services; how the lock works is
in accounts.lockout, how tokens expire in accounts.authentication."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from eoffice.api import ActionPermissions, ClientAddressScopedRateThrottle, JSONOnlyMixin
from eoffice.http import client_address

from . import selectors, services, two_factor
from .authentication import token_expired, token_expires_at
from .lockout import lockout_message
from .models import User


class LoginLocked(APIException):
    """429 with Retry-After (DRF's handler adds it for an exception with `wait`), like the throttle, but
    saying that the log-in is locked."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "login_locked"

    def __init__(self):
        super().__init__(detail=lockout_message())
        self.wait = settings.LOGIN_LOCKOUT_MINUTES * 60


_TOKEN_RESPONSE = inline_serializer("Token", {
    "token": serializers.CharField(),
    "expires_at": serializers.DateTimeField(help_text="The token is refused (401) from then on."),
})
_MESSAGE_RESPONSE = inline_serializer("LoggedOutEverywhere", {"message": serializers.CharField()})


def _require_second_factor(user, code, address: str = "") -> None:
    """A person with a second factor (or who must have one: accounts.two_factor) adds `otp`, a fresh
    one-time code, to the username and password; repeated wrong codes are slowed by django-otp's throttling."""
    if not two_factor.code_required(user):
        return
    if not two_factor.has_second_factor(user):
        raise PermissionDenied(_("Set up two-factor authentication first: your account requires it."))
    if two_factor.verify_code(user, code if isinstance(code, str) else "") is None:
        two_factor.record_refused_code(user, purpose="api_token",
                                       code_given=bool(code.strip()) if isinstance(code, str) else False,
                                       address=address)
        raise ValidationError({"otp": [_("The code is not correct or has been used already.")]})


class ObtainToken(ObtainAuthToken):
    """A token for a username and password. Guessing is slowed per client address (scope "token", the
    counter in the shared cache, see CACHE_URL) and locked after repeated failures per account and per
    address (accounts.lockout: 429 with the reason). The token is valid API_TOKEN_TTL_HOURS from its
    issue; the person's current token is given while valid, a new one once it has expired. A person with a
    second factor also sends `otp`, a fresh one-time code (400 without it; 403 for one who must enrol first)."""

    throttle_classes = [ClientAddressScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(responses={200: _TOKEN_RESPONSE})
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError:
            # axes marks the request it refused (or that this failure locked) on the request itself.
            if getattr(request, "axes_locked_out", False):
                raise LoginLocked() from None
            raise
        user = serializer.validated_data["user"]
        _require_second_factor(user, request.data.get("otp", ""), client_address(request))
        with transaction.atomic():
            token = Token.objects.select_for_update().filter(user=user).first()
            if token is not None and token_expired(token):
                token.delete()
                token = None
            if token is None:
                token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})


class LogoutEverywhereView(JSONOnlyMixin, GenericAPIView):
    """End every session and API token of the person calling, this one included (audited)."""

    def get_queryset(self):  # pragma: no cover - only for schema generation
        return User.objects.none()

    @extend_schema(request=None, responses={200: _MESSAGE_RESPONSE})
    def post(self, request: Request) -> Response:
        services.revoke_sessions(request.user, request.user)
        return Response({"message": _("You have been logged out everywhere: every session and API token has ended.")})


class UnlockLoginView(JSONOnlyMixin, GenericAPIView):
    """End the log-in lock of a person of an agency the caller administers (accounts.change_user;
    audited). Answers how many failure records were forgotten (0: the log-in was not locked)."""

    permission_classes = [ActionPermissions]
    required_permissions = {"post": ["accounts.change_user"]}

    def get_queryset(self):
        return selectors.in_administered_agencies(User.objects.all(), self.request.user)

    @extend_schema(request=None, responses={200: inline_serializer("Unlocked", {"unlocked": serializers.IntegerField()})})
    def post(self, request: Request, pk: int) -> Response:
        person = get_object_or_404(self.get_queryset(), pk=pk)
        return Response({"unlocked": services.unlock_person(request.user, person)})
