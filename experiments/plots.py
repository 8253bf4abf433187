"""Figures of a sweep (matplotlib, Agg): time series with confidence bands, outcomes and
paired differences with intervals, heatmaps, fiscal cost, and the firm network.

Every figure uses one colour per scenario (configs/scenarios.yaml, colour-blind-safe Okabe-Ito
hues) and labels its axes with the labels and units of the output registry
(simulation.outputs, experiments.data.SUMMARY_OUTPUTS).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import colormaps, colors  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from experiments.data import describe  # noqa: E402
from experiments.layout import SCENARIOS  # noqa: E402
from experiments.stats import Estimate  # noqa: E402
from simulation.config import field_docs  # noqa: E402

EXTRA_COLOURS = ["#56B4E9", "#F0E442", "#000000", "#8c564b", "#17becf", "#bcbd22"]
LINESTYLES = ["-", "--", ":", "-."]
CFE_COLOUR = "#000000"
NON_MEMBER_COLOUR = "#c8c8c8"

LEVEL_NAMES = {"federal": "Federal", "regional": "Regional", "municipal": "Municipal"}
INSTRUMENT_NAMES = {
    "infrastructure": "Infrastructure (Monotown Fund)",
    "urban_environment": "Urban environment",
    "cmc_funding": "CMC funding",
    "membership_subsidy": "Membership subsidies",
    "joint_project_subsidy": "Joint-project subsidies",
    "tax_expenditure": "Tax expenditures (TASED breaks)",
}
INSTRUMENT_COLOURS = ["#0072B2", "#56B4E9", "#E69F00", "#D55E00", "#CC79A7", "#999999"]
LEVEL_COLOURS = ["#0072B2", "#E69F00", "#009E73"]


#: units of design parameters that are not model config fields
PARAM_UNITS = {"firm_base.scale": "multiplier of the initial firms of the scaled sector kinds"}


def param_label(name: str) -> str:
    """A swept parameter with its unit from the config schema."""
    units = {r["name"]: r["unit"] for r in field_docs()} | PARAM_UNITS
    return f"{name} ({units[name]})" if units.get(name) else name


def wrap(text: str, width: int = 42) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def label(name: str) -> str:
    out = describe(name)
    return out.label if out else name.replace("_", " ")


def lower(text: str) -> str:
    """Sentence-internal form of a label: 'Cluster members' -> 'cluster members', but
    'CFE share' stays."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def unit(name: str) -> str:
    out = describe(name)
    return out.unit if out else ""


def axis_label(name: str) -> str:
    return f"{label(name)} ({unit(name)})" if unit(name) else label(name)


def scenario_colour(scenario: str) -> str:
    if scenario in SCENARIOS:
        return SCENARIOS[scenario]["colour"]
    return EXTRA_COLOURS[sum(map(ord, scenario)) % len(EXTRA_COLOURS)]


def sequential_colour(i: int, n: int) -> str:
    """The i-th of n colours along viridis (for ordered parameter values)."""
    return colors.to_hex(colormaps["viridis"](0.05 + 0.85 * i / max(n - 1, 1)))


@dataclass
class Style:
    colour: str
    linestyle: str
    label: str


@dataclass
class FigureWriter:
    """Saves figures under <sweep>/figures in every format; remembers their captions."""

    directory: Path
    formats: list = field(default_factory=lambda: ["png", "svg"])
    saved: list = field(default_factory=list)  # (stem, caption)

    def save(self, fig: plt.Figure, stem: str, caption: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        for fmt in self.formats:
            fig.savefig(self.directory / f"{stem}.{fmt}", dpi=100, metadata=_metadata(fmt))
        plt.close(fig)
        self.saved.append((stem, caption))
        return stem


def _metadata(fmt: str) -> dict:
    # no creation dates, so identical data give identical files
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


def _grid(n: int, ncols: int = 4, width: float = 3.6, height: float = 2.9):
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows + 0.8),
                             layout="constrained", squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _legend(fig: plt.Figure, styles: list[Style], ncol: int = 6) -> None:
    handles = [Line2D([], [], color=s.colour, linestyle=s.linestyle, linewidth=2, label=s.label)
               for s in styles]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(ncol, len(handles)),
               frameon=False, fontsize=9)


def time_series(writer: FigureWriter, bands: dict[str, pd.DataFrame], cells: list[str],
                styles: dict[str, Style], outputs: list[str], stem: str, caption: str,
                marks: list[float] | None = None) -> str:
    """Mean and 95% band across seeds per cell; `bands[output]` has columns
    cell, step, mean, lo, hi. `marks` are quarters drawn as dotted lines (e.g. a shock)."""
    fig, axes = _grid(len(outputs))
    for ax, out in zip(axes, outputs):
        b = bands[out]
        for cell in cells:
            d = b[b["cell"] == cell]
            if d.empty:
                continue
            st = styles[cell]
            ax.plot(d["step"], d["mean"], color=st.colour, linestyle=st.linestyle, linewidth=1.6)
            ax.fill_between(d["step"], d["lo"], d["hi"], color=st.colour, alpha=0.15,
                            linewidth=0)
        for x in marks or []:
            ax.axvline(x, color="black", linestyle=":", linewidth=1)
        ax.set_title(wrap(label(out)), fontsize=10)
        ax.set_xlabel("quarter")
        ax.set_ylabel(unit(out) or out)
        ax.grid(alpha=0.3)
    _legend(fig, [styles[c] for c in cells])
    fig.suptitle("Mean across seeds with 95% confidence band", fontsize=11)
    return writer.save(fig, stem, caption)


def intervals(writer: FigureWriter, estimates: dict[str, dict[str, Estimate]],
              rows: list[str], styles: dict[str, Style], outputs: list[str], stem: str,
              caption: str, title: str, zero_line: bool = False,
              unit_suffix: str = "") -> str:
    """Points with 95% intervals, one panel per output, one row per cell."""
    fig, axes = _grid(len(outputs), ncols=4, width=3.8,
                      height=max(2.4, 0.32 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for ax, out in zip(axes, outputs):
        for yi, row in zip(y, rows):
            e = estimates.get(row, {}).get(out)
            if e is None or not np.isfinite(e.mean):
                continue
            st = styles[row]
            lo, hi = (e.lo, e.hi) if np.isfinite(e.lo) else (e.mean, e.mean)
            ax.errorbar(e.mean, yi, xerr=error_bar(e.mean, lo, hi), fmt="o",
                        color=st.colour, capsize=3, markersize=5)
        if zero_line:
            ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels([styles[r].label for r in rows], fontsize=8)
        ax.set_title(wrap(label(out)), fontsize=10)
        u = unit(out)
        ax.set_xlabel(f"{u}{unit_suffix}" if u else out)
        ax.grid(axis="x", alpha=0.3)
        if ax is not axes[0] and len(axes) > 1:
            ax.tick_params(labelleft=ax.get_subplotspec().is_first_col())
    fig.suptitle(title, fontsize=11)
    return writer.save(fig, stem, caption)


def heatmaps(writer: FigureWriter, grids: dict[str, pd.DataFrame], x_name: str, y_name: str,
             stem: str, caption: str, title: str) -> str:
    """One annotated heatmap per output; `grids[output]` is indexed by y, columns x."""
    outs = list(grids)
    fig, axes = _grid(len(outs), ncols=3, width=4.6, height=4.0)
    for ax, out in zip(axes, outs):
        g = grids[out]
        im = ax.imshow(g.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(g.shape[1]))
        ax.set_xticklabels([_short(v) for v in g.columns], fontsize=8)
        ax.set_yticks(range(g.shape[0]))
        ax.set_yticklabels([_short(v) for v in g.index], fontsize=8)
        ax.set_xlabel(wrap(param_label(x_name), 50), fontsize=8)
        ax.set_ylabel(wrap(param_label(y_name), 40), fontsize=8)
        ax.set_title(wrap(label(out), 48), fontsize=9)
        values = g.to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, fmt(v), ha="center", va="center", fontsize=7,
                        color="white" if v < mid else "black")
        fig.colorbar(im, ax=ax, label=unit(out))
    fig.suptitle(title, fontsize=11)
    return writer.save(fig, stem, caption)


def stacked_costs(writer: FigureWriter, rows: list[str], styles: dict[str, Style],
                  by_level: pd.DataFrame, by_instrument: pd.DataFrame, stem: str,
                  caption: str) -> str:
    """Mean cumulative public cost per cell, stacked by level and by instrument."""
    fig, axes = plt.subplots(1, 2, figsize=(13, max(3.0, 0.4 * len(rows) + 2.6)),
                             layout="constrained")
    y = np.arange(len(rows))[::-1]
    for ax, table, names, colours, title in (
            (axes[0], by_level, LEVEL_NAMES, LEVEL_COLOURS, "by level of government"),
            (axes[1], by_instrument, INSTRUMENT_NAMES, INSTRUMENT_COLOURS, "by instrument")):
        left = np.zeros(len(rows))
        for (key, name), colour in zip(names.items(), colours):
            values = np.array([table.loc[r, key] if r in table.index else 0.0 for r in rows])
            ax.barh(y, values, left=left, color=colour, label=name, height=0.6)
            left += values
        ax.set_yticks(y)
        ax.set_yticklabels([styles[r].label for r in rows], fontsize=8)
        ax.set_xlabel("mln RUB, cumulative over the horizon (mean across seeds)")
        ax.set_title(f"Public cost {title}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3,
                  frameon=False)
    return writer.save(fig, stem, caption)


def networks(writer: FigureWriter, panels: list[tuple[str, pd.DataFrame, str]], stem: str,
             caption: str) -> str:
    """Firm ties at the final step: `panels` are (title, firm table, scenario colour).

    Firms sit in one disc per sector around a ring (the order of the town's sectors), the CFE
    in the centre, so panels of different scenarios are laid out alike."""
    fig, axes = _grid(len(panels), ncols=3, width=4.4, height=4.2)
    for ax, (title, firms, colour) in zip(axes, panels):
        xy = ring_layout(firms)
        row = {fid: i for i, fid in enumerate(firms["firm_id"])}
        edges = [(xy[i], xy[row[int(p)]]) for i, partners in enumerate(firms["partners"])
                 for p in str(partners).split() if int(p) in row and row[int(p)] > i]
        ax.add_collection(LineCollection(edges, colors="#555555", linewidths=0.4, alpha=0.35))
        member = firms["member"].to_numpy(bool)
        cfe = firms["is_cfe"].to_numpy(bool)
        size = 6 + 3 * np.sqrt(firms["employees"].clip(lower=1).to_numpy(float))
        for mask, col in ((~member & ~cfe, NON_MEMBER_COLOUR), (member & ~cfe, colour)):
            ax.scatter(xy[mask, 0], xy[mask, 1], s=size[mask], c=col, linewidths=0.3,
                       edgecolors="#333333", zorder=2)
        ax.scatter(xy[cfe, 0], xy[cfe, 1], s=160, c=CFE_COLOUR, marker="s", zorder=3)
        ax.set_title(f"{title}\n{len(firms)} firms, {len(edges)} ties, "
                     f"{int(member.sum())} cluster members", fontsize=9)
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.set_aspect("equal")
        ax.set_axis_off()
    handles = [Line2D([], [], marker="s", color="w", markerfacecolor=CFE_COLOUR, markersize=9,
                      label="city-forming enterprise (CFE)"),
               Line2D([], [], marker="o", color="w", markerfacecolor="#D55E00", markersize=7,
                      label="cluster member (scenario colour)"),
               Line2D([], [], marker="o", color="w", markerfacecolor=NON_MEMBER_COLOUR,
                      markersize=7, label="other firm (size ~ employees)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    fig.suptitle("Firm ties at the final quarter (one seed per scenario; firms grouped by "
                 "sector around the ring)", fontsize=11)
    return writer.save(fig, stem, caption)


def ring_layout(firms: pd.DataFrame) -> np.ndarray:
    """Positions (x, y) of the firms of a firm table: each sector's firms on a sunflower
    spiral (radius ~ sqrt of the slot) around the sector's point on a unit ring; the CFE at
    the centre."""
    sectors = list(dict.fromkeys(firms["sector"]))
    n = len(sectors)
    sector = firms["sector"].map({name: i for i, name in enumerate(sectors)}).to_numpy()
    slot = firms.groupby("sector").cumcount().to_numpy()
    largest = max(1, int(np.bincount(sector).max()))
    spacing = 0.75 * (2 * math.sin(math.pi / n) if n > 1 else 1.0) / math.sqrt(2.0 * largest)
    angle = 2 * math.pi * sector / n + math.pi / 2
    golden = math.pi * (3.0 - math.sqrt(5.0))
    radius = spacing * np.sqrt(slot + 0.5)
    xy = np.column_stack([np.cos(angle) + radius * np.cos(slot * golden),
                          np.sin(angle) + radius * np.sin(slot * golden)])
    xy[firms["is_cfe"].to_numpy(bool)] = 0.0
    return xy


def error_bar(mean: float, lo: float, hi: float) -> list[list[float]]:
    """Distances from the mean to the interval ends (never negative)."""
    return [[max(mean - lo, 0.0)], [max(hi - mean, 0.0)]]


def custom(writer: FigureWriter, draw: Callable[[], plt.Figure], stem: str,
           caption: str) -> str:
    return writer.save(draw(), stem, caption)


def fmt(value: float) -> str:
    """A number with as many digits as a table needs."""
    if value is None or not np.isfinite(value):
        return "n/a"
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    if a == 0:
        return "0"
    if a >= 0.01:
        return f"{value:.3f}"
    return f"{value:.2g}"


def _short(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)
