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

Reporter = Callable[["ClusterModel"], float]


def total_employment(m: ClusterModel) -> float:
    return float(m.firm_employment() + m.public_jobs)


def cfe_share(m: ClusterModel) -> float:
    """CFE employees / all employment (the official mono-town criterion uses 20%)."""
    return m.cfe.employees / total_employment(m)


def _sector_shares(m: ClusterModel) -> np.ndarray:
    emp = m.sector_employment()
    return emp / emp.sum() if emp.sum() > 0 else emp


def employment_hhi(m: ClusterModel) -> float:
    """Herfindahl-Hirschman index of employment across sectors (firms only), in [0, 1]."""
    s = _sector_shares(m)
    return float((s**2).sum())


def employment_entropy(m: ClusterModel) -> float:
    """Shannon entropy of sector employment shares, in nats."""
    s = _sector_shares(m)
    s = s[s > 0]
    return float(-(s * np.log(s)).sum())


def sectors_lq_above_1(m: ClusterModel) -> float:
    return float((rules.location_quotient(m.sector_employment(), m.national_share) > 1).sum())


def _ties(m: ClusterModel) -> list[tuple[Any, Any]]:
    return [(f, g) for f in m.firms for g in f.ties if f.unique_id < g.unique_id]


def tie_count(m: ClusterModel) -> float:
    return float(sum(len(f.ties) for f in m.firms) / 2)


def tie_density(m: ClusterModel) -> float:
    n = len(m.firms)
    return 2.0 * tie_count(m) / (n * (n - 1)) if n > 1 else 0.0


def horizontal_tie_share(m: ClusterModel) -> float:
    """Share of ties that do not involve the CFE (horizontal cooperation)."""
    total = tie_count(m)
    return (total - len(m.cfe.ties)) / total if total > 0 else 0.0


def clustering_coefficient(m: ClusterModel) -> float:
    """Average local clustering coefficient (Watts-Strogatz) over firms with >= 2 ties."""
    values = []
    for f in m.firms:
        k = len(f.ties)
        if k < 2:
            continue
        nbrs = list(f.ties)
        links = sum(1 for i, a in enumerate(nbrs) for b in nbrs[i + 1:] if b in a.ties)
        values.append(2.0 * links / (k * (k - 1)))
    return float(np.mean(values)) if values else 0.0


def members(m: ClusterModel) -> float:
    return float(len(m.cmc.members)) if m.cmc is not None else 0.0


def member_sectors(m: ClusterModel) -> float:
    return float(len({f.sector for f in m.cmc.members})) if m.cmc is not None else 0.0


def member_diffusion(m: ClusterModel) -> float:
    """Share of members that innovated or adopted within the last year."""
    if m.cmc is None or not m.cmc.members:
        return 0.0
    return _recent_share(m, list(m.cmc.members))


def firm_diffusion(m: ClusterModel) -> float:
    """Share of all firms that innovated or adopted within the last year."""
    return _recent_share(m, m.firms)


def _recent_share(m: ClusterModel, firms: list) -> float:
    w = m.cfg.innovation.diffusion_window
    t = m.time_step
    hits = sum(1 for f in firms if t - max(f.last_innovation, f.last_adoption) < w)
    return hits / len(firms) if firms else 0.0


def productivity(m: ClusterModel) -> float:
    """Employment-weighted revenue per worker of the town's firms (mln RUB / quarter)."""
    emp = sum(f.employees for f in m.firms)
    return sum(f.productivity * f.employees for f in m.firms) / emp if emp else 0.0


def non_cfe_jobs(m: ClusterModel) -> float:
    return float(m.firm_employment() - m.cfe.employees)


def unemployment_rate(m: ClusterModel) -> float:
    return m.unemployed() / m.labour_force


def residents(m: ClusterModel) -> float:
    return float(sum(1 for f in m.firms if f.resident_since is not None))


def resident_jobs(m: ClusterModel) -> float:
    return float(sum(f.employees for f in m.firms if f.resident_since is not None))


def resident_investment(m: ClusterModel) -> float:
    return float(sum(f.capex for f in m.firms if f.resident_since is not None))


def plots_used(m: ClusterModel) -> float:
    return float(sum(1 for f in m.firms if f.plot))


def public_cost_cumulative(m: ClusterModel) -> float:
    """Cumulative outlays plus tax expenditures, all levels (mln RUB)."""
    L = m.ledger
    return Ledger.total(L.total_outlays) + Ledger.total(L.total_forgone)


def cost_per_new_job(m: ClusterModel) -> float:
    """Cumulative public cost per net new non-CFE job since the start (NaN if none)."""
    new = non_cfe_jobs(m) - m.records[0]["non_cfe_jobs"] if m.records else 0.0
    return public_cost_cumulative(m) / new if new > 0 else math.nan


REPORTERS: dict[str, Reporter] = {
    "cfe_share": cfe_share,
    "employment_hhi": employment_hhi,
    "employment_entropy": employment_entropy,
    "sectors_lq_above_1": sectors_lq_above_1,
    "cmc_exists": lambda m: float(m.cmc is not None),
    "members": members,
    "member_sectors": member_sectors,
    "ties": tie_count,
    "tie_density": tie_density,
    "clustering": clustering_coefficient,
    "horizontal_tie_share": horizontal_tie_share,
    "innovations": lambda m: float(m.innovations),
    "adoptions": lambda m: float(m.adoptions),
    "member_diffusion": member_diffusion,
    "firm_diffusion": firm_diffusion,
    "productivity": productivity,
    "employment": total_employment,
    "firm_employment": lambda m: float(m.firm_employment()),
    "non_cfe_jobs": non_cfe_jobs,
    "cfe_employment": lambda m: float(m.cfe.employees),
    "cfe_layoffs": lambda m: float(m.cfe_layoffs),
    "unemployed": lambda m: float(m.unemployed()),
    "unemployment_rate": unemployment_rate,
    "labour_force": lambda m: float(m.labour_force),
    "population": lambda m: float(m.population),
    "out_migration": lambda m: float(m.out_migrants),
    "wage": lambda m: float(m.wage),
    "urban_quality": lambda m: float(m.urban_quality),
    "firms": lambda m: float(len(m.firms)),
    "entries": lambda m: float(m.entries),
    "exits": lambda m: float(m.exits),
    "sector_moves": lambda m: float(m.sector_moves),
    "tased_active": lambda m: float(m.tased_active()),
    "residents": residents,
    "resident_jobs": resident_jobs,
    "resident_investment": resident_investment,
    "plots_serviced": lambda m: float(int(m.serviced_plots)),
    "plots_used": plots_used,
}


def _fiscal_reporters() -> dict[str, Reporter]:
    out: dict[str, Reporter] = {}
    for level in LEVELS:
        out[f"spend_{level}"] = lambda m, lv=level: Ledger.total(m.ledger.step_outlays, lv)
        out[f"revenue_{level}"] = lambda m, lv=level: Ledger.total(m.ledger.step_revenue, lv)
        out[f"tax_expenditure_{level}"] = \
            lambda m, lv=level: Ledger.total(m.ledger.step_forgone, lv)
    for inst in INSTRUMENTS:
        out[f"spend_{inst}"] = lambda m, it=inst: Ledger.total(m.ledger.step_outlays, None, it)
    out["spend_total"] = lambda m: Ledger.total(m.ledger.step_outlays)
    out["tax_expenditure_total"] = lambda m: Ledger.total(m.ledger.step_forgone)
    out["revenue_total"] = lambda m: Ledger.total(m.ledger.step_revenue)
    out["public_cost_cumulative"] = public_cost_cumulative
    out["cost_per_new_job"] = cost_per_new_job
    return out


REPORTERS.update(_fiscal_reporters())


def collect(m: ClusterModel) -> dict[str, float]:
    row = {"step": float(m.time_step)}
    for name, fn in REPORTERS.items():
        row[name] = float(fn(m))
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
