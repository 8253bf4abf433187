"""A Vega-Lite chart widget that works offline with solara-assets.

`solara.FigureAltair` asks the asset server for "vega@5", "vega-lite@5" and "vega-embed@6";
the offline bundle (solara-assets 1.58.2) has only exact versions (vega@5.21.0,
vega-lite@5.2.0, vega-embed@6.20.2), so those charts stay blank without internet. This widget
loads the exact versions and takes the spec and the data rows as separate traits: new rows
replace the chart's data without re-embedding it. Its element carries `data-drawn-quarter`,
the last quarter of the rows Vega has drawn (what the browser tests wait for), and the Vega
view as `vegaView`.
"""

from __future__ import annotations

import os

import ipyvuetify as v
import solara
import traitlets


class VegaChart(v.VuetifyTemplate):
    template_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vega_chart.vue")
    spec = traitlets.Dict().tag(sync=True)
    values = traitlets.List().tag(sync=True)
    renderer = traitlets.Unicode("svg").tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    @traitlets.default("cdn")
    def _cdn(self):
        import solara.settings

        if not solara.settings.assets.proxy:
            return solara.settings.assets.cdn


class Data:
    """A chart's spec and rows, handed to `Chart` in one opaque object: reacton walks every
    list and dict passed to a component (looking for elements), which for hundreds of rows
    cost more than the drawing. A new Data is a new drawing."""

    __slots__ = ("spec", "rows")

    def __init__(self, spec: dict, rows: list) -> None:
        self.spec, self.rows = spec, rows


@solara.component
def Chart(data: Data, renderer: str = "canvas"):
    """One chart; `data.spec` is a Vega-Lite spec whose data source is named "series"; a row
    with a "quarter" field tells which quarter the rows reach."""
    element = VegaChart.element(renderer=renderer)

    def push():
        widget = solara.get_widget(element)
        with widget.hold_sync():
            widget.spec = data.spec
            widget.values = data.rows

    solara.use_effect(push, [data])
    return element
