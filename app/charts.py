"""Matplotlib figures of the page: time series of A and B, the firm network, a summary table.

Pure functions of a model (no Solara here), so they can be tested and timed without a browser.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulation.model import ClusterModel

from town_model import TownModel

DPI = 96
RUN_STYLES = ({"color": "#1f77b4", "linestyle": "-"}, {"color": "#d62728", "linestyle": "--"})


@dataclass(frozen=True)
class Series:
    column: str  # a column of model.records (simulation.metrics.REPORTERS)
    title: str
    unit: str
    scale: float = 1.0  # multiplies the recorded value (shares -> %)
    reference: float | None = None  # a horizontal guide line, in displayed units
    reference_label: str = ""
    from_zero: bool = True  # y axis starts at 0


SERIES: tuple[Series, ...] = (
    Series("cfe_share", "CFE share of employment", "%", 100.0, 20.0, "mono-town criterion 20%",
           from_zero=False),
    Series("employment_entropy", "Diversification (entropy of sector employment)", "nats",
           from_zero=False),
    Series("members", "Cluster members", "firms"),
    Series("residents", "TASED residents", "firms"),
    Series("unemployment_rate", "Unemployment rate", "%", 100.0),
    Series("public_cost_cumulative", "Public cost, cumulative", "mln RUB"),
)


class SeriesFigure:
    """One outcome over time, A solid and B dashed, on the run's full horizon.

    Built once per model and series; a step only replaces the lines' data, which keeps a
    redraw to a few tens of milliseconds.
    """

    def __init__(self, model: TownModel, series: Series) -> None:
        self.series = series
        self.figure = fig = Figure(figsize=(5.0, 3.3), dpi=DPI)
        self.ax = ax = fig.subplots()
        fig.subplots_adjust(left=0.13, right=0.97, top=0.88, bottom=0.15)
        self.lines = [ax.plot([], [], label=label, linewidth=1.8, **style)[0]
                      for (label, _), style in zip(model.runs(), RUN_STYLES)]
        if series.reference is not None:
            ax.axhline(series.reference, color="grey", linewidth=0.8, linestyle=":",
                       label=series.reference_label)
        ax.set_xlim(0, model.cfg.steps)
        ax.set_title(series.title, fontsize=11)
        ax.set_xlabel("quarter", fontsize=9)
        ax.set_ylabel(series.unit, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", frameon=False)

    def update(self, model: TownModel) -> Figure:
        for line, (_, run) in zip(self.lines, model.runs()):
            line.set_data([r["step"] for r in run.records],
                          [r[self.series.column] * self.series.scale for r in run.records])
        ys = [y for line in self.lines for y in line.get_ydata()]
        if self.series.reference is not None:
            ys.append(self.series.reference)
        if self.series.from_zero:
            ys.append(0.0)
        lo, hi = min(ys), max(ys)
        span = hi - lo if hi > lo else max(1.0, abs(hi))
        self.ax.set_ylim(lo - 0.05 * span, hi + 0.35 * span)  # headroom for the legend
        return self.figure


_series: weakref.WeakKeyDictionary[TownModel, dict[str, SeriesFigure]] = \
    weakref.WeakKeyDictionary()


def series_figure(model: TownModel, series: Series) -> Figure:
    """The figure of one series, updated to the model's current step."""
    figures = _series.setdefault(model, {})
    if series.column not in figures:
        figures[series.column] = SeriesFigure(model, series)
    return figures[series.column].update(model)


# --------------------------------------------------------------------------- network


class SectorLayout:
    """Fixed positions: one disc of firms per sector around a ring, the CFE in the centre.

    A firm keeps its slot while it stays in its sector; a slot freed by an exit is reused, so
    a step moves only firms that entered, left or changed sector (cheap and stable to watch).
    Slot k of a disc sits on a sunflower spiral: radius proportional to sqrt(k).
    """

    def __init__(self, model: ClusterModel) -> None:
        n = model.n_sectors
        angle = 2 * math.pi * np.arange(n) / n + math.pi / 2
        self.anchor = np.column_stack([np.cos(angle), np.sin(angle)])
        largest = max(1, max(sum(1 for f in model.firms if f.sector == s) for s in range(n)))
        chord = 2 * math.sin(math.pi / n) if n > 1 else 1.0
        self.spacing = 0.55 * chord / math.sqrt(2.0 * largest)
        self.slot: dict[int, tuple[int, int]] = {}  # firm id -> (sector, slot)
        self.used: list[set[int]] = [set() for _ in range(n)]

    def positions(self, model: ClusterModel) -> dict[int, tuple[float, float]]:
        alive = {f.unique_id: f for f in model.firms}
        for uid in [u for u, (s, _) in self.slot.items()
                    if u not in alive or alive[u].sector != s]:
            sector, k = self.slot.pop(uid)
            self.used[sector].discard(k)
        for uid, f in alive.items():
            if uid not in self.slot:
                k = next(i for i in range(len(self.used[f.sector]) + 1)
                         if i not in self.used[f.sector])
                self.used[f.sector].add(k)
                self.slot[uid] = (f.sector, k)
        golden = math.pi * (3.0 - math.sqrt(5.0))
        out = {}
        for uid, (sector, k) in self.slot.items():
            r = self.spacing * math.sqrt(k + 0.5)
            x, y = self.anchor[sector]
            out[uid] = (x + r * math.cos(k * golden), y + r * math.sin(k * golden))
        out[model.cfe.unique_id] = (0.0, 0.0)
        return out


_layouts: weakref.WeakKeyDictionary[ClusterModel, SectorLayout] = weakref.WeakKeyDictionary()


def layout_of(model: ClusterModel) -> SectorLayout:
    if model not in _layouts:
        _layouts[model] = SectorLayout(model)
    return _layouts[model]


def sector_colours(n: int) -> np.ndarray:
    from matplotlib import colormaps

    cmap = colormaps["tab20"] if n > 10 else colormaps["tab10"]
    return np.array([cmap(i % cmap.N) for i in range(n)])


def network_figure(model: ClusterModel, title: str = "") -> Figure:
    """Firms coloured by sector; members ringed, TASED residents square, the CFE a star."""
    pos = layout_of(model).positions(model)
    colours = sector_colours(model.n_sectors)
    fig = Figure(figsize=(6.4, 4.2), dpi=DPI)
    ax = fig.add_axes((0.0, 0.0, 0.68, 0.92))
    ax.set_axis_off()
    ax.set_aspect("equal")
    supply, other = [], []
    for f in model.firms:
        for g, tie in f.ties.items():
            if f.unique_id < g.unique_id:
                (supply if tie.supply else other).append((pos[f.unique_id], pos[g.unique_id]))
    ax.add_collection(LineCollection(other, colors="#555555", linewidths=0.4, alpha=0.35))
    ax.add_collection(LineCollection(supply, colors="#e08a00", linewidths=0.5, alpha=0.45))
    firms = [f for f in model.firms if not f.is_cfe]
    xy = np.array([pos[f.unique_id] for f in firms]).reshape(-1, 2)
    size = np.clip(3.0 * np.sqrt([f.employees for f in firms]), 6.0, 90.0)
    colour = colours[[f.sector for f in firms]] if firms else np.zeros((0, 4))
    member = np.array([f.member for f in firms], dtype=bool)
    resident = np.array([f.resident_since is not None for f in firms], dtype=bool)
    for mask, marker in ((~resident, "o"), (resident, "s")):
        ring = mask & member
        plain = mask & ~member
        ax.scatter(xy[plain, 0], xy[plain, 1], s=size[plain], c=colour[plain], marker=marker,
                   linewidths=0, zorder=2)
        ax.scatter(xy[ring, 0], xy[ring, 1], s=size[ring], c=colour[ring], marker=marker,
                   edgecolors="black", linewidths=1.1, zorder=3)
    ax.scatter([0.0], [0.0], s=420, marker="*", c=[colours[model.cfe.sector]],
               edgecolors="black", linewidths=1.0, zorder=4)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    fig.suptitle(title, fontsize=11, x=0.34, y=0.985)
    handles = [Line2D([], [], marker="o", linestyle="", color=colours[s], markersize=6,
                      label=name.replace("_", " ")) for s, name in enumerate(model.sector_names)]
    handles += [
        Line2D([], [], marker="*", linestyle="", markerfacecolor="white",
               markeredgecolor="black", markersize=11, label="CFE"),
        Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
               markeredgecolor="black", markersize=6, label="cluster member"),
        Line2D([], [], marker="s", linestyle="", color="grey", markersize=6,
               label="TASED resident"),
        Line2D([], [], color="#e08a00", label="supplier tie to CFE"),
        Line2D([], [], color="#555555", label="other tie"),
    ]
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.67, 0.5), fontsize=7.5,
               frameon=False, handletextpad=0.4, labelspacing=0.35)
    return fig


# --------------------------------------------------------------------------- summary

NOW_ROWS = (
    ("CFE share of employment", lambda m: f"{100 * m.records[-1]['cfe_share']:.1f}%"),
    ("Diversification (entropy)", lambda m: f"{m.records[-1]['employment_entropy']:.3f}"),
    ("Cluster members", lambda m: f"{m.records[-1]['members']:.0f}"),
    ("CMC exists", lambda m: "yes" if m.cmc is not None else "no"),
    ("TASED residents", lambda m: f"{m.records[-1]['residents']:.0f}"),
    ("Unemployment rate", lambda m: f"{100 * m.records[-1]['unemployment_rate']:.1f}%"),
    ("Public cost, cumulative", lambda m: f"{m.records[-1]['public_cost_cumulative']:,.0f} mln RUB"),
    ("Firms", lambda m: f"{len(m.firms)}"),
)

SETTING_ROWS = (
    ("TASED regime", lambda c: "on" if c.tased.enabled else "off"),
    ("Cluster founded by", lambda c: c.cluster.founder.value),
    ("Support ends (quarter)", lambda c: f"{c.cluster.support_end_step}"),
    ("CMC quality q", lambda c: f"{c.cluster.management_quality:g}"),
    ("CMC brokerage", lambda c: f"{c.cluster.brokerage:g}"),
    ("Urban investment", lambda c: f"{c.urban.investment_per_step:g} mln RUB/q"),
    ("CFE outsourcing / year", lambda c: f"{c.cfe.outsourcing_rate:g}"),
    ("Priority sectors", lambda c: c.cluster.priority_rule.value),
    ("CFE procurement", lambda c: c.cluster.procurement_rule.value),
    ("Cluster subsidies", lambda c: f"{c.cluster.subsidy_budget:g} mln RUB/q"),
    ("CMC grant", lambda c: f"{c.cluster.public_funding:g} mln RUB/q"),
    ("Fee match ratio", lambda c: f"{c.cluster.match_ratio:g}"),
)


def summary_markdown(model: TownModel) -> str:
    """The current outcomes and the effective settings of A and B, as a Markdown table."""
    runs = model.runs()
    head = "| | " + " | ".join(label for label, _ in runs) + " |\n"
    head += "|---|" + "---|" * len(runs) + "\n"
    rows = ["| **Quarter** | " + " | ".join(str(m.time_step) for _, m in runs) + " |"]
    rows += [f"| {name} | " + " | ".join(fn(m) for _, m in runs) + " |" for name, fn in NOW_ROWS]
    rows += ["| **Settings** |" + " |" * len(runs)]
    rows += [f"| {name} | " + " | ".join(fn(m.cfg) for _, m in runs) + " |"
             for name, fn in SETTING_ROWS]
    return f"Town: **{model.cfg.town.name}**, seed **{model.cfg.seed}**\n\n" + head + \
        "\n".join(rows)
