"""Interactive page: change the levers, watch the town change (Mesa SolaraViz).

Start it from the repository root with

    solara run app/app.py

and open the address it prints. Each browser tab gets its own model.
"""

from __future__ import annotations

import reacton.ipywidgets as rw
import solara
from mesa.visualization import SolaraViz
from solara.server import settings as server_settings

from charts import SERIES, Series, network_png, series_png, summary_markdown
from levers import LEVERS, model_params
from town_model import TownModel

TITLE = "Mono-town cluster lab"
server_settings.telemetry.mixpanel_enable = False  # the page sends no usage statistics


def _image(model: TownModel, draw) -> solara.Element:
    """A PNG drawn only when the model has stepped or been rebuilt."""
    png = solara.use_memo(lambda: draw(model), [id(model), model.time_step])
    return rw.Image(value=png, format="png")


def network_view(model: TownModel) -> solara.Element:
    return _image(model, lambda m: network_png(m, f"Firm network of A ({m.cfg.scenario})"))


def series_view(series: Series):
    def view(model: TownModel) -> solara.Element:
        return _image(model, lambda m: series_png(m, series))

    view.__name__ = f"{series.column}_view"
    return view


def summary_view(model: TownModel) -> solara.Element:
    return solara.Markdown(summary_markdown(model))


@solara.component
def Guide():
    """What each control means; placed after SolaraViz's own sidebar cards."""
    with solara.Sidebar():
        with solara.Card("What the controls mean"):
            solara.Markdown("\n\n".join(f"**{lever.label}**: {lever.help}" for lever in LEVERS))


@solara.component
def GuideHolder():
    # One component level deeper than SolaraViz, so the sidebar lists the guide after it.
    Guide()


COMPONENTS = [network_view, *(series_view(s) for s in SERIES), summary_view]


@solara.component
def Page():
    model = solara.use_memo(TownModel, [])  # one model per browser tab
    SolaraViz(model, components=COMPONENTS, model_params=model_params(), name=TITLE,
              play_interval=150)
    GuideHolder()
