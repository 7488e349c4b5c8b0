"""White-label theme maths (WCAG contrast) and the calendar file format: properties, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from barberpro.domain.tenancy import DEFAULT_THEME
from barberpro.entrypoints.web.calendar_file import booking_ics
from barberpro.entrypoints.web.theme import contrast_problems, contrast_ratio, css_variables, readable_on

colours = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06x}")


@given(colours, colours)
def test_contrast_is_symmetric_and_bounded(first: str, second: str) -> None:
    ratio = contrast_ratio(first, second)
    assert 1.0 <= ratio <= 21.0 + 1e-9
    assert abs(ratio - contrast_ratio(second, first)) < 1e-12


@given(colours)
def test_button_label_colour_always_meets_aa(background: str) -> None:
    # max(contrast with black, with white) >= sqrt(21) ~ 4.58 for every colour: labels on the
    # brand colour are readable whatever the tenant picks.
    assert contrast_ratio(readable_on(background), background) >= 4.5


def test_known_ratios_and_default_theme() -> None:
    assert round(contrast_ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast_ratio("#777777", "#ffffff"), 2) == 4.48
    assert contrast_problems(DEFAULT_THEME) == []
    assert contrast_problems({**DEFAULT_THEME, "text": "#aaaaaa"})  # light grey on white fails AA
    assert "--bp-primary:#1f3a5f" in css_variables(DEFAULT_THEME)


@given(st.text(min_size=0, max_size=300))
def test_calendar_lines_are_folded_and_escaped(text: str) -> None:
    start = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    body = booking_ics(
        uid="b1",
        start=start,
        end=start + timedelta(minutes=30),
        created=start,
        summary=text,
        location="Corrientes 1234",
        description=text,
        url="http://x/r",
    )
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert "DTSTART:20260302T130000Z" in body
    unfolded = body.replace("\r\n ", "")
    assert sum(line.startswith("SUMMARY:") for line in unfolded.split("\r\n")) == 1
