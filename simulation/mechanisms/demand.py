"""Stage 1 and demand (ODD 4.1, 4.9): external demand by sector, shocks, market access.

Tradable sectors sell to a national market: D_s(t) = D_s(0) (1 + g_s)^t exp(x_t) (1 - shock),
with an AR(1) log shock x_t, times a capture factor that rises when the town's firms grow more
productive than the nation's. Local services sell to households in proportion to the town's
wage bill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simulation.model import ClusterModel


# --------------------------------------------------------------------------- rules


def demand_shock(x_prev, persistence, volatility, eps):
    """AR(1) log demand shock: x_t = rho * x_{t-1} + sigma * eps_t (scalars or arrays)."""
    return persistence * x_prev + volatility * eps


def external_demand(base, trend, t: int, x, shock=0.0):
    """D_s(t) = D_s(0) * (1 + g_s)^t * exp(x_t) * (1 - shock) (scalars or arrays)."""
    return base * (1.0 + trend) ** t * np.exp(x) * (1.0 - shock)


def capture_factor(rel_town_growth, rel_national_growth: float, elasticity: float):
    """Share of the sector's market the town's firms hold, relative to the start.

    (A_town(t)/A_town(0) / (A_nat(t)/A_nat(0)))^eta: a town whose productivity grows faster
    than the nation's sells more (an Armington export-demand assumption).
    """
    return (rel_town_growth / rel_national_growth) ** elasticity


# --------------------------------------------------------------------------- stage 1


def update_environment(model: ClusterModel, rng: np.random.Generator) -> None:
    """Demand moves (trend and AR(1) noise); a scheduled CFE demand shock applies."""
    s, mk = model.sectors, model.market
    eps = rng.normal(size=s.n)
    mk.demand_x[:] = demand_shock(mk.demand_x, s.persistence, s.volatility, eps)
    shock = np.zeros(s.n)
    if model.calendar.shocked(model.time_step):
        shock[s.cfe] = model.cfg.shock.size
    mk.demand[:] = external_demand(mk.demand_base, s.trend, model.time_step, mk.demand_x, shock)


# --------------------------------------------------------------------------- demand


def sector_demands(model: ClusterModel, productivity: np.ndarray, firm_jobs: float,
                   sector: int | slice = slice(None)):
    """Demand for each sector's output (or one sector's) in the town this quarter.

    Tradables: D_s(t) * capture, the capture factor comparing the sector's market-share-
    weighted productivity with the start's; local services: a propensity times the town's
    wage bill (firms' and public jobs).
    """
    f, mk, s = model.cfg.firms, model.market, model.sectors
    nat_growth = (1.0 + f.national_productivity_growth) ** model.time_step
    capture = capture_factor(productivity[sector] / mk.base_productivity[sector],
                             nat_growth, f.capture_elasticity)
    wage_bill = model.town.wage * (firm_jobs + model.town.public_jobs)
    return np.where(s.local_services[sector], mk.local_propensity[sector] * wage_bill,
                    mk.demand[sector] * capture)


def shift_market(model: ClusterModel, sector: int, amount: float) -> None:
    """A firm entering (leaving) a tradable sector brings (takes) `market_access` of its
    output, mln RUB per quarter, as the town's market (ODD 4.1, market access). The change
    is kept in D_s(0) at today's demand level, so it follows the sector's trend and shocks."""
    s, mk = model.sectors, model.market
    if s.local_services[sector] or amount == 0:
        return
    change = model.cfg.firms.market_access * amount
    base = mk.demand_base[sector]
    level = mk.demand[sector] / base if base > 0 else \
        external_demand(1.0, s.trend[sector], model.time_step, mk.demand_x[sector])
    mk.demand_base[sector] = max(0.0, base + change / level)
    mk.demand[sector] = max(0.0, mk.demand[sector] + change)
