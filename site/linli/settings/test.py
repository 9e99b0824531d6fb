"""Test settings: fast hashing, plain static storage, local memory cache, mail outbox."""

from .base import *  # noqa: F403

DEBUG = False
# The demo street (`manage.py seed_demo`): development and tests only, never production.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]  # noqa: F405
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "linli-test"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LINLI_SMS_BACKEND = "locmem"  # outbox.sms.sent, emptied before each test
LINLI_WECHAT_BACKEND = "locmem"  # outbox.wechat.sent, likewise
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LINLI_STAFF_MFA_REQUIRED = False
# Wagtail brings its search index up to date on every save of a page or snippet (a task per save, with the reference
# index a sixth of the suite's time). Tests that search turn it on with the `wagtail_indexes` fixture (conftest.py,
# which also keeps the reference index off for the others).
WAGTAILSEARCH_BACKENDS = {"default": {**WAGTAILSEARCH_BACKENDS["default"], "AUTO_UPDATE": False}}  # noqa: F405
ALLOWED_HOSTS = ["*"]
TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    # What a real `manage.py db_worker` runs in the background-work tests (home/tests/test_background.py).
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not SQLite's shared in-memory database: threads in the concurrency tests then
    # queue for the write lock as they do in production, instead of failing with "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}  # noqa: F405
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # Django's PostgreSQL backend, but emptying the tables after a transaction=True test costs milliseconds,
    # not seconds (tests/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "tests.postgresql"  # noqa: F405
    # A commit waits for no flush of the WAL to disk (3 ms a commit on CI's disk, 0.2 without): the test database
    # need not outlive a crash of PostgreSQL itself, and what other connections see at a commit is the same.
    options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
