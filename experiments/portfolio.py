"""A national portfolio: one federal budget over the mono-towns, by allocation rule and
governance mode (`tased-experiment experiment=portfolio`).

**Design** (`portfolio_design`, the design generator `portfolio`). The towns are the national
set of synthetic towns (`simulation.towns`) of `national_seed`, all 319 or a sample stratified
by category and size (`towns: N`). One federal budget (`budget`, mln RUB over the horizon) is
shared over all 319 towns by each allocation rule (`allocate`):

- `equal`: the same amount for every town;
- `category`: in proportion to a weight per Decree 709 category (`category_weights`);
- `population`: in proportion to the town's population;
- `potential`: in proportion to `potential_score`, a score of observable traits only.

A sampled town gets what the national allocation gives it, so a sample is a sample of the
full design. Under a governance mode (a scenario preset) the town's allocation becomes that
mode's instruments: the preset's TASED infrastructure per quarter, the CMC's public money and
the cluster subsidies per quarter, all multiplied by one factor chosen so that the federal
part of their outlays over the instruments' durations equals the allocation (`instruments`).
Each mode thus keeps its preset's mix; a mode without cluster money puts it all into the site.
Amounts are for the whole real town, as every budget in the configuration is; the model
spends `town.scale` of them on the represented town. Every town also runs once under the
no-policy baseline, and every cell runs the same seeds: the town and the seeds are the same
in all of a town's cells (common random numbers).

**Analysis** (`portfolio`, the report's answer). Per rule x mode, each town's outcomes are
paired with its baseline seed by seed and taken back to the real town (divided by
`town.scale`); national totals weight each sampled town by the towns of its category it
stands for (the stratified expansion estimator). Intervals are percentile bootstrap intervals
over seeds; for a sample, a second interval also resamples the towns within each category.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from experiments.design_rows import plain, row_label, rows_hash
from simulation.config import ClusterConfig, TasedConfig
from simulation.presets import CONFIG_DIR, options as preset_options
from simulation.towns import TownTraits, national_sample, sample_slots
from simulation.towns import categories as cat
from simulation.towns.national import apportion

if TYPE_CHECKING:  # the report's types; imported when a report is written
    from experiments.analysis import Finding
    from experiments.data import SweepData
    from experiments.plots import FigureWriter

RULES = ("equal", "category", "population", "potential")
BASELINE = "baseline"
#: assumption: the order of magnitude of the Monotown Fund's planned budget for 2014-2017,
#: 29.6 bn RUB (CAL, H), spent over the horizon; per town about 94 mln RUB, inside the Fund's
#: deals of 46-252 mln RUB (CAL, M)
BUDGET = 30_000.0
#: assumption: more to the towns in worse conditions; per-town weights of categories 1, 2, 3
CATEGORY_WEIGHTS = {1: 1.5, 2: 1.0, 3: 0.5}
#: CAL (H): a town is a mono-town while its CFE employs at least 20% (Decree 709)
MONO_TOWN_CRITERION = 0.20
#: the potential score (assumption): size elasticity, and the bonus per university
POTENTIAL_SIZE_ELASTICITY = 0.5
POTENTIAL_UNIVERSITY_BONUS = 0.5
UNIT = 1000  # allocations are apportioned in thousands of RUB, so they sum to the budget
BOOTSTRAP = 2000  # bootstrap resamples
BOOTSTRAP_SEED = 20260  # the bootstrap's own stream: the report is reproducible
DEFAULTS = {"towns": 30, "national_seed": 0, "budget": BUDGET, "rules": list(RULES),
            "modes": ["top_down", "business_led", "joint"],
            "category_weights": dict(CATEGORY_WEIGHTS)}
#: the instruments a mode's preset sets, and the keys of a design row
INSTRUMENT_KEYS = ("tased.infrastructure_per_step", "cluster.public_funding",
                   "cluster.subsidy_budget")


# --------------------------------------------------------------------------- allocation


def potential_score(t: TownTraits) -> float:
    """(P / 36,000)^0.5 (1 - CFE share) (1 + 0.5 universities), from observable traits only.

    Assumption: a larger town offers more market room and firms (the generator's market room
    and firm counts grow with it); the jobs outside the CFE are the base a cluster grows from;
    a university supplies graduates, knowledge and spinoffs (ODD 4.3)."""
    size = (t.population / cat.REFERENCE_POPULATION) ** POTENTIAL_SIZE_ELASTICITY
    return size * (1.0 - t.cfe_share) * (1.0 + POTENTIAL_UNIVERSITY_BONUS * t.universities)


def rule_weights(traits: list[TownTraits], rule: str,
                 category_weights: dict[int, float] | None = None) -> list[float]:
    weights = category_weights or CATEGORY_WEIGHTS
    if rule == "equal":
        return [1.0] * len(traits)
    if rule == "category":
        return [float(weights[t.category]) for t in traits]
    if rule == "population":
        return [float(t.population) for t in traits]
    if rule == "potential":
        return [potential_score(t) for t in traits]
    raise ValueError(f"rule: {rule!r} is not an allocation rule; accepted: {', '.join(RULES)}")


def allocate(traits: list[TownTraits], rule: str, budget: float,
             category_weights: dict[int, float] | None = None) -> dict[str, float]:
    """Town id -> its share of `budget` (mln RUB) under `rule`: in proportion to the rule's
    weights, apportioned in thousands of RUB by largest remainders, so the shares sum to the
    budget (to the thousand RUB)."""
    units = apportion(int(round(budget * UNIT)), rule_weights(traits, rule, category_weights))
    return {t.town_id: u / UNIT for t, u in zip(traits, units)}


@dataclass(frozen=True)
class Mode:
    """A governance mode's instruments at its preset (mln RUB a quarter, whole town), how
    long they run and which share of them is federal money."""

    name: str
    infrastructure: float
    public_funding: float
    subsidy_budget: float
    site_quarters: int
    support_quarters: int
    fund_share: float
    federal_subsidy_share: float

    @property
    def federal_outlay(self) -> float:
        """Federal money over the instruments' durations at the preset's amounts."""
        return (self.infrastructure * self.site_quarters * self.fund_share
                + (self.public_funding + self.subsidy_budget) * self.support_quarters
                * self.federal_subsidy_share)


def mode(name: str) -> Mode:
    """The mode's instruments as its scenario preset (and the defaults) set them."""
    data = yaml.safe_load((CONFIG_DIR / "scenario" / f"{name}.yaml").read_text()) or {}
    t = {**dataclasses.asdict(TasedConfig()), **(data.get("tased") or {})}
    c = {**dataclasses.asdict(ClusterConfig()), **(data.get("cluster") or {})}
    funded = getattr(c["founder"], "value", c["founder"]) != "nobody"
    return Mode(name, float(t["infrastructure_per_step"]) if t["enabled"] else 0.0,
                float(c["public_funding"]) if funded else 0.0,
                float(c["subsidy_budget"]) if funded else 0.0,
                int(t["duration_steps"]) + int(t["extension_steps"]),
                max(0, int(c["support_end_step"]) - int(c["start_step"])),
                float(t["fund_share"]), float(c["federal_subsidy_share"]))


def instruments(m: Mode, allocation: float) -> dict[str, float]:
    """The mode's instruments scaled so that their federal outlays over their durations equal
    `allocation` (mln RUB): each instrument times allocation / the preset's federal outlay."""
    k = allocation / m.federal_outlay if m.federal_outlay > 0 else 0.0
    values = (m.infrastructure * k, m.public_funding * k, m.subsidy_budget * k)
    return {key: round(v, 6) for key, v in zip(INSTRUMENT_KEYS, values)}


# --------------------------------------------------------------------------- the design


@dataclass(frozen=True)
class PlanCell:
    rule: str  # "" for the baseline
    mode: str
    traits: TownTraits
    allocation: float  # mln RUB over the horizon (0 for the baseline)
    row: dict


def _check_choices(field: str, values: Any, accepted: list[str], noun: str) -> None:
    """ValueError naming `field` unless `values` is a non-empty list of accepted names
    without repeats."""
    if not isinstance(values, list) or not values or len(set(map(str, values))) != len(values):
        raise ValueError(f"{field}: {values!r} is not accepted; give a non-empty list "
                         f"without repeats of {', '.join(accepted)}")
    for v in values:
        if v not in accepted:
            raise ValueError(f"{field}: {v!r} is not {noun}; accepted: {', '.join(accepted)}")


def options(settings: dict) -> dict[str, Any]:
    """The design's options with their defaults, checked; ValueError naming the option."""
    spec = settings.get("design") or {}
    unknown = sorted(set(spec) - set(DEFAULTS) - {"name"})
    where = "experiment.design"
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: not an option of the portfolio design; "
                         f"accepted: {', '.join(DEFAULTS)}")
    o = {**DEFAULTS, **{k: v for k, v in spec.items() if k != "name"}}
    towns = o["towns"]
    if not (towns == "all" or (isinstance(towns, int) and not isinstance(towns, bool)
                               and 1 <= towns <= cat.TOTAL_TOWNS)):
        raise ValueError(f"{where}.towns: {towns!r} is not accepted; give a number of towns "
                         f"in 1..{cat.TOTAL_TOWNS} (a stratified sample) or 'all'")
    seed = o["national_seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"{where}.national_seed: {seed!r} is not accepted; give an integer "
                         f">= 0")
    budget = o["budget"]
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) \
            or not math.isfinite(budget) or budget <= 0 or budget > 1e9:
        raise ValueError(f"{where}.budget: {budget!r} is not accepted; give mln RUB over the "
                         f"horizon, a number in (0, 1e9]")
    rules = o["rules"]
    _check_choices(f"{where}.rules", rules, RULES, "an allocation rule")
    modes = o["modes"]
    _check_choices(f"{where}.modes", modes,
                   [s for s in preset_options("scenario") if s != BASELINE], "a governance mode")
    weights = o["category_weights"]
    if not isinstance(weights, dict) or sorted(int(k) for k in weights
                                               if str(k).isdigit()) != [1, 2, 3] \
            or len(weights) != 3:
        raise ValueError(f"{where}.category_weights: {weights!r} is not accepted; give "
                         f"{{1: w1, 2: w2, 3: w3}}, a weight per Decree 709 category")
    clean = {}
    for k, v in weights.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or v < 0:
            raise ValueError(f"{where}.category_weights.{k}: {v!r} is not accepted; give a "
                             f"number >= 0")
        clean[int(k)] = float(v)
    if sum(clean.values()) <= 0:
        raise ValueError(f"{where}.category_weights: {weights!r} is not accepted; at least "
                         f"one weight must be positive")
    o["category_weights"] = clean
    o["budget"] = float(budget)
    return o


def portfolio_plan(settings: dict) -> list[PlanCell]:
    """Every cell of the design: per sampled town its baseline, then each rule x mode."""
    o = options(settings)
    nation = national_sample(o["national_seed"])  # all 319: allocations are national
    traits = [t.traits for t in nation]
    n = None if o["towns"] == "all" else int(o["towns"])
    chosen = {slot.town_id: weight for slot, weight in sample_slots(o["national_seed"], n)}
    shares = {r: allocate(traits, r, o["budget"], o["category_weights"]) for r in o["rules"]}
    modes = {m: mode(m) for m in o["modes"]}
    out = []
    for town in nation:
        if town.town_id not in chosen:
            continue
        t = dataclasses.replace(town.traits, weight=float(chosen[town.town_id]))
        base = {"town": town.data["town"],
                "urban.investment_per_step": town.data["urban"]["investment_per_step"]}
        out.append(PlanCell("", BASELINE, t, 0.0, {"scenario": BASELINE, **base}))
        for r in o["rules"]:
            a = shares[r][town.town_id]
            for m in o["modes"]:
                out.append(PlanCell(r, m, t, a, {"scenario": m, **base,
                                                 **instruments(modes[m], a)}))
    return out


def portfolio_design(settings: dict) -> list[dict[str, Any]]:
    """Cells of the portfolio (design `portfolio`): one per town x rule x mode, and one
    baseline per town."""
    return [c.row for c in portfolio_plan(settings)]


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile bootstrap interval (NaN bounds when the draws do
    not give one)."""

    value: float
    lo: float
    hi: float

    def excludes_zero(self) -> bool:
        return np.isfinite(self.lo) and (self.lo > 0 or self.hi < 0)


def _interval(point: float, draws: np.ndarray) -> Interval:
    draws = draws[np.isfinite(draws)]
    if draws.size < 2:
        return Interval(point, math.nan, math.nan)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return Interval(point, float(lo), float(hi))


@dataclass
class Resamples:
    """Bootstrap resamples shared by every rule x mode (so that their differences are paired):
    seed weights (B x seeds) and town weights (B x towns), the latter either the fixed sample
    weights (`fixed`) or the towns resampled within their category (`towns`)."""

    seeds: np.ndarray
    fixed: np.ndarray
    towns: np.ndarray | None


def resamples(weights: np.ndarray, strata: np.ndarray, n_seeds: int, census: bool,
              b: int = BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> Resamples:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_seeds, size=(b, n_seeds))
    seeds = np.zeros((b, n_seeds))
    np.add.at(seeds, (np.repeat(np.arange(b), n_seeds), picks.ravel()), 1.0 / n_seeds)
    fixed = np.tile(weights, (b, 1))
    towns = None
    if not census:
        towns = np.zeros((b, len(weights)))
        for c in np.unique(strata):
            rows = np.flatnonzero(strata == c)
            draw = rows[rng.integers(0, len(rows), size=(b, len(rows)))]
            for i in range(b):
                np.add.at(towns[i], draw[i], weights[rows[0]])
    return Resamples(seeds, fixed, towns)


def national(values: np.ndarray, weights: np.ndarray, rs: Resamples,
             mask: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray | None]:
    """The weighted national total of per-town, per-seed values (towns x seeds): the point
    estimate, its draws over seeds, and its draws over seeds and towns (None for a census).
    `mask` keeps some towns only (a category)."""
    keep = np.ones(len(weights), bool) if mask is None else mask
    v = np.where(keep[:, None], values, 0.0)
    point = float(np.sum(weights * keep * v.mean(axis=1)))
    per_town = v @ rs.seeds.T  # towns x B: each town's mean over the resampled seeds
    by_seed = np.einsum("bi,ib->b", rs.fixed * keep, per_town)
    both = None if rs.towns is None else np.einsum("bi,ib->b", rs.towns * keep, per_town)
    return point, by_seed, both


@dataclass
class Outcome:
    """A rule x mode's national outcomes (one category's when `category` is set)."""

    rule: str
    mode: str
    category: int | None
    towns: float  # national towns it stands for
    allocation: float  # mln RUB: the federal budget these towns are allocated
    jobs: Interval  # non-CFE jobs over the baseline, persons
    jobs_wide: Interval | None  # the same, seeds and towns resampled
    cost: Interval  # public cost over the baseline, mln RUB
    tax: Interval  # of which tax expenditures (TASED rates), mln RUB
    per_job: Interval  # extra public cost per extra job, mln RUB
    leaving: Interval  # towns whose CFE share ends below the criterion
    leaving_base: Interval  # the same in the baseline
    jobs_draws: np.ndarray
    town_means: np.ndarray  # each sampled town's mean job gain (real town), its category's

    @property
    def label(self) -> str:
        return f"{self.rule} x {self.mode}"


def _ratio(point_num: float, point_den: float, num: np.ndarray, den: np.ndarray) -> Interval:
    """Cost per job: the ratio of the totals, with an interval only when every draw gains."""
    point = point_num / point_den if point_den > 0 else math.nan
    if not np.all(den > 0):
        return Interval(point, math.nan, math.nan)
    return _interval(point, num / den)


def portfolio_outcomes(data: SweepData) -> tuple[list[Outcome], dict[str, Any]]:
    """Every rule x mode's national and per-category outcomes, and facts about the sample."""
    plan = portfolio_plan(data.settings)
    rows = [plain(c.row) for c in plan]
    recorded = (data.manifest.get("design") or {}).get("hash")
    if recorded != rows_hash(rows):
        raise ValueError("the sweep's design rows differ from the portfolio design of its "
                         "settings (sweep.json was written by another version); run the "
                         "experiment again into a new directory")
    s = data.summary
    # a design cell is named by its row (d0000, ...), after the grid cell's name when the
    # command also set or swept other values (`steps=8__d0000`): one grid cell is analysed
    grids = sorted({c.rsplit("__", 1)[0] if "__" in c else "" for c in data.manifest["cells"]})
    if len(grids) > 1:
        raise ValueError(f"the portfolio is analysed for one setting of the other parameters, "
                         f"but the command swept {len(grids)} ({', '.join(grids[:3])}); run "
                         f"one command per setting")
    prefix = f"{grids[0]}__" if grids and grids[0] else ""
    cell_of = {i: prefix + row_label(i, len(plan)) for i in range(len(plan))}
    runs = {(c, int(k)): r for c, k, r in zip(s["cell"], s["seed"],
                                              s[["non_cfe_jobs_change", "public_cost",
                                                 "cfe_share", "cost_tax_expenditure"]]
                                              .to_numpy())}
    seeds = sorted(int(k) for k in s["seed"].unique())
    complete = [k for k in seeds if all((cell_of[i], k) in runs for i in range(len(plan)))]
    town_ids = list(dict.fromkeys(c.traits.town_id for c in plan))
    traits = {c.traits.town_id: c.traits for c in plan}
    weights = np.array([traits[t].weight for t in town_ids])
    strata = np.array([traits[t].category for t in town_ids])
    scale = np.array([traits[t].scale for t in town_ids])
    facts = {"seeds": complete, "all_seeds": seeds, "towns": town_ids, "weights": weights,
             "strata": strata, "census": len(town_ids) == cat.TOTAL_TOWNS}
    if len(complete) < 2:
        return [], facts

    def matrix(cells: dict[str, int], column: int) -> np.ndarray:
        return np.array([[runs[cell_of[cells[t]], k][column] for k in complete]
                         for t in town_ids])

    index: dict[tuple[str, str], dict[str, int]] = {}
    alloc: dict[tuple[str, str], dict[str, float]] = {}
    for i, c in enumerate(plan):
        index.setdefault((c.rule, c.mode), {})[c.traits.town_id] = i
        alloc.setdefault((c.rule, c.mode), {})[c.traits.town_id] = c.allocation
    base = index.pop(("", BASELINE))
    jobs_b = matrix(base, 0) / scale[:, None]
    cost_b = matrix(base, 1) / scale[:, None]
    leave_b = (matrix(base, 2) < MONO_TOWN_CRITERION).astype(float)
    tax_b = matrix(base, 3) / scale[:, None]
    rs = resamples(weights, strata, len(complete), facts["census"])
    out = []
    masks = {None: np.ones(len(town_ids), bool),
             **{int(c): strata == c for c in sorted(set(strata))}}
    for (rule, m), cells in index.items():
        d_jobs = matrix(cells, 0) / scale[:, None] - jobs_b
        d_cost = matrix(cells, 1) / scale[:, None] - cost_b
        leave = (matrix(cells, 2) < MONO_TOWN_CRITERION).astype(float)
        d_tax = matrix(cells, 3) / scale[:, None] - tax_b
        a = np.array([[alloc[rule, m][t]] for t in town_ids])
        for category, mask in masks.items():
            j, j_s, j_t = national(d_jobs, weights, rs, mask)
            c_, c_s, _ = national(d_cost, weights, rs, mask)
            tx, tx_s, _ = national(d_tax, weights, rs, mask)
            lv, lv_s, _ = national(leave, weights, rs, mask)
            lb, lb_s, _ = national(leave_b, weights, rs, mask)
            out.append(Outcome(
                rule, m, category, float(np.sum(weights * mask)),
                float(np.sum(weights * mask * a[:, 0])),
                _interval(j, j_s), None if j_t is None else _interval(j, j_t),
                _interval(c_, c_s), _interval(tx, tx_s), _ratio(c_, j, c_s, j_s),
                _interval(lv, lv_s),
                _interval(lb, lb_s), j_s, d_jobs.mean(axis=1)[mask]))
    return out, facts


CATEGORY_NAMES = {1: "worst (category 1)", 2: "worsening (category 2)",
                  3: "stable (category 3)"}


def _ci(e: Interval | None, scale: float = 1.0, signed: bool = True) -> str:
    from experiments.plots import fmt

    if e is None or not np.isfinite(e.value):
        return "n/a"
    f = (lambda v: ("+" if v > 0 else "") + fmt(v * scale)) if signed else \
        (lambda v: fmt(v * scale))
    if not np.isfinite(e.lo):
        return f(e.value)
    return f"{f(e.value)} ({f(e.lo)} to {f(e.hi)})"


def _per_job(e: Interval, words: bool = False) -> str:
    """Cost per job as a table cell, or with its unit in a sentence (`words`)."""
    if not np.isfinite(e.value):
        return "no cost per job (no job gain)" if words else "no job gain"
    return f"{_ci(e, signed=False)} mln RUB per job" if words else _ci(e, signed=False)


def portfolio(data: SweepData, writer: FigureWriter) -> Finding:
    """The report's answer: which allocation rule and which governance mode gain the most
    non-CFE jobs nationally, for which category, at what cost; tables and figures."""
    from experiments.analysis import Finding

    f = Finding()
    try:
        outcomes, facts = portfolio_outcomes(data)
    except ValueError as err:
        f.answer.append(f"The portfolio cannot be analysed: {err}.")
        return f
    if not outcomes:
        f.answer.append(f"Fewer than two seeds finished in every cell of the design "
                        f"({len(facts['seeds'])}); no national estimate is given.")
        return f
    total = [o for o in outcomes if o.category is None]
    n_towns, n_seeds = len(facts["towns"]), len(facts["seeds"])
    wide = not facts["census"]
    best = max(total, key=lambda o: o.jobs.value)
    f.answer += _headline(total, best, wide)
    f.answer += _marginals(total, n_seeds)
    f.answer += _categories(outcomes)
    f.answer += _sample_text(data, facts, n_towns, n_seeds, wide)
    f.tables.append(_national_table(total, wide))
    f.tables.append(_category_table(outcomes))
    f.tables.append(("What the portfolio assumes", "\n".join(assumptions(data.settings))))
    from experiments import plots

    f.figures.append(plots.custom(
        writer, lambda: _category_figure(outcomes), "portfolio_categories",
        "Non-CFE jobs gained over the baseline per town, by category (one panel each) and "
        "rule x mode: mean over the category's towns and seeds with a 95% bootstrap interval "
        "over seeds; grey dots are the sampled towns' own means."))
    f.figures.append(plots.custom(
        writer, lambda: _pareto_figure(total), "portfolio_pareto",
        "National non-CFE jobs gained against the extra public cost, both over the baseline "
        "and scaled to 319 towns, per rule (marker) x mode (colour), with 95% bootstrap "
        "intervals over seeds; the line joins the rules x modes no other beats on both."))
    return f


def _headline(total: list[Outcome], best: Outcome, wide: bool) -> list[str]:
    ranked = sorted(total, key=lambda o: o.jobs.value, reverse=True)
    lines = [f"**Most national non-CFE jobs: {best.rule} allocation under {best.mode}**, "
             f"{_ci(best.jobs)} jobs over the baseline in 319 towns (95% bootstrap interval "
             f"over seeds" + (f"; {_ci(best.jobs_wide)} when the sample's towns are "
             f"resampled too" if wide else "") + f"), for {_ci(best.cost, 1e-3)} bn RUB of "
             f"extra public cost, {_per_job(best.per_job, True)}. Of that cost, "
             f"{_ci(best.tax, 1e-3, signed=False)} bn RUB are TASED tax expenditures "
             f"(revenue forgone); the federal budget allocated to the instruments is "
             f"{best.allocation / 1e3:.1f} bn RUB (the sample's estimate of the "
             f"national allocation)."]
    if len(ranked) > 1:
        second = ranked[1]
        diff = best.jobs_draws - second.jobs_draws
        d = _interval(best.jobs.value - second.jobs.value, diff)
        lines.append(f"Against the runner-up ({second.label}, {_ci(second.jobs)} jobs) it "
                     f"gains {_ci(d)} jobs on the same seeds: "
                     + ("a significant lead." if d.excludes_zero() else
                        "the interval includes zero, so the two are not distinguishable "
                        "with these seeds."))
    gaining = [o for o in total if o.jobs.excludes_zero() and o.jobs.value > 0
               and np.isfinite(o.per_job.value)]
    if gaining:
        cheap = min(gaining, key=lambda o: o.per_job.value)
        lines.append(f"Cheapest job among the rules x modes whose national gain is "
                     f"significant: **{cheap.label}**, {_ci(cheap.per_job, signed=False)} "
                     f"mln RUB of extra public cost (outlays and tax expenditures of every "
                     f"level) per extra job.")
    else:
        lines.append("No rule x mode gains jobs significantly over the baseline nationally, "
                     "so no cost per job is stated as an answer.")
    lines.append(f"Towns leaving mono-town status (CFE share below "
                 f"{MONO_TOWN_CRITERION:.0%} at the end), of 319: "
                 + "; ".join(f"{o.label} {_ci(o.leaving, signed=False)}" for o in ranked)
                 + f"; in the baseline {_ci(ranked[0].leaving_base, signed=False)}"
                 + " (national estimate, mean over seeds with its 95% interval over seeds).")
    return lines


def _marginals(total: list[Outcome], n_seeds: int) -> list[str]:
    """Each rule averaged over the modes, each mode over the rules (paired draws)."""
    lines = []
    for key, name in (("rule", "allocation rule"), ("mode", "governance mode")):
        groups: dict[str, list[Outcome]] = {}
        for o in total:
            groups.setdefault(getattr(o, key), []).append(o)
        if len(groups) < 2:
            continue
        est = {g: _interval(float(np.mean([o.jobs.value for o in os])),
                            np.mean([o.jobs_draws for o in os], axis=0))
               for g, os in groups.items()}
        order = sorted(est, key=lambda g: est[g].value, reverse=True)
        lead = order[0]
        d = _interval(est[lead].value - est[order[1]].value,
                      np.mean([o.jobs_draws for o in groups[lead]], axis=0)
                      - np.mean([o.jobs_draws for o in groups[order[1]]], axis=0))
        other = "modes" if key == "rule" else "rules"
        lines.append(f"By {name} (mean over the {other}): "
                     + "; ".join(f"{g} {_ci(est[g])}" for g in order)
                     + f" national jobs. The best {name}, **{lead}**, leads {order[1]} by "
                     f"{_ci(d)} ({'significant' if d.excludes_zero() else 'not significant'}"
                     f" over {n_seeds} seeds).")
    return lines


def _categories(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for c in sorted({o.category for o in outcomes if o.category is not None}):
        mine = [o for o in outcomes if o.category == c]
        best = max(mine, key=lambda o: o.jobs.value)
        per = best.towns
        worst = min(mine, key=lambda o: o.jobs.value)
        lines.append(f"- {CATEGORY_NAMES[c].capitalize()}, {per:.0f} towns: most jobs under "
                     f"**{best.label}**, {_ci(best.jobs, 1 / per)} per town "
                     f"({_ci(best.jobs)} in the category), "
                     f"{_per_job(best.per_job, True)}; fewest under "
                     f"{worst.label}, {_ci(worst.jobs, 1 / per)} per town.")
    return (["By category (jobs gained over the baseline, mean per town, 95% interval over "
             "seeds):"] + lines) if lines else []


def _sample_text(data: SweepData, facts: dict, n_towns: int, n_seeds: int,
                 wide: bool) -> list[str]:
    o = options(data.settings)
    counts = {c: int(np.sum(facts["strata"] == c)) for c in (1, 2, 3)}
    text = (f"Design: {n_towns} towns ("
            + ", ".join(f"{counts[c]} of category {c}" for c in (1, 2, 3))
            + f"{'' if facts['census'] else ', a sample stratified by category and size'}) x "
            f"{len(o['rules'])} rules x {len(o['modes'])} modes, and a baseline per town, "
            f"on {n_seeds} seeds each; federal budget {o['budget']:,.0f} mln RUB. ")
    if facts["seeds"] != facts["all_seeds"]:
        text += (f"Only the seeds finished in every cell are used "
                 f"({', '.join(map(str, facts['seeds']))}). ")
    text += ("National figures are the sum over towns of each town's mean over seeds of its "
             "outcome minus its baseline's on the same seed, taken to the real town "
             "(divided by town.scale)")
    if wide:
        text += (", each sampled town weighted by the towns of its category it stands for "
                 "(stratified expansion estimator: category towns / sampled towns). The "
                 "intervals resample seeds (2,000 percentile-bootstrap draws): they cover the "
                 "model's randomness for these towns, not which towns were sampled; the wider "
                 "interval of the headline and the national table resamples the towns within "
                 "each category too.")
    else:
        text += (". All 319 towns ran, so the intervals (2,000 percentile-bootstrap draws "
                 "over seeds) cover the model's randomness only.")
    return [text + f" With {n_seeds} seeds the bootstrap intervals are coarse."]


def _national_table(total: list[Outcome], wide: bool) -> tuple[str, str]:
    from experiments.analysis import md_table
    from experiments.plots import fmt

    header = ["rule", "mode", "federal budget allocated (mln RUB)",
              "non-CFE jobs over baseline (95% CI, seeds)"]
    if wide:
        header.append("jobs (95% CI, seeds and towns)")
    header += ["extra public cost (mln RUB)", "of which tax expenditures (mln RUB)",
               "cost per job (mln RUB)",
               "towns leaving mono-town status", "baseline: towns leaving"]
    rows = []
    for o in sorted(total, key=lambda o: o.jobs.value, reverse=True):
        row = [o.rule, o.mode, fmt(o.allocation), _ci(o.jobs)]
        if wide:
            row.append(_ci(o.jobs_wide))
        row += [_ci(o.cost), _ci(o.tax), _per_job(o.per_job), _ci(o.leaving, signed=False),
                _ci(o.leaving_base, signed=False)]
        rows.append(row)
    return ("National outcomes per rule x mode, scaled to 319 towns (over the baseline on "
            "the same seeds; 95% percentile-bootstrap intervals)", md_table(header, rows))


def _category_table(outcomes: list[Outcome]) -> tuple[str, str]:
    from experiments.analysis import md_table

    rows = []
    for o in sorted((o for o in outcomes if o.category is not None),
                    key=lambda o: (o.category, -o.jobs.value)):
        rows.append([CATEGORY_NAMES[o.category], o.rule, o.mode,
                     _ci(o.jobs, 1 / o.towns), _ci(o.jobs),
                     _per_job(o.per_job),
                     f"{_ci(o.leaving, signed=False)} of {o.towns:.0f}",
                     _ci(o.leaving_base, signed=False)])
    return ("Outcomes by category (over the baseline on the same seeds; 95% bootstrap "
            "intervals over seeds)",
            md_table(["category", "rule", "mode", "jobs per town", "jobs in the category",
                      "cost per job (mln RUB)", "towns leaving mono-town status",
                      "baseline: towns leaving"], rows))


def assumptions(settings: dict) -> list[str]:
    """What the portfolio's answer rests on, for the report."""
    o = options(settings)
    w = o["category_weights"]
    modes = [mode(m) for m in o["modes"]]
    mix = "; ".join(
        f"{m.name}: site {m.infrastructure:g} mln RUB a quarter for {m.site_quarters} "
        f"quarters, " + (f"CMC public money up to {m.public_funding:g} and subsidies "
                         f"{m.subsidy_budget:g} a quarter for {m.support_quarters} quarters"
                         if m.public_funding + m.subsidy_budget > 0 else "no cluster money")
        for m in modes)
    return [
        f"- One federal budget of {o['budget']:,.0f} mln RUB over the horizon for all 319 "
        f"towns (assumption: the order of the Monotown Fund's planned 29.6 bn RUB for "
        f"2014-2017, CAL). It pays the federal part of the instruments: "
        f"{modes[0].fund_share:.0%} of the site infrastructure (the Fund's share) and "
        f"{modes[0].federal_subsidy_share:.0%} of the cluster money (regional co-financing "
        f"30%), both CAL; the regions pay the rest on top.",
        f"- Rules: equal; by category with per-town weights {w[1]:g} / {w[2]:g} / {w[3]:g} "
        f"for categories 1 / 2 / 3 (assumption: more to the towns in worse conditions); by "
        f"population; by potential = (P / 36,000)^{POTENTIAL_SIZE_ELASTICITY:g} x (1 - CFE "
        f"share) x (1 + {POTENTIAL_UNIVERSITY_BONUS:g} x universities), observable traits "
        f"only (assumption). Shares are apportioned over all 319 towns; a sampled town gets "
        f"its national share.",
        f"- A mode spends a town's allocation in its preset's mix of instruments, scaled so "
        f"that their federal outlays over their durations equal the allocation ({mix}). "
        f"Site money is invested only while serviced plots run short, so outlays can fall "
        f"below the allocation; a joint CMC's matching of member fees is open-ended, as in "
        f"its preset; the TASED tax breaks are not part of the budget but are part of the "
        f"public cost.",
        "- Public cost is the model's cumulative outlays and tax expenditures of every level "
        "of government over the baseline's on the same seed; cost per job is the national "
        "extra cost over the national extra jobs (no interval when some bootstrap draws gain "
        "no jobs).",
        "- Towns are the synthetic towns of simulation/towns (docs/CALIBRATION.md, "
        "'Synthetic towns'): stylised towns with calibrated or assumed traits, not the real "
        "towns; outcomes of a represented town are taken to the real town in proportion "
        "(divided by town.scale).",
        f"- A town leaves mono-town status when its CFE's share of employment ends below "
        f"{MONO_TOWN_CRITERION:.0%} (Decree 709, CAL); the other criteria (population) are "
        f"not modelled.",
        "- Everything else is the model's defaults and the mode's scenario preset; results "
        "compare allocations under the model's assumptions, not forecasts for real towns.",
    ]


def _category_figure(outcomes: list[Outcome]):
    import matplotlib.pyplot as plt

    from experiments import plots

    cats = sorted({o.category for o in outcomes if o.category is not None})
    fig, axes = plt.subplots(1, len(cats), figsize=(4.2 * len(cats), 0.5 + 0.32 * max(
        1, len([o for o in outcomes if o.category == cats[0]]))), sharey=True,
        layout="constrained", squeeze=False)
    order = sorted({(o.rule, o.mode) for o in outcomes}, reverse=True)
    for ax, c in zip(axes[0], cats):
        mine = {(o.rule, o.mode): o for o in outcomes if o.category == c}
        for y, key in enumerate(order):
            o = mine[key]
            per = 1.0 / o.towns
            ax.scatter(o.town_means, np.full(len(o.town_means), y), s=8, color="0.7",
                       zorder=1)
            lo, hi = ((o.jobs.lo * per, o.jobs.hi * per) if np.isfinite(o.jobs.lo)
                      else (o.jobs.value * per,) * 2)
            ax.errorbar(o.jobs.value * per, y, xerr=plots.error_bar(o.jobs.value * per, lo,
                                                                     hi),
                        fmt="o", color=plots.scenario_colour(o.mode), capsize=3, zorder=2)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(order)), [f"{r} x {m}" for r, m in order])
        ax.set_title(CATEGORY_NAMES[c], fontsize=10)
        ax.set_xlabel("non-CFE jobs over baseline per town (persons)")
    return fig


MARKERS = {"equal": "o", "category": "s", "population": "^", "potential": "D"}


def _pareto_figure(total: list[Outcome]):
    import matplotlib.pyplot as plt

    from experiments import plots

    fig, ax = plt.subplots(figsize=(6.8, 4.8), layout="constrained")
    for o in total:
        x, y = o.cost.value / 1000, o.jobs.value / 1000
        xerr = plots.error_bar(x, o.cost.lo / 1000, o.cost.hi / 1000) \
            if np.isfinite(o.cost.lo) else None
        yerr = plots.error_bar(y, o.jobs.lo / 1000, o.jobs.hi / 1000) \
            if np.isfinite(o.jobs.lo) else None
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt=MARKERS.get(o.rule, "o"),
                    color=plots.scenario_colour(o.mode), capsize=2, markersize=7,
                    elinewidth=0.8, alpha=0.85, label=o.label)
    front = pareto_front([(o.cost.value, o.jobs.value) for o in total])
    pts = sorted((total[i].cost.value / 1000, total[i].jobs.value / 1000) for i in front)
    if len(pts) > 1:
        ax.plot(*zip(*pts), color="black", linewidth=1, linestyle="--", zorder=0)
    low, high = ax.get_ylim()
    if low < 0 < high:  # the zero line only where it is in range: it would squash the points
        ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("extra public cost over the baseline, 319 towns (bn RUB)")
    ax.set_ylabel("non-CFE jobs over the baseline, 319 towns (thousands)")
    ax.legend(fontsize=7, ncol=2, loc="best")
    ax.set_title("Cost and national jobs per allocation rule x governance mode", fontsize=10)
    return fig


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of (cost, jobs) points no other point beats: no cheaper-or-equal point with at
    least as many jobs, better in one of the two."""
    out = []
    for i, (c, j) in enumerate(points):
        if not any((c2 <= c and j2 >= j) and (c2 < c or j2 > j)
                   for k, (c2, j2) in enumerate(points) if k != i):
            out.append(i)
    return out
