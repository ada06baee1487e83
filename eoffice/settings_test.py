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
