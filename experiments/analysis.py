"""Question-specific analyses (the model's questions Q1-Q7) over an aggregated sweep.

Each analysis reads the per-run summaries of `SweepData`, draws its own figures and returns a
`Finding`: the measured answer in plain words, tables and figure captions for the report.
`ANALYSES` maps the name an experiment config gives in `experiment.analysis` to its function.
The helpers at the top (cell styles, estimates, paired differences, confidence bands) are
shared with experiments.report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats as sps

from experiments import plots
from experiments.data import SweepData
from experiments.layout import sort_key
from experiments.plots import FigureWriter, Style, axis_label, fmt, label, lower, unit
from experiments.stats import (LEVEL, Estimate, interaction, mean_ci, paired_difference,
                               share_ci, step_threshold)

MIN_BIN_OBSERVATIONS = 10  # quarters needed to draw a size bin of the hysteresis panel
SHARE_METRICS = {"cmc_exists", "recovered", "cmc_at_support_end", "cmc_founded"}  # 0/1


@dataclass
class Finding:
    answer: list = field(default_factory=list)  # sentences / bullets, plain language
    tables: list = field(default_factory=list)  # (heading, markdown table)
    figures: list = field(default_factory=list)  # figure stems drawn by the analysis


# --------------------------------------------------------------------------- helpers


def short_param(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def cell_label(data: SweepData, cell: str) -> str:
    parts = []
    scenarios = {data.cell_scenario[c] for c in data.cells}
    if len(scenarios) > 1 or not data.varying:
        parts.append(data.cell_scenario.get(cell, cell))
    for p in data.varying:
        parts.append(f"{short_param(p)}={data.cell_params[cell].get(p)}")
    return ", ".join(parts)


def styles(data: SweepData) -> dict[str, Style]:
    """Colour by scenario (fixed palette); line style by the other swept values. Without a
    scenario contrast, colour follows the other swept values on a sequential map."""
    scenarios = {data.cell_scenario[c] for c in data.cells}
    combos: list[tuple] = []
    for c in data.cells:
        key = tuple(str(data.cell_params[c].get(p)) for p in data.varying)
        if key not in combos:
            combos.append(key)
    out = {}
    for c in data.cells:
        key = tuple(str(data.cell_params[c].get(p)) for p in data.varying)
        i = combos.index(key)
        if len(scenarios) > 1 or len(combos) == 1:
            colour = plots.scenario_colour(data.cell_scenario[c])
            style = plots.LINESTYLES[i % len(plots.LINESTYLES)]
        else:
            colour = plots.sequential_colour(i, len(combos))
            style = "-"
        out[c] = Style(colour, style, cell_label(data, c))
    return out


def by_seed(data: SweepData, cell: str, metric: str) -> dict[int, float]:
    s = data.summary
    d = s[s["cell"] == cell]
    return {int(k): float(v) for k, v in zip(d["seed"], d[metric])}


def estimate(values, metric: str = "") -> Estimate:
    """Mean and CI across seeds; Wilson interval for 0/1 outcomes (shares of runs)."""
    vals = list(values.values()) if isinstance(values, dict) else list(values)
    return share_ci(vals) if metric in SHARE_METRICS else mean_ci(vals)


def estimates(data: SweepData, metrics: list[str]) -> dict[str, dict[str, Estimate]]:
    return {c: {m: estimate(by_seed(data, c, m), m) for m in metrics} for c in data.cells}


def others(data: SweepData, cell: str) -> tuple:
    """The cell's swept values other than the scenario (its pairing key)."""
    return tuple(sorted((k, str(v)) for k, v in data.cell_params[cell].items()))


def reference_cell(data: SweepData, cell: str, reference: str | None = None) -> str | None:
    """The cell of the reference scenario with the same other parameters."""
    ref = reference or data.settings.get("reference", "baseline")
    for c in data.cells:
        if data.cell_scenario[c] == ref and others(data, c) == others(data, cell):
            return c
    return None


def paired(data: SweepData, metrics: list[str]) -> dict[str, dict[str, Estimate]]:
    """Per non-reference cell: mean paired difference to its reference cell, per metric."""
    ref = data.settings.get("reference", "baseline")
    out = {}
    for c in data.cells:
        r = reference_cell(data, c)
        if r is None or data.cell_scenario[c] == ref:
            continue
        out[c] = {m: paired_difference(by_seed(data, c, m), by_seed(data, r, m))
                  for m in metrics}
    return out


def bands(data: SweepData, outputs: list[str], level: float = LEVEL) -> dict[str, pd.DataFrame]:
    """Mean and t-interval across seeds per cell and step, for each output."""
    t = data.table
    out = {}
    for name in outputs:
        g = t.groupby(["cell", "step"], sort=False)[name]
        d = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.count()}).reset_index()
        n = d["n"].to_numpy(dtype=float)
        crit = np.full(n.shape, np.nan)
        ok = n > 1
        crit[ok] = sps.t.ppf(0.5 + level / 2, n[ok] - 1)
        half = crit * d["sd"].to_numpy(dtype=float) / np.sqrt(np.maximum(n, 1))
        lo, hi = d["mean"] - half, d["mean"] + half
        # keep the band within what the output can take: counts >= 0, shares <= 1
        if (t[name].dropna() >= 0).all():
            lo = lo.clip(lower=0.0)
        if name in SHARE_METRICS or unit(name).startswith("share"):
            hi = hi.clip(upper=1.0)
        d["lo"], d["hi"] = lo, hi
        out[name] = d
    return out


def ci_text(e: Estimate, signed: bool = False, scale: float = 1.0) -> str:
    """'0.262 (0.250 to 0.274)'; shares of runs as percentages."""
    if e.n == 0 or not np.isfinite(e.mean):
        return "n/a"
    f = (lambda v: ("+" if v > 0 else "") + fmt(v * scale)) if signed else \
        (lambda v: fmt(v * scale))
    if e.n < 2 or not np.isfinite(e.lo):
        return f"{f(e.mean)} (n={e.n})"
    return f"{f(e.mean)} ({f(e.lo)} to {f(e.hi)})"


def pct_text(e: Estimate) -> str:
    if e.n == 0:
        return "n/a"
    return f"{e.mean:.0%} ({e.lo:.0%} to {e.hi:.0%})"


def value_text(e: Estimate, metric: str, signed: bool = False) -> str:
    return pct_text(e) if metric in SHARE_METRICS and not signed else ci_text(e, signed)


def effect_phrase(metric: str, e: Estimate) -> str:
    u = unit(metric)
    return f"{lower(label(metric))} {ci_text(e, signed=True)}{' ' + u if u else ''}"


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def verdict(e: Estimate, higher_is_better: bool = True) -> str:
    s = e.sign()
    if s == 0:
        return "no significant difference"
    return "better" if (s > 0) == higher_is_better else "worse"


def groups(data: SweepData, exclude: list[str]) -> dict[tuple, list[str]]:
    """Cells grouped by scenario and the swept parameters not in `exclude`."""
    keep = [p for p in data.varying if p not in exclude]
    out: dict[tuple, list[str]] = {}
    for c in data.cells:
        key = tuple((p, data.cell_params[c].get(p)) for p in keep)
        if "scenario" not in exclude:
            key = (("scenario", data.cell_scenario[c]), *key)
        out.setdefault(key, []).append(c)
    return out


def group_text(key: tuple) -> str:
    return ", ".join(f"{short_param(p)}={v}" for p, v in key)


def n_seeds(data: SweepData) -> int:
    return int(data.summary.groupby("cell")["seed"].nunique().min()) if len(data.summary) else 0


# --------------------------------------------------------------------------- analyses


def scenario_comparison(data: SweepData, writer: FigureWriter) -> Finding:
    """Q1-Q7 overview: each scenario against the reference on the same seeds."""
    f = Finding()
    primary = data.option("primary", "employment_entropy")
    higher = bool(data.option("higher_is_better", True))
    metrics = ["cfe_share", "employment_entropy", "members", "non_cfe_jobs_change",
               "unemployment_rate", "public_cost"]
    diffs = paired(data, metrics)
    ref = data.settings.get("reference", "baseline")
    if not diffs:
        f.answer.append(f"No {ref} cell with matching parameters was run, so no paired "
                        f"comparison is possible; see the outcome table.")
        return f
    ranked = sorted(diffs, key=lambda c: diffs[c][primary].mean, reverse=higher)
    up = [c for c in ranked if diffs[c][primary].sign() == (1 if higher else -1)]
    down = [c for c in ranked if diffs[c][primary].sign() == (-1 if higher else 1)]
    same = [c for c in ranked if diffs[c][primary].sign() == 0]
    lab = lambda cs: ", ".join(cell_label(data, c) for c in cs) or "none"  # noqa: E731
    best = ranked[0]
    f.answer.append(
        f"Against the {ref} on the same {n_seeds(data)} seeds, the largest gain in "
        f"{lower(label(primary))} comes from **{cell_label(data, best)}**: "
        f"{ci_text(diffs[best][primary], signed=True)} {unit(primary)} (95% CI)."
        if diffs[best][primary].sign() == (1 if higher else -1) else
        f"No scenario changes {lower(label(primary))} significantly against the {ref} "
        f"on the same {n_seeds(data)} seeds (every 95% CI includes zero).")
    f.answer.append(f"Significantly better than the {ref} on {lower(label(primary))}: "
                    f"{lab(up)}; significantly worse: {lab(down)}; no significant "
                    f"difference: {lab(same)}. Each scenario against the {ref} "
                    f"(mean paired difference, 95% CI):")
    for c in ranked:
        f.answer.append(f"- **{cell_label(data, c)}**: " + differences_text(diffs[c], metrics))
    f.answer.append(fiscal_sentence(data, diffs, ref))
    f.tables.append(founding_table(data))
    f.tables.append(budget_table(data))
    return f


def founding_table(data: SweepData) -> tuple[str, str]:
    """Share of runs that founded a CMC, when, and how membership moved (by cell)."""
    rows = []
    for c in data.cells:
        founded = estimate(by_seed(data, c, "cmc_founded"), "cmc_founded")
        first = estimate(v for v in by_seed(data, c, "cmc_first_quarter").values()
                         if np.isfinite(v))
        rows.append([cell_label(data, c), pct_text(founded), ci_text(first),
                     ci_text(estimate(by_seed(data, c, "cluster_joins_total"))),
                     ci_text(estimate(by_seed(data, c, "cluster_leaves_total"))),
                     ci_text(estimate(by_seed(data, c, "members")))])
    return ("Cluster founding: share of runs with a CMC, when it first appeared, joins and "
            "leaves over the run, members at the end (mean or share, 95% CI)",
            md_table(["cell", "runs that founded a CMC", "first quarter with a CMC",
                      "joins", "leaves", "members at the end"], rows))


def budget_table(data: SweepData) -> tuple[str, str]:
    """The town's budget dependence on the CFE at the start and the end (by cell)."""
    t = data.table
    first, last = int(t["step"].min()) + 1, int(t["step"].max())
    rows = []
    for c in data.cells:
        d = t[t["cell"] == c]
        cells = []
        for name in ("cfe_share_municipal_revenue", "cfe_share_tax_revenue"):
            for step in (first, last):
                cells.append(ci_text(estimate(d.loc[d["step"] == step, name].dropna())))
        rows.append([cell_label(data, c), *cells])
    return (f"Budget dependence on the CFE: its share of municipal tax revenue and of all tax "
            f"revenue collected in town, in quarters {first} and {last} (mean, 95% CI)",
            md_table(["cell", f"municipal, q{first}", f"municipal, q{last}",
                      f"all taxes, q{first}", f"all taxes, q{last}"], rows))


def fiscal_sentence(data: SweepData, diffs: dict, ref: str) -> str:
    """Q7 in one sentence: extra public cost per additional non-CFE job where jobs rose."""
    gains = sorted((c for c in diffs if diffs[c]["non_cfe_jobs_change"].sign() > 0),
                   key=lambda c: diffs[c]["public_cost"].mean
                   / diffs[c]["non_cfe_jobs_change"].mean)  # cheapest job first
    if gains:
        parts = []
        for c in gains:
            jobs, cost = diffs[c]["non_cfe_jobs_change"], diffs[c]["public_cost"]
            parts.append(f"{cell_label(data, c)} adds {ci_text(jobs)} jobs outside the CFE for "
                         f"{fmt(cost.mean)} mln RUB of extra public cost, "
                         f"**{fmt(cost.mean / jobs.mean)} mln RUB per additional job**")
        return f"Fiscal cost (Q7), against the {ref}: " + "; ".join(parts) + "."
    costs = sorted(diffs, key=lambda c: diffs[c]["public_cost"].mean)
    return (f"Fiscal cost (Q7): no scenario adds significantly more jobs outside the CFE than "
            f"the {ref}, so no cost per additional job can be stated; the extra public cost "
            f"ranges from {fmt(diffs[costs[0]]['public_cost'].mean)} mln RUB "
            f"({cell_label(data, costs[0])}) to {fmt(diffs[costs[-1]]['public_cost'].mean)} "
            f"mln RUB ({cell_label(data, costs[-1])}).")


def differences_text(diffs: dict[str, Estimate], metrics: list[str]) -> str:
    """Significant differences with their CIs, then the outcomes that did not change."""
    sig = [effect_phrase(m, diffs[m]) for m in metrics if diffs[m].sign() != 0]
    flat = [lower(label(m)) for m in metrics if diffs[m].sign() == 0]
    parts = []
    if sig:
        parts.append("; ".join(sig))
    if flat:
        parts.append("no significant difference in " + ", ".join(flat))
    return "; ".join(parts) + "."


def synergy(data: SweepData, writer: FigureWriter) -> Finding:
    """Q1: interaction of TASED and cluster policy in the 2x2 design."""
    f = Finding()
    roles = {"neither": "baseline", "tased": "tased_only", "cluster": "cluster_only",
             "both": "top_down", **data.option("cells", {})}
    metrics = data.option("metrics", ["employment_entropy", "cfe_share", "non_cfe_jobs_change",
                                      "members"])
    primary = data.option("primary", "employment_entropy")
    higher = {"cfe_share": False}
    rows, panels = [], {}
    for key, cells in groups(data, ["scenario"]).items():
        by_role = {r: next((c for c in cells if data.cell_scenario[c] == s), None)
                   for r, s in roles.items()}
        missing = [roles[r] for r, c in by_role.items() if c is None]
        if missing:
            f.answer.append(f"{group_text(key) or 'The sweep'} lacks {', '.join(missing)}: the "
                            f"2x2 design needs all four scenarios.")
            continue
        v = {r: {m: by_seed(data, c, m) for m in metrics} for r, c in by_role.items()}
        effects = {}
        for m in metrics:
            effects[m] = {
                "TASED alone": paired_difference(v["tased"][m], v["neither"][m]),
                "cluster policy alone": paired_difference(v["cluster"][m], v["neither"][m]),
                "both": paired_difference(v["both"][m], v["neither"][m]),
                "interaction": interaction(v["both"][m], v["tased"][m], v["cluster"][m],
                                           v["neither"][m]),
            }
            rows.append([group_text(key) or "all", f"{label(m)} ({unit(m)})",
                         *(ci_text(e, signed=True) for e in effects[m].values())])
        panels[key] = effects
        e = effects[primary]["interaction"]
        good = 1 if higher.get(primary, True) else -1
        where = f" ({group_text(key)})" if key else ""
        if e.sign() == good:
            word = ("TASED and cluster policy together diversify **more** than the sum of their "
                    "separate effects: synergy")
        elif e.sign() == -good:
            word = ("together they diversify **less** than the sum of their separate effects: "
                    "the instruments partly substitute for each other")
        else:
            word = ("**no evidence of synergy**: the interaction's 95% CI includes zero, so the "
                    "combined effect is not distinguishable from the sum of the separate ones")
        f.answer.append(
            f"Interaction effect on {lower(label(primary))}{where}: "
            f"{ci_text(e, signed=True)} {unit(primary)} (95% CI, {e.n} paired seeds): {word}. "
            f"Interaction = (top_down - tased_only) - (cluster_only - baseline), per seed.")
        for m in metrics:
            if m != primary:
                e_m = effects[m]["interaction"]
                f.answer.append(f"- Interaction on {lower(label(m))}: "
                                f"{ci_text(e_m, signed=True)} {unit(m)} "
                                f"({'significant' if e_m.sign() else 'not significant'}).")
    if rows:
        f.tables.append(("Effects against the baseline and the interaction (mean paired "
                         "difference, 95% CI)",
                         md_table(["cells", "outcome", "TASED alone", "cluster policy alone",
                                   "both", "interaction"], rows)))
        f.figures.append(plots.custom(writer, lambda: _effects_figure(panels, metrics),
                                      "synergy_effects",
                                      "Effects of TASED alone, cluster policy alone, both, and "
                                      "their interaction (mean paired difference per seed with "
                                      "95% CI); the interaction is the synergy."))
    return f


EFFECT_NAMES = {"TASED alone": "TASED alone\n(tased_only - baseline)",
                "cluster policy alone": "cluster policy alone\n(cluster_only - baseline)",
                "both": "both\n(top_down - baseline)",
                "interaction": "interaction\n(synergy)"}


def _effects_figure(panels: dict, metrics: list[str]) -> plt.Figure:
    fig, axes = plots._grid(len(metrics), ncols=4, width=3.8, height=3.0)
    colours = {"TASED alone": plots.scenario_colour("tased_only"),
               "cluster policy alone": plots.scenario_colour("cluster_only"),
               "both": plots.scenario_colour("top_down"), "interaction": "#000000"}
    for ax, m in zip(axes, metrics):
        ylabels = []
        y = 0
        for key, effects in panels.items():
            for name, e in effects[m].items():
                lo, hi = (e.lo, e.hi) if np.isfinite(e.lo) else (e.mean, e.mean)
                ax.errorbar(e.mean, y, xerr=plots.error_bar(e.mean, lo, hi), fmt="o",
                            color=colours[name], capsize=3)
                ylabels.append(EFFECT_NAMES.get(name, name)
                               + (f" ({group_text(key)})" if key else ""))
                y -= 1
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(0, y, -1))
        ax.set_yticklabels(ylabels, fontsize=8)
        ax.set_xlabel(f"difference to baseline ({unit(m)})")
        ax.set_title(label(m), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("2x2 design: effects with 95% CI (paired by seed)", fontsize=11)
    return fig


def support_withdrawal(data: SweepData, writer: FigureWriter) -> Finding:
    """Q2: does the cluster survive when public support ends?"""
    f = Finding()
    key = data.option("parameter", "cluster.support_end_step")
    steps = int(data.table["step"].max()) if len(data.table) else 0
    public = ["cost_cmc_funding", "cost_membership_subsidy", "cost_joint_project_subsidy"]
    rows, by_end, controls = [], {}, set()
    for c in data.cells:
        scen = data.cell_scenario[c]
        end = data.configs[c, min(s for cc, s in data.configs if cc == c)]["cluster"][
            "support_end_step"]
        cell_runs = data.summary[data.summary["cell"] == c]
        control = float(cell_runs[public].to_numpy().sum()) == 0.0
        others_ = [f"{short_param(p)}={data.cell_params[c].get(p)}" for p in data.varying
                   if p not in (key, "scenario")]
        name = scen + (" (control)" if control else "") + (
            f" ({', '.join(others_)})" if others_ else "")
        if control:
            controls.add(scen)
        at = estimate(by_seed(data, c, "members_at_support_end"), "members")
        final = estimate(by_seed(data, c, "members"), "members")
        ratio = estimate(by_seed(data, c, "members_retained"), "members_retained")
        ties_at = estimate(by_seed(data, c, "ties_at_support_end"), "ties")
        ties = estimate(by_seed(data, c, "ties"), "ties")
        cmc_at = by_seed(data, c, "cmc_at_support_end")
        cmc_end = by_seed(data, c, "cmc_exists")
        alive = [cmc_end[s] for s in cmc_at if cmc_at[s] == 1.0]
        survival = share_ci(alive)
        rows.append([name, end, ci_text(at), ci_text(final), ci_text(ratio), ci_text(ties_at),
                     ci_text(ties), pct_text(share_ci(list(cmc_at.values()))),
                     pct_text(share_ci(list(cmc_end.values()))),
                     f"{pct_text(survival)} of {survival.n}" if survival.n else "no CMC at T"])
        if np.isfinite(at.mean):
            by_end.setdefault(end, []).append((name, survival, share_ci(list(cmc_end.values())),
                                               at, final, ties_at, ties))
    f.tables.append((
        f"The cluster when support ends (quarter T) and at quarter {steps} (mean, 95% CI; "
        f"shares of runs with Wilson CI)",
        md_table(["scenario", "T (quarter)", "members at T", f"members at {steps}",
                  f"members at {steps} / members at T (per run)", "ties at T",
                  f"ties at {steps}", "runs with a CMC at T", f"runs with a CMC at {steps}",
                  f"CMC at T still there at {steps}"], rows)))
    for end in sorted(by_end):
        items = by_end[end]
        f.answer.append(
            f"- Support ends at quarter **{end}**: of the runs with a CMC at that point, the "
            f"CMC still exists at quarter {steps} in "
            + "; ".join(f"{name} {pct_text(surv)}" if surv.n else f"{name}: no CMC at T"
                        for name, surv, *_ in items)
            + ". Members at T -> at the end: "
            + "; ".join(f"{name} {fmt(at.mean)} -> {fmt(final.mean)}"
                        for name, _, _, at, final, *_ in items)
            + ". Ties: " + "; ".join(f"{name} {fmt(ta.mean)} -> {fmt(te.mean)}"
                                      for name, _, _, _, _, ta, te in items) + ".")
    unobserved = sorted({r[1] for r in rows} - set(by_end))
    lead = ("Survival of the cluster management company (CMC) after public support ends, by "
            "governance mode (share of runs, 95% CI; a CMC alive at the end may have been "
            "founded again by firms).")
    if controls:
        lead += (f" {', '.join(sorted(controls))} received no public cluster money and is the "
                 f"control.")
    f.answer.insert(0, lead)
    if unobserved:
        f.answer.append(f"Support ending at quarter(s) {', '.join(map(str, unobserved))} is not "
                        f"observed before the horizon ({steps} quarters).")
    levers = [lv for lv in data.option("levers", []) if lv in data.varying]
    for i, lever in enumerate(levers):
        f.tables += survival_by_lever(data, key, lever, sizes=i == 0)
        f.figures.append(plots.custom(
            writer, lambda lever=lever: _survival_figure(data, key, lever),
            f"survival_by_{lever.rsplit('.', 1)[-1]}",
            f"Share of runs whose CMC, alive when support ends, is still there at the end, by "
            f"{lever} (x; pooled over the other levers), one panel per end of support, colour "
            f"per governance mode; Wilson 95% CI."))
    f.figures.append(plots.custom(writer, lambda: _withdrawal_figure(data, key),
                                  "support_withdrawal",
                                  "Cluster members and share of runs with a CMC over time, one "
                                  "panel per end of support (dotted line), colour per "
                                  "governance mode; mean with 95% band."))
    return f


def _survival(data: SweepData, cells: list[str]) -> Estimate:
    """Share of runs (Wilson CI) whose CMC, alive when support ended, is alive at the end."""
    s = data.summary[data.summary["cell"].isin(cells)]
    alive = s.loc[s["cmc_at_support_end"] == 1.0, "cmc_exists"]
    return share_ci(alive.tolist())


def survival_by_lever(data: SweepData, key: str, lever: str,
                      sizes: bool = True) -> list[tuple[str, str]]:
    """Survival after support by a lever's value (pooled over the other levers), and, with
    `sizes`, by the cluster's size when support ended (pooled over every cell): what survival
    depends on."""
    rows = []
    for end in sorted({data.cell_params[c].get(key) for c in data.cells}, key=sort_key):
        for scen in dict.fromkeys(data.cell_scenario[c] for c in data.cells):
            for value in sorted({data.cell_params[c].get(lever) for c in data.cells},
                                key=sort_key):
                cells = [c for c in data.cells if data.cell_scenario[c] == scen
                         and data.cell_params[c].get(key) == end
                         and data.cell_params[c].get(lever) == value]
                e = _survival(data, cells)
                if e.n:
                    rows.append([scen, end, value, f"{pct_text(e)} of {e.n}"])
    s = data.summary[data.summary["cmc_at_support_end"] == 1.0]
    bins = data.option("member_bins", [0, 20, 40, 80])
    size_rows = []
    for lo, hi in zip(bins, bins[1:] + [np.inf]):
        runs = s[(s["members_at_support_end"] >= lo) & (s["members_at_support_end"] < hi)]
        e = share_ci(runs["cmc_exists"].tolist())
        if e.n:
            size_rows.append([f"{lo} to {hi - 1:g}" if np.isfinite(hi) else f"{lo} or more",
                              f"{pct_text(e)} of {e.n}"])
    tables = [(f"Survival after support by {lever} (runs with a CMC when support ended whose "
               f"CMC is still there at the end, pooled over the other levers; Wilson 95% CI)",
               md_table(["scenario", "support ends", lever, "CMC survives"], rows))]
    if sizes:
        tables.append(("Survival after support by the cluster's size when support ended "
                       "(every cell)",
                       md_table(["members when support ended", "CMC survives"], size_rows)))
    return tables


def _survival_figure(data: SweepData, key: str, lever: str) -> plt.Figure:
    ends = sorted({data.cell_params[c].get(key) for c in data.cells}, key=sort_key)
    values = sorted({data.cell_params[c].get(lever) for c in data.cells}, key=sort_key)
    fig, axes = plt.subplots(1, len(ends), figsize=(4.2 * len(ends), 3.6), sharey=True,
                             layout="constrained", squeeze=False)
    for ax, end in zip(axes[0], ends):
        for scen in dict.fromkeys(data.cell_scenario[c] for c in data.cells):
            points = []
            for v in values:
                cells = [c for c in data.cells if data.cell_scenario[c] == scen
                         and data.cell_params[c].get(key) == end
                         and data.cell_params[c].get(lever) == v]
                e = _survival(data, cells)
                if e.n:
                    points.append((float(v), e))
            if points:
                colour = plots.scenario_colour(scen)
                xs = [p[0] for p in points]
                ax.errorbar(xs, [p[1].mean for p in points],
                            yerr=np.hstack([plots.error_bar(p[1].mean, p[1].lo, p[1].hi)
                                            for p in points]),
                            color=colour, marker="o", capsize=3, label=scen)
        ax.set_title(f"support ends at quarter {end}", fontsize=10)
        ax.set_xlabel(lever)
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("CMC survives to the end (share of runs)")
    axes[0][0].legend(fontsize=8)
    return fig


def _withdrawal_figure(data: SweepData, key: str) -> plt.Figure:
    ends = sorted({data.cell_params[c].get(key) for c in data.cells}, key=sort_key)
    b = bands(data, ["members", "cmc_exists"])
    fig, axes = plt.subplots(2, len(ends), figsize=(4.2 * len(ends), 6.4), sharey="row",
                             layout="constrained", squeeze=False)
    seen = {}
    for j, end in enumerate(ends):
        cells = [c for c in data.cells if data.cell_params[c].get(key) == end]
        for i, out in enumerate(["members", "cmc_exists"]):
            ax = axes[i][j]
            for c in cells:
                d = b[out][b[out]["cell"] == c]
                colour = plots.scenario_colour(data.cell_scenario[c])
                ax.plot(d["step"], d["mean"], color=colour, linewidth=1.6)
                ax.fill_between(d["step"], d["lo"], d["hi"], color=colour, alpha=0.15,
                                linewidth=0)
                seen[data.cell_scenario[c]] = colour
            if end is not None:
                ax.axvline(float(end), color="black", linestyle=":", linewidth=1)
            ax.set_xlabel("quarter")
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(f"support ends at quarter {end}", fontsize=10)
        axes[0][j].set_ylabel(axis_label("members") if j == 0 else "")
        axes[1][j].set_ylabel("runs with a CMC (share)" if j == 0 else "")
    handles = [plt.Line2D([], [], color=c, linewidth=2, label=s) for s, c in seen.items()]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)
    return fig


def critical_mass(data: SweepData, writer: FigureWriter) -> Finding:
    """Q3: diffusion against cluster size; a threshold? hysteresis?"""
    f = Finding()
    diffusion = data.option("diffusion", "member_diffusion")
    size = "members"
    s = data.summary
    x = s["late_members"].to_numpy(dtype=float)
    y = s[f"late_{diffusion}"].to_numpy(dtype=float)
    fit = step_threshold(x, y, min_side=int(data.option("min_side", 5)))
    window = int(data.option("late_window"))
    what = (f"{lower(label(diffusion))} against cluster size, both averaged over the last "
            f"{window} quarters of each run ({fit.n} runs with a cluster)")
    if fit.found:
        f.answer.append(
            f"**Threshold found**: {what} jumps by {ci_text(fit.jump, signed=True)} "
            f"(95% CI) above about **{fmt(fit.breakpoint)} members**; a step fits better than "
            f"a straight line (BIC lower by {fmt(fit.delta_bic)}).")
    else:
        why = (f"a step does not fit clearly better than a straight line (BIC difference "
               f"{fmt(fit.delta_bic)}, 10 needed; best step {ci_text(fit.jump, signed=True)} at "
               f"{fmt(fit.breakpoint)} members)" if np.isfinite(fit.delta_bic)
               else "too few runs with a cluster to fit a step")
        f.answer.append(f"**No threshold found in the swept range** (cluster sizes "
                        f"{fmt(fit.x_min)} to {fmt(fit.x_max)} members): for {what}, {why}.")
    hyst = _hysteresis(data, diffusion, size)
    f.answer.append(hyst["text"])
    f.answer.append(
        "How hysteresis was tested: the levers cannot be reversed within a run, so each run's "
        "own path is used. A quarter counts as growth when the cluster has more members than "
        f"{hyst['lag']} quarters earlier and as decline when it has fewer; quarters are binned "
        f"by cluster size, and per run the diffusion during decline is compared with diffusion "
        f"during growth at the same size. The sweep of the initial firm base from below and "
        f"above the default (firm_base.scale) provides runs that grow into and shrink into "
        f"each size.")
    rows = []
    for c in data.cells:
        rows.append([cell_label(data, c),
                     ci_text(estimate(by_seed(data, c, "late_members"), "late_members")),
                     ci_text(estimate(by_seed(data, c, f"late_{diffusion}"), diffusion)),
                     ci_text(estimate(by_seed(data, c, "late_firm_diffusion"), diffusion)),
                     ci_text(estimate(by_seed(data, c, "employment_entropy")))])
    f.tables.append(("Cluster size and diffusion per design cell (mean of the last quarters, "
                     "95% CI)",
                     md_table(["cell", "cluster members (firms)",
                               f"{lower(label(diffusion))} ({unit(diffusion)})",
                               "firms that innovated or adopted (share)",
                               "employment entropy (nats)"], rows)))
    f.figures.append(plots.custom(writer, lambda: _mass_figure(data, x, y, fit, diffusion, hyst),
                                  "critical_mass",
                                  f"Left: {lower(label(diffusion))} against cluster size, one "
                                  f"point per run, with the linear and the best step fit. "
                                  f"Right: the same at each cluster size while the cluster "
                                  f"grows and while it shrinks (hysteresis test), 95% CI."))
    return f


def _hysteresis(data: SweepData, diffusion: str, size: str) -> dict:
    lag = int(data.option("hysteresis_lag", 4))
    width = float(data.option("size_bin", 10))
    t = data.table.sort_values(["cell", "seed", "step"])
    gaps, pooled = [], []
    for (_, _), run in t.groupby(["cell", "seed"], sort=False):
        m = run[size].to_numpy(dtype=float)
        d = run[diffusion].to_numpy(dtype=float)
        if len(m) <= lag:
            continue
        change = m[lag:] - m[:-lag]
        mm, dd = m[lag:], d[lag:]
        ok = mm > 0
        phase = np.where(change > 0, "growth", np.where(change < 0, "decline", ""))
        frame = pd.DataFrame({"bin": np.floor(mm[ok] / width) * width, "phase": phase[ok],
                              "d": dd[ok]})
        frame = frame[frame["phase"] != ""]
        pooled.append(frame)
        means = frame.groupby(["bin", "phase"])["d"].mean().unstack()
        if {"growth", "decline"} <= set(means.columns):
            both = means.dropna()
            if len(both):
                gaps.append(float((both["decline"] - both["growth"]).mean()))
    gap = mean_ci(gaps)
    if gap.n < 2:
        text = ("**Hysteresis could not be tested**: too few runs both grow and shrink through "
                "the same cluster sizes.")
    elif gap.sign() == 0:
        text = (f"**No hysteresis detected**: at the same cluster size, diffusion while the "
                f"cluster shrinks differs from diffusion while it grows by "
                f"{ci_text(gap, signed=True)} (95% CI over {gap.n} runs), which includes zero.")
    else:
        side = "higher" if gap.mean > 0 else "lower"
        text = (f"**Hysteresis**: at the same cluster size, diffusion is {side} while the "
                f"cluster shrinks than while it grows, by {ci_text(gap, signed=True)} "
                f"(95% CI over {gap.n} runs): the state depends on the path.")
    frame = pd.concat(pooled) if pooled else pd.DataFrame(columns=["bin", "phase", "d"])
    return {"gap": gap, "text": text, "lag": lag, "pooled": frame, "width": width}


def _mass_figure(data: SweepData, x, y, fit, diffusion: str, hyst: dict) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4), layout="constrained")
    ax = axes[0]
    colour_by = data.option("colour_by", data.varying[0] if data.varying else None)
    marker_by = next((p for p in data.varying if p != colour_by), None)
    s = data.summary
    colour_values = sorted(s[colour_by].unique(), key=sort_key) if colour_by else [None]
    marker_values = sorted(s[marker_by].unique(), key=sort_key) if marker_by else [None]
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    for i, cv in enumerate(colour_values):
        for j, mv in enumerate(marker_values):
            sel = np.ones(len(s), dtype=bool)
            if colour_by:
                sel &= (s[colour_by] == cv).to_numpy()
            if marker_by:
                sel &= (s[marker_by] == mv).to_numpy()
            ax.scatter(x[sel], y[sel], s=22, alpha=0.85, marker=markers[j % len(markers)],
                       color=plots.sequential_colour(i, len(colour_values)))
    handles = [plt.Line2D([], [], marker="o", linestyle="", markersize=6,
                          color=plots.sequential_colour(i, len(colour_values)),
                          label=f"{short_param(colour_by)}={cv}")
               for i, cv in enumerate(colour_values) if colour_by]
    handles += [plt.Line2D([], [], marker=markers[j % len(markers)], linestyle="",
                           color="#555555", markersize=6, label=f"{short_param(marker_by)}={mv}")
                for j, mv in enumerate(marker_values) if marker_by]
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() > 2:
        grid = np.linspace(np.nanmin(x[ok]), np.nanmax(x[ok]), 200)
        b, a = np.polyfit(x[ok], y[ok], 1)
        handles += ax.plot(grid, a + b * grid, color="black", linestyle="--", linewidth=1,
                           label="linear fit")
        if np.isfinite(fit.breakpoint):
            above = x[ok] > fit.breakpoint
            design = np.column_stack([np.ones(ok.sum()), x[ok], above])
            beta, *_ = np.linalg.lstsq(design, y[ok], rcond=None)
            handles += ax.plot(
                grid, beta[0] + beta[1] * grid + beta[2] * (grid > fit.breakpoint),
                color="black", linewidth=1.2, alpha=1.0 if fit.found else 0.5,
                label=f"best step fit at {fmt(fit.breakpoint)}"
                      + ("" if fit.found else " (not significant)"))
    ax.set_xlabel(axis_label("late_members"))
    ax.set_ylabel(f"{label(diffusion)}\n({unit(diffusion)})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, fontsize=7, ncol=3, loc="upper center",
              bbox_to_anchor=(0.5, -0.16), frameon=False)
    ax = axes[1]
    pooled = hyst["pooled"]
    for phase, colour in (("growth", "#009E73"), ("decline", "#D55E00")):
        d = pooled[pooled["phase"] == phase]
        if d.empty:
            continue
        rows = [(b + hyst["width"] / 2, mean_ci(g["d"])) for b, g in d.groupby("bin")
                if len(g) >= MIN_BIN_OBSERVATIONS]
        if not rows:
            continue
        xs = np.array([r[0] for r in rows])
        es = [r[1] for r in rows]
        ms = np.array([e.mean for e in es])
        lo = np.array([e.lo if np.isfinite(e.lo) else e.mean for e in es])
        hi = np.array([e.hi if np.isfinite(e.hi) else e.mean for e in es])
        ax.errorbar(xs, ms, yerr=[np.maximum(ms - lo, 0), np.maximum(hi - ms, 0)], fmt="o-",
                    color=colour, capsize=3,
                    label=f"cluster {'growing' if phase == 'growth' else 'shrinking'}")
    ax.set_xlabel(f"Cluster members (firms, bins of {hyst['width']:g})")
    ax.set_ylabel(f"{label(diffusion)}\n({unit(diffusion)})", fontsize=9)
    ax.set_title("Same size, different direction", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def focus_vs_dissipation(data: SweepData, writer: FigureWriter) -> Finding:
    """Q4: the same budget on priority sectors versus spread over all sectors."""
    f = Finding()
    key = data.option("parameter", "cluster.priority_rule")
    focus = data.option("focus", "location_quotient")
    spread = data.option("spread", "all_sectors")
    metrics = data.option("metrics", ["employment_entropy", "cfe_share", "members",
                                      "member_diffusion", "non_cfe_jobs_change", "public_cost"])
    better_high = {"cfe_share": False, "public_cost": False}
    rows, diffs, labels_ = [], {}, {}
    for gkey, cells in groups(data, [key]).items():
        a = next((c for c in cells if data.cell_params[c].get(key) == focus), None)
        b = next((c for c in cells if data.cell_params[c].get(key) == spread), None)
        if a is None or b is None:
            continue
        name = group_text(tuple(x for x in gkey if x[0] != "scenario")) or ""
        scen = data.cell_scenario[a]
        title = scen + (f", {name}" if name else "")
        d = {m: paired_difference(by_seed(data, a, m), by_seed(data, b, m)) for m in metrics}
        diffs[a] = d
        labels_[a] = Style(plots.scenario_colour(scen), "-", title)
        rows += [[title, f"{label(m)} ({unit(m)})", ci_text(d[m], signed=True),
                  verdict(d[m], better_high.get(m, True))] for m in metrics]
        primary = data.option("primary", "employment_entropy")
        e = d[primary]
        word = {1: "focusing on priority sectors **beats** spreading the same budget",
                -1: "spreading the same budget over all sectors **beats** focusing",
                0: "**no significant difference** between focusing and spreading"}[
            e.sign() * (1 if better_high.get(primary, True) else -1)]
        f.answer.append(
            f"- **{title}**: {word} on {lower(label(primary))}: "
            f"{focus} minus {spread} = {ci_text(e, signed=True)} {unit(primary)} (95% CI, "
            f"{e.n} paired seeds). Other outcomes: "
            + "; ".join(effect_phrase(m, d[m]) for m in metrics if m != primary) + ".")
    if not diffs:
        f.answer.append(f"The sweep lacks the pair {key}={focus} / {key}={spread}.")
        return f
    f.answer.insert(0, f"Same cluster budget, priority rule {focus} (focus) versus {spread} "
                       f"(dissipation of forces), paired by seed:")
    f.tables.append((f"{focus} minus {spread} (mean paired difference, 95% CI)",
                     md_table(["scenario", "outcome", "difference", "focus is"], rows)))
    f.figures.append(plots.intervals(
        writer, diffs, list(diffs), labels_, metrics, "focus_differences",
        f"Focus minus dissipation ({focus} minus {spread}) per seed, mean with 95% CI.",
        f"{focus} minus {spread}, paired by seed (95% CI)", zero_line=True))
    return f


def cfe_shock(data: SweepData, writer: FigureWriter) -> Finding:
    """Q6: unemployment peak and recovery after a CFE demand shock, by scenario."""
    f = Finding()
    cfg = next(iter(data.configs.values()), {})
    shock = cfg.get("shock", {})
    tol = float(data.option("recovery_tolerance"))
    rows = []
    ref = data.settings.get("reference", "baseline")
    peaks, diffs = {}, {}
    for c in data.cells:
        rise = estimate(by_seed(data, c, "unemployment_peak_rise"))
        pre = estimate(by_seed(data, c, "unemployment_pre_shock"))
        rec = estimate(by_seed(data, c, "recovered"), "recovered")
        time_ = estimate(by_seed(data, c, "recovery_quarters"))
        r = reference_cell(data, c)
        diff = (paired_difference(by_seed(data, c, "unemployment_peak_rise"),
                                  by_seed(data, r, "unemployment_peak_rise"))
                if r is not None and r != c else None)
        peaks[c] = rise
        if diff is not None:
            diffs[c] = diff
        rows.append([cell_label(data, c), ci_text(pre, scale=100), ci_text(rise, scale=100),
                     ci_text(diff, signed=True, scale=100) if diff else "-", pct_text(rec),
                     ci_text(time_)])
    f.tables.append((f"Unemployment around the shock (percentage points; recovery = back "
                     f"within {tol * 100:g} p.p. of the pre-shock level)",
                     md_table(["scenario", "unemployment before (%)", "peak rise (p.p.)",
                               f"peak rise vs {ref} (p.p.)", "recovered within horizon",
                               "quarters to recover (recovered runs)"], rows)))
    f.answer.append(
        f"A fall of {shock.get('size', float('nan')):.0%} in CFE demand at quarter "
        f"{shock.get('step')} lasting {shock.get('duration_steps')} quarters:")
    order = sorted(peaks, key=lambda c: peaks[c].mean)
    for c in order:
        rec = estimate(by_seed(data, c, "recovered"), "recovered")
        time_ = estimate(by_seed(data, c, "recovery_quarters"))
        f.answer.append(f"- {cell_label(data, c)}: unemployment rises by "
                        f"{ci_text(peaks[c], scale=100)} p.p. at its peak; "
                        f"{rec.mean:.0%} of runs recover within the horizon"
                        + (f", after {ci_text(time_)} quarters" if time_.n else "") + ".")
    if order:
        f.answer.insert(1, f"Smallest unemployment peak: **{cell_label(data, order[0])}**; "
                           f"largest: **{cell_label(data, order[-1])}**.")
    if diffs:
        lab = lambda s: ", ".join(cell_label(data, c) for c in diffs  # noqa: E731
                                  if diffs[c].sign() == s) or "none"
        f.answer.insert(2, f"Against the {ref} on the same seeds, the unemployment peak is "
                           f"significantly lower under: {lab(-1)}; significantly higher "
                           f"under: {lab(1)}; not significantly different under: {lab(0)}.")
    st = styles(data)
    marks = [float(shock.get("step", 0)),
             float(shock.get("step", 0)) + float(shock.get("duration_steps", 0))]
    f.figures.append(plots.time_series(
        writer, bands(data, ["unemployment_rate", "cfe_employment", "non_cfe_jobs",
                             "population"]),
        data.cells, st, ["unemployment_rate", "cfe_employment", "non_cfe_jobs", "population"],
        "shock_paths", "Unemployment, CFE employment, other jobs and population around the "
                       "shock (dotted lines: shock start and end); mean with 95% band.",
        marks=marks))
    return f


ANALYSES: dict[str, Callable[[SweepData, FigureWriter], Finding]] = {
    "scenario_comparison": scenario_comparison,
    "synergy": synergy,
    "support_withdrawal": support_withdrawal,
    "critical_mass": critical_mass,
    "focus_vs_dissipation": focus_vs_dissipation,
    "cfe_shock": cfe_shock,
}
