"""What the page draws: time series of A and B, the firm network (PNG), a summary table.

Functions of a model with no Solara in them, so they can be tested and timed without a
browser. Figures are kept per model between steps (weak references: they go with the model).
"""

from __future__ import annotations

import io
import math
import weakref
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PIL import Image

from simulation.model import ClusterModel
from simulation.outputs import BY_NAME

from town_model import TownModel

DPI = 96
RUN_STYLES = ({"color": "#1f77b4", "linestyle": "-"}, {"color": "#d62728", "linestyle": "--"})


@dataclass(frozen=True)
class Series:
    """One output (simulation.outputs) drawn over time; its title and unit come from the
    output registry unless the series rescales it (shares shown in %)."""

    column: str  # a column of model.records
    scale: float = 1.0  # multiplies the recorded value (shares -> %)
    scaled_unit: str = ""  # the displayed unit when scale is not 1
    reference: float | None = None  # a horizontal guide line, in displayed units
    reference_label: str = ""
    from_zero: bool = True  # y axis starts at 0

    @property
    def title(self) -> str:
        return BY_NAME[self.column].label

    @property
    def unit(self) -> str:
        return self.scaled_unit or BY_NAME[self.column].unit


SERIES: tuple[Series, ...] = (
    Series("cfe_share", 100.0, "%", 20.0, "mono-town criterion 20%", from_zero=False),
    Series("employment_entropy", from_zero=False),
    Series("members"),
    Series("residents"),
    Series("unemployment_rate", 100.0, "%"),
    Series("public_cost_cumulative"),
)


class BlitFigure:
    """A figure whose static part (axes, labels, legend) is drawn once.

    Artists that change every step are `animated`: the canvas skips them in a full draw, and
    `png` pastes the saved static background and draws only them on top. Text layout is the
    slow part of a matplotlib draw, so a step redraw costs a few milliseconds, not tens.
    """

    def __init__(self, figsize: tuple[float, float]) -> None:
        self.figure = Figure(figsize=figsize, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self._background = None

    def invalidate(self) -> None:
        """Redraw the static part at the next `png` (after limits or labels change)."""
        self._background = None

    def png(self, animated: list) -> bytes:
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self._background)
        for artist in animated:
            self.figure.draw_artist(artist)
        rgba = np.asarray(self.canvas.buffer_rgba())
        out = io.BytesIO()
        Image.fromarray(rgba[..., :3]).save(out, format="png", compress_level=3)
        return out.getvalue()


class SeriesFigure(BlitFigure):
    """One outcome over time, A solid and B dashed, on the run's full horizon."""

    def __init__(self, model: TownModel, series: Series) -> None:
        super().__init__((5.0, 3.3))
        self.series = series
        self.ax = ax = self.figure.subplots()
        self.figure.subplots_adjust(left=0.13, right=0.97, top=0.80, bottom=0.15)
        self.lines = [ax.plot([], [], label=label, linewidth=1.8, animated=True, **style)[0]
                      for (label, _), style in zip(model.runs(), RUN_STYLES)]
        if series.reference is not None:
            ax.axhline(series.reference, color="grey", linewidth=0.8, linestyle=":",
                       label=series.reference_label)
        ax.set_xlim(0, model.cfg.steps)
        self.figure.suptitle(series.title, fontsize=11, y=0.975)
        ax.set_xlabel("quarter", fontsize=9)
        ax.set_ylabel(series.unit, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=series.unit == "firms"))
        ax.grid(alpha=0.3)
        legend = self.figure.legend(fontsize=8, loc="upper center", ncols=3, frameon=False,
                                    bbox_to_anchor=(0.55, 0.92))
        for handle in legend.legend_handles:  # copies of the lines: part of the background
            handle.set_animated(False)
        self.limits: tuple[float, float] | None = None  # y range, set at the first update

    def update(self, model: TownModel) -> bytes:
        for line, (_, run) in zip(self.lines, model.runs()):
            line.set_data([r["step"] for r in run.records],
                          [r[self.series.column] * self.series.scale for r in run.records])
        ys = [y for line in self.lines for y in line.get_ydata()]
        if self.series.reference is not None:
            ys.append(self.series.reference)
        if self.series.from_zero:
            ys.append(0.0)
        lo, hi = min(ys), max(ys)
        bottom, top = self.limits or (lo, hi)
        if self.limits is None or lo < bottom + 0.02 * (top - bottom) \
                or hi > top - 0.1 * (top - bottom):
            # the whole history is drawn, so the range only widens; the axes are redrawn
            # only when a line nears their edge, and get room to grow
            if hi <= lo:
                hi = lo + (0.05 * abs(lo) if lo else 1.0)
            span = hi - lo
            below = 0.05 if self.series.from_zero else 0.25
            self.limits = (lo - below * span, hi + 0.3 * span)
            self.ax.set_ylim(*self.limits)
            self.invalidate()
        return self.png(self.lines)


_series: weakref.WeakKeyDictionary[TownModel, dict[str, SeriesFigure]] = \
    weakref.WeakKeyDictionary()


def series_figure(model: TownModel, series: Series) -> SeriesFigure:
    """The figure of one series of this model (made at the first call, then kept)."""
    figures = _series.setdefault(model, {})
    if series.column not in figures:
        figures[series.column] = SeriesFigure(model, series)
    return figures[series.column]


def series_png(model: TownModel, series: Series) -> bytes:
    """PNG of one series at the model's current step."""
    return series_figure(model, series).update(model)


# --------------------------------------------------------------------------- network


class SectorLayout:
    """Fixed positions: one disc of firms per sector around a ring, the CFE in the centre.

    A firm keeps its slot while it stays in its sector; a slot freed by an exit is reused, so
    a step moves only firms that entered, left or changed sector (cheap and stable to watch).
    Slot k of a disc sits on a sunflower spiral: radius proportional to sqrt(k).
    """

    def __init__(self, model: ClusterModel) -> None:
        n = model.sectors.n
        angle = 2 * math.pi * np.arange(n) / n + math.pi / 2
        self.anchor = np.column_stack([np.cos(angle), np.sin(angle)])
        largest = max(1, int(np.bincount(model.firms.sector, minlength=n).max()))
        chord = 2 * math.sin(math.pi / n) if n > 1 else 1.0
        self.spacing = 0.75 * chord / math.sqrt(2.0 * largest)
        self.slot: dict[int, tuple[int, int]] = {}  # firm id -> (sector, slot)
        self.used: list[set[int]] = [set() for _ in range(n)]

    def positions(self, model: ClusterModel) -> np.ndarray:
        """(x, y) of every firm, in the rows of the model's firm table."""
        f = model.firms
        alive = dict(zip(f.uid[1:].tolist(), f.sector[1:].tolist()))  # row 0: the CFE
        for uid in [u for u, (s, _) in self.slot.items() if alive.get(u) != s]:
            sector, k = self.slot.pop(uid)
            self.used[sector].discard(k)
        for uid, sector in alive.items():
            if uid not in self.slot:
                k = next(i for i in range(len(self.used[sector]) + 1)
                         if i not in self.used[sector])
                self.used[sector].add(k)
                self.slot[uid] = (sector, k)
        golden = math.pi * (3.0 - math.sqrt(5.0))
        out = np.zeros((len(f), 2))
        for row, uid in enumerate(f.uid[1:].tolist(), start=1):
            sector, k = self.slot[uid]
            r = self.spacing * math.sqrt(k + 0.5)
            x, y = self.anchor[sector]
            out[row] = (x + r * math.cos(k * golden), y + r * math.sin(k * golden))
        return out


def sector_colours(n: int) -> np.ndarray:
    """Distinct colours: tab20's ten strong hues first, then their light partners."""
    tab20 = colormaps["tab20"]
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))
    return np.array([tab20(order[i % 20]) for i in range(n)])


class NetworkFigure(BlitFigure):
    """Firms coloured by sector; members ringed, TASED residents square, the CFE a star."""

    def __init__(self, model: ClusterModel, title: str) -> None:
        super().__init__((5.0, 3.3))
        self.layout = SectorLayout(model)
        self.colours = sector_colours(model.sectors.n)
        self.ax = ax = self.figure.add_axes((0.0, 0.0, 0.64, 0.93))
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_xlim(-1.4, 1.4)
        ax.set_ylim(-1.4, 1.4)
        self.figure.suptitle(title, fontsize=10, x=0.33, y=0.985)
        handles = [Line2D([], [], marker="o", linestyle="", color=self.colours[s],
                          markersize=5, label=name.replace("_", " "))
                   for s, name in enumerate(model.sectors.names)]
        handles += [
            Line2D([], [], marker="*", linestyle="", markerfacecolor="white",
                   markeredgecolor="black", markersize=9, label="CFE"),
            Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                   markeredgecolor="black", markersize=5, label="cluster member"),
            Line2D([], [], marker="s", linestyle="", color="grey", markersize=5,
                   label="TASED resident"),
            Line2D([], [], color="#e08a00", label="supplier tie to CFE"),
            Line2D([], [], color="#555555", label="other tie"),
        ]
        self.figure.legend(handles=handles, loc="center left", bbox_to_anchor=(0.63, 0.5),
                           fontsize=6.5, frameon=False, handletextpad=0.3,
                           labelspacing=0.3)

    def update(self, model: ClusterModel) -> bytes:
        pos = self.layout.positions(model)
        ax, f, ties = self.ax, model.firms, model.ties
        segments = np.stack([pos[ties.a], pos[ties.b]], axis=1)
        artists = [
            LineCollection(segments[~ties.supply], colors="#555555", linewidths=0.35,
                           alpha=0.3),
            LineCollection(segments[ties.supply], colors="#e08a00", linewidths=0.5, alpha=0.5),
        ]
        xy = pos[1:]  # row 0 is the CFE, drawn as a star
        size = np.clip(2.5 * np.sqrt(f.employees[1:]), 5.0, 70.0)
        colour = self.colours[f.sector[1:]]
        member = f.member[1:]
        resident = f.resident_since[1:] >= 0
        for mask, marker in ((~resident, "o"), (resident, "s")):
            for ringed in (False, True):
                m = mask & (member if ringed else ~member)
                artists.append(ax.scatter(
                    xy[m, 0], xy[m, 1], s=size[m], c=colour[m], marker=marker,
                    edgecolors="black" if ringed else "none", linewidths=1.0 if ringed else 0))
        artists.append(ax.scatter([0.0], [0.0], s=300, marker="*",
                                  c=[self.colours[f.sector[0]]], edgecolors="black",
                                  linewidths=0.9))
        artists.append(ax.text(-1.38, -1.38, f"quarter {model.time_step}, {len(f)} firms",
                               fontsize=8, color="#333333"))
        for artist in artists[:2]:
            ax.add_collection(artist)
        for artist in artists:
            artist.set_animated(True)
        png = self.png(artists)
        for artist in artists:  # this step's artists are not part of the next one
            artist.remove()
        return png


_networks: weakref.WeakKeyDictionary[ClusterModel, NetworkFigure] = weakref.WeakKeyDictionary()


def network_figure(model: ClusterModel, title: str = "") -> NetworkFigure:
    """The network figure of this model (made at the first call, then kept with its layout)."""
    if model not in _networks:
        _networks[model] = NetworkFigure(model, title)
    return _networks[model]


def network_png(model: ClusterModel, title: str = "") -> bytes:
    """PNG of the firm network at the model's current step."""
    return network_figure(model, title).update(model)


# --------------------------------------------------------------------------- summary

NOW_ROWS = (
    ("CFE share of employment", lambda m: f"{100 * m.records[-1]['cfe_share']:.1f}%"),
    ("Diversification (entropy)", lambda m: f"{m.records[-1]['employment_entropy']:.3f}"),
    ("Cluster members", lambda m: f"{m.records[-1]['members']:.0f}"),
    ("CMC exists", lambda m: "yes" if m.cmc is not None else "no"),
    ("TASED residents", lambda m: f"{m.records[-1]['residents']:.0f}"),
    ("Unemployment rate", lambda m: f"{100 * m.records[-1]['unemployment_rate']:.1f}%"),
    ("Public cost, cumulative",
     lambda m: f"{m.records[-1]['public_cost_cumulative']:,.0f} mln RUB"),
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
    head += "|:---|" + "---:|" * len(runs) + "\n"
    rows = ["| **Quarter** | " + " | ".join(str(m.time_step) for _, m in runs) + " |"]
    rows += [f"| {name} | " + " | ".join(fn(m) for _, m in runs) + " |" for name, fn in NOW_ROWS]
    rows += ["| **Settings** |" + " |" * len(runs)]
    rows += [f"| {name} | " + " | ".join(fn(m.cfg) for _, m in runs) + " |"
             for name, fn in SETTING_ROWS]
    return f"Town: **{model.cfg.town.name}**, seed **{model.cfg.seed}**\n\n" + head + \
        "\n".join(rows)
