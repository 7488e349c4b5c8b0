"""GCRA (generic cell rate algorithm): a token bucket kept as one timestamp per key.

The state of a key is its theoretical arrival time (TAT) in microseconds. A request of
cost c is admitted when the bucket, after adding c emission intervals, still fits within
the burst tolerance; only admitted requests move the TAT. The same arithmetic runs in
Python here (in-process store) and in Lua inside Redis (shared store), so the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

MICROS = 1_000_000


@dataclass(frozen=True)
class RatePolicy:
    """`limit` requests per `period` seconds, of which `burst` may arrive at once."""

    name: str
    limit: int
    period: float
    burst: int | None = None  # defaults to `limit`: a whole period's quota at once

    def __post_init__(self) -> None:
        if self.limit <= 0 or self.period <= 0:
            raise ValueError("a rate policy needs a positive limit and period")
        if self.burst is not None and self.burst <= 0:
            raise ValueError("burst must be positive")

    @property
    def interval_us(self) -> int:
        """Emission interval: the time one unit of quota takes to come back."""
        return max(1, round(self.period * MICROS / self.limit))

    @property
    def tolerance_us(self) -> int:
        return self.interval_us * (self.burst or self.limit)

    @property
    def capacity(self) -> int:
        return self.burst or self.limit


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int  # whole units of quota left after this decision
    retry_after: float  # seconds until a request of the same cost would pass (0 when allowed)
    reset_after: float  # seconds until the bucket is full again


def decide(
    tat_us: int | None, now_us: int, interval_us: int, tolerance_us: int, cost: int = 1
) -> tuple[RateDecision, int | None]:
    """One decision. Returns it and the new TAT to store (None: leave the state alone)."""
    tat = now_us if tat_us is None or tat_us < now_us else tat_us
    new_tat = tat + interval_us * cost
    allow_at = new_tat - tolerance_us
    if now_us < allow_at:
        remaining = max(0, (tolerance_us - (tat - now_us)) // interval_us)
        return (
            RateDecision(False, int(remaining), (allow_at - now_us) / MICROS, (tat - now_us) / MICROS),
            None,
        )
    remaining = (tolerance_us - (new_tat - now_us)) // interval_us
    return RateDecision(True, int(remaining), 0.0, (new_tat - now_us) / MICROS), new_tat
