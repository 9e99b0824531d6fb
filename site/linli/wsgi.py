"""WSGI entry point (gunicorn linli.wsgi)."""

import os
import sys
from pathlib import Path

# site/ holds the project package but cannot be a package itself (stdlib `site`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings.production")
application = get_wsgi_application()
