"""Settings for the worker service center, driven by environment variables.

Two modes, chosen by ``DJANGO_ENV``:

* ``development`` (default): SQLite, in-memory channel layer, console SMS; any secret that
  is not in the environment is generated once into ``var/dev-secrets.json``.
* ``production``: every secret must come from the environment, or the process refuses to
  start; security settings are those that ``manage.py check --deploy`` asks for.
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from psycopg_pool import ConnectionPool

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ.get("DJANGO_ENV", "development")
PRODUCTION = ENV == "production"


def _dev_secrets() -> dict:
    """Secrets for development and the demo, made once and kept out of git."""
    path = BASE_DIR / "var" / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(exist_ok=True)
    made = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": "k1:" + secrets.token_urlsafe(32),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(made))
    return made


def secret(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return _dev_secrets()[name]


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = secret("SECRET_KEY")
DEBUG = not PRODUCTION and os.environ.get("DEBUG", "1") == "1"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Where links in SMS and Twilio's callbacks point: the public address of the hall's site.
SITE_URL = (secret("SITE_URL") if PRODUCTION else os.environ.get("SITE_URL", "http://127.0.0.1:8000")).rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "channels",
    "django_tasks_db",
    "care",
    "legal",
    "counseling",
    "childcare",
    "matchmaking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.csp",
                "care.context_processors.hall",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own psycopg 3 pool; persistent connections are a poor fit for the ASGI server.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": int(os.environ.get("DB_POOL_MIN", "2")),
            "max_size": int(os.environ.get("DB_POOL_MAX", "20")),
            "timeout": 10,
            # A connection is checked as it leaves the pool: after the database restarted, the
            # pool's dead connections are replaced instead of failing a request each.
            "check": ConnectionPool.check_connection,
        }
    }
else:
    # A covering index's extra columns (care.Case's case_closed_idx) are PostgreSQL's: SQLite
    # makes the index without them.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Realtime ---------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No socket timeout: a consumer waits for its next message with a blocking BZPOPMIN of
            # 5 s, and redis-py 8's default socket timeout of 5 s cut that wait, crashing every
            # websocket quiet for 5 s (channels_redis issue 422; found by bench/load.py).
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Counters for throttling (shared by every process through Redis when there is one; while
# Redis is down, each process counts on its own: care/cache.py).
CACHES = {
    "default": (
        {"BACKEND": "care.cache.ResilientRedisCache", "LOCATION": REDIS_URL,
         "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Background tasks -------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# A task RUNNING for longer than this is taken to belong to a dead worker and is run again.
TASK_STALE_AFTER_SECONDS = int(os.environ.get("TASK_STALE_AFTER_SECONDS", "600"))

# --- People and sign-in -----------------------------------------------------------------------
AUTH_USER_MODEL = "care.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "care:login"
LOGIN_REDIRECT_URL = "care:home"
LOGOUT_REDIRECT_URL = "care:login"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "care/locked_out.html"
AXES_RESET_ON_SUCCESS = True
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

# --- Encryption at rest -------------------------------------------------------------------------
# "kid:urlsafe-base64-key" pairs, comma-separated, the newest FIRST. Old keys stay to decrypt.
FIELD_ENCRYPTION_KEYS = secret("FIELD_ENCRYPTION_KEYS")
BLIND_INDEX_KEY = secret("BLIND_INDEX_KEY")

# --- SMS (Twilio) ---------------------------------------------------------------------------------
# Unset outside production: SMS go to the console (and the outbox page) instead.
TWILIO_ACCOUNT_SID = secret("TWILIO_ACCOUNT_SID") if PRODUCTION else os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = secret("TWILIO_AUTH_TOKEN") if PRODUCTION else os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
# Base URL of the Twilio REST API; tests point it at a local server.
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "")

# --- Video hearings (legal.video_providers, ADR 0017) -------------------------------------------
# "builtin": browser-to-browser WebRTC, no outside account (small hearings); "twilio": Twilio
# Video group rooms, which need an API key (TWILIO_API_KEY_SID / _SECRET) besides the account.
VIDEO_PROVIDER = os.environ.get("VIDEO_PROVIDER", "builtin")
# STUN/TURN servers for the built-in provider, as the JSON list RTCPeerConnection takes, e.g.
# [{"urls": "stun:stun.example.org:3478"}, {"urls": "turn:turn.example.org", "username": "u", "credential": "c"}]
VIDEO_ICE_SERVERS = json.loads(os.environ.get("VIDEO_ICE_SERVERS", "[]"))
TWILIO_API_KEY_SID = os.environ.get("TWILIO_API_KEY_SID", "")
TWILIO_API_KEY_SECRET = (secret("TWILIO_API_KEY_SECRET") if PRODUCTION and VIDEO_PROVIDER == "twilio"
                         else os.environ.get("TWILIO_API_KEY_SECRET", ""))
# An access token to a Twilio room lives this long: enough to connect (and reconnect), no more.
VIDEO_TOKEN_SECONDS = int(os.environ.get("VIDEO_TOKEN_SECONDS", "600"))

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: from package registries at install time, served by the app -----------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/twilio-video", BASE_DIR / "node_modules" / "twilio-video" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = BASE_DIR / "var" / "media"
# Uploads (legal documents: at most 10 MB) stay in memory until they are encrypted, never
# in a temporary file on disk.
LEGAL_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
CLAIMS_RECEIPT_MAX_BYTES = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = max(LEGAL_DOCUMENT_MAX_BYTES, CLAIMS_RECEIPT_MAX_BYTES) + 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = FILE_UPLOAD_MAX_MEMORY_SIZE

# Mutual-insurance claims (ADR 0010): approvals above this amount need a second reviewer; a
# rejection may be appealed once, within this many days.
CLAIMS_SECOND_APPROVAL_ABOVE = os.environ.get("CLAIMS_SECOND_APPROVAL_ABOVE", "10000.00")
CLAIMS_APPEAL_DAYS = int(os.environ.get("CLAIMS_APPEAL_DAYS", "60"))
# Counseling appointments (ADR 0012).
COUNSELING_MIN_NOTICE_HOURS = 2
COUNSELING_MAX_DAYS_AHEAD = 28
COUNSELING_MAX_OPEN_PER_WORKER = 2
COUNSELING_CANCEL_CUTOFF_HOURS = 24

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "care.api_schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "care.api_errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "user": "600/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Worker Service Center API",
    "DESCRIPTION": "职工综合服务中心 — cases, intake and the hall's services.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ClaimKindEnum": "legal.models.ClaimKind",
        "DocumentKindEnum": "legal.models.DocumentKind",
        "ClaimStateEnum": "care.claims.models.ClaimState",
        "ClaimCategoryEnum": "care.claims.models.Category",
        "AppointmentStateEnum": "counseling.models.AppointmentState",
        "CounselingModeEnum": "counseling.models.Mode",
        "SignupStateEnum": "counseling.models.SignupState",
        "ServiceKindEnum": "counseling.models.ServiceKind",
    },
}

# --- Security ---------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF, "ws:", "wss:"] if not PRODUCTION else [CSP.SELF, "wss:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if VIDEO_PROVIDER == "twilio":  # the twilio-video library talks to Twilio's signalling servers
    SECURE_CSP["connect-src"] = [*SECURE_CSP["connect-src"], "https://*.twilio.com", "wss://*.twilio.com"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "care": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "django.tasks": {"handlers": ["console"], "level": "INFO"},
        "django_tasks_db": {"handlers": ["console"], "level": "INFO"},
    },
}

# --- SMS behaviour ------------------------------------------------------------------------------
TWILIO_TIMEOUT_SECONDS = float(os.environ.get("TWILIO_TIMEOUT_SECONDS", "10"))
SMS_QUIET_HOURS = (21, 8)  # local hours: non-urgent messages wait from 21:00 until 08:00
SMS_RETRY_BASE_SECONDS = int(os.environ.get("SMS_RETRY_BASE_SECONDS", "30"))
SMS_RETRY_CAP_SECONDS = 3600
SMS_MAX_ATTEMPTS = int(os.environ.get("SMS_MAX_ATTEMPTS", "10"))  # retries span 1.5 h at least, about 3 h
SMS_RATE_LIMIT = 5  # messages to one number ...
SMS_RATE_WINDOW_SECONDS = 600  # ... within this window; more wait
SMS_CODES_PER_HOUR = 3  # sign-in codes per number per hour
SMS_CODES_PER_IP_PER_HOUR = 20  # sign-in code requests per client address per hour
