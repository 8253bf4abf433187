"""Which levers matter (Q5): Morris screening, then Sobol indices on the factors that survive.

Two experiments, run one after the other:

- `sensitivity` (design `morris`): Morris elementary effects (SALib 1.6) over every factor
  listed in `experiment.design.factors`: the six principles' levers, the policy instruments and
  key uncertain parameters, each over a range inside its accepted range. The report ranks the
  factors by mu* (mean absolute elementary effect) per outcome and keeps those whose mu* reaches
  `options.screen_threshold` of the largest for some outcome (at most `options.max_factors`):
  `screening.json` in the sweep directory.
- `sensitivity_sobol` (design `sobol`): Sobol first-order and total indices with bootstrap
  confidence intervals over the factors the screening kept (read from the screening sweep's
  directory, `experiment.design.screening`); the factors it dropped stay at their defaults.
  The sample holds 2N base points, so the indices are computed at N (its first half) and at 2N:
  the convergence check.

A design row is one point of the sample; it runs under the base scenario
(`experiment.design.scenario`) and every scenario in `experiment.design.compare`, on the
experiment's seeds (common random numbers). Its outcome is the mean over the seeds; the
indices are computed on these means in the sample's row order. The paired differences between
the base and the first compared scenario give the replication-count analysis (how many seeds a
scenario difference needs) and, with experiments.discovery, the region of parameter space
where a claim holds (PRIM).

Factors: `{range: [lo, hi]}` (a number), `{range: [lo, hi], integer: true}`, or
`{levels: [a, b, ...]}` (a categorical choice, sampled as a number in [0, n_levels) whose whole
part picks the level). Each range must lie within the parameter's accepted range
(simulation.config); the report lists both with the parameter's unit and source.

Plotting is imported only when a report is written: the design functions are called before a
sweep starts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from experiments.discovery import row_means
from experiments.layout import MANIFEST
from simulation.config import field_docs
from simulation.presets import CONFIG_DIR, options as preset_options

if TYPE_CHECKING:  # the report's types; imported when a report is written
    from experiments.analysis import Finding
    from experiments.data import SweepData
    from experiments.plots import FigureWriter

#: files the Morris report writes into its sweep directory (read by the Sobol design)
SCREENING_FILE = "screening.json"
MORRIS_FILE = "morris_indices.csv"
SOBOL_FILE = "sobol_indices.csv"
REPLICATION_FILE = "replications.csv"
#: significant digits of sampled values (the cell's override and its key in the analysis)
DIGITS = 6
#: seeds shown in the replication-count analysis
SEED_COUNTS = (2, 3, 5, 10, 20, 30, 50, 100)
MORRIS_LEVELS = 4


# --------------------------------------------------------------------------- factors


@dataclass(frozen=True)
class Factor:
    """One input of the sample: a config parameter over a range, or a categorical choice."""

    name: str  # dotted config key, e.g. cluster.brokerage
    lo: float = 0.0
    hi: float = 1.0
    levels: tuple = ()  # categorical levels; the sampled number's whole part picks one
    integer: bool = False
    group: str = ""  # what the factor stands for (a principle, an instrument, ...)
    note: str = ""  # why the range is what it is

    @property
    def bounds(self) -> list[float]:
        return [0.0, float(len(self.levels))] if self.levels else [float(self.lo),
                                                                   float(self.hi)]

    def value(self, u: float) -> Any:
        """The model value of a sampled number."""
        if self.levels:
            return self.levels[min(int(math.floor(u)), len(self.levels) - 1)]
        if self.integer:
            return int(round(u))
        return float(f"{u:.{DIGITS}g}")

    def range_text(self) -> str:
        if self.levels:
            return " / ".join(str(v) for v in self.levels)
        return f"{_num(self.lo)} to {_num(self.hi)}" + (" (integer)" if self.integer else "")


def _num(x: float) -> str:
    return f"{x:g}"


def _schema() -> dict[str, dict]:
    """Accepted range, default, unit and source of every config parameter by name."""
    return {r["name"]: r for r in field_docs()}


def parse_factors(specs: Any, where: str) -> list[Factor]:
    """Factors from a mapping name -> {range | levels, integer, group, note}; ValueError naming
    the entry when a name is not a parameter or a range leaves the accepted range."""
    if not isinstance(specs, dict) or not specs:
        raise ValueError(f"{where}: give a non-empty mapping of parameter -> "
                         f"{{range: [lo, hi]}} or {{levels: [...]}}")
    schema = _schema()
    out = []
    for name, spec in specs.items():
        at = f"{where}.{name}"
        if name not in schema:
            raise ValueError(f"{at}: not a model parameter (see simulation/config or "
                             f"docs/ODD.md)")
        if not isinstance(spec, dict):
            raise ValueError(f"{at}: give {{range: [lo, hi]}} or {{levels: [...]}}")
        row = schema[name]
        meta = {"group": str(spec.get("group", "")), "note": str(spec.get("note", ""))}
        if "levels" in spec:
            levels = spec["levels"]
            if not isinstance(levels, list) or len(levels) < 2:
                raise ValueError(f"{at}.levels: give at least two levels")
            default = row["default"]
            allowed = [e.value for e in type(default)] if hasattr(default, "value") else None
            if isinstance(default, bool):
                allowed = [True, False]
            if allowed is not None and any(v not in allowed for v in levels):
                raise ValueError(f"{at}.levels: {levels} are not all accepted values "
                                 f"({', '.join(map(str, allowed))})")
            out.append(Factor(name, levels=tuple(levels), **meta))
            continue
        rng = spec.get("range")
        if not (isinstance(rng, list) and len(rng) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
                and rng[0] < rng[1]):
            raise ValueError(f"{at}.range: {rng!r} is not accepted; give [lo, hi] with lo < hi")
        lo_ok, hi_ok = row["lo"], row["hi"]
        if (lo_ok is not None and rng[0] < lo_ok) or (hi_ok is not None and rng[1] > hi_ok):
            raise ValueError(f"{at}.range: {rng} leaves the accepted range [{lo_ok}, {hi_ok}]")
        integer = bool(spec.get("integer", isinstance(row["default"], int)))
        out.append(Factor(name, float(rng[0]), float(rng[1]), integer=integer, **meta))
    return out


def problem(factors: list[Factor]) -> dict:
    """SALib's problem definition."""
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [f.bounds for f in factors]}


def factor_table(factors: list[Factor], base: dict | None = None) -> list[list[str]]:
    """Rows: factor, what it stands for, range sampled, value in the base scenario (its
    preset, else the default), accepted range, unit, source, note."""
    schema = _schema()
    rows = []
    for f in factors:
        r = schema[f.name]
        default = (base or {}).get(f.name, getattr(r["default"], "value", r["default"]))
        accepted = ("any listed value" if f.levels else
                    f"{_num(r['lo'])} to {_num(r['hi'])}" if r["hi"] is not None else
                    f"at least {_num(r['lo'])}")
        rows.append([f"`{f.name}`", f.group, f.range_text(), str(default), accepted,
                     r["unit"], r["source"] or "assumption", f.note])
    return rows


# --------------------------------------------------------------------------- scenarios


def scenario_values(names: list[str]) -> dict[str, dict[str, Any]]:
    """The config values that make each scenario, over the keys any scenario preset sets
    (keys a preset leaves alone take the model's default), plus its `scenario` label. A cell
    built from them equals the preset whatever scenario the sweep composed first."""
    flat = {name: _flatten(yaml.safe_load((CONFIG_DIR / "scenario" / f"{name}.yaml")
                                          .read_text()) or {})
            for name in preset_options("scenario")}
    keys = sorted({k for v in flat.values() for k in v} - {"scenario"})
    schema = _schema()
    out = {}
    for name in names:
        if name not in flat:
            raise ValueError(f"scenario {name!r} is not one of {', '.join(flat)}")
        values = {"scenario": name}
        for k in keys:
            default = schema[k]["default"]
            values[k] = flat[name].get(k, getattr(default, "value", default))
        out[name] = values
    return out


def _flatten(node: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in node.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


# --------------------------------------------------------------------------- designs


@dataclass
class Design:
    """A sample and the cells that run it: `x` holds the sampled numbers (SALib's rows, in
    order), `rows` the model values, `cells[s][i]` the cell of row i under scenario s."""

    kind: str  # morris or sobol
    factors: list[Factor]
    x: np.ndarray
    scenarios: list[str]  # the base scenario first
    settings: dict = field(default_factory=dict)  # the design's settings
    screening: dict = field(default_factory=dict)  # the Sobol stage: what the screening kept

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [{f.name: f.value(u) for f, u in zip(self.factors, row)} for row in self.x]

    @property
    def base(self) -> str:
        return self.scenarios[0]

    def cells(self) -> dict[str, list[dict[str, Any]]]:
        """The base scenario's factor values override its preset; a compared scenario's preset
        overrides the factors (its defining instruments are not varied)."""
        presets = scenario_values(self.scenarios)
        out = {}
        for s in self.scenarios:
            own = s == self.base
            out[s] = [{**presets[s], **row} if own else {**row, **presets[s]}
                      for row in self.rows]
        return out


def design_settings(settings: dict) -> dict:
    d = settings.get("design")
    if not isinstance(d, dict):
        raise ValueError("experiment.design: a mapping with the design's name and options "
                         "is required")
    return d


def _int(d: dict, key: str, default: int, lo: int, where: str) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ValueError(f"{where}.{key}: {v!r} is not accepted; give an integer of at "
                         f"least {lo}")
    return v


def _scenarios(d: dict, where: str, base: str | None = None) -> list[str]:
    base = base or d.get("scenario", "top_down")
    compare = d.get("compare") or []
    if not isinstance(compare, list):
        raise ValueError(f"{where}.compare: give a list of scenarios")
    names = [base, *[c for c in compare if c != base]]
    known = preset_options("scenario")
    for s in names:
        if s not in known:
            raise ValueError(f"{where}: scenario {s!r} is not one of {', '.join(known)}")
    return names


def _only(d: dict, where: str) -> Any:
    """The factors to sample: all of `factors`, or those named in `only` (a list)."""
    specs, only = d.get("factors"), d.get("only")
    if only is None or not isinstance(specs, dict):
        return specs
    if not isinstance(only, list) or not only:
        raise ValueError(f"{where}.only: {only!r} is not accepted; give a list of factor names "
                         f"(of {', '.join(specs)}) or null for all")
    unknown = [n for n in only if n not in specs]
    if unknown:
        raise ValueError(f"{where}.only: {', '.join(map(str, unknown))} not among the factors; "
                         f"accepted: {', '.join(specs)}")
    return {n: specs[n] for n in only}


def morris_plan(settings: dict) -> Design:
    """The Morris sample (SALib, Campolongo's optimised trajectories off: plain r
    trajectories) of the factors in `experiment.design.factors`."""
    from SALib.sample import morris

    d = design_settings(settings)
    where = "experiment.design"
    factors = parse_factors(_only(d, where), f"{where}.factors")
    r = _int(d, "trajectories", 10, 2, where)
    levels = _int(d, "levels", MORRIS_LEVELS, 2, where)
    seed = _int(d, "seed", 0, 0, where)
    x = morris.sample(problem(factors), r, num_levels=levels, seed=seed)
    return Design("morris", factors, x, _scenarios(d, where), d)


def sobol_plan(settings: dict) -> Design:
    """The Sobol sample (SALib, scrambled Sobol sequence, first-order and total indices) of
    2N base points over the factors the screening kept (or `experiment.design.factors`, a list
    of names from the screening's factors)."""
    from SALib.sample import sobol

    d = design_settings(settings)
    where = "experiment.design"
    screening = read_screening(d.get("screening"), f"{where}.screening")
    specs = screening["factors"]
    chosen = d.get("factors") or screening["selected"]
    if not isinstance(chosen, list) or not chosen:
        raise ValueError(f"{where}.factors: give a list of factor names (of "
                         f"{', '.join(specs)})")
    unknown = [c for c in chosen if c not in specs]
    if unknown:
        raise ValueError(f"{where}.factors: {', '.join(map(str, unknown))} not among the "
                         f"screened factors ({', '.join(specs)})")
    factors = parse_factors({c: specs[c] for c in chosen}, f"{where}.factors")
    n = _int(d, "samples", 64, 2, where)
    if n & (n - 1):
        raise ValueError(f"{where}.samples: {n} is not a power of 2 (the Sobol sequence's "
                         f"balance properties need one)")
    seed = _int(d, "seed", 0, 0, where)
    x = sobol.sample(problem(factors), 2 * n, calc_second_order=False, seed=seed)
    # the scenarios of the screening unless the Sobol stage names its own
    scen = {"compare": screening.get("compare") or [], **d}
    return Design("sobol", factors, x, _scenarios(scen, where, screening["scenario"]), d,
                  screening)


PLANS = {"morris": morris_plan, "sobol": sobol_plan}


def plan(settings: dict) -> Design:
    name = design_settings(settings).get("name")
    if name not in PLANS:
        raise ValueError(f"experiment.design.name: {name!r} is not a sensitivity design; "
                         f"accepted: {', '.join(PLANS)}")
    return PLANS[name](settings)


def _unique_cells(design: Design) -> list[dict[str, Any]]:
    """Every distinct cell of the design, base scenario first, in row order (identical points
    run once: a compared scenario ignores the instruments its preset fixes)."""
    seen, out = set(), []
    for cells in design.cells().values():
        for cell in cells:
            key = cell_key(cell)
            if key not in seen:
                seen.add(key)
                out.append(cell)
    return out


def morris_design(settings: dict) -> list[dict[str, Any]]:
    """Cells of the Morris screening (design `morris`): one per row and scenario."""
    return _unique_cells(morris_plan(settings))


def sobol_design(settings: dict) -> list[dict[str, Any]]:
    """Cells of the Sobol stage (design `sobol`): one per row and scenario."""
    return _unique_cells(sobol_plan(settings))


def read_screening(directory: Any, where: str) -> dict:
    """What the Morris stage kept: `screening.json` of its sweep directory."""
    if not isinstance(directory, str) or not directory.strip():
        raise ValueError(f"{where}: give the directory of the screening sweep (the "
                         f"`sensitivity` experiment's, e.g. results/experiments/"
                         f"sensitivity/sokol)")
    path = Path(directory) / SCREENING_FILE
    if not path.is_file():
        raise ValueError(f"{where}: {path} does not exist; run the screening first "
                         f"(tased-experiment experiment=sensitivity, with the same town and "
                         f"out_dir) and let it finish (or tased-aggregate its directory)")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{where}: {path} cannot be read ({err})") from None
    if not all(k in data for k in ("selected", "factors", "scenario")):
        raise ValueError(f"{where}: {path} lacks selected, factors or scenario; aggregate "
                         f"the screening sweep again")
    return data


# --------------------------------------------------------------------------- rows of a sweep


def _canon(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):.{DIGITS}g}"
    text = str(getattr(value, "value", value))
    low = text.lower()
    if low in ("true", "false"):
        return low
    try:
        return f"{float(text):.{DIGITS}g}"
    except ValueError:
        return text


def cell_key(values: dict[str, Any]) -> str:
    """A cell's identity from its values (numbers to DIGITS significant digits)."""
    return json.dumps(sorted((k, _canon(v)) for k, v in values.items()))


def row_outcomes(design: Design, data: SweepData, outcomes: list[str]) -> dict[str, dict]:
    """Per scenario and outcome, a rows x seeds array of run values (NaN where a run did not
    finish), in the design's row order."""
    seeds = sorted(int(s) for s in data.summary["seed"].unique())
    design_cells = design.cells()
    # a cell is matched on the design's keys only: a fixed command-line override (steps=8)
    # is a parameter of every cell too
    keys = {k for cells in design_cells.values() for cell in cells for k in cell}
    by_key = {}
    for c in data.cells:
        params = {k: v for k, v in data.cell_params[c].items() if k in keys}
        params["scenario"] = data.cell_scenario[c]
        by_key[cell_key(params)] = c
    s = data.summary.set_index(["cell", "seed"])
    out: dict[str, dict] = {}
    for scen, cells in design_cells.items():
        names = [by_key.get(cell_key(cell)) for cell in cells]
        out[scen] = {}
        for m in outcomes:
            arr = np.full((len(cells), len(seeds)), np.nan)
            col = s[m] if m in s.columns else None
            for i, c in enumerate(names):
                if c is None or col is None:
                    continue
                for j, seed in enumerate(seeds):
                    v = col.get((c, seed))
                    if v is not None:
                        arr[i, j] = float(v)
            out[scen][m] = arr
    return out


# --------------------------------------------------------------------------- indices


def complete_blocks(y: np.ndarray, size: int) -> np.ndarray:
    """Indices of the blocks of `size` consecutive rows (a Morris trajectory, a Sobol base
    point) whose every row is finite."""
    blocks = y[: len(y) // size * size].reshape(-1, size)
    return np.flatnonzero(np.isfinite(blocks).all(axis=1))


def morris_indices(factors: list[Factor], x: np.ndarray, y: np.ndarray,
                   levels: int = MORRIS_LEVELS, resamples: int = 1000,
                   seed: int = 0) -> pd.DataFrame:
    """mu, mu*, its bootstrap 95% CI half-width and sigma per factor (SALib's Morris
    analysis) over the complete trajectories; mu* normalised by the largest."""
    from SALib.analyze import morris

    k = len(factors)
    keep = complete_blocks(y, k + 1)
    rows = np.concatenate([np.arange(b * (k + 1), (b + 1) * (k + 1)) for b in keep]) \
        if len(keep) else np.array([], dtype=int)
    frame = pd.DataFrame({"factor": [f.name for f in factors]})
    if len(keep) < 2:
        for col in ("mu", "mu_star", "mu_star_conf", "sigma", "mu_star_norm"):
            frame[col] = np.nan
        frame["trajectories"] = len(keep)
        return frame
    si = morris.analyze(problem(factors), x[rows], y[rows], num_levels=levels,
                        num_resamples=resamples, seed=seed)
    frame["mu"] = np.asarray(si["mu"], dtype=float)
    frame["mu_star"] = np.asarray(si["mu_star"], dtype=float)
    frame["mu_star_conf"] = np.asarray(si["mu_star_conf"], dtype=float)
    frame["sigma"] = np.asarray(si["sigma"], dtype=float)
    top = frame["mu_star"].max()
    frame["mu_star_norm"] = frame["mu_star"] / top if top > 0 else 0.0
    frame["trajectories"] = len(keep)
    return frame


def sobol_indices(factors: list[Factor], y: np.ndarray, resamples: int = 1000,
                  seed: int = 0) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices with bootstrap 95% CI half-widths per
    factor (SALib, Saltelli/Jansen estimators) over the complete base points."""
    from SALib.analyze import sobol

    k = len(factors)
    keep = complete_blocks(y, k + 2)
    frame = pd.DataFrame({"factor": [f.name for f in factors]})
    rows = np.concatenate([np.arange(b * (k + 2), (b + 1) * (k + 2)) for b in keep]) \
        if len(keep) else np.array([], dtype=int)
    yy = y[rows]
    if len(keep) < 2 or not np.ptp(yy) > 0:  # no variance: no index is defined
        for col in ("S1", "S1_conf", "ST", "ST_conf"):
            frame[col] = np.nan
    else:
        si = sobol.analyze(problem(factors), yy, calc_second_order=False,
                           num_resamples=resamples, seed=seed)
        for col in ("S1", "S1_conf", "ST", "ST_conf"):
            frame[col] = np.asarray(si[col], dtype=float)
    frame["base_points"] = len(keep)
    return frame


def screen(tables: dict[str, pd.DataFrame], threshold: float, max_factors: int) -> list[str]:
    """Factors whose mu* reaches `threshold` of the largest mu* for some outcome, ranked by
    their largest normalised mu*, at most `max_factors`."""
    score: dict[str, float] = {}
    for t in tables.values():
        for name, v in zip(t["factor"], t["mu_star_norm"]):
            if np.isfinite(v):
                score[name] = max(score.get(name, 0.0), float(v))
    ranked = sorted(score, key=lambda n: -score[n])
    return [n for n in ranked if score[n] >= threshold][:max_factors]


# --------------------------------------------------------------------------- replications


def t_half_width(sd: float, n: int, level: float = 0.95) -> float:
    from scipy import stats as sps

    if n < 2 or not np.isfinite(sd):
        return math.nan
    return float(sps.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)


def replication_table(per_seed: np.ndarray, counts: tuple = SEED_COUNTS) -> pd.DataFrame:
    """How wide a 95% CI of a per-seed quantity (a paired scenario difference) is with n seeds.

    `per_seed` is rows x seeds (one design point per row). The seed-to-seed standard deviation
    is pooled over the rows (root mean variance) and the half-width t_{n-1} s / sqrt(n) is
    given for each n; `resolved` is the share of design points whose mean difference would
    exceed the half-width of their own standard deviation with n seeds (the sign of the
    difference is then resolved), `observed` the half-width measured with the first n seeds
    (median over rows) where the sample has that many."""
    ok = np.isfinite(per_seed).all(axis=1)
    v = per_seed[ok]
    reps = v.shape[1] if v.size else 0
    rows = []
    if reps < 2 or not len(v):
        return pd.DataFrame(columns=["seeds", "half_width", "observed", "resolved"])
    sd_rows = v.std(axis=1, ddof=1)
    pooled = float(np.sqrt(np.mean(sd_rows ** 2)))
    means = np.abs(v.mean(axis=1))
    for n in sorted(set(counts) | set(range(2, reps + 1))):
        half = t_half_width(pooled, n)
        observed = (float(np.median([t_half_width(float(np.std(r[:n], ddof=1)), n)
                                     for r in v])) if n <= reps else math.nan)
        resolved = float(np.mean([means[i] > t_half_width(float(sd_rows[i]), n)
                                  if sd_rows[i] > 0 else means[i] > 0
                                  for i in range(len(v))]))
        rows.append({"seeds": n, "half_width": half, "observed": observed,
                     "resolved": resolved})
    out = pd.DataFrame(rows)
    out.attrs.update(pooled_sd=pooled, median_abs_difference=float(np.median(means)),
                     rows=int(len(v)), seeds_in_sample=int(reps))
    return out


def seeds_needed(table: pd.DataFrame, effect: float) -> int | None:
    """The fewest seeds whose pooled half-width is below |effect| (None when none is)."""
    if not len(table) or not np.isfinite(effect) or effect == 0:
        return None
    sd = table.attrs.get("pooled_sd", math.nan)
    if not np.isfinite(sd):
        return None
    if sd == 0:
        return 2
    for n in range(2, 100_001):
        if t_half_width(sd, n) < abs(effect):
            return n
    return None


# --------------------------------------------------------------------------- the report


def sensitivity(data: SweepData, writer: FigureWriter) -> Finding:
    """The `sensitivity` analysis: Morris or Sobol indices, the replication count and the
    PRIM boxes of the discovery questions (experiments.discovery)."""
    from experiments import discovery
    from experiments.analysis import Finding, md_table

    f = Finding()
    design = plan(data.settings)
    outcomes = [m for m in data.settings["outcomes"] if m in data.summary.columns]
    values = row_outcomes(design, data, outcomes)
    base = values[design.base]
    seeds = int(data.summary["seed"].nunique())
    n_rows = len(design.x)
    done = int(np.isfinite(row_means(base[outcomes[0]])).sum()) if outcomes else 0
    f.answer.append(
        f"{'Morris screening' if design.kind == 'morris' else 'Sobol indices'} of "
        f"{len(design.factors)} factors under **{design.base}** on {seeds} seeds per design "
        f"point: {n_rows} design points ({done} complete), each the mean over the same seeds"
        + (f"; compared with {', '.join(design.scenarios[1:])} at every point"
           if len(design.scenarios) > 1 else "") + ".")
    f.tables.append(("Factors and their ranges (range sampled; accepted range, unit and source "
                     "of the parameter in simulation/config)",
                     md_table(["factor", "stands for", "range sampled",
                               f"value in {design.base}", "accepted range", "unit", "source",
                               "note"],
                              factor_table(design.factors,
                                           scenario_values([design.base])[design.base]))))
    resamples = int(data.option("resamples", 1000))
    if design.kind == "morris":
        _morris_section(f, data, design, base, outcomes, writer, resamples)
    else:
        _sobol_section(f, data, design, base, outcomes, writer, resamples)
    _replication_section(f, data, design, values, outcomes, writer)
    discovery.section(f, data, design, values, writer)
    f.answer.append(f"Indices are computed on the mean over seeds of each design point, so "
                    f"seed-to-seed noise that the {seeds} seeds do not average out is "
                    f"attributed to the factors; the replication table says how many seeds a "
                    f"given precision needs. Numbers are model results under the model's "
                    f"assumptions, not forecasts.")
    return f


def _indices_table(name: str, t: pd.DataFrame, cols: list[tuple[str, str]]) -> list[list[str]]:
    from experiments.plots import fmt

    rows = []
    for _, r in t.iterrows():
        row = [name, f"`{r['factor']}`"]
        for col, conf in cols:
            v = r[col]
            c = r[conf] if conf else math.nan
            row.append(f"{fmt(v)} (± {fmt(c)})" if conf and np.isfinite(c) else fmt(v))
        rows.append(row)
    return rows


def _morris_section(f: Finding, data: SweepData, design: Design, base: dict,
                    outcomes: list[str], writer: FigureWriter, resamples: int) -> None:
    from experiments.analysis import md_table
    from experiments.plots import label, lower

    levels = int(design.settings.get("levels", MORRIS_LEVELS))
    tables = {m: morris_indices(design.factors, design.x, row_means(base[m]), levels,
                                resamples) for m in outcomes}
    threshold = float(data.option("screen_threshold", 0.1))
    max_factors = int(data.option("max_factors", 8))
    selected = screen(tables, threshold, max_factors)
    frame = pd.concat([t.assign(outcome=m) for m, t in tables.items()], ignore_index=True)
    frame.to_csv(data.sweep_dir / MORRIS_FILE, index=False)
    specs = _only(design_settings(data.settings), "experiment.design")
    (data.sweep_dir / SCREENING_FILE).write_text(json.dumps({
        "selected": selected, "threshold": threshold, "max_factors": max_factors,
        "scenario": design.base, "compare": design.scenarios[1:],
        "factors": specs, "outcomes": outcomes,
        "scores": {r["factor"]: float(frame.loc[frame["factor"] == r["factor"],
                                                "mu_star_norm"].max())
                   for _, r in tables[outcomes[0]].iterrows()} if outcomes else {}},
        indent=1, default=str))
    for m, t in tables.items():
        top = t.sort_values("mu_star", ascending=False).head(3)
        if top["mu_star"].notna().any() and not top["mu_star"].max() > 0:
            f.answer.append(f"- {label(m)}: does not vary over the sample (mu* = 0 for every "
                            f"factor).")
        elif top["mu_star"].notna().any():
            f.answer.append(f"- {label(m)}: largest mu* " + "; ".join(
                f"`{r['factor']}` {_fmt_ci(r['mu_star'], r['mu_star_conf'])}"
                for _, r in top.iterrows()) + ".")
    f.answer.insert(1, f"Factors ranked by mu* (mean absolute elementary effect, in the "
                       f"outcome's unit per full range of the factor; 95% bootstrap CI) for each "
                       f"outcome:")
    f.answer.append(
        f"Screening kept {len(selected)} factor(s) whose mu* reaches {threshold:.0%} of the "
        f"largest for some outcome (at most {max_factors}): "
        + (", ".join(f"`{s}`" for s in selected) or "none")
        + f". The Sobol stage (`tased-experiment experiment=sensitivity_sobol`) reads them from "
          f"`{SCREENING_FILE}` in this directory.")
    rows = []
    for m, t in tables.items():
        rows += _indices_table(lower(label(m)), t.sort_values("mu_star", ascending=False),
                               [("mu_star", "mu_star_conf"), ("sigma", ""), ("mu", ""),
                                ("mu_star_norm", "")])
    f.tables.append(("Morris indices per outcome: mu* (± 95% bootstrap half-width), sigma "
                     "(spread of the elementary effects: interactions or non-linearity), mu "
                     "(signed mean), mu* relative to the largest",
                     md_table(["outcome", "factor", "mu*", "sigma", "mu", "mu* / max"], rows)))
    f.figures.append(_figure(writer, lambda: _morris_figure(tables, selected), "morris",
                             "Morris screening: mu* (importance) against sigma (interactions "
                             "and non-linearity) per factor and outcome, with mu*'s 95% "
                             "bootstrap interval; factors kept for the Sobol stage in colour."))


def _fmt_ci(v: float, conf: float) -> str:
    from experiments.plots import fmt

    if not np.isfinite(conf):
        return fmt(v)
    # the indices are not negative: a bootstrap interval reaching below zero is cut there
    return f"{fmt(v)} ({fmt(max(v - conf, 0.0))} to {fmt(v + conf)})"


def _sobol_section(f: Finding, data: SweepData, design: Design, base: dict,
                   outcomes: list[str], writer: FigureWriter, resamples: int) -> None:
    from experiments.analysis import md_table
    from experiments.plots import fmt, label, lower

    k = len(design.factors)
    n_full = len(design.x) // (k + 2)
    half = n_full // 2
    final, early = {}, {}
    for m in outcomes:
        y = row_means(base[m])
        final[m] = sobol_indices(design.factors, y, resamples)
        early[m] = sobol_indices(design.factors, y[: half * (k + 2)], resamples)
    frame = pd.concat([t.assign(outcome=m, base_points_design=n_full) for m, t in final.items()]
                      + [t.assign(outcome=m, base_points_design=half)
                         for m, t in early.items()], ignore_index=True)
    frame.to_csv(data.sweep_dir / SOBOL_FILE, index=False)
    dropped = [n for n in design.screening.get("factors", {}) if n not in
               [x.name for x in design.factors]]
    f.answer.insert(1, f"Total-order Sobol indices ST (the share of the outcome's variance due "
                       f"to the factor, its interactions included; 95% bootstrap CI) at "
                       f"N = {n_full} base points; the three largest per outcome:")
    for m in outcomes:
        top = final[m].sort_values("ST", ascending=False).head(3)
        if top["ST"].notna().any():
            f.answer.append(f"- {label(m)}: "
                            + "; ".join(f"`{r['factor']}` ST {_fmt_ci(r['ST'], r['ST_conf'])}"
                                        for _, r in top.iterrows()) + ".")
        else:
            f.answer.append(f"- {label(m)}: does not vary over the sample (no index).")
    if dropped:
        f.answer.append("Fixed at their defaults (dropped by the screening): "
                        + ", ".join(f"`{d}`" for d in dropped) + ".")
    rows = []
    for m in outcomes:
        rows += _indices_table(lower(label(m)), final[m].sort_values("ST", ascending=False),
                               [("S1", "S1_conf"), ("ST", "ST_conf")])
    f.tables.append((f"Sobol indices at N = {n_full} base points (± 95% bootstrap half-width)",
                     md_table(["outcome", "factor", "S1", "ST"], rows)))
    conv, worst = [], 0.0
    for m in outcomes:
        a, b = early[m].set_index("factor"), final[m].set_index("factor")
        for name in b.index:
            change = abs(b.loc[name, "ST"] - a.loc[name, "ST"])
            if np.isfinite(change):
                worst = max(worst, float(change))
            conv.append([lower(label(m)), f"`{name}`", _fmt_ci(a.loc[name, "ST"],
                                                                a.loc[name, "ST_conf"]),
                         _fmt_ci(b.loc[name, "ST"], b.loc[name, "ST_conf"]), fmt(change)])
    f.tables.append((f"Convergence: total indices at N = {half} (the sample's first half) and "
                     f"at N = {n_full}",
                     md_table(["outcome", "factor", f"ST at {half}", f"ST at {n_full}",
                               "change"], conv)))
    f.answer.append(f"Convergence: the largest change of a total index between N = {half} and "
                    f"N = {n_full} base points is {fmt(worst)}"
                    + (" (stable to 0.05)." if worst <= 0.05 else
                       "; the indices have not settled: run a larger design "
                       "(experiment.design.samples)."))
    f.figures.append(_figure(writer, lambda: _sobol_figure(final, early, half, n_full),
                             "sobol", f"Sobol first-order (S1) and total (ST) indices per factor "
                                      f"and outcome with 95% bootstrap intervals at N = "
                                      f"{n_full}; the hollow marks are ST at N = {half} "
                                      f"(convergence)."))


def _replication_section(f: Finding, data: SweepData, design: Design, values: dict,
                         outcomes: list[str], writer: FigureWriter) -> None:
    from experiments.analysis import md_table
    from experiments.plots import fmt, label, lower

    base = values[design.base]
    other = design.scenarios[1] if len(design.scenarios) > 1 else None
    what = (f"the paired difference {design.base} - {other} (same seed, same design point)"
            if other else f"an outcome of {design.base} (no scenario was compared)")
    tables, rows = {}, []
    for m in outcomes:
        per_seed = base[m] - values[other][m] if other else base[m]
        t = replication_table(per_seed)
        tables[m] = t
        if not len(t):
            continue
        effect = t.attrs["median_abs_difference"]
        need = seeds_needed(t, effect)
        pick = {n: t.loc[t["seeds"] == n, "half_width"].iloc[0] for n in (5, 10, 20, 50)}
        res = {n: t.loc[t["seeds"] == n, "resolved"].iloc[0] for n in (5, 20)}
        need_text = (str(need) if need else "no difference to detect" if effect == 0
                     else "more than 100,000")
        rows.append([lower(label(m)), fmt(t.attrs["pooled_sd"]), fmt(effect),
                     *(fmt(pick[n]) for n in pick), need_text,
                     f"{res[5]:.0%} / {res[20]:.0%}"])
    frame = pd.concat([t.assign(outcome=m) for m, t in tables.items() if len(t)],
                      ignore_index=True) if any(len(t) for t in tables.values()) else None
    if frame is None:
        f.answer.append("Replication count: the sample has fewer than 2 seeds per point, so "
                        "the seed-to-seed spread cannot be measured.")
        return
    frame.to_csv(data.sweep_dir / REPLICATION_FILE, index=False)
    f.tables.append((f"How many seeds a claim needs: 95% CI half-width of {what} against the "
                     f"number of seeds (seed-to-seed s.d. pooled over the design points)",
                     md_table(["outcome", "s.d. across seeds", "median |difference|",
                               "half-width, 5 seeds", "10 seeds", "20 seeds", "50 seeds",
                               "seeds for the median difference",
                               "points resolved with 5 / 20 seeds"], rows)))
    f.answer.append(f"Replication count ({what}): see the table 'How many seeds a claim "
                    f"needs'; a difference of the size of the median one needs "
                    + "; ".join(f"{r[-2]} seeds for {r[0]}" if r[-2][0].isdigit()
                                else f"{r[-2]} for {r[0]}" for r in rows) + ".")
    f.figures.append(_figure(writer, lambda: _replication_figure(tables, what), "replications",
                             f"95% CI half-width of {what} against the number of seeds "
                             f"(line: t s / sqrt(n) with the pooled s.d.; points: measured with "
                             f"the sample's first n seeds); dashed: the median |difference| "
                             f"over the design points."))


# --------------------------------------------------------------------------- figures


def _figure(writer: FigureWriter, draw, stem: str, caption: str) -> str:
    from experiments import plots

    return plots.custom(writer, draw, stem, caption)


def _morris_figure(tables: dict[str, pd.DataFrame], selected: list[str]):
    from matplotlib.ticker import MaxNLocator

    from experiments import plots
    from experiments.plots import label, unit, wrap

    fig, axes = plots._grid(len(tables), ncols=3, width=4.6, height=4.0)
    for ax, (m, t) in zip(axes, tables.items()):
        for _, r in t.iterrows():
            kept = r["factor"] in selected
            colour = "#D55E00" if kept else "#999999"
            conf = r["mu_star_conf"] if np.isfinite(r["mu_star_conf"]) else 0.0
            ax.errorbar(r["mu_star"], r["sigma"], xerr=[[min(conf, r["mu_star"])], [conf]],
                        fmt="o", color=colour, markersize=4, capsize=2, linewidth=0.8)
            if kept or r["mu_star_norm"] >= 0.3:
                ax.annotate(r["factor"].split(".")[-1], (r["mu_star"], r["sigma"]),
                            fontsize=7, xytext=(3, 3), textcoords="offset points")
        top = np.nanmax(t[["mu_star", "sigma"]].to_numpy()) if t["mu_star"].notna().any() \
            else 1.0
        ax.plot([0, top], [0, top], color="black", linewidth=0.6, linestyle=":")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_xlabel(f"mu* ({unit(m)})" if unit(m) else "mu*")
        ax.set_ylabel("sigma")
        ax.set_title(wrap(label(m), 40), fontsize=10)
        ax.grid(alpha=0.3)
    fig.suptitle("Morris screening: mu* against sigma (dotted: sigma = mu*); kept factors in "
                 "orange", fontsize=11)
    return fig


def _sobol_figure(final: dict, early: dict, half: int, n_full: int):
    from experiments import plots
    from experiments.plots import label, wrap

    fig, axes = plots._grid(len(final), ncols=3, width=4.6,
                            height=max(3.0, 0.35 * len(next(iter(final.values()))) + 1.4))
    for ax, m in zip(axes, final):
        t = final[m]
        e = early[m].set_index("factor")
        y = np.arange(len(t))[::-1]
        ax.barh(y + 0.18, t["S1"].fillna(0), height=0.34, color="#56B4E9", label="S1",
                xerr=t["S1_conf"].fillna(0), capsize=2)
        ax.barh(y - 0.18, t["ST"].fillna(0), height=0.34, color="#0072B2", label="ST",
                xerr=t["ST_conf"].fillna(0), capsize=2)
        ax.scatter(e.loc[t["factor"], "ST"].to_numpy(dtype=float), y - 0.18, facecolors="none",
                   edgecolors="black", s=18, zorder=3, label=f"ST at N = {half}")
        ax.set_yticks(y)
        ax.set_yticklabels([n.split(".")[-1] for n in t["factor"]], fontsize=8)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_title(wrap(label(m), 40), fontsize=10)
        ax.set_xlabel("share of variance")
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Sobol indices at N = {n_full} base points (95% bootstrap CI)", fontsize=11)
    return fig


def _replication_figure(tables: dict[str, pd.DataFrame], what: str):
    from experiments import plots
    from experiments.plots import label, unit, wrap

    items = [(m, t) for m, t in tables.items() if len(t)]
    fig, axes = plots._grid(len(items), ncols=3, width=4.4, height=3.4)
    for ax, (m, t) in zip(axes, items):
        ax.plot(t["seeds"], t["half_width"], color="#0072B2", linewidth=1.5,
                label="t s / sqrt(n)")
        obs = t.dropna(subset=["observed"])
        ax.scatter(obs["seeds"], obs["observed"], color="#0072B2", s=14, zorder=3,
                   label="measured")
        effect = t.attrs.get("median_abs_difference", math.nan)
        if np.isfinite(effect) and effect > 0:
            ax.axhline(effect, color="#D55E00", linestyle="--", linewidth=1,
                       label="median |difference|")
        ax.set_xscale("log")
        if (t["half_width"] > 0).all():
            ax.set_yscale("log")
        ax.set_xlabel("seeds")
        ax.set_ylabel(f"95% CI half-width ({unit(m)})" if unit(m) else "95% CI half-width")
        ax.set_title(wrap(label(m), 40), fontsize=10)
        ax.grid(alpha=0.3, which="both")
    if items:
        axes[0].legend(fontsize=7)
    fig.suptitle(wrap(f"How many seeds: CI half-width of {what}", 90), fontsize=10)
    return fig
