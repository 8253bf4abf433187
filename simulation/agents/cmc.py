"""The cluster management company (CMC): the specialised organisation of principle 4.

It lives on member fees and the public money actually paid to it; it pays its running cost
first, then services for members (which raise their absorptive capacity); it brokers
introductions among members; it sets next quarter's fee to balance its budget; and it
dissolves after `cluster.dissolve_after` quarters in which it cannot pay its running cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.config import ClusterFounder

if TYPE_CHECKING:
    from simulation.model import ClusterModel


def balanced_fee(minimum: float, running_cost: float, service_cost: float, members: int,
                 grant: float, match_ratio: float, reserves: float) -> float:
    """The CMC's fee per member for next quarter: enough, with public money, to cover costs.

    fee = max(f_min, (C_run + c_s n - G - B) / (n (1 + m))), where G is the public grant, m the
    public match per rouble of fees and B the reserves in hand.
    """
    if members <= 0:
        return minimum
    need = running_cost + service_cost * members - grant - reserves
    return max(minimum, need / (members * (1.0 + match_ratio)))


class ClusterManagementCompany(mesa.Agent):
    model: ClusterModel

    def __init__(self, model: ClusterModel, founder: ClusterFounder, quality: float) -> None:
        super().__init__(model)
        self.founder = founder
        self.quality = quality
        self.budget = 0.0
        self.fees = 0.0  # collected last quarter (the basis of a public match)
        self.service_intensity = 1.0
        self.shortfall_steps = 0
        self.fee = model.cfg.cluster.member_fee
        # principle 6: the CFE's present suppliers are designated at their present capacity
        f, ties = model.firms, model.ties
        of_cfe = ties.a == 0  # the CFE is row 0
        other = ties.b[of_cfe]
        ties.weight[of_cfe] = f.productivity[other] * f.employees[other]

    @property
    def members(self) -> np.ndarray:
        """Rows of the member firms (in the order of their ids)."""
        return np.flatnonzero(self.model.firms.member)

    @property
    def size(self) -> int:
        return int(self.model.firms.member.sum())

    def admit(self, rows: np.ndarray) -> None:
        self.model.firms.member[rows] = True
        self.model.firms.bad_membership_steps[rows] = 0

    def release(self, rows: np.ndarray) -> None:
        self.model.firms.member[rows] = False

    def receive_fees(self, amount: float) -> None:
        self.fees = amount
        self.budget += amount

    def set_fee(self) -> None:
        """Next quarter's fee balances the budget with the public money it expects."""
        m, c = self.model, self.model.cfg.cluster
        t = m.time_step + 1
        self.fee = balanced_fee(c.member_fee, m.scaled(c.running_cost), c.service_cost_per_member,
                                self.size, m.region.cmc_grant(self, t), m.region.match_ratio(t),
                                self.budget)

    def operate(self) -> bool:
        """Pay running and service costs; returns False when it must dissolve (ODD 4.5)."""
        c = self.model.cfg.cluster
        running = self.model.scaled(c.running_cost)
        services = c.service_cost_per_member * self.size
        if self.budget >= running:
            self.budget -= running
            self.shortfall_steps = 0
            paid = min(self.budget, services)
            self.budget -= paid
            self.service_intensity = paid / services if services > 0 else 1.0
        else:
            self.shortfall_steps += 1
            self.service_intensity = 0.0
        return self.shortfall_steps < c.dissolve_after

    def broker(self, rng: np.random.Generator) -> dict[int, list[int]]:
        """Introductions: q * brokerage per member, each to the more related of two members
        drawn at random (brokers know the value chain). Returns firm id -> introduced ids."""
        m = self.model
        f = m.firms
        members = self.members
        n = len(members)
        if n < 2:
            return {}
        count = int(rng.poisson(self.quality * m.cfg.cluster.brokerage * n))
        a, b, c = members[rng.integers(0, n, size=(3, count))]
        rel = m.sectors.relatedness
        b = np.where(rel[f.sector[a], f.sector[c]] > rel[f.sector[a], f.sector[b]], c, b)
        intro: dict[int, list[int]] = {}
        for x, y in zip(f.uid[a].tolist(), f.uid[b].tolist()):
            if x != y:
                intro.setdefault(x, []).append(y)
                intro.setdefault(y, []).append(x)
        return intro

    def dissolve(self) -> None:
        self.release(self.members)
        self.remove()
        self.model.cmc = None
