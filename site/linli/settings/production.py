"""Production settings: DEBUG off, secrets from the environment, HTTPS everywhere.

HTTPS is terminated by the proxy in front (it must set X-Forwarded-Proto).
`manage.py check --deploy --fail-level WARNING` passes with these settings.
"""

from . import env
from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env.require("SECRET_KEY")
ALLOWED_HOSTS = env.items("ALLOWED_HOSTS") or [env.require("ALLOWED_HOSTS")]
env.require("DATABASE_URL")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

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
        }
    }
