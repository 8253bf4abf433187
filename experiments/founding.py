"""Where firms found a cluster themselves: the `founding_map` experiment's analysis.

A business-led sweep over two levers (by default the CMC's management quality against its
running cost): the share of runs in which firms found a cluster management company, as a
heat map with the 50% boundary drawn and the default parameters marked.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from experiments import plots
from experiments.analysis import Finding, md_table, n_seeds, pct_text
from experiments.data import SweepData
from experiments.layout import sort_key
from experiments.plots import FigureWriter, fmt, param_label
from experiments.stats import share_ci
from simulation.config import field_docs


def founding_map(data: SweepData, writer: FigureWriter) -> Finding:
    f = Finding()
    x = data.option("x", "cluster.running_cost")
    y = data.option("y", "cluster.management_quality")
    s = data.summary
    if x not in s.columns or y not in s.columns:
        f.answer.append(f"The sweep must vary {x} and {y}.")
        return f
    xs = sorted(s[x].unique(), key=sort_key)
    ys = sorted(s[y].unique(), key=sort_key)
    share = np.full((len(ys), len(xs)), np.nan)
    rows = []
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            runs = s.loc[(s[x] == xv) & (s[y] == yv), "cmc_founded"].tolist()
            e = share_ci(runs)
            share[i, j] = e.mean
            first = s.loc[(s[x] == xv) & (s[y] == yv) & (s["cmc_founded"] > 0),
                          "cmc_first_quarter"]
            rows.append([fmt(yv), fmt(xv), pct_text(e),
                         fmt(first.mean()) if len(first) else "none"])
    defaults = {r["name"]: r["default"] for r in field_docs()}
    f.tables.append((f"Share of runs in which firms founded a CMC (Wilson 95% CI) and the mean "
                     f"quarter it appeared, by {y} and {x}",
                     md_table([y, x, "runs that founded a CMC", "first quarter (mean)"], rows)))
    lines = []
    for j, xv in enumerate(xs):
        ok = [ys[i] for i in range(len(ys)) if share[i, j] >= 0.5]
        lines.append(f"{x} = {fmt(xv)}: " + (f"{y} >= {fmt(min(ok))}" if ok else "never"))
    at_default = [share[i, j] for i, yv in enumerate(ys) for j, xv in enumerate(xs)
                  if yv == defaults.get(y) and xv == defaults.get(x)]
    f.answer.append(
        f"Business-led founding over {y} and {x} ({n_seeds(data)} seeds a cell): firms found "
        f"a cluster management company in at least half of the runs where "
        + "; ".join(lines) + "."
        + (f" At the default parameters they found one in {at_default[0]:.0%} of the runs."
           if at_default else ""))
    f.figures.append(plots.custom(
        writer, lambda: _map_figure(share, xs, ys, x, y, defaults), "founding_map",
        f"Share of runs in which firms founded a CMC, by {y} and {x}; the black line is the "
        f"50% boundary, the star the default parameters."))
    return f


def _map_figure(share, xs, ys, x, y, defaults) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    im = ax.imshow(share, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(share):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=8,
                    color="white" if v < 0.5 else "black")
    if share.shape[0] > 1 and share.shape[1] > 1 and np.nanmin(share) < 0.5 < np.nanmax(share):
        ax.contour(np.arange(len(xs)), np.arange(len(ys)), np.nan_to_num(share), levels=[0.5],
                   colors="black", linewidths=2)
    if defaults.get(x) in xs and defaults.get(y) in ys:
        ax.plot(xs.index(defaults[x]), ys.index(defaults[y]), marker="*", markersize=16,
                color="white", markeredgecolor="black")
    ax.set_xticks(range(len(xs)), [fmt(v) for v in xs])
    ax.set_yticks(range(len(ys)), [fmt(v) for v in ys])
    ax.set_xlabel(param_label(x))
    ax.set_ylabel(param_label(y))
    fig.colorbar(im, ax=ax, label="share of runs that founded a CMC")
    ax.set_title("Business-led founding of a cluster management company", fontsize=10)
    return fig
