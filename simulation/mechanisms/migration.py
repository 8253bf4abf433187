"""Stage 10: the town (ODD 4.7; principle 3): migration, retirement, school leavers, graduates.

Out-migration rises with unemployment above its natural rate and falls with urban quality
(Harris-Todaro); unfilled vacancies draw in-migrants; graduates stay in town more when the urban
environment is better; workers retire from every firm, the public sector and the unemployed
pool alike. The labour force identity (employed + unemployed = labour force) holds
because unemployment is the labour force minus public and firm jobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simulation.model import ClusterModel


def out_migration_rate(unemployment: float, natural: float, urban: float, base: float,
                       unemployment_effect: float, urban_effect: float) -> float:
    """Quarterly out-migration share: m = max(0, m0 + b_u (u - u*)^+ - b_U U) (Harris-Todaro)."""
    return max(0.0, base + unemployment_effect * max(0.0, unemployment - natural)
               - urban_effect * urban)


def urban_quality_update(quality: float, investment: float, population: float, effect: float,
                         half_saturation: float, reference_population: float,
                         depreciation: float) -> float:
    """U' = U + e * I/(I + I_half) * (1 - U) - delta U, with I_half per reference population
    (municipal spending on the urban environment, principle 3)."""
    half = half_saturation * population / reference_population
    gain = effect * investment / (investment + half) if investment > 0 else 0.0
    return min(1.0, max(0.0, quality + gain * (1.0 - quality) - depreciation * quality))


def graduates_staying(graduates: float, retention: float, urban_share: float,
                      urban: float) -> int:
    """Graduates who stay: g * r * ((1 - s) + s U), s the share of retention that depends on
    urban quality U."""
    return int(round(graduates * retention * (1.0 - urban_share + urban_share * urban)))


def update_town(model: ClusterModel, rng: np.random.Generator) -> None:
    lab, town, f = model.cfg.labour, model.town, model.firms
    pool = town.unemployed
    rate = out_migration_rate(pool / town.labour_force, lab.natural_unemployment,
                              town.urban_quality, lab.migration_base,
                              lab.migration_unemployment, lab.migration_urban)
    movers = min(pool, int(round(rate * town.labour_force)))
    skilled_employed = float((f.employees * model.sectors.skill_need[f.sector]).sum())
    skilled_free = max(0, town.skilled - int(skilled_employed))
    skilled_movers = min(skilled_free, int(round(movers * skilled_free / pool))) if pool else 0
    school = int(round(lab.entrants_rate * town.labour_force))
    # retirement: the employed and the unemployed alike; public jobs are refilled at once
    # from the pool, firms' jobs in the hiring of the next quarter
    from_firms = rng.binomial(f.employees, lab.retirement_rate)
    f.employees -= from_firms
    from_pool = min(pool - movers, int(round(lab.retirement_rate
                                             * (pool - movers + town.public_jobs))))
    retire = int(from_firms.sum()) + from_pool
    grads = sum(graduates_staying(u.graduates_per_step, lab.graduate_retention,
                                  lab.graduate_urban_share, town.urban_quality)
                for u in model.universities)
    inflow = int(round(lab.inflow_tightness * model.counts.unfilled))
    model.counts.out_migrants, model.counts.in_migrants = movers, inflow
    town.labour_force += school + grads + inflow - movers - retire
    town.unemployed += school + grads + inflow - movers - from_pool
    town.skilled += grads - skilled_movers \
        - int(round(retire * town.skilled / max(1, town.labour_force)))
    town.skilled = max(0, min(town.skilled, town.labour_force))
    town.population += (inflow + grads - movers) / model.cfg.town.participation
