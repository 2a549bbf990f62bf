"""O2C Portal settings: one file, every value from the environment.

With no environment at all this is the demo: an SQLite file, DEBUG on, the sandbox peers mounted.
Production sets DATABASE_URL, SECRET_KEY, DEBUG=0, ALLOWED_HOSTS and the peer blocks below
(the README lists every name).
"""

import math
import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _env(name: str) -> str | None:
    """The variable's value, stripped; None when unset or blank (the default applies)."""
    value = os.environ.get(name, "").strip()
    return value or None


def env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    # A typo ("ture", "disabled") must not silently read as false.
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use one of {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}"
    )


def _env_number[N: (int, float, Decimal)](name: str, default: N, parse: type[N], what: str) -> N:
    value = _env(name)
    if value is None:
        return default
    try:
        number = parse(value)
        if math.isfinite(number):
            return number
    except (ValueError, ArithmeticError):
        pass
    raise ImproperlyConfigured(f"{name}={value!r} is not {what}")


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_decimal(name: str, default: str) -> Decimal:
    return _env_number(name, Decimal(default), Decimal, "a decimal number")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The development key: the `o2c.E001` system check refuses it whenever DEBUG is off.
DEVELOPMENT_SECRET_KEY = "django-insecure-o2c-portal-development-key-do-not-deploy"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
PORT = env_int("PORT", 8000)
# Where this portal is reached, for links in alerts and for the sandbox peers' callbacks.
O2C_PUBLIC_URL = os.environ.get("O2C_PUBLIC_URL", f"http://127.0.0.1:{PORT}").rstrip("/")

# The sandbox: local stand-ins for every peer, mounted under /sandbox/ (demo and tests only).
O2C_SANDBOX = env_bool("O2C_SANDBOX", DEBUG)
# Bearer token for the sandbox's fault API (/sandbox/faults/<peer>.json) used by bench scripts.
SANDBOX_API_TOKEN = os.environ.get(
    "O2C_SANDBOX_TOKEN", "sandbox-faults-token" if O2C_SANDBOX else ""
)
# TOTP for everyone who can approve, post, send or administer (apps/accounts/mfa.py); the demo
# turns it off so seeded users sign in at once.
O2C_REQUIRE_MFA = env_bool("O2C_REQUIRE_MFA", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "import_export",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "o2c_portal",
    "apps.accounts",
    "apps.audit",
    "apps.sync",
    "apps.inventory",
    "apps.orders",
    "apps.invoicing",
    "apps.support",
    "apps.ops",
]
if O2C_SANDBOX:
    INSTALLED_APPS += ["apps.sandbox", "apps.sandbox.shopify", "apps.sandbox.shipbob"]
    INSTALLED_APPS += ["apps.sandbox.xero"]
    INSTALLED_APPS += ["apps.sandbox.openai", "apps.sandbox.teams"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "apps.accounts.middleware.RequireMFAMiddleware",
    "apps.accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "o2c_portal.urls"
WSGI_APPLICATION = "o2c_portal.wsgi.application"
ASGI_APPLICATION = "o2c_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "o2c_portal.navigation.navigation",
            ],
            # `words`, `duration` and kin on every page: raw codes never reach a person.
            "builtins": ["apps.ops.templatetags.ops"],
        },
    },
]

# Database: no DATABASE_URL → an SQLite file for the demo; postgres://… → PostgreSQL through psycopg 3.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'demo.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        # Off by default: the per-request `SELECT 1` costs the webhook path its p99 bar (bench/ingest:
        # ~60 → ~42 ms). After a database restart each worker fails one request, which Shopify and
        # ShipBob retry; set it to 1 if a page user must never see that error.
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the django-q2 workers share the file: WAL, a busy timeout and
    # BEGIN IMMEDIATE keep concurrent writers from failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# allauth: email + password, no public sign-up (the adapter closes it), TOTP MFA.
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "O2C Portal"
# Accept the code of the neighbouring 30-second step: phone clocks drift, and a code typed at the
# end of its step would otherwise fail (used codes are still refused a second time).
MFA_TOTP_TOLERANCE = 1

# One cache for every process (web workers, task cluster): allauth's sign-in rate limits count
# there, and a per-process cache would let each worker allow its own 5 guesses. The database
# cache needs `manage.py createcachetable` wherever `migrate` runs; REDIS_URL switches to Redis
# (install the `redis` package on that host).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "o2c_cache"}
}

# Behind a TLS proxy: redirect plain HTTP and send HSTS (docs/deploy.md). /healthz stays plain
# for load balancers that probe over HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
)

# Content Security Policy: no inline script without the per-request nonce; htmx is served from static/.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Django 6.1 mailers. Production: EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend + EMAIL_* below.
# In the sandbox, sent mail lands in a mailbox page (/sandbox/mailbox/) where a person can read it.
_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "apps.sandbox.mailbox.SandboxMailBackend"
    if O2C_SANDBOX
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 587),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", True),
        }
        if _EMAIL_BACKEND.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@example.com")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "django-q": {"level": os.environ.get("Q_LOG_LEVEL", "WARNING")},
    },
}

# django-q2 on the ORM broker (the same database; no Redis needed). `retry` must exceed `timeout`.
Q_CLUSTER = {
    "name": "o2c",
    "orm": "default",
    # Every pump holds a worker while it drains (receipts, shopify, shipbob, xero, mail): keep
    # workers above the pump count, or an idle pump can starve a busy one (bench/warehouse_drain).
    "workers": env_int("Q_WORKERS", 8),
    "timeout": env_int("Q_TIMEOUT", 90),
    "retry": env_int("Q_RETRY", 120),
    "max_attempts": 3,
    "poll": 0.5,
    "catch_up": False,
    "save_limit": 500,
    "ack_failures": True,
    "label": "Tasks",
}

# The SKU mapping CSV is exported to be edited in a spreadsheet: a cell starting with "=" (a formula
# a spreadsheet would run) is written without it.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# --- The sync plumbing (apps/sync) ---------------------------------------------------------------
SYNC = {
    # Raw bodies above this size are refused with 413 before anything is stored.
    "WEBHOOK_MAX_BYTES": env_int("SYNC_WEBHOOK_MAX_BYTES", 1_048_576),
    # An outbox message becomes `dead` after this many failed attempts.
    "MAX_ATTEMPTS": env_int("SYNC_MAX_ATTEMPTS", 8),
    "BACKOFF_BASE_SECONDS": env_float("SYNC_BACKOFF_BASE_SECONDS", 2.0),
    "BACKOFF_MAX_SECONDS": env_float("SYNC_BACKOFF_MAX_SECONDS", 3600.0),
    # A pump holds its peer's lease this long; a worker that dies frees the peer when it expires.
    "LEASE_SECONDS": env_int("SYNC_LEASE_SECONDS", 120),
    # A message claimed but not settled within this time is claimed again (same idempotency key).
    "CLAIM_SECONDS": env_int("SYNC_CLAIM_SECONDS", 300),
    # How long one scheduled pump run keeps draining before it hands back to the scheduler.
    "PUMP_RUN_SECONDS": env_float("SYNC_PUMP_RUN_SECONDS", 50.0),
}
# Per-peer overrides of SYNC's MAX_ATTEMPTS and BACKOFF_* (plus BACKOFF_MIN_FRACTION, the jitter's floor). Xero
# posts can wait: a 10-minute Xero outage uses at most 6 of their 12 attempts (30 s, 60 s, …
# with the delay never under half its step), so they are nowhere near `dead` when it ends.
SYNC_PEER_RETRY = {
    "xero": {
        "MAX_ATTEMPTS": env_int("SYNC_XERO_MAX_ATTEMPTS", 12),
        "BACKOFF_BASE_SECONDS": env_float("SYNC_XERO_BACKOFF_BASE_SECONDS", 30.0),
        "BACKOFF_MIN_FRACTION": 0.5,
    },
}

# Per-peer rate budgets (token buckets shared by every worker through the database).
# capacity = burst size; refill = tokens per second. Defaults sit below each peer's documented limit.
RATE_BUDGETS = {
    "shopify": {
        "capacity": env_float("SHOPIFY_BUDGET_CAPACITY", 40),
        "refill": env_float("SHOPIFY_BUDGET_REFILL", 2.0),
    },
    "shipbob": {
        # 150 requests/min sliding window; headroom keeps us just under it. A bucket stays inside a
        # sliding window only while capacity ≤ limit − refill × window (150 − 145.5 = 4.5).
        "capacity": env_float("SHIPBOB_BUDGET_CAPACITY", 4),
        "refill": env_float("SHIPBOB_BUDGET_REFILL", 150 * 0.97 / 60),
    },
    "xero": {
        # 60 calls/min per organisation. Same rule as ShipBob: capacity ≤ 60 − 58 = 2; a burst of 5
        # got one 429 at the end of each backlog's first minute (bench/xero_post, docs/benchmarks.md).
        "capacity": env_float("XERO_BUDGET_CAPACITY", 1.5),
        "refill": env_float("XERO_BUDGET_REFILL", 58 / 60),
    },
    "mail": {
        "capacity": env_float("MAIL_BUDGET_CAPACITY", 10),
        "refill": env_float("MAIL_BUDGET_REFILL", 5.0),
    },
    # Teams throttles above ~4 requests/s per webhook URL: one budget per channel.
    "teams": {
        "capacity": env_float("TEAMS_BUDGET_CAPACITY", 4),
        "refill": env_float("TEAMS_BUDGET_REFILL", 2.0),
    },
    "teams_escalation": {
        "capacity": env_float("TEAMS_BUDGET_CAPACITY", 4),
        "refill": env_float("TEAMS_BUDGET_REFILL", 2.0),
    },
}


# /metrics (Prometheus): a scraper sends `Authorization: Bearer <token>` or comes from an allowed
# address. With neither set the endpoint answers 404: it is never public.
METRICS = {
    "TOKEN": os.environ.get("METRICS_TOKEN", ""),
    "ALLOWED_IPS": env_list("METRICS_ALLOWED_IPS"),
}

# Minutes between scheduled reconciliation runs (the demo sets 1 to show recovery quickly).
SCHEDULE_MINUTES = {
    "SHOPIFY_POLL": env_int("SHOPIFY_POLL_MINUTES", 5),
    "SHOPIFY_SUBSCRIPTIONS": env_int("SHOPIFY_SUBSCRIPTIONS_MINUTES", 30),
    "SHIPBOB_SHIPMENTS_POLL": env_int("SHIPBOB_SHIPMENTS_POLL_MINUTES", 10),
    "XERO_RECONCILE": env_int("XERO_RECONCILE_MINUTES", 60),
}
# Inventory sync (apps/inventory): warehouse stock to Shopify, exceptions to alerts.
INVENTORY = {
    # Minutes between pulls of ShipBob's inventory levels (lowest lane of the ShipBob budget).
    "PULL_MINUTES": env_int("INVENTORY_PULL_MINUTES", 5),
    "PULL_PAGE_SIZE": env_int("INVENTORY_PULL_PAGE_SIZE", 250),
    # Units held back from Shopify for a SKU without its own buffer.
    "DEFAULT_BUFFER": env_int("INVENTORY_DEFAULT_BUFFER", 0),
    # Low-stock alert when available falls to this (a SKU's stock policy may say otherwise).
    "LOW_STOCK": env_int("INVENTORY_LOW_STOCK", 5),
    # Drift: Shopify differs from the computed value by more than THRESHOLD for WINDOW minutes.
    "DRIFT_THRESHOLD": env_int("INVENTORY_DRIFT_THRESHOLD", 2),
    "DRIFT_WINDOW_MINUTES": env_int("INVENTORY_DRIFT_WINDOW_MINUTES", 15),
    # Sales velocity over this sliding window; alert when a SKU sells out sooner than SELL_OUT.
    "VELOCITY_WINDOW_MINUTES": env_int("INVENTORY_VELOCITY_WINDOW_MINUTES", 60),
    "SELL_OUT_ALERT_MINUTES": env_int("INVENTORY_SELL_OUT_ALERT_MINUTES", 240),
    # No successful pull or push for this long is a stale sync.
    "STALE_SYNC_MINUTES": env_int("INVENTORY_STALE_SYNC_MINUTES", 30),
    # The Shopify location the warehouse stocks (by name); empty = the shop's only active one.
    "SHOPIFY_LOCATION": os.environ.get("INVENTORY_SHOPIFY_LOCATION", ""),
}
# The demo's storefront simulator (sandbox only): a few orders a minute, as signed webhooks.
O2C_SIMULATOR = env_bool("O2C_SIMULATOR", False)
O2C_SIMULATOR_ORDERS_PER_MINUTE = env_int("O2C_SIMULATOR_ORDERS_PER_MINUTE", 4)
# The ShipBob stand-in (sandbox only): its sliding window (benches scale it, e.g. 150 per 6 s)
# and the shipping simulator's pace and misbehaviour.
SANDBOX_SHIPBOB = {
    "WINDOW_SECONDS": env_float("SANDBOX_SHIPBOB_WINDOW_SECONDS", 60.0),
    "LIMIT": env_int("SANDBOX_SHIPBOB_LIMIT", 150),
    "SHIP_AFTER_SECONDS": env_float("SANDBOX_SHIPBOB_SHIP_AFTER_SECONDS", 30.0),
    "DELIVER_AFTER_SECONDS": env_float("SANDBOX_SHIPBOB_DELIVER_AFTER_SECONDS", 120.0),
    "PARTIAL_RATE": env_float("SANDBOX_SHIPBOB_PARTIAL_RATE", 0.15),
    "EXCEPTION_RATE": env_float("SANDBOX_SHIPBOB_EXCEPTION_RATE", 0.03),
    "CANCEL_RATE": env_float("SANDBOX_SHIPBOB_CANCEL_RATE", 0.01),
    "DUPLICATE_RATE": env_float("SANDBOX_SHIPBOB_DUPLICATE_RATE", 0.1),
    "DROP_RATE": env_float("SANDBOX_SHIPBOB_DROP_RATE", 0.05),
}
# The Shopify stand-in (sandbox only): its cost bucket per token (benches scale the restore rate).
SANDBOX_SHOPIFY = {
    "MAXIMUM_AVAILABLE": env_float("SANDBOX_SHOPIFY_MAXIMUM_AVAILABLE", 1000.0),
    "RESTORE_RATE": env_float("SANDBOX_SHOPIFY_RESTORE_RATE", 100.0),
}
# The Xero stand-in (sandbox only): per-organisation limits (benches shrink the minute window,
# tests shrink the daily allowance), token lifetimes and the refresh-token grace after rotation.
SANDBOX_XERO = {
    "MINUTE_LIMIT": env_int("SANDBOX_XERO_MINUTE_LIMIT", 60),
    "MINUTE_WINDOW_SECONDS": env_float("SANDBOX_XERO_MINUTE_WINDOW_SECONDS", 60.0),
    "DAY_LIMIT": env_int("SANDBOX_XERO_DAY_LIMIT", 5000),
    "DAY_WINDOW_SECONDS": env_float("SANDBOX_XERO_DAY_WINDOW_SECONDS", 86400.0),
    "CONCURRENT_LIMIT": env_int("SANDBOX_XERO_CONCURRENT_LIMIT", 5),
    "APP_MINUTE_LIMIT": env_int("SANDBOX_XERO_APP_MINUTE_LIMIT", 10000),
    "ACCESS_TOKEN_SECONDS": env_int("SANDBOX_XERO_ACCESS_TOKEN_SECONDS", 1800),
    "REFRESH_GRACE_SECONDS": env_int("SANDBOX_XERO_REFRESH_GRACE_SECONDS", 1800),
    "REFRESH_TOKEN_DAYS": env_int("SANDBOX_XERO_REFRESH_TOKEN_DAYS", 60),
    # Validate request bodies against the official spec when ../shared/contracts is present.
    "VALIDATE_SCHEMA": env_bool("SANDBOX_XERO_VALIDATE_SCHEMA", True),
}


# --- Peers: one block each, every value from the environment ------------------------------------
def _peer_url(name: str, sandbox_path: str) -> str:
    """A peer's base URL: the environment's, or the local sandbox stand-in when the sandbox is on."""
    value = os.environ.get(name, "")
    if value:
        return value.rstrip("/")
    return f"{O2C_PUBLIC_URL}/sandbox/{sandbox_path}" if O2C_SANDBOX else ""


HTTP_TIMEOUT_SECONDS = env_float("HTTP_TIMEOUT_SECONDS", 15.0)
HTTP_USER_AGENT = "O2C-Portal/0.1 (+https://github.com/o2c-portal)"

SHOPIFY = {
    "BASE_URL": _peer_url("SHOPIFY_BASE_URL", "shopify"),
    "SHOP_DOMAIN": os.environ.get("SHOPIFY_SHOP_DOMAIN", "o2c-demo.myshopify.com"),
    "API_VERSION": os.environ.get("SHOPIFY_API_VERSION", "2026-10"),
    # The sandbox stand-in accepts this static token; production sets a real one or client credentials.
    "ACCESS_TOKEN": os.environ.get(
        "SHOPIFY_ACCESS_TOKEN", "shpat_sandbox_token" if O2C_SANDBOX else ""
    ),
    "CLIENT_ID": os.environ.get("SHOPIFY_CLIENT_ID", ""),
    "CLIENT_SECRET": os.environ.get("SHOPIFY_CLIENT_SECRET", ""),
    # Comma-separated: during a rotation both the old and the new secret sign deliveries.
    "WEBHOOK_SECRETS": env_list(
        "SHOPIFY_WEBHOOK_SECRETS", "sandbox-shopify-secret" if O2C_SANDBOX else ""
    ),
}
SHIPBOB = {
    "BASE_URL": _peer_url("SHIPBOB_BASE_URL", "shipbob"),
    "TOKEN": os.environ.get("SHIPBOB_TOKEN", "sandbox-shipbob-token" if O2C_SANDBOX else ""),
    "CHANNEL_ID": os.environ.get("SHIPBOB_CHANNEL_ID", "1" if O2C_SANDBOX else ""),
    "WEBHOOK_SECRET": os.environ.get(
        "SHIPBOB_WEBHOOK_SECRET", "whsec_c2FuZGJveC1zaGlwYm9iLXNlY3JldA==" if O2C_SANDBOX else ""
    ),
    # Used when no shipping-method mapping matches the order's Shopify shipping line.
    "DEFAULT_SHIPPING_METHOD": os.environ.get("SHIPBOB_DEFAULT_SHIPPING_METHOD", "Standard"),
}
XERO = {
    "API_URL": _peer_url("XERO_API_URL", "xero/api.xro/2.0"),
    "IDENTITY_URL": _peer_url("XERO_IDENTITY_URL", "xero/identity"),
    "AUTHORIZE_URL": _peer_url("XERO_AUTHORIZE_URL", "xero/login/authorize"),
    "CONNECTIONS_URL": _peer_url("XERO_CONNECTIONS_URL", "xero/connections"),
    # The sandbox stand-in accepts exactly these; production sets the app's real ones.
    "CLIENT_ID": os.environ.get("XERO_CLIENT_ID", "sandbox-xero-client" if O2C_SANDBOX else ""),
    "CLIENT_SECRET": os.environ.get(
        "XERO_CLIENT_SECRET", "sandbox-xero-secret" if O2C_SANDBOX else ""
    ),
    # "oauth" (authorization code, an admin connects) or "custom" (client credentials, one organisation).
    "CONNECTION": os.environ.get("XERO_CONNECTION", "oauth"),
    "INVOICE_STATUS": os.environ.get("XERO_INVOICE_STATUS", "DRAFT"),
    "SCOPES": os.environ.get(
        "XERO_SCOPES",
        "offline_access accounting.invoices accounting.contacts accounting.settings.read",
    ),
    # "customer": one Xero contact per Shopify customer (ContactNumber = customer id);
    # "sales": every invoice to one configured contact (SALES_CONTACT_NUMBER).
    "CONTACT_MODE": os.environ.get("XERO_CONTACT_MODE", "customer"),
    "SALES_CONTACT_NUMBER": os.environ.get("XERO_SALES_CONTACT_NUMBER", "SHOPIFY-SALES"),
    "SALES_ACCOUNT_CODE": os.environ.get("XERO_SALES_ACCOUNT_CODE", "200"),
    "SHIPPING_ACCOUNT_CODE": os.environ.get("XERO_SHIPPING_ACCOUNT_CODE", "200"),
    "SHIPPING_TAX_TYPE": os.environ.get("XERO_SHIPPING_TAX_TYPE", "OUTPUT2"),
    "ROUNDING_ACCOUNT_CODE": os.environ.get("XERO_ROUNDING_ACCOUNT_CODE", "860"),
    # A final draft this close to Shopify's total gets a rounding line; further off is a variance.
    "ROUNDING_TOLERANCE": env_decimal("XERO_ROUNDING_TOLERANCE", "0.05"),
    "REFERENCE_PREFIX": os.environ.get("XERO_REFERENCE_PREFIX", "SHIP-"),
    "DUE_DAYS": env_int("XERO_DUE_DAYS", 0),
}
# Key for encrypting peer tokens at rest (Fernet, urlsafe base64 of 32 bytes); derived from
# SECRET_KEY when unset. Set it explicitly in production so rotating SECRET_KEY keeps tokens readable.
O2C_ENCRYPTION_KEY = os.environ.get("O2C_ENCRYPTION_KEY", "")
TEAMS = {
    # Workflows webhooks ("Post to a channel when a webhook request is received"): the URL is a secret.
    "WEBHOOK_URL": _peer_url("TEAMS_WEBHOOK_URL", "teams/workflows/alerts"),
    # Where an unacknowledged alert goes next (a second channel, e.g. the ops leads'); empty: none.
    "ESCALATION_WEBHOOK_URL": _peer_url(
        "TEAMS_ESCALATION_WEBHOOK_URL", "teams/workflows/escalation"
    ),
    # Escalations and the fallback when Teams fails go here by email; empty: no email.
    "ONCALL_EMAIL": os.environ.get(
        "TEAMS_ONCALL_EMAIL", "oncall@example.com" if O2C_SANDBOX else ""
    ),
    # The ladder, per severity: minutes unacknowledged before each escalation step ("15,60").
    "ESCALATION_MINUTES": {
        "critical": [int(m) for m in env_list("TEAMS_ESCALATION_CRITICAL_MINUTES", "15,60")],
        "warning": [int(m) for m in env_list("TEAMS_ESCALATION_WARNING_MINUTES", "")],
    },
    # Quiet hours (TIME_ZONE, "22-7"): warnings and info wait for one digest card; critical never waits.
    "QUIET_HOURS": os.environ.get("TEAMS_QUIET_HOURS", ""),
    # A card still undelivered after this many attempts raises teams.delivery_failed and is emailed.
    "FALLBACK_AFTER_ATTEMPTS": env_int("TEAMS_FALLBACK_AFTER_ATTEMPTS", 3),
    # Cards keep retrying this many times (hours of backoff) so a Teams outage loses none.
    "MAX_ATTEMPTS": env_int("TEAMS_MAX_ATTEMPTS", 24),
    # The acknowledge link on a card works this long (it still needs a signed-in Ops user).
    "ACK_LINK_DAYS": env_int("TEAMS_ACK_LINK_DAYS", 7),
}
SUPPORT = {
    # Shared secret of the helpdesk's webhook: hex HMAC-SHA256 of the raw body in X-Helpdesk-Signature.
    "HELPDESK_WEBHOOK_SECRET": os.environ.get(
        "HELPDESK_WEBHOOK_SECRET", "sandbox-helpdesk-secret" if O2C_SANDBOX else ""
    ),
    # Hosts a reply may link to (tracking links in the order's facts are always allowed).
    "LINK_ALLOWLIST": env_list("SUPPORT_LINK_ALLOWLIST", "example.com"),
    "MESSAGE_ID_DOMAIN": os.environ.get("SUPPORT_MESSAGE_ID_DOMAIN", "o2c.portal"),
}
AZURE_OPENAI = {
    "BASE_URL": _peer_url("AZURE_OPENAI_BASE_URL", "openai/v1"),
    "API_KEY": os.environ.get("AZURE_OPENAI_API_KEY", "sandbox-key" if O2C_SANDBOX else ""),
    "DEPLOYMENT": os.environ.get("AZURE_OPENAI_DEPLOYMENT", "gpt-4o-mini"),
    # Entra ID instead of a key: the dotted path of a zero-argument function returning a token.
    "TOKEN_PROVIDER": os.environ.get("AZURE_OPENAI_TOKEN_PROVIDER", ""),
    # Three attempts of 20 s stay inside the task's Q_TIMEOUT (90 s), so a hung model fails the
    # draft (an agent regenerates it) instead of the worker killing the task mid-way.
    "TIMEOUT_SECONDS": env_float("AZURE_OPENAI_TIMEOUT_SECONDS", 20.0),
    "MAX_RETRIES": env_int("AZURE_OPENAI_MAX_RETRIES", 2),
}
