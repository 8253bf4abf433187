"""Stage 5: the labour market (ODD 4.7): hiring and firing toward sales, skills, the wage curve.

Firms move a share of the way from their employees to what their sales need (an entrant to
its plan while it ramps up); only a profitable firm expands. Hiring draws on the unemployed
pool, skilled workers for knowledge-intensive sectors; the wage follows a wage curve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simulation.model import ClusterModel


def wage_update(wage: float, reference_wage: float, unemployment: float,
                reference_unemployment: float, elasticity: float, adjustment: float,
                floor: float) -> float:
    """Wage curve (Blanchflower & Oswald 1994): w* = w_0 (u / u_0)^(-e), u floored;
    the wage moves a share `adjustment` of the way to w* each quarter."""
    target = reference_wage * (max(unemployment, floor) / reference_unemployment) ** -elasticity
    return wage + adjustment * (target - wage)


def adjust_employment(model: ClusterModel, rng: np.random.Generator) -> None:
    cfg, f, town = model.cfg, model.firms, model.town
    emp = f.employees.copy()
    target = f.sales / (f.productivity * f.output_factor)
    ramping = f.ramp_from >= model.time_step - cfg.entry.ramp_up_steps
    target = np.maximum(target, np.where(ramping, f.planned_jobs, 0))
    desired = np.round(emp + cfg.firms.labour_adjustment * (target - emp)).astype(np.int64)
    # only a profitable firm expands; any firm sheds labour it cannot sell the output of
    desired = np.maximum(np.where(f.after_tax > 0, desired, np.minimum(desired, emp)), 0)
    fired = np.maximum(emp - desired, 0)
    emp -= fired
    model.counts.cfe_layoffs = int(fired[0])  # row 0 is the CFE
    model.cfe_state.last_layoffs = int(fired[0])  # drives next quarter's spinoffs
    requests = np.maximum(desired - emp, 0)
    pool = town.unemployed + int(fired.sum())
    need = model.sectors.skill_need[f.sector]
    skilled_pool = max(0.0, min(pool, town.skilled - float((emp * need).sum())))
    total = requests.sum()
    share_all = min(1.0, pool / total) if total > 0 else 1.0
    skilled_total = float((requests * need).sum())
    share_skilled = min(1.0, skilled_pool / skilled_total) if skilled_total > 0 else 1.0
    hires = np.floor(requests * np.minimum(share_all, 1.0 - need * (1.0 - share_skilled)))
    hires = hires.astype(np.int64)
    model.counts.unfilled = int(total - hires.sum())
    f.employees = emp + hires
    town.unemployed = pool - int(hires.sum())
    lab = cfg.labour
    town.wage = wage_update(town.wage, cfg.town.wage, model.unemployed() / town.labour_force,
                            cfg.town.unemployment, lab.wage_elasticity, lab.wage_adjustment,
                            lab.wage_curve_floor)
