"""The domain apps built on home, for what home gathers from each of them by name (their privacy modules).

Not in `home.apps`: its `ready()` imports the personal parts, which use the services, which read this list."""

import importlib
import importlib.util

# In the order their parts depend on each other.
DOMAIN_APPS = ("events", "points", "deliberation.mailbox", "deliberation.council", "deliberation.followup", "neighbours")


def app_modules(name: str) -> list:
    """Each domain app's module `<app>.<name>` that exists (e.g. privacy), in DOMAIN_APPS order."""
    return [
        importlib.import_module(f"{app}.{name}") for app in DOMAIN_APPS if importlib.util.find_spec(f"{app}.{name}") is not None
    ]
