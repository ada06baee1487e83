"""Configuration: production values pass `check --deploy`; the development key does not."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "eoffice.hoabinh.gov.vn",
    "SECURE_SSL_REDIRECT": "1",
    "SESSION_COOKIE_SECURE": "1",
    "CSRF_COOKIE_SECURE": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "DATABASE_URL": "postgres://eoffice@db.internal:5432/eoffice",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "SIGNING_KEY_ENCRYPTION_KEY": "qUhTqFd1pVvB7m1o0yWq4zq8Qm2p7F0kq4Yd9y1xR1c=",
    "AUDIT_HMAC_KEY": "mT0v3r9Yk8xq2Lr6Wc1Zp5Jd7Hs4Nb0Ge3Fa9Qu2Vi8=",
}


def run_check(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(extra_env, DJANGO_SETTINGS_MODULE="eoffice.settings", EOFFICE_VAR_DIR=str(ROOT / "var"))
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = run_check(PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_secret_key_is_refused_for_deployment():
    env = dict(PRODUCTION_ENV)
    del env["SECRET_KEY"]
    result = run_check(env)
    assert result.returncode != 0
    assert "eoffice.E001" in result.stdout + result.stderr


def test_development_key_encryption_key_is_refused_for_deployment():
    env = dict(PRODUCTION_ENV)
    del env["SIGNING_KEY_ENCRYPTION_KEY"]
    result = run_check(env)
    assert result.returncode != 0
    assert "eoffice.E003" in result.stdout + result.stderr


def test_an_empty_or_malformed_key_encryption_key_is_refused_for_deployment():
    for value in ("", "not base64!", "c2hvcnQ="):
        result = run_check({**PRODUCTION_ENV, "SIGNING_KEY_ENCRYPTION_KEY": value})
        assert result.returncode != 0, value
        assert "eoffice.E003" in result.stdout + result.stderr or "eoffice.E004" in result.stdout + result.stderr


def test_development_or_malformed_audit_key_is_refused_for_deployment():
    env = dict(PRODUCTION_ENV)
    del env["AUDIT_HMAC_KEY"]
    result = run_check(env)
    assert result.returncode != 0 and "audit.E001" in result.stdout + result.stderr
    result = run_check({**PRODUCTION_ENV, "AUDIT_HMAC_KEY": "c2hvcnQ="})
    assert result.returncode != 0 and "audit.E002" in result.stdout + result.stderr


def test_embedded_defaults_run_tasks_in_process():
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh" and settings.LANGUAGE_CODE in {"vi", "en"}
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
