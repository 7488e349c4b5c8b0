"""Working hours, breaks and date exceptions, in the shop's local time."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time

from barberpro.domain.errors import InvalidValue

LocalInterval = tuple[time, time]


def _check_interval(interval: LocalInterval, field_name: str) -> None:
    start, end = interval
    if start >= end:
        raise InvalidValue("start must be before end", field=field_name)


def subtract(intervals: Sequence[LocalInterval], holes: Iterable[LocalInterval]) -> list[LocalInterval]:
    """Remove `holes` (breaks) from sorted, non-overlapping `intervals`."""
    result = list(intervals)
    for hole_start, hole_end in holes:
        pieces: list[LocalInterval] = []
        for start, end in result:
            if hole_end <= start or hole_start >= end:
                pieces.append((start, end))
                continue
            if start < hole_start:
                pieces.append((start, hole_start))
            if hole_end < end:
                pieces.append((hole_end, end))
        result = pieces
    return result


def _normalise(intervals: Iterable[LocalInterval], field_name: str) -> tuple[LocalInterval, ...]:
    ordered = sorted(intervals)
    for index, interval in enumerate(ordered):
        _check_interval(interval, f"{field_name}[{index}]")
        if index and ordered[index - 1][1] > interval[0]:
            raise InvalidValue("intervals must not overlap", field=f"{field_name}[{index}]")
    return tuple(ordered)


@dataclass(frozen=True)
class WorkingDay:
    """A barber's hours on one weekday (0 = Monday), with breaks inside them."""

    weekday: int
    intervals: tuple[LocalInterval, ...]
    breaks: tuple[LocalInterval, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise InvalidValue("weekday must be 0 (Monday) to 6 (Sunday)", field="weekday")
        object.__setattr__(self, "intervals", _normalise(self.intervals, "intervals"))
        object.__setattr__(self, "breaks", _normalise(self.breaks, "breaks"))

    def open_intervals(self) -> list[LocalInterval]:
        return subtract(self.intervals, self.breaks)


class ExceptionKind(enum.StrEnum):
    DAY_OFF = "day_off"  # one barber does not work
    HOLIDAY = "holiday"  # the shop (or a barber) is closed
    SPECIAL_HOURS = "special_hours"  # replaces the usual hours of that date


@dataclass(frozen=True)
class DateException:
    id: str
    tenant_id: str
    shop_id: str
    day: date
    kind: ExceptionKind
    barber_id: str | None = None  # None: applies to every barber of the shop
    intervals: tuple[LocalInterval, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "intervals", _normalise(self.intervals, "intervals"))
        if self.kind is ExceptionKind.SPECIAL_HOURS and not self.intervals:
            raise InvalidValue("special hours need at least one interval", field="intervals")
        if self.kind is not ExceptionKind.SPECIAL_HOURS and self.intervals:
            raise InvalidValue("only special hours carry intervals", field="intervals")


def hours_on(
    day: date,
    barber_id: str,
    week: Sequence[WorkingDay],
    exceptions: Iterable[DateException],
) -> list[LocalInterval]:
    """The barber's open intervals on `day`, after breaks and exceptions.

    A barber-specific exception wins over a shop-wide one; closing wins over special hours.
    """
    relevant = [e for e in exceptions if e.day == day and e.barber_id in (None, barber_id)]
    own = [e for e in relevant if e.barber_id == barber_id]
    chosen = own or relevant
    if any(e.kind in (ExceptionKind.DAY_OFF, ExceptionKind.HOLIDAY) for e in chosen):
        return []
    special = [i for e in chosen if e.kind is ExceptionKind.SPECIAL_HOURS for i in e.intervals]
    if special:
        return list(_normalise(special, "intervals"))
    weekday = day.weekday()
    result: list[LocalInterval] = []
    for working_day in week:
        if working_day.weekday == weekday:
            result.extend(working_day.open_intervals())
    return sorted(result)
