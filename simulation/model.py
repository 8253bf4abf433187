"""ClusterModel: a mono-town with a TASED regime and a (possible) industrial cluster.

The quarter's schedule is `STAGES`, in the order of docs/ODD.md section 1.3. Each stage is a
function of `simulation.mechanisms`; the institutions (authorities, the cluster management
company, universities) are agents of `simulation.agents` that own their instruments. Firm state
is a column store (`simulation.state`): the stages work on whole columns.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, fields
from typing import Any, Callable

import mesa
import numpy as np

from simulation import outputs, setup
from simulation.accounts import Accounts
from simulation.agents.authorities import act as authorities_act
from simulation.calendar import PolicyCalendar
from simulation.config import ModelConfig, validate
from simulation.fiscal import Ledger
from simulation.mechanisms import (cluster, demand, entry, exits, labour, learning, market,
                                   migration, network)

Stage = Callable[["ClusterModel", np.random.Generator], None]

#: the quarter, in order (ODD 1.3); data collection follows as stage 11
STAGES: tuple[tuple[str, Stage], ...] = (
    ("environment", demand.update_environment),  # 1 demand moves, shocks apply
    ("authorities", authorities_act),  # 2 subsidies, infrastructure, residency, cluster policy
    ("entry", entry.enter),  # 3 investors, spinoffs, outsourced units
    ("production", market.produce_and_trade),  # 4 demand split, procurement, accounts, taxes
    ("labour", labour.adjust_employment),  # 5 hiring, firing, wages
    ("networking", network.search_and_collaborate),  # 6 partner search, joint projects, decay
    ("learning", learning.learn),  # 7 spillovers, innovation, imitation, sector moves
    ("membership", cluster.membership),  # 8 join, leave, found, dissolve
    ("exit", exits.exit_firms),  # 9 bankrupt and footloose firms leave
    ("town", migration.update_town),  # 10 migration, graduates, skills
)


class Stream:
    """A stage's random stream: a numpy Generator seeded from (the run's key, the stage's
    name, the quarter), made when the stage first draws from it (most stages never do)."""

    __slots__ = ("_seed", "_rng")

    def __init__(self, seed: list[int]) -> None:
        self._seed = seed
        self._rng: np.random.Generator | None = None

    def __getattr__(self, name: str) -> Any:
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return getattr(self._rng, name)


@dataclass
class StepCounts:
    """Events of the current quarter, reset at its start."""

    entries: int = 0
    exits: int = 0
    innovations: int = 0
    adoptions: int = 0
    cfe_layoffs: int = 0
    new_projects: int = 0  # existing firms' new projects
    joins: int = 0  # firms that joined the cluster
    leaves: int = 0  # members that left it
    out_migrants: int = 0
    in_migrants: int = 0
    unfilled: int = 0
    sector_moves: int = 0

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)


class ClusterModel(mesa.Model):
    """One town, one configuration: ``ClusterModel(cfg)``, then ``run()`` and read ``records``.

    From the town and scenario presets: ``ClusterModel.from_presets(town, scenario, seed=3,
    overrides={"cluster.management_quality": 0.8})``.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        validate(cfg)
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.calendar = PolicyCalendar(cfg)
        # Each stage of each quarter draws from its own stream, derived from the seed and the
        # stage's name, so paired scenarios on one seed meet the same demand path and the same
        # draws as far as their histories allow (common random numbers).
        self._stream_key = int(self.rng.integers(2**63))
        self.time_step = 0
        self.accounts = Accounts()
        self.ledger = Ledger(self.accounts)
        self.counts = StepCounts()
        self.projects: list[dict[str, Any]] = []  # investors' projects that have left
        self.records: list[dict[str, float]] = []
        self.firm_records: list[dict[str, Any]] = []
        setup.build(self)  # sectors, town, firms, markets, ties, institutions
        self.collect()

    @classmethod
    def from_presets(cls, town: str = "sokol", scenario: str = "baseline",
                     seed: int | None = None,
                     overrides: dict[str, Any] | None = None) -> ClusterModel:
        """The model the command line builds for these presets (composed by Hydra)."""
        from simulation.presets import load_config

        extra = dict(overrides or {})
        if seed is not None:
            extra["seed"] = seed
        return cls(load_config(town, scenario, extra))

    # ------------------------------------------------------------------ the schedule

    def step(self) -> None:
        """One quarter: the stages in order, then data collection. Past the horizon a step
        does nothing (an interactive page may ask for more)."""
        if self.time_step >= self.cfg.steps:
            self.running = False
            return
        self.time_step += 1
        self.ledger.new_step()
        self.accounts.new_step()
        self.counts.reset()
        for name, stage in STAGES:
            stage(self, self.stream(name))
        self.collect()
        self.running = self.time_step < self.cfg.steps

    def stream(self, stage: str) -> Stream:
        """The random stream of one stage in the current quarter (derived from the seed)."""
        return Stream([self._stream_key, zlib.crc32(stage.encode()), self.time_step])

    def run(self, steps: int | None = None) -> None:
        for _ in range(self.cfg.steps if steps is None else steps):
            self.step()

    # ------------------------------------------------------------------ 11 data collection

    def collect(self) -> None:
        self.records.append(outputs.collect(self))
        if self.time_step in set(self.cfg.output.firm_steps) | {self.cfg.steps}:
            self.firm_records.extend(outputs.firm_rows(self))

    # ------------------------------------------------------------------ helpers

    def scaled(self, amount: Any) -> Any:
        """Public budgets are set for the town the preset describes; the model spends
        `town.scale` of them (a number or an array)."""
        return amount * self.cfg.town.scale

    def tased_active(self) -> bool:
        return self.calendar.tased_active(self.time_step)

    def support_active(self) -> bool:
        return self.calendar.support_active(self.time_step)

    def unemployed(self) -> int:
        """The unemployed pool (a stock moved by hiring, firing, exits and migration)."""
        return self.town.unemployed
