"""The firm network of a run as a Vega-Lite chart: firms on fixed positions, one disc per
sector around a ring, the city-forming enterprise (CFE) as a star in the centre.

The browser draws it (canvas, sharp on HiDPI screens; hover a firm to read it); the server
only places the firms (`SectorLayout`) and sends one row per firm and tie.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex

from charts import CONFIG, SCHEMA
from town_model import NetworkView

SIZE = 290  # px, square: the ring must stay round
EXTENT = 1.4  # the ring has radius 1, the sector discs reach out to about 1.35
STAR = ("M0,-1L0.2245,-0.309L0.951,-0.309L0.363,0.118L0.588,0.809L0,0.382L-0.588,0.809"
        "L-0.363,0.118L-0.951,-0.309L-0.2245,-0.309Z")
TIE_COLOURS = {"supplier tie to CFE": "#e08a00", "other tie": "#777777"}


def sector_colours(n: int) -> list[str]:
    """Distinct colours: tab20's ten strong hues first, then their light partners."""
    tab20 = colormaps["tab20"]
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))
    return [to_hex(tab20(order[i % 20])) for i in range(n)]


class SectorLayout:
    """Fixed positions: one disc of firms per sector around a ring, the CFE in the centre.

    A firm keeps its slot while it stays in its sector; a slot freed by an exit is reused, so
    a step moves only firms that entered, left or changed sector (stable to watch). Slot k of
    a disc sits on a sunflower spiral: radius proportional to sqrt(k). One layout per run;
    `positions` may be called from any thread.
    """

    def __init__(self, view: NetworkView) -> None:
        n = len(view.sectors)
        angle = 2 * math.pi * np.arange(n) / n + math.pi / 2
        self.anchor = np.column_stack([np.cos(angle), np.sin(angle)])
        largest = max(1, int(np.bincount(view.firms.sector, minlength=n).max()))
        chord = 2 * math.sin(math.pi / n) if n > 1 else 1.0
        self.spacing = 0.75 * chord / math.sqrt(2.0 * largest)
        self.slot: dict[int, tuple[int, int]] = {}  # firm id -> (sector, slot)
        self.used: list[set[int]] = [set() for _ in range(n)]
        self._lock = threading.Lock()

    def positions(self, view: NetworkView) -> np.ndarray:
        """(x, y) of every firm, in the rows of the view's firm table."""
        with self._lock:
            return self._positions(view)

    def _positions(self, view: NetworkView) -> np.ndarray:
        f = view.firms
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


def network_rows(view: NetworkView, layout: SectorLayout) -> list[dict]:
    """One row per tie ("k": "t"), firm ("f"), the CFE ("c") and the quarter ("m")."""
    pos = np.round(layout.positions(view), 4)
    f, ties = view.firms, view.ties
    xy = pos.tolist()
    rows: list[dict] = [
        {"k": "t", "x": xy[a][0], "y": xy[a][1], "x2": xy[b][0], "y2": xy[b][1],
         "tie": "supplier tie to CFE" if s else "other tie"}
        for a, b, s in zip(ties.a.tolist(), ties.b.tolist(), ties.supply.tolist())]
    names = view.sectors
    for i, (uid, sector, employees, member, since) in enumerate(zip(
            f.uid.tolist(), f.sector.tolist(), f.employees.tolist(), f.member.tolist(),
            f.resident_since.tolist())):
        rows.append({"k": "c" if i == 0 else "f", "x": xy[i][0], "y": xy[i][1], "id": uid,
                     "sector": names[sector], "employees": employees,
                     "member": "yes" if member else "no",
                     "resident": "yes" if since >= 0 else "no"})
    rows.append({"k": "m", "quarter": view.time_step})
    return rows


@functools.lru_cache(maxsize=32)
def network_spec(label: str, sectors: tuple[str, ...]) -> dict:
    """Vega-Lite spec (without data) of a run's firm network."""
    axis = {"scale": {"domain": [-EXTENT, EXTENT], "nice": False}, "axis": None}
    x = {"field": "x", "type": "quantitative", **axis}
    y = {"field": "y", "type": "quantitative", **axis}
    tooltip = [{"field": "id", "title": "firm"}, {"field": "sector"},
               {"field": "employees", "format": ",.0f"},
               {"field": "member", "title": "cluster member"},
               {"field": "resident", "title": "TASED resident"}]
    colour = {"field": "sector", "type": "nominal", "title": "sector",
              "scale": {"domain": list(sectors), "range": sector_colours(len(sectors))},
              "legend": {"labelExpr": "replace(datum.label, /_/g, ' ')", "symbolSize": 60,
                         "labelFontSize": 10, "rowPadding": 1, "orient": "right"}}
    size = {"field": "employees", "type": "quantitative", "legend": None,
            "scale": {"type": "sqrt", "range": [6, 140], "zero": True}}
    member_ring = {"condition": {"test": "datum.member === 'yes'", "value": "black"},
                   "value": None}

    def only(kind: str) -> list[dict]:
        return [{"filter": f"datum.k === '{kind}'"}]

    layers = [
        {"transform": only("t"),
         "mark": {"type": "rule", "strokeWidth": 0.6, "opacity": 0.45},
         "encoding": {"x": x, "y": y, "x2": {"field": "x2"}, "y2": {"field": "y2"},
                      "stroke": {"field": "tie", "type": "nominal", "title": "tie",
                                 "scale": {"domain": list(TIE_COLOURS),
                                           "range": list(TIE_COLOURS.values())},
                                 "legend": {"orient": "bottom", "labelFontSize": 10}}}},
        {"transform": only("f"),
         "mark": {"type": "point", "filled": True, "opacity": 0.9, "strokeWidth": 1.2},
         "encoding": {"x": x, "y": y, "color": colour, "size": size, "stroke": member_ring,
                      "shape": {"field": "resident", "type": "nominal",
                                "title": "TASED resident",
                                "scale": {"domain": ["no", "yes"],
                                          "range": ["circle", "square"]},
                                "legend": {"orient": "bottom", "labelFontSize": 10}},
                      "tooltip": tooltip}},
        {"transform": only("c"),
         "mark": {"type": "point", "filled": True, "shape": STAR, "size": 500,
                  "stroke": "black", "strokeWidth": 1},
         "encoding": {"x": x, "y": y, "color": colour,
                      "tooltip": [{"field": "id", "title": "the CFE, firm"}, *tooltip[1:]]}},
    ]
    return {
        "$schema": SCHEMA,
        "title": {"text": f"Firm network of {label}",
                  "subtitle": "star: the CFE; black ring: cluster member; size: employees"},
        "width": SIZE, "height": SIZE, "data": {"name": "series"}, "layer": layers,
        "resolve": {"scale": {"stroke": "independent"}},
        "config": {**CONFIG, "view": {"stroke": None}},
        "usermeta": {"kind": "network", "run": label},
    }
