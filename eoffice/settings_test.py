"""Test settings: the real settings, with tasks run eagerly, a fast password hasher and temp files."""

import os
import tempfile

from .settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="eoffice-test-media-")
STORAGES["default"]["OPTIONS"] = {"location": MEDIA_ROOT}  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LANGUAGE_CODE = os.environ.get("TEST_LANGUAGE_CODE", "vi")
STATIC_ROOT = tempfile.mkdtemp(prefix="eoffice-test-static-")
WHITENOISE_USE_FINDERS = True
# Existing tests log people in without a second factor; the two-factor tests (tests/accounts/test_two_factor.py)
# turn the requirement on with override_settings. Whoever has a device is asked for codes either way.
OTP_REQUIRED = False
# No network in tests: the revocation tests (tests/signatures/test_revocation.py) turn online checking on with
# override_settings against a local OCSP responder and CRL server.
SIGNATURE_REVOCATION_CHECKING = False

# `make test` on PostgreSQL migrates a template once (scripts/test_template_db.py); each test process's database
# is a copy of it, with nothing left to migrate.
if os.environ.get("EOFFICE_TEST_TEMPLATE") and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["TEST"] = {**DATABASES["default"].get("TEST", {}),  # noqa: F405
                                    "TEMPLATE": os.environ["EOFFICE_TEST_TEMPLATE"]}

# Parallel runs (pytest -n, `make test`): each worker gets its own Redis database for the broker tests (the
# database names get their own suffix from pytest-django).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw") and os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
    _base, _sep, _db = os.environ["CELERY_BROKER_URL"].rpartition("/")
    CELERY_BROKER_URL = f"{_base}/{(int(_db or 0) + 1 + int(_WORKER[2:])) % 16}"  # Redis has 16 databases
    os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL  # the tests' own connections read it there
