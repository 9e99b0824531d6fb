"""Working days of the mainland calendar: weekends, public holidays and their make-up working days (调休)."""

from __future__ import annotations

import datetime
from functools import lru_cache

import holidays


@lru_cache(maxsize=8)
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=[year - 1, year, year + 1])


def is_working_day(day: datetime.date) -> bool:
    return _calendar(day.year).is_working_day(day)


def add(start: datetime.date, days: int) -> datetime.date:
    """The date `days` working days after `start` (a letter received on Friday, 2 days: Tuesday)."""
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
