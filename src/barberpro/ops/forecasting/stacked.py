"""The daily profile's pieces recombined with weights learned from the workload's own recent errors.

The daily profile (`profile.py`) forecasts profile x (1 + (ratio - 1) x damping^h)
with frozen constants. Here its pieces are features, per lead h:

    daily median(t + h), same-weekday median(t + h), the step a week earlier,
    profile(t + h) x level ratio, recent level (floored as the ratio is)

and the forecast is their weighted sum, with one weight vector per bucket of
leads (geometric buckets up to a day: on minute data leads 1, 2-5, 6-14, 15-36, ...). The weights are
refitted once per day of history on the last 14 days, from an origin every
quarter hour (every step where steps are longer), each origin weighted by its
recency (half-life 3 days), by least absolute deviations (the error MASE
counts; a spike does not pull the fit as it would squared error), kept
non-negative (a blend of its pieces, never extrapolating against one), with a
light ridge pull towards the daily profile's own weights. Under 7 days of
history it is the daily profile. Every feature scales with demand and there is
no intercept, so the model is scale-free. The settings are the same for every
trace (chosen on the validation spans, ADR 0205); what adapts is learned from
the trace's own past only.
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
from scipy import linalg, optimize

from barberpro.ops.forecasting.base import steps_per_day
from barberpro.ops.forecasting.intervals import PointModelWithIntervals
from barberpro.ops.forecasting.profile import DailyProfileForecaster, ProfileComponents

FEATURES = (
    "by_day",
    "same_weekday",
    "last_week",
    "profile_x_ratio",
    "recent_level",
    "profile_plus_gap",
    "last_week_x_ratio",
)
BASE_FEATURES = 5  # the default uses the first five


def features(parts: ProfileComponents) -> np.ndarray:
    """Feature matrix (horizon x features) for one origin."""
    h = len(parts.profile)
    return np.column_stack(
        [
            parts.by_day,
            parts.same_weekday,
            parts.last_week,
            parts.profile * parts.ratio,
            # Floored as the ratio is: after an outage the level is zero, demand is not for long.
            np.full(h, parts.recent_level + parts.floor),
            # The level gap in requests, not as a ratio (the additive form MSTL-like models use).
            parts.profile + parts.level_gap,
            # Last week's steps rescaled by the level against last week's (a weekly season's level).
            parts.last_week * _clipped_ratio(parts.recent_level, parts.recent_week_ago, parts.floor),
        ]
    )


def _clipped_ratio(recent: float | np.ndarray, reference: float | np.ndarray, floor: float | np.ndarray) -> np.ndarray:
    """(recent + floor) / (reference + floor), clipped as the profile's level ratio is."""
    return np.asarray(np.clip((recent + floor) / (reference + floor), 1e-3, 1e3))


def _smoothed(y: np.ndarray, width: int) -> np.ndarray:
    """Mean of y[j : j + width] for every j (the profile's smoothing, all windows at once)."""
    csum = np.concatenate([[0.0], np.cumsum(y)])
    return np.asarray((csum[width:] - csum[:-width]) / width, float)


def _lag_rows(
    base: DailyProfileForecaster, smooth: np.ndarray, origins: np.ndarray, offset: int, span: int, lags: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """`DailyProfileForecaster._rows` for many origins at once.

    For each origin t, the smoothed demand over steps [t + offset, t + offset + span)
    shifted back by each lag, shape (origins, lags, span), and which rows the history
    before t covers, shape (origins, lags): the rule of `_rows` (the first window starts
    at or after 0, the last ends at or before t). `smooth[j]` is the mean of y[j : j + width].
    """
    width, half = base.smooth, base.smooth // 2
    lag = np.asarray(lags)
    first = origins[:, None] + offset - lag[None, :] - half
    valid = (first >= 0) & (offset + span - lag - half + width - 1 <= 0)[None, :]
    index = np.clip(first[:, :, None] + np.arange(span)[None, None, :], 0, len(smooth) - 1)
    return smooth[index], valid


def _lag_medians(
    base: DailyProfileForecaster, smooth: np.ndarray, origins: np.ndarray, offset: int, span: int, lags: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The median over the covered rows of `_lag_rows` (NaN where none is), shape (origins, span),
    and which rows are covered, shape (origins, lags).

    A row's value at lead j is smooth[t + offset + j - lag - half]: it depends on the
    origin only through the step it forecasts. So for each set of covered rows the
    median is taken once per step over the members' span of steps, then read back
    per origin, instead of once per origin and lead (origins a few steps apart
    forecast mostly the same steps). The same values in the same order: bit-identical.
    """
    width, half = base.smooth, base.smooth // 2
    lag = np.asarray(lags)
    first = origins[:, None] + offset - lag[None, :] - half
    valid = (first >= 0) & (offset + span - lag - half + width - 1 <= 0)[None, :]
    out = np.full((len(origins), span), np.nan)
    patterns, which = np.unique(valid, axis=0, return_inverse=True)
    leads = np.arange(span)
    for k, pattern in enumerate(patterns):
        if not pattern.any():
            continue
        members = np.flatnonzero(which.ravel() == k)
        step = origins[members] + offset - half  # step whose lag-0 value is lead 0's
        lo, hi = int(step.min()), int(step.max()) + span
        index = np.clip(np.arange(lo, hi)[:, None] - lag[pattern][None, :], 0, len(smooth) - 1)
        medians = np.median(smooth[index], axis=1)
        out[members] = medians[step[:, None] - lo + leads[None, :]]
    return out, valid


def _blended(
    base: DailyProfileForecaster, smooth: np.ndarray, origins: np.ndarray, offset: int, span: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`DailyProfileForecaster.profile_parts` for many origins: daily median, weekday median, blend,
    week-ago row, and whether the profile is defined. Cut into the base's lead segments
    (relative to the origin, so the same for every origin) where it has more than one."""
    segments = base.lead_segments(offset, offset + span, 0)
    if len(segments) == 1:
        return _blended_whole(base, smooth, origins, offset, span)
    parts = [_blended_whole(base, smooth, origins, a, b - a) for a, b in segments]
    by_day, same_day, blend, week_ago = (np.concatenate([part[i] for part in parts], axis=1) for i in range(4))
    covered = np.logical_and.reduce([part[4] for part in parts])
    return by_day, same_day, blend, week_ago, np.asarray(covered, dtype=bool)


def _blended_whole(
    base: DailyProfileForecaster, smooth: np.ndarray, origins: np.ndarray, offset: int, span: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`_blended` with the rows usable for every step of the span."""
    period = base.period
    by_day, daily_ok = _lag_medians(base, smooth, origins, offset, span, [d * period for d in range(1, base.days + 1)])
    weekly, weekly_ok = _lag_medians(
        base, smooth, origins, offset, span, [w * 7 * period for w in range(1, base.weeks + 1)]
    )
    count = weekly_ok.sum(axis=1)
    use_weekly = (count > 0) & (base.weekly_weight > 0)
    same_day = np.where(use_weekly[:, None], weekly, by_day)
    weight = np.where(use_weekly, base.weekly_weight * count / base.weeks, 0.0)
    blend = np.where((weight == 0.0)[:, None], by_day, (1 - weight)[:, None] * by_day + weight[:, None] * same_day)
    last_week, last_week_ok = _lag_rows(base, smooth, origins, offset, span, [7 * period])
    week_ago = np.where(last_week_ok, last_week[:, 0, :], same_day)
    covered = np.asarray(daily_ok.any(axis=1), dtype=bool)
    return by_day, same_day, blend, week_ago, covered


def training_features(
    base: DailyProfileForecaster, y: np.ndarray, origins: np.ndarray, horizons: np.ndarray
) -> dict[int, np.ndarray]:
    """`features(base.components(y[:t], h))` for every origin t and its horizon h, computed at once.

    Returns origin -> (h x features); origins where the profile has no full day are left
    out (where `components` is None). Equal to the one-origin path up to rounding (the
    smoothing is read from one running sum of y instead of one per window); a unit test
    holds them together.
    """
    y = np.asarray(y, float)
    smooth = _smoothed(y, base.smooth)
    period, level = base.period, base.level_steps
    out: dict[int, np.ndarray] = {}
    keep = origins >= period  # (with less, no daily row is covered and `components` is None)
    origins, horizons = origins[keep], horizons[keep]
    if not len(origins):
        return out
    # The level ratio and the recent level do not depend on the horizon: once for all origins.
    last_day = np.mean(y[origins[:, None] - period + np.arange(period)[None, :]], axis=1)
    floor = 0.05 * np.maximum(last_day, 1e-9)
    _, _, past, past_week_ago, past_ok = _blended(base, smooth, origins, -level, level)
    recent = np.mean(y[origins[:, None] - level + np.arange(level)[None, :]], axis=1)
    ratio = _clipped_ratio(recent, np.mean(past, axis=1), floor)
    gap = recent - np.mean(past, axis=1)
    weekly_ratio = _clipped_ratio(recent, np.mean(past_week_ago, axis=1), floor)
    for group in _horizon_groups(base, np.unique(horizons).tolist()):
        # One pass per group at its longest horizon, each origin's block cut to its own.
        member = np.flatnonzero(np.isin(horizons, group))
        t = origins[member]
        by_day, same_day, blend, week_ago, future_ok = _blended(base, smooth, t, 0, max(group))
        profile = np.maximum(blend, 0.0)
        block = np.stack(
            [
                by_day,
                same_day,
                week_ago,
                profile * ratio[member, None],
                np.broadcast_to((recent[member] + floor[member])[:, None], blend.shape),
                profile + gap[member, None],
                week_ago * weekly_ratio[member, None],
            ],
            axis=2,
        )
        for k in np.flatnonzero(future_ok & past_ok[member]).tolist():
            out[int(t[k])] = block[k, : horizons[member[k]]]
    return out


def _horizon_groups(base: DailyProfileForecaster, horizons: list[int]) -> list[list[int]]:
    """Horizons that can share one pass of `training_features`.

    A past row is left out when its window would end after the origin (`_lag_rows`),
    which depends on the horizon; horizons that keep the same rows get the same
    features lead by lead, so a shorter one's are the longer one's cut short. Within
    such a set, horizons up to twice the shortest share a pass (at most twice the work
    for any origin, and a few passes however many horizons there are).
    """
    width, half = base.smooth, base.smooth // 2
    lags = base.row_lags()
    same_rows: dict[tuple[bool, ...], list[int]] = {}
    for h in sorted(horizons):
        same_rows.setdefault(tuple(h - lag - half + width - 1 <= 0 for lag in lags), []).append(h)
    groups: list[list[int]] = []
    for hs in same_rows.values():
        groups.append([hs[0]])
        for h in hs[1:]:
            if h > 2 * groups[-1][0]:
                groups.append([])
            groups[-1].append(h)
    return groups


def lad_ridge(
    x: np.ndarray,
    y: np.ndarray,
    prior: np.ndarray,
    strength: float,
    sample_weight: np.ndarray | None = None,
    iterations: int = 8,
    non_negative: bool = True,
    solver: str = "normal",
) -> np.ndarray:
    """Weights minimising sum |y - x w| + a ridge pull towards `prior`, non-negative by default.

    Reweighted least squares, each step a (non-negative) least-squares solve. The
    pull is `strength` times the mean diagonal of the weighted normal matrix, so
    it is scale-free and grows with the evidence as the fit itself does. Weights
    are kept non-negative so that the forecast is a blend of its pieces and never
    extrapolates against one (a level that fell to zero in an outage would
    otherwise drag a negatively weighted forecast below every piece; measured in
    ADR 0205, `non_negative=False` is kept for that comparison).

    Each solve works on the features x features normal equations, not on the rows:
    with G = X'RX + pull I = LL' (Cholesky) and c = X'Ry + pull prior,
    |R^1/2 (Xw - y)|^2 + pull |w - prior|^2 = |L'w - L^-1 c|^2 + constant, so the
    same non-negative least-squares problem is solved on a k x k system (k = 5 features)
    instead of a rows x k one (tens of thousands of rows): the same minimiser,
    a fraction of the time. The ridge keeps G well conditioned. `solver="rows"`
    solves the stacked rows system itself, as the first version did (kept to
    measure the two against each other: benchmarks/stacked_fit_speed.py).
    """
    if solver not in ("normal", "rows"):
        raise ValueError(f"unknown solver {solver!r}")
    w = prior.astype(float).copy()
    k = x.shape[1]
    eye = np.eye(k)
    for _ in range(iterations):
        residual = np.abs(y - x @ w)
        # Each row weighs 1/|residual| (an L1 fit); the floor keeps a perfect row finite.
        floor = max(float(np.median(residual)) * 0.05, 1e-12)
        row = 1.0 / np.maximum(residual, floor)
        if sample_weight is not None:
            row = row * sample_weight
        if solver == "rows":
            w = _solve_rows(x, y, row, prior, strength, non_negative)
            continue
        xr = x * row[:, None]
        gram = xr.T @ x
        pull = strength * float(np.trace(gram)) / k
        gram = gram + pull * eye
        target = xr.T @ y + pull * prior
        # Rescale so the solvers' tolerances do not depend on the traffic's size.
        norm = max(float(np.abs(gram).max()), 1e-300)
        try:
            lower = linalg.cholesky(gram / norm, lower=True)
        except linalg.LinAlgError:  # numerically singular even with the ridge: keep the last weights
            break
        rhs = linalg.solve_triangular(lower, target / norm, lower=True)
        w = optimize.nnls(lower.T, rhs)[0] if non_negative else linalg.solve_triangular(lower.T, rhs, lower=False)
    return w


def _solve_rows(
    x: np.ndarray, y: np.ndarray, row: np.ndarray, prior: np.ndarray, strength: float, non_negative: bool
) -> np.ndarray:
    """One reweighting step of `lad_ridge` on the rows themselves (the reference for the normal equations)."""
    k = x.shape[1]
    pull = strength * float(np.einsum("ij,ij,i->", x, x, row)) / k
    root = np.sqrt(row)
    a = np.vstack([x * root[:, None], np.sqrt(pull) * np.eye(k)])
    b = np.concatenate([y * root, np.sqrt(pull) * prior])
    norm = max(float(np.abs(a).max()), 1e-300)
    if non_negative:
        return np.asarray(optimize.nnls(a / norm, b / norm)[0])
    return np.asarray(np.linalg.lstsq(a / norm, b / norm, rcond=None)[0])


class StackedProfileForecaster:
    """A `(history, horizon) -> forecast` callable that refits its weights once per day of history."""

    period: int

    def __init__(
        self,
        step_minutes: float,
        *,
        fit_days: float = 14.0,
        origins_per_day: int = 96,
        buckets: int = 8,
        strength: float = 0.001,
        max_rows: int = 40_000,
        half_life_days: float | None = 3.0,
        min_history_days: float = 7.0,
        non_negative: bool = True,
        level_gap: bool = False,
        weekly_ratio: bool = False,
        solver: str = "normal",
        per_lead_rows: bool = False,
    ) -> None:
        self.solver = solver
        self.non_negative = non_negative
        extra = [5] if level_gap else []
        extra += [6] if weekly_ratio else []
        self.columns = np.array(list(range(BASE_FEATURES)) + extra)
        self.min_history_steps = round(min_history_days * steps_per_day(step_minutes))
        self.half_life_steps = None if half_life_days is None else half_life_days * steps_per_day(step_minutes)
        self.base = DailyProfileForecaster(step_minutes, per_lead_rows=per_lead_rows, week_ago_level=weekly_ratio)
        self.period = self.base.period
        self.fit_steps = max(1, round(fit_days * self.period))
        self.every = max(1, self.period // origins_per_day)
        self.short_leads = max(1, round(120 / step_minutes))  # two hours
        self.strength = strength
        self.max_rows = max_rows
        self.edges = np.unique(np.geomspace(1, self.period + 1, num=buckets + 1).astype(int))
        self.weights = np.vstack([self.prior(b) for b in range(len(self.edges) - 1)])
        self.fitted = np.zeros(len(self.edges) - 1, dtype=bool)  # else the daily profile itself
        self._fitted_at: int | None = None  # history length at the last fit

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features this forecaster weighs, in the order of `weights`' columns."""
        return tuple(FEATURES[i] for i in self.columns)

    def bucket(self, leads: np.ndarray) -> np.ndarray:
        """Bucket index of each lead (1-based); leads beyond a day share the last bucket."""
        idx = np.searchsorted(self.edges, leads, side="right") - 1
        return np.clip(idx, 0, len(self.edges) - 2)

    def prior(self, b: int) -> np.ndarray:
        """The daily profile's own weights at the bucket's middle lead."""
        lead = float(np.sqrt(self.edges[b] * max(self.edges[b + 1] - 1, self.edges[b])))
        d = self.base.damping**lead
        weekday = self.base.weekly_weight
        full = np.array([(1.0 - d) * (1.0 - weekday), (1.0 - d) * weekday, 0.0, d, 0.0, 0.0, 0.0])
        return np.asarray(full[self.columns], float)

    def fit(self, y: np.ndarray) -> StackedProfileForecaster:
        """Learn the weights from `y` alone (what an earlier fit learnt is dropped)."""
        y = np.asarray(y, float)
        n = len(y)
        self._fitted_at = n
        self.weights = np.vstack([self.prior(b) for b in range(len(self.edges) - 1)])
        self.fitted[:] = False
        if n < self.min_history_steps:
            return self  # too little history to learn from: the daily profile's weights
        first = max(self.period, n - self.fit_steps)
        origins = np.arange(n - 1, first - 1, -self.every)[::-1]
        full_day_every = max(1, round(self.period / 24 / self.every))  # hourly
        # Short leads (where most of the weights' buckets are) from every origin,
        # a whole day from hourly ones: the far buckets need fewer origins.
        horizons = np.where(np.arange(len(origins)) % full_day_every == 0, self.period, self.short_leads)
        horizons = np.minimum(horizons, n - origins)
        blocks = training_features(self.base, y, origins, horizons)
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        leads: list[np.ndarray] = []
        ages: list[np.ndarray] = []
        for t, h in zip(origins.tolist(), horizons.tolist(), strict=True):
            block = blocks.get(t)
            if block is None:  # no full day before this origin: the profile has nothing to say
                continue
            xs.append(block[:, self.columns])
            ys.append(y[t : t + h])
            leads.append(np.arange(1, h + 1))
            ages.append(np.full(h, n - t, dtype=float))
        if not xs:
            return self
        x_all, y_all, lead_all = np.vstack(xs), np.concatenate(ys), np.concatenate(leads)
        recency = None if self.half_life_steps is None else 0.5 ** (np.concatenate(ages) / self.half_life_steps)
        finite = np.isfinite(x_all).all(axis=1) & np.isfinite(y_all)
        # Divide by a power of two near the demand's size: exact in floating point, so
        # traffic scaled by 2^k gets bit-identical weights (the autoscaler's scale test).
        size = float(np.mean(np.abs(y_all[finite]))) if finite.any() else 1.0
        unit = 2.0 ** round(math.log2(size)) if size > 0 and math.isfinite(size) else 1.0
        x_all, y_all = x_all / unit, y_all / unit
        which = self.bucket(lead_all)
        rng = np.random.default_rng(0)  # fixed: the same data gives the same weights
        for b in range(len(self.edges) - 1):
            rows = np.flatnonzero((which == b) & finite)
            if len(rows) < 50:
                continue
            if len(rows) > self.max_rows:
                rows = np.sort(rng.choice(rows, self.max_rows, replace=False))
            self.fitted[b] = True
            self.weights[b] = lad_ridge(
                x_all[rows],
                y_all[rows],
                self.prior(b),
                self.strength,
                None if recency is None else recency[rows],
                non_negative=self.non_negative,
                solver=self.solver,
            )
        return self

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Forecast, refitting first when a day more of history has arrived since the last fit
        (so a scaler calling it every step needs no separate fit) or when the history is shorter
        than it was then (a caller that started over, e.g. on a retained tail: the old weights
        may have seen steps this history no longer has)."""
        history = np.asarray(history, dtype=float)
        n = len(history)
        if self._fitted_at is None or n - self._fitted_at >= self.period or n < self._fitted_at:
            self.fit(history)
        return self.forecast(history, horizon)

    def forecast(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Forecast with the weights as they are (no refit)."""
        history = np.asarray(history, dtype=float)
        parts = self.base.components(history, horizon)
        buckets = self.bucket(np.arange(1, horizon + 1))
        if parts is None or not self.fitted[buckets].any():
            return self.base(history, horizon)
        forecast = np.maximum(np.sum(features(parts)[:, self.columns] * self.weights[buckets], axis=1), 0.0)
        if not self.fitted[buckets].all() or not np.isfinite(forecast).all():
            fallback = self.base(history, horizon)
            forecast = np.where(self.fitted[buckets] & np.isfinite(forecast), forecast, fallback)
        return np.asarray(forecast, float)


class StackedProfileModel(PointModelWithIntervals):
    """`StackedProfileForecaster` behind the common model interface, with empirical intervals."""

    name = "stacked_profile"

    def point_forecaster(self, step_minutes: float) -> StackedProfileForecaster:
        return StackedProfileForecaster(step_minutes)

    def fit(self, y: np.ndarray, step_minutes: float) -> Self:
        # Weights first; the intervals' backtest (origins in the last week, before the fit's
        # end) reuses them instead of refitting at each origin, so those intervals are
        # partly in-sample.
        point = self.point_forecaster(step_minutes).fit(np.asarray(y, float))
        self.point = point
        self.intervals.fit(point.forecast, np.asarray(y, float), point.period, point.period)
        return self


class StackedProfileGapModel(StackedProfileModel):
    """The stacked profile with one more feature, the profile plus the level gap (measured, ADR 0206)."""

    name = "stacked_profile_gap"

    def point_forecaster(self, step_minutes: float) -> StackedProfileForecaster:
        return StackedProfileForecaster(step_minutes, level_gap=True)


class StackedProfileLeadRowsModel(StackedProfileModel):
    """The stacked profile whose past rows are judged lead by lead (`per_lead_rows`; ADR 0206)."""

    name = "stacked_profile_lead_rows"

    def point_forecaster(self, step_minutes: float) -> StackedProfileForecaster:
        return StackedProfileForecaster(step_minutes, per_lead_rows=True)


class StackedProfileWeeklyRatioModel(StackedProfileModel):
    """The stacked profile with last week's steps rescaled to the current level as a feature (ADR 0205)."""

    name = "stacked_profile_weekly_ratio"

    def point_forecaster(self, step_minutes: float) -> StackedProfileForecaster:
        return StackedProfileForecaster(step_minutes, weekly_ratio=True)
