"""Deployment check of the key-encryption key: not the development default, and usable (an empty or
malformed value would only show when the first signature fails)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from .keys import InvalidKek, parse_kek


@register(Tags.security, deploy=True)
def check_key_encryption_key(app_configs, **kwargs):
    from eoffice.settings import _INSECURE_DEV_KEK

    hint = "Set SIGNING_KEY_ENCRYPTION_KEY to base64 of 32 random bytes: python -c \"from signatures.keys import " \
           "generate_kek; print(generate_kek())\""
    if settings.SIGNING_KEY_ENCRYPTION_KEY == _INSECURE_DEV_KEK:
        return [Error("SIGNING_KEY_ENCRYPTION_KEY is the development default.", hint=hint, id="eoffice.E003")]
    try:
        parse_kek(settings.SIGNING_KEY_ENCRYPTION_KEY)
    except InvalidKek as error:
        return [Error(f"SIGNING_KEY_ENCRYPTION_KEY is not usable: {error}.", hint=hint, id="eoffice.E004")]
    return []
