"""Free slots: which start times a service can be booked at, per barber.

Pure and fast: wall-clock hours are turned into epoch seconds once, busy intervals are
searched with bisect, so a month for ten barbers costs milliseconds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from barberpro.domain.errors import InvalidValue
from barberpro.domain.schedules import DateException, WorkingDay, hours_on
from barberpro.domain.tenancy import BookingPolicy


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware, in the shop's zone
    end: datetime  # end of the service itself (the buffer is not shown to customers)
    barber_id: str


@dataclass(frozen=True)
class BusyInterval:
    """Time a barber is taken: a booking (service + buffer) or a staff block."""

    barber_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BarberWeek:
    barber_id: str
    week: tuple[WorkingDay, ...]


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class _BusyIndex:
    """Per barber: busy intervals sorted, merged, searchable in O(log n)."""

    def __init__(self, busy: Iterable[BusyInterval]) -> None:
        raw: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for interval in busy:
            raw[interval.barber_id].append((_epoch(interval.start), _epoch(interval.end)))
        self._starts: dict[str, list[int]] = {}
        self._ends: dict[str, list[int]] = {}
        for barber_id, intervals in raw.items():
            intervals.sort()
            merged: list[list[int]] = []
            for start, end in intervals:
                if merged and start <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            self._starts[barber_id] = [m[0] for m in merged]
            self._ends[barber_id] = [m[1] for m in merged]

    def is_free(self, barber_id: str, start: int, end: int) -> bool:
        ends = self._ends.get(barber_id)
        if not ends:
            return True
        # The first busy interval that ends after `start` is the only one that can overlap.
        index = bisect_right(ends, start)
        return index == len(ends) or self._starts[barber_id][index] >= end


def available_slots(
    *,
    zone: ZoneInfo,
    days: Sequence[date],
    duration: timedelta,
    buffer_after: timedelta,
    barbers: Sequence[BarberWeek],
    exceptions: Sequence[DateException],
    busy: Iterable[BusyInterval],
    now: datetime,
    policy: BookingPolicy,
) -> list[Slot]:
    """Every bookable (start, barber) for the service on the given local dates, sorted by start.

    A slot is offered when the service fits inside the barber's open hours, the service
    plus its buffer overlaps nothing busy, it starts at least `min_notice` from now and no
    later than `horizon` from now.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    index = _BusyIndex(busy)
    earliest = _epoch(now + policy.min_notice)
    latest = _epoch(now + policy.horizon)
    service_seconds = int(duration.total_seconds())
    block_seconds = int((duration + buffer_after).total_seconds())
    step = int(policy.slot_step.total_seconds())
    found: list[tuple[int, str]] = []
    for day in days:
        for barber in barbers:
            for open_start, open_end in hours_on(day, barber.barber_id, barber.week, exceptions):
                start = _epoch(datetime.combine(day, open_start, tzinfo=zone))
                end = _epoch(datetime.combine(day, open_end, tzinfo=zone))
                candidate = start
                if candidate < earliest:  # skip ahead on the step grid
                    candidate += -(-(earliest - candidate) // step) * step
                while candidate + service_seconds <= end and candidate <= latest:
                    if index.is_free(barber.barber_id, candidate, candidate + block_seconds):
                        found.append((candidate, barber.barber_id))
                    candidate += step
    found.sort()
    return [
        Slot(
            start=datetime.fromtimestamp(start, tz=zone),
            end=datetime.fromtimestamp(start + service_seconds, tz=zone),
            barber_id=barber_id,
        )
        for start, barber_id in found
    ]


def any_barber(slots: Sequence[Slot], load: Mapping[str, int]) -> list[Slot]:
    """One slot per start time, offered with the least-loaded free barber (spreads the work)."""
    best: dict[datetime, Slot] = {}
    for slot in slots:
        current = best.get(slot.start)
        if current is None or (load.get(slot.barber_id, 0), slot.barber_id) < (
            load.get(current.barber_id, 0),
            current.barber_id,
        ):
            best[slot.start] = slot
    return [best[start] for start in sorted(best)]


EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2199, 12, 31)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a local date starts and ends."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidValue("date out of range", field="date")
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
