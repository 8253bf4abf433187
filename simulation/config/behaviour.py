"""Behavioural parameters of firms, the network, innovation, entry, labour and the town."""

from __future__ import annotations

from dataclasses import dataclass

from simulation.config.fields import p


@dataclass
class FirmConfig:
    productivity_dispersion: float = p(0.25, 0.0, 2.0, "s.d. of log productivity", "est.")
    #: margin on sales of an average firm at the start (calibrates the input share)
    target_margin: float = p(0.06, -0.5, 0.5, "share of sales", "est.")
    #: input shares (materials per rouble of sales) are capped here
    max_input_share: float = p(0.95, 0.0, 1.0, "share of sales", "assumption")
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
    #: book value of capital (the property-tax base) depreciates; capacity is A L, so wear
    #: costs no output
    depreciation: float = p(0.025, 0.0, 1.0, "share per quarter", "est.: 10% a year")


@dataclass
class NetworkConfig:
    """Partner search and ties (SKIN, Cowan-Jonard-Zimmermann 2007)."""

    knowledge_dims: int = p(4, 1, 64, "dimensions")
    #: the core sector's knowledge centre is drawn uniformly in this band on every dimension
    core_knowledge_min: float = p(0.35, 0.0, 1.0, "position in [0, 1]", "assumption")
    core_knowledge_max: float = p(0.65, 0.0, 1.0, "position in [0, 1]", "assumption")
    knowledge_noise: float = p(0.05, 0.0, 1.0, "s.d. of a firm's knowledge around its sector's")
    knowledge_spread: float = p(0.5, 0.0, 1.0, "distance of unrelated sectors from the core's")
    memory: int = p(8, 0, 1000, "past partners a firm remembers")
    search_prob: float = p(0.1, 0.0, 1.0, "per quarter when satisfied")
    search_prob_unsatisfied: float = p(0.4, 0.0, 1.0, "per quarter when profit < 0")
    max_candidates: int = p(8, 1, 1000, "candidates per search")
    #: firms of sectors that supply or buy from the searcher's (input-output relatedness)
    related_candidates: int = p(2, 0, 1000, "candidates per search", "assumption")
    random_candidates: int = p(3, 0, 1000, "random local firms per search")
    max_ties: int = p(8, 1, 10_000, "ties per firm")
    tie_cost: float = p(0.01, 0.0, 1e4, "mln RUB / tie / quarter")
    #: value of one unit of expected knowledge gain, in mln RUB per quarter per mln RUB of sales
    gain_value: float = p(0.02, 0.0, 10.0, "share of sales", "assumption")
    success_base: float = p(0.3, 0.0, 1.0, "probability", "assumption")
    #: trust: credit plus common partners raise the success chance on this scale
    trust_scale: float = p(4.0, 0.01, 1e4, "units of credit", "assumption")
    #: relational credit of a new tie, and the credit a past partner is remembered with
    initial_credit: float = p(1.0, 0.0, 100.0, "units of credit", "assumption")
    past_partner_credit: float = p(0.5, 0.0, 100.0, "units of credit", "assumption")
    credit_decay: float = p(0.2, 0.0, 1.0, "share lost per quarter without success")
    credit_min: float = p(0.1, 0.0, 100.0, "credit below which a tie dissolves")
    learning_rate: float = p(0.1, 0.0, 1.0, "knowledge convergence per joint success")
    #: distance at which the inverted-U knowledge gain peaks (Nooteboom)
    optimal_distance: float = p(0.35, 0.01, 0.99, "cognitive distance")
    initial_related_ties: float = p(0.5, 0.0, 100.0, "ties per firm by relatedness at start")


@dataclass
class InnovationConfig:
    """Nelson-Winter search with Cohen-Levinthal absorptive capacity."""

    #: R&D budget term of the hazard: rd_effect (B / rd_reference)^rd_elasticity
    rd_effect: float = p(0.01, 0.0, 100.0, "hazard per quarter at the reference budget",
                         "est.: keeps the presets' mean R&D term of an intensity-based rule, "
                         "calibrated to about 9% of firms innovating a year (CAL, L)")
    rd_reference: float = p(1.0, 1e-6, 1e6, "mln RUB of R&D a quarter", "assumption")
    rd_elasticity: float = p(0.5, 0.0, 1.0, "elasticity of the R&D term to the budget",
                             "Hall, Griliches & Hausman 1986: patents-R&D elasticity 0.3-0.6")
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
    #: a firm that moves sector moves this share of the way to its new sector's knowledge
    move_knowledge_shift: float = p(0.5, 0.0, 1.0, "share", "assumption")
    diffusion_window: int = p(4, 1, 100, "quarters an innovation counts as recent")


@dataclass
class EntryConfig:
    #: potential investors consider the town in proportion to its size
    investor_rate: float = p(2.0, 0.0, 1e4, "potential investors / quarter per 100,000 people "
                             "at attractiveness 1", "calibrated: validation town (chelny)")
    attract_tased: float = p(1.0, 0.0, 100.0, "log-rate effect of an active TASED")
    attract_land: float = p(0.5, 0.0, 100.0, "log-rate effect of free serviced plots")
    attract_urban: float = p(1.0, 0.0, 100.0, "log-rate effect of urban quality")
    attract_suppliers: float = p(0.3, 0.0, 100.0, "log-rate effect of supplier base")
    #: investors' projects: jobs drawn from a log-normal with this mean and median (heavy
    #: tail: the legal minimum of 10 jobs is 10 times below the mean)
    investor_jobs_mean: float = p(100.0, 1.0, 1e5, "jobs",
                                  "CAL: Chelny residents 5.8k jobs / about 60 residents (est.)")
    investor_jobs_median: float = p(30.0, 1.0, 1e5, "jobs", "calibrated: validation town "
                                    "(chelny) over 8, 15, 30; CAL legal minimum 10 jobs is "
                                    "10-40 times below the mean")
    #: capex per job of a project: log-normal around this median
    capex_per_job: float = p(3.3, 0.0, 1e4, "mln RUB", "CAL: 2.5-6 (est. 3.3); Chelny 2.7")
    capex_dispersion: float = p(0.3, 0.0, 3.0, "s.d. of log capex per job",
                                "est.: CAL range 2.5-6 mln RUB per job")
    hurdle: float = p(1.15, 0.0, 100.0, "required NPV / capex", "assumption")
    discount_rate: float = p(0.03, 0.0, 1.0, "per quarter", "est.: key rate ~12%/year")
    horizon_steps: int = p(40, 1, 1000, "quarters evaluated")
    land_premium: float = p(3.0, 0.0, 1e4, "mln RUB extra capex without a serviced plot")
    #: existing firms' new projects (expansions), which may apply for TASED residency if the
    #: firm keeps its headcount
    expansion_rate: float = p(0.01, 0.0, 1.0, "share of profitable firms with a project "
                              "idea a quarter", "assumption")
    spinoff_rate: float = p(2.0, 0.0, 1e4, "spinoffs / quarter per 10k employed",
                            "est.: small-firm birth rate about 5-8% a year")
    layoff_spinoff_rate: float = p(0.01, 0.0, 1.0, "spinoffs per laid-off CFE worker")
    spinoff_jobs: int = p(5, 1, 100_000, "employees")
    spinoff_knowledge_share: float = p(0.7, 0.0, 1.0, "share of parent's knowledge")
    #: a university spinoff's knowledge is pulled toward the university's frontier by this much
    university_knowledge_pull: float = p(0.2, 0.0, 1.0, "per unit of university knowledge",
                                         "assumption")
    relatedness_weight: float = p(4.0, 0.0, 100.0, "logit weight on relatedness density",
                                  "Neffke-Henning-Boschma 2011")
    #: a spinoff's sector choice weighs its parent's sector against the whole town this much
    origin_weight: float = p(0.5, 0.0, 1.0, "share", "assumption")
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
    #: the wage curve reads unemployment no lower than this
    wage_curve_floor: float = p(0.01, 0.001, 0.5, "rate", "assumption")
    wage_adjustment: float = p(0.25, 0.0, 1.0, "share of the gap to the wage curve per quarter")
    migration_base: float = p(0.003, 0.0, 1.0, "share of population per quarter",
                              "CAL: -1% to -2% a year (est.)")
    migration_unemployment: float = p(0.05, 0.0, 10.0, "per point above natural rate")
    migration_urban: float = p(0.004, 0.0, 1.0, "reduction per unit of urban quality")
    inflow_tightness: float = p(0.15, 0.0, 10.0, "in-migration per unit of unfilled vacancies")
    retirement_rate: float = p(0.006, 0.0, 1.0, "share of labour force per quarter", "est.")
    entrants_rate: float = p(0.006, 0.0, 1.0, "school leavers, share of labour force", "est.")
    graduate_retention: float = p(0.5, 0.0, 1.0, "share staying at urban quality 1")
    #: the part of graduate retention that depends on urban quality (the rest always stays)
    graduate_urban_share: float = p(0.5, 0.0, 1.0, "share", "assumption")


@dataclass
class UrbanConfig:
    investment_per_step: float = p(5.0, 0.0, 1e6, "mln RUB / quarter (municipal)", "est.")
    effect: float = p(0.05, 0.0, 1.0, "quality gain per quarter at saturation")
    half_saturation: float = p(10.0, 0.01, 1e6, "mln RUB / quarter per reference population")
    reference_population: int = p(36_000, 1, 10_000_000, "persons",
                                  "assumption: the default town's size")
    depreciation: float = p(0.01, 0.0, 1.0, "per quarter")
