"""Stage 9: exit (ODD 4.6). Firms with negative net worth or no employees leave, and so do
footloose residents that decided to go when their benefits ended; their workers return to the
unemployed pool, their ties dissolve (partners remember them) and their customers stay in
town only for the share of the market they did not bring (market access)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.mechanisms.demand import shift_market
from simulation.mechanisms.network import unlink

if TYPE_CHECKING:
    from simulation.model import ClusterModel


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
    for agent in f.agent[gone]:
        agent.remove()
    n = len(f)
    model.ties.renumber(f.keep(~gone), n)
    model.counts.exits += int(gone.sum())
