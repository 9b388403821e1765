"""Settings for the 12345 hotline platform.

Everything that differs between machines is read from the environment here, and only here.
Domain defaults that an administrator may change at run time (working hours, time limits,
warning thresholds...) live in ``system/defaults.py`` and the ``system.Setting`` table.
"""

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HOTLINE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG")
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # django-ninja as an app serves the API docs' Swagger UI from its own static files (no CDN, no inline script).
    "ninja",
    "django_tasks",
    "system.task_results.TaskResultsConfig",  # django_tasks_db, named in Chinese
    "system",
    "accounts",
    "org",
    "categories",
    "workcalendar",
    "orders",
    "notifications",
    "analytics",
    "nlp",
    "supervision",
    "alerts",
    "knowledge",
    "open311",
    "portal",
    "calls",
    "audit",
    "sharing",
    "urgent",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "accounts.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "system.middleware.DatabaseUnavailableMiddleware",
    # After authentication: GETs of dashboards and reports read from the replica when one is configured.
    "system.replica.ReplicaMiddleware",
]

ROOT_URLCONF = "hotline.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "hotline.wsgi.application"

# SQLite under var/ unless DATABASE_URL points elsewhere (e.g. postgres://postgres@127.0.0.1:5432/hotline).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hotline.sqlite3'}"),
        # A connection kept for a minute between requests: opening one costs PostgreSQL a process and the
        # request a round of authentication (a sixth of the web processes' time under load when it was 0).
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # A kept connection is checked before a request uses it, so a restarted database costs no failed request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes;
    # IMMEDIATE transactions take the write lock up front instead of failing midway.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# A streaming read replica of the primary (e.g. postgres://postgres@10.0.0.2:5432/hotline?connect_timeout=2):
# dashboards and reports read from it (system/replica.py); in tests it mirrors the default database.
if replica_url := os.environ.get("DATABASE_REPLICA_URL"):
    replica = dj_database_url.parse(replica_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"])
    if replica["ENGINE"] == DATABASES["default"]["ENGINE"]:
        replica["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), **replica.get("OPTIONS", {})}
    DATABASES["replica"] = {**replica, "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["system.replica.ReplicaRouter"]

AUTH_USER_MODEL = "accounts.User"
# Argon2id for new and changed passwords; older hashes still verify and are rehashed with Argon2 at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Applied by every form that sets a password: user creation in the admin, the admin's and the user's own
# password change. accounts/passwords.py has the Chinese messages and the character-class rule.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["username", "full_name", "email", "phone"]},
    },
    {"NAME": "accounts.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
# Reverse proxies whose X-Forwarded-For names the client (addresses or networks, comma-separated, e.g.
# "127.0.0.1,10.0.0.0/8"): without them every request behind a proxy counts as the proxy's (system/clientip.py).
TRUSTED_PROXIES = [entry.strip() for entry in os.environ.get("TRUSTED_PROXIES", "").split(",") if entry.strip()]
for _entry in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_entry, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_entry!r} is no IP address or network") from _error
# Sign-in lockout (accounts/lockout.py): failures per username and per client address within the lockout
# period lock that username or address for the period. The hotline centre's staff share one address.
LOGIN_FAILURE_LIMIT = 5
LOGIN_IP_FAILURE_LIMIT = 30
LOGIN_LOCKOUT_MINUTES = 15
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "system.storage.MediaStorage"},  # a failed write leaves no partial file
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions, cookies and response headers. HTTPS=1 when the site is served over TLS (directly, or by a proxy on
# the same host whose X-Forwarded-Proto gunicorn trusts): cookies only over TLS, plain HTTP redirected, HSTS.
HTTPS = _env_bool("HTTPS")
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working day's shift, then sign in again
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the local health probe speaks plain HTTP
SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60 if HTTPS else 0
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sent on every response by accounts/csp.py. Pages load scripts only from /static/ (no inline <script>);
# styles may be inline (style attributes, htmx's indicator style); images may be data: URIs (the 2FA QR code).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)

# Background work: the database-backed queue by default (no extra server);
# TASKS_BACKEND=rq puts it on Redis for several worker nodes.
if os.environ.get("TASKS_BACKEND", "db") == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A RUNNING task whose worker has not beaten for this long is put back in the queue (system/recovery.py).
TASK_WORKER_LOST_AFTER = int(os.environ.get("TASK_WORKER_LOST_AFTER", "60"))

# Without an SMTP server configured, mail is written to var/mail/ (one file per message) instead of being lost.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
# Senders of the receipts citizens get from the portal (portal/receipts.py): a comma-separated list of classes.
# The default SMS sender writes each message to VAR_DIR/sms/; a city names its own gateway's class here.
PORTAL_SENDERS = [
    path.strip()
    for path in os.environ.get("PORTAL_SENDERS", "portal.receipts.EmailSender,portal.receipts.FileSmsSender").split(",")
    if path.strip()
]
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "12345@hotline.local")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
REPORT_FONT = os.environ.get("REPORT_FONT", "")  # CJK font embedded in PDF reports; a Debian font package by default
# Open311 GeoReport v2 (open311/): the jurisdiction_id this server answers for.
OPEN311_JURISDICTION = os.environ.get("OPEN311_JURISDICTION", "a-city.12345.gov.cn")
# The address leaders open from a 热线要情 robot message (urgent/webhooks.py), e.g. https://12345.a-city.gov.cn.
SITE_URL = os.environ.get("SITE_URL", "")
