"""Model-level outputs (MODEL.md section 6): small pure reporters f(model) -> float.

`REPORTERS` maps each output column to its function; `collect` evaluates them all. The README
lists the columns with their units.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from simulation import rules
from simulation.fiscal import INSTRUMENTS, LEVELS, Ledger

if TYPE_CHECKING:
    from simulation.model import ClusterModel

Reporter = Callable[["ClusterModel", "Observation"], float]


class Observation:
    """Firm-level arrays read once per data collection and shared by the reporters."""

    def __init__(self, m: ClusterModel) -> None:
        view = m.market_view()
        firms = m.firms
        n = len(firms)
        self.employees = view["firm_emp"]
        self.productivity = view["productivity"]
        self.sector_employment = view["emp"]
        self.resident = np.fromiter((f.resident_since is not None for f in firms), bool, n)
        self.capex = np.fromiter((f.capex for f in firms), float, n)
        self.plot = np.fromiter((f.plot for f in firms), bool, n)
        self.degree = np.fromiter((len(f.ties) for f in firms), float, n)
        self.firm_jobs = float(self.employees.sum())
        self.total_jobs = self.firm_jobs + m.public_jobs
        self.cfe_jobs = float(m.cfe.employees)


def _sector_shares(o: Observation) -> np.ndarray:
    emp = o.sector_employment
    return emp / emp.sum() if emp.sum() > 0 else emp


def cfe_share(m: ClusterModel, o: Observation) -> float:
    """CFE employees / all employment (the official mono-town criterion uses 20%)."""
    return o.cfe_jobs / o.total_jobs


def employment_hhi(m: ClusterModel, o: Observation) -> float:
    """Herfindahl-Hirschman index of employment across sectors (firms only), in [0, 1]."""
    return float((_sector_shares(o) ** 2).sum())


def employment_entropy(m: ClusterModel, o: Observation) -> float:
    """Shannon entropy of sector employment shares, in nats."""
    s = _sector_shares(o)
    s = s[s > 0]
    return float(-(s * np.log(s)).sum())


def sectors_lq_above_1(m: ClusterModel, o: Observation) -> float:
    return float((rules.location_quotient(o.sector_employment, m.national_share) > 1).sum())


def tie_count(m: ClusterModel, o: Observation) -> float:
    return float(o.degree.sum() / 2)


def tie_density(m: ClusterModel, o: Observation) -> float:
    n = len(m.firms)
    return 2.0 * tie_count(m, o) / (n * (n - 1)) if n > 1 else 0.0


def horizontal_tie_share(m: ClusterModel, o: Observation) -> float:
    """Share of ties that do not involve the CFE (horizontal cooperation)."""
    total = tie_count(m, o)
    return (total - len(m.cfe.ties)) / total if total > 0 else 0.0


def clustering_coefficient(m: ClusterModel, o: Observation) -> float:
    """Average local clustering coefficient (Watts-Strogatz) over firms with >= 2 ties."""
    values = []
    for f in m.firms:
        k = len(f.ties)
        if k < 2:
            continue
        # links among neighbours, each seen from both ends; scan the smaller of two tie sets
        links = sum(_common(f.ties, a.ties) for a in f.ties) / 2
        values.append(2.0 * links / (k * (k - 1)))
    return float(np.mean(values)) if values else 0.0


def _common(a: dict, b: dict) -> int:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(1 for x in small if x in large)


def members(m: ClusterModel, o: Observation) -> float:
    return float(len(m.cmc.members)) if m.cmc is not None else 0.0


def member_sectors(m: ClusterModel, o: Observation) -> float:
    return float(len({f.sector for f in m.cmc.members})) if m.cmc is not None else 0.0


def member_diffusion(m: ClusterModel, o: Observation) -> float:
    """Share of members that innovated or adopted within the last year."""
    if m.cmc is None or not m.cmc.members:
        return 0.0
    return _recent_share(m, list(m.cmc.members))


def firm_diffusion(m: ClusterModel, o: Observation) -> float:
    """Share of all firms that innovated or adopted within the last year."""
    return _recent_share(m, m.firms)


def _recent_share(m: ClusterModel, firms: list) -> float:
    w = m.cfg.innovation.diffusion_window
    t = m.time_step
    hits = sum(1 for f in firms if t - max(f.last_innovation, f.last_adoption) < w)
    return hits / len(firms) if firms else 0.0


def productivity(m: ClusterModel, o: Observation) -> float:
    """Employment-weighted productivity: revenue per worker at full capacity (mln RUB/quarter)."""
    return float(o.productivity @ o.employees / o.firm_jobs) if o.firm_jobs else 0.0


def non_cfe_jobs(m: ClusterModel, o: Observation) -> float:
    return o.firm_jobs - o.cfe_jobs


def unemployed(m: ClusterModel, o: Observation) -> float:
    return m.labour_force - m.public_jobs - o.firm_jobs


def public_cost_cumulative(m: ClusterModel, o: Observation | None = None) -> float:
    """Cumulative outlays plus tax expenditures, all levels (mln RUB)."""
    L = m.ledger
    return Ledger.total(L.total_outlays) + Ledger.total(L.total_forgone)


def cost_per_new_job(m: ClusterModel, o: Observation) -> float:
    """Cumulative public cost per net new non-CFE job since the start (NaN if none)."""
    new = non_cfe_jobs(m, o) - m.records[0]["non_cfe_jobs"] if m.records else 0.0
    return public_cost_cumulative(m) / new if new > 0 else math.nan


REPORTERS: dict[str, Reporter] = {
    "cfe_share": cfe_share,
    "employment_hhi": employment_hhi,
    "employment_entropy": employment_entropy,
    "sectors_lq_above_1": sectors_lq_above_1,
    "cmc_exists": lambda m, o: float(m.cmc is not None),
    "members": members,
    "member_sectors": member_sectors,
    "ties": tie_count,
    "tie_density": tie_density,
    "clustering": clustering_coefficient,
    "horizontal_tie_share": horizontal_tie_share,
    "innovations": lambda m, o: float(m.innovations),
    "adoptions": lambda m, o: float(m.adoptions),
    "member_diffusion": member_diffusion,
    "firm_diffusion": firm_diffusion,
    "productivity": productivity,
    "employment": lambda m, o: o.total_jobs,
    "firm_employment": lambda m, o: o.firm_jobs,
    "non_cfe_jobs": non_cfe_jobs,
    "cfe_employment": lambda m, o: o.cfe_jobs,
    "cfe_layoffs": lambda m, o: float(m.cfe_layoffs),
    "unemployed": unemployed,
    "unemployment_rate": lambda m, o: unemployed(m, o) / m.labour_force,
    "labour_force": lambda m, o: float(m.labour_force),
    "population": lambda m, o: float(m.population),
    "out_migration": lambda m, o: float(m.out_migrants),
    "wage": lambda m, o: float(m.wage),
    "urban_quality": lambda m, o: float(m.urban_quality),
    "firms": lambda m, o: float(len(m.firms)),
    "entries": lambda m, o: float(m.entries),
    "exits": lambda m, o: float(m.exits),
    "sector_moves": lambda m, o: float(m.sector_moves),
    "tased_active": lambda m, o: float(m.tased_active()),
    "residents": lambda m, o: float(o.resident.sum()),
    "resident_jobs": lambda m, o: float(o.employees[o.resident].sum()),
    "resident_investment": lambda m, o: float(o.capex[o.resident].sum()),
    "plots_serviced": lambda m, o: float(int(m.serviced_plots)),
    "plots_used": lambda m, o: float(o.plot.sum()),
}


def _fiscal_reporters() -> dict[str, Reporter]:
    out: dict[str, Reporter] = {}
    for level in LEVELS:
        out[f"spend_{level}"] = lambda m, o, lv=level: Ledger.total(m.ledger.step_outlays, lv)
        out[f"revenue_{level}"] = lambda m, o, lv=level: Ledger.total(m.ledger.step_revenue, lv)
        out[f"tax_expenditure_{level}"] = \
            lambda m, o, lv=level: Ledger.total(m.ledger.step_forgone, lv)
    for inst in INSTRUMENTS:
        out[f"spend_{inst}"] = \
            lambda m, o, it=inst: Ledger.total(m.ledger.step_outlays, None, it)
    out["spend_total"] = lambda m, o: Ledger.total(m.ledger.step_outlays)
    out["tax_expenditure_total"] = lambda m, o: Ledger.total(m.ledger.step_forgone)
    out["revenue_total"] = lambda m, o: Ledger.total(m.ledger.step_revenue)
    out["public_cost_cumulative"] = public_cost_cumulative
    out["cost_per_new_job"] = cost_per_new_job
    return out


REPORTERS.update(_fiscal_reporters())


def collect(m: ClusterModel) -> dict[str, float]:
    obs = Observation(m)
    row = {"step": float(m.time_step)}
    for name, fn in REPORTERS.items():
        row[name] = float(fn(m, obs))
    return row


def firm_rows(m: ClusterModel) -> list[dict[str, Any]]:
    """The firm-level table at one step (one row per firm)."""
    return [{
        "step": m.time_step, "firm_id": f.unique_id, "sector": m.sector_names[f.sector],
        "origin": f.origin, "is_cfe": f.is_cfe, "employees": f.employees,
        "productivity": f.productivity, "sales": f.sales, "cfe_sales": f.cfe_sales,
        "profit": f.after_tax, "net_worth": f.net_worth, "rd_intensity": f.rd_intensity,
        "resident": f.resident_since is not None, "member": f.member, "ties": len(f.ties),
        "partners": " ".join(str(g.unique_id) for g in f.ties),
        "footloose": f.footloose, "age": m.time_step - f.born,
    } for f in m.firms]
