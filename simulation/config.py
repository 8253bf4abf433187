"""Typed configuration of the model: defaults, units, sources and validation.

Every behavioural constant of the model is a field here. Each field carries its unit and
source in ``metadata`` ("CAL" = ``CALIBRATION.md`` section of the design notes, "est." = an
estimate derived from those facts, "assumption" = a modelling choice to be explored by
sensitivity analysis). YAML files under ``configs/`` hold only what differs from these defaults.

Units: money in mln RUB, time in quarters (one step), people in persons.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class ConfigError(ValueError):
    """A configuration value outside its accepted range or of the wrong kind."""


class SectorKind(Enum):
    core = "core"
    related = "related"
    supporting = "supporting"
    new = "new"
    local_services = "local_services"


class ClusterFounder(Enum):
    """Who may found the cluster management company (CMC)."""

    nobody = "nobody"  # no cluster policy and no business-led founding
    authorities = "authorities"  # top-down: authorities found and fund it at cluster.start_step
    firms = "firms"  # business-led: founded when enough firms agree to pay fees
    joint = "joint"  # firms found it, public money matches their fees


class PriorityRule(Enum):
    """Principle 1: which sectors the authorities support."""

    location_quotient = "location_quotient"  # LQ > 1 or productivity above national
    all_sectors = "all_sectors"  # dissipation of forces
    none = "none"


class ProcurementRule(Enum):
    """Principle 6: how the CFE splits local procurement among member suppliers."""

    open = "open"  # competition: shares follow competitiveness
    designated = "designated"  # shares frozen when the supplier was designated


def p(default: Any, lo: float | None = None, hi: float | None = None, unit: str = "",
      src: str = "assumption") -> Any:
    """A config field with its accepted range, unit and source."""
    meta = {"lo": lo, "hi": hi, "unit": unit, "src": src}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: _copy(default), metadata=meta)
    return field(default=default, metadata=meta)


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


# --------------------------------------------------------------------------- town


@dataclass
class SectorConfig:
    name: str = "sector"
    kind: SectorKind = SectorKind.supporting
    #: share of this sector in national employment, for the location quotient
    national_share: float = p(0.02, 0.0, 1.0, "share", "Rosstat structure of employment (est.)")
    #: firms in the sector at the start (the CFE is extra, in the core sector)
    initial_firms: int = p(10, 0, 100_000, "firms")
    #: mean revenue per worker of the sector's firms at the start
    productivity: float = p(0.6, 0.01, 100.0, "mln RUB / worker / quarter", "est.")
    #: national mean productivity of the sector relative to the town's at the start
    national_productivity: float = p(1.0, 0.01, 100.0, "ratio", "est.")
    #: unmet demand the town's firms could capture at the start, as a share of initial capacity
    market_room: float = p(0.0, 0.0, 100.0, "share of initial capacity", "assumption")
    #: absolute unmet demand for sectors with no firms at the start
    market_room_abs: float = p(0.0, 0.0, 1e6, "mln RUB / quarter", "assumption")
    demand_trend: float = p(0.0015, -0.2, 0.2, "growth per quarter", "est.: 0.6% a year real growth")
    demand_volatility: float = p(0.03, 0.0, 1.0, "s.d. of log shock per quarter", "assumption")
    demand_persistence: float = p(0.8, 0.0, 0.999, "AR(1) coefficient of the shock")
    tased_eligible: bool = p(True, src="CAL: excluded activities")
    #: False for scale-intensive industries (a pulp mill, a steelworks) that entrants,
    #: spinoffs and sector moves do not go into
    open_to_entry: bool = p(True)
    #: share of skilled workers the sector needs (knowledge intensity)
    skill_need: float = p(0.15, 0.0, 1.0, "share of jobs", "est.")
    #: names of sectors strongly related to this one (relatedness.linked)
    related: list = p([])


@dataclass
class UniversityConfig:
    name: str = "university"
    knowledge: float = p(0.6, 0.0, 1.0, "stock, [0, 1]", "assumption")
    capacity: int = p(8, 0, 1000, "joint projects at once", "assumption")
    graduates_per_step: float = p(60.0, 0.0, 1e5, "persons / quarter", "est.")
    spinoff_rate: float = p(0.15, 0.0, 10.0, "spinoffs / quarter", "assumption")


@dataclass
class TownConfig:
    name: str = "town"
    #: presets give population and firms already scaled; the model multiplies public budgets,
    #: the investor arrival rate and sectors' absolute market room by it (ClusterModel.money)
    scale: float = p(1.0, 1e-4, 1.0, "fraction of the real town represented")
    population: int = p(36_000, 3_000, 10_000_000, "persons", "CAL: Sokol 36k (2021)")
    participation: float = p(0.5, 0.1, 0.9, "labour force / population", "est.")
    unemployment: float = p(0.05, 0.01, 0.5, "share of labour force at the start", "est.")
    skilled_share: float = p(0.2, 0.0, 1.0, "share of labour force", "est.")
    #: jobs outside the modelled firms (schools, hospitals, administration), fixed
    public_jobs_share: float = p(0.22, 0.0, 0.8, "share of labour force", "est.")
    cfe_sector: str = p("core")
    cfe_employment_share: float = p(0.3, 0.2, 0.95, "share of employment",
                                    "CAL: mono-town criterion >= 20%")
    #: CFE productivity relative to its sector's mean
    cfe_productivity: float = p(1.2, 0.1, 10.0, "ratio", "est.")
    cfe_suppliers: int = p(15, 0, 10_000, "firms linked to the CFE at start", "est.")
    #: Pareto shape of firm sizes (most firms under 50 employees)
    firm_size_alpha: float = p(1.3, 0.5, 5.0, "Pareto shape", "est.")
    firm_size_min: int = p(2, 1, 1000, "employees, smallest incumbent")
    firm_size_max: int = p(1000, 1, 10_000_000, "employees, largest incumbent besides the CFE",
                           "est.")
    wage: float = p(0.12, 0.001, 10.0, "mln RUB / worker / quarter", "est.: 40k RUB a month")
    urban_quality: float = p(0.4, 0.0, 1.0, "index", "assumption")
    serviced_plots: int = p(2, 0, 100_000, "plots ready for investors", "assumption")
    #: relatedness of sectors named in each other's `related` lists, of the same kind, other
    relatedness_linked: float = p(0.6, 0.0, 1.0, "index", "assumption (Neffke et al. 2011)")
    relatedness_same_kind: float = p(0.3, 0.0, 1.0, "index", "assumption")
    relatedness_base: float = p(0.05, 0.0, 1.0, "index", "assumption")
    sectors: list = p([])
    universities: list = p([])


# --------------------------------------------------------------------------- policy


@dataclass
class TaxConfig:
    """Standard (non-resident) tax rates."""

    profit_federal: float = p(0.03, 0.0, 1.0, "share of profit", "CAL: Tax Code art. 284")
    profit_regional: float = p(0.17, 0.0, 1.0, "share of profit", "CAL: Tax Code art. 284")
    contributions: float = p(0.30, 0.0, 1.0, "share of payroll", "CAL: standard 30%")
    property: float = p(0.022, 0.0, 1.0, "share of capital per year", "CAL: 2.2%")
    land_per_plot: float = p(0.05, 0.0, 100.0, "mln RUB / plot / quarter", "est.")
    #: personal income tax on wages, split regional / municipal
    income: float = p(0.13, 0.0, 1.0, "share of wages", "Tax Code art. 224")
    income_municipal_share: float = p(0.15, 0.0, 1.0, "share of income tax", "Budget Code (est.)")


@dataclass
class TasedConfig:
    enabled: bool = p(False)
    start_step: int = p(0, 0, 10_000, "step")
    duration_steps: int = p(40, 1, 10_000, "quarters", "CAL: 10 years")
    extension_steps: int = p(0, 0, 10_000, "quarters", "CAL: extendable by 5 years")
    min_capex: float = p(2.5, 0.0, 1e6, "mln RUB in the first year", "CAL: 2.5 mln RUB")
    min_jobs: int = p(10, 0, 100_000, "new jobs in the first year", "CAL: 10")
    max_cfe_revenue_share: float = p(0.5, 0.0, 1.0, "share of revenue", "CAL: at most 50%")
    profit_federal_1_5: float = p(0.0, 0.0, 1.0, "rate, years 1-5", "CAL")
    profit_regional_1_5: float = p(0.05, 0.0, 1.0, "rate, years 1-5", "CAL")
    profit_federal_6_10: float = p(0.02, 0.0, 1.0, "rate, years 6-10", "CAL")
    profit_regional_6_10: float = p(0.10, 0.0, 1.0, "rate, years 6-10", "CAL")
    contributions: float = p(0.076, 0.0, 1.0, "share of payroll, 10 years", "CAL")
    first_period_steps: int = p(20, 0, 1000, "quarters of the 0% + 5% profit-tax rates",
                                "CAL: years 1-5")
    benefit_steps: int = p(40, 0, 1000, "quarters of reduced contributions and profit tax",
                           "CAL: years 1-10")
    property_holiday_steps: int = p(20, 0, 1000, "quarters at 0% property tax", "CAL: 5 years")
    #: municipal administrative delay before a residency decision
    admin_delay_steps: int = p(1, 1, 100, "quarters (decided in stage 2, after entry)",
                               "assumption")
    #: infrastructure investment for the site while the regime runs
    infrastructure_per_step: float = p(40.0, 0.0, 1e6, "mln RUB / quarter",
                                       "est.: Fund deals 46-252 mln RUB")
    fund_share: float = p(0.95, 0.0, 1.0, "federal Monotown Fund share", "CAL: up to 95%")
    plot_cost: float = p(30.0, 0.01, 1e6, "mln RUB per serviced plot", "est.")
    construction_lag_steps: int = p(4, 0, 100, "quarters", "assumption")
    #: authorities keep this many free or planned plots ahead of demand
    plot_buffer: int = p(3, 0, 10_000, "plots", "assumption")


@dataclass
class ClusterConfig:
    founder: ClusterFounder = p(ClusterFounder.nobody)
    start_step: int = p(4, 0, 10_000, "step the authorities act", "assumption")
    support_end_step: int = p(40, 0, 10_000, "step public cluster money stops", "assumption")
    management_quality: float = p(0.6, 0.0, 1.0, "q", "assumption")
    brokerage: float = p(0.3, 0.0, 10.0, "introductions per member per step at q=1",
                         "assumption")
    #: the lowest fee; a CMC raises it to cover costs its public money does not (balanced_fee)
    member_fee: float = p(0.05, 0.0, 1e4, "mln RUB / member / quarter", "est.")
    #: managers' time and information costs of taking part, never subsidised
    participation_cost: float = p(0.03, 0.0, 1e4, "mln RUB / member / quarter", "assumption")
    running_cost: float = p(1.0, 0.0, 1e4, "mln RUB / quarter",
                            "est.: half of cluster organisations have <= 3 staff")
    service_cost_per_member: float = p(0.05, 0.0, 1e4, "mln RUB / member / quarter", "est.")
    #: public operating grant to the CMC while support lasts (authorities-founded)
    public_funding: float = p(5.0, 0.0, 1e6, "mln RUB / quarter",
                              "CAL: 76-100 mln RUB per cluster-year (est.)")
    #: public roubles per rouble of member fees while support lasts (joint)
    match_ratio: float = p(0.0, 0.0, 100.0, "ratio")
    #: money for membership and joint-project subsidies while support lasts
    subsidy_budget: float = p(0.0, 0.0, 1e6, "mln RUB / quarter", "CAL: pilot cluster subsidies")
    federal_subsidy_share: float = p(0.7, 0.0, 1.0, "share", "CAL: regional co-financing 30%")
    membership_subsidy_rate: float = p(0.5, 0.0, 1.0, "share of the fee subsidised", "assumption")
    joint_project_rate: float = p(0.5, 0.0, 1.0, "share of joint R&D costs",
                                  "CAL: up to 50% (Decree 41/2016)")
    priority_rule: PriorityRule = p(PriorityRule.location_quotient)
    #: add sectors with at least this many members to the priorities (joint governance)
    member_demand_priorities: bool = p(False)
    member_demand_min: int = p(3, 1, 10_000, "members")
    procurement_rule: ProcurementRule = p(ProcurementRule.open)
    min_founders: int = p(10, 1, 10_000, "firms", "CAL: industrial cluster rule >= 10")
    dissolve_after: int = p(4, 1, 1000, "quarters with budget below cost")
    leave_after: int = p(3, 1, 1000, "quarters with benefit below cost")
    #: absorptive-capacity boost from CMC services at q=1 and full service intensity
    service_absorptive: float = p(0.25, 0.0, 1.0, "absorptive capacity", "assumption")
    #: informal spillover per related member, and the congestion scale (Arthur 1990)
    agglomeration: float = p(0.02, 0.0, 10.0, "inflow per related member", "assumption")
    congestion: float = p(40.0, 1.0, 1e5, "related members", "CAL: critical mass 30-50 (L)")
    #: months of expected innovation value a firm counts when weighing membership
    #: Granovetter thresholds are drawn uniformly from [threshold_min, 1]
    threshold_min: float = p(0.3, 0.0, 1.0, "share of partners", "assumption (Granovetter 1978)")
    value_horizon_steps: int = p(12, 1, 1000, "quarters")


@dataclass
class CfeConfig:
    local_procurement_share: float = p(0.05, 0.0, 1.0, "share of materials bought locally", "est.")
    #: principle 5: share of the CFE's initial employment spun off to suppliers per year
    outsourcing_rate: float = p(0.0, 0.0, 0.5, "share per year")
    outsourcing_max_share: float = p(0.25, 0.0, 0.9, "cumulative share of initial employment")
    outsourced_unit_size: int = p(60, 5, 100_000, "employees")
    #: CFE R&D intensity (large firms do more)
    rd_intensity: float = p(0.01, 0.0, 0.5, "share of sales", "est.")
    max_suppliers: int = p(40, 0, 100_000, "supplier ties the CFE keeps")


@dataclass
class ShockConfig:
    step: int = p(-1, -1, 10_000, "step of a fall in CFE demand (-1 = none)")
    size: float = p(0.3, 0.0, 0.99, "fall in core-sector demand")
    duration_steps: int = p(8, 1, 10_000, "quarters before demand recovers")


# --------------------------------------------------------------------------- behaviour


@dataclass
class FirmConfig:
    productivity_dispersion: float = p(0.25, 0.0, 2.0, "s.d. of log productivity", "est.")
    #: margin on sales of an average firm at the start (calibrates the input share)
    target_margin: float = p(0.06, -0.5, 0.5, "share of sales", "est.")
    initial_net_worth: float = p(2.0, 0.0, 100.0, "quarters of revenue", "est.")
    #: partial adjustment of employment toward the target each quarter
    labour_adjustment: float = p(0.3, 0.0, 1.0, "share of the gap", "assumption")
    #: replicator speed: market-share growth per quarter per unit of relative productivity
    competition: float = p(0.25, 0.0, 10.0, "per quarter", "assumption (Dosi et al. 2010)")
    #: elasticity of demand for the town's sector to its productivity vs national
    capture_elasticity: float = p(1.5, 0.0, 10.0, "elasticity", "assumption")
    #: share of an entrant's output that brings its own customers (0 fixed pie, 1 price taker)
    market_access: float = p(0.8, 0.0, 1.0, "share", "assumption")
    national_productivity_growth: float = p(0.0025, -0.1, 0.1, "per quarter", "est.: 1%/year")
    sales_capacity_slack: float = p(0.15, 0.0, 2.0, "output above capacity", "assumption")
    rd_intensity_mean: float = p(0.01, 0.0, 0.5, "share of sales", "est.")
    rd_intensity_ki: float = p(0.05, 0.0, 0.5, "share of sales in skill-intensive sectors", "est.")
    rd_dispersion: float = p(0.5, 0.0, 5.0, "s.d. of log R&D intensity across firms", "est.")
    #: skill need from which a sector counts as knowledge-intensive
    skill_intensive: float = p(0.4, 0.0, 1.0, "share of skilled jobs")
    overhead: float = p(0.02, 0.0, 10.0, "mln RUB / quarter fixed cost", "est.")
    capital_per_worker: float = p(2.0, 0.0, 1e4, "mln RUB", "est.")


@dataclass
class NetworkConfig:
    """Partner search and ties (SKIN, Cowan-Jonard-Zimmermann 2007)."""

    knowledge_dims: int = p(4, 1, 64, "dimensions")
    knowledge_noise: float = p(0.05, 0.0, 1.0, "s.d. of a firm's knowledge around its sector's")
    knowledge_spread: float = p(0.5, 0.0, 1.0, "distance of unrelated sectors from the core's")
    memory: int = p(8, 0, 1000, "past partners a firm remembers")
    search_prob: float = p(0.1, 0.0, 1.0, "per quarter when satisfied")
    search_prob_unsatisfied: float = p(0.4, 0.0, 1.0, "per quarter when profit < 0")
    max_candidates: int = p(8, 1, 1000, "candidates per search")
    random_candidates: int = p(3, 0, 1000, "random local firms per search")
    max_ties: int = p(8, 1, 10_000, "ties per firm")
    tie_cost: float = p(0.01, 0.0, 1e4, "mln RUB / tie / quarter")
    #: value of one unit of expected knowledge gain, in mln RUB per quarter per mln RUB of sales
    gain_value: float = p(0.02, 0.0, 10.0, "share of sales", "assumption")
    success_base: float = p(0.3, 0.0, 1.0, "probability", "assumption")
    credit_decay: float = p(0.2, 0.0, 1.0, "share lost per quarter without success")
    credit_min: float = p(0.1, 0.0, 100.0, "credit below which a tie dissolves")
    learning_rate: float = p(0.1, 0.0, 1.0, "knowledge convergence per joint success")
    #: distance at which the inverted-U knowledge gain peaks (Nooteboom)
    optimal_distance: float = p(0.35, 0.01, 0.99, "cognitive distance")
    initial_related_ties: float = p(0.5, 0.0, 100.0, "ties per firm by relatedness at start")


@dataclass
class InnovationConfig:
    """Nelson-Winter search with Cohen-Levinthal absorptive capacity."""

    rd_effect: float = p(0.4, 0.0, 100.0, "hazard per unit R&D intensity", "est.: 9%/year")
    inflow_effect: float = p(0.15, 0.0, 100.0, "hazard per unit knowledge inflow")
    base_hazard: float = p(0.008, 0.0, 1.0, "per quarter", "CAL: about 9% of firms a year (L)")
    step_mean: float = p(0.0, -1.0, 1.0, "mean log productivity draw")
    step_sd: float = p(0.08, 0.0, 1.0, "s.d. of log productivity draw")
    size_reference: float = p(50.0, 1.0, 1e6, "employees above which draws shrink")
    size_elasticity: float = p(0.2, 0.0, 1.0, "elasticity of the draw s.d. to size",
                               "Stanley et al. 1996")
    imitation_prob: float = p(0.05, 0.0, 1.0, "per quarter at full absorptive capacity")
    imitation_share: float = p(0.25, 0.0, 1.0, "share of the gap closed")
    absorptive_base: float = p(0.3, 0.0, 1.0, "absorptive capacity without R&D")
    local_spillover: float = p(0.03, 0.0, 10.0, "inflow per log related local firm")
    university_effect: float = p(0.3, 0.0, 10.0, "inflow from a university link")
    university_link_prob: float = p(0.05, 0.0, 1.0, "per quarter for skill-intensive firms")
    radical_prob: float = p(0.05, 0.0, 1.0, "sector move per quarter after losses")
    radical_max_size: int = p(50, 0, 10_000_000, "employees: larger firms do not move sector",
                              "assumption: small firms search radically")
    loss_steps_for_radical: int = p(2, 1, 1000, "quarters of losses")
    diffusion_window: int = p(4, 1, 100, "quarters an innovation counts as recent")


@dataclass
class EntryConfig:
    investor_rate: float = p(0.6, 0.0, 1e4, "potential investors / quarter at attractiveness 1")
    attract_tased: float = p(1.0, 0.0, 100.0, "log-rate effect of an active TASED")
    attract_land: float = p(0.5, 0.0, 100.0, "log-rate effect of free serviced plots")
    attract_urban: float = p(1.0, 0.0, 100.0, "log-rate effect of urban quality")
    attract_cluster: float = p(0.5, 0.0, 100.0, "log-rate effect of an active CMC")
    attract_suppliers: float = p(0.3, 0.0, 100.0, "log-rate effect of supplier base")
    investor_jobs_mean: float = p(40.0, 1.0, 1e5, "jobs", "CAL: heavy-tailed resident sizes")
    investor_jobs_alpha: float = p(1.5, 1.05, 10.0, "Pareto shape (mean finite above 1)")
    capex_per_job: float = p(3.3, 0.0, 1e4, "mln RUB", "CAL: 2.5-6 (est. 3.3)")
    hurdle: float = p(1.15, 0.0, 100.0, "required NPV / capex", "assumption")
    discount_rate: float = p(0.03, 0.0, 1.0, "per quarter", "est.: key rate ~12%/year")
    horizon_steps: int = p(40, 1, 1000, "quarters evaluated")
    land_premium: float = p(3.0, 0.0, 1e4, "mln RUB extra capex without a serviced plot")
    spinoff_rate: float = p(2.0, 0.0, 1e4, "spinoffs / quarter per 10k employed",
                            "est.: small-firm birth rate about 5-8% a year")
    layoff_spinoff_rate: float = p(0.01, 0.0, 1.0, "spinoffs per laid-off CFE worker")
    spinoff_jobs: int = p(5, 1, 1e5, "employees")
    spinoff_knowledge_share: float = p(0.7, 0.0, 1.0, "share of parent's knowledge")
    relatedness_weight: float = p(4.0, 0.0, 100.0, "logit weight on relatedness density",
                                  "Neffke-Henning-Boschma 2011")
    widen: float = p(0.2, 0.0, 1.0, "relatedness added to skill-intensive sectors by links")
    footloose_share: float = p(0.3, 0.0, 1.0, "share of investors that are footloose", "est.")
    ramp_up_steps: int = p(4, 1, 100, "quarters an entrant hires toward its planned jobs")
    spinoff_capex_share: float = p(0.3, 0.0, 10.0, "spinoff capex / investor capex per job", "est.")
    supplier_base_scale: float = p(50.0, 1.0, 1e6, "supporting and related firms per log unit")


@dataclass
class LabourConfig:
    natural_unemployment: float = p(0.05, 0.0, 0.5, "rate")
    wage_elasticity: float = p(0.1, 0.0, 2.0, "elasticity of the wage to unemployment",
                               "Blanchflower & Oswald 1994: about 0.1")
    wage_adjustment: float = p(0.25, 0.0, 1.0, "share of the gap to the wage curve per quarter")
    migration_base: float = p(0.003, 0.0, 1.0, "share of population per quarter",
                              "CAL: -1% to -2% a year (est.)")
    migration_unemployment: float = p(0.05, 0.0, 10.0, "per point above natural rate")
    migration_urban: float = p(0.004, 0.0, 1.0, "reduction per unit of urban quality")
    inflow_tightness: float = p(0.15, 0.0, 10.0, "in-migration per unit of unfilled vacancies")
    retirement_rate: float = p(0.006, 0.0, 1.0, "share of labour force per quarter", "est.")
    entrants_rate: float = p(0.006, 0.0, 1.0, "school leavers, share of labour force", "est.")
    graduate_retention: float = p(0.5, 0.0, 1.0, "share staying at urban quality 1")


@dataclass
class UrbanConfig:
    investment_per_step: float = p(5.0, 0.0, 1e6, "mln RUB / quarter (municipal)", "est.")
    effect: float = p(0.05, 0.0, 1.0, "quality gain per quarter at saturation")
    half_saturation: float = p(10.0, 0.01, 1e6, "mln RUB / quarter per 36k people")
    depreciation: float = p(0.01, 0.0, 1.0, "per quarter")


@dataclass
class OutputConfig:
    #: firm table written at these steps (the final step is always added)
    firm_steps: list = p([0, 20, 40])


@dataclass
class ModelConfig:
    scenario: str = "baseline"  # label, never read by a rule
    steps: int = p(60, 1, 100_000, "quarters")
    seed: int = p(0, 0, 2**63 - 1)
    town: TownConfig = field(default_factory=TownConfig)
    taxes: TaxConfig = field(default_factory=TaxConfig)
    tased: TasedConfig = field(default_factory=TasedConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    cfe: CfeConfig = field(default_factory=CfeConfig)
    shock: ShockConfig = field(default_factory=ShockConfig)
    firms: FirmConfig = field(default_factory=FirmConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    innovation: InnovationConfig = field(default_factory=InnovationConfig)
    entry: EntryConfig = field(default_factory=EntryConfig)
    labour: LabourConfig = field(default_factory=LabourConfig)
    urban: UrbanConfig = field(default_factory=UrbanConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


# --------------------------------------------------------------------------- validation

_NESTED_LISTS = {("town", "sectors"): SectorConfig, ("town", "universities"): UniversityConfig}


def from_dict(data: dict, cls: type = ModelConfig, path: str = "") -> Any:
    """Build a dataclass tree from plain data, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        where = f"{path}.{key}" if path else key
        if key not in fields:
            raise ConfigError(f"{where}: unknown key; accepted keys: {', '.join(fields)}")
        kwargs[key] = _convert(value, fields[key], where)
    return cls(**kwargs)


def _convert(value: Any, f: dataclasses.Field, where: str) -> Any:
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if dataclasses.is_dataclass(default):
        return from_dict(value, type(default), where)
    if isinstance(default, Enum):
        options = [m.value for m in type(default)]
        raw = value.value if isinstance(value, Enum) else value
        if raw not in options:
            raise ConfigError(f"{where}: {raw!r} is not one of {options}")
        return type(default)(raw)
    if isinstance(default, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item_cls = next((c for k, c in _NESTED_LISTS.items() if where.endswith(".".join(k))), None)
        if item_cls is None:
            return list(value)
        return [from_dict(v, item_cls, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def validate(cfg: ModelConfig) -> ModelConfig:
    """Check every field against its range, then the cross-field rules. Returns cfg."""
    _check_ranges(cfg, "")
    names = [s.name for s in cfg.town.sectors]
    if not names:
        raise ConfigError("town.sectors: at least one sector is required")
    if len(set(names)) != len(names):
        raise ConfigError(f"town.sectors: sector names must be unique, got {names}")
    if cfg.town.cfe_sector not in names:
        raise ConfigError(f"town.cfe_sector: {cfg.town.cfe_sector!r} is not one of {names}")
    for i, s in enumerate(cfg.town.sectors):
        for r in s.related:
            if r not in names:
                raise ConfigError(f"town.sectors[{i}].related: {r!r} is not one of {names}")
    if len(cfg.town.universities) > 2:
        raise ConfigError("town.universities: accepted 0 to 2 universities")
    if cfg.tased.start_step >= cfg.steps:
        raise ConfigError(f"tased.start_step: {cfg.tased.start_step} must be below steps "
                          f"({cfg.steps}), accepted range [0, {cfg.steps - 1}]")
    if cfg.shock.step >= cfg.steps:
        raise ConfigError(f"shock.step: {cfg.shock.step} must be below steps ({cfg.steps}) "
                          f"or -1 for none")
    if cfg.town.public_jobs_share + cfg.town.unemployment >= 1.0:
        raise ConfigError("town.public_jobs_share: public jobs plus unemployment must leave "
                          "room for firms (sum below 1)")
    return cfg


def _check_ranges(node: Any, path: str) -> None:
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        where = f"{path}.{f.name}" if path else f.name
        if dataclasses.is_dataclass(value):
            _check_ranges(value, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    _check_ranges(item, f"{where}[{i}]")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            if value != value:  # NaN
                raise ConfigError(f"{where}: NaN is not accepted")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ConfigError(f"{where}: {value} is outside the accepted range [{lo}, {hi}]")


def field_docs(cls: type = ModelConfig, path: str = "") -> list[dict]:
    """Rows (name, default, range, unit, source) for documentation and tests."""
    rows = []
    for f in dataclasses.fields(cls):
        where = f"{path}.{f.name}" if path else f.name
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        item = next((c for k, c in _NESTED_LISTS.items() if where == ".".join(k)), None)
        if dataclasses.is_dataclass(default):
            rows += field_docs(type(default), where)
        elif item is not None:
            rows.append({"name": where, "default": default, "lo": None, "hi": None,
                         "unit": f"list of {item.__name__}", "source": ""})
            rows += field_docs(item, f"{where}[]")
        else:
            rows.append({"name": where, "default": default, "lo": f.metadata.get("lo"),
                         "hi": f.metadata.get("hi"), "unit": f.metadata.get("unit", ""),
                         "source": f.metadata.get("src", "")})
    return rows
