"""The three levels of government; each owns its instruments and books its outlays.

- Federal: the TASED site, co-financed by the Monotown Fund (up to 95%).
- Regional: priority sectors (principle 1), the top-down cluster initiative, the CMC's public
  money and the cluster subsidies (with the federal co-financing share).
- Municipal: the urban environment (principle 3) and residency decisions.

Stage 2 of the quarter is `act`: the federal, the regional, then the municipal authority.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.agents.cmc import ClusterManagementCompany
from simulation.config import ClusterFounder, PriorityRule
from simulation.mechanisms import cluster, tased
from simulation.mechanisms.migration import urban_quality_update
from simulation.sectors import (location_quotient, national_productivity,
                                reference_productivity, sector_totals)

if TYPE_CHECKING:
    from simulation.model import ClusterModel


def act(model: ClusterModel, rng: np.random.Generator) -> None:
    """Stage 2: the authorities act in turn."""
    model.federal.act()
    model.region.act()
    model.municipality.act()


class FederalAuthority(mesa.Agent):
    """TASED regime and Monotown Fund co-financing of serviced plots."""

    model: ClusterModel

    def act(self) -> None:
        m = self.model
        m.site.deliver(m.time_step)
        if m.tased_active():
            self.invest_in_site()

    def invest_in_site(self) -> None:
        """Serviced plots are built ahead of demand: when free and planned plots fall below
        the buffer, the Fund co-finances a quarter's infrastructure investment (ODD 4.10)."""
        m, t = self.model, self.model.cfg.tased
        site = m.site
        if site.serviced_plots - m.firms.plot.sum() + site.planned() >= t.plot_buffer:
            return
        amount = m.scaled(t.infrastructure_per_step)
        m.ledger.spend("federal", "infrastructure", amount * t.fund_share, "outside")
        m.ledger.spend("regional", "infrastructure", amount * (1.0 - t.fund_share), "outside")
        site.pipeline.append((m.time_step + t.construction_lag_steps, amount / t.plot_cost))


class RegionalAuthority(mesa.Agent):
    """Priority sectors, the top-down cluster initiative, public money for the cluster."""

    model: ClusterModel

    def __init__(self, model: ClusterModel) -> None:
        super().__init__(model)
        self.priority = np.zeros(model.sectors.n, dtype=bool)  # sectors whose members it supports

    def act(self) -> None:
        m = self.model
        c = m.cfg.cluster
        if m.calendar.priority_review_due(m.time_step):
            self.priority = self.choose_priorities()
        if c.founder == ClusterFounder.authorities and m.cmc is None and m.support_active():
            m.cmc = ClusterManagementCompany(m, c.founder, c.management_quality)
        if m.cmc is not None and m.support_active() and c.subsidy_budget > 0:
            self.pay_subsidies()

    def choose_priorities(self) -> np.ndarray:
        """Priority sectors (principle 1): LQ > 1 or productivity above the national mean,
        among profile, related and supporting activities; or all sectors; or none. Joint
        governance adds sectors where members ask for support (member_demand_priorities)."""
        m = self.model
        c, s, t = m.cfg.cluster, m.sectors, m.time_step
        if c.priority_rule == PriorityRule.all_sectors:
            chosen = np.ones(s.n, dtype=bool)
        elif c.priority_rule == PriorityRule.none:
            chosen = np.zeros(s.n, dtype=bool)
        else:
            view = sector_totals(m.firms, s, reference_productivity(m.cfg, s, t))
            lq = location_quotient(view.employment, s.national_share)
            above = view.mean_productivity > national_productivity(m.cfg, s, t)
            chosen = s.profile & ((lq > 1.0) | above) & (view.employment > 0)
        if c.member_demand_priorities and m.cmc is not None:
            f = m.firms
            chosen |= np.bincount(f.sector[f.member], minlength=s.n) >= c.member_demand_min
        return chosen

    def courting(self, open_sectors: np.ndarray) -> np.ndarray:
        """How much more often investors choose each sector because the authorities court
        them for the priority sectors (principle 1): while public cluster money flows (a
        cluster the authorities founded or co-fund), a fixed courting effort is shared by the
        priority sectors open to investors, so each of k of n such sectors gets
        1 + courting n / k; spreading it over all sectors tilts nothing."""
        m, c = self.model, self.model.cfg.cluster
        out = np.ones(len(open_sectors))
        courted = self.priority & open_sectors
        public = c.founder in (ClusterFounder.authorities, ClusterFounder.joint)
        if public and m.support_active() and courted.any():
            out[courted] = 1.0 + c.courting * open_sectors.sum() / courted.sum()
        return out

    def fee_need(self, founder: ClusterFounder, costs: float, t: int) -> float:
        """What members' fees must cover of a CMC's costs at step t, given the public money
        it will be paid: the costs above the grant cap for a CMC the authorities founded, the
        costs over (1 + match ratio) for one whose fees are matched, all of them otherwise or
        once support has ended."""
        c = self.model.cfg.cluster
        if not self.model.calendar.support_active(t):
            return costs
        if founder == ClusterFounder.authorities:
            return max(0.0, costs - self.model.scaled(c.public_funding))
        return costs / (1.0 + c.match_ratio)

    def reimburse(self, cmc: ClusterManagementCompany, costs: float, fees: float) -> float:
        """Public money paid to the CMC this quarter: the part of its costs its fees do not
        cover, up to the grant cap (a CMC the authorities founded) or to `match_ratio` times
        its fees (a CMC firms founded, alone or with the authorities; the business-led preset
        sets no match); nothing after support ends. Returns the amount paid."""
        m, c = self.model, self.model.cfg.cluster
        if not m.support_active():
            return 0.0
        gap = max(0.0, costs - fees)
        if cmc.founder == ClusterFounder.authorities:
            due = min(m.scaled(c.public_funding), gap)
        else:
            due = min(c.match_ratio * fees, gap)
        if due > 0:
            self._pay("cmc_funding", due, "cmc")
        return due

    def _pay(self, instrument: str, amount: float, to: str) -> None:
        fed = self.model.cfg.cluster.federal_subsidy_share
        self.model.ledger.spend("federal", instrument, amount * fed, to)
        self.model.ledger.spend("regional", instrument, amount * (1.0 - fed), to)

    def pay_subsidies(self) -> None:
        """Membership subsidies, then joint-project subsidies, to members in priority
        sectors, pro rata when the budget does not cover every claim."""
        m, c, f = self.model, self.model.cfg.cluster, self.model.firms
        budget = m.scaled(c.subsidy_budget)
        eligible = np.flatnonzero(f.member & self.priority[f.sector])
        if not len(eligible):
            return
        claims = c.membership_subsidy_rate * m.cmc.fees(f.employees[eligible])
        rate = min(1.0, budget / claims.sum()) if claims.sum() > 0 else 0.0
        paid = self._subsidise(eligible, claims * rate)
        self._pay("membership_subsidy", paid, "firms")
        left = budget - paid
        member_partners, partners = cluster.member_partners(m)
        joint = eligible[member_partners[eligible] > 0]
        # the joint projects' R&D: the share of a firm's R&D it does with member partners
        claims = c.joint_project_rate * f.rd_spend[joint] * member_partners[joint] / partners[joint]
        total = claims.sum()
        if total <= 0 or left <= 0:
            return
        self._pay("joint_project_subsidy",
                  self._subsidise(joint, claims * min(1.0, left / total)), "firms")

    def _subsidise(self, rows: np.ndarray, amounts: np.ndarray) -> float:
        f = self.model.firms
        f.net_worth[rows] += amounts
        f.cum_subsidy[rows] += amounts
        return float(amounts.sum())


class MunicipalAuthority(mesa.Agent):
    """Urban environment (principle 3), land, residency decisions after the admin delay."""

    model: ClusterModel

    def act(self) -> None:
        m = self.model
        spend = m.ledger.spend("municipal", "urban_environment",
                               m.scaled(m.cfg.urban.investment_per_step), "outside")
        u = m.cfg.urban
        m.town.urban_quality = urban_quality_update(m.town.urban_quality, spend,
                                                    m.town.population, u.effect,
                                                    u.half_saturation, u.reference_population,
                                                    u.depreciation)
        self.decide_residency()

    def decide_residency(self) -> None:
        """Pending applications are decided after the administrative delay against the legal
        criteria (the project's capex and new jobs, an eligible activity, not the CFE or its
        affiliate, at most half of revenue from the CFE, the firm's former headcount kept);
        residents are checked every year against the CFE-revenue limit; residency ends with
        its benefits or with the regime. Footloose residents reconsider whenever their rates
        are about to rise (tased.footloose_leaves)."""
        m, f, t = self.model, self.model.firms, self.model.cfg.tased
        now = m.time_step
        if not m.tased_active():
            residents = np.flatnonzero(f.resident_since >= 0)
            f.leaving[residents] |= tased.footloose_leaves(m, residents, regime_on=False)
            f.resident_since = -1
            f.applied_at = -1
            return
        due = (f.applied_at >= 0) & (f.applied_at + t.admin_delay_steps <= now)
        share = np.divide(f.cfe_sales, f.sales, out=np.zeros(len(f)), where=f.sales > 0)
        new_jobs = f.employees - f.headcount_before
        granted = due & tased.is_eligible(f.project_capex, new_jobs,
                                          m.sectors.tased_eligible[f.sector], f.cfe_affiliated,
                                          share, t) & (new_jobs >= 0)
        f.applied_at = np.where(due, -1, f.applied_at)
        f.resident_since = np.where(granted, now, f.resident_since)
        f.reduced_contributions = np.where(granted, tased.in_window(m, now),
                                           f.reduced_contributions)
        f.ever_resident |= granted
        age = tased.resident_ages(f.resident_since, now)
        # every year of residency: at most half of the year's revenue from the CFE
        anniversary = (age > 0) & (age % 4 == 0)
        year_share = np.divide(f.cfe_sales_year, f.sales_year, out=np.zeros(len(f)),
                               where=f.sales_year > 0)
        f.resident_since[anniversary & (year_share > t.max_cfe_revenue_share)] = -1
        f.sales_year[anniversary | granted] = 0.0
        f.cfe_sales_year[anniversary | granted] = 0.0
        age = tased.resident_ages(f.resident_since, now)
        turning = np.flatnonzero((age == t.first_period_steps) | (age == t.benefit_steps))
        f.leaving[turning] |= tased.footloose_leaves(m, turning, regime_on=True)
        f.resident_since[turning[age[turning] >= t.benefit_steps]] = -1  # benefits used up
