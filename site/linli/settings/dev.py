"""Development settings: `make run` on SQLite, mail printed to the console."""

from . import env
from .base import *  # noqa: F403

DEBUG = env.flag("DEBUG", True)
# The demo street (`manage.py seed_demo`, `make run`): development and tests only, never production.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]  # noqa: F405
WHITENOISE_USE_FINDERS = True
# The printed superuser logs in at once; production always requires TOTP for staff.
LINLI_STAFF_MFA_REQUIRED = env.flag("LINLI_STAFF_MFA_REQUIRED", False)
