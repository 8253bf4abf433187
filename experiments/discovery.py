"""Where a result holds: scenario discovery with PRIM (EMA Workbench 3.0's `prim` module).

A question's answer, for example "top_down beats business_led on jobs per rouble", is
computed at every design point of a sensitivity sample (experiments.sensitivity) from the
outcomes averaged over its seeds, giving one true/false per point. PRIM (Friedman and Fisher
1999, as implemented in `ema_workbench.analysis.prim`) then peels the factor space down to a box
where the answer holds: its coverage (the share of the points where it holds that lie inside
the box), its density (the share of the box's points where it holds) and its limits. The
reported box is the one of highest coverage whose density reaches `density_min` (0.8 by
default) on PRIM's peeling trajectory; the trade-off between coverage and density along that
trajectory is drawn.

Questions (`experiment.options.questions` of a sensitivity experiment), each a mapping:

- `name`, `claim` (the answer in one sentence);
- `metric`: an outcome of the experiment, or `jobs_per_rouble` (net new non-CFE jobs over
  cumulative public cost, ratio of the means over seeds);
- `scenario` (default: the design's base scenario) and either `versus` (another scenario run
  at the same points) with `direction` greater/less, or `above`/`below` a value.

The results are written to `discovery.json` in the sweep directory (read by
experiments.claims).
"""

from __future__ import annotations

import json
import math
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from experiments.analysis import Finding
    from experiments.data import SweepData
    from experiments.plots import FigureWriter
    from experiments.sensitivity import Design

DISCOVERY_FILE = "discovery.json"
DENSITY_MIN = 0.8
MASS_MIN = 0.05
MIN_POINTS = 10  # fewer design points than this: no box is searched
DERIVED = {"jobs_per_rouble": ("non_cfe_jobs_change", "public_cost")}


def prim_module():
    """ema_workbench.analysis.prim (EMA warns at import that the optional ipyparallel is
    missing; that evaluator is not used here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ipyparallel.*", category=UserWarning)
        from ema_workbench.analysis import prim
    return prim


@contextmanager
def _quiet():
    """EMA Workbench 3.0 calls pandas APIs that pandas 3 deprecates (DataFrame.drop's
    inplace, ...): those warnings concern EMA's code, not this project's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
        yield


@dataclass
class Box:
    """The box where a question's answer holds, and the trade-off PRIM found on the way."""

    name: str
    claim: str
    points: int  # design points with the answer known
    holds: int  # points where it holds
    coverage: float = math.nan
    density: float = math.nan
    mass: float = math.nan
    limits: dict = field(default_factory=dict)  # factor -> [lo, hi] or [levels]
    note: str = ""
    trajectory: list = field(default_factory=list)  # (coverage, density, res_dim) per step
    chosen: int = -1

    @property
    def share(self) -> float:
        return self.holds / self.points if self.points else math.nan

    def limits_text(self) -> str:
        if not self.limits:
            return "the whole sampled range" if self.points else "n/a"
        parts = []
        for name, lim in self.limits.items():
            if len(lim) == 2 and all(isinstance(v, (int, float)) for v in lim):
                parts.append(f"{name} in [{_g(lim[0])}, {_g(lim[1])}]")
            else:
                parts.append(f"{name} in {{{', '.join(map(str, lim))}}}")
        return "; ".join(parts)


def _g(v: float) -> str:
    return f"{v:.3g}"


def find_box(x: pd.DataFrame, y: np.ndarray, name: str = "", claim: str = "",
             density_min: float = DENSITY_MIN, mass_min: float = MASS_MIN) -> Box:
    """PRIM's first box for `y` (true where the answer holds) over the factors `x`."""
    y = np.asarray(y, dtype=bool)
    box = Box(name, claim, int(len(y)), int(y.sum()))
    if len(y) < MIN_POINTS:
        box.note = f"only {len(y)} design points (at least {MIN_POINTS} are needed)"
        return box
    if y.all() or not y.any():
        box.note = f"holds at {'every' if y.all() else 'no'} design point"
        if y.all():
            box.coverage, box.density, box.mass = 1.0, 1.0, 1.0
        return box
    prim = prim_module()
    x = x.reset_index(drop=True).copy()
    for col in x.columns:
        if not pd.api.types.is_numeric_dtype(x[col]) or pd.api.types.is_bool_dtype(x[col]):
            x[col] = x[col].astype(str).astype("category")
        elif pd.api.types.is_integer_dtype(x[col]):
            x[col] = x[col].astype(np.int64)
        else:
            x[col] = x[col].astype(np.float64)
    with _quiet():
        p = prim.Prim(x, y, mass_min=mass_min)
        found = p.find_box()
    traj = found.peeling_trajectory
    box.trajectory = [[float(r["coverage"]), float(r["density"]), int(r["res_dim"])]
                      for _, r in traj.iterrows()]
    good = traj[traj["density"] >= density_min]
    if len(good):
        i = int(good.sort_values(["coverage", "res_dim"], ascending=[False, True]).index[0])
    else:
        i = int(traj["density"].astype(float).idxmax())
        box.note = (f"no box reaches density {density_min:.0%}; the densest box on the "
                    f"trajectory is given")
    box.chosen = i
    row = traj.loc[i]
    box.coverage, box.density, box.mass = (float(row["coverage"]), float(row["density"]),
                                           float(row["mass"]))
    lims, init = found.box_lims[i], p.box_init
    for col in lims.columns:
        lo, hi = lims[col].iloc[0], lims[col].iloc[1]
        if isinstance(lo, (set, frozenset)):
            if set(lo) != set(init[col].iloc[0]):
                box.limits[col] = sorted(map(str, lo))
        elif lo != init[col].iloc[0] or hi != init[col].iloc[1]:
            box.limits[col] = [float(lo), float(hi)]
    return box


# --------------------------------------------------------------------------- questions


def check_questions(questions: Any, scenarios: list[str], outcomes: list[str],
                    where: str = "experiment.options.questions") -> list[dict]:
    """The questions, checked (ValueError naming the entry)."""
    if questions is None:
        return []
    if not isinstance(questions, list):
        raise ValueError(f"{where}: give a list of questions")
    out = []
    for i, q in enumerate(questions):
        at = f"{where}[{i}]"
        if not isinstance(q, dict) or not q.get("name") or not q.get("metric"):
            raise ValueError(f"{at}: give name, claim, metric and versus or above/below")
        metric = q["metric"]
        needed = DERIVED.get(metric, (metric,))
        missing = [m for m in needed if m not in outcomes]
        if missing:
            raise ValueError(f"{at}.metric: {metric!r} needs the outcome(s) "
                             f"{', '.join(missing)} in experiment.outcomes")
        scen = q.get("scenario", scenarios[0])
        for s in (scen, q.get("versus")):
            if s is not None and s not in scenarios:
                raise ValueError(f"{at}: scenario {s!r} is not run by the design (it runs "
                                 f"{', '.join(scenarios)})")
        if q.get("versus") is None and q.get("above") is None and q.get("below") is None:
            raise ValueError(f"{at}: give versus (a scenario) or above/below (a value)")
        if q.get("direction", "greater") not in ("greater", "less"):
            raise ValueError(f"{at}.direction: {q.get('direction')!r} is not greater or less")
        out.append({**q, "scenario": scen})
    return out


def row_means(values: np.ndarray) -> np.ndarray:
    """Mean over seeds per row; NaN unless every seed finished (common random numbers)."""
    out = np.full(values.shape[0], np.nan)
    ok = np.isfinite(values).all(axis=1)
    out[ok] = values[ok].mean(axis=1)
    return out


def metric_means(values: dict, scenario: str, metric: str) -> np.ndarray:
    """Per design point, the mean over seeds of an outcome (NaN where a seed is missing)."""
    if metric in DERIVED:
        num, den = DERIVED[metric]
        a, b = row_means(values[scenario][num]), row_means(values[scenario][den])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b > 0, a / b, np.nan)
    return row_means(values[scenario][metric])


def answer(q: dict, values: dict) -> np.ndarray:
    """Per design point: 1.0 where the question's answer holds, 0.0 where not, NaN unknown."""
    a = metric_means(values, q["scenario"], q["metric"])
    if q.get("versus") is not None:
        b = metric_means(values, q["versus"], q["metric"])
        holds = a > b if q.get("direction", "greater") == "greater" else a < b
        known = np.isfinite(a) & np.isfinite(b)
    elif q.get("above") is not None:
        holds, known = a > float(q["above"]), np.isfinite(a)
    else:
        holds, known = a < float(q["below"]), np.isfinite(a)
    return np.where(known, holds.astype(float), np.nan)


def section(f: Finding, data: SweepData, design: Design, values: dict,
            writer: FigureWriter) -> list[Box]:
    """PRIM boxes of the experiment's questions: a table, the trade-off figures and
    discovery.json."""
    from experiments.analysis import md_table

    qs = check_questions(data.option("questions"), design.scenarios,
                         [m for m in data.settings["outcomes"]])
    if not qs:
        return []
    x = pd.DataFrame(design.rows)
    boxes, rows = [], []
    for q in qs:
        y = answer(q, values)
        known = np.isfinite(y)
        box = find_box(x[known], y[known] > 0.5, q["name"], q.get("claim", q["name"]),
                       float(data.option("density_min", DENSITY_MIN)),
                       float(data.option("mass_min", MASS_MIN)))
        boxes.append(box)
        rows.append([box.claim, f"{box.holds}/{box.points} ({box.share:.0%})"
                     if box.points else "n/a",
                     _pct(box.coverage), _pct(box.density), _pct(box.mass),
                     box.limits_text() + (f" ({box.note})" if box.note else "")])
        if box.trajectory:
            f.figures.append(_tradeoff(writer, box))
    f.tables.append(("Where each answer holds (PRIM, EMA Workbench): the share of design points "
                     "where it holds, and the box of highest coverage with density at least "
                     f"{float(data.option('density_min', DENSITY_MIN)):.0%}",
                     md_table(["answer", "holds at", "coverage", "density", "mass",
                               "box limits"], rows)))
    for box in boxes:
        f.answer.append(f"- Where \"{box.claim}\" holds: at {box.holds} of {box.points} design "
                        f"points; box {box.limits_text()} (coverage {_pct(box.coverage)}, "
                        f"density {_pct(box.density)})"
                        + (f"; {box.note}" if box.note else "") + ".")
    (data.sweep_dir / DISCOVERY_FILE).write_text(json.dumps(
        {"boxes": [dict(asdict(b), share=b.share, limits_text=b.limits_text()) for b in boxes],
         "scenarios": design.scenarios, "factors": [x.name for x in design.factors]},
        indent=1, default=str))
    return boxes


def _pct(v: float) -> str:
    return f"{v:.0%}" if np.isfinite(v) else "n/a"


def _tradeoff(writer: FigureWriter, box: Box) -> str:
    """EMA's coverage-density trade-off plot, with the reported box marked."""
    from experiments import plots

    def draw():
        sdutil = _sdutil()
        traj = pd.DataFrame(box.trajectory, columns=["coverage", "density", "res_dim"])
        traj["id"] = range(len(traj))
        fig = sdutil.plot_tradeoff(traj)
        ax = fig.axes[0]
        if box.chosen >= 0:
            ax.scatter([box.coverage], [box.density], s=160, facecolors="none",
                       edgecolors="#D55E00", linewidths=2, zorder=4)
        ax.set_title(plots.wrap(f"Where it holds: {box.claim}", 60), fontsize=9)
        fig.set_size_inches(6.0, 5.0)
        return fig

    return plots.custom(writer, draw, f"prim_{box.name}",
                        f"PRIM peeling trajectory for \"{box.claim}\": coverage against "
                        f"density, colour = number of restricted factors; the circled box is "
                        f"the one reported.")


def _sdutil():
    prim_module()
    from ema_workbench.analysis import scenario_discovery_util

    return scenario_discovery_util
