"""Settings, all from environment variables with safe defaults for the embedded mode.

Embedded mode (`make run`): SQLite in ./var, tasks run eagerly in-process, files in ./var/media.
Production / CI: DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY, ALLOWED_HOSTS, ...
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("EOFFICE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
_INSECURE_DEV_KEY = "insecure-dev-key-change-me-in-production-0123456789abcdefghij"
SECRET_KEY = os.environ.get("SECRET_KEY", _INSECURE_DEV_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "eoffice",
    "audit",
    "accounts",
    "documents",
    "workflows",
    "signatures",
    "exchange",
    "notifications",
    "desk",
    "search",
    "dashboard",
    "records",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "eoffice.middleware.RefuseTraceMiddleware",
    "csp.middleware.CSPMiddleware",  # CONTENT_SECURITY_POLICY below
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "eoffice.middleware.DefaultLanguageMiddleware",
    "eoffice.middleware.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session passed the second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sends a person with a second factor to the code page after the password, and one who must have one
    # (accounts.two_factor.must_have_second_factor) to enrolment, until done.
    "accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a log-in refused by the lock-out into its page (accounts.lockout.lockout_response).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "eoffice.urls"
WSGI_APPLICATION = "eoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "exchange.context_processors.exchange_nav",
                "desk.context_processors.desk_nav",
                "eoffice.context_processors.installation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
_DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
# Seconds a process keeps its connection between requests. Opening one costs a few milliseconds (TCP, auth,
# session set-up) on every request: 60 by default on PostgreSQL; 0 = a new connection per request (behind
# pgbouncer in transaction mode). 0 for the embedded SQLite: the development server's thread per request
# would only leave connections behind. DATABASE_CONN_MAX_AGE is the older name of the variable.
_CONN_MAX_AGE = os.environ.get("DB_CONN_MAX_AGE") or os.environ.get("DATABASE_CONN_MAX_AGE") or (
    "0" if _DATABASE_URL.startswith("sqlite") else "60"
)
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL,
        conn_max_age=int(_CONN_MAX_AGE),
        # A kept connection the server has dropped (restart, failover, idle timeout) is replaced at the
        # start of the next request instead of failing it.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (eager tasks, the dev server's threads) wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and object permissions ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",  # first: refuses a locked account or address before any password check
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous people see nothing
GUARDIAN_RAISE_403 = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:home"  # "My work": each person lands on what waits for them
LOGOUT_REDIRECT_URL = "login"
# An agency's administrators manage their own agency; true: also the agencies below it in the tree (a
# province's administrators manage its departments and districts). Superusers act everywhere either way.
# The rule: accounts.selectors.administered_agencies.
ADMIN_SCOPE_INCLUDES_SUBTREE = env_bool("ADMIN_SCOPE_INCLUDES_SUBTREE", False)
# Two-factor authentication (django-otp: authenticator apps and one-time backup codes). True: holders of a
# personal signing certificate, administrators (staff, the Administrator role) and clerks who seal must have a
# second factor: they are sent to enrolment after log-in until they have one, and cannot sign without it.
# False (the embedded demo, `make run`): a second factor is optional. Either way, whoever has one enters a code
# at log-in and with each signature or seal (accounts.two_factor).
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "E-office")
# Every password set through accounts.services (API, admin, demo) passes these.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("PASSWORD_MIN_LENGTH", "8"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions end after SESSION_IDLE_MINUTES without a request (each request renews the cookie and the row).
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# Renewed at most once a minute by eoffice.middleware.IdleSessionMiddleware (not on every request).
SESSION_SAVE_EVERY_REQUEST = False

# --- Log-in protection (django-axes, accounts/lockout.py) -----------------------------------------------
# Addresses (or networks, e.g. 10.0.0.0/8) of the reverse proxies in front of the site. Only a request coming
# from one of them has its X-Forwarded-For believed (eoffice.http.client_address); empty: never believed.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
# An account is locked after LOGIN_FAILURE_LIMIT failed log-ins (from any address), an address after
# LOGIN_FAILURE_LIMIT_PER_ADDRESS (to any accounts: password spraying; higher, since a whole office may share
# one address), each for LOGIN_LOCKOUT_MINUTES after its last counted failure. Web log-in and the API token.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ADDRESS", "20"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # accounts.lockout.LockoutHandler reads them in this order
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.lockout_address"  # eoffice.http.client_address, as the throttle
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Attempts while locked are refused without being counted: the lock ends LOGIN_LOCKOUT_MINUTES after the
# failure that set it (and its start is audited once).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
# Dates dd/mm/yyyy and times 24 h in both languages (Decree 30 writes dates so); the date fields take dd/mm/yyyy
# or ISO, never mm/dd/yyyy (eoffice/formats/<lang>/formats.py, eoffice/widgets.py).
FORMAT_MODULE_PATH = ["eoffice.formats"]
# The installation's name in the page title, the header, the login page, the admin and e-mails; empty: "Hệ thống
# quản lý văn bản và điều hành" (translated in English). eoffice/branding.py.
INSTALLATION_NAME = os.environ.get("INSTALLATION_NAME", "").strip()
# A .mo catalogue missing or older than its .po: compiled at start-up when the folder is writable
# (eoffice.apps; off: only the system check eoffice.E005 reports it).
COMPILE_TRANSLATIONS_AT_STARTUP = env_bool("COMPILE_TRANSLATIONS_AT_STARTUP", True)

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"  # never served directly: files go through permission-checked views
# STORAGE_BACKEND: FileSystemStorage in MEDIA_ROOT (default), or storages.backends.s3.S3Storage with the
# AWS_* variables: an S3-compatible store shared by every node (eoffice/storage_config.py, docs/deployment.md).
from eoffice.storage_config import default_storage as _default_storage  # noqa: E402

STORAGES = {
    "default": _default_storage(os.environ, MEDIA_ROOT),
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
# Upload limits: a file above MAX_UPLOAD_BYTES is refused; ZIP-based office files may not declare
# more than MAX_UNCOMPRESSED_BYTES in all, nor compress better than MAX_COMPRESSION_RATIO per entry.
MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(50 * 1024 * 1024)))
MAX_UNCOMPRESSED_BYTES = int(os.environ.get("MAX_UNCOMPRESSED_BYTES", str(200 * 1024 * 1024)))
MAX_COMPRESSION_RATIO = int(os.environ.get("MAX_COMPRESSION_RATIO", "200"))
MAX_ZIP_ENTRIES = int(os.environ.get("MAX_ZIP_ENTRIES", "5000"))
MAX_IMAGE_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS", str(120_000_000)))
# BagIt import of a work file (records/bags.py): the most a package may unpack to, and its most entries.
RECORDS_BAG_MAX_BYTES = int(os.environ.get("RECORDS_BAG_MAX_BYTES", str(2 * 1024 * 1024 * 1024)))
RECORDS_BAG_MAX_FILES = int(os.environ.get("RECORDS_BAG_MAX_FILES", "20000"))
# edXML exchange with other systems (exchange/edxml.py): the largest package accepted (base64 attachments
# included), how long a package stays acceptable after its timestamp (and is retried by its sender), the HTTP
# timeout of a post, and whether a peer's seal must chain to the trust store.
EXCHANGE_MAX_PACKAGE_BYTES = int(os.environ.get("EXCHANGE_MAX_PACKAGE_BYTES", str(50 * 1024 * 1024)))
EXCHANGE_PACKAGE_MAX_AGE_SECONDS = int(os.environ.get("EXCHANGE_PACKAGE_MAX_AGE_SECONDS", str(7 * 24 * 3600)))
EXCHANGE_HTTP_TIMEOUT = int(os.environ.get("EXCHANGE_HTTP_TIMEOUT", "30"))
EXCHANGE_RETRY_FIRST_SECONDS = float(os.environ.get("EXCHANGE_RETRY_FIRST_SECONDS", "30"))
EXCHANGE_REQUIRE_TRUSTED_PEERS = env_bool("EXCHANGE_REQUIRE_TRUSTED_PEERS", True)
# Text and page extraction runs in a forked child with these limits (documents/extraction.py).
EXTRACTION_ISOLATED = env_bool("EXTRACTION_ISOLATED", True)
EXTRACTION_TIME_LIMIT = int(os.environ.get("EXTRACTION_TIME_LIMIT", "60"))
EXTRACTION_MEMORY_LIMIT = int(os.environ.get("EXTRACTION_MEMORY_LIMIT", str(1024 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "eoffice@localhost")
# The address of the site as people reach it: e-mails carry absolute links built on it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# "Forgot your password?" (accounts/password_reset.py): the mailed link works once, for this long; a person gets
# at most this many mails an hour.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(2 * 3600)))
PASSWORD_RESET_MAILS_PER_HOUR = int(os.environ.get("PASSWORD_RESET_MAILS_PER_HOUR", "3"))

# --- Security (production values come from the environment) ---------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"  # the PDF preview view alone allows framing by our own pages
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp): every script and style is a static file of our own; no inline script,
# handler or style attribute (tests/test_csp.py). A view that needs more says so itself (the PDF preview).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- Celery ---------------------------------------------------------------------------------
_BROKER_FROM_ENV = os.environ.get("CELERY_BROKER_URL", "")
# No broker configured: the embedded mode runs tasks in-process, right after commit.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not _BROKER_FROM_ENV)
CELERY_BROKER_URL = _BROKER_FROM_ENV or "memory://"
CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "300"))

# --- Digital signatures ----------------------------------------------------------------------
# The key-encryption key (base64 of 32 bytes, `python -c "from signatures.keys import generate_kek;
# print(generate_kek())"`) that encrypts stored private keys. The development default is refused by
# `check --deploy` (eoffice.E003); changing it makes already stored keys unreadable.
_INSECURE_DEV_KEK = "ZGV2LW9ubHkta2V5LWVuY3J5cHRpb24ta2V5LTMyYnk="
SIGNING_KEY_ENCRYPTION_KEY = os.environ.get("SIGNING_KEY_ENCRYPTION_KEY", _INSECURE_DEV_KEK)
SIGNING_TSA_URL = os.environ.get("SIGNING_TSA_URL", "")  # RFC 3161 timestamp authority; empty: PAdES B-B
SIGNING_PKCS11_MODULE = os.environ.get("SIGNING_PKCS11_MODULE", "")  # e.g. /usr/lib/softhsm/libsofthsm2.so
# How long a request a worker took stays its own; after that (the worker died) it may be taken again.
SIGNING_LEASE_SECONDS = int(os.environ.get("SIGNING_LEASE_SECONDS", "300"))
SIGNING_DEMO_PKI_DIR = os.environ.get("SIGNING_DEMO_PKI_DIR", str(BASE_DIR / "var" / "demo-pki"))
# Intents (deliveries not yet arrived, notices not yet fanned out) older than this are published again by the
# sweepers: a broker that was down or a worker that died loses nothing (exchange/, notifications/).
INTENT_SWEEP_AFTER_SECONDS = int(os.environ.get("INTENT_SWEEP_AFTER_SECONDS", "60"))
# Revocation checking of received documents (and B-LT embedding when signing) at the OCSP/CRL addresses the
# certificates declare (signatures/revocation.py, docs/deployment.md). Off: only the trust store's CRLs and the
# data embedded in the files count. Answers are cached (CACHES) until their nextUpdate, at most CACHE_SECONDS.
SIGNATURE_REVOCATION_CHECKING = env_bool("SIGNATURE_REVOCATION_CHECKING", True)
SIGNATURE_REVOCATION_TIMEOUT = float(os.environ.get("SIGNATURE_REVOCATION_TIMEOUT", "5"))  # seconds per request
SIGNATURE_REVOCATION_CACHE_SECONDS = int(os.environ.get("SIGNATURE_REVOCATION_CACHE_SECONDS", "3600"))

# --- Audit trail -----------------------------------------------------------------------------
# The key (base64 of 32 bytes, `python -c "from audit.keys import generate_key; print(generate_key())"`) that
# keys the audit chain (HMAC-SHA256) and from which the anchors' Ed25519 signing key is derived (audit/keys.py).
# Keep it out of database backups. The development default is refused by `check --deploy` (audit.E001).
# Rotating: give the new key a new AUDIT_HMAC_KEY_ID and keep the old one in AUDIT_HMAC_KEYS ("id:base64,...")
# so the events and anchors it made still verify.
_INSECURE_DEV_AUDIT_KEY = "ZGV2LW9ubHktYXVkaXQtY2hhaW4taG1hYy1rZXktMzI="
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", _INSECURE_DEV_AUDIT_KEY)
AUDIT_HMAC_KEY_ID = os.environ.get("AUDIT_HMAC_KEY_ID", "") or "1"
AUDIT_HMAC_KEYS = os.environ.get("AUDIT_HMAC_KEYS", "")
AUDIT_TSA_TIMEOUT = int(os.environ.get("AUDIT_TSA_TIMEOUT", "10"))  # seconds; anchors are timestamped at SIGNING_TSA_URL

# --- Records and archive --------------------------------------------------------------------
# Fixity: each hourly run re-hashes at most this many of the least recently checked stored files (and bytes).
FIXITY_BATCH_BLOBS = int(os.environ.get("FIXITY_BATCH_BLOBS", "2000"))
FIXITY_BATCH_BYTES = int(os.environ.get("FIXITY_BATCH_BYTES", str(2 * 1024**3)))
# RFC 3161 TSA for the archival (PAdES B-LTA) timestamp of signed PDFs received by the agency archive; empty:
# not configured, the archived copies are not timestamped (records/archiving.py marks them skipped).
ARCHIVE_TSA_URL = os.environ.get("ARCHIVE_TSA_URL", "")
ARCHIVE_TSA_TIMEOUT = float(os.environ.get("ARCHIVE_TSA_TIMEOUT", "10"))  # seconds

# --- REST API -------------------------------------------------------------------------------
# API tokens expire API_TOKEN_TTL_HOURS after they were issued (401; /api/v1/auth/token/ gives a new one).
API_TOKEN_TTL_HOURS = float(os.environ.get("API_TOKEN_TTL_HOURS", "12"))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "eoffice.api.json_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("API_TOKEN_RATE", "10/minute")},
    # Answers carry ISO 8601 (yyyy-mm-dd, times with +07:00); requests may also give dates as dd/mm/yyyy.
    "DATE_INPUT_FORMATS": ["iso-8601", "%d/%m/%Y"],
    "DATETIME_INPUT_FORMATS": ["iso-8601", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"],
}

# Cache: per-process memory in the embedded mode (one process); with several processes (production)
# set CACHE_URL=redis://host:6379/1 so counters such as the token throttle are shared.
_CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
    if _CACHE_URL.startswith(("redis://", "rediss://"))
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
SPECTACULAR_SETTINGS = {
    "TITLE": "e-office API",
    "DESCRIPTION": (
        "Agency tree, people, registers and the document registry.\n\n"
        "Dates and times: answers give dates as ISO 8601 (`2026-06-05` is 5 June 2026) and times with the offset "
        "of Vietnam (`2026-06-05T14:30:00+07:00`, 24 h). Requests may give a date as ISO or as dd/mm/yyyy "
        "(`05/06/2026`), never mm/dd/yyyy; the web interface shows dd/mm/yyyy and 24 h times in both languages."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Declares the 403/404 answers every operation can give (found by tests/security/test_schemathesis.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "eoffice.api.document_error_answers"],
    "ENUM_NAME_OVERRIDES": {
        "AgencyKindEnum": "accounts.models.AgencyKind",
        "RegisterKindEnum": "documents.models.RegisterKind",
        "CatalogueStateEnum": "records.models.CatalogueState",
        "WorkFileStateEnum": "records.models.WorkFileState",
        "DecisionStateEnum": "records.models.DecisionState",
        "TransferStateEnum": "records.models.TransferState",
        "DispositionStateEnum": "records.models.DispositionState",
        "JobStateEnum": "records.models.JobState",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "pypdf": {"level": "ERROR"},
        # django-axes: each failed log-in and each lock is a WARNING (the security log); not its INFO chatter.
        "axes": {"level": "WARNING"},
        "PIL": {"level": "WARNING"},
        # pyHanko warns, with a traceback, about every untrusted or tampered signature it checks: the verdict
        # and its reason are stored (FileVerification), and the text (certificate names) is the sender's.
        "pyhanko.sign.validation": {"level": "ERROR"},
        "pyhanko.sign.diff_analysis": {"level": "ERROR"},
        "pyhanko.sign.general": {"level": "ERROR"},
        "pyhanko_certvalidator": {"level": "ERROR"},
    },
}
