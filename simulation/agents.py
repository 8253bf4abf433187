"""Agents: firms, the cluster management company, universities and the three authorities.

Agents hold state and make decisions by calling the pure rules in `rules.py`; the order in
which they act is the model's `step` (model.py). Parameters come from `self.model.cfg`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation import rules
from simulation.config import ClusterFounder, PriorityRule

if TYPE_CHECKING:
    from simulation.model import ClusterModel


class Tie:
    """A partnership (SKIN): relational credit grows with joint success and decays without."""

    __slots__ = ("credit", "since", "supply", "weight")

    def __init__(self, since: int, supply: bool = False, weight: float = 0.0) -> None:
        self.credit = 1.0
        self.since = since
        self.supply = supply  # a supplier tie to the CFE: carries procurement
        self.weight = weight  # procurement weight: capacity when linked, reset when a CMC is founded


class Firm(mesa.Agent):
    """One real firm: the CFE, an incumbent, or an entrant (investor, spinoff, outsourced unit)."""

    model: ClusterModel

    def __init__(self, model: ClusterModel, sector: int, employees: int, productivity: float,
                 knowledge: tuple[float, ...], rd_intensity: float, net_worth: float, origin: str,
                 *, is_cfe: bool = False, cfe_affiliated: bool = False,
                 parent: Firm | None = None, footloose: bool = False, capex: float = 0.0,
                 threshold: float = 1.0) -> None:
        super().__init__(model)
        self.sector = sector
        self.employees = employees
        self.productivity = productivity
        self.knowledge = knowledge
        self.rd_intensity = rd_intensity
        self.net_worth = net_worth
        self.initial_net_worth = net_worth
        self.origin = origin
        self.is_cfe = is_cfe
        self.cfe_affiliated = cfe_affiliated or is_cfe
        self.parent = parent
        self.footloose = footloose
        self.capex = capex
        self.threshold = threshold  # Granovetter joining threshold
        self.born = model.time_step
        self.alive = True  # False once it has exited
        self.ties: dict[Firm, Tie] = {}
        self.past_partners: list[Firm] = []
        # TASED
        self.resident_since: int | None = None
        self.applied_at: int | None = None
        self.plot = False
        # cluster
        self.member = False
        self.bad_membership_steps = 0
        # flows of the current step
        self.market_weight = 0.0  # replicator weight: market share within the sector
        self.sales = 0.0
        self.cfe_sales = 0.0
        self.profit = 0.0
        self.after_tax = 0.0
        self.rd_spend = 0.0
        self.inflow = 0.0
        self.last_inflow = 0.0
        self.planned_jobs = 0  # an entrant hires toward its plan while it ramps up
        self.leaving = False  # a footloose resident that decided to go
        self.hire_request = 0
        self.loss_streak = 0
        self.cum_profit = 0.0
        self.cum_subsidy = 0.0
        self.last_innovation = -10**9
        self.last_adoption = -10**9
        self.university: University | None = None
        self.ac = 0.0  # absorptive capacity, set each step before networking

    # ------------------------------------------------------------------ state helpers

    def resident_age(self) -> int | None:
        if self.resident_since is None:
            return None
        return self.model.time_step - self.resident_since

    @property
    def cfe_revenue_share(self) -> float:
        return self.cfe_sales / self.sales if self.sales > 0 else 0.0

    def receive_subsidy(self, amount: float) -> None:
        self.net_worth += amount
        self.cum_subsidy += amount
        self.model.subsidies_received += amount

    # ------------------------------------------------------------------ 4.2 networking

    def candidates(self, random_picks: np.ndarray) -> list[Firm]:
        """Capped candidate list: past partners, the CFE (for suppliers), CMC introductions,
        then random local firms (indices into model.firms drawn by the model)."""
        m = self.model
        cap = m.cfg.network.max_candidates
        out: list[Firm] = []
        seen = set(self.ties)
        seen.add(self)

        def add(f: Firm) -> None:
            if f not in seen and f.alive and len(out) < cap:
                seen.add(f)
                out.append(f)

        for f in self.past_partners[-cap:]:
            add(f)
        if m.supplier_sector[self.sector]:
            add(m.cfe)
        for f in m.introductions.get(self, ()):
            add(f)
        firms = m.firms
        for idx in random_picks:
            add(firms[idx])
        return out

    def score(self, other: Firm) -> float:
        cfg = self.model.cfg.network
        small, large = (self.ties, other.ties) if len(self.ties) <= len(other.ties) \
            else (other.ties, self.ties)
        common = sum(1 for g in small if g in large)
        credit = 0.5 if other in self.past_partners else 0.0
        p = rules.tie_success_prob(credit, common, cfg.success_base)
        d = rules.cognitive_distance(self.knowledge, other.knowledge)
        g = rules.knowledge_gain(d, cfg.optimal_distance)
        return rules.partner_score(p, g, self.ac, self.sales, cfg.gain_value, cfg.tie_cost)

    def has_room(self) -> bool:
        cap = self.model.cfg.cfe.max_suppliers if self.is_cfe else self.model.cfg.network.max_ties
        return len(self.ties) < cap

    def search_partners(self, random_picks: np.ndarray) -> Firm | None:
        """Propose to the best candidate whose own score of us is positive (mutual consent)."""
        if not self.has_room():
            return None
        scored = [(self.score(c), c.unique_id, c) for c in self.candidates(random_picks)]
        scored.sort(key=lambda x: (-x[0], x[1]))
        for s, _, c in scored:
            if s <= 0:
                break
            if c.has_room() and c.score(self) > 0:
                return c
        return None

    # ------------------------------------------------------------------ 4.3 learning

    def innovate(self, draw: float) -> bool:
        """Nelson-Winter: a successful search draws A' = A exp(draw); the firm keeps the better."""
        new = self.productivity * float(np.exp(draw))
        if new > self.productivity:
            self.productivity = new
            self.last_innovation = self.model.time_step
            return True
        return False

    def imitate(self) -> bool:
        """Move toward the most productive same-sector partner (imitation, Nelson-Winter)."""
        best = None
        for other in self.ties:
            if other.sector == self.sector and other.productivity > self.productivity and (
                    best is None or other.productivity > best.productivity):
                best = other
        if best is None:
            return False
        share = self.model.cfg.innovation.imitation_share
        self.productivity += share * (best.productivity - self.productivity)
        window = self.model.cfg.innovation.diffusion_window
        if self.model.time_step - best.last_innovation < window:
            self.last_adoption = self.model.time_step
            return True
        return False


class University(mesa.Agent):
    """A university or research organisation: knowledge, joint projects, graduates, spinoffs."""

    def __init__(self, model: ClusterModel, name: str, knowledge: float, capacity: int,
                 graduates_per_step: float, spinoff_rate: float) -> None:
        super().__init__(model)
        self.name = name
        self.knowledge = knowledge
        self.capacity = capacity
        self.graduates_per_step = graduates_per_step
        self.spinoff_rate = spinoff_rate
        self.partners: set[Firm] = set()

    def has_room(self) -> bool:
        return len(self.partners) < self.capacity


class ClusterManagementCompany(mesa.Agent):
    """The specialised organisation of principle 4: services, brokerage, procurement rule."""

    def __init__(self, model: ClusterModel, founder: ClusterFounder, quality: float) -> None:
        super().__init__(model)
        self.founder = founder
        self.quality = quality
        self.founded = model.time_step
        self.budget = 0.0
        self.fees = 0.0
        self.service_intensity = 1.0
        self.shortfall_steps = 0
        self.fee = model.cfg.cluster.member_fee
        self.members: set[Firm] = set()

    def admit(self, firm: Firm) -> None:
        firm.member = True
        firm.bad_membership_steps = 0
        self.members.add(firm)

    def release(self, firm: Firm) -> None:
        firm.member = False
        self.members.discard(firm)

    def grant(self, step: int) -> float:
        """The fixed public grant at `step`: paid to a CMC the authorities founded."""
        c = self.model.cfg.cluster
        if step >= c.support_end_step or self.founder != ClusterFounder.authorities:
            return 0.0
        return self.model.money(c.public_funding)

    def match_ratio(self, step: int) -> float:
        c = self.model.cfg.cluster
        return c.match_ratio if step < c.support_end_step else 0.0

    def public_funding_due(self, fees_last_step: float) -> float:
        """Public money owed this step: the grant plus the match of last quarter's fees."""
        t = self.model.time_step
        return self.grant(t) + self.match_ratio(t) * fees_last_step

    def set_fee(self) -> None:
        """Next quarter's fee balances the budget with the public money it expects."""
        c = self.model.cfg.cluster
        t = self.model.time_step + 1
        self.fee = rules.balanced_fee(c.member_fee, self.model.money(c.running_cost),
                                      c.service_cost_per_member, len(self.members),
                                      self.grant(t), self.match_ratio(t), self.budget)

    def operate(self) -> bool:
        """Pay running and service costs; returns False when it must dissolve (ODD 4.5)."""
        c = self.model.cfg.cluster
        running = self.model.money(c.running_cost)
        services = c.service_cost_per_member * len(self.members)
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

    def broker(self) -> dict[Firm, list[Firm]]:
        """Introductions: q * brokerage per member, to members of related sectors first."""
        m = self.model
        members = sorted(self.members, key=lambda f: f.unique_id)
        n = len(members)
        intro: dict[Firm, list[Firm]] = {}
        if n < 2:
            return intro
        count = m.draw.poisson(self.quality * m.cfg.cluster.brokerage * n)
        for _ in range(int(count)):
            i, j, k = m.draw.integers(0, n, size=3)
            a, b, c = members[i], members[j], members[k]
            # pick the more related of two candidates for a (brokers know the value chain)
            if m.relatedness[a.sector, c.sector] > m.relatedness[a.sector, b.sector]:
                b = c
            if a is not b:
                intro.setdefault(a, []).append(b)
                intro.setdefault(b, []).append(a)
        return intro


class Authority(mesa.Agent):
    """A level of government; owns its instruments and books every outlay in the ledger."""

    level = "none"

    def act(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class FederalAuthority(Authority):
    """TASED regime, Monotown Fund infrastructure co-financing, federal cluster subsidies."""

    level = "federal"

    def act(self) -> None:
        m = self.model
        if m.tased_active():
            m.invest_in_site()


class RegionalAuthority(Authority):
    """Regional tax part, co-financing, choice of priority sectors (principle 1)."""

    level = "regional"

    def choose_priorities(self) -> np.ndarray:
        """Priority sectors: LQ > 1 or productivity above national, among profile, related
        and supporting activities; or all sectors; or none. Joint governance adds sectors
        where members ask for support (member_demand_priorities)."""
        m = self.model
        c = m.cfg.cluster
        n = len(m.sector_names)
        if c.priority_rule == PriorityRule.all_sectors:
            chosen = np.ones(n, dtype=bool)
        elif c.priority_rule == PriorityRule.none:
            chosen = np.zeros(n, dtype=bool)
        else:
            emp = m.sector_employment()
            lq = rules.location_quotient(emp, m.national_share)
            above = m.sector_mean_productivity() > m.national_productivity()
            profile = np.isin(m.sector_kind, ["core", "related", "supporting"])
            chosen = profile & ((lq > 1.0) | above) & (emp > 0)
        if c.member_demand_priorities and m.cmc is not None:
            counts = np.bincount([f.sector for f in m.cmc.members], minlength=n)
            chosen |= counts >= c.member_demand_min
        return chosen

    def act(self) -> None:
        m = self.model
        c = m.cfg.cluster
        if m.cluster_policy_active() and (m.time_step - c.start_step) % 4 == 0:
            m.priority = self.choose_priorities()


class MunicipalAuthority(Authority):
    """Urban environment (principle 3), land, residency decisions after the admin delay."""

    level = "municipal"

    def act(self) -> None:
        m = self.model
        spend = m.ledger.spend("municipal", "urban_environment",
                               m.money(m.cfg.urban.investment_per_step))
        m.urban_quality = rules.urban_quality_update(
            m.urban_quality, spend, m.population, m.cfg.urban.effect,
            m.cfg.urban.half_saturation, m.cfg.urban.depreciation)
        m.decide_residency()
