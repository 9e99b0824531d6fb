"""Settings shared by development, tests and production."""

import hashlib
import hmac
from pathlib import Path

import dj_database_url

from . import env

SITE_DIR = Path(__file__).resolve().parent.parent.parent  # site/
BASE_DIR = SITE_DIR.parent  # the repository root

SECRET_KEY = env.text("SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
# The master key that seals secret council ballots while their voting is open (deliberation/council/sealing.py, README:
# Secret ballots). Never in the database. Development and tests derive one from SECRET_KEY under a label of its
# own; production refuses to start without it.
COUNCIL_BALLOT_KEY = (
    env.text("COUNCIL_BALLOT_KEY").strip()
    or hmac.new(SECRET_KEY.encode(), b"linli.council.ballot-key", hashlib.sha256).hexdigest()
)
# Signs the councils' tamper-evident chain (deliberation/council/chain.py). Kept out of the database so that
# whoever can rewrite the database cannot re-sign what they changed. Development and tests derive one from
# SECRET_KEY (with its own label); production refuses to start without it.
COUNCIL_CHAIN_KEY = env.text("COUNCIL_CHAIN_KEY") or hashlib.sha256(f"linli.council.chain:{SECRET_KEY}".encode()).hexdigest()
DEBUG = env.flag("DEBUG", False)
ALLOWED_HOSTS = env.items("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env.items("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "home",
    "events",
    "points",
    "neighbours",
    "deliberation",  # the three apps' shared table history and catalogue
    "deliberation.mailbox",
    "deliberation.council",
    "deliberation.followup",
    "outbox",
    "api",  # the JSON API's core (/api/v1/); each app adds its router (<app>/api.py)
    "wagtail_localize",
    "wagtail_localize.locales",  # replaces wagtail.locales
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.table_block",
    "wagtail.contrib.typed_table_block",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",  # log-in for phone clients (/_allauth/app/v1/...): session tokens
    "csp",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # /api/ and /_allauth/: CORS for configured origins, the body size limit, JSON for errors before a view.
    "api.middleware.ApiEdgeMiddleware",
    # Malformed input (control characters) gets 400 before any view or cache reads it.
    "home.input_guard.InputGuardMiddleware",
    # /api/: rate limits, the session token and kept answers in one cache round trip; a kept answer goes back here.
    "api.middleware.ApiGatewayMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and auth: a cache hit for an anonymous visitor costs no query.
    "plumbing.middleware.AnonymousPageCacheMiddleware",
    "plumbing.middleware.PublicContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "plumbing.middleware.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "plumbing.middleware.StaffMfaMiddleware",
    # After sessions, auth and messages: a logged-in resident's hit renders only the page's personal parts.
    "plumbing.middleware.ResidentPageCacheMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Wagtail's site and page lookups of a public page, kept per publish generation.
    "plumbing.routing.KeptRoutesMiddleware",
]

ROOT_URLCONF = "linli.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "home.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "linli.wsgi.application"

# Databases: SQLite by default (development), PostgreSQL through DATABASE_URL.
DATABASE_URL = env.text("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env.integer("CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers queue for the lock instead of failing with "database is locked".
    # Write-ahead log: readers never wait for the writer, and a commit waits for the disk only at a
    # checkpoint (synchronous=NORMAL), which loses nothing when a process is killed.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Connections are kept (CONN_MAX_AGE) on SQLite too: opening one per request (Django registers its SQL functions
# on every new connection, then the pragmas run) cost more than all the rest of a logged-in resident's cached page.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by all workers: page cache, rate limits,
# sessions); otherwise a per-process memory cache, enough for `make run`.
REDIS_URL = env.text("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "linli",
        }
    }
    # cached_db, announcing the sessions it ends: the API may then trust a session token without asking (api/gateway.py).
    SESSION_ENGINE = "api.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "linli"}}

PAGE_CACHE_SECONDS = env.integer("PAGE_CACHE_SECONDS", 300)
# Activity pages and lists show seats left: anonymous visitors get copies at most this old.
LINLI_SEATS_CACHE_SECONDS = env.integer("LINLI_SEATS_CACHE_SECONDS", 5)

# Background work (reminders, expiry, mail fetching): django-tasks with its database
# backend, run by `manage.py db_worker`; `manage.py scheduler` enqueues the periodic
# tasks (plumbing/periodic.py). `make run` starts both beside the development server.
# A task still RUNNING after the lease lost its worker and is queued again (the scheduler
# checks), up to LINLI_TASK_MAX_ATTEMPTS claims: make the lease longer than any task takes.
# TASKS_BACKEND=django_tasks_rq.RQBackend runs the same tasks on RQ (Redis at RQ_URL, default
# REDIS_URL) with `manage.py rqworker --job-class django_tasks_rq.Job` instead of db_worker.
TASKS_BACKEND = env.text("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}
LINLI_TASK_LEASE_SECONDS = env.integer("LINLI_TASK_LEASE_SECONDS", 15 * 60)
LINLI_TASK_MAX_ATTEMPTS = env.integer("LINLI_TASK_MAX_ATTEMPTS", 3)
if TASKS_BACKEND == "django_tasks_rq.RQBackend":
    INSTALLED_APPS += ["django_rq"]
    # RQ's own timeout plays the lease: a job running longer is stopped and counted failed.
    RQ_QUEUES = {
        "default": {
            "URL": env.text("RQ_URL", REDIS_URL or "redis://127.0.0.1:6379/0"),
            "DEFAULT_TIMEOUT": LINLI_TASK_LEASE_SECONDS,
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "home.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Languages: Simplified Chinese first and default, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
# Site-wide strings and home/'s; events/, points/ and deliberation/ keep their own
# catalogue in <app>/locale/, which Django finds by itself (one file per app: fewer clashes).
LOCALE_PATHS = [SITE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "linli_language"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [SITE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.text("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# E-mail: printed to the console in development; SMTP in production.
EMAIL_BACKEND = env.text("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.text("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.text("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env.text("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env.flag("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.flag("EMAIL_USE_SSL", False)
# Seconds a worker waits on the mail server before it retries the message later.
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 10)
# SMS (outbox/sms.py): printed to the console in development; "aliyun" or "tencent" in production.
LINLI_SMS_BACKEND = env.text("SMS_BACKEND", "console")
# Message kind → template per provider: {"events.booking_made": {"aliyun": "SMS_123", "tencent": {"code":
# "123456", "params": ["activity", "time"]}}}; Tencent's templates number their parameters, so it needs the order.
LINLI_SMS_TEMPLATES = env.json_object("SMS_TEMPLATES")
LINLI_SMS_SIGN_NAME = env.text("SMS_SIGN_NAME")
LINLI_SMS_ACCESS_KEY_ID = env.text("SMS_ACCESS_KEY_ID")
LINLI_SMS_ACCESS_KEY_SECRET = env.text("SMS_ACCESS_KEY_SECRET")
# The provider's API host (default: its public one); "http://host:port" speaks plain HTTP (the tests' stand-ins).
LINLI_SMS_ENDPOINT = env.text("SMS_ENDPOINT")
LINLI_SMS_TENCENT_APP_ID = env.text("SMS_TENCENT_APP_ID")
LINLI_SMS_REGION = env.text("SMS_REGION")
# Seconds a worker waits on the SMS provider before it retries the message later.
LINLI_SMS_TIMEOUT = env.integer("SMS_TIMEOUT", 10)
# WeChat subscribe messages (outbox/wechat.py): printed to the console in development; "wechatpy" in production.
LINLI_WECHAT_BACKEND = env.text("WECHAT_BACKEND", "console")
# The official account's app id and secret (also used to link a resident's WeChat through OAuth).
LINLI_WECHAT_APP_ID = env.text("WECHAT_APP_ID")
LINLI_WECHAT_APP_SECRET = env.text("WECHAT_APP_SECRET")
# Message kind → subscribe message template: {"events.reminder": {"id": "TEMPLATE_ID", "data": {"thing1":
# "activity", "time2": "time"}}} (WeChat's field name → the kind's template parameter).
LINLI_WECHAT_TEMPLATES = env.json_object("WECHAT_TEMPLATES")
# Empty: https://api.weixin.qq.com/ (a stand-in on loopback in tests).
LINLI_WECHAT_API_BASE_URL = env.text("WECHAT_API_BASE_URL")
LINLI_WECHAT_TIMEOUT = env.integer("WECHAT_TIMEOUT", 10)
# The WeChat mini-program's app id and secret (log-in by wx.login code through jscode2session, home/api_auth.py):
# its OpenIDs differ from the official account's. Unset: POST /api/v1/auth/wechat/ answers 503.
LINLI_WECHAT_MINI_APP_ID = env.text("WECHAT_MINI_APP_ID")
LINLI_WECHAT_MINI_APP_SECRET = env.text("WECHAT_MINI_APP_SECRET")
# Seconds a log-in waits on jscode2session (a resident is waiting) before it answers 503.
LINLI_WECHAT_LOGIN_TIMEOUT = env.integer("WECHAT_LOGIN_TIMEOUT", 5, minimum=1)
# Seconds an unlinked OpenID's link token stays valid: the resident logs in by phone code meanwhile.
LINLI_WECHAT_LINK_TOKEN_SECONDS = env.integer("WECHAT_LINK_TOKEN_SECONDS", 600, minimum=60)
# /healthz/outbox answers 503 once the oldest undelivered message has waited this long.
LINLI_OUTBOX_STALLED_MINUTES = env.integer("LINLI_OUTBOX_STALLED_MINUTES", 15)

# Points (points/services.py): earned points stay valid this many days; 0: until the end of the following
# calendar year. A reserved reward waits at the service desk this many days before its points come back.
LINLI_POINTS_VALID_DAYS = env.integer("LINLI_POINTS_VALID_DAYS", 0, minimum=0)
LINLI_POINTS_PICKUP_DAYS = env.integer("LINLI_POINTS_PICKUP_DAYS", 14, minimum=1)

# Neighbour help (neighbours/services.py): a post stays open this many days; the same requester and helper earn
# points for helping each other at most this many times a calendar month (no farming points in pairs).
LINLI_NEIGHBOUR_POST_DAYS = env.integer("LINLI_NEIGHBOUR_POST_DAYS", 14, minimum=1)
LINLI_NEIGHBOUR_PAIR_MONTHLY_CAP = env.integer("LINLI_NEIGHBOUR_PAIR_MONTHLY_CAP", 2, minimum=0)
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", "邻里 Linli <noreply@linli.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Accounts (django-allauth, README: Mobile-number accounts): residents sign up with a mainland mobile number
# proven by an SMS code, or an e-mail address, or both (home.forms.SignupForm wants at least one), and log in
# with number or e-mail and a password, or by a code. E-mail verification is "optional" in allauth's terms so
# that an account may have no e-mail; home/stages.py keeps it mandatory for an account whose only way in is an
# unverified e-mail address. allauth warns (account.W001) when no login method is a required sign-up field.
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone", "email", "password1*", "password2*"]
SILENCED_SYSTEM_CHECKS = ["account.W001"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
# Opening the link confirms the address (no second tap). A mail scanner that opens it only confirms what
# the mail's recipient would; it logs nobody in (allauth logs in only the browser that signed up).
ACCOUNT_CONFIRM_EMAIL_ON_GET = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "home.forms.SignupForm"
ACCOUNT_FORMS = {
    "login": "home.account_forms.LoginForm",
    "request_login_code": "home.account_forms.RequestLoginCodeForm",
    "change_phone": "home.account_forms.ChangePhoneForm",
    "reset_password": "home.account_forms.ResetPasswordForm",
}
ACCOUNT_ADAPTER = "home.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "home.adapters.user_display"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[邻里 Linli] "
# E-mail verification links live a day (residents read mail late); codes, by SMS or e-mail, 10 minutes and
# 5 tries, 6 digits; a new code may be asked for (the per-number limit allows one a minute).
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 1
PASSWORD_RESET_TIMEOUT = 10 * 60
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 5
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = 3
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 10 * 60
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 5
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = 3
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_CHANGE = True
# Forgotten passwords: a code by SMS (the number) or by e-mail (the address), then a new password.
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS = 5
# Behind a reverse proxy, the client's address comes from it (plumbing/network.py); unset, no proxy
# is trusted and X-Forwarded-For is ignored. Set one: the header the proxy sets to the client's
# address (e.g. X-Real-IP), or how many proxies append to X-Forwarded-For.
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.text("ALLAUTH_TRUSTED_CLIENT_IP_HEADER") or None

ALLAUTH_TRUSTED_PROXY_COUNT = env.integer("ALLAUTH_TRUSTED_PROXY_COUNT", 0)

# allauth's headless mode serves phone clients (README: API): "app" clients get a session token (X-Session-Token)
# from /_allauth/app/v1/auth/login. Browsers log in on the portal's own pages (HEADLESS_ONLY is False) and may call
# the API with that session cookie; allauth's "browser" client is left off until a page needs it.
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app",)
HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.sessions.SessionTokenStrategy"
HEADLESS_SERVE_SPECIFICATION = False
# The JSON API (README: API). Requests per window per client address and per session token (0: no limit).
LINLI_API_RATE_WINDOW_SECONDS = env.integer("LINLI_API_RATE_WINDOW_SECONDS", 60, minimum=1)
LINLI_API_RATE_PER_ADDRESS = env.integer("LINLI_API_RATE_PER_ADDRESS", 300, minimum=0)
LINLI_API_RATE_PER_TOKEN = env.integer("LINLI_API_RATE_PER_TOKEN", 120, minimum=0)
# Larger request bodies get 413 before anything reads them (photo uploads have their own limit, below).
LINLI_API_MAX_BODY_BYTES = env.integer("LINLI_API_MAX_BODY_BYTES", 64 * 1024, minimum=1024)
# A letter with its photos (POST /api/v1/me/letters/, multipart): the mailbox's 3 photos of at most 8 MB each
# (MAX_PHOTOS and MAX_PHOTO_BYTES in deliberation/mailbox/services/photos.py) plus the form's fields; under nginx's
# client_max_body_size (30m, README: Production).
LINLI_API_MAX_UPLOAD_BYTES = env.integer("LINLI_API_MAX_UPLOAD_BYTES", 3 * 8 * 1024 * 1024 + 64 * 1024, minimum=1024)
# Web origins allowed to call the API from a browser (CORS), e.g. "https://m.example.cn"; none by default.
# Phone apps and WeChat mini-programs do not need it (they are not browsers' pages of another origin).
LINLI_API_CORS_ORIGINS = env.items("LINLI_API_CORS_ORIGINS")
# SMS codes cost money and texting numbers strangers type is what SMS pumping abuses (home/phone.py):
# per number 1 a minute, 5 an hour, 10 a day; per client address and for the whole site per hour.
LINLI_SMS_CODES_PER_ADDRESS_PER_HOUR = env.integer("SMS_CODES_PER_ADDRESS_PER_HOUR", 30)
LINLI_SMS_CODES_PER_HOUR = env.integer("SMS_CODES_PER_HOUR", 500)
ACCOUNT_RATE_LIMITS = {
    # The main guard is per account: the 6th wrong password for one account within 5 minutes is
    # refused (HTTP 429). The per-address limits are loose, as residents share addresses (a
    # community centre's Wi-Fi, a carrier's NAT): they only slow one client trying many accounts.
    "login_failed": "60/m/ip,5/5m/key",
    "login": "60/m/ip",
    # Texts are limited by the sms_code_* actions below, with a sentence for each (home/phone.py).
    "verify_phone": "",
    "request_login_code": "60/m/ip",
    "change_phone": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
    "sms_code_number_minute": "1/m/key",
    "sms_code_number_hour": "5/h/key",
    "sms_code_number_day": "10/d/key",
    "sms_code_address": f"{LINLI_SMS_CODES_PER_ADDRESS_PER_HOUR}/h/ip",
    "sms_code_site": f"{LINLI_SMS_CODES_PER_HOUR}/h/key",
}
LOGIN_REDIRECT_URL = "home:profile"
LOGIN_URL = "account_login"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Linli 邻里"
# Staff must set up TOTP before using the admin (switched off in development).
LINLI_STAFF_MFA_REQUIRED = env.flag("LINLI_STAFF_MFA_REQUIRED", True)

# Privacy notice version residents consent to at sign-up (PIPL); bump when it changes.
LINLI_PRIVACY_NOTICE_VERSION = "2026-11"

# Wagtail
WAGTAIL_SITE_NAME = "邻里 Linli"
# The address residents reach the portal at: every absolute link that leaves the portal (mail, text
# messages, .ics files, QR codes, the admin's notification mail) starts with it (plumbing/links.py).
# `make run PORT=8501` sets it to http://127.0.0.1:8501.
PORTAL_BASE_URL = env.text("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
WAGTAILADMIN_BASE_URL = PORTAL_BASE_URL
# home.views.wagtail_admin_login: on to allauth, or "no access" for someone already logged in.
WAGTAILADMIN_LOGIN_URL = "/admin/login/"
# Wagtail's database backend, with search terms escaped for SQLite's full-text syntax (home/search_backend.py).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "home.search_backend"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAIL_ENABLE_UPDATE_CHECK = False
# No Gravatar: it is unreachable from mainland China (the admin's avatars were broken images) and would send
# a hash of each staff member's e-mail abroad; Wagtail shows its default avatar or an uploaded one instead.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAIL_WORKFLOW_ENABLED = True
# Passwords and e-mail addresses are managed through allauth (rate limits, verification).
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False

# Content Security Policy for public pages (the Wagtail admin is exempt: it needs
# inline scripts and styles; it is behind login and TOTP).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
LINLI_CSP_EXEMPT_PREFIXES = ("/admin/", "/django-admin/")

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.text("LOG_LEVEL", "WARNING")},
}

# Development and tests serve static files through the finders; whitenoise still
# wants STATIC_ROOT to exist (collectstatic fills it in production).
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Request bodies: form fields (everything but files) at most 2.5 MB, refused with 400
# beyond; an uploaded file larger than 1 MB is streamed to a temporary file instead of
# being held in memory, so that a large upload costs disk, not memory, until the code that
# receives it checks its size (a letter's photos: 8 MB each, checked before reading). The
# whole request is capped by the reverse proxy (client_max_body_size in the README).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 1_048_576

# Resident mailbox (deliberation/): the IMAP account letters are fetched from by
# `manage.py fetch_mail` and every 5 minutes by the scheduler. No host: fetching is off.
LINLI_MAILBOX_IMAP = {
    "HOST": env.text("MAILBOX_IMAP_HOST"),
    "PORT": env.integer("MAILBOX_IMAP_PORT", 993),
    "USER": env.text("MAILBOX_IMAP_USER"),
    "PASSWORD": env.text("MAILBOX_IMAP_PASSWORD"),
    "FOLDER": env.text("MAILBOX_IMAP_FOLDER", "INBOX"),
    "SSL": env.flag("MAILBOX_IMAP_SSL", True),
    # Messages fetched, stored (one transaction) and flagged together: a fetch killed midway
    # redoes at most one batch; smaller batches for a slow or flaky server.
    "BATCH": max(1, env.integer("MAILBOX_IMAP_BATCH", 50)),
}
# The authserv-id with which OUR receiving mail server writes Authentication-Results
# headers (e.g. "mx.linli.example"; it must remove headers with this id that arrive from
# outside, as RFC 8601 requires). An e-mail becomes a resident's letter, in their account,
# only when such a header shows an aligned DMARC or DKIM pass for its From: address.
# Empty: no header is trusted and every e-mail is a letter from a contact address.
LINLI_MAILBOX_AUTHSERV_ID = env.text("MAILBOX_AUTHSERV_ID").strip().lower()
# A fetched message larger than this is quarantined (its headers kept, the message left on the server).
LINLI_MAILBOX_MAX_BYTES = env.integer("MAILBOX_MAX_MESSAGE_MB", 25) * 1024 * 1024
