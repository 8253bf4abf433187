"""The page's plots as Vega-Lite specs, from snapshots (`town_model.Snapshot`), never from a
live model: time series of A and B, and the multi-seed mean bands and paired differences.

The spec of a plot is built once per (output, runs, calendar); the data rows go separately
(`vega_chart.Chart`). Hover a plot to read the values of A and B at a quarter. Written for
the Vega-Lite 5.2 that ships offline with solara-assets.

Units: outputs whose unit is a share are shown in %; money outputs (unit "mln RUB...", not
per worker or per job) are shown for the whole town, i.e. divided by `cfg.town.scale` (a
large town is simulated as a sample of its firms and people; the model's money is the
sample's). Counts of firms and persons stay the sample's.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from simulation.outputs import BY_NAME, OUTPUTS

from town_model import Snapshot

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
RUN_COLOURS = ("#1f77b4", "#d62728")  # A solid blue, B dashed red
RUN_DASHES = ([1, 0], [6, 3])
TASED_COLOUR, SUPPORT_COLOUR = "#c98a00", "#6b4fa0"
#: the outputs plotted when the page opens, with how to read each
READING = {
    "cfe_share": "lower = the town depends less on its CFE; dotted: the official 20% "
                 "mono-town criterion",
    "employment_entropy": "higher = jobs spread over more sectors (more diverse)",
    "members": "firms in the cluster; 0 while no cluster management company exists",
    "residents": "firms with TASED resident status (tax breaks for new investors)",
    "unemployment_rate": "lower is better; people also leave town when jobs are scarce",
    "public_cost_cumulative": "money spent plus taxes forgone since quarter 0, all levels "
                              "of government, whole town",
}
DEFAULT_OUTPUTS = tuple(n for n in READING if n in BY_NAME)
#: outputs whose y axis need not start at zero
NOT_FROM_ZERO = {"cfe_share", "employment_entropy", "employment_hhi", "urban_quality",
                 "productivity", "wage", "population", "labour_force", "employment",
                 "firm_employment", "cfe_employment"}
#: horizontal guide lines, in the output's recorded unit
REFERENCES = {"cfe_share": (0.2, "mono-town criterion 20%")}
COUNT_UNITS = {"firms", "persons", "sectors", "ties", "plots", "0/1"}
HEIGHT = 170
CONFIG = {"axis": {"labelFontSize": 11, "titleFontSize": 11},
          "legend": {"labelFontSize": 11}, "view": {"stroke": "#ccc"},
          "title": {"fontSize": 13, "subtitleFontSize": 11, "anchor": "start",
                    "subtitleColor": "#555"}}


# --------------------------------------------------------------------------- units


def is_money(unit: str) -> bool:
    return unit.startswith("mln RUB") and "/ worker" not in unit and "/ job" not in unit


def display(name: str, scale: float = 1.0) -> tuple[float, str]:
    """(factor, unit) that turn a recorded value of output `name` into what the page shows."""
    unit = BY_NAME[name].unit
    if unit.startswith("share"):
        return 100.0, "%" + unit[len("share"):]
    if is_money(unit):
        return 1.0 / scale, unit + (", whole town" if scale != 1 else "")
    return 1.0, unit


def number_format(name: str) -> str:
    """A d3 format for the tooltips of output `name`."""
    unit = BY_NAME[name].unit
    if unit in COUNT_UNITS or unit.startswith("firms") or unit.startswith("persons"):
        return ",.0f"
    return ",.3~f"


def fmt(name: str, value: float, scale: float = 1.0) -> str:
    """A recorded value as the summary table shows it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    factor, unit = display(name, scale)
    v = value * factor
    if unit.startswith("%"):
        return f"{v:.1f}%"
    if BY_NAME[name].unit == "0/1":
        return "yes" if v >= 0.5 else "no"
    if number_format(name) == ",.0f":
        return f"{v:,.0f}"
    if is_money(BY_NAME[name].unit):
        return f"{v:,.0f} mln RUB" if abs(v) >= 100 else f"{v:,.2f} mln RUB"
    return f"{v:,.3f}"


def _clean(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def plottable_outputs() -> list[str]:
    """Every output of the registry with a per-quarter value (the page's choice list)."""
    return [o.name for o in OUTPUTS if o.reporter is not None]


# --------------------------------------------------------------------------- time series


def markers(calendars: tuple[tuple[str, dict[str, Any]], ...], horizon: int) -> list[dict]:
    """Rows of the vertical lines where the TASED regime and public cluster money end, one
    per quarter and kind (the runs that share it named together)."""
    ends: dict[tuple[str, int], list[str]] = {}
    for label, cal in calendars:
        short = label.split(":")[0]
        if cal["tased"] and cal["tased_start"] < cal["tased_end"] <= horizon:
            ends.setdefault(("TASED regime ends", cal["tased_end"]), []).append(short)
        if cal["cluster_policy"] and cal["support_end"] <= horizon:
            ends.setdefault(("public cluster money ends", cal["support_end"]), []).append(short)
    return [{"q": q, "what": f"{what} ({' and '.join(runs)})",
             "kind": "tased" if what.startswith("TASED") else "support"}
            for (what, q), runs in sorted(ends.items(), key=lambda kv: kv[0][1])]


def _calendar_layers(calendars, horizon: int) -> list[dict]:
    label, a = calendars[0]
    layers = []
    if a["tased"] and a["tased_start"] < horizon:
        layers.append({
            "data": {"values": [{"start": a["tased_start"], "end": min(a["tased_end"], horizon),
                                 "what": f"TASED regime in force ({label.split(':')[0]})"}]},
            "mark": {"type": "rect", "color": TASED_COLOUR, "opacity": 0.1},
            "encoding": {"x": {"field": "start", "type": "quantitative"}, "x2": {"field": "end"},
                         "tooltip": [{"field": "what", "title": "shaded"}]}})
    rows = markers(calendars, horizon)
    for kind, colour in (("tased", TASED_COLOUR), ("support", SUPPORT_COLOUR)):
        if any(r["kind"] == kind for r in rows):
            layers.append({
                "data": {"values": [r for r in rows if r["kind"] == kind]},
                "mark": {"type": "rule", "strokeDash": [3, 2], "strokeWidth": 1.5,
                         "color": colour},
                "encoding": {"x": {"field": "q", "type": "quantitative"},
                             "tooltip": [{"field": "what", "title": "line"},
                                         {"field": "q", "title": "quarter"}]}})
    return layers


def _run_encodings(labels: tuple[str, ...]) -> tuple[dict, dict]:
    legend = {"orient": "top", "labelLimit": 260}
    colour = {"field": "run", "type": "nominal", "title": None, "legend": legend,
              "scale": {"domain": list(labels), "range": list(RUN_COLOURS[:len(labels)])}}
    dash = {"field": "run", "type": "nominal", "title": None, "legend": legend,
            "scale": {"domain": list(labels), "range": RUN_DASHES[:len(labels)]}}
    return colour, dash


def _x(horizon: int) -> dict:
    return {"field": "quarter", "type": "quantitative", "title": "quarter",
            "scale": {"domain": [0, horizon], "nice": False}}


def _title(text: str, name: str) -> dict:
    title = {"text": text}
    if name in READING:
        title["subtitle"] = READING[name]
    return title


@functools.lru_cache(maxsize=256)
def _series_template(name: str, labels: tuple[str, ...], horizon: int, scale: float,
                     calendars: tuple) -> dict:
    factor, unit = display(name, scale)
    colour, dash = _run_encodings(labels)
    x = _x(horizon)
    y = {"field": "value", "type": "quantitative", "title": unit,
         "scale": {"zero": name not in NOT_FROM_ZERO}}
    calendars = tuple((label, dict(cal)) for label, cal in calendars)
    layers = _calendar_layers(calendars, horizon)
    if name in REFERENCES:
        value, text = REFERENCES[name]
        layers.append({"data": {"values": [{"y": value * factor, "what": text}]},
                       "mark": {"type": "rule", "color": "grey", "strokeDash": [1, 3]},
                       "encoding": {"y": {"field": "y", "type": "quantitative"},
                                    "tooltip": [{"field": "what", "title": "line"}]}})
    fmt_ = number_format(name)
    layers += [
        {"mark": {"type": "line", "strokeWidth": 2},
         "encoding": {"x": x, "y": y, "color": colour, "strokeDash": dash}},
        {"mark": {"type": "point", "filled": True, "size": 18},  # quarter 0 shows as a dot
         "encoding": {"x": x, "y": y, "color": colour}},
        {"transform": [{"pivot": "run", "value": "value", "groupby": ["quarter"]}],
         "mark": {"type": "rule", "color": "#444"},
         "encoding": {
             "x": {"field": "quarter", "type": "quantitative"},
             "opacity": {"condition": {"value": 0.4, "param": "hover", "empty": False},
                         "value": 0},
             "tooltip": [{"field": "quarter", "type": "quantitative", "title": "quarter"}] + [
                 {"field": label, "type": "quantitative", "format": fmt_,
                  "title": f"{label} ({unit})"} for label in labels]},
         "params": [{"name": "hover", "select": {
             "type": "point", "fields": ["quarter"], "nearest": True, "on": "mouseover",
             "clear": "mouseout"}}]},
    ]
    return {
        "$schema": SCHEMA, "title": _title(BY_NAME[name].label, name),
        "width": "container", "height": HEIGHT,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"name": "series"}, "layer": layers, "config": CONFIG,
        "usermeta": {"output": name, "kind": "series"},
    }


def _labels(snapshot: Snapshot) -> tuple[str, ...]:
    return tuple(run.label for run in snapshot.runs)


def series_spec(snapshot: Snapshot, name: str) -> dict:
    """Vega-Lite spec (without data) of output `name` for this snapshot's runs."""
    calendars = tuple((run.label, tuple(sorted(run.calendar.items())))
                      for run in snapshot.runs)
    return _series_template(name, _labels(snapshot), snapshot.horizon,
                            snapshot.a.cfg.town.scale, calendars)


def series_values(snapshot: Snapshot, name: str) -> list[dict]:
    """The rows of the plot of output `name`: quarter, value (display units), run."""
    factor, _ = display(name, snapshot.a.cfg.town.scale)
    return [{"quarter": int(r["step"]), "value": _clean(r[name] * factor), "run": run.label}
            for run in snapshot.runs for r in run.records]


# --------------------------------------------------------------------------- many seeds


def band_spec(name: str, labels: tuple[str, ...], horizon: int, scale: float, n: int) -> dict:
    """Mean over seeds with its 95% confidence band, per run."""
    _, unit = display(name, scale)
    colour, dash = _run_encodings(labels)
    x = _x(horizon)
    fmt_ = number_format(name)
    return {
        "$schema": SCHEMA,
        "title": _title(f"{BY_NAME[name].label}: mean of {n} seeds, 95% band", name),
        "width": "container", "height": HEIGHT,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"name": "series"},
        "layer": [
            {"mark": {"type": "area", "opacity": 0.22},
             "encoding": {"x": x, "y": {"field": "lo", "type": "quantitative", "title": unit,
                                        "scale": {"zero": name not in NOT_FROM_ZERO}},
                          "y2": {"field": "hi"}, "color": colour}},
            {"mark": {"type": "line", "strokeWidth": 2},
             "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"},
                          "color": colour, "strokeDash": dash}},
            {"mark": {"type": "point", "opacity": 0, "size": 40},
             "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"},
                          "tooltip": [{"field": "run"}, {"field": "quarter"},
                                      {"field": "mean", "format": fmt_},
                                      {"field": "lo", "format": fmt_, "title": "95% low"},
                                      {"field": "hi", "format": fmt_, "title": "95% high"}]},
             "params": [{"name": "near", "select": {"type": "point", "nearest": True,
                                                    "on": "mouseover", "clear": "mouseout"}}]},
        ],
        "config": CONFIG,
        "usermeta": {"output": name, "kind": "band"},
    }


def difference_spec(name: str, labels: tuple[str, ...], horizon: int, scale: float,
                    n: int) -> dict:
    """Paired difference A - B over seeds: mean and its 95% confidence interval."""
    _, unit = display(name, scale)
    x = _x(horizon)
    fmt_ = number_format(name)
    short = " − ".join(label.split(":")[0] for label in labels)
    return {
        "$schema": SCHEMA,
        "title": {"text": f"{BY_NAME[name].label}: {short} (paired, 95% interval)",
                  "subtitle": "the difference is beyond luck where the band excludes 0"},
        "width": "container", "height": HEIGHT,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"name": "series"},
        "layer": [
            {"data": {"values": [{"y": 0}]}, "mark": {"type": "rule", "color": "#888"},
             "encoding": {"y": {"field": "y", "type": "quantitative"}}},
            {"mark": {"type": "area", "opacity": 0.25, "color": SUPPORT_COLOUR},
             "encoding": {"x": x, "y": {"field": "lo", "type": "quantitative",
                                        "title": f"{short}, {unit}"},
                          "y2": {"field": "hi"}}},
            {"mark": {"type": "line", "color": SUPPORT_COLOUR, "strokeWidth": 2},
             "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"}}},
            {"mark": {"type": "point", "opacity": 0, "size": 40},
             "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"},
                          "tooltip": [{"field": "quarter"},
                                      {"field": "mean", "format": fmt_, "title": short},
                                      {"field": "lo", "format": fmt_, "title": "95% low"},
                                      {"field": "hi", "format": fmt_, "title": "95% high"}]},
             "params": [{"name": "near", "select": {"type": "point", "nearest": True,
                                                    "on": "mouseover", "clear": "mouseout"}}]},
        ],
        "config": CONFIG,
        "usermeta": {"output": name, "kind": "difference"},
    }
