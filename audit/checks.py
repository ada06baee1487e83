"""Deployment check of the audit key: not the development default, and usable (a malformed key would only
show when the first event is chained)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from .keys import InvalidAuditKey, parse_key, parse_older_keys

HINT = ("Set AUDIT_HMAC_KEY to base64 of 32 random bytes: python -c \"from audit.keys import generate_key; "
        "print(generate_key())\" (and, if events were chained with the old key, a new AUDIT_HMAC_KEY_ID with the "
        "old key kept in AUDIT_HMAC_KEYS).")


@register(Tags.security, deploy=True)
def check_audit_key(app_configs, **kwargs):
    from eoffice.settings import _INSECURE_DEV_AUDIT_KEY

    if settings.AUDIT_HMAC_KEY == _INSECURE_DEV_AUDIT_KEY:
        return [Error("AUDIT_HMAC_KEY is the development default.", hint=HINT, id="audit.E001")]
    try:
        parse_key(settings.AUDIT_HMAC_KEY)
        for key_id, key in parse_older_keys(settings.AUDIT_HMAC_KEYS).items():
            try:
                parse_key(key)
            except InvalidAuditKey as error:
                raise InvalidAuditKey(f"AUDIT_HMAC_KEYS[{key_id}]: {error}") from error
    except InvalidAuditKey as error:
        return [Error(f"The audit key is not usable: {error}.", hint=HINT, id="audit.E002")]
    return []
