"""Parsing of values that views read from the query string or a form by hand.

Every helper answers None for a value it cannot take, never an exception: "²".isdigit() is true and
int("²") fails, 10**23 overflows the database's integers, year 1 or 9999 overflows date arithmetic.
A view then shows its default or refuses the request with 400/404, as it sees fit.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import BadRequest
from django.http import QueryDict

# The largest primary key of a BigAutoField; ids above it cannot exist.
MAX_PK = 2**63 - 1
# Dates a resident can mean: the calendars and filters need a margin around them for arithmetic.
FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2100, 12, 31)


def parse_int(value: object, *, min: int | None = None, max: int | None = None) -> int | None:  # noqa: A002
    """An integer written in ASCII digits (an optional leading minus) within [min, max], or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    digits = text[1:] if text.startswith("-") else text
    if not digits or len(digits) > 19 or not (digits.isascii() and digits.isdecimal()):
        return None
    number = int(text)
    if (min is not None and number < min) or (max is not None and number > max):
        return None
    return number


def parse_pk(value: object) -> int | None:
    """A primary key: a positive integer that fits the database, or None."""
    return parse_int(value, min=1, max=MAX_PK)


def parse_date(value: object) -> datetime.date | None:
    """An ISO date (YYYY-MM-DD) between 1900 and 2100, or None."""
    if not isinstance(value, str):
        return None
    try:
        date = datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return date if FIRST_DATE <= date <= LAST_DATE else None


def required_pk(data: QueryDict, name: str) -> int:
    """The id posted or queried as `name`; BadRequest (400) when it is missing or malformed."""
    pk = parse_pk(data.get(name))
    if pk is None:
        raise BadRequest(f"{name}: not an id")
    return pk


def optional_pk(data: QueryDict, name: str) -> int | None:
    """The id posted or queried as `name`, None when it is empty; BadRequest (400) when it is malformed."""
    if not data.get(name):
        return None
    return required_pk(data, name)
