"""Stage 9: exit (ODD 4.6). Firms with negative net worth or no employees leave, and so do
footloose residents that decided to go when their benefits ended; their workers return to the
unemployed pool, their ties dissolve (partners remember them) and their customers stay in
town only for the share of the market they did not bring (market access)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.mechanisms.demand import shift_market
from simulation.mechanisms.network import unlink
from simulation.state import ORIGINS

if TYPE_CHECKING:
    from simulation.model import ClusterModel


def settle(model: ClusterModel, gone: np.ndarray) -> None:
    """A leaving firm's net worth goes to its owners: outside investors for an investor's
    project, local households for every other firm; a negative net worth is a loss its
    creditors (outside the town) write off. Investors' projects are recorded as they leave."""
    f = model.firms
    worth = f.net_worth[gone]
    outside_owned = f.origin[gone] == ORIGINS.index("investor")
    to_outside = float(worth[(worth > 0) & outside_owned].sum())
    to_households = float(worth[(worth > 0) & ~outside_owned].sum())
    model.accounts.pay("firms", "outside", to_outside, "owners' equity of leaving firms")
    model.accounts.pay("firms", "households", to_households, "owners' equity of leaving firms")
    model.town.household_wealth += to_households
    model.accounts.pay("outside", "firms", float(-worth[worth < 0].sum()),
                       "losses of failed firms written off")
    rows = np.flatnonzero(gone & ((f.project >= 0) | f.expanded))
    model.projects.extend(project_rows(model, rows, exited=model.time_step))


def exit_firms(model: ClusterModel, rng: np.random.Generator) -> None:
    f = model.firms
    gone = ~f.is_cfe & ((f.net_worth < 0) | (f.employees == 0) | f.leaving)
    if not gone.any():
        return
    lost = np.bincount(f.sector[gone], weights=(f.sales - f.cfe_sales)[gone],
                       minlength=model.sectors.n)
    for sector in np.flatnonzero(lost):
        shift_market(model, int(sector), -float(lost[sector]))
    unlink(model, gone[model.ties.a] | gone[model.ties.b])
    model.town.unemployed += int(f.employees[gone].sum())  # workers return to the pool
    settle(model, gone)
    f.net_worth[gone] = 0.0
    for agent in f.agents(np.flatnonzero(gone)):
        agent.remove()
    n = len(f)
    model.ties.renumber(f.keep(~gone), n)
    model.counts.exits += int(gone.sum())


def project_rows(model: ClusterModel, rows: np.ndarray, exited: int = -1) -> list[dict]:
    """One record per investment project (ODD 2.10): an investor's, or an existing firm's new
    project(s); what it brought and what it cost in taxes forgone. The key names the same
    project in paired runs of one seed: an investor's project id, the id of a firm of the
    initial town; -1 for the new projects of later entrants (no counterpart to pair with)."""
    f = model.firms
    initial = f.born == 0
    return [{"kind": "investor" if f.project[r] >= 0 else "expansion",
             "key": int(f.project[r] if f.project[r] >= 0 else
                        (f.uid[r] if initial[r] else -1)),
             "entered": int(f.born[r]), "exited": exited,
             "sector": model.sectors.names[f.sector[r]], "planned_jobs": int(f.planned_jobs[r]),
             "project_jobs": int(f.planned_jobs[r] - f.headcount_before[r]),
             "project_capex": float(f.project_capex[r]),
             "employees": int(f.employees[r]), "investment": float(f.investment[r]),
             "resident": bool(f.ever_resident[r]),
             "footloose": bool(f.footloose[r]), "tax_forgone": float(f.tax_forgone[r])}
            for r in rows.tolist()]
