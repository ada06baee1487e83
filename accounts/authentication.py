"""API tokens that expire.

DRF's tokens (rest_framework.authtoken, one per person) never expire by themselves. Here a token is refused
API_TOKEN_TTL_HOURS after it was issued, with a 401 saying so; /api/v1/auth/token/ then issues a new one
(accounts.api.ObtainToken). A password change, "log out everywhere" and deactivation delete the person's
token at once (accounts.models.User.save, accounts.services.revoke_sessions); an inactive person's token is
refused by DRF itself."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_lifetime() -> timedelta:
    return timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def token_expires_at(token: Token) -> datetime:
    return token.created + token_lifetime()


def token_expired(token: Token) -> bool:
    return token_expires_at(token) <= timezone.now()


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused once the token is older than API_TOKEN_TTL_HOURS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)  # unknown key, inactive person: 401 already
        if token_expired(token):
            raise AuthenticationFailed(_("The token has expired. Ask for a new one at /api/v1/auth/token/."))
        return user, token
