"""The town: its sectors, universities, population and starting conditions (a preset)."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulation.config.fields import SectorKind, p


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
    related: list[str] = p([])


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
    #: public budgets of the preset and sectors' absolute market room are multiplied by it
    #: (investors arrive per 100,000 represented people, so their rate follows it too): 0.1 for a preset that represents a 10% sample of its town's
    #: firms and people, k for a synthetic town k times the preset's size
    scale: float = p(1.0, 1e-4, 1e3, "represented firms / firms the budgets are set for")
    population: int = p(36_000, 3_000, 10_000_000, "persons", "CAL: Sokol 36k (2021)")
    participation: float = p(0.5, 0.1, 0.9, "labour force / population", "est.")
    unemployment: float = p(0.05, 0.01, 0.5, "share of labour force at the start", "est.")
    skilled_share: float = p(0.2, 0.0, 1.0, "share of labour force", "est.")
    #: households save this share of their income after tax; the rest is spent (local
    #: services in town, everything else outside)
    household_saving_rate: float = p(0.1, 0.0, 1.0, "share of disposable income",
                                     "est.: Rosstat household saving rate about 10%")
    #: pensions and benefits households receive from outside the town, per resident outside
    #: the labour force
    transfer_per_inactive: float = p(0.06, 0.0, 10.0, "mln RUB / person / quarter",
                                     "est.: average pension about 20k RUB a month")
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
    #: no incumbent starts larger than this share of the CFE
    largest_vs_cfe: float = p(0.5, 0.0, 1.0, "share of the CFE's employees", "assumption")
    wage: float = p(0.12, 0.001, 10.0, "mln RUB / worker / quarter", "est.: 40k RUB a month")
    urban_quality: float = p(0.4, 0.0, 1.0, "index", "assumption")
    serviced_plots: int = p(2, 0, 100_000, "plots ready for investors", "assumption")
    #: relatedness of sectors named in each other's `related` lists, of the same kind, other
    relatedness_linked: float = p(0.6, 0.0, 1.0, "index", "assumption (Neffke et al. 2011)")
    relatedness_same_kind: float = p(0.3, 0.0, 1.0, "index", "assumption")
    relatedness_base: float = p(0.05, 0.0, 1.0, "index", "assumption")
    sectors: list[SectorConfig] = field(default_factory=list)
    universities: list[UniversityConfig] = field(default_factory=list)
