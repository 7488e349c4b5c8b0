"""Prophet + LSTM hybrid (optional extra `[hybrid]`): Prophet for trend and seasonality,
a small LSTM on Prophet's residuals.

Kept as the yardstick our predecessors proposed. Prophet is fitted on a regular
synthetic clock (one step per `step_minutes` from an arbitrary epoch), with
daily and weekly seasonality; the LSTM (one layer, 16 units) reads the last
hour (at least 8 steps) of residuals and is rolled forward step by step.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from barberpro.ops.forecasting.base import DEFAULT_QUANTILES, Forecast, steps_per_day

_Z = {0.01: -2.326348, 0.025: -1.959964, 0.1: -1.281552, 0.5: 0.0, 0.9: 1.281552, 0.975: 1.959964, 0.99: 2.326348}


class ProphetLstmModel:
    name = "prophet_lstm"

    def __init__(self, epochs: int = 3, max_windows: int = 20_000, seed: int = 0) -> None:
        self.epochs = epochs
        self.max_windows = max_windows
        self.seed = seed
        self.step_minutes = 1.0
        self.window = 8
        self.prophet: Any = None
        self.net: Any = None
        self.scale = 1.0
        self.residual_sd = 0.0
        self._baseline = np.zeros(0)

    def _clock(self, start: int, stop: int) -> Any:
        import pandas as pd

        epoch = pd.Timestamp("2000-01-03")  # a Monday, so weekly terms line up across traces
        return pd.DataFrame({"ds": epoch + pd.to_timedelta(np.arange(start, stop) * self.step_minutes, "min")})

    def _extend_baseline(self, stop: int) -> None:
        if stop <= len(self._baseline):
            return
        # Prophet's prediction for future steps, cached a day at a time.
        new_stop = stop + steps_per_day(self.step_minutes)
        frame = self.prophet.predict(self._clock(len(self._baseline), new_stop))
        self._baseline = np.concatenate([self._baseline, frame["yhat"].to_numpy(float)])

    def fit(self, y: np.ndarray, step_minutes: float) -> ProphetLstmModel:
        import torch
        from prophet import Prophet

        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        logging.getLogger("prophet").setLevel(logging.WARNING)
        torch.manual_seed(self.seed)
        y = np.asarray(y, float)
        self.step_minutes = step_minutes
        self.window = max(8, round(60 / step_minutes))
        frame = self._clock(0, len(y))
        frame["y"] = y
        # No posterior sampling: the intervals come from the residuals, and sampling
        # 1,000 paths per step makes predict on minute data take minutes.
        model = Prophet(
            daily_seasonality=True, weekly_seasonality=True, yearly_seasonality=False, uncertainty_samples=0
        )
        model.fit(frame)
        self.prophet = model
        self._baseline = model.predict(frame[["ds"]])["yhat"].to_numpy(float)
        residuals = y - self._baseline
        self.scale = float(np.std(residuals)) or 1.0
        self.net = self._train(residuals / self.scale)
        self.residual_sd = self.scale
        return self

    def _train(self, r: np.ndarray) -> Any:
        import torch
        from torch import nn

        class ResidualLstm(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(1, 16, batch_first=True)
                self.head = nn.Linear(16, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out, _ = self.lstm(x)
                result: torch.Tensor = self.head(out[:, -1, :])
                return result

        w = self.window
        ends = np.arange(w, len(r))
        rng = np.random.default_rng(self.seed)
        if len(ends) > self.max_windows:
            ends = rng.choice(ends, self.max_windows, replace=False)
        x = torch.tensor(np.stack([r[e - w : e] for e in ends])[:, :, None], dtype=torch.float32)
        t = torch.tensor(r[ends][:, None], dtype=torch.float32)
        net = ResidualLstm()
        optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
        for _ in range(self.epochs):
            order = torch.randperm(len(x))
            for i in range(0, len(x), 256):
                batch = order[i : i + 256]
                optimiser.zero_grad()
                loss = nn.functional.mse_loss(net(x[batch]), t[batch])
                loss.backward()  # type: ignore[no-untyped-call]
                optimiser.step()
        return net

    def predict(self, history: np.ndarray, horizon: int, quantiles: tuple[float, ...] = DEFAULT_QUANTILES) -> Forecast:
        import torch

        if self.net is None:
            raise RuntimeError("fit the model first")
        history = np.asarray(history, float)
        n = len(history)
        self._extend_baseline(n + horizon)
        w = self.window
        recent = (history[-w:] - self._baseline[n - w : n]) / self.scale
        corrections = np.zeros(horizon)
        with torch.no_grad():
            seq = torch.tensor(recent[None, :, None], dtype=torch.float32)
            for h in range(horizon):
                nxt = self.net(seq)
                corrections[h] = float(nxt[0, 0])
                seq = torch.cat([seq[:, 1:, :], nxt[:, None, :]], dim=1)
        mean = np.maximum(self._baseline[n : n + horizon] + corrections * self.scale, 0.0)
        qs = {q: np.maximum(mean + _Z.get(q, 0.0) * self.residual_sd, 0.0) for q in quantiles}
        return Forecast(mean, qs)
