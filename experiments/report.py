"""report.md of a sweep: the answer, what was run, outcomes with CIs, fiscal cost, figures.

Every experiment gets the same sections; the experiment's analysis (experiments.analysis)
adds the answer to its question and its own tables and figures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import claims, optimise, plots, projects
from experiments.analysis import (ANALYSES as QUESTIONS, Finding, bands, by_seed, cell_label, ci_text,
                                  estimate, estimates, md_table, n_seeds, paired,
                                  reference_cell, styles, value_text)
from experiments.data import SweepData
from experiments.founding import founding_map
from experiments.portfolio import portfolio
from experiments.layout import (FAILURES, FIGURES, FIRM_TABLE, REPORT, RUNS_DIR, SUMMARY,
                                TABLE)
from experiments.output import atomic_write
from experiments.plots import FigureWriter, fmt, label, unit
from experiments.sensitivity import sensitivity
from experiments.stats import paired_difference, ratio_of_means
from experiments.validation import validate
from simulation.fiscal import INSTRUMENTS, LEVELS



def own_report(data: SweepData, writer: FigureWriter) -> Finding:
    """The analysis of an experiment that runs its own loop (RUNNERS) and writes its own
    report: it is never aggregated from run directories."""
    return Finding(answer=[f"Experiment {data.settings.get('name')!r} writes its own report "
                           f"when its command runs; run that command again to rewrite it."])


#: experiments that run their own loop instead of a sweep of cells (tased-experiment calls
#: the runner with the checked plan and the function that prepares the directory)
RUNNERS = {"optimise": optimise.run, "claims": claims.run}
#: analyses an experiment can name in `experiment.analysis`
ANALYSES = {**QUESTIONS, "founding_map": founding_map, "validation": validate,
            "sensitivity": sensitivity, "portfolio": portfolio,
            **dict.fromkeys(RUNNERS, own_report)}
#: analyses of a sample of many design points: the per-cell tables and figures are left out
SAMPLE_ANALYSES = {"sensitivity", "portfolio"}
MAX_SERIES_CELLS = 12  # more lines than this make a time-series panel unreadable
MAX_CELL_TABLES = 40  # more cells than this: per-cell tables and figures are left out


def write_report(data: SweepData, figures: bool = True) -> Path:
    fig_dir = data.sweep_dir / FIGURES
    if fig_dir.exists():
        shutil.rmtree(fig_dir)  # derived output: never mix figures of different sweeps
    writer = FigureWriter(fig_dir, list(data.settings.get("formats", ["png", "svg"]))
                          if figures else [])
    s = data.settings
    name = s.get("name", data.sweep_dir.name)
    town = data.manifest.get("town") or (data.summary["town"].iloc[0] if len(data.summary)
                                         else "")
    out = [f"# {name.replace('_', ' ').capitalize()}: {town}", ""]
    if s.get("question"):
        out += [f"**Question.** {s['question']}", ""]
    if not data.cells:
        out += ["No run of this sweep has finished yet.", ""]
        out += _failures(data)
        return _write(data, out)
    analysis = ANALYSES.get(s.get("analysis", "scenario_comparison"))
    finding = analysis(data, writer) if analysis else Finding(
        answer=[f"Unknown analysis {s.get('analysis')!r}; generic tables only."])
    out += ["## Answer", "", *_paragraphs(finding.answer), ""]
    out += _what_was_run(data)
    per_cell = s.get("analysis") not in SAMPLE_ANALYSES and len(data.cells) <= MAX_CELL_TABLES
    if per_cell:
        out += _outcomes(data)
        out += _paired(data)
    else:
        out += [f"Per-cell tables and figures are left out ({len(data.cells)} cells): "
                f"`{SUMMARY}` has one row per run with the cell's parameters.", ""]
    for heading, table in finding.tables:
        out += [f"## {heading}", "", table, ""]
    if per_cell:
        out += _fiscal(data)
        out += projects.section(data, writer if figures else None)
    if figures:
        if per_cell:
            _generic_figures(data, writer)
        out += ["## Figures", ""]
        for stem, caption in writer.saved:
            out += [f"![{caption}]({FIGURES}/{stem}.png)", "", f"*{caption}* "
                    f"([SVG]({FIGURES}/{stem}.svg))" if "svg" in writer.formats else
                    f"*{caption}*", ""]
    out += _how_to_read(data)
    out += _failures(data)
    return _write(data, out)


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank lines between paragraphs; consecutive bullets stay one list."""
    out: list[str] = []
    for line in lines:
        if out and not (line.startswith("- ") and out[-1].startswith("- ")):
            out.append("")
        out.append(line)
    return out


def _write(data: SweepData, lines: list[str]) -> Path:
    path = data.sweep_dir / REPORT
    text = "\n".join(lines).rstrip() + "\n"
    atomic_write(path, lambda p: Path(p).write_text(text))
    return path


def _what_was_run(data: SweepData) -> list[str]:
    m, s = data.manifest, data.settings
    seeds = sorted(data.summary["seed"].unique().tolist())
    steps = int(data.table["step"].max())
    versions = data.versions or [m.get("version", "unknown")]
    fixed = [o for o in m.get("overrides", []) if "," not in o]
    lines = ["## What was run", ""]
    if m.get("command"):
        lines.append(f"- Command: `{m['command']}`")
    if s.get("name"):
        lines.append(f"- Experiment config: `configs/experiment/{s['name']}.yaml`"
                     + ("; swept in the config: "
                        + "; ".join(f"`{k}={v}`" for k, v in m.get("sweeper_params", {}).items())
                        if m.get("sweeper_params") else "")
                     + ("; command-line overrides: " + ", ".join(f"`{o}`" for o in fixed)
                        if fixed else ""))
    lines.append(f"- Design: {len(data.cells)} cells x {len(seeds)} seeds "
                 f"({_seed_range(seeds)}, the same seeds in every cell: common random "
                 f"numbers), {steps} quarters per run, town {m.get('town', '')}".rstrip(", "))
    lines.append(f"- Runs: {len(data.summary)} finished, {len(data.failures)} failed")
    lines.append(f"- Model version {', '.join(versions)}"
                 + (f", source {m['source']}" if m.get("source") else ""))
    lines.append(f"- Files: each run's full resolved configuration is "
                 f"`{RUNS_DIR}/<cell>/seed<k>/config.yaml`; every run x quarter in "
                 f"`{TABLE}`; final-quarter summaries in `{SUMMARY}`"
                 + (f"; failed runs in `{FAILURES}`" if len(data.failures) else ""))
    if data.varying:
        lines.append("- Cells differ in: " + ", ".join(f"`{p}`" for p in data.varying))
    if m.get("experiment_file"):
        lines += ["", "<details><summary>The experiment file as run</summary>", "",
                  "```yaml", m["experiment_file"].rstrip(), "```", "", "</details>"]
    return lines + [""]


def _seed_range(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else f"seed {seeds[0]}"
    return "seeds " + ", ".join(map(str, seeds))


def _outcomes(data: SweepData) -> list[str]:
    metrics = [m for m in data.settings["outcomes"] if m in data.summary.columns]
    est = estimates(data, metrics)
    steps = int(data.table["step"].max())
    header = ["cell", *(f"{label(m)} ({unit(m)})" for m in metrics)]
    rows = [[cell_label(data, c), *(value_text(est[c][m], m) for m in metrics)]
            for c in data.cells]
    return [f"## Key outcomes at quarter {steps} (mean across seeds, 95% CI)", "",
            md_table(header, rows), ""]


def _paired(data: SweepData) -> list[str]:
    metrics = [m for m in data.settings["outcomes"] if m in data.summary.columns]
    diffs = paired(data, metrics)
    if not diffs:
        return []
    ref = data.settings.get("reference", "baseline")
    header = ["cell", *(f"{label(m)} ({unit(m)})" for m in metrics)]
    rows = [[cell_label(data, c), *(ci_text(d[m], signed=True) for m in metrics)]
            for c, d in diffs.items()]
    return [f"## Compared with {ref} on the same seeds (mean paired difference, 95% CI)", "",
            md_table(header, rows), ""]


def _fiscal(data: SweepData) -> list[str]:
    ref = data.settings.get("reference", "baseline")
    mean = data.summary.groupby("cell").mean(numeric_only=True)
    cost_cols = [f"cost_{lv}" for lv in LEVELS] + [f"cost_{i}" for i in INSTRUMENTS] + \
        ["cost_tax_expenditure"]
    rows = []
    for c in data.cells:
        total = estimate(by_seed(data, c, "public_cost"), "public_cost")
        rows.append([cell_label(data, c), *(fmt(mean.loc[c, k]) for k in cost_cols),
                     ci_text(total)])
    header = ["cell", *(plots.LEVEL_NAMES[lv] for lv in LEVELS),
              *(plots.INSTRUMENT_NAMES[i] for i in INSTRUMENTS),
              plots.INSTRUMENT_NAMES["tax_expenditure"], "total (95% CI)"]
    lines = ["## Public cost (Q7)", "",
             "Cumulative over the horizon, mln RUB, mean across seeds. Levels include the tax "
             "expenditures (revenue forgone through TASED rates) of each level; instruments "
             "are outlays, and tax expenditures are shown as their own column; the total is "
             "the same either way.", "", md_table(header, rows), ""]
    rows = []
    for c in data.cells:
        jobs = estimate(by_seed(data, c, "non_cfe_jobs_change"))
        gains = sum(v > 0 for v in by_seed(data, c, "non_cfe_jobs_change").values())
        per_job = ratio_of_means(by_seed(data, c, "public_cost"),
                                 by_seed(data, c, "non_cfe_jobs_change"))
        row = [cell_label(data, c), ci_text(jobs, signed=True),
               f"{gains}/{jobs.n}", fmt(per_job) if np.isfinite(per_job) else "no net gain"]
        r = reference_cell(data, c)
        if r is not None and r != c:
            d_cost = paired_difference(by_seed(data, c, "public_cost"),
                                       by_seed(data, r, "public_cost"))
            d_jobs = paired_difference(by_seed(data, c, "non_cfe_jobs_change"),
                                       by_seed(data, r, "non_cfe_jobs_change"))
            d_cfe = paired_difference(by_seed(data, c, "cfe_share"),
                                      by_seed(data, r, "cfe_share"))
            row += [ci_text(d_cost, signed=True), ci_text(d_jobs, signed=True),
                    fmt(d_cost.mean / d_jobs.mean) if d_jobs.sign() > 0
                    else "no significant job gain",
                    fmt(d_cost.mean / (-100 * d_cfe.mean)) if d_cfe.sign() < 0
                    else "no significant reduction"]
        else:
            row += ["-"] * 4
        rows.append(row)
    header = ["cell", "net new non-CFE jobs (persons, 95% CI)", "runs with a job gain",
              "public cost per net new non-CFE job (mln RUB)",
              f"extra public cost vs {ref} (mln RUB)", f"extra non-CFE jobs vs {ref}",
              "cost per additional job (mln RUB)",
              "cost per p.p. lower CFE share (mln RUB)"]
    lines += ["Cost-effectiveness. Cost per net new job = mean cumulative public cost / mean "
              "net change of non-CFE jobs since quarter 0. Against the "
              f"{ref}, the additional cost is divided by the additional jobs (or by the "
              "percentage points of CFE share removed) only where that gain is significant.",
              "", md_table(header, rows), ""]
    return lines


def _generic_figures(data: SweepData, writer: FigureWriter) -> None:
    st = styles(data)
    s = data.settings
    series = [m for m in s["series"] if m in data.table.columns]
    outcomes = [m for m in s["outcomes"] if m in data.summary.columns]
    if len(data.cells) <= MAX_SERIES_CELLS and series:
        plots.time_series(writer, bands(data, series), data.cells, st, series, "timeseries",
                          "Key outputs over time by cell: mean across seeds with 95% "
                          "confidence band.")
    plots.intervals(writer, estimates(data, outcomes), data.cells, st, outcomes,
                    "final_outcomes", "Outcomes at the final quarter: mean across seeds with "
                    "95% CI (CMC: share of runs, Wilson CI).",
                    "Final-quarter outcomes (mean, 95% CI)")
    diffs = paired(data, outcomes)
    if diffs:
        ref = s.get("reference", "baseline")
        plots.intervals(writer, diffs, list(diffs), st, outcomes, "paired_differences",
                        f"Difference to the {ref} on the same seeds (common random numbers): "
                        f"mean paired difference with 95% CI; right of zero = higher than "
                        f"the {ref}.", f"Difference to {ref}, paired by seed (95% CI)",
                        zero_line=True, unit_suffix=f", difference to {ref}")
    _heatmaps(data, writer, outcomes)
    mean = data.summary.groupby("cell").mean(numeric_only=True)
    by_level = pd.DataFrame({lv: mean[f"cost_{lv}"] for lv in LEVELS})
    by_inst = pd.DataFrame({**{i: mean[f"cost_{i}"] for i in INSTRUMENTS},
                            "tax_expenditure": mean["cost_tax_expenditure"]})
    plots.stacked_costs(writer, data.cells, st, by_level, by_inst, "public_cost",
                        "Cumulative public cost by level of government and by instrument "
                        "(mean across seeds, mln RUB).")
    panels = _network_panels(data)
    if panels:
        plots.networks(writer, panels, "network",
                       "Firm ties at the final quarter for the first seed of one cell per "
                       "scenario: cluster members in the scenario's colour, the CFE as a "
                       "black square, node size grows with employees.")


def _heatmaps(data: SweepData, writer: FigureWriter, outcomes: list[str]) -> None:
    numeric = [p for p in data.varying
               if all(isinstance(data.cell_params[c].get(p), (int, float)) for c in data.cells)]
    if len(numeric) != 2:
        return
    x_name, y_name = numeric
    s = data.summary
    for scen in sorted({data.cell_scenario[c] for c in data.cells}):
        d = s[s["scenario"] == scen]
        grids = {m: d.pivot_table(index=y_name, columns=x_name, values=m, aggfunc="mean")
                 for m in outcomes}
        plots.heatmaps(writer, grids, x_name, y_name, f"heatmap_{scen}",
                       f"{scen}: mean final-quarter outcomes over the two swept parameters "
                       f"({x_name} across, {y_name} up).",
                       f"{scen}: outcomes over {x_name} x {y_name} (mean across seeds)")


def _network_panels(data: SweepData) -> list:
    chosen = []
    scenarios = []
    for c in data.cells:
        if data.cell_scenario[c] not in scenarios:
            scenarios.append(data.cell_scenario[c])
            chosen.append(c)
    if len(chosen) == 1 and len(data.cells) > 1:
        chosen.append(data.cells[-1])  # one scenario: contrast the first and the last cell
    panels = []
    for c in chosen:
        seed = min(s for cc, s in data.configs if cc == c)
        path = data.sweep_dir / RUNS_DIR / c / f"seed{seed}" / FIRM_TABLE
        if not path.exists():
            continue
        firms = pd.read_parquet(path)
        firms = firms[firms["step"] == firms["step"].max()]
        panels.append((f"{cell_label(data, c)} (seed {seed})", firms,
                       plots.scenario_colour(data.cell_scenario[c])))
    return panels


def _how_to_read(data: SweepData) -> list[str]:
    ref = data.settings.get("reference", "baseline")
    return ["## How to read this report", "",
            f"- Every cell ran the same {n_seeds(data)} seeds. A seed fixes the town's initial "
            f"firms and the random draws of each stage, so two scenarios on one seed differ "
            f"only through policy (common random numbers). Differences to the {ref} are "
            f"computed seed by seed and then averaged, which removes most of the noise "
            f"between towns.",
            "- Intervals are 95% confidence intervals of the mean across seeds (t "
            "distribution); for shares of runs (e.g. CMC exists) they are Wilson intervals. A "
            "difference is called significant when its interval excludes zero. More seeds "
            "(`experiment.replications=N`) narrow the intervals.",
            "- Units: time in quarters (one step), people in persons, money in mln RUB "
            "(cumulative over the horizon for costs), shares between 0 and 1 unless shown "
            "in %. Employment entropy is in nats: higher means employment is spread over more "
            "sectors. The CFE share is the official mono-town criterion (at least 20%).",
            "- These are model results for a stylised town calibrated from public facts and "
            "stated estimates (see the model documentation); they compare policies under the "
            "model's assumptions rather than forecast the real town.", ""]


def _failures(data: SweepData) -> list[str]:
    if not len(data.failures):
        return []
    rows = [[r["cell"], r["seed"], r["error_type"], str(r["error"]).replace("|", "/")]
            for _, r in data.failures.iterrows()]
    return ["## Failed runs", "",
            f"{len(rows)} run(s) raised an error; they are excluded from every table and "
            f"figure above. Each has failed.json (error, traceback, configuration) in its run "
            f"directory.", "", md_table(["cell", "seed", "error type", "error"], rows), ""]
