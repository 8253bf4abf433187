"""Town-level state: people and the labour market, the TASED site, demand, the CFE's plans."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Town:
    """People: the labour force identity is employed + unemployed = labour_force."""

    population: float
    labour_force: int
    public_jobs: int  # jobs outside the modelled firms (schools, hospitals), fixed
    skilled: int
    wage: float  # mln RUB per worker per quarter
    urban_quality: float  # index in [0, 1]
    unemployed: int  # the pool, moved by hiring, firing, exits, migration and retirement
    household_wealth: float = 0.0  # households' savings since the start, mln RUB


@dataclass
class Site:
    """Serviced industrial land of the TASED: plots ready and plots under construction."""

    serviced_plots: float
    pipeline: list[tuple[int, float]] = field(default_factory=list)  # (ready at step, plots)

    def deliver(self, t: int) -> None:
        """Plots under construction are delivered after the lag, whether or not the regime
        still runs."""
        while self.pipeline and self.pipeline[0][0] <= t:
            self.serviced_plots += self.pipeline.pop(0)[1]

    def planned(self) -> float:
        return sum(plots for _, plots in self.pipeline)


@dataclass
class Market:
    """External demand by sector (ODD 4.1) and the calibration it started from."""

    demand_x: np.ndarray  # AR(1) log demand shock
    demand_base: np.ndarray  # D_s(0), moved by entrants' market access
    demand: np.ndarray  # D_s(t) before the capture factor
    base_productivity: np.ndarray  # market-share-weighted productivity at the start (capture)
    input_share: np.ndarray  # materials per rouble of sales, calibrated at the start
    local_propensity: np.ndarray  # local services: demand per rouble of the town's wage bill


@dataclass
class CfeState:
    """What the city-forming enterprise has outsourced (principle 5) and laid off."""

    initial_jobs: int
    outsourced_jobs: int = 0
    extra_input_share: float = 0.0  # input share added by buying back outsourced work
    last_layoffs: int = 0  # drives next quarter's spinoffs
