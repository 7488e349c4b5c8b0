"""Property-based tests of availability: offered slots never overlap bookings nor leave working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.domain.schedules import DateException, ExceptionKind, WorkingDay, hours_on
from barberpro.domain.slots import BarberWeek, BusyInterval, Slot, any_barber, available_slots
from barberpro.domain.tenancy import BookingPolicy

ZONE = ZoneInfo("America/Argentina/Buenos_Aires")
DAY = date(2026, 3, 3)  # a Tuesday
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
POLICY = BookingPolicy(min_notice=timedelta(hours=1), horizon=timedelta(days=30), slot_step=timedelta(minutes=15))

quarter_hours = st.integers(min_value=6 * 4, max_value=22 * 4).map(lambda q: time(q // 4, (q % 4) * 15))


@st.composite
def working_days(draw: st.DrawFn) -> WorkingDay:
    start, end = sorted(draw(st.lists(quarter_hours, min_size=2, max_size=2, unique=True)))
    breaks: tuple[tuple[time, time], ...] = ()
    if draw(st.booleans()):
        inner = [t for t in (draw(quarter_hours), draw(quarter_hours)) if start < t < end]
        if len(inner) == 2 and inner[0] != inner[1]:
            breaks = ((min(inner), max(inner)),)
    return WorkingDay(DAY.weekday(), ((start, end),), breaks)


@st.composite
def bookings(draw: st.DrawFn, barber_ids: list[str]) -> list[BusyInterval]:
    result = []
    for _ in range(draw(st.integers(0, 8))):
        barber = draw(st.sampled_from(barber_ids))
        minute = draw(st.integers(6 * 60, 22 * 60))
        length = draw(st.integers(5, 180))
        start = datetime.combine(DAY, time(), tzinfo=ZONE) + timedelta(minutes=minute)
        result.append(BusyInterval(barber, start, start + timedelta(minutes=length)))
    return result


def _within_hours(slot: Slot, week: WorkingDay) -> bool:
    local_start, local_end = slot.start.astimezone(ZONE), slot.end.astimezone(ZONE)
    return any(
        datetime.combine(DAY, a, tzinfo=ZONE) <= local_start and local_end <= datetime.combine(DAY, b, tzinfo=ZONE)
        for a, b in hours_on(DAY, slot.barber_id, (week,), ())
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data(), duration=st.integers(10, 120), buffer=st.integers(0, 30))
def test_no_slot_overlaps_a_booking_or_leaves_working_hours(data: st.DataObject, duration: int, buffer: int) -> None:
    barber_ids = ["a", "b"]
    weeks = {b: data.draw(working_days()) for b in barber_ids}
    busy = data.draw(bookings(barber_ids))
    slots = available_slots(
        zone=ZONE,
        days=[DAY],
        duration=timedelta(minutes=duration),
        buffer_after=timedelta(minutes=buffer),
        barbers=[BarberWeek(b, (weeks[b],)) for b in barber_ids],
        exceptions=[],
        busy=busy,
        now=NOW,
        policy=POLICY,
    )
    for slot in slots:
        assert _within_hours(slot, weeks[slot.barber_id])
        blocked_until = slot.end + timedelta(minutes=buffer)
        for booking in busy:
            if booking.barber_id == slot.barber_id:
                assert blocked_until <= booking.start or slot.start >= booking.end, (slot, booking)
        assert slot.start.astimezone(ZONE).minute % 15 == 0


@settings(max_examples=100, deadline=None)
@given(data=st.data(), duration=st.integers(10, 90))
def test_a_slot_offered_then_booked_disappears(data: st.DataObject, duration: int) -> None:
    week = data.draw(working_days())
    busy = data.draw(bookings(["a"]))
    kwargs = dict(
        zone=ZONE,
        days=[DAY],
        duration=timedelta(minutes=duration),
        buffer_after=timedelta(minutes=5),
        barbers=[BarberWeek("a", (week,))],
        exceptions=[],
        now=NOW,
        policy=POLICY,
    )
    before = available_slots(busy=busy, **kwargs)  # type: ignore[arg-type]
    if not before:
        return
    chosen = data.draw(st.sampled_from(before))
    booked = BusyInterval("a", chosen.start, chosen.end + timedelta(minutes=5))
    after = available_slots(busy=[*busy, booked], **kwargs)  # type: ignore[arg-type]
    assert chosen not in after
    assert set(after) <= set(before)
    for slot in after:
        assert slot.end + timedelta(minutes=5) <= booked.start or slot.start >= booked.end


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_barber_offers_each_time_once_with_a_free_barber(data: st.DataObject) -> None:
    barber_ids = ["a", "b", "c"]
    weeks = {b: data.draw(working_days()) for b in barber_ids}
    per_barber = available_slots(
        zone=ZONE,
        days=[DAY],
        duration=timedelta(minutes=30),
        buffer_after=timedelta(0),
        barbers=[BarberWeek(b, (weeks[b],)) for b in barber_ids],
        exceptions=[],
        busy=data.draw(bookings(barber_ids)),
        now=NOW,
        policy=POLICY,
    )
    merged = any_barber(per_barber, {"a": 3, "b": 1, "c": 2})
    assert len({s.start for s in merged}) == len(merged) == len({s.start for s in per_barber})
    assert set(merged) <= set(per_barber)


def test_notice_and_horizon_limit_the_offer() -> None:
    week = WorkingDay(DAY.weekday(), ((time(9), time(18)),))
    now = datetime.combine(DAY, time(10, 5), tzinfo=ZONE)
    slots = available_slots(
        zone=ZONE,
        days=[DAY],
        duration=timedelta(minutes=30),
        buffer_after=timedelta(0),
        barbers=[BarberWeek("a", (week,))],
        exceptions=[],
        busy=[],
        now=now,
        policy=POLICY,
    )
    assert slots[0].start == datetime.combine(DAY, time(11, 15), tzinfo=ZONE)  # 11:05 rounded up to the grid
    far = available_slots(
        zone=ZONE,
        days=[DAY],
        duration=timedelta(minutes=30),
        buffer_after=timedelta(0),
        barbers=[BarberWeek("a", (week,))],
        exceptions=[],
        busy=[],
        now=now - timedelta(days=40),
        policy=POLICY,
    )
    assert far == []


def test_exceptions_close_or_replace_the_day() -> None:
    week = (WorkingDay(DAY.weekday(), ((time(9), time(18)),), ((time(13), time(14)),)),)
    holiday = DateException("h", "t", "s", DAY, ExceptionKind.HOLIDAY)
    special = DateException(
        "x", "t", "s", DAY, ExceptionKind.SPECIAL_HOURS, barber_id="a", intervals=((time(10), time(12)),)
    )
    day_off = DateException("d", "t", "s", DAY, ExceptionKind.DAY_OFF, barber_id="b")
    assert hours_on(DAY, "a", week, []) == [(time(9), time(13)), (time(14), time(18))]
    assert hours_on(DAY, "a", week, [holiday]) == []
    assert hours_on(DAY, "a", week, [special]) == [(time(10), time(12))]
    assert hours_on(DAY, "a", week, [holiday, special]) == [(time(10), time(12))]  # barber's own wins
    assert hours_on(DAY, "b", week, [day_off]) == []
    assert hours_on(DAY, "c", week, [day_off]) == [(time(9), time(13)), (time(14), time(18))]
    assert hours_on(DAY + timedelta(days=1), "a", week, [holiday]) == []  # Wednesday not worked
