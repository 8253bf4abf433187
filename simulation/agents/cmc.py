"""The cluster management company (CMC): the specialised organisation of principle 4.

It lives on its members' fees and on the public money actually paid to it: while support
lasts, the authorities reimburse the costs fees do not cover (up to `cluster.public_funding`
for a CMC they founded; `cluster.match_ratio` roubles per rouble of fees for a joint one).
Each quarter it pays its running cost, then services for its members (which raise their
absorptive capacity); it brokers introductions among members; it sets next quarter's fees so
that, with the public money it expects, they cover its costs, sharing them by the members'
size (or equally). It dissolves after `cluster.dissolve_after` quarters in a row without
members or unable to pay its running cost; its reserves (members' money) go back to its
members, or to the regional budget if none is left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.config import ClusterFounder, FeeBasis

if TYPE_CHECKING:
    from simulation.model import ClusterModel


def fees_by_size(employees: np.ndarray, need: float, minimum: float) -> float:
    """The fee per employee r at which members' fees max(f_min, r L_i) sum to `need`
    (0 when the minimum fees already cover it): founders share costs by size."""
    employees = np.sort(np.asarray(employees, dtype=float))[::-1]
    if need <= minimum * len(employees) or employees.sum() <= 0:
        return 0.0
    # with the k largest paying r L_i and the rest the minimum:
    # r = (need - f_min (n - k)) / sum of the k largest, valid if r L_k >= f_min
    n = len(employees)
    top = np.cumsum(employees)
    k = np.arange(1, n + 1)
    rate = (need - minimum * (n - k)) / top
    valid = rate * employees >= minimum
    return float(rate[np.flatnonzero(valid)[-1]]) if valid.any() else need / top[-1]


class ClusterManagementCompany(mesa.Agent):
    model: ClusterModel

    def __init__(self, model: ClusterModel, founder: ClusterFounder, quality: float) -> None:
        super().__init__(model)
        self.founder = founder
        self.quality = quality
        self.founded = model.time_step
        self.budget = 0.0  # reserves: members' fees not yet spent
        self.fees_collected = 0.0  # this quarter
        self.public_income = 0.0  # this quarter
        self.costs_due = 0.0  # running cost and full services this quarter
        #: services delivered per member last quarter, as a share of the full programme;
        #: a new CMC announces its full programme
        self.service_intensity = 1.0
        self.rate = 0.0  # fee per employee (fee basis "size") or per member ("flat")
        self.shortfall_steps = 0
        self.empty_steps = 0
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

    def fees(self, employees: np.ndarray) -> np.ndarray:
        """This quarter's fee of a member of each size (mln RUB)."""
        c = self.model.cfg.cluster
        if c.fee_basis == FeeBasis.size:
            return np.maximum(c.member_fee, self.rate * employees)
        return np.full(np.shape(employees), max(c.member_fee, self.rate))

    def admit(self, rows: np.ndarray) -> None:
        """New members; a supplier of the CFE is designated at its present capacity."""
        f, ties = self.model.firms, self.model.ties
        f.member[rows] = True
        f.bad_membership_steps[rows] = 0
        joined = np.zeros(len(f), dtype=bool)
        joined[rows] = True
        designate = (ties.a == 0) & joined[ties.b]
        other = ties.b[designate]
        ties.weight[designate] = f.productivity[other] * f.employees[other]

    def weights(self, rows: np.ndarray) -> np.ndarray:
        """How much of the CMC's services and introductions a firm gets relative to others:
        1 + targeting for a member in a priority sector (principle 1), 1 otherwise."""
        priority = self.model.region.priority[self.model.firms.sector[rows]]
        return 1.0 + self.model.cfg.cluster.targeting * priority

    def intensity(self, rows: np.ndarray) -> np.ndarray:
        """Services each firm at `rows` gets (or would get) as a member, as a share of the
        full programme: the delivered share, steered by the weights (same total effort)."""
        members = self.members
        mean = self.weights(members).mean() if len(members) else 1.0
        return self.service_intensity * self.weights(rows) / mean

    def release(self, rows: np.ndarray) -> None:
        f = self.model.firms
        f.member[rows] = False
        f.left_at[rows] = self.model.time_step

    def receive_fees(self, amount: float) -> None:
        self.fees_collected = amount
        self.budget += amount

    def costs(self) -> tuple[float, float]:
        """(running cost, full services for every member) this quarter."""
        c = self.model.cfg.cluster
        return self.model.scaled(c.running_cost), c.service_cost_per_member * self.size

    def operate(self) -> bool:
        """Collect the public money due, pay running and service costs; returns False when the
        CMC must dissolve (ODD 4.5)."""
        m, c = self.model, self.model.cfg.cluster
        running, services = self.costs()
        self.costs_due = running + services
        public = m.region.reimburse(self, self.costs_due, self.fees_collected)
        self.public_income = public
        self.budget += public
        self.empty_steps = self.empty_steps + 1 if self.size == 0 else 0
        if self.budget >= running:
            self._spend(running, "CMC running cost")
            self.shortfall_steps = 0
            paid = self._spend(min(self.budget, services), "CMC services")
            # with no member to serve, it offers its full programme to the first
            self.service_intensity = paid / services if services > 0 else 1.0
        else:
            self.shortfall_steps += 1
            self.service_intensity = 0.0
        return max(self.shortfall_steps, self.empty_steps) < c.dissolve_after

    def _spend(self, amount: float, item: str) -> float:
        self.budget -= amount
        self.model.accounts.pay("cmc", "outside", amount, item)
        return amount

    def set_fee(self) -> None:
        """Next quarter's fees: with the public money expected, they cover running cost and
        services for every member."""
        m, c = self.model, self.model.cfg.cluster
        members = self.members
        need = max(0.0, m.region.fee_need(self.founder, sum(self.costs()), m.time_step + 1)
                   - self.budget)
        if c.fee_basis == FeeBasis.size:
            self.rate = fees_by_size(m.firms.employees[members], need, c.member_fee)
        else:
            self.rate = need / len(members) if len(members) else 0.0

    def broker(self, rng: np.random.Generator) -> dict[int, list[int]]:
        """Introductions: q * brokerage per member, each from a member drawn by its weight
        (priority-sector members more often) to the more related of two members drawn at
        random (brokers know the value chain). Returns firm id -> introduced ids."""
        m = self.model
        f = m.firms
        members = self.members
        n = len(members)
        if n < 2:
            return {}
        count = int(rng.poisson(self.quality * m.cfg.cluster.brokerage * n))
        w = np.cumsum(self.weights(members))
        a = members[np.searchsorted(w, rng.random(count) * w[-1], side="right")]
        b, c = members[rng.integers(0, n, size=(2, count))]
        rel = m.sectors.relatedness
        b = np.where(rel[f.sector[a], f.sector[c]] > rel[f.sector[a], f.sector[b]], c, b)
        intro: dict[int, list[int]] = {}
        for x, y in zip(f.uid[a].tolist(), f.uid[b].tolist()):
            if x != y:
                intro.setdefault(x, []).append(y)
                intro.setdefault(y, []).append(x)
        return intro

    def dissolve(self) -> None:
        """Wind up: reserves go back to the members in proportion to this quarter's fees (or
        to the regional budget when no member is left)."""
        m, f = self.model, self.model.firms
        members = self.members
        if self.budget > 0:
            if len(members) and f.fee[members].sum() > 0:
                share = self.budget * f.fee[members] / f.fee[members].sum()
                f.net_worth[members] += share
                f.cum_transfers[members] += share
                m.accounts.pay("cmc", "firms", self.budget, "CMC reserves returned")
            else:
                m.ledger.receive("regional", self.budget, "cmc", "CMC reserves returned")
            self.budget = 0.0
        self.release(members)
        self.remove()
        m.cmc = None
