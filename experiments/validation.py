"""The model against public facts of a TASED town: the `validation` experiment's analysis.

The validation town (the `chelny` preset, a 10% sample of Naberezhnye Chelny, TASED from
2016) is run from the regime's start. Model against fact, side by side, with the model's 95%
interval across seeds (the sample's counts and money divided by `town.scale`):
residents after about 2 years, residents' investment and jobs after about 5 years, capex per
job; then the stylised facts. The report says plainly where the model misses and by how much.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.analysis import Finding, ci_text, md_table, n_seeds, pct_text
from experiments.data import SweepData
from experiments.layout import FIRM_TABLE, RUNS_DIR
from experiments.plots import FigureWriter, fmt
from experiments.stats import mean_ci, share_ci

#: facts of Naberezhnye Chelny's TASED (docs/CALIBRATION.md) and the quarter they refer to
FACTS = {
    "residents": ("TASED residents", 45.0, "residents", "quarter_residents"),
    "resident_investment": ("residents' investment", 15_900.0, "mln RUB", "quarter_investment"),
    "resident_jobs": ("jobs at residents", 5_800.0, "jobs", "quarter_investment"),
}


def validate(data: SweepData, writer: FigureWriter) -> Finding:
    f = Finding()
    q_res = int(data.option("quarter_residents", 12))
    q_inv = int(data.option("quarter_investment", 20))
    infra = "tased.infrastructure_per_step"
    main = [c for c in data.cells if data.cell_params[c].get(infra, 1.0) not in (0, 0.0)]
    bare = [c for c in data.cells if data.cell_params[c].get(infra) in (0, 0.0)]
    if not main:
        f.answer.append("The sweep has no run with serviced infrastructure to validate.")
        return f
    runs = _runs(data, main[0])
    rows, misses = [], []
    for name, (text, fact, unit, quarter_key) in FACTS.items():
        q = q_res if quarter_key == "quarter_residents" else q_inv
        e = mean_ci(runs[f"{name}@{q}"])
        rows.append([f"{text} after {q} quarters", f"{fmt(fact)} {unit}", f"{ci_text(e)} {unit}",
                     _verdict(e, fact)])
        misses.append((text, e.mean / fact))
    ratio = (runs[f"resident_investment@{q_inv}"] / runs[f"resident_jobs@{q_inv}"]).replace(
        [np.inf, -np.inf], np.nan).dropna()
    cpj = mean_ci(ratio)
    rows.append([f"capex per job at residents, quarter {q_inv}", "2.74 mln RUB / job",
                 f"{ci_text(cpj)} mln RUB / job", _verdict(cpj, 2.74)])
    misses.append(("capex per job", cpj.mean / 2.74))
    f.tables.append(("The model against the facts of Naberezhnye Chelny's TASED (the model's "
                     "sample scaled to the whole town; mean across seeds, 95% CI)",
                     md_table(["quantity", "fact", "model", "fact inside the model's 95% "
                               "interval?"], rows)))
    facts = _stylised(data, main[0], bare[0] if bare else None, runs)
    f.tables.append(("Stylised facts", md_table(["stylised fact", "measure", "model",
                                                 "holds?"], facts)))
    calibrated = data.option("calibrated", [])
    f.answer.append(
        f"Naberezhnye Chelny (the `chelny` preset, a 10% sample; {n_seeds(data)} seeds). "
        + " ".join(f"{text}: the model gives {ratio_:.0%} of the fact."
                   for text, ratio_ in misses) + " "
        + (f"Calibrated to this town: {', '.join(f'`{p}`' for p in calibrated)}; every other "
           f"parameter, and these values, are the ones every preset uses." if calibrated
           else "No parameter was calibrated to this town."))
    off = [f"{text} ({ratio_:.0%} of the fact)" for text, ratio_ in misses
           if not 0.8 <= ratio_ <= 1.25]
    f.answer.append("Where the model misses by more than a fifth: " + "; ".join(off) + "."
                    if off else "The model is within a fifth of every fact above.")
    failed = [row[0] for row in facts if row[3] != "yes"]
    f.answer.append(f"Stylised facts the model does not reproduce: {', '.join(failed)}."
                    if failed else "The model reproduces every stylised fact listed.")
    return f


def _verdict(e, fact: float) -> str:
    return "yes" if e.lo <= fact <= e.hi else ("model higher" if e.mean > fact else
                                               "model lower")


def _runs(data: SweepData, cell: str) -> pd.DataFrame:
    """Per run: the validation quantities at their quarters (scaled to the whole town)."""
    t = data.table[data.table["cell"] == cell]
    out = {}
    for seed, d in t.groupby("seed"):
        scale = float(data.configs[cell, int(seed)]["town"]["scale"])
        d = d.set_index("step")
        row = {}
        for name in FACTS:
            for q in (int(data.option("quarter_residents", 12)),
                      int(data.option("quarter_investment", 20))):
                row[f"{name}@{q}"] = float(d.loc[q, name]) / scale if q in d.index else np.nan
        start = int(data.configs[cell, int(seed)]["tased"]["start_step"])
        residents = d.index[d["residents"] > 0]
        row["first_resident"] = float(residents.min() - start) if len(residents) else np.nan
        row["entry_exit_corr"] = float(np.corrcoef(d["entries"].iloc[1:], d["exits"].iloc[1:])
                                       [0, 1]) if d["exits"].iloc[1:].std() > 0 else np.nan
        years = (d.index.max() - d.index.min()) / 4
        row["cfe_share_per_year"] = float(d["cfe_share"].iloc[-1] - d["cfe_share"].iloc[0]) \
            / years if years else np.nan
        row["plots_used"] = float(d["plots_used"].iloc[-1])
        row["residents_end"] = float(d["residents"].iloc[-1]) / scale
        out[int(seed)] = row
    return pd.DataFrame.from_dict(out, orient="index")


def _stylised(data: SweepData, cell: str, bare: str | None, runs: pd.DataFrame) -> list:
    rows = []
    skew = []
    for seed in runs.index:
        path = data.sweep_dir / RUNS_DIR / cell / f"seed{seed}" / FIRM_TABLE
        if path.exists():
            firms = pd.read_parquet(path)
            last = firms[firms["step"] == firms["step"].max()]
            sizes = last.loc[~last["is_cfe"], "employees"]
            skew.append(float(sizes.mean() > sizes.median() and sizes.skew() > 0))
    e = share_ci(skew)
    rows.append(["firm sizes are right-skewed", "runs with mean > median and skewness > 0 "
                 "(firms besides the CFE, last quarter)", pct_text(e),
                 "yes" if e.mean >= 0.95 else "no"])
    corr = mean_ci(runs["entry_exit_corr"].dropna())
    rows.append(["entry and exit move together", "correlation of entries and exits over "
                 "quarters", ci_text(corr), "yes" if corr.lo > 0 else "no"])
    first = mean_ci(runs["first_resident"].dropna())
    rows.append(["the first resident takes more than a quarter", "quarters from the regime's "
                 "start to the first resident", ci_text(first), "yes" if first.lo > 1 else "no"])
    if bare is not None:
        without = _runs(data, bare)
        a, b = mean_ci(runs["residents_end"]), mean_ci(without["residents_end"])
        rows.append(["low plot occupancy without serviced infrastructure", "residents at the "
                     "end with / without the Fund's infrastructure (scaled)",
                     f"{ci_text(a)} / {ci_text(b)}", "yes" if b.hi < a.lo else "no"])
    slope = mean_ci(runs["cfe_share_per_year"].dropna())
    rows.append(["CFE dependence falls slowly", "change of the CFE share of employment a year",
                 ci_text(slope, signed=True),
                 "yes" if slope.mean < 0 and slope.mean > -0.01 else "no"])
    return rows
