"""Many seeds of A and B: the mean of every output with a 95% confidence band, and the paired
difference A - B with its 95% confidence interval (the same seed gives A and B common random
numbers, so the difference per seed is the paired comparison).

`SeedRun` runs the seeds in a background thread, one after the other, and reports after each
seed; the page stays responsive and can cancel it. No Solara here: tested without a browser.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy import stats

from simulation.model import ClusterModel
from simulation.presets import load_config

from charts import display, plottable_outputs
from levers import NO_COMPARISON, overrides

SEED_COUNTS = (5, 10, 20, 50)


def configs(settings: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, config) of A and, if chosen, B for these settings (seed as set)."""
    levers = overrides(settings)
    seed = int(settings["seed"])
    out = [(f"A: {settings['scenario_a']}",
            load_config(settings["town"], settings["scenario_a"], {**levers, "seed": seed}))]
    if settings["scenario_b"] != NO_COMPARISON:
        preset = "" if settings["b_uses_levers"] else " (preset)"
        out.append((f"B: {settings['scenario_b']}{preset}",
                    load_config(settings["town"], settings["scenario_b"],
                                {**(levers if settings["b_uses_levers"] else {}),
                                 "seed": seed})))
    return out


@dataclass
class SeedResults:
    """Per run label: an array (seeds done, quarters + 1, outputs) of recorded values."""

    labels: tuple[str, ...]
    names: list[str]
    horizon: int
    scale: float
    seeds: list[int] = field(default_factory=list)
    values: dict[str, list[np.ndarray]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def n(self) -> int:
        return len(self.seeds)

    def copy(self) -> SeedResults:
        """A copy of the seeds done so far (the worker keeps appending to the original)."""
        n = self.n
        return dataclasses.replace(self, seeds=list(self.seeds[:n]),
                                   values={k: list(v[:n]) for k, v in self.values.items()})

    def array(self, label: str, name: str) -> np.ndarray:
        """(seeds, quarters + 1) values of output `name` for run `label`."""
        j = self.names.index(name)
        return np.stack([v[:, j] for v in self.values[label]])

    def band_rows(self, name: str) -> list[dict]:
        """Mean and 95% band per run and quarter, in the page's display units."""
        factor, _ = display(name, self.scale)
        rows = []
        for label in self.labels:
            mean, lo, hi = mean_ci(self.array(label, name) * factor)
            rows += [{"quarter": q, "run": label, "mean": _f(m), "lo": _f(a), "hi": _f(b)}
                     for q, (m, a, b) in enumerate(zip(mean, lo, hi))]
        return rows

    def difference(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean of the paired difference A - B per quarter and its 95% interval."""
        factor, _ = display(name, self.scale)
        a, b = (self.array(label, name) * factor for label in self.labels[:2])
        return mean_ci(a - b)

    def difference_rows(self, name: str) -> list[dict]:
        mean, lo, hi = self.difference(name)
        return [{"quarter": q, "mean": _f(m), "lo": _f(a), "hi": _f(b)}
                for q, (m, a, b) in enumerate(zip(mean, lo, hi))]

    def final_table(self, names: list[str]) -> list[dict]:
        """At the horizon: mean of A and B, difference with its CI, seeds where A > B."""
        out = []
        for name in names:
            factor, unit = display(name, self.scale)
            row = {"name": name, "unit": unit}
            finals = [self.array(label, name)[:, -1] * factor for label in self.labels]
            row["means"] = [float(np.nanmean(x)) for x in finals]
            if len(finals) == 2:
                d = finals[0] - finals[1]
                m, lo, hi = mean_ci(d[:, None])
                row.update(diff=float(m[0]), lo=float(lo[0]), hi=float(hi[0]),
                           a_higher=int((d > 0).sum()), b_higher=int((d < 0).sum()))
            out.append(row)
        return out


def _f(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over axis 0 and its t-based confidence interval (NaN ignored; a single seed gives
    an interval of zero width)."""
    x = np.asarray(x, dtype=float)
    n = np.sum(np.isfinite(x), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(x, axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(np.isfinite(x), x - mean, 0.0)
        sd = np.sqrt(np.sum(dev ** 2, axis=0) / np.maximum(n - 1, 1))
        t = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
        half = np.where(n > 1, t * sd / np.sqrt(np.maximum(n, 1)), 0.0)
    return mean, mean - half, mean + half


class SeedRun:
    """Seeds first_seed, first_seed + 1, ... of the settings' A and B in a worker thread.

    `on_update(results, done)` is called from the worker after each seed (and at the end);
    `cancel()` stops it after the seed under way."""

    def __init__(self, settings: dict[str, Any], n_seeds: int,
                 on_update: Callable[[SeedResults, bool], None] | None = None) -> None:
        self.settings = dict(settings)
        self.n_seeds = int(n_seeds)
        self.on_update = on_update
        self._cancel = threading.Event()
        self.error: BaseException | None = None
        self.results: SeedResults | None = None
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._run, name="seed-run", daemon=True)

    def start(self) -> SeedRun:
        self.thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _run(self) -> None:
        start = time.perf_counter()
        try:
            runs = configs(self.settings)
            cfg_a = runs[0][1]
            names = plottable_outputs()
            res = SeedResults(tuple(label for label, _ in runs), names, cfg_a.steps,
                              cfg_a.town.scale, values={label: [] for label, _ in runs})
            self.results = res
            first = int(self.settings["seed"])
            for seed in range(first, first + self.n_seeds):
                if self._cancel.is_set():
                    break
                for label, cfg in runs:
                    model = ClusterModel(dataclasses.replace(cfg, seed=seed))
                    model.run()
                    res.values[label].append(
                        np.array([[r.get(n, np.nan) for n in names] for r in model.records],
                                 dtype=float))
                res.seeds.append(seed)
                res.seconds = time.perf_counter() - start
                if self.on_update is not None and len(res.seeds) < self.n_seeds:
                    self.on_update(res, False)
        except BaseException as err:  # shown on the page
            self.error = err
        finally:
            if self.results is not None:
                self.results.seconds = time.perf_counter() - start
            self.finished.set()
            if self.on_update is not None:
                self.on_update(self.results, True)
