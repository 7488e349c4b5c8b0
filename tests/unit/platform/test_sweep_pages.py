"""`pagination.sweep`: every row of a job's query once, page after page, however many stay put."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from barberpro.application.pagination import sweep

T0 = datetime(2026, 3, 3, 12, tzinfo=UTC)


@given(
    moments=st.lists(st.integers(min_value=0, max_value=5), max_size=30),
    handled=st.lists(st.booleans(), max_size=30),
    page=st.integers(min_value=1, max_value=7),
)
def test_each_row_is_read_once_whether_or_not_it_is_handled(moments: list[int], handled: list[bool], page: int) -> None:
    # Rows share moments (a frozen clock) and are told apart by id, as in the tables.
    rows = {(T0 + timedelta(minutes=m), f"id-{n:02d}") for n, m in enumerate(moments)}
    left = set(rows)
    reads = 0

    def read(after: tuple[datetime, str] | None) -> list[tuple[datetime, str]]:
        nonlocal reads
        reads += 1
        return sorted(r for r in left if after is None or r > after)[:page]

    seen = []
    for i, row in enumerate(sweep(read, lambda r: r)):
        seen.append(row)
        if i < len(handled) and handled[i]:
            left.discard(row)  # handled rows leave the query's set; the others stay as they were
    assert seen == sorted(rows)
    assert reads <= len(rows) // page + 2
