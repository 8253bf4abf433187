"""The model the page drives, and the thread-safe way the page reads it.

`TownModel` is configuration A with, unless B is "none", a comparison B on the same town and
seed, stepped in lockstep. `Runner` owns one TownModel per browser tab and a lock: a step and
the copy of the state the page draws (`Snapshot`) never overlap, so the page may step the
model in a background thread (Play) while it draws the last snapshot in another. Nothing on
the page reads the live model; the firm table for download is read under the lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.model import ClusterModel
from simulation.outputs import firm_rows
from simulation.presets import load_config

from levers import DEFAULTS, NO_COMPARISON, PAGE_SETTINGS, overrides


class TownModel(ClusterModel):
    """Configuration A (this model) and, unless ``scenario_b`` is "none", B in `comparison`.

    ``levers`` are the policy levers the student changed (lever name -> widget value, as in
    the page's settings). B gets them when ``b_uses_levers`` is true, otherwise it runs its
    scenario preset unchanged.
    """

    def __init__(self, town: str = DEFAULTS["town"], scenario_a: str = DEFAULTS["scenario_a"],
                 seed: int = DEFAULTS["seed"], scenario_b: str = DEFAULTS["scenario_b"],
                 b_uses_levers: bool = DEFAULTS["b_uses_levers"],
                 levers: dict[str, Any] | None = None) -> None:
        lever_overrides = overrides({**DEFAULTS, **(levers or {})})
        seed = int(seed)
        super().__init__(load_config(town, scenario_a, {**lever_overrides, "seed": seed}))
        self.comparison: ClusterModel | None = None
        self.b_is_preset = not b_uses_levers
        if scenario_b != NO_COMPARISON:
            self.comparison = ClusterModel.from_presets(
                town, scenario_b, seed, lever_overrides if b_uses_levers else None)
        self.running = self.time_step < self.cfg.steps

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> TownModel:
        """The model of the page's settings (see `levers.DEFAULTS` for the keys)."""
        s = {**DEFAULTS, **settings}
        policy = {k: v for k, v in s.items() if k not in PAGE_SETTINGS}
        return cls(s["town"], s["scenario_a"], s["seed"], s["scenario_b"], s["b_uses_levers"],
                   policy)

    def step(self) -> None:
        """One quarter of A and B; nothing past the horizon."""
        if not self.running:
            return
        super().step()
        if self.comparison is not None:
            self.comparison.step()
        self.running = self.time_step < self.cfg.steps

    def runs(self) -> list[tuple[str, ClusterModel]]:
        """(label, model) of A and, if present, B, for plots and tables."""
        out: list[tuple[str, ClusterModel]] = [(f"A: {self.cfg.scenario}", self)]
        if self.comparison is not None:
            preset = " (preset)" if self.b_is_preset else ""
            out.append((f"B: {self.comparison.cfg.scenario}{preset}", self.comparison))
        return out

    def snapshot(self, generation: int = 0) -> Snapshot:
        """A copy of what the page draws. Take it under the Runner's lock."""
        return Snapshot(generation=generation, time_step=self.time_step,
                        horizon=self.cfg.steps,
                        runs=tuple(RunView(label, m.cfg, tuple(m.records), _calendar(m),
                                           NetworkView.of(m)) for label, m in self.runs()))


def _calendar(m: ClusterModel) -> dict[str, Any]:
    """When the regime and the public cluster money run (for the plots' markers)."""
    cal = m.calendar
    return {"tased": bool(cal.tased_enabled), "tased_start": int(cal.tased_start),
            "tased_end": int(cal.tased_end), "cluster_policy": bool(cal.cluster_policy),
            "cluster_start": int(cal.cluster_start), "support_end": int(cal.support_end)}


@dataclass(frozen=True, eq=False)
class Columns:
    """Copied firm columns the network reads (the names of `model.firms`); row 0 the CFE."""

    uid: np.ndarray
    sector: np.ndarray
    employees: np.ndarray
    member: np.ndarray
    resident_since: np.ndarray

    def __len__(self) -> int:
        return len(self.uid)


@dataclass(frozen=True, eq=False)
class Ties:
    """Ties as rows of the firm columns (a, b) and whether it is a supplier tie to the CFE."""

    a: np.ndarray
    b: np.ndarray
    supply: np.ndarray

    def __len__(self) -> int:
        return len(self.a)


@dataclass(frozen=True, eq=False)
class NetworkView:
    """The firms and ties of one run at one quarter (copies)."""

    time_step: int
    firms: Columns
    ties: Ties
    sectors: tuple[str, ...]

    @classmethod
    def of(cls, m: ClusterModel) -> NetworkView:
        f, t = m.firms, m.ties
        return cls(m.time_step,
                   Columns(*(np.array(getattr(f, c), copy=True) for c in
                             ("uid", "sector", "employees", "member", "resident_since"))),
                   Ties(*(np.array(getattr(t, c), copy=True) for c in ("a", "b", "supply"))),
                   tuple(m.sectors.names))


@dataclass(frozen=True, eq=False)
class RunView:
    """One configuration at one quarter: its config, records so far and network (copies)."""

    label: str
    cfg: Any
    records: tuple[dict[str, float], ...]
    calendar: dict[str, Any]
    network: NetworkView

    @property
    def last(self) -> dict[str, float]:
        return self.records[-1]


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Everything the page draws at one quarter; immutable, safe to read from any thread."""

    generation: int  # counts Resets: drawings keep per-run state (the network layout)
    time_step: int
    horizon: int
    runs: tuple[RunView, ...]

    @property
    def done(self) -> bool:
        return self.time_step >= self.horizon

    @property
    def a(self) -> RunView:
        return self.runs[0]


class Runner:
    """One tab's model behind a lock: `reset`, `step`, `snapshot` and `firm_rows` may be
    called from any thread (the page's Play runs `step` in a worker thread while it draws)."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.generation = 0
        self.settings: dict[str, Any] = {}
        self.model: TownModel | None = None
        self._snapshot: Snapshot | None = None
        self.reset(settings or DEFAULTS)

    def reset(self, settings: dict[str, Any]) -> Snapshot:
        model = TownModel.from_settings(settings)  # slow part outside the lock
        with self._lock:
            self.generation += 1
            self.model, self.settings = model, dict(settings)
            self._snapshot = model.snapshot(self.generation)
            return self._snapshot

    def step(self, generation: int | None = None) -> Snapshot:
        """One quarter (nothing past the horizon); the snapshot after it. With `generation`,
        only if no Reset came in between (a Play started before a Reset must not step the
        new model)."""
        with self._lock:
            if self.model.running and generation in (None, self.generation):
                self.model.step()
                self._snapshot = self.model.snapshot(self.generation)
            return self._snapshot

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snapshot

    def firm_rows(self) -> list[tuple[str, dict[str, Any]]]:
        """(run label, firm row) of every firm of A and B at the current quarter, as the
        command line writes them to firms.parquet."""
        with self._lock:
            return [(label.split(":")[0], row) for label, m in self.model.runs()
                    for row in firm_rows(m)]
