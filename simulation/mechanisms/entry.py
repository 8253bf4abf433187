"""Stage 3: entry (ODD 4.6, 4.11): external investors, spinoffs, outsourced units.

Potential investors arrive at a Poisson rate that rises with the town's attractiveness (an
active TASED, free serviced plots, urban quality, the supplier base), in sectors the
authorities court more often. Each compares the NPV of its project (with the TASED benefits
it would get and what the cluster's members and services offer it) to its capex times a
hurdle, and enters, applying for residency where eligible, or not. Spinoffs arrive in
proportion to employment, more after CFE layoffs; universities spin off firms too. The CFE
outsources non-core units as linked suppliers (principle 5).

All would-be entrants of a quarter judge the town as it stood when the stage began (demand,
wage, capacity); those that decide to enter then come in arrival order while the unemployed
pool lasts, each taking a free serviced plot if one is left (an investor that counted on a
plot and finds none judges again with the land premium).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr, ndtri

from simulation.agents.firm import Firm
from simulation.mechanisms import tased
from simulation.mechanisms.demand import sector_demands, shift_market
from simulation.mechanisms.diversification import choose_sectors, join_sector, new_knowledge
from simulation.mechanisms.cluster import project_value as cluster_value
from simulation.mechanisms.market import firm_accounts
from simulation.mechanisms.network import link, tie_capacity
from simulation.sectors import SectorTotals, reference_productivity, sector_totals
from simulation.state import ORIGINS

if TYPE_CHECKING:
    from simulation.model import ClusterModel


# --------------------------------------------------------------------------- rules


def entry_npv(quarterly_profits: np.ndarray, discount_rate: float):
    """NPV = sum_q pi_q / (1 + r)^q, q = 1..H (over the last axis)."""
    q = np.arange(1, np.shape(quarterly_profits)[-1] + 1)
    return (np.asarray(quarterly_profits) / (1.0 + discount_rate) ** q).sum(axis=-1)


def arrival_rate(base: float, effects: dict[str, float], levels: dict[str, float]) -> float:
    """Poisson rate of potential investors: lambda = lambda0 * exp(sum_k beta_k x_k)."""
    return base * math.exp(sum(effects[k] * levels[k] for k in effects))


def poisson_quantile(u: float, rate: float) -> int:
    """The Poisson(rate) count at cumulative probability u (inverse CDF): a higher rate never
    gives fewer arrivals for the same u, so paired runs share their first arrivals."""
    k, pmf = 0, math.exp(-rate)
    cdf = pmf
    while cdf < u and pmf > 0 or k < rate and cdf < u:
        k += 1
        pmf *= rate / k
        cdf += pmf
    return k


def lognormal_with_mean(z: np.ndarray, mean: float, median: float) -> np.ndarray:
    """Log-normal draws (from standard normals z) with the given mean and median:
    sigma^2 = 2 ln(mean / median)."""
    sigma = math.sqrt(2.0 * math.log(max(mean / median, 1.0)))
    return median * np.exp(sigma * z)


class Entry:
    """One quarter's entry: the town as would-be entrants see it, and whom they can hire."""

    def __init__(self, model: ClusterModel, rng: np.random.Generator) -> None:
        f = model.firms
        self.model, self.rng = model, rng
        self.view: SectorTotals = sector_totals(
            f, model.sectors, reference_productivity(model.cfg, model.sectors, model.time_step))
        self.demand = sector_demands(model, self.view.market_productivity,
                                     self.view.employment.sum())
        self.employees = f.employees.copy()  # incumbents, for spinoff parents
        self.capacity = self.view.capacity.copy()  # what every newcomer judges against
        self.plots = int(model.site.serviced_plots) - int(f.plot.sum())
        self.schedules = {resident: tased.schedule(model, resident) for resident in (False, True)}

    def npv(self, sector: np.ndarray, jobs: np.ndarray, productivity: np.ndarray,
            capex: np.ndarray, resident: np.ndarray, cluster: np.ndarray | float = 0.0
            ) -> np.ndarray:
        """NPV of after-tax profits over the entry horizon, at today's demand and wage, for
        projects (arrays of equal length), plus `cluster`, what joining the cluster is worth
        to each a quarter."""
        m, cfg = self.model, self.model.cfg
        s = m.sectors
        capacity = productivity * jobs
        demand = self.demand[sector] + np.where(s.local_services[sector], 0.0,
                                                cfg.firms.market_access * capacity)
        sales = np.minimum(1.0, demand / (self.capacity[sector] + capacity)) * capacity
        contrib, profit_tax, prop = (np.where(resident[:, None], yes, no) for yes, no in
                                     zip(self.schedules[True], self.schedules[False]))
        col = (slice(None), None)
        other = cfg.firms.overhead + prop * capex[col] + (s.rd_mean[sector] * sales)[col]
        profits = firm_accounts(sales[col], jobs[col], m.town.wage,
                                m.market.input_share[sector][col], contrib, 0.0, other,
                                profit_tax)[2]
        return entry_npv(profits + np.asarray(cluster)[..., None], cfg.entry.discount_rate)

    def productivity(self, sectors: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        disp = self.model.cfg.firms.productivity_dispersion
        z = self.rng.standard_normal(len(sectors)) if z is None else z
        return self.view.mean_productivity[sectors] * np.exp(disp * z)

    def enter(self, sector: int, jobs: int, productivity: float, knowledge: np.ndarray,
              origin: str, capex: float, owner: str, **state) -> int:
        """Create an entrant with the capital its owner (`outside` investors or local
        `households`) brings; it hires what the unemployed pool allows (callers check it is
        not empty). Returns its row."""
        m, rng = self.model, self.rng
        hired = min(jobs, m.town.unemployed)
        m.town.unemployed -= hired
        rd = m.sectors.rd_mean[sector] * rng.lognormal(0.0, m.cfg.firms.rd_dispersion)
        threshold = rng.uniform(m.cfg.cluster.threshold_min, 1.0)
        net_worth = m.cfg.firms.initial_net_worth * productivity * max(1, jobs)
        m.accounts.pay(owner, "firms", net_worth, "entrants' equity")
        if owner == "households":
            m.town.household_wealth -= net_worth
        firm = Firm(m, origin, sector=sector, employees=hired, productivity=productivity,
                    knowledge=knowledge, rd_intensity=rd, net_worth=net_worth,
                    initial_net_worth=net_worth, capex=capex, investment=capex,
                    project_capex=capex, joining_threshold=threshold, planned_jobs=jobs,
                    ramp_from=m.time_step, **state)
        row = firm.row
        join_sector(m, row, productivity * jobs, self.view)
        shift_market(m, sector, productivity * jobs)
        m.counts.entries += 1
        return row

    # ------------------------------------------------------------------ investors

    def investors(self) -> None:
        """This quarter's potential investors: the first k of a list of projects drawn from a
        stream of their own (a project keeps its place whatever the arrival rate), in sectors
        the authorities court more often (principle 1), judged together; those that invest
        come in, would-be cluster members and courted sectors first (priority for serviced
        plots), while the unemployed pool lasts."""
        m, e = self.model, self.model.cfg.entry
        f, s = m.firms, m.sectors
        levels = {
            "tased": float(m.tased_active()),
            "land": float(self.plots > 0),
            "urban": m.town.urban_quality - m.cfg.town.urban_quality,
            "suppliers": math.log1p(s.supplier[f.sector].sum() / e.supplier_base_scale),
        }
        effects = {"tased": e.attract_tased, "land": e.attract_land, "urban": e.attract_urban,
                   "suppliers": e.attract_suppliers}
        projects = m.stream("investor projects")
        base = e.investor_rate * m.town.population / 100_000  # the represented people
        count = poisson_quantile(projects.random(), arrival_rate(base, effects, levels))
        if count == 0:
            return
        k = m.cfg.network.knowledge_dims
        z = ndtri(projects.random((count, 5 + k)))  # one row of standard normals a project
        u = ndtr(z)
        allowed = ~s.local_services & s.open_to_entry
        courted = m.region.courting(allowed)
        sector = choose_sectors(m, self.view, None, allowed, np.zeros(count, dtype=bool),
                                uniforms=u[:, 0], attraction=courted)
        jobs = np.maximum(1, np.round(lognormal_with_mean(
            z[:, 1], e.investor_jobs_mean, e.investor_jobs_median))).astype(np.int64)
        capex_per_job = e.capex_per_job * np.exp(e.capex_dispersion * z[:, 2])
        a = self.productivity(sector, z[:, 3])
        footloose = u[:, 4] < e.footloose_share
        knowledge = np.clip(s.centre[sector] + m.cfg.network.knowledge_noise * z[:, 5:], 0, 1)
        cluster = cluster_value(m, sector, jobs, a)
        counted_on_plot = self.plots > 0
        enters, capex, resident = self.judge_investors(sector, jobs, a, capex_per_job,
                                                       counted_on_plot, cluster)
        order = np.flatnonzero(enters)
        first = (cluster[order] > 0) | (courted[sector[order]] > 1)
        order = order[np.argsort(~first, kind="stable")]  # priority for serviced plots
        for i in order:
            if m.town.unemployed <= 0:
                return
            plot = self.plots > 0
            one = slice(i, i + 1)
            ok, cost, eligible = (x[0] for x in self.judge_investors(
                sector[one], jobs[one], a[one], capex_per_job[one], plot, cluster[one])) \
                if plot != counted_on_plot else (True, capex[i], resident[i])
            if ok:
                self.enter(int(sector[i]), int(jobs[i]), float(a[i]), knowledge[i], "investor",
                           float(cost), "outside", footloose=bool(footloose[i]), plot=plot,
                           applied_at=m.time_step if eligible else -1,
                           project=m.time_step * 10_000 + int(i))
                self.plots -= int(plot)

    def judge_investors(self, sector, jobs, a, capex_per_job, plot: bool, cluster):
        """(enters, capex, resident) of investors' projects: the NPV with the TASED benefits
        they would get and the cluster's value to them, against capex (with the land premium
        if no plot) times the hurdle."""
        m, e = self.model, self.model.cfg.entry
        capex = capex_per_job * jobs + (0.0 if plot else e.land_premium)
        resident = np.broadcast_to(m.tased_active() & tased.is_eligible(
            capex, jobs, m.sectors.tased_eligible[sector], False, 0.0, m.cfg.tased), sector.shape)
        npv = self.npv(sector, jobs, a, capex, resident, cluster)
        return npv >= e.hurdle * capex, capex, resident

    # ------------------------------------------------------------------ new projects

    def expansions(self) -> None:
        """Existing firms' new projects: a profitable firm with a project idea (drawn like an
        investor's project, at its own productivity) carries it out if its NPV, with the TASED
        benefits the project would bring, clears the hurdle. It adds the jobs and capacity,
        its capital is financed from outside (owners, banks), and a project that meets the
        legal criteria applies for residency (granted only if the firm keeps its former
        headcount)."""
        m, e, rng = self.model, self.model.cfg.entry, self.rng
        f, s = m.firms, m.sectors
        n = len(self.employees)  # incumbents of the quarter's start
        idea = rng.random(n) < e.expansion_rate
        rows = np.flatnonzero(idea & ~f.is_cfe[:n] & (f.after_tax[:n] > 0)
                              & (f.resident_since[:n] < 0) & (f.applied_at[:n] < 0)
                              & (f.net_worth[:n] > 0))
        if not len(rows):
            return
        z = rng.standard_normal((len(rows), 2))
        jobs = np.maximum(1, np.round(lognormal_with_mean(
            z[:, 0], e.investor_jobs_mean, e.investor_jobs_median))).astype(np.int64)
        capex = e.capex_per_job * np.exp(e.capex_dispersion * z[:, 1]) * jobs
        sector, a = f.sector[rows], f.productivity[rows]
        resident = m.tased_active() & tased.is_eligible(
            capex, jobs, s.tased_eligible[sector], f.cfe_affiliated[rows], 0.0, m.cfg.tased)
        go = self.npv(sector, jobs, a, capex, np.broadcast_to(resident, rows.shape)) \
            >= e.hurdle * capex
        for row, new, cost, applies in zip(rows[go], jobs[go], capex[go], resident[go]):
            f.headcount_before[row] = f.employees[row]
            f.planned_jobs[row] = f.employees[row] + new
            f.ramp_from[row] = m.time_step
            f.capex[row] += cost
            f.investment[row] += cost
            f.project_capex[row] = cost
            f.expanded[row] = True
            f.applied_at[row] = m.time_step if applies else -1
            join_sector(m, int(row), float(f.productivity[row] * new), self.view)
            shift_market(m, int(f.sector[row]), float(f.productivity[row] * new))
            m.counts.new_projects += 1

    # ------------------------------------------------------------------ spinoffs

    def spinoffs(self) -> None:
        m, e, rng = self.model, self.model.cfg.entry, self.rng
        f, s = m.firms, m.sectors
        employed = int(self.employees.sum()) + m.town.public_jobs
        count = int(rng.poisson(e.spinoff_rate * employed / 10_000
                                + e.layoff_spinoff_rate * m.cfe_state.last_layoffs))
        # parents in proportion to their employees
        cumulative = np.cumsum(self.employees)
        room = tie_capacity(m) - m.ties.degree(len(f))  # free tie slots
        parents = np.searchsorted(cumulative, rng.random(count) * cumulative[-1], side="right")
        widen = (f.university[parents] >= 0) | f.member[parents]
        sector = choose_sectors(m, self.view, rng, s.open_to_entry, widen, f.sector[parents])
        knowledge = new_knowledge(m, rng, sector, f.knowledge[parents],
                                  e.spinoff_knowledge_share)
        for row in self.judged_spinoffs(sector, knowledge, "spinoff", f.uid[parents]):
            parent = parents[row[1]]
            if room[parent] > 0:
                link(m, parent, row[0])
                room[parent] -= 1
        allowed = s.skill_intensive & s.open_to_entry
        for u in m.universities:
            count = int(rng.poisson(u.spinoff_rate))
            if count == 0 or not allowed.any():
                continue
            sector = choose_sectors(m, self.view, rng, allowed, np.ones(count, dtype=bool))
            # a university spinoff starts closer to the university's frontier
            knowledge = np.clip(new_knowledge(m, rng, sector)
                                + e.university_knowledge_pull * (u.knowledge - 0.5), 0.0, 1.0)
            for row, _ in self.judged_spinoffs(sector, knowledge, "university_spinoff",
                                               np.full(count, -1)):
                if u.has_room():
                    f.university[row] = u.index

    def judged_spinoffs(self, sector: np.ndarray, knowledge: np.ndarray, origin: str,
                        parent_ids: np.ndarray) -> list[tuple[int, int]]:
        """Spinoffs whose NPV covers their capex enter; returns (row, index) of each."""
        e = self.model.cfg.entry
        jobs = np.full(len(sector), e.spinoff_jobs)
        a = self.productivity(sector)
        capex = np.full(len(sector), e.capex_per_job * e.spinoff_jobs * e.spinoff_capex_share)
        enters = self.npv(sector, jobs, a, capex, np.zeros(len(sector), dtype=bool)) >= capex
        out = []
        for i in np.flatnonzero(enters):
            if self.model.town.unemployed <= 0:
                break
            out.append((self.enter(int(sector[i]), int(jobs[i]), float(a[i]), knowledge[i],
                                   origin, float(capex[i]), "households",
                                   parent=int(parent_ids[i])), int(i)))
        return out

    # ------------------------------------------------------------------ outsourcing

    def outsource(self) -> None:
        """Principle 5: the CFE spins off non-core units as independent linked suppliers."""
        m, rng = self.model, self.rng
        c, f, s, state = m.cfg.cfe, m.firms, m.sectors, m.cfe_state
        # units outsourced long enough ago are sold: no longer the CFE's affiliates
        sold = (f.origin == ORIGINS.index("outsourced")) & \
            (m.time_step - f.born >= c.divest_after_steps)
        f.cfe_affiliated[sold] = False
        limit = c.outsourcing_max_share * state.initial_jobs
        if c.outsourcing_rate <= 0 or state.outsourced_jobs >= limit:
            return
        expected = c.outsourcing_rate / 4.0 * state.initial_jobs / c.outsourced_unit_size
        allowed = s.supplier & s.open_to_entry
        for _ in range(int(rng.poisson(expected))):
            size = min(c.outsourced_unit_size, int(limit - state.outsourced_jobs),
                       int(f.employees[0]) - 1)
            if size <= 0 or not allowed.any():
                return
            sector = int(choose_sectors(m, self.view, rng, allowed, np.zeros(1, dtype=bool),
                                        np.array([s.cfe]))[0])
            a = float(self.view.mean_productivity[sector])
            value = a * size
            cfe_sales = float(f.sales[0])
            # the CFE keeps its output and competitiveness: it buys back the unit's work, so
            # each of its remaining workers stands for more output (output_factor)
            f.output_factor[0] *= f.employees[0] / (f.employees[0] - size)
            f.employees[0] -= size
            state.extra_input_share += value / cfe_sales if cfe_sales > 0 else 0.0
            state.outsourced_jobs += size
            knowledge = new_knowledge(m, rng, sector, f.knowledge[0],
                                      c.outsourced_knowledge_share)[0]
            rd = s.rd_mean[sector] * rng.lognormal(0.0, m.cfg.firms.rd_dispersion)
            threshold = rng.uniform(m.cfg.cluster.threshold_min, 1.0)
            # the unit takes its equipment and working capital from the CFE
            net_worth = m.cfg.firms.initial_net_worth * value
            capital = min(float(f.capex[0]), m.cfg.firms.capital_per_worker * size)
            f.net_worth[0] -= net_worth
            f.cum_transfers[0] -= net_worth
            f.capex[0] -= capital
            m.accounts.pay("firms", "firms", net_worth, "outsourced units' capital")
            firm = Firm(m, "outsourced", sector=sector, employees=size, productivity=a,
                        knowledge=knowledge, rd_intensity=rd, net_worth=net_worth,
                        initial_net_worth=net_worth, parent=int(f.uid[0]), capex=capital,
                        investment=capital, joining_threshold=threshold, planned_jobs=size,
                        cfe_affiliated=True, ramp_from=m.time_step)
            join_sector(m, firm.row, value, self.view)
            m.counts.entries += 1
            link(m, 0, firm.row)


def enter(model: ClusterModel, rng: np.random.Generator) -> None:
    """Stage 3: investors, existing firms' new projects, spinoffs, the CFE's outsourcing."""
    stage = Entry(model, rng)
    stage.investors()
    stage.expansions()
    stage.spinoffs()
    stage.outsource()
