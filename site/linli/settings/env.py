"""The one place where Linli reads its environment (12-factor configuration).

Every setting that can change between machines is read here, typed, with a
default that is safe for development. Production settings call `require()` for
the secrets they refuse to start without.
"""

import json
import os

from django.core.exceptions import ImproperlyConfigured


def text(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def integer(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from error
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def items(name: str, default: str = "") -> list[str]:
    """A comma-separated list, e.g. ALLOWED_HOSTS=a.example,b.example."""
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def json_object(name: str) -> dict:
    """A JSON object, e.g. SMS_TEMPLATES='{"events.booking_made": {"aliyun": "SMS_123"}}'; empty when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {error}") from error
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {type(parsed).__name__}")
    return parsed


def require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production (see README, Configuration).")
    return value
