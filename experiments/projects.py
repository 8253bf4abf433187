"""Investment projects of a sweep's runs (`projects.parquet`, ODD 2.10).

Two things a report needs that per-quarter outputs cannot give:

- Tax expenditures two ways (Q7). Taxes forgone on all TASED residents count every rouble the
  budgets gave up. Part of it is a windfall: residents whose project also went ahead in the
  paired baseline run of the same seed would have invested without the regime. A project's
  key names the same project in both runs (an investor's place in the quarter's stream of
  project draws; a firm of the initial town for its new projects).
- The sizes of residents' projects: jobs and capex per job against the legal minimum and the
  facts in docs/CALIBRATION.md.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.analysis import cell_label, md_table, reference_cell
from experiments.data import SweepData
from experiments.layout import PROJECT_TABLE, RUNS_DIR
from experiments.plots import FigureWriter, custom, fmt, scenario_colour
from experiments.stats import mean_ci

#: the facts the figure marks (docs/CALIBRATION.md): capex per TASED job, mln RUB
CAPEX_PER_JOB_FACTS = (2.5, 6.0)


def load(data: SweepData) -> pd.DataFrame:
    """Every finished run's projects, with its cell and seed (empty if none were written)."""
    frames = []
    for cell, seed in sorted(data.configs):
        path = data.sweep_dir / RUNS_DIR / cell / f"seed{seed}" / PROJECT_TABLE
        if path.exists():
            frames.append(pd.read_parquet(path).assign(cell=cell, seed=seed))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _reference(data: SweepData, cell: str) -> str | None:
    """The no-policy cell to pair with: the reference scenario at the cell's parameters."""
    r = reference_cell(data, cell)
    return r if r is not None and r != cell else None


def tax_expenditures(data: SweepData, projects: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Per cell: taxes forgone on all residents and on residents whose project also went ahead
    in the paired reference run of the same seed (the windfall), per seed."""
    out: dict[str, dict[str, object]] = {}
    if projects.empty:
        return out
    for cell in data.cells:
        ref = _reference(data, cell)
        mine = projects[(projects["cell"] == cell) & projects["resident"]]
        seeds = sorted(s for c, s in data.configs if c == cell)
        if ref is None or not len(seeds) or mine["tax_forgone"].sum() <= 0:
            continue
        all_, windfall = [], []
        for seed in seeds:
            own = mine[mine["seed"] == seed]
            base = projects[(projects["cell"] == ref) & (projects["seed"] == seed)
                            & (projects["key"] >= 0)]
            also = own.set_index(["kind", "key"]).index.isin(
                base.set_index(["kind", "key"]).index) & (own["key"] >= 0).to_numpy()
            all_.append(float(own["tax_forgone"].sum()))
            windfall.append(float(own.loc[also, "tax_forgone"].sum()))
        out[cell] = {"all": mean_ci(all_), "windfall": mean_ci(windfall),
                     "share": sum(windfall) / sum(all_) if sum(all_) > 0 else float("nan"),
                     "reference": ref}
    return out


def tax_expenditure_table(data: SweepData, projects: pd.DataFrame) -> tuple[str, str] | None:
    rows = []
    for cell, e in tax_expenditures(data, projects).items():
        rows.append([cell_label(data, cell), _ci(e["all"]), _ci(e["windfall"]),
                     f"{e['share']:.0%}" if np.isfinite(e["share"]) else "n/a",
                     cell_label(data, e["reference"])])
    if not rows:
        return None
    return ("Tax expenditures on TASED residents over the horizon, two ways (mln RUB, mean "
            "across seeds, 95% CI): forgone on all residents; forgone only on residents whose "
            "project also went ahead in the paired run without policy on the same seed "
            "(a windfall: they would have invested anyway)",
            md_table(["cell", "forgone on all residents", "forgone on residents that also "
                      "invest without policy", "windfall share", "paired with"], rows))


def _ci(e) -> str:
    return f"{fmt(e.mean)} [{fmt(e.lo)}, {fmt(e.hi)}]"


def resident_sizes(projects: pd.DataFrame) -> pd.DataFrame:
    """Residents' latest projects with their new jobs and capex per new job."""
    if projects.empty:
        return projects
    r = projects[projects["resident"] & (projects["project_jobs"] > 0)].copy()
    r["capex_per_job"] = r["project_capex"] / r["project_jobs"]
    return r


def resident_sizes_text(data: SweepData, projects: pd.DataFrame, min_jobs: int) -> str:
    r = resident_sizes(projects)
    if r.empty:
        return "No run had a TASED resident, so residents' sizes cannot be shown."
    jobs = r["project_jobs"]
    return (f"Residents' projects ({len(r)} over all runs): jobs median {fmt(jobs.median())}, "
            f"mean {fmt(jobs.mean())}, largest {fmt(jobs.max())}; the mean is "
            f"{fmt(jobs.mean() / max(min_jobs, 1))} times the legal minimum of {min_jobs} jobs "
            f"(docs/CALIBRATION.md: 10-40 times). Capex per job median "
            f"{fmt(r['capex_per_job'].median())} mln RUB (facts: "
            f"{CAPEX_PER_JOB_FACTS[0]}-{CAPEX_PER_JOB_FACTS[1]}).")


def section(data: SweepData, writer: FigureWriter | None) -> list[str]:
    """The report's section on investment projects (nothing if no run wrote them)."""
    projects = load(data)
    if projects.empty:
        return []
    config = next(iter(data.configs.values()), {})
    min_jobs = int(config.get("tased", {}).get("min_jobs", 10))
    lines = ["## Investment projects", "", resident_sizes_text(data, projects, min_jobs), ""]
    table = tax_expenditure_table(data, projects)
    if table is not None:
        lines += [table[0] + ".", "", table[1], ""]
    if writer is not None:
        resident_sizes_figure(data, writer, projects, min_jobs)
    return lines


def resident_sizes_figure(data: SweepData, writer: FigureWriter, projects: pd.DataFrame,
                          min_jobs: int) -> str | None:
    r = resident_sizes(projects)
    if r.empty:
        return None
    return custom(writer, lambda: _sizes_figure(data, r, min_jobs), "resident_sizes",
                  "Distribution of TASED residents' projects over all runs of each scenario: "
                  "jobs (log scale; dashed: the legal minimum) and capex per job (shaded: the "
                  "2.5-6 mln RUB of the facts).")


def _sizes_figure(data: SweepData, r: pd.DataFrame, min_jobs: int) -> plt.Figure:
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    jobs_bins = np.logspace(0, np.log10(max(r["project_jobs"].max(), 10) * 1.2), 30)
    cpj_bins = np.linspace(0, max(r["capex_per_job"].quantile(0.99), 8.0), 30)
    for scenario, rows in r.groupby(r["cell"].map(data.cell_scenario), sort=False):
        colour = scenario_colour(scenario)
        a.hist(rows["project_jobs"], bins=jobs_bins, histtype="step", lw=1.6, color=colour,
               label=f"{scenario} ({len(rows)})")
        b.hist(rows["capex_per_job"], bins=cpj_bins, histtype="step", lw=1.6, color=colour)
    a.set_xscale("log")
    a.axvline(min_jobs, color="black", ls="--", lw=1)
    a.set_xlabel("new jobs of a resident's project (persons)")
    a.set_ylabel("projects, all runs")
    a.legend(fontsize=8, frameon=False)
    b.axvspan(*CAPEX_PER_JOB_FACTS, color="grey", alpha=0.2)
    b.set_xlabel("capex per job (mln RUB)")
    fig.suptitle("TASED residents' projects: sizes", fontsize=10)
    return fig
