"""One synthetic mono-town: drawn from a category, a CFE sector and a seed.

`draw_town(category, cfe_sector, seed)` draws a real town (its population, labour market, CFE
share, firms, sector mix, suppliers, universities and municipal budget; `categories` states
each distribution and its source), chooses how much of it the model represents (`town.scale`,
the rule of `categories.MAX_FIRMS`) and writes it as a town preset would be written: plain data
checked by the configuration's own validation. The same seed gives the same town.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import simulation.towns.categories as cat
from simulation.config import (ConfigError, ModelConfig, SectorConfig, SectorKind, TownConfig,
                               UniversityConfig, UrbanConfig, build, validate)
from simulation.towns.templates import Template, template

SUPPLIER_KINDS = ("related", "supporting")  # sectors that can supply the CFE (ODD 4.12)


@dataclass(frozen=True)
class TownTraits:
    """What an allocation rule can observe of a town: real-town figures, not the sample's."""

    town_id: str
    category: int
    cfe_sector: str
    population: int
    cfe_share: float  # the CFE's share of all employment (town.cfe_employment_share)
    cfe_jobs: int  # the CFE's employees
    unemployment: float  # rate at the start
    university: bool
    universities: int
    municipal_budget: float  # mln RUB / quarter: the town's outlay on its urban environment
    scale: float  # the represented fraction (town.scale)
    firms: int  # represented firms besides the CFE at the start
    seed: int
    quantile: float  # the town's quantile of the population distribution
    weight: float = 1.0  # national towns this town stands for in a sample

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SyntheticTown:
    traits: TownTraits
    #: plain data as a preset and an override would give it:
    #: {"town": {...}, "urban": {"investment_per_step": ...}}
    data: dict[str, Any]

    @property
    def town_id(self) -> str:
        return self.traits.town_id

    def config(self) -> ModelConfig:
        """A fresh validated configuration: this town, every other section at its default."""
        return to_config(self.data)

    @property
    def town(self) -> TownConfig:
        return self.config().town

    def preset(self) -> dict[str, Any]:
        """The town as the content of a preset file (`simulation/configs/town/NAME.yaml`)."""
        return copy.deepcopy(self.data["town"])

    def overrides(self) -> dict[str, Any]:
        """Overrides for `presets.load_config(town, scenario, overrides)` or
        `ClusterModel.from_presets`: the whole `town` node, typed (OmegaConf replaces a
        structured node only by its own type), and the municipal budget."""
        return {"town": self.town,
                "urban.investment_per_step": self.data["urban"]["investment_per_step"]}

    def model_config(self, extra: dict[str, Any] | None = None) -> ModelConfig:
        """The town with other sections' plain data (a scenario, `seed`, `steps`, ...) through
        the schema's full path (`config.build`)."""
        return build(_merge(copy.deepcopy(self.data), extra or {}))


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def to_config(data: dict[str, Any]) -> ModelConfig:
    """Plain data of a town (and the urban section) -> a validated ModelConfig.

    The schema's dataclasses are built directly and checked by `config.validate`, the range
    and cross-field checks that `config.build` ends with, so a bad draw fails as a bad preset
    does; `build(data)` gives the same configuration (tests check) but its OmegaConf merge
    costs about 80 ms a town."""
    town = dict(data["town"])
    try:
        sectors = [SectorConfig(**{**s, "kind": SectorKind(s["kind"]),
                                   "related": list(s.get("related", []))})
                   for s in town.pop("sectors")]
        universities = [UniversityConfig(**u) for u in town.pop("universities")]
        cfg = ModelConfig(town=TownConfig(**town, sectors=sectors, universities=universities),
                          urban=UrbanConfig(**data.get("urban", {})))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"town: {err}") from None
    return validate(cfg)


@dataclass(frozen=True)
class Jobs:
    labour_force: int
    public: int
    firms: int  # jobs in firms, the CFE's included
    cfe: int

    @property
    def others(self) -> int:
        return self.firms - self.cfe


def employment(population: int, participation: float, public_share: float,
               unemployment: float, cfe_share: float) -> Jobs:
    """The start's jobs as `setup.build` makes them (ODD 3.2, steps 2-3): LF = round(N p),
    public jobs round(LF g), jobs in firms LF - public - round(LF u), the CFE's
    round(s (jobs in firms + public))."""
    lf = int(round(population * participation))
    public = int(round(lf * public_share))
    firms = lf - public - int(round(lf * unemployment))
    return Jobs(lf, public, firms, int(round(cfe_share * (firms + public))))


def _clipped(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return float(min(hi, max(lo, rng.normal(mean, sd))))


def _share_of_halves(population: float, half: float) -> float:
    """P^2 / (P^2 + half^2): a probability rising with size, 1/2 at `half`."""
    return population ** 2 / (population ** 2 + half ** 2)


def represented(firms_per_job: float, jobs: Jobs) -> float:
    """`town.scale` by the rule of `categories.MAX_FIRMS`: 1 for a town that starts with at
    most MAX_FIRMS firms besides the CFE, else MAX_FIRMS / its firms."""
    firms = firms_per_job * jobs.others
    return 1.0 if firms <= cat.MAX_FIRMS else cat.MAX_FIRMS / firms


def draw_town(category: int, cfe_sector: str, seed: int, *, population: int | None = None,
              quantile: float | None = None, name: str | None = None) -> SyntheticTown:
    """A town of Decree 709's `category` (1, 2 or 3) whose CFE is in `cfe_sector` (one of
    `templates.CFE_SECTORS`), drawn from `seed`.

    `population` fixes the real population and `quantile` its quantile of the national
    distribution (the national set stratifies it); the other draws do not change with them.
    Raises ConfigError, naming the field, if the town fails the configuration's validation."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: {seed!r} must be a non-negative integer")
    if quantile is not None and not 0.0 <= quantile < 1.0:
        raise ValueError(f"quantile: {quantile!r} must lie in [0, 1)")
    prof, tmpl = cat.profile(category), template(cfe_sector)
    rng = np.random.default_rng(int(seed))
    u = float(rng.random())  # always drawn, so the rest of the stream never moves
    q = u if quantile is None else quantile
    if population is None:
        pop = int(round(cat.population_quantile(q)))
    else:
        pop, q = int(population), cat.population_cdf(population)
    return _draw(prof, tmpl, rng, int(seed), pop, q,
                 name if name is not None else f"c{int(category)}_{cfe_sector}_{seed}")


def _draw(prof: cat.CategoryProfile, tmpl: Template, rng: np.random.Generator, seed: int,
          pop: int, quantile: float, name: str) -> SyntheticTown:
    x = math.log(pop / cat.REFERENCE_POPULATION)
    part, pub, une, sk, ur = (cat.PARTICIPATION, cat.PUBLIC_JOBS, cat.UNEMPLOYMENT, cat.SKILLED,
                              cat.URBAN)
    participation = _clipped(rng, part["mean"], part["sd"], part["min"], part["max"])
    unemployment = _clipped(rng, prof.unemployment, une["sd"], une["min"], une["max"])
    public = _clipped(rng, pub["mean"], pub["sd"], pub["min"], pub["max"])
    cfe_share = _clipped(rng, cat.CFE_SHARE_BASE + prof.cfe_share_shift + cat.CFE_SHARE_SLOPE * x,
                         cat.CFE_SHARE_SD, cat.CFE_SHARE_MIN, cat.CFE_SHARE_MAX)
    skilled = _clipped(rng, sk["base"] + sk["slope"] * x, sk["sd"], sk["min"], sk["max"])
    wage = cat.WAGE["base"] * math.exp(cat.WAGE["elasticity"] * x
                                       + rng.normal(0.0, cat.WAGE["sd"]))
    urban = _clipped(rng, ur["base"] + ur["slope"] * x + prof.urban_shift, ur["sd"], ur["min"],
                     ur["max"])
    density = cat.FIRM_DENSITY["median"] * math.exp(rng.normal(0.0, cat.FIRM_DENSITY["sd"]))
    sup = cat.SUPPLIER_SHARE
    supplier_share = _clipped(rng, sup["mean"], sup["sd"], sup["min"], sup["max"])
    budget = (cat.BUDGET["per_reference"] * pop / cat.REFERENCE_POPULATION * prof.budget_factor
              * math.exp(rng.normal(0.0, cat.BUDGET["sd"])))
    # the town's shares as a preset would state them; the jobs follow from the stated values
    participation, unemployment, public, cfe_share, skilled, urban = (
        round(v, 4) for v in (participation, unemployment, public, cfe_share, skilled, urban))
    labour = (participation, public, unemployment, cfe_share)
    scale = represented(density / 1000.0, employment(pop, *labour))
    rep_pop = pop if scale == 1.0 else int(round(pop * scale))
    scale = rep_pop / pop
    jobs = employment(rep_pop, *labour)
    firms = int(round(density / 1000.0 * max(0, jobs.others)))

    sectors = tmpl.sector_data()
    shares = rng.dirichlet([max(cat.SECTOR_CONCENTRATION * s, 1e-3) for s in tmpl.firm_shares])
    counts = rng.multinomial(firms, shares)
    growth = (pop / tmpl.population) ** cat.MARKET_ROOM_ELASTICITY
    for sector, n in zip(sectors, counts):
        sector["initial_firms"] = int(n)
        if sector.get("market_room_abs", 0.0):
            sector["market_room_abs"] = round(sector["market_room_abs"] * growth, 2)
    suppliers = sum(int(n) for s, n in zip(sectors, counts) if s["kind"] in SUPPLIER_KINDS)
    plots = int(rng.poisson(cat.PLOTS["mean"] * (rep_pop / cat.PLOTS["reference"])
                            ** cat.PLOTS["elasticity"]))
    universities = _universities(rng, pop, rep_pop)

    town = {
        "name": name, "scale": round(scale, 6), "population": rep_pop,
        "participation": participation, "unemployment": unemployment,
        "skilled_share": skilled, "public_jobs_share": public,
        "cfe_sector": tmpl.cfe_sector, "cfe_employment_share": cfe_share,
        "cfe_suppliers": int(round(supplier_share * suppliers)),
        "wage": round(wage, 4), "urban_quality": urban, "serviced_plots": plots,
        "universities": universities, "sectors": sectors,
    }
    data = {"town": town, "urban": {"investment_per_step": round(budget, 3)}}
    config = to_config(data)
    traits = TownTraits(
        town_id=name, category=int(prof.category), cfe_sector=tmpl.cfe_sector, population=pop,
        cfe_share=cfe_share, cfe_jobs=int(round(jobs.cfe / config.town.scale)),
        unemployment=unemployment, university=bool(universities),
        universities=len(universities), municipal_budget=data["urban"]["investment_per_step"],
        scale=config.town.scale, firms=firms, seed=seed, quantile=quantile)
    return SyntheticTown(traits=traits, data=data)


def _universities(rng: np.random.Generator, pop: int, rep_pop: int) -> list[dict[str, Any]]:
    """None, one or two universities, more likely in larger towns; graduates in proportion to
    the represented population."""
    first, second = cat.UNIVERSITY_HALF
    draws = rng.random(2)
    n = 0
    if draws[0] < _share_of_halves(pop, first):
        n = 2 if draws[1] < _share_of_halves(pop, second) else 1
    out = []
    for spec in cat.UNIVERSITIES[:n]:
        lo, hi = spec["capacity"]
        graduates = spec["graduates_median"] * math.exp(rng.normal(0.0, spec["graduates_sd"]))
        out.append({
            "name": spec["name"],
            "knowledge": round(float(rng.uniform(*spec["knowledge"])), 3),
            "capacity": int(rng.integers(lo, hi + 1)),
            "graduates_per_step": round(graduates * rep_pop / 1000.0, 1),
            "spinoff_rate": round(float(rng.uniform(*spec["spinoff_rate"])), 3),
        })
    return out
