"""ASGI entry point."""

import os
import sys
from pathlib import Path

# site/ holds the project package but cannot be a package itself (stdlib `site`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.asgi import get_asgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings.production")
application = get_asgi_application()
