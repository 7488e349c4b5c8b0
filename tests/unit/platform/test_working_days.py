"""Working days for terms the law counts in días hábiles (Ley 25.326 Art. 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from barberpro.adapters.holidays_ar import national_holidays
from barberpro.application.data_requests import DataRequestKind, answer_due
from barberpro.domain.working_days import is_working_day, working_days_after

some_days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(start=some_days, count=st.integers(min_value=1, max_value=30), holidays=st.sets(some_days, max_size=60))
def test_the_term_ends_on_the_countth_working_day_after_the_start(start: date, count: int, holidays: set[date]) -> None:
    end = working_days_after(start, count, holidays)
    between = [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]
    assert is_working_day(end, holidays)
    assert sum(is_working_day(day, holidays) for day in between) == count


def test_weekends_and_argentine_holidays_do_not_count() -> None:
    ar = national_holidays()
    assert date(2026, 3, 24) in ar and date(2026, 3, 23) in ar  # Memoria, and its bridge day
    assert date(2026, 7, 9) in ar and date(2026, 12, 25) in ar and date(2026, 3, 19) not in ar
    # Monday 2 March 2026: the next five working days end on Monday 9 March.
    assert working_days_after(date(2026, 3, 2), 5, ar) == date(2026, 3, 9)
    # Thursday 19 March: Friday 20, the 23rd and 24th are holidays, then 25, 26, 27 and Monday 30.
    assert working_days_after(date(2026, 3, 19), 5, ar) == date(2026, 3, 30)
    with pytest.raises(ValueError, match="at least 1"):
        working_days_after(date(2026, 3, 2), 0, ar)


def test_deletion_is_due_at_the_end_of_the_fifth_working_day_in_buenos_aires() -> None:
    ar = national_holidays()
    # Received Thursday 19 March at 23:30 in Buenos Aires (02:30 UTC on the 20th): the 19th counts
    # as the day it arrived, so the term ends on Monday 30 March at 23:59 there.
    received = datetime(2026, 3, 20, 2, 30, tzinfo=UTC)
    due = answer_due(DataRequestKind.DELETION, received, ar)
    assert due.astimezone(UTC) == datetime(2026, 3, 31, 2, 59, tzinfo=UTC)
    # Access: ten calendar days, holidays or not.
    assert answer_due(DataRequestKind.ACCESS, received, ar) == received + timedelta(days=10)
