"""Working days (días hábiles): terms the law counts without weekends and national holidays."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta

SATURDAY = 5


def is_working_day(day: date, holidays: Container[date]) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def working_days_after(start: date, count: int, holidays: Container[date]) -> date:
    """The `count`-th working day after `start` (the day something arrived does not count)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    day, left = start, count
    while left:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day
