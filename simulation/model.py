"""ClusterModel: a mono-town with a TASED regime and a (possible) industrial cluster.

`step` reads as the schedule of docs/ODD.md section 1.3; each stage is a method below, and each
decision calls a rule from `rules.py`.
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import numpy as np

from simulation import metrics, rules
from simulation.agents import (ClusterManagementCompany, FederalAuthority, Firm,
                               MunicipalAuthority, RegionalAuthority, Tie, University)
from simulation.config import ClusterFounder, ModelConfig, ProcurementRule, validate
from simulation.fiscal import Ledger


class ClusterModel(mesa.Model):
    """Build with a validated `ModelConfig`, or by preset names for interactive use.

    From the presets: ``ClusterModel(town=..., scenario=..., seed=..., overrides={...})``;
    then ``model.run()`` and read ``model.records``.
    """

    def __init__(self, cfg: ModelConfig | None = None, *, town: str = "sokol",
                 scenario: str = "baseline", seed: int | None = None,
                 overrides: dict[str, Any] | None = None) -> None:
        if cfg is None:
            from simulation.presets import load_config

            extra = dict(overrides or {})
            if seed is not None:
                extra["seed"] = seed
            cfg = load_config(town=town, scenario=scenario, overrides=extra)
        else:
            validate(cfg)
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        # Each stage of each step draws from its own stream, derived from the seed, so runs of
        # different scenarios on one seed meet the same demand path and the same draws for the
        # same firms as far as their histories allow (common random numbers).
        self._stream_key = int(self.rng.integers(2**63))
        self.draw = self.rng  # the set-up draws from the model's generator
        self.time_step = 0
        self.ledger = Ledger()
        self.firms: list[Firm] = []
        self.cmc: ClusterManagementCompany | None = None
        self.cfe: Firm | None = None
        self.introductions: dict[Firm, list[Firm]] = {}
        self.records: list[dict[str, float]] = []
        self.last_cfe_layoffs = 0
        self.subsidies_received = 0.0  # by firms, for the fiscal invariant
        self.cmc_public_income = 0.0  # by every CMC there has been
        self._schedules: dict[tuple[bool, int], tuple[np.ndarray, ...]] = {}
        self.firm_records: list[dict[str, Any]] = []
        self._reset_counters()
        self._build_sectors()
        self._build_town()
        self._build_firms()
        self._calibrate_markets()
        self._build_ties()
        self.universities = [University(self, u.name, u.knowledge, u.capacity,
                                        u.graduates_per_step, u.spinoff_rate)
                             for u in cfg.town.universities]
        self.authorities = [FederalAuthority(self), RegionalAuthority(self),
                            MunicipalAuthority(self)]
        self.priority = np.zeros(self.n_sectors, dtype=bool)
        self.collect()

    # ================================================================== the schedule

    STAGES = (
        "update_environment",   # 1 demand moves, shocks apply
        "authorities_act",      # 2 subsidies, infrastructure, residency, cluster initiative
        "entry",                # 3 investors, spinoffs, outsourced units
        "produce_and_trade",    # 4 demand split, procurement, accounts, taxes
        "labour_market",        # 5 hiring, firing, wages
        "networking",           # 6 partner search, joint projects, tie decay
        "learning",             # 7 spillovers, innovation, imitation, sector moves
        "cluster_membership",   # 8 join, leave, found, dissolve
        "exit_firms",           # 9 bankrupt and footloose firms leave
        "update_town",          # 10 migration, graduates, skills
        "collect",              # 11 data collection
    )

    def step(self) -> None:
        """One quarter: the stages of ODD section 1.3, in order."""
        self.time_step += 1
        self.ledger.new_step()
        self._reset_counters()
        for number, stage in enumerate(self.STAGES, start=1):
            self.draw = self.stream(number)
            getattr(self, stage)()

    def stream(self, stage: int) -> np.random.Generator:
        """The random stream of one stage in the current step (derived from the seed)."""
        return np.random.default_rng([self._stream_key, stage, self.time_step])

    def run(self, steps: int | None = None) -> None:
        for _ in range(self.cfg.steps if steps is None else steps):
            self.step()

    # ================================================================== set-up

    def _reset_counters(self) -> None:
        self.entries = self.exits = self.innovations = self.adoptions = 0
        self.cfe_layoffs = self.out_migrants = self.in_migrants = self.unfilled = 0
        self.sector_moves = self.founding_events = 0

    def _build_sectors(self) -> None:
        town = self.cfg.town
        secs = town.sectors
        self.sector_names = [s.name for s in secs]
        self.n_sectors = n = len(secs)
        self.sector_kind = np.array([s.kind.value for s in secs])
        self.national_share = np.array([s.national_share for s in secs])
        self.skill_need = np.array([s.skill_need for s in secs])
        self.eligible = np.array([s.tased_eligible for s in secs])
        self.open_to_entry = np.array([s.open_to_entry for s in secs])
        self.supplier_sector = np.isin(self.sector_kind, ["related", "supporting"])
        self.skill_intensive = self.skill_need >= self.cfg.firms.skill_intensive
        self.cfe_sector = self.sector_names.index(town.cfe_sector)
        rel = np.full((n, n), town.relatedness_base)
        same = self.sector_kind[:, None] == self.sector_kind[None, :]
        rel[same] = town.relatedness_same_kind
        for i, s in enumerate(secs):
            for name in s.related:
                j = self.sector_names.index(name)
                rel[i, j] = rel[j, i] = town.relatedness_linked
        np.fill_diagonal(rel, 1.0)
        self.relatedness = rel
        # knowledge: related sectors sit near the core sector's centre (cognitive proximity)
        k = self.cfg.network.knowledge_dims
        core = self.rng.uniform(0.35, 0.65, size=k)
        directions = self.rng.normal(size=(n, k))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        spread = self.cfg.network.knowledge_spread * (1.0 - rel[:, self.cfe_sector])
        self.sector_centre = np.clip(core + spread[:, None] * directions, 0.0, 1.0)
        self.demand_x = np.zeros(n)

    def _build_town(self) -> None:
        town = self.cfg.town
        self.population = float(town.population)
        self.labour_force = int(round(town.population * town.participation))
        self.public_jobs = int(round(self.labour_force * town.public_jobs_share))
        self.skilled = int(round(self.labour_force * town.skilled_share))
        self.wage = town.wage
        self.urban_quality = town.urban_quality
        self.serviced_plots = float(town.serviced_plots)
        self.plot_pipeline: list[tuple[int, float]] = []

    def _new_knowledge(self, sector: int, parent: Firm | None = None,
                       share: float = 0.0) -> np.ndarray:
        net = self.cfg.network
        own = self.sector_centre[sector] + self.draw.normal(0.0, net.knowledge_noise,
                                                            net.knowledge_dims)
        if parent is not None:
            own = share * np.asarray(parent.knowledge) + (1.0 - share) * own
        return tuple(np.clip(own, 0.0, 1.0).tolist())

    def _rd_intensity(self, sector: int) -> float:
        """A firm's R&D intensity: its sector's mean times a log-normal draw."""
        return float(self._rd_intensity_mean(sector)
                     * self.draw.lognormal(0.0, self.cfg.firms.rd_dispersion))

    def _threshold(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.cfg.cluster.threshold_min, 1.0))

    def _build_firms(self) -> None:
        cfg, town = self.cfg, self.cfg.town
        firm_jobs = self.labour_force - self.public_jobs - int(round(self.labour_force * town.unemployment))
        total_jobs = firm_jobs + self.public_jobs
        cfe_jobs = int(round(town.cfe_employment_share * total_jobs))
        other_jobs = firm_jobs - cfe_jobs
        if other_jobs <= 0:
            from simulation.config import ConfigError
            raise ConfigError("town.cfe_employment_share: leaves no jobs for other firms; "
                              "lower it or public_jobs_share")
        counts = [s.initial_firms for s in town.sectors]
        n_other = sum(counts)
        sectors = np.repeat(np.arange(self.n_sectors), counts)
        self.rng.shuffle(sectors)
        raw = town.firm_size_min * (1.0 + self.rng.pareto(town.firm_size_alpha, n_other))
        cap = max(1, min(cfe_jobs // 2, town.firm_size_max))
        sizes = rules.allocate_sizes(raw, other_jobs, town.firm_size_min, cap)
        disp = cfg.firms.productivity_dispersion
        self.initial_mean_productivity = np.array([s.productivity for s in town.sectors])
        cfe_a = town.cfe_productivity * self.initial_mean_productivity[self.cfe_sector]
        self.cfe = Firm(self, self.cfe_sector, cfe_jobs, cfe_a,
                        self._new_knowledge(self.cfe_sector), cfg.cfe.rd_intensity,
                        cfg.firms.initial_net_worth * cfe_a * cfe_jobs, "cfe", is_cfe=True)
        self.cfe.capex = cfg.firms.capital_per_worker * cfe_jobs
        self.firms.append(self.cfe)
        for sector, size in zip(sectors, sizes):
            sector = int(sector)
            a = self.initial_mean_productivity[sector] * float(self.rng.lognormal(-disp**2 / 2, disp))
            firm = Firm(self, sector, int(max(1, size)), a, self._new_knowledge(sector),
                        self._rd_intensity(sector), cfg.firms.initial_net_worth * a * size,
                        "incumbent", threshold=self._threshold(self.rng))
            firm.capex = cfg.firms.capital_per_worker * firm.employees
            self.firms.append(firm)
        for f in self.firms:
            f.market_weight = f.productivity * f.employees  # initial shares = capacity shares
        self.initial_cfe_jobs = cfe_jobs
        self.outsourced_jobs = 0
        self.cfe_extra_input = 0.0  # input share added by outsourcing (principle 5)

    def _calibrate_markets(self) -> None:
        """Input shares give an average firm the target margin; demand equals capacity plus room."""
        cfg = self.cfg
        view = self.market_view()
        emp, mean_a, cap = view["emp"], view["mean_a"], view["cap"]
        self.base_mean_productivity = mean_a.copy()
        self.input_share = np.array([
            rules.calibrated_input_share(mean_a[s], self.wage, cfg.taxes.contributions,
                                         cfg.firms.target_margin, self._rd_intensity_mean(s))
            for s in range(self.n_sectors)])
        room = np.array([s.market_room for s in cfg.town.sectors])
        room_abs = np.array([s.market_room_abs for s in cfg.town.sectors])
        # the CFE's local procurement is part of its suppliers' sales: take it out of their market
        procurement = self._initial_procurement_by_sector()
        self.demand_base = np.maximum(0.0, cap * (1.0 + room) - procurement) + self.money(room_abs)
        self.local = self.sector_kind == "local_services"
        wage_bill = self.wage * (emp.sum() + self.public_jobs)
        self.local_propensity = np.where(self.local, self.demand_base / wage_bill, 0.0)
        self.demand = self.demand_base.copy()

    def _initial_procurement_by_sector(self) -> np.ndarray:
        self._pick_initial_suppliers()
        total = self.cfg.cfe.local_procurement_share * self.input_share[self.cfe_sector] \
            * self.cfe.productivity * self.cfe.employees
        sup = [f for f in self.cfe.ties]
        cap = np.array([f.productivity * f.employees for f in sup])
        out = np.zeros(self.n_sectors)
        if len(sup):
            np.add.at(out, [f.sector for f in sup], total * cap / cap.sum())
        return out

    def _pick_initial_suppliers(self) -> None:
        pool = [f for f in self.firms[1:] if self.supplier_sector[f.sector]]
        n = min(self.cfg.town.cfe_suppliers, len(pool))
        if n == 0:
            return
        w = np.array([f.employees for f in pool], dtype=float)
        chosen = self.rng.choice(len(pool), size=n, replace=False, p=w / w.sum())
        for i in sorted(chosen):
            self.link(self.cfe, pool[i], supply=True)

    def _build_ties(self) -> None:
        """A few ties by relatedness: pick a firm, a sector by relatedness, a firm in it."""
        firms = self.firms
        n_pairs = int(self.cfg.network.initial_related_ties * len(firms) / 2)
        by_sector: list[list[Firm]] = [[] for _ in range(self.n_sectors)]
        for f in firms[1:]:
            by_sector[f.sector].append(f)
        counts = np.array([len(b) for b in by_sector], dtype=float)
        if len(firms) < 2:
            return
        for _ in range(n_pairs):
            a = firms[1 + int(self.rng.integers(len(firms) - 1))]
            w = self.relatedness[a.sector] * counts
            s = int(self.rng.choice(self.n_sectors, p=w / w.sum()))
            b = by_sector[s][int(self.rng.integers(len(by_sector[s])))]
            if b is not a and b not in a.ties and a.has_room() and b.has_room():
                self.link(a, b)

    # ================================================================== helpers

    def money(self, amount):
        """Public budgets are set for the whole real town; the model spends `scale` of them
        (a number or an array)."""
        return amount * self.cfg.town.scale

    def tased_active(self) -> bool:
        t = self.cfg.tased
        end = t.start_step + t.duration_steps + t.extension_steps
        return t.enabled and t.start_step <= self.time_step < end

    def cluster_policy_active(self) -> bool:
        c = self.cfg.cluster
        return c.founder != ClusterFounder.nobody and c.start_step <= self.time_step

    def support_active(self) -> bool:
        c = self.cfg.cluster
        return self.cluster_policy_active() and self.time_step < c.support_end_step

    def _array(self, attr: str, dtype: type = float) -> np.ndarray:
        return np.fromiter((getattr(f, attr) for f in self.firms), dtype, len(self.firms))

    def market_view(self) -> dict[str, np.ndarray]:
        """Per-firm arrays and per-sector employment, capacity and mean productivity."""
        firm_emp = self._array("employees")
        sec = self._array("sector", int)
        a = self._array("productivity")
        cap = np.bincount(sec, weights=firm_emp * a, minlength=self.n_sectors)
        emp = np.bincount(sec, weights=firm_emp, minlength=self.n_sectors)
        mean_a = np.divide(cap, emp, out=self.reference_productivity(), where=emp > 0)
        weight = np.bincount(sec, weights=self._array("market_weight"), minlength=self.n_sectors)
        return {"cap": cap, "mean_a": mean_a, "emp": emp, "firm_emp": firm_emp, "sector": sec,
                "productivity": a, "weight": weight}

    def sector_employment(self) -> np.ndarray:
        return self.market_view()["emp"]

    def sector_mean_productivity(self) -> np.ndarray:
        """Employment-weighted mean productivity; the reference level where a sector is empty."""
        return self.market_view()["mean_a"]

    def reference_productivity(self) -> np.ndarray:
        """Configured sector productivity grown at the national rate (for empty sectors)."""
        g = (1.0 + self.cfg.firms.national_productivity_growth) ** self.time_step
        return np.array([s.productivity for s in self.cfg.town.sectors]) * g

    def national_productivity(self) -> np.ndarray:
        ratio = np.array([s.national_productivity for s in self.cfg.town.sectors])
        return ratio * self.reference_productivity()

    def firm_employment(self) -> int:
        return int(sum(f.employees for f in self.firms))

    def unemployed(self) -> int:
        return self.labour_force - self.public_jobs - self.firm_employment()

    def link(self, a: Firm, b: Firm, supply: bool = False) -> None:
        """Create a tie; a tie of the CFE with a related or supporting firm is a supply tie."""
        other = b if a.is_cfe else a
        if (a.is_cfe or b.is_cfe) and self.supplier_sector[other.sector]:
            supply = True
        tie = Tie(self.time_step, supply, weight=other.productivity * other.employees)
        a.ties[b] = tie
        b.ties[a] = tie

    def unlink(self, a: Firm, b: Firm) -> None:
        a.ties.pop(b, None)
        b.ties.pop(a, None)
        a.past_partners.append(b)
        b.past_partners.append(a)
        keep = self.cfg.network.memory
        del a.past_partners[:len(a.past_partners) - keep], b.past_partners[:len(b.past_partners) - keep]

    # ================================================================== 1 environment

    def update_environment(self) -> None:
        secs = self.cfg.town.sectors
        eps = self.draw.normal(size=self.n_sectors)
        sh = self.cfg.shock
        shocked = sh.step >= 0 and sh.step <= self.time_step < sh.step + sh.duration_steps
        for s, sc in enumerate(secs):
            self.demand_x[s] = rules.demand_shock(self.demand_x[s], sc.demand_persistence,
                                                  sc.demand_volatility, eps[s])
            shock = sh.size if shocked and s == self.cfe_sector else 0.0
            self.demand[s] = rules.external_demand(self.demand_base[s], sc.demand_trend,
                                                   self.time_step, self.demand_x[s], shock)

    # ================================================================== 2 authorities

    def authorities_act(self) -> None:
        if not self.tased_active():
            self._end_residencies()
        self.complete_plots()
        for authority in self.authorities:
            authority.act()
        self.cluster_initiative()
        self.pay_cluster_money()

    def _end_residencies(self) -> None:
        """Residency exists only while the regime runs; footloose residents reconsider."""
        for f in self.firms:
            if f.resident_since is not None:
                self._footloose_check(f)
                f.resident_since = None
            f.applied_at = None

    def _footloose_check(self, f: Firm) -> None:
        """A footloose resident leaves when its last quarter would have lost money at the rates
        that apply once the current benefits end (checked at each change and at the end)."""
        if not f.footloose:
            return
        t, tx = self.cfg.tased, self.cfg.taxes
        age = f.resident_age()
        last = None if age is None else max(0, age - 1)  # the rates of the last quarter
        later = None if age is None or age >= t.benefit_steps or not self.tased_active() else age
        extra = self.wage * f.employees * (rules.contribution_rate(later, t, tx)
                                           - rules.contribution_rate(last, t, tx)) \
            + f.capex * (rules.property_rate(later, t, tx) - rules.property_rate(last, t, tx))
        profit = f.profit - extra
        after = profit - sum(rules.profit_tax_rates(later, t, tx)) * max(profit, 0.0)
        if after < 0:
            f.leaving = True

    def invest_in_site(self) -> None:
        """Monotown Fund co-finances serviced plots ahead of demand (ODD 4.8)."""
        t = self.cfg.tased
        used = sum(1 for f in self.firms if f.plot)
        planned = self.serviced_plots - used + sum(p for _, p in self.plot_pipeline)
        if planned >= t.plot_buffer:
            return
        amount = self.money(t.infrastructure_per_step)
        self.ledger.spend("federal", "infrastructure", amount * t.fund_share)
        self.ledger.spend("regional", "infrastructure", amount * (1.0 - t.fund_share))
        self.plot_pipeline.append((self.time_step + t.construction_lag_steps,
                                   amount / t.plot_cost))

    def complete_plots(self) -> None:
        """Plots under construction are delivered after the lag, whether or not the regime runs."""
        while self.plot_pipeline and self.plot_pipeline[0][0] <= self.time_step:
            self.serviced_plots += self.plot_pipeline.pop(0)[1]

    def free_plots(self) -> int:
        return int(self.serviced_plots) - sum(1 for f in self.firms if f.plot)

    def decide_residency(self) -> None:
        """Municipal decision after the administrative delay, against the legal criteria."""
        delay = self.cfg.tased.admin_delay_steps
        for f in self.firms:
            if f.applied_at is not None and f.applied_at + delay <= self.time_step:
                f.applied_at = None
                if self.tased_active() and rules.is_tased_eligible(
                        f.capex, f.employees, bool(self.eligible[f.sector]), f.cfe_affiliated,
                        f.cfe_revenue_share, self.cfg.tased):
                    f.resident_since = self.time_step
            age = f.resident_age()
            if age is not None and age in (self.cfg.tased.first_period_steps,
                                           self.cfg.tased.benefit_steps):
                self._footloose_check(f)
                if age >= self.cfg.tased.benefit_steps:
                    f.resident_since = None  # all benefits used up

    def cluster_initiative(self) -> None:
        """Authorities found the CMC at the start step (and again while support lasts)."""
        c = self.cfg.cluster
        if c.founder == ClusterFounder.authorities and self.cmc is None and self.support_active():
            self._found_cmc()

    def _found_cmc(self) -> None:
        """A new CMC; the CFE's current suppliers are designated at their present capacity."""
        c = self.cfg.cluster
        self.cmc = ClusterManagementCompany(self, c.founder, c.management_quality)
        self.founding_events += 1
        for f, tie in self.cfe.ties.items():
            tie.weight = f.productivity * f.employees

    def pay_cluster_money(self) -> None:
        """CMC grant or fee match, then membership and joint-project subsidies, pro rata."""
        if self.cmc is None:
            return
        c = self.cfg.cluster
        fed = c.federal_subsidy_share
        due = self.cmc.public_funding_due(self.cmc.fees)
        if due > 0:
            self.ledger.spend("federal", "cmc_funding", due * fed)
            self.ledger.spend("regional", "cmc_funding", due * (1.0 - fed))
            self.cmc.budget += due
            self.cmc_public_income += due
        if not self.support_active() or c.subsidy_budget <= 0:
            return
        budget = self.money(c.subsidy_budget)
        eligible = sorted((f for f in self.cmc.members if self.priority[f.sector]),
                          key=lambda f: f.unique_id)
        if not eligible:
            return
        claim = c.membership_subsidy_rate * self.cmc.fee
        rate = min(1.0, budget / (claim * len(eligible))) if claim > 0 else 0.0
        paid_fee = 0.0
        for f in eligible:
            f.receive_subsidy(claim * rate)
            paid_fee += claim * rate
        self.ledger.spend("federal", "membership_subsidy", paid_fee * fed)
        self.ledger.spend("regional", "membership_subsidy", paid_fee * (1.0 - fed))
        left = budget - paid_fee
        claims = [(f, c.joint_project_rate * f.rd_spend) for f in eligible
                  if any(p.member for p in f.ties)]
        total = sum(x for _, x in claims)
        if total <= 0 or left <= 0:
            return
        rate = min(1.0, left / total)
        paid = 0.0
        for f, claim in claims:
            f.receive_subsidy(claim * rate)
            paid += claim * rate
        self.ledger.spend("federal", "joint_project_subsidy", paid * fed)
        self.ledger.spend("regional", "joint_project_subsidy", paid * (1.0 - fed))

    # ================================================================== 3 entry

    def entry(self) -> None:
        e = self.cfg.entry
        # one view of the town per stage: entrants decide on the state at the stage's start
        self._market = self.market_view()
        self._pool = self.unemployed()
        self._plots = self.free_plots()
        levels = {
            "tased": float(self.tased_active()),
            "land": float(self._plots > 0),
            "urban": self.urban_quality - self.cfg.town.urban_quality,
            "cluster": float(self.cmc is not None),
            "suppliers": math.log1p(self.supplier_sector[self._market["sector"]].sum()
                                    / e.supplier_base_scale),
        }
        effects = {"tased": e.attract_tased, "land": e.attract_land, "urban": e.attract_urban,
                   "cluster": e.attract_cluster, "suppliers": e.attract_suppliers}
        rate = rules.arrival_rate(self.money(e.investor_rate), effects, levels)
        for _ in range(int(self.draw.poisson(rate))):
            self._consider_investor()
        employed = self.firm_employment() + self.public_jobs
        n_spin = self.draw.poisson(e.spinoff_rate * employed / 10_000
                                  + e.layoff_spinoff_rate * self.last_cfe_layoffs)
        for _ in range(int(n_spin)):
            self._consider_spinoff()
        for u in self.universities:
            for _ in range(int(self.draw.poisson(u.spinoff_rate))):
                self._consider_spinoff(university=u)
        self._outsource()

    def _choose_sector(self, origin: int | None, allowed: np.ndarray, widen: bool) -> int:
        """Relatedness-driven choice (Neffke et al. 2011): density to the town and the origin."""
        e = self.cfg.entry
        density = rules.relatedness_density(self.relatedness, self._market["emp"])
        if origin is not None:
            density = 0.5 * density + 0.5 * self.relatedness[origin]
        if widen:
            density = density + e.widen * self.skill_intensive
        p = rules.sector_choice_probs(density, e.relatedness_weight, allowed)
        return int(self.draw.choice(self.n_sectors, p=p))

    def expected_profits(self, sector: int, jobs: int, productivity: float, capex: float,
                         resident: bool) -> np.ndarray:
        """Quarterly after-tax profits over the entry horizon (ODD 4.6)."""
        cfg = self.cfg
        cap_new = productivity * jobs
        m = self._market
        demand = self.sector_demands(m["mean_a"], m["emp"].sum())[sector]
        if not self.local[sector]:
            demand += self.cfg.firms.market_access * cap_new
        sales = min(1.0, demand / (m["cap"][sector] + cap_new)) * cap_new
        t = cfg.tased
        remaining = t.start_step + t.duration_steps + t.extension_steps - self.time_step
        contrib, profit_tax, prop = self._tax_schedule(resident, remaining)
        other = cfg.firms.overhead + prop * capex + self._rd_intensity_mean(sector) * sales
        return rules.firm_accounts(sales, jobs, self.wage, self.input_share[sector], contrib,
                                   0.0, other, profit_tax)[2]

    def _tax_schedule(self, resident: bool, remaining: int) -> tuple[np.ndarray, ...]:
        """Contribution, profit-tax and property rates for each quarter of the horizon."""
        key = (resident, min(remaining, self.cfg.entry.horizon_steps))
        if key not in self._schedules:
            t, tx = self.cfg.tased, self.cfg.taxes
            ages = [q if resident and q < remaining else None
                    for q in range(self.cfg.entry.horizon_steps)]
            self._schedules[key] = (
                np.array([rules.contribution_rate(a, t, tx) for a in ages]),
                np.array([sum(rules.profit_tax_rates(a, t, tx)) for a in ages]),
                np.array([rules.property_rate(a, t, tx) for a in ages]))
        return self._schedules[key]

    def _rd_intensity_mean(self, sector: int) -> float:
        f = self.cfg.firms
        return f.rd_intensity_ki if self.skill_intensive[sector] else f.rd_intensity_mean

    def _consider_investor(self) -> None:
        """An external investor compares NPV (with TASED benefits) to capex times the hurdle."""
        cfg, e = self.cfg, self.cfg.entry
        allowed = ~self.local & self.open_to_entry
        sector = self._choose_sector(None, allowed, widen=self.cmc is not None)
        xm = e.investor_jobs_mean * (e.investor_jobs_alpha - 1.0) / e.investor_jobs_alpha
        jobs = max(1, int(round(xm * (1.0 + self.draw.pareto(e.investor_jobs_alpha)))))
        disp = cfg.firms.productivity_dispersion
        a = self._market["mean_a"][sector] * float(self.draw.lognormal(0.0, disp))
        plot = self._plots > 0
        capex = e.capex_per_job * jobs + (0.0 if plot else e.land_premium)
        resident = self.tased_active() and rules.is_tased_eligible(
            capex, jobs, bool(self.eligible[sector]), False, 0.0, cfg.tased)
        npv = rules.entry_npv(self.expected_profits(sector, jobs, a, capex, resident),
                              e.discount_rate)
        if npv < e.hurdle * capex or self._pool <= 0:
            return
        footloose = bool(self.draw.random() < e.footloose_share)
        firm = self._enter(sector, jobs, a, self._new_knowledge(sector), "investor",
                           capex=capex, footloose=footloose)
        firm.plot = plot
        self._plots -= int(plot)
        if resident:
            firm.applied_at = self.time_step

    def _consider_spinoff(self, university: University | None = None) -> None:
        """A spinoff of an incumbent (more after CFE layoffs) or of a university."""
        cfg, e = self.cfg, self.cfg.entry
        parent = None
        if university is None:
            emp = self._market["firm_emp"]
            parent = self.firms[int(self.draw.choice(len(emp), p=emp / emp.sum()))]
            sector = self._choose_sector(parent.sector, self.open_to_entry,
                                         widen=parent.university is not None or parent.member)
        else:
            allowed = self.skill_intensive & self.open_to_entry
            if not allowed.any():
                return
            sector = self._choose_sector(None, allowed, widen=True)
        jobs = e.spinoff_jobs
        disp = cfg.firms.productivity_dispersion
        a = self._market["mean_a"][sector] * float(self.draw.lognormal(0.0, disp))
        capex = e.capex_per_job * jobs * e.spinoff_capex_share
        npv = rules.entry_npv(self.expected_profits(sector, jobs, a, capex, False),
                              e.discount_rate)
        if npv < capex or self._pool <= 0:
            return
        if parent is not None:
            know = self._new_knowledge(sector, parent, e.spinoff_knowledge_share)
        else:
            # a university spinoff starts closer to the university's frontier
            know = self._new_knowledge(sector)
            know = tuple(np.clip(np.asarray(know) + 0.2 * (university.knowledge - 0.5), 0.0, 1.0))
        firm = self._enter(sector, jobs, a, know, "spinoff" if parent else "university_spinoff",
                           capex=capex, parent=parent)
        if parent is not None and parent.has_room() and firm.has_room():
            self.link(parent, firm)
        if university is not None and university.has_room():
            firm.university = university
            university.partners.add(firm)

    def _enter(self, sector: int, jobs: int, productivity: float, knowledge: tuple[float, ...],
               origin: str, *, capex: float, parent: Firm | None = None,
               footloose: bool = False, cfe_affiliated: bool = False) -> Firm:
        """Create an entrant; it hires what the unemployed pool allows (callers check > 0)."""
        hired = min(jobs, self._pool)
        self._pool -= hired
        firm = Firm(self, sector, hired, productivity, knowledge, self._rd_intensity(sector),
                    self.cfg.firms.initial_net_worth * productivity * max(1, jobs) + 0.0,
                    origin, parent=parent, footloose=footloose, capex=capex,
                    cfe_affiliated=cfe_affiliated, threshold=self._threshold(self.draw))
        self._register(firm, jobs, productivity * jobs)
        self.shift_market(sector, productivity * jobs)
        return firm

    def _register(self, firm: Firm, planned_jobs: int, capacity: float) -> None:
        """A newcomer joins the town's firms with its plan and its starting market share."""
        firm.planned_jobs = planned_jobs
        self._set_market_weight(firm, capacity)
        self.firms.append(firm)
        self.entries += 1

    def _set_market_weight(self, firm: Firm, capacity: float) -> None:
        """A newcomer to a sector starts with its share of the sector's capacity."""
        s, view = firm.sector, self._market
        firm.market_weight = rules.entry_weight(capacity, view["weight"][s], view["cap"][s])
        view["weight"][s] += firm.market_weight  # later newcomers this stage see this one
        view["cap"][s] += capacity

    def _outsource(self) -> None:
        """Principle 5: the CFE spins off non-core units as independent linked suppliers."""
        c = self.cfg.cfe
        cfe = self.cfe
        limit = c.outsourcing_max_share * self.initial_cfe_jobs
        if c.outsourcing_rate <= 0 or self.outsourced_jobs >= limit:
            return
        expected = c.outsourcing_rate / 4.0 * self.initial_cfe_jobs / c.outsourced_unit_size
        for _ in range(int(self.draw.poisson(expected))):
            size = min(c.outsourced_unit_size, int(limit - self.outsourced_jobs), cfe.employees - 1)
            if size <= 0:
                return
            allowed = self.supplier_sector & self.open_to_entry
            if not allowed.any():
                return
            sector = self._choose_sector(self.cfe_sector, allowed, widen=False)
            a = self._market["mean_a"][sector]
            value = a * size
            cfe.productivity *= cfe.employees / (cfe.employees - size)
            cfe.employees -= size
            self.cfe_extra_input += value / max(cfe.sales, 1e-9) if cfe.sales > 0 else 0.0
            self.outsourced_jobs += size
            firm = Firm(self, sector, size, a, self._new_knowledge(sector, cfe, 0.5),
                        self._rd_intensity(sector), self.cfg.firms.initial_net_worth * value,
                        "outsourced", parent=cfe, capex=self.cfg.firms.capital_per_worker * size,
                        threshold=self._threshold(self.draw))
            self._register(firm, size, value)
            self.link(cfe, firm, supply=True)

    # ================================================================== 4 production

    def sector_demands(self, mean_a: np.ndarray, firm_jobs: float) -> np.ndarray:
        """Demand for each sector's output in the town (ODD 4.1).

        Tradables: D_ext(t) * capture; local services: a propensity times the town's wage bill.
        """
        f = self.cfg.firms
        nat_growth = (1.0 + f.national_productivity_growth) ** self.time_step
        capture = np.array([rules.capture_factor(mean_a[s] / self.base_mean_productivity[s],
                                                 nat_growth, f.capture_elasticity)
                            for s in range(self.n_sectors)])
        wage_bill = self.wage * (firm_jobs + self.public_jobs)
        return np.where(self.local, self.local_propensity * wage_bill, self.demand * capture)

    def shift_market(self, sector: int, amount: float) -> None:
        """A firm that enters (leaves) a tradable sector brings (takes) `market_access` of its
        output as the town's market (ODD 4.1, market access)."""
        if self.local[sector]:
            return
        level = self.demand[sector] / self.demand_base[sector] if self.demand_base[sector] > 0 \
            else rules.external_demand(1.0, self.cfg.town.sectors[sector].demand_trend,
                                       self.time_step, self.demand_x[sector])
        change = self.cfg.firms.market_access * amount
        self.demand_base[sector] = max(0.0, self.demand_base[sector] + change / level)
        self.demand[sector] = max(0.0, self.demand[sector] + change)

    def produce_and_trade(self) -> None:
        cfg = self.cfg
        firms = self.firms
        n = len(firms)
        view = self.market_view()
        sec, a, emp, mean_a = view["sector"], view["productivity"], view["firm_emp"], view["mean_a"]
        cap = a * emp
        demand = self.sector_demands(mean_a, emp.sum())
        self.sector_demand = demand
        weights = self._array("market_weight")
        limit = cap * (1.0 + cfg.firms.sales_capacity_slack)
        sales = np.minimum(rules.split_by_weight(demand, weights, sec, self.n_sectors), limit)
        # customers a capacity-bound firm cannot serve buy from firms with spare capacity
        unmet = np.maximum(0.0, demand - np.bincount(sec, weights=sales, minlength=self.n_sectors))
        room = limit - sales
        sales += np.minimum(rules.split_by_weight(unmet, room, sec, self.n_sectors), room)
        # the CFE buys locally only from suppliers tied to it
        cfe_sales = np.zeros(n)
        index = {f: i for i, f in enumerate(firms)}
        cfe_i = index[self.cfe]
        input_share = self.input_share[sec].copy()
        input_share[cfe_i] = min(0.95, input_share[cfe_i] + self.cfe_extra_input)
        suppliers = [(index[f], tie) for f, tie in self.cfe.ties.items() if tie.supply]
        if suppliers:
            procurement = cfg.cfe.local_procurement_share * self.input_share[self.cfe_sector] \
                * sales[cfe_i] + self.cfe_extra_input * sales[cfe_i]
            idx = np.array([i for i, _ in suppliers])
            designated = self.cmc is not None and \
                cfg.cluster.procurement_rule == ProcurementRule.designated
            w = np.array([t.weight for _, t in suppliers]) if designated else weights[idx]
            share = w / w.sum() if w.sum() > 0 else np.full(len(idx), 1.0 / len(idx))
            room = np.maximum(0.0, limit[idx] - sales[idx])
            got = np.minimum(procurement * share, room)
            cfe_sales[idx] = got
            sales[idx] += got
        # accounts (ODD 4.1, 4.8)
        t, tx = cfg.tased, cfg.taxes
        contrib = np.full(n, rules.contribution_rate(None, t, tx))
        ptax = np.tile(rules.profit_tax_rates(None, t, tx), (n, 1))
        prop_rate = np.full(n, rules.property_rate(None, t, tx))
        resident = np.zeros(n, dtype=bool)
        for i, f in enumerate(firms):
            if f.resident_since is not None:
                age = f.resident_age()
                resident[i] = True
                contrib[i] = rules.contribution_rate(age, t, tx)
                ptax[i] = rules.profit_tax_rates(age, t, tx)
                prop_rate[i] = rules.property_rate(age, t, tx)
        capital = self._array("capex")
        n_ties = np.fromiter((len(f.ties) for f in firms), float, n)
        rd = self._array("rd_intensity") * sales
        member = self._array("member", bool)
        fee = np.where(member, self.cmc.fee if self.cmc is not None else 0.0, 0.0)
        land = self._array("plot", bool) * tx.land_per_plot
        land_paid = np.where(resident & (prop_rate == 0), 0.0, land)
        wages = self.wage * emp
        other = cfg.firms.overhead + n_ties * cfg.network.tie_cost + rd + fee \
            + prop_rate * capital + land_paid
        profit = sales * (1.0 - input_share) - wages * (1.0 + contrib) - other
        pos = np.maximum(profit, 0.0)
        tax_f, tax_r = ptax[:, 0] * pos, ptax[:, 1] * pos
        after = profit - tax_f - tax_r
        new_weights = rules.replicator(weights, a, sec, self.n_sectors, cfg.firms.competition)
        for i, f in enumerate(firms):
            f.market_weight = float(new_weights[i])
            f.sales = float(sales[i])
            f.cfe_sales = float(cfe_sales[i])
            f.profit = float(profit[i])
            f.after_tax = float(after[i])
            f.rd_spend = float(rd[i])
            f.net_worth += f.after_tax
            f.cum_profit += f.after_tax
            f.loss_streak = f.loss_streak + 1 if f.after_tax < 0 else 0
        if self.cmc is not None:
            self.cmc.fees = float(fee.sum())
            self.cmc.budget += self.cmc.fees
        self._book_taxes(wages, contrib, pos, ptax, prop_rate, capital, land, land_paid, resident)

    def _book_taxes(self, wages, contrib, pos, ptax, prop_rate, capital, land, land_paid,
                    resident) -> None:
        tx = self.cfg.taxes
        L = self.ledger
        L.collect("federal", "profit", float((ptax[:, 0] * pos).sum()))
        L.collect("regional", "profit", float((ptax[:, 1] * pos).sum()))
        L.collect("federal", "contributions", float((wages * contrib).sum()))
        L.collect("regional", "property", float((prop_rate * capital).sum()))
        L.collect("municipal", "land", float(land_paid.sum()))
        income = tx.income * (wages.sum() + self.wage * self.public_jobs)
        L.collect("regional", "income", income * (1.0 - tx.income_municipal_share))
        L.collect("municipal", "income", income * tx.income_municipal_share)
        r = resident
        L.forgo("federal", "profit", float(((tx.profit_federal - ptax[r, 0]) * pos[r]).sum()))
        L.forgo("regional", "profit", float(((tx.profit_regional - ptax[r, 1]) * pos[r]).sum()))
        L.forgo("federal", "contributions",
                float(((tx.contributions - contrib[r]) * wages[r]).sum()))
        L.forgo("regional", "property",
                float(((tx.property / 4.0 - prop_rate[r]) * capital[r]).sum()))
        L.forgo("municipal", "land", float((land[r] - land_paid[r]).sum()))

    # ================================================================== 5 labour

    def labour_market(self) -> None:
        cfg = self.cfg
        firms = self.firms
        emp = self._array("employees", int)
        target = self._array("sales") / self._array("productivity")
        planned = self._array("planned_jobs")
        ramp = self.time_step - cfg.entry.ramp_up_steps
        target = np.maximum(target, np.where(self._array("born", int) >= ramp,
                                             planned, 0.0))
        desired = np.round(emp + cfg.firms.labour_adjustment * (target - emp)).astype(int)
        # only a profitable firm expands; any firm sheds labour it cannot sell the output of
        profitable = self._array("after_tax") > 0
        desired = np.maximum(np.where(profitable, desired, np.minimum(desired, emp)), 0)
        fired = np.maximum(emp - desired, 0)
        emp = emp - fired
        cfe_i = 0  # the CFE is created first and never exits
        self.cfe_layoffs = int(fired[cfe_i])
        self.last_cfe_layoffs = self.cfe_layoffs  # drives next quarter's spinoffs
        requests = np.maximum(desired - emp, 0)
        pool = self.labour_force - self.public_jobs - int(emp.sum())
        need = self.skill_need[self._array("sector", int)]
        skilled_pool = max(0.0, min(pool, self.skilled - float((emp * need).sum())))
        total_req = requests.sum()
        f_all = min(1.0, pool / total_req) if total_req > 0 else 1.0
        skilled_req = float((requests * need).sum())
        f_sk = min(1.0, skilled_pool / skilled_req) if skilled_req > 0 else 1.0
        hires = np.floor(requests * np.minimum(f_all, 1.0 - need * (1.0 - f_sk))).astype(int)
        self.unfilled = int(total_req - hires.sum())
        emp = emp + hires
        for i, f in enumerate(firms):
            f.employees = int(emp[i])
        u = self.unemployed() / self.labour_force
        lab = cfg.labour
        self.wage = rules.wage_update(self.wage, cfg.town.wage, u, cfg.town.unemployment,
                                      lab.wage_elasticity, lab.wage_adjustment)

    # ================================================================== 6 networking

    def networking(self) -> None:
        cfg = self.cfg.network
        self.introductions = self.cmc.broker() if self.cmc is not None else {}
        for f, ac in zip(self.firms, self.absorptive_capacities()):
            f.inflow = 0.0
            f.ac = float(ac)
        n = len(self.firms)
        order = self.draw.permutation(n)
        draws = self.draw.random(n)
        picks = self.draw.integers(0, n, size=(n, cfg.random_candidates))
        unsatisfied = self._array("loss_streak", int) > 0
        p = np.where(unsatisfied, cfg.search_prob_unsatisfied, cfg.search_prob)
        for k in np.flatnonzero(draws < p[order]):  # searchers, in the shuffled order
            f = self.firms[order[k]]
            partner = f.search_partners(picks[k])
            if partner is not None:
                self.link(f, partner)
        # joint projects on every tie: success builds credit and knowledge, failure erodes it
        pairs = [(f, g, tie) for f in self.firms for g, tie in f.ties.items()
                 if f.unique_id < g.unique_id]
        credit = np.fromiter((t.credit for _, _, t in pairs), float, len(pairs))
        success = self.draw.random(len(pairs)) < rules.tie_success_prob(credit, 0,
                                                                         cfg.success_base)
        for (f, g, tie), ok in zip(pairs, success):
            if ok:
                tie.credit += 1.0
                d = rules.cognitive_distance(f.knowledge, g.knowledge)
                gain = rules.knowledge_gain(d, cfg.optimal_distance)
                f.inflow += gain
                g.inflow += gain
                f.knowledge, g.knowledge = (rules.converge(f.knowledge, g.knowledge, cfg.learning_rate),
                                            rules.converge(g.knowledge, f.knowledge, cfg.learning_rate))
            elif not tie.supply:
                tie.credit *= 1.0 - cfg.credit_decay
                if tie.credit < cfg.credit_min:
                    self.unlink(f, g)

    # ================================================================== 7 learning

    def learning(self) -> None:
        cfg = self.cfg
        inn = cfg.innovation
        firms = self.firms
        n = len(firms)
        self._market = self.market_view()
        counts = np.bincount(self._market["sector"], minlength=self.n_sectors)
        related = self.relatedness @ counts
        related_members = self._related_members(list(self.cmc.members) if self.cmc else [])
        u_inn, u_imi, u_uni, u_rad = self.draw.random((4, n))
        sec = self._market["sector"]
        sd = rules.innovation_step_sd(self._market["firm_emp"], inn.step_sd, inn.size_reference,
                                      inn.size_elasticity)
        draws = inn.step_mean + sd * self.draw.standard_normal(n)
        member = self._array("member", bool)
        rd = self._array("rd_intensity")
        uni_knowledge = np.fromiter((f.university.knowledge if f.university is not None else 0.0
                                     for f in firms), float, n)
        inflow = (self._array("inflow")
                  + inn.local_spillover * np.log1p(related[sec] - 1)
                  + inn.university_effect * uni_knowledge
                  + member * rules.bounded_spillover(related_members[sec] - 1,
                                                     cfg.cluster.agglomeration,
                                                     cfg.cluster.congestion))
        ac = self.absorptive_capacities()
        prob = rules.innovation_prob(rd, inflow, ac, inn.base_hazard, inn.rd_effect,
                                     inn.inflow_effect)
        for f, x in zip(firms, inflow):
            f.last_inflow = float(x)
        for i in np.flatnonzero(u_inn < prob):
            self.innovations += firms[i].innovate(draws[i])
        for i in np.flatnonzero(u_imi < inn.imitation_prob * ac):
            self.adoptions += firms[i].imitate()
        if self.universities:
            seekers = (u_uni < inn.university_link_prob) & self.skill_intensive[sec]
            for i in np.flatnonzero(seekers):
                f = firms[i]
                uni = self.universities[int(u_uni[i] * 1e6) % len(self.universities)]
                if f.university is None and uni.has_room():
                    f.university = uni
                    uni.partners.add(f)
        losses = self._array("loss_streak", int) >= inn.loss_steps_for_radical
        small = self._market["firm_emp"] <= inn.radical_max_size
        for i in np.flatnonzero(losses & small & (u_rad < inn.radical_prob)):
            if not firms[i].is_cfe:
                self._move_sector(firms[i])

    def absorptive_capacities(self) -> np.ndarray:
        """Cohen-Levinthal absorptive capacity of every firm, with CMC services for members."""
        boost = 0.0
        if self.cmc is not None:
            c = self.cfg.cluster
            boost = self._array("member", bool) * (c.service_absorptive * self.cmc.quality
                                                   * self.cmc.service_intensity)
        return rules.absorptive_capacity(self._array("rd_intensity"),
                                         self.cfg.firms.rd_intensity_ki,
                                         self.cfg.innovation.absorptive_base, boost)

    def _move_sector(self, f: Firm) -> None:
        """Radical search: move into a related sector (relatedness-driven diversification)."""
        old = f.sector
        new = self._choose_sector(old, (np.arange(self.n_sectors) != old) & self.open_to_entry,
                                  widen=f.university is not None or f.member)
        rel_prod = f.productivity / self._market["mean_a"][old]
        self.shift_market(old, -(f.sales - f.cfe_sales))
        f.sector = new
        f.productivity = rel_prod * self._market["mean_a"][new]
        f.knowledge = rules.converge(f.knowledge, tuple(self.sector_centre[new]), 0.5)
        self._set_market_weight(f, f.productivity * f.employees)
        self.shift_market(new, f.productivity * f.employees)
        f.loss_streak = 0
        self.sector_moves += 1

    # ================================================================== 8 membership

    def membership_benefits(self, related_members: np.ndarray, quality: float,
                            intensity: float, fee: float,
                            counted: np.ndarray | None = None) -> np.ndarray:
        """Expected net gain of membership for every firm (ODD 3.4, cluster membership).

        `related_members` counts members by relatedness to each sector; `counted` marks the
        firms counted among them (by default: the members).
        """
        c, inn = self.cfg.cluster, self.cfg.innovation
        sec = self._array("sector", int)
        rd = self._array("rd_intensity")
        member = self._array("member", bool)
        employees = self._array("employees")
        own = member if counted is None else counted
        agglo = rules.bounded_spillover(related_members[sec] - own, c.agglomeration,
                                        c.congestion)
        ac0 = rules.absorptive_capacity(rd, self.cfg.firms.rd_intensity_ki, inn.absorptive_base,
                                        0.0)
        ac1 = np.minimum(1.0, ac0 + c.service_absorptive * quality * intensity)
        base_in = self._array("last_inflow") - agglo * member  # inflow without membership
        h1 = rules.innovation_prob(rd, base_in + agglo, ac1, inn.base_hazard, inn.rd_effect,
                                   inn.inflow_effect)
        h0 = rules.innovation_prob(rd, base_in, ac0, inn.base_hazard, inn.rd_effect,
                                   inn.inflow_effect)
        sd = rules.innovation_step_sd(employees, inn.step_sd, inn.size_reference,
                                      inn.size_elasticity)
        value = rules.expected_gain_of_draw(inn.step_mean, sd)
        labour_cost = self.wage * employees * (1.0 + self.cfg.taxes.contributions)
        subsidised = self.support_active() and c.subsidy_budget > 0
        subsidy = np.where(subsidised & self.priority[sec], c.membership_subsidy_rate * fee, 0.0)
        return rules.membership_benefit(h1 - h0, labour_cost, value, c.value_horizon_steps,
                                        subsidy, fee + c.participation_cost)

    def _related_members(self, members: list[Firm]) -> np.ndarray:
        counts = np.zeros(self.n_sectors)
        if members:
            np.add.at(counts, [f.sector for f in members], 1.0)
        return self.relatedness @ counts

    def cluster_membership(self) -> None:
        c = self.cfg.cluster
        if self.cmc is None:
            if c.founder in (ClusterFounder.firms, ClusterFounder.joint) and \
                    self.cluster_policy_active():
                self._business_founding()
            return
        cmc = self.cmc
        if not cmc.operate():
            self._dissolve()
            return
        rel = self._related_members(sorted(cmc.members, key=lambda f: f.unique_id))
        benefits = self.membership_benefits(rel, cmc.quality, cmc.service_intensity, cmc.fee)
        joiners, leavers = [], []
        for f, b in zip(self.firms, benefits):
            if self.local[f.sector]:  # an industrial cluster: households' services stay out
                if f.member:
                    leavers.append(f)  # a member that moved into local services
                continue
            if f.member:
                f.bad_membership_steps = f.bad_membership_steps + 1 if b < 0 else 0
                if f.bad_membership_steps >= c.leave_after:
                    leavers.append(f)
            else:
                partners = len(f.ties)
                member_partners = sum(1 for p in f.ties if p.member)
                if b > 0 or rules.joins_by_contagion(member_partners, partners, f.threshold):
                    joiners.append(f)
        for f in leavers:
            cmc.release(f)
        for f in joiners:
            cmc.admit(f)
        cmc.set_fee()

    def _business_founding(self) -> None:
        """Firms found a CMC when at least min_founders expect a net gain at the fee that
        would cover its costs (three rounds: who gains, at what fee, with which partners)."""
        c = self.cfg.cluster
        match = c.match_ratio if self.support_active() else 0.0
        willing: list[Firm] = []
        fee = c.member_fee
        industrial = ~self.local[self._array("sector", int)]
        counted = np.zeros(len(self.firms), dtype=bool)
        for _ in range(3):
            rel = self._related_members(willing)
            gains = self.membership_benefits(rel, c.management_quality, 1.0, fee, counted)
            counted = industrial & (gains > 0)
            willing = [f for f, ok in zip(self.firms, counted) if ok]
            fee = rules.balanced_fee(c.member_fee, self.money(c.running_cost),
                                     c.service_cost_per_member, len(willing), 0.0, match, 0.0)
        if len(willing) >= c.min_founders:
            self._found_cmc()
            self.cmc.fee = fee
            for f in willing:
                self.cmc.admit(f)
            self.priority = self.authorities[1].choose_priorities()

    def _dissolve(self) -> None:
        for f in list(self.cmc.members):
            self.cmc.release(f)
        self.cmc.remove()
        self.cmc = None

    # ================================================================== 9 exit

    def exit_firms(self) -> None:
        keep = []
        for f in self.firms:
            gone = not f.is_cfe and (f.net_worth < 0 or f.employees == 0
                                     or f.leaving)
            if gone:
                self._remove_firm(f)
            else:
                keep.append(f)
        self.firms = keep

    def _remove_firm(self, f: Firm) -> None:
        self.shift_market(f.sector, -(f.sales - f.cfe_sales))
        for other in list(f.ties):
            self.unlink(f, other)
        if f.member and self.cmc is not None:
            self.cmc.release(f)
        if f.university is not None:
            f.university.partners.discard(f)
        f.alive = False
        f.employees = 0  # workers return to the unemployed pool
        self.exits += 1
        f.remove()

    # ================================================================== 10 town

    def update_town(self) -> None:
        lab = self.cfg.labour
        pool = self.unemployed()
        u = pool / self.labour_force
        rate = rules.out_migration_rate(u, lab.natural_unemployment, self.urban_quality,
                                        lab.migration_base, lab.migration_unemployment,
                                        lab.migration_urban)
        movers = min(pool, int(round(rate * self.labour_force)))
        skilled_free = max(0, self.skilled - int(self._skilled_employed()))
        skilled_movers = min(skilled_free, int(round(movers * skilled_free / pool))) if pool else 0
        retire = min(pool - movers + int(lab.entrants_rate * self.labour_force),
                     int(round(lab.retirement_rate * self.labour_force)))
        school = int(round(lab.entrants_rate * self.labour_force))
        grads = 0
        for uni in self.universities:
            grads += int(round(uni.graduates_per_step * lab.graduate_retention
                               * (0.5 + 0.5 * self.urban_quality)))
        inflow = int(round(lab.inflow_tightness * self.unfilled))
        self.out_migrants, self.in_migrants = movers, inflow
        self.labour_force += school + grads + inflow - movers - retire
        self.skilled += grads - skilled_movers - int(round(retire * self.skilled / max(1, self.labour_force)))
        self.skilled = max(0, min(self.skilled, self.labour_force))
        participation = self.cfg.town.participation
        self.population += (inflow + grads - movers) / participation

    def _skilled_employed(self) -> float:
        return float(sum(f.employees * self.skill_need[f.sector] for f in self.firms))

    # ================================================================== 11 data

    def collect(self) -> None:
        self.records.append(metrics.collect(self))
        steps = set(self.cfg.output.firm_steps) | {self.cfg.steps}
        if self.time_step in steps:
            self.firm_records.extend(metrics.firm_rows(self))
