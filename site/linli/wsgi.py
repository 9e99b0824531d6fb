"""WSGI entry point (gunicorn linli.wsgi)."""

import os
import sys
from pathlib import Path

# site/ holds the project package but cannot be a package itself (stdlib `site`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings.production")
# A thread whose database answered takes the interpreter back from busy threads within this long (Python's
# default, 5 ms, was the most of a booking's wait at a session's row lock in a rush: its holder waits for the
# interpreter after each statement). bench/events.py: 84 -> 102 bookings/s, p50 3.1 -> 2.0 s at 0.5 ms.
sys.setswitchinterval(int(os.environ.get("PYTHON_SWITCH_INTERVAL_US", "500")) / 1_000_000)
application = get_wsgi_application()
