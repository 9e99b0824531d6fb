"""Production settings: DEBUG off, secrets from the environment, HTTPS everywhere.

Refuses to start (ImproperlyConfigured) without SECRET_KEY, DATABASE_URL,
ALLOWED_HOSTS and COUNCIL_BALLOT_KEY, or with a development key (one containing "insecure", like base.py's), or
with a ballot key shorter than 32 characters or equal to SECRET_KEY. HTTPS is terminated by the
proxy in front (it must set X-Forwarded-Proto). With those three set,
`manage.py check --deploy --fail-level WARNING` passes with zero issues and nothing
silenced (home/tests/test_production_settings.py runs it).

Public pages send a Content-Security-Policy (django-csp, CONTENT_SECURITY_POLICY in
base.py). The Wagtail and Django admins are exempt (LINLI_CSP_EXEMPT_PREFIXES): they
need inline scripts and styles; they are protected by login, staff TOTP and
X-Frame-Options: DENY instead.
"""

from django.core.exceptions import ImproperlyConfigured

from . import env
from .base import *  # noqa: F403

REQUIRED = ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "COUNCIL_BALLOT_KEY")
_missing = [name for name in REQUIRED if not env.text(name).strip(" ,")]
if _missing:
    raise ImproperlyConfigured(
        f"Production settings need {', '.join(_missing)} in the environment (see README, Configuration, and .env.example)."
    )

DEBUG = False
SECRET_KEY = env.require("SECRET_KEY")
if "insecure" in SECRET_KEY:
    # base.py's development key and Django's generated "django-insecure-..." keys say so.
    raise ImproperlyConfigured("SECRET_KEY is a development key; set a random one of 50+ characters.")
ALLOWED_HOSTS = env.items("ALLOWED_HOSTS")
# Seals secret ballots while voting is open; a key of its own (not derived from SECRET_KEY), so that rotating one
# does not touch the other and a leak of one does not open the other.
COUNCIL_BALLOT_KEY = env.require("COUNCIL_BALLOT_KEY")
if len(COUNCIL_BALLOT_KEY) < 32 or COUNCIL_BALLOT_KEY == SECRET_KEY:
    raise ImproperlyConfigured("COUNCIL_BALLOT_KEY must be 32+ random characters of its own, not SECRET_KEY.")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Static files come from STATIC_ROOT (collectstatic), never from the finders.
WHITENOISE_USE_FINDERS = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# On by default; SECURE_SSL_REDIRECT=0 lets benchmarks speak plain HTTP on loopback.
SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = env.flag("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env.flag("CSRF_COOKIE_SECURE", True)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
EMAIL_BACKEND = env.text("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
LINLI_STAFF_MFA_REQUIRED = True

if not REDIS_URL:  # noqa: F405
    # Without Redis, workers still share one cache (rate limits, page cache) on disk.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.text("CACHE_DIR", str(BASE_DIR / "var" / "cache")),  # noqa: F405
            # A bounded number of files: past it, a third are culled (Redis is bounded by maxmemory, see README).
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
