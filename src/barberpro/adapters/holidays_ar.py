"""Argentina's national holidays (feriados nacionales, puentes turísticos included), from the
`holidays` package's calendar: fixed, movable and decreed ones, year by year as it knows them."""

from __future__ import annotations

from collections.abc import Container
from datetime import date
from functools import cache

import holidays


@cache
def national_holidays() -> Container[date]:
    # The package's per-country object computes each year on first use and keeps it.
    calendar: Container[date] = holidays.country_holidays("AR")
    return calendar
