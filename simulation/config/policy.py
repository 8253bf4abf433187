"""Policy instruments: taxes, the TASED regime, the cluster programme, the CFE, shocks."""

from __future__ import annotations

from dataclasses import dataclass

from simulation.config.fields import ClusterFounder, FeeBasis, PriorityRule, ProcurementRule, p


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
    #: checked at application and then every year of residency
    max_cfe_revenue_share: float = p(0.5, 0.0, 1.0, "share of revenue", "CAL: at most 50%")
    profit_federal_1_5: float = p(0.0, 0.0, 1.0, "rate, years 1-5", "CAL")
    profit_regional_1_5: float = p(0.05, 0.0, 1.0, "rate, years 1-5", "CAL")
    profit_federal_6_10: float = p(0.02, 0.0, 1.0, "rate, years 6-10", "CAL")
    profit_regional_6_10: float = p(0.10, 0.0, 1.0, "rate, years 6-10", "CAL")
    contributions: float = p(0.076, 0.0, 1.0, "share of payroll, 10 years", "CAL")
    #: the reduced contributions go only to residents registered within this many quarters
    #: of the TASED's creation; false: the window removed in 2022
    contribution_window: bool = p(True, src="CAL: Tax Code art. 427 p.10.1; relaxed 2022")
    contribution_window_steps: int = p(12, 0, 1000, "quarters", "CAL: 3 years")
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
    #: the lowest fee of a member; the CMC sets fees to cover what public money does not
    member_fee: float = p(0.05, 0.0, 1e4, "mln RUB / member / quarter", "est.")
    #: how the CMC shares its costs among members (principle 4; founders' cost sharing)
    fee_basis: FeeBasis = p(FeeBasis.size, src="est.: membership-fee tiers by company size")
    #: managers' time and information costs of taking part, never subsidised
    participation_cost: float = p(0.03, 0.0, 1e4, "mln RUB / member / quarter", "assumption")
    #: one-off cost of joining (contract, reporting, adapting routines); waived for a firm
    #: whose partners are members enough (threshold contagion)
    switching_cost: float = p(0.2, 0.0, 1e4, "mln RUB once", "assumption")
    #: a firm that left does not rejoin for this long (it remembers why it left)
    rejoin_wait_steps: int = p(8, 0, 1000, "quarters", "assumption")
    running_cost: float = p(1.0, 0.0, 1e4, "mln RUB / quarter",
                            "est.: half of cluster organisations have <= 3 staff (CAL): "
                            "3 staff at the town wage with contributions, plus premises")
    service_cost_per_member: float = p(0.05, 0.0, 1e4, "mln RUB / member / quarter", "est.")
    #: while support lasts, the authorities reimburse an authorities-founded CMC the costs its
    #: fees do not cover, up to this much
    public_funding: float = p(5.0, 0.0, 1e6, "mln RUB / quarter, at most",
                              "est.: running cost and services of about 80 members; pilot "
                              "clusters got 76-100 mln RUB a year for whole programmes (CAL)")
    #: public roubles per rouble of member fees while support lasts (joint), paid toward the
    #: costs fees do not cover
    match_ratio: float = p(0.0, 0.0, 100.0, "ratio")
    #: money for membership and joint-project subsidies while support lasts
    subsidy_budget: float = p(0.0, 0.0, 1e6, "mln RUB / quarter", "CAL: pilot cluster subsidies")
    federal_subsidy_share: float = p(0.7, 0.0, 1.0, "share", "CAL: regional co-financing 30%")
    membership_subsidy_rate: float = p(0.5, 0.0, 1.0, "share of the fee subsidised", "assumption")
    joint_project_rate: float = p(0.5, 0.0, 1.0, "share of joint R&D costs",
                                  "CAL: up to 50% (Decree 41/2016)")
    priority_rule: PriorityRule = p(PriorityRule.location_quotient)
    #: principle 1: while public cluster money flows, the authorities court investors for the
    #: priority sectors; the same effort spread over more sectors tilts arrivals less
    courting: float = p(1.0, 0.0, 100.0, "extra attraction of all priority sectors together, "
                        "in units of one sector's", "assumption")
    #: principle 1: the CMC steers services and introductions to members in priority sectors
    targeting: float = p(1.0, 0.0, 100.0, "extra weight of a priority member", "assumption")
    #: the region reviews its priority sectors this often while the policy runs
    priority_review_steps: int = p(4, 1, 1000, "quarters", "assumption: a yearly review")
    #: add sectors with at least this many members to the priorities (joint governance)
    member_demand_priorities: bool = p(False)
    member_demand_min: int = p(3, 1, 10_000, "members")
    procurement_rule: ProcurementRule = p(ProcurementRule.open)
    min_founders: int = p(10, 1, 10_000, "firms", "CAL: industrial cluster rule >= 10")
    #: rounds in which would-be founders revise who is in at the fee that covers the costs
    founding_rounds: int = p(3, 1, 100, "rounds", "assumption")
    #: quarters in a row without members, or unable to pay its running cost, before a CMC
    #: dissolves
    dissolve_after: int = p(4, 1, 1000, "quarters")
    leave_after: int = p(3, 1, 1000, "quarters with benefit below cost")
    #: absorptive-capacity boost from CMC services at q=1 and full service intensity
    service_absorptive: float = p(0.25, 0.0, 1.0, "absorptive capacity", "assumption")
    #: informal spillover per related member, and the congestion scale (Arthur 1990)
    agglomeration: float = p(0.02, 0.0, 10.0, "inflow per related member", "assumption")
    congestion: float = p(40.0, 1.0, 1e5, "related members", "CAL: critical mass 30-50 (L)")
    #: Granovetter thresholds are drawn uniformly from [threshold_min, 1]
    threshold_min: float = p(0.3, 0.0, 1.0, "share of partners", "assumption (Granovetter 1978)")


@dataclass
class CfeConfig:
    local_procurement_share: float = p(0.05, 0.0, 1.0, "share of materials bought locally", "est.")
    #: principle 5: share of the CFE's initial employment spun off to suppliers per year
    outsourcing_rate: float = p(0.0, 0.0, 0.5, "share per year")
    outsourcing_max_share: float = p(0.25, 0.0, 0.9, "cumulative share of initial employment")
    outsourced_unit_size: int = p(60, 5, 100_000, "employees")
    #: an outsourced unit's knowledge: this share from the CFE, the rest from its new sector
    outsourced_knowledge_share: float = p(0.5, 0.0, 1.0, "share", "assumption")
    #: an outsourced unit counts as the CFE's affiliate (no TASED residency) this long
    divest_after_steps: int = p(20, 0, 10_000, "quarters", "assumption")
    #: CFE R&D intensity (large firms do more)
    rd_intensity: float = p(0.01, 0.0, 0.5, "share of sales", "est.")
    max_suppliers: int = p(40, 0, 100_000, "supplier ties the CFE keeps")


@dataclass
class ShockConfig:
    step: int = p(-1, -1, 10_000, "step of a fall in CFE demand (-1 = none)")
    size: float = p(0.3, 0.0, 0.99, "fall in core-sector demand")
    duration_steps: int = p(8, 1, 10_000, "quarters before demand recovers")
