"""The interactive page without a browser: its model for every scenario, its controls, its
figures and one headless render of the page."""

import inspect
import io
import sys
import time
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent / "app"
sys.path.insert(0, str(APP_DIR))  # the page's modules import each other as `solara run` does

import app as page  # noqa: E402
import charts  # noqa: E402
import levers  # noqa: E402
from town_model import TownModel  # noqa: E402

from simulation.presets import load_config, options  # noqa: E402


@pytest.mark.parametrize("scenario", options("scenario"))
def test_model_builds_and_steps_for_every_scenario(scenario):
    model = TownModel(scenario_a=scenario, scenario_b="baseline")
    model.step()
    model.step()
    assert model.cfg.scenario == scenario
    assert model.comparison.cfg.scenario == "baseline"
    assert [r["step"] for r in model.records] == [0.0, 1.0, 2.0]
    assert len(model.comparison.records) == 3
    assert model.time == model.comparison.time == 2.0
    assert model.running


@pytest.mark.parametrize("town", options("town"))
def test_model_builds_for_every_town(town):
    model = TownModel(town=town, scenario_b=levers.NO_COMPARISON)
    model.step()
    assert model.comparison is None
    assert model.cfg.town.name == town
    assert [label for label, _ in model.runs()] == ["A: top_down"]


def test_the_default_page_runs_what_the_command_line_runs():
    model = TownModel(scenario_a="top_down", scenario_b="baseline")
    assert model.cfg == load_config("sokol", "top_down")
    assert model.comparison.cfg == load_config("sokol", "baseline")


def test_every_control_is_a_model_argument_with_the_same_default():
    signature = inspect.signature(TownModel).parameters
    params = levers.model_params()
    assert list(params) == list(signature)
    for name, spec in params.items():
        assert signature[name].default == spec["value"], name
        assert levers.BY_NAME[name].help.strip(), name
    for spec in params.values():
        if spec["type"] == "Select":
            assert spec["value"] in spec["values"]
        elif spec["type"].startswith("Slider"):
            assert spec["min"] <= spec["value"] <= spec["max"]


def test_no_argument_is_called_scenario():
    # SolaraViz's Reset fills a keyword called `scenario` with a Mesa Scenario object
    assert "scenario" not in inspect.signature(TownModel).parameters


def test_levers_reach_the_config_of_a_and_b():
    model = TownModel(scenario_a="top_down", scenario_b="tased_only", seed=7, tased="off",
                      support_end_step=12, management_quality=0.9, brokerage=1.5,
                      urban_investment=20.0, outsourcing_rate=0.1, priority_rule="all_sectors",
                      procurement_rule="designated", subsidy_budget="40", public_funding="0")
    for cfg in (model.cfg, model.comparison.cfg):
        assert cfg.seed == 7
        assert cfg.tased.enabled is False
        assert cfg.cluster.support_end_step == 12
        assert cfg.cluster.management_quality == 0.9
        assert cfg.cluster.brokerage == 1.5
        assert cfg.urban.investment_per_step == 20.0
        assert cfg.cfe.outsourcing_rate == 0.1
        assert cfg.cluster.priority_rule.value == "all_sectors"
        assert cfg.cluster.procurement_rule.value == "designated"
        assert cfg.cluster.subsidy_budget == 40.0
        assert cfg.cluster.public_funding == 0.0


def test_as_in_scenario_keeps_the_preset_and_b_can_run_the_bare_preset():
    model = TownModel(scenario_a="top_down", scenario_b="joint", management_quality=0.2,
                      b_uses_levers=False)
    for run, scenario in ((model, "top_down"), (model.comparison, "joint")):
        preset = load_config(scenario=scenario)
        assert run.cfg.tased.enabled == preset.tased.enabled
        assert run.cfg.cluster.subsidy_budget == preset.cluster.subsidy_budget
        assert run.cfg.cluster.public_funding == preset.cluster.public_funding
    assert model.cfg.cluster.management_quality == 0.2
    assert model.comparison.cfg.cluster.management_quality == \
        load_config(scenario="joint").cluster.management_quality
    assert model.runs()[1][0] == "B: joint (preset)"


def test_a_and_b_share_the_seed_so_identical_settings_give_identical_runs():
    model = TownModel(scenario_a="tased_only", scenario_b="tased_only")
    for _ in range(4):
        model.step()
    assert model.records == model.comparison.records


def test_run_stops_at_the_horizon():
    model = TownModel(scenario_b=levers.NO_COMPARISON)
    model.run(model.cfg.steps)
    assert not model.running


def _redraw(model):
    """Everything the page draws after a step; returns the PNGs."""
    images = [charts.series_png(model, s) for s in charts.SERIES]
    images.append(charts.network_png(model, "network"))
    charts.summary_markdown(model)
    return images


def test_figures_draw_and_a_step_redraw_stays_well_under_a_second():
    model = TownModel()  # default town and scenarios, A and B
    _redraw(model)  # the first draw builds the figures and the network layout
    timings = []
    for _ in range(3):
        model.step()
        start = time.perf_counter()
        images = _redraw(model)
        timings.append(time.perf_counter() - start)
    assert all(png.startswith(b"\x89PNG") and len(png) > 5_000 for png in images)
    assert min(timings) < 1.0, timings


def test_a_redraw_matches_a_full_draw():
    """Drawing only the changing parts on the kept background gives the full picture."""
    model = TownModel(scenario_b="baseline")
    for _ in range(4):
        _redraw(model)
        model.step()
    figures = [charts.series_figure(model, s) for s in charts.SERIES]
    figures.append(charts.network_figure(model))
    for figure in figures:
        incremental = figure.update(model)
        figure.invalidate()
        assert _pixels(incremental) == _pixels(figure.update(model)), type(figure).__name__


def _pixels(png):
    from PIL import Image

    return Image.open(io.BytesIO(png)).tobytes()


def test_network_layout_keeps_positions_of_firms_that_stay():
    model = TownModel(scenario_b=levers.NO_COMPARISON)
    layout = charts.SectorLayout(model)
    f = model.firms
    before = dict(zip(f.uid.tolist(), map(tuple, layout.positions(model))))
    sectors = dict(zip(f.uid.tolist(), f.sector.tolist()))
    for _ in range(3):
        model.step()
    after = dict(zip(f.uid.tolist(), map(tuple, layout.positions(model))))
    stayed = [u for u, s in zip(f.uid.tolist(), f.sector.tolist())
              if u in before and sectors[u] == s]
    assert stayed
    assert all(before[u] == after[u] for u in stayed)
    assert len(set(after.values())) == len(after)  # no two firms on one spot


def test_summary_lists_a_and_b():
    model = TownModel(scenario_a="top_down", scenario_b="baseline")
    text = charts.summary_markdown(model)
    assert "A: top_down" in text and "B: baseline" in text
    assert "| TASED regime | on | off |" in text


def test_page_renders_and_steps_without_a_browser():
    import ipyvuetify as v
    import solara

    @solara.component
    def Served():  # the layout `solara run` puts around the page, which holds the sidebar
        with solara.AppLayout():
            page.Page()

    box, rc = solara.render(Served(), handle_error=False)
    assert rc.find(children=["What the controls mean"]).widgets
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert rc.find(children=["Time: 2.0"]).widgets
    rc.close()
