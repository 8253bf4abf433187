"""The model's outputs (ODD 2.10), declared once: name, label, unit, definition and reporter.

`OUTPUTS` is the one registry: data collection evaluates its reporters, and the plots, the
interactive page, the README table and docs/ODD.md read its labels, units and definitions.
A reporter is a small pure function of the model and an `Observation` (the firm-level arrays
read once per collection). Flows (events, spending, revenue) refer to the quarter just
simulated; stocks to the end of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from simulation.fiscal import INSTRUMENTS, LEVELS, Ledger
from simulation.mechanisms.exits import project_rows as investor_rows
from simulation.sectors import location_quotient
from simulation.state import ORIGINS

if TYPE_CHECKING:
    from simulation.model import ClusterModel


class Observation:
    """Arrays read once per data collection and shared by the reporters."""

    def __init__(self, m: ClusterModel) -> None:
        f = m.firms
        self.employees = f.employees.astype(float)
        self.sector_employment = np.bincount(f.sector, weights=self.employees,
                                             minlength=m.sectors.n)
        self.resident = f.resident_since >= 0
        self.firm_jobs = float(self.employees.sum())
        self.total_jobs = self.firm_jobs + m.town.public_jobs
        self.cfe_jobs = float(self.employees[0])
        self.ties = len(m.ties)
        self.cfe_ties = int((m.ties.a == 0).sum())  # the CFE is row 0
        self.members = int(f.member.sum())


Reporter = Callable[["ClusterModel", Observation], float]


@dataclass(frozen=True)
class Output:
    name: str
    label: str
    unit: str
    definition: str
    reporter: Reporter | None = None  # None: a per-run summary computed by the experiments


def _shares(o: Observation) -> np.ndarray:
    emp = o.sector_employment
    return emp / emp.sum() if emp.sum() > 0 else emp


def entropy(o: Observation) -> float:
    s = _shares(o)
    s = s[s > 0]
    return float(-(s * np.log(s)).sum())


def clustering(m: ClusterModel) -> float:
    """Mean local clustering coefficient (Watts & Strogatz 1998) over firms with >= 2 ties:
    C_i = triangles_i / (k_i (k_i - 1) / 2), where triangles_i, the ties among i's partners,
    is half the sum over i's ties of the partners the two ends share."""
    ties = m.ties
    if len(ties) < 3:
        return 0.0
    n = len(m.firms)
    nb = ties.neighbours(n)
    k = nb.degree
    shared = nb.common(ties.a, ties.b)
    triangles = (np.bincount(ties.a, shared, n) + np.bincount(ties.b, shared, n)) / 2
    pairs = k * (k - 1) / 2
    counted = k >= 2
    return float((triangles[counted] / pairs[counted]).mean()) if counted.any() else 0.0


def recent_share(m: ClusterModel, mask: np.ndarray) -> float:
    """Share of the firms in `mask` that innovated or adopted within the diffusion window."""
    if not mask.any():
        return 0.0
    f = m.firms
    last = np.maximum(f.last_innovation[mask], f.last_adoption[mask])
    return float((m.time_step - last < m.cfg.innovation.diffusion_window).mean())


def unemployed(m: ClusterModel, o: Observation) -> float:
    return float(m.town.unemployed)


def share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else math.nan


def public_cost(m: ClusterModel, o: Observation | None = None) -> float:
    """Cumulative outlays plus tax expenditures, all levels (mln RUB)."""
    return Ledger.total(m.ledger.total_outlays) + Ledger.total(m.ledger.total_forgone)


def cost_per_new_job(m: ClusterModel, o: Observation) -> float:
    new = o.firm_jobs - o.cfe_jobs - m.records[0]["non_cfe_jobs"] if m.records else 0.0
    return public_cost(m) / new if new > 0 else math.nan


def _o(name: str, label: str, unit: str, definition: str, reporter: Reporter) -> Output:
    return Output(name, label, unit, definition, reporter)


OUTPUTS: tuple[Output, ...] = (
    _o("cfe_share", "CFE share of employment", "share",
       "CFE employees / (employees of all firms + public jobs); the official mono-town "
       "criterion is 20%", lambda m, o: o.cfe_jobs / o.total_jobs),
    _o("employment_hhi", "Employment concentration (HHI)", "index 0-1",
       "Herfindahl-Hirschman index of sector shares in firm employment (CFE included)",
       lambda m, o: float((_shares(o) ** 2).sum())),
    _o("employment_entropy", "Employment entropy across sectors", "nats",
       "Shannon entropy -sum s ln s of the same shares; higher is more diverse",
       lambda m, o: entropy(o)),
    _o("sectors_lq_above_1", "Sectors with location quotient > 1", "sectors",
       "number of sectors with location quotient LQ_s > 1",
       lambda m, o: float((location_quotient(o.sector_employment, m.sectors.national_share)
                           > 1).sum())),
    _o("cmc_exists", "Cluster management company exists", "0/1",
       "1 if a CMC exists at the end of the quarter", lambda m, o: float(m.cmc is not None)),
    _o("members", "Cluster members", "firms", "number of CMC members",
       lambda m, o: float(o.members)),
    _o("cluster_joins", "Firms joining the cluster", "firms / quarter",
       "firms that joined the CMC in the quarter (founders included)",
       lambda m, o: float(m.counts.joins)),
    _o("cluster_leaves", "Members leaving the cluster", "firms / quarter",
       "members that left the CMC in the quarter (not counting firms that exited town or a "
       "dissolution)", lambda m, o: float(m.counts.leaves)),
    _o("cmc_reserves", "CMC reserves", "mln RUB",
       "members' fees the CMC holds unspent at the end of the quarter",
       lambda m, o: float(m.cmc.budget) if m.cmc is not None else 0.0),
    _o("cmc_fees", "CMC fee income", "mln RUB / quarter", "fees members paid in the quarter",
       lambda m, o: float(m.cmc.fees_collected) if m.cmc is not None else 0.0),
    _o("cmc_public_income", "CMC public income", "mln RUB / quarter",
       "public money paid to the CMC in the quarter (grant or match of fees)",
       lambda m, o: float(m.cmc.public_income) if m.cmc is not None else 0.0),
    _o("member_sectors", "Sectors with cluster members", "sectors",
       "number of distinct sectors among members",
       lambda m, o: float(len(np.unique(m.firms.sector[m.firms.member])))),
    _o("ties", "Ties between firms", "ties", "number of ties", lambda m, o: float(o.ties)),
    _o("tie_density", "Tie density", "share of firm pairs",
       "2 ties / (n (n - 1)), n = number of firms",
       lambda m, o: 2.0 * o.ties / (len(m.firms) * (len(m.firms) - 1)) if len(m.firms) > 1
       else 0.0),
    _o("clustering", "Clustering coefficient", "index 0-1",
       "mean local clustering coefficient (Watts & Strogatz 1998) over firms with at least "
       "2 ties", lambda m, o: clustering(m)),
    _o("horizontal_tie_share", "Horizontal (non-CFE) ties", "share of ties",
       "share of ties that do not involve the CFE",
       lambda m, o: (o.ties - o.cfe_ties) / o.ties if o.ties else 0.0),
    _o("innovations", "Innovations", "per quarter", "successful innovations in the quarter",
       lambda m, o: float(m.counts.innovations)),
    _o("adoptions", "Adoptions", "per quarter",
       "imitations of a partner that innovated within innovation.diffusion_window quarters",
       lambda m, o: float(m.counts.adoptions)),
    _o("member_diffusion", "Members that innovated or adopted in the last year",
       "share of members", "share of members that innovated or adopted within the last "
       "innovation.diffusion_window quarters",
       lambda m, o: recent_share(m, m.firms.member) if m.cmc is not None else 0.0),
    _o("firm_diffusion", "Firms that innovated or adopted in the last year", "share of firms",
       "the same share over all firms",
       lambda m, o: recent_share(m, np.ones(len(m.firms), dtype=bool))),
    _o("productivity", "Productivity", "mln RUB / worker / quarter",
       "employment-weighted mean productivity sum A_i L_i / sum L_i of firms (revenue per "
       "worker at full capacity)",
       lambda m, o: float(m.firms.productivity @ o.employees / o.firm_jobs) if o.firm_jobs
       else 0.0),
    _o("employment", "Employment", "persons", "employees of firms + public jobs",
       lambda m, o: o.total_jobs),
    _o("firm_employment", "Employment in firms", "persons", "employees of firms (CFE included)",
       lambda m, o: o.firm_jobs),
    _o("non_cfe_jobs", "Jobs outside the CFE", "persons", "employees of firms other than the CFE",
       lambda m, o: o.firm_jobs - o.cfe_jobs),
    _o("cfe_employment", "CFE employment", "persons", "CFE employees", lambda m, o: o.cfe_jobs),
    _o("cfe_layoffs", "CFE layoffs", "persons / quarter", "workers the CFE fired in the quarter",
       lambda m, o: float(m.counts.cfe_layoffs)),
    _o("unemployed", "Unemployed", "persons", "the unemployed pool: moved by firing, exits and "
       "newcomers to the labour force in, hiring, out-migration and retirement out", unemployed),
    _o("unemployment_rate", "Unemployment rate", "share of labour force",
       "unemployed / labour force", lambda m, o: unemployed(m, o) / m.town.labour_force),
    _o("labour_force", "Labour force", "persons", "the town's labour force",
       lambda m, o: float(m.town.labour_force)),
    _o("population", "Population", "persons", "the town's population",
       lambda m, o: float(m.town.population)),
    _o("out_migration", "Out-migration", "persons / quarter",
       "members of the labour force who left the town in the quarter",
       lambda m, o: float(m.counts.out_migrants)),
    _o("in_migration", "In-migration", "persons / quarter",
       "workers who moved in to fill vacancies in the quarter",
       lambda m, o: float(m.counts.in_migrants)),
    _o("wage", "Wage", "mln RUB / worker / quarter", "the town's wage",
       lambda m, o: float(m.town.wage)),
    _o("urban_quality", "Urban environment quality", "index 0-1", "urban quality U",
       lambda m, o: float(m.town.urban_quality)),
    _o("firms", "Firms", "firms", "number of firms (CFE included)",
       lambda m, o: float(len(m.firms))),
    _o("entries", "Entries", "firms / quarter", "firms created in the quarter (investors, "
       "spinoffs, university spinoffs, outsourced units)", lambda m, o: float(m.counts.entries)),
    _o("exits", "Exits", "firms / quarter", "firms that exited in the quarter",
       lambda m, o: float(m.counts.exits)),
    _o("sector_moves", "Sector moves", "firms / quarter", "radical sector moves in the quarter",
       lambda m, o: float(m.counts.sector_moves)),
    _o("tased_active", "TASED regime in force", "0/1", "1 while the TASED regime runs",
       lambda m, o: float(m.tased_active())),
    _o("residents", "TASED residents", "firms", "TASED residents",
       lambda m, o: float(o.resident.sum())),
    _o("resident_jobs", "Jobs at TASED residents", "persons", "employees of residents",
       lambda m, o: float(o.employees[o.resident].sum())),
    _o("resident_investment", "Investment of TASED residents", "mln RUB",
       "sum of residents' investment (at entry and in later new projects)",
       lambda m, o: float(m.firms.investment[o.resident].sum())),
    _o("household_wealth", "Households' savings", "mln RUB",
       "households' savings since the start (income after tax, less spending, less capital "
       "put into spinoffs, plus owners' equity of local firms that left)",
       lambda m, o: float(m.town.household_wealth)),
    _o("cfe_share_municipal_revenue", "CFE's share of municipal tax revenue", "share",
       "taxes on the CFE and its payroll (land tax, municipal part of income tax) / municipal "
       "tax revenue in the quarter",
       lambda m, o: share(m.cfe_taxes.municipal, Ledger.total(m.ledger.step_revenue,
                                                              "municipal"))),
    _o("cfe_share_tax_revenue", "CFE's share of tax revenue", "share",
       "taxes on the CFE and its payroll (profit tax, contributions, property, land and income "
       "tax) / all tax revenue collected in town in the quarter",
       lambda m, o: share(m.cfe_taxes.total, Ledger.total(m.ledger.step_revenue))),
    _o("plots_serviced", "Serviced plots", "plots", "whole serviced plots of the TASED site",
       lambda m, o: float(int(m.site.serviced_plots))),
    _o("plots_used", "Plots in use", "plots", "firms holding a plot",
       lambda m, o: float(m.firms.plot.sum())),
)


def _fiscal_outputs() -> tuple[Output, ...]:
    def book(kind: str, level: str | None = None, item: str | None = None) -> Reporter:
        return lambda m, o: Ledger.total(getattr(m.ledger, kind), level, item)

    out = []
    for level in LEVELS:
        out += [
            _o(f"spend_{level}", f"Public outlays, {level}", "mln RUB / quarter",
               f"{level} outlays in the quarter", book("step_outlays", level)),
            _o(f"revenue_{level}", f"Tax revenue, {level}", "mln RUB / quarter",
               f"{level} tax revenue collected in the quarter", book("step_revenue", level)),
            _o(f"tax_expenditure_{level}", f"Tax expenditures, {level}", "mln RUB / quarter",
               f"{level} revenue forgone through TASED rates in the quarter",
               book("step_forgone", level))]
    for inst in INSTRUMENTS:
        out.append(_o(f"spend_{inst}", f"Outlays on {inst.replace('_', ' ')}",
                      "mln RUB / quarter", f"outlays on {inst.replace('_', ' ')} in the "
                      f"quarter, all levels", book("step_outlays", None, inst)))
    out += [
        _o("spend_total", "Public outlays", "mln RUB / quarter", "outlays in the quarter, all "
           "levels and instruments", book("step_outlays")),
        _o("tax_expenditure_total", "Tax expenditures", "mln RUB / quarter",
           "revenue forgone through TASED rates in the quarter, all levels",
           book("step_forgone")),
        _o("revenue_total", "Tax revenue", "mln RUB / quarter",
           "tax revenue collected in the quarter, all levels", book("step_revenue")),
        _o("public_cost_cumulative", "Cumulative public cost", "mln RUB",
           "cumulative outlays plus cumulative tax expenditures since the start, all levels",
           public_cost),
        _o("cost_per_new_job", "Public cost per net new non-CFE job", "mln RUB / job",
           "public_cost_cumulative / (non_cfe_jobs - non_cfe_jobs at quarter 0); empty when the "
           "denominator is not positive", cost_per_new_job),
    ]
    return tuple(out)


OUTPUTS = OUTPUTS + _fiscal_outputs()
BY_NAME: dict[str, Output] = {o.name: o for o in OUTPUTS}


def collect(m: ClusterModel) -> dict[str, float]:
    """One row of the model table: every output at the current quarter."""
    obs = Observation(m)
    row = {"step": float(m.time_step)}
    for out in OUTPUTS:
        row[out.name] = float(out.reporter(m, obs))
    return row


def project_rows(m: ClusterModel) -> list[dict[str, Any]]:
    """The run's investment projects (ODD 2.10), investors' and existing firms' new ones, those
    that left and those still in town, with what each brought and what it cost in taxes
    forgone. A project's key (an investor's quarter * 10,000 + its place among the quarter's
    arrivals; an existing firm's id) names the same project in paired runs."""
    f = m.firms
    return m.projects + investor_rows(m, np.flatnonzero((f.project >= 0) | f.expanded))


def firm_rows(m: ClusterModel) -> list[dict[str, Any]]:
    """The firm-level table at one quarter (one row per firm)."""
    f, ties = m.firms, m.ties
    partners: list[list[int]] = [[] for _ in range(len(f))]
    uid = f.uid
    for x, y in zip(ties.a.tolist(), ties.b.tolist()):
        partners[x].append(int(uid[y]))
        partners[y].append(int(uid[x]))
    names = m.sectors.names
    return [{
        "step": m.time_step, "firm_id": int(f.uid[i]), "sector": names[f.sector[i]],
        "origin": ORIGINS[f.origin[i]], "is_cfe": bool(f.is_cfe[i]),
        "employees": int(f.employees[i]), "productivity": float(f.productivity[i]),
        "sales": float(f.sales[i]), "cfe_sales": float(f.cfe_sales[i]),
        "profit": float(f.after_tax[i]), "net_worth": float(f.net_worth[i]),
        "rd_intensity": float(f.rd_intensity[i]), "resident": bool(f.resident_since[i] >= 0),
        "member": bool(f.member[i]), "ties": len(partners[i]),
        "partners": " ".join(map(str, sorted(partners[i]))),
        "footloose": bool(f.footloose[i]), "age": int(m.time_step - f.born[i]),
    } for i in range(len(f))]
