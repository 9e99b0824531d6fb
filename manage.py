#!/usr/bin/env python
"""Django's command-line utility for Linli."""

import os
import sys
from pathlib import Path

# The project package lives in site/ (a folder named like the stdlib module `site`,
# so it can never be a package itself): put it on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parent / "site"))

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
