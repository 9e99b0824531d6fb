"""The demo street: invented communities, people, notices, activities, points, letters and councils.

Installed in development and tests only (linli.settings.dev and .test add it to INSTALLED_APPS);
production settings leave it out, and importing it there fails, so no deployed portal can seed it.
`manage.py seed_demo` (demo/management/commands/seed_demo.py) writes it through the apps' services.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if "demo" not in settings.INSTALLED_APPS:
    raise ImproperlyConfigured("The demo app is for development and tests only: it is not in INSTALLED_APPS here.")
