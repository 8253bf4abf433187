"""The national facts of the 319 mono-towns and the distributions synthetic towns are drawn from.

Facts are cited as "CAL" (docs/CALIBRATION.md, with its confidence); everything else is an
assumption, most of them fitted to the four town presets (whose values are themselves
estimates), and says so. docs/CALIBRATION.md, section "Synthetic towns", tabulates every drawn
quantity (the names in `DRAWN`) with its distribution, parameters and source.

Sizes are real-town figures here; `generator` turns them into the represented town of a
preset (`town.scale`). `x = ln(P / REFERENCE_POPULATION)` is a town's log size relative to the
default town, the regressor of the size effects below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from statistics import NormalDist

# --------------------------------------------------------------------------- national facts

#: CAL (H): Decree 709 list, 2015-16 counts 94 / 154 / 71
TOTAL_TOWNS = 319
#: CAL (M): population of the 319 towns, 2016
TOTAL_POPULATION = 13_500_000
#: the national set's total population must lie within this share of TOTAL_POPULATION
#: (tests/test_towns.py holds the generator to it across seeds)
POPULATION_TOLERANCE = 0.10
#: the default town's size (Sokol 36k, CAL): presets' defaults are set for it
REFERENCE_POPULATION = 36_000


class Category(IntEnum):
    """Decree 709's categories of mono-towns (CAL, H)."""

    worst = 1  # at risk of the worst conditions: the most difficult socio-economic situation
    worsening = 2  # at risk of worsening
    stable = 3  # stable


@dataclass(frozen=True)
class CategoryProfile:
    """What a category changes in a draw. Only `towns` is a fact; the shifts are assumptions:
    a worse category means a town more dependent on its CFE, with more unemployment, a poorer
    urban environment and a smaller municipal budget per person."""

    category: Category
    towns: int  # CAL (H): 2015-16 count
    cfe_share_shift: float  # added to the mean CFE share of jobs
    unemployment: float  # mean unemployment rate at the start
    urban_shift: float  # added to the mean urban quality
    budget_factor: float  # multiplies the municipal budget per person


PROFILES = {
    Category.worst: CategoryProfile(Category.worst, 94, 0.04, 0.065, -0.03, 0.8),
    Category.worsening: CategoryProfile(Category.worsening, 154, 0.0, 0.05, 0.0, 1.0),
    Category.stable: CategoryProfile(Category.stable, 71, -0.04, 0.04, 0.03, 1.2),
}


def profile(category: int) -> CategoryProfile:
    try:
        return PROFILES[Category(category)]
    except ValueError:
        raise ValueError(f"category: {category!r} is not one of 1, 2, 3 (Decree 709)") from None


# --------------------------------------------------------------------------- population

#: CAL (H): a mono-town has more than 3,000 people (Decree 709)
POPULATION_MIN = 3_000
#: assumption: no mono-town reaches a million; the largest in the facts, Tolyatti, has 700k
POPULATION_MAX = 1_000_000
#: log-normal truncated to [POPULATION_MIN, POPULATION_MAX]; mu and sigma solve two conditions:
#: the truncated mean is TOTAL_POPULATION / TOTAL_TOWNS = 42.3k (CAL), and the median of the
#: largest of 319 towns is Tolyatti's 700k (CAL: about 700k; est.: it is the largest)
POPULATION_MU = 9.46
POPULATION_SIGMA = 1.48
POPULATION_LARGEST = 700_000

_NORMAL = NormalDist()


def _population_bounds() -> tuple[float, float]:
    """Standard-normal CDF at the truncation points of log population."""
    lo = _NORMAL.cdf((math.log(POPULATION_MIN) - POPULATION_MU) / POPULATION_SIGMA)
    hi = _NORMAL.cdf((math.log(POPULATION_MAX) - POPULATION_MU) / POPULATION_SIGMA)
    return lo, hi


def population_quantile(u: float) -> float:
    """The population at quantile u in (0, 1) of the truncated log-normal."""
    lo, hi = _population_bounds()
    z = _NORMAL.inv_cdf(min(max(lo + u * (hi - lo), 1e-12), 1.0 - 1e-12))
    return math.exp(POPULATION_MU + POPULATION_SIGMA * z)


def population_cdf(population: float) -> float:
    """The share of towns at most this large under the truncated log-normal."""
    lo, hi = _population_bounds()
    z = (math.log(population) - POPULATION_MU) / POPULATION_SIGMA
    return min(1.0, max(0.0, (_NORMAL.cdf(z) - lo) / (hi - lo)))


def population_mean() -> float:
    """Mean of the truncated log-normal: exp(mu + s^2/2) times the ratio of the normal masses
    of the truncation interval shifted by s^2 and unshifted."""
    mu, s = POPULATION_MU, POPULATION_SIGMA
    a, b = math.log(POPULATION_MIN), math.log(POPULATION_MAX)
    shifted = _NORMAL.cdf((b - mu - s * s) / s) - _NORMAL.cdf((a - mu - s * s) / s)
    plain = _NORMAL.cdf((b - mu) / s) - _NORMAL.cdf((a - mu) / s)
    return math.exp(mu + s * s / 2) * shifted / plain


# --------------------------------------------------------------------------- CFE and sectors

#: assumption: shares of the model's three CFE sectors in the national set. The model's sector
#: tables know three CFE sectors (the presets'), which stand for all of the towns' industries;
#: pulp and paper is given the largest share because forestry, paper and wood processing are
#: the largest group of Russian single-industry settlements (Lyubovny 2018, as summarised by
#: Goble 2018; L), steel and automotive (for metallurgy and machine-building) the rest
CFE_SECTOR_WEIGHTS = {"pulp_paper": 0.4, "steel": 0.3, "automotive": 0.3}

#: CFE share of employment: clip(N(base + shift_c + slope x, sd), min, max).
#: min: CAL (H), the mono-town criterion of 20% (a listed town meets it; Tolyatti and Chelny
#: sit at it in the presets, KAMAZ's 47k of about 250k jobs being 19%, CAL). base, slope, sd:
#: assumption fitted to the presets (Sokol 0.3 at 36k; Tagil 0.25 at 339k; Tolyatti, Chelny 0.2
#: at 700k, 510k): larger towns depend less on their CFE. max: assumption, leaves jobs for
#: other firms.
CFE_SHARE_BASE = 0.30
CFE_SHARE_SLOPE = -0.04
CFE_SHARE_SD = 0.06
CFE_SHARE_MIN = 0.20
CFE_SHARE_MAX = 0.60

#: assumption (presets 0.2-0.22): public jobs share of the labour force, clip(N(mean, sd))
PUBLIC_JOBS = {"mean": 0.21, "sd": 0.015, "min": 0.15, "max": 0.28}
#: assumption (presets 0.5-0.52): labour force / population, clip(N(mean, sd))
PARTICIPATION = {"mean": 0.51, "sd": 0.015, "min": 0.45, "max": 0.58}
#: unemployment at the start: clip(N(profile mean, sd)); assumption (presets 0.05)
UNEMPLOYMENT = {"sd": 0.01, "min": 0.02, "max": 0.15}
#: skilled share: clip(N(base + slope x, sd)); assumption fitted to the presets
#: (0.18 at 36k, 0.22 at 339k, 0.25 at 510-700k)
SKILLED = {"base": 0.18, "slope": 0.025, "sd": 0.02, "min": 0.08, "max": 0.40}
#: wage: base (P / 36k)^elasticity LogNormal(0, sd); assumption fitted to the presets
#: (0.12 at 36k, 0.14-0.15 mln RUB a quarter at 339-700k)
WAGE = {"base": 0.12, "elasticity": 0.06, "sd": 0.05}
#: urban quality: clip(N(base + slope x + shift_c, sd)); assumption fitted to the presets
#: (0.35 at 36k, 0.4 at 339k, 0.45 at 510-700k)
URBAN = {"base": 0.35, "slope": 0.035, "sd": 0.04, "min": 0.1, "max": 0.8}

#: firms besides the CFE per 1,000 jobs in firms outside the CFE: LogNormal(ln median, sd);
#: assumption fitted to the presets (19.7-24.3, a mean firm of 41-51 employees)
FIRM_DENSITY = {"median": 21.8, "sd": 0.12}
#: sector mix: firm shares ~ Dirichlet(concentration x the template preset's shares), firm
#: counts ~ Multinomial(firms, shares); assumption (a sector with 10% of firms varies by
#: about a fifth of its share)
SECTOR_CONCENTRATION = 200.0
#: the CFE's suppliers at the start, a share of the firms in related and supporting sectors,
#: clip(N(mean, sd)); assumption fitted to the presets (0.21-0.28)
SUPPLIER_SHARE = {"mean": 0.24, "sd": 0.03, "min": 0.1, "max": 0.5}
#: absolute unmet demand of a sector (`market_room_abs`, for the whole town) grows with the
#: town as (P / P_template)^elasticity; assumption fitted to the presets' IT market
#: (10 mln RUB a quarter at 36k, 15 at 339k, 25 at 510-700k)
MARKET_ROOM_ELASTICITY = 0.3
#: serviced plots ~ Poisson(mean (represented population / reference)^0.5); assumption
#: fitted to the presets (2-4 plots at 36-70k represented people)
PLOTS = {"mean": 3.0, "reference": 56_000, "elasticity": 0.5}

# --------------------------------------------------------------------------- universities

#: P(at least one) = P^2 / (P^2 + c1^2), P(a second | one) = P^2 / (P^2 + c2^2); assumption:
#: small mono-towns seldom have a university, the large ones (Tolyatti, Chelny) have two
UNIVERSITY_HALF = (25_000, 300_000)
#: traits of the first and the second university, uniform in [lo, hi] (capacity: integers);
#: graduates per quarter per 1,000 represented people: LogNormal(ln median, sd). Assumption
#: fitted to the presets' universities (first: knowledge 0.4-0.65, capacity 5-10, 0.36-0.83
#: graduates per 1,000, spinoffs 0.05-0.15; second: 0.4-0.45, 4-5, 0.14-0.2, 0.03-0.05)
UNIVERSITIES = (
    {"name": "university", "knowledge": (0.4, 0.7), "capacity": (4, 10),
     "graduates_median": 0.5, "graduates_sd": 0.35, "spinoff_rate": (0.05, 0.15)},
    {"name": "second_university", "knowledge": (0.35, 0.5), "capacity": (3, 6),
     "graduates_median": 0.17, "graduates_sd": 0.3, "spinoff_rate": (0.02, 0.06)},
)

# --------------------------------------------------------------------------- budget, scale

#: municipal budget for the urban environment (`urban.investment_per_step`, for the whole
#: town): per_reference (P / 36k) budget_factor_c LogNormal(0, sd). per_reference: the
#: default of 5 mln RUB a quarter, set for the default town (est.); proportional to population
#: and the category factor: assumption
BUDGET = {"per_reference": 5.0, "sd": 0.25}

#: the scale rule: a town is represented in full (`town.scale` = 1) unless it would start with
#: more than MAX_FIRMS firms besides the CFE; then by the fraction MAX_FIRMS / its firms, so
#: that any town starts with at most about 1,000 firms and ends a 60-quarter run with at most
#: about 1,500 (firms grow by a third to a half over a run). Small towns are not blown up:
#: their few firms are a trait of theirs
MAX_FIRMS = 1000

#: every quantity a draw sets, as named in docs/CALIBRATION.md's table "Synthetic towns"
DRAWN = (
    "category", "town.cfe_sector", "town.population", "town.scale",
    "town.cfe_employment_share", "town.participation", "town.unemployment",
    "town.public_jobs_share", "town.skilled_share", "town.wage", "town.urban_quality",
    "firm density", "town.sectors[].initial_firms", "town.sectors[].market_room_abs",
    "town.cfe_suppliers", "town.serviced_plots", "town.universities",
    "urban.investment_per_step",
)
