"""The interactive page without a browser: its model for every scenario and town, its
controls, the thread-safe runner, what it draws, its downloads and parameter sets, the
multi-seed statistics and one headless render of the page. Model numbers are never pinned:
other work changes the mechanisms."""

import csv
import io
import json
import math
import re
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

APP_DIR = Path(__file__).resolve().parent.parent / "app"
sys.path.insert(0, str(APP_DIR))  # the page's modules import each other as `solara run` does

import about  # noqa: E402
import app as page  # noqa: E402
import charts  # noqa: E402
import levers  # noqa: E402
import multiseed  # noqa: E402
import network  # noqa: E402
import tables  # noqa: E402
from town_model import Runner, TownModel  # noqa: E402

from simulation.outputs import BY_NAME, OUTPUTS, firm_rows  # noqa: E402
from simulation.presets import load_config, options, scenarios  # noqa: E402

#: every policy lever moved away from the presets of top_down and tased_only
MOVED = dict(tased="off", support_end_step=12, management_quality=0.9, brokerage=1.5,
             urban_investment=20.0, outsourcing_rate=0.1, priority_rule="all_sectors",
             procurement_rule="designated", subsidy_budget=40.0, public_funding=0.0)


def settings(**changes):
    return {**levers.DEFAULTS, **changes}


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize("scenario", options("scenario"))
def test_model_builds_and_steps_for_every_scenario(scenario):
    model = TownModel(scenario_a=scenario, scenario_b="baseline")
    for _ in range(2):
        model.step()
    assert model.cfg.scenario == scenario and model.comparison.cfg.scenario == "baseline"
    assert [r["step"] for r in model.records] == [0.0, 1.0, 2.0]
    assert model.time_step == model.comparison.time_step == 2 and model.running


@pytest.mark.parametrize("town", options("town"))
def test_model_builds_for_every_town(town):
    model = TownModel.from_settings(settings(town=town, scenario_b=levers.NO_COMPARISON))
    model.step()
    assert model.comparison is None and model.cfg.town.name == town and len(model.runs()) == 1


def test_untouched_controls_run_what_the_command_line_runs_and_show_the_preset():
    model = TownModel.from_settings(settings(scenario_a="joint", scenario_b="business_led"))
    assert model.cfg == load_config("sokol", "joint")
    assert model.comparison.cfg == load_config("sokol", "business_led")
    assert levers.overrides(settings()) == {}
    cfg = load_config("sokol", "baseline")
    shown = {lv.name: levers.shown_value(settings(scenario_a="baseline"), lv.name)
             for lv in levers.POLICY}
    assert shown["tased"] == "off" and shown["subsidy_budget"] == cfg.cluster.subsidy_budget


def test_every_control_is_explained_and_accepts_what_the_schema_accepts():
    for lever in levers.LEVERS:
        assert lever.help.strip() and lever.label.strip(), lever.name
        if lever.kind in ("int", "float"):
            lo, hi = levers.config_range(lever.key)
            assert lever.limits == (lo, hi) and lo <= lever.lo < lever.hi <= hi, lever.name
            assert lever.clean(hi + 1) == hi and lever.clean(lo - 1) == lo  # typed values
        if lever.kind == "select" and not lever.policy:
            assert lever.default in lever.values, lever.name
    brokerage = levers.BY_NAME["brokerage"]
    assert brokerage.hi < brokerage.limits[1]  # beyond the slider's end may still be typed
    assert levers.BY_NAME["management_quality"].clean(0.15000000000000002) == 0.15


def test_every_changed_lever_reaches_the_config_of_a_and_b():
    model = TownModel.from_settings(settings(scenario_b="tased_only", seed=7, **MOVED))
    for cfg in (model.cfg, model.comparison.cfg):
        assert cfg.seed == 7
        for lever in levers.POLICY:
            assert levers.config_value(cfg, lever.key) == lever.to_config(MOVED[lever.name])
    bare = TownModel.from_settings(settings(scenario_b="joint", b_uses_levers=False, **MOVED))
    assert bare.comparison.cfg == load_config("sokol", "joint") and bare.b_is_preset


def test_a_and_b_share_the_seed_so_identical_settings_give_identical_runs():
    model = TownModel(scenario_a="tased_only", scenario_b="tased_only")
    for _ in range(3):
        model.step()
    assert model.records == model.comparison.records


def test_the_notice_names_the_controls_not_yet_applied():
    run = settings()
    assert levers.differences(run, run) == []
    now = settings(town="tagil", management_quality=0.2)
    assert levers.differences(run, now) == ["Town", "CMC quality q"]
    # moving a lever back to the preset's value is no change
    assert levers.differences(run, settings(management_quality=None)) == []


# --------------------------------------------------------------------------- the runner


def test_the_run_stops_at_the_horizon():
    runner = Runner(settings(scenario_b=levers.NO_COMPARISON))
    horizon = runner.snapshot().horizon
    for _ in range(horizon + 5):
        snap = runner.step()
    assert snap.done and snap.time_step == horizon and len(snap.a.records) == horizon + 1
    runner.model.step()  # the model itself refuses to step past the horizon too
    assert runner.model.time_step == horizon
    assert page.status_text(snap).startswith(f"Quarter {horizon} / {horizon} ")


def test_drawing_while_another_thread_steps_never_sees_a_half_step():
    """The SolaraViz "Use Threads" crash was a draw racing a step: the page draws only
    snapshots, taken under the runner's lock, and reads the firm table under it."""
    runner = Runner(settings())
    layouts = [network.SectorLayout(run.network) for run in runner.snapshot().runs]
    errors, draws = [], []

    def play():
        try:
            while not runner.step().done:
                pass
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    worker = threading.Thread(target=play)
    worker.start()
    while worker.is_alive() or not draws:
        snap = runner.snapshot()
        try:
            for run, layout in zip(snap.runs, layouts):
                assert len(run.records) == snap.time_step + 1
                assert network.network_rows(run.network, layout)[-1]["quarter"] \
                    == snap.time_step
            for name in charts.DEFAULT_OUTPUTS:
                charts.series_values(snap, name)
            tables.summary_html(snap)
            tables.firms_csv(runner.firm_rows())
        except Exception as err:
            errors.append(err)
            break
        draws.append(snap.time_step)
    worker.join()
    assert not errors, errors
    assert len(set(draws)) > 3


def test_a_play_started_before_a_reset_does_not_step_the_new_model():
    runner = Runner(settings())
    generation = runner.generation
    runner.step(generation)
    runner.reset(settings())
    assert runner.step(generation).time_step == 0
    assert runner.step(runner.generation).time_step == 1


def test_a_snapshot_does_not_change_when_the_model_steps_on():
    runner = Runner(settings())
    snap = runner.step()
    employees = snap.a.network.firms.employees.copy()
    runner.step()
    assert len(snap.a.records) == 2
    assert np.array_equal(snap.a.network.firms.employees, employees)


# --------------------------------------------------------------------------- drawings


def test_money_of_a_scaled_town_is_shown_for_the_whole_town():
    snap = Runner(settings(town="tolyatti")).step()
    assert (scale := snap.a.cfg.town.scale) < 1
    money = [o.name for o in OUTPUTS if charts.is_money(o.unit)]
    assert "public_cost_cumulative" in money and "spend_urban_environment" in money
    for name in money:
        last = [r for r in charts.series_values(snap, name) if r["run"] == snap.a.label][-1]
        recorded = snap.a.last[name]
        assert last["value"] == pytest.approx(recorded / scale) or math.isnan(recorded)
        assert "whole town" in charts.display(name, scale)[1]
    # the table too: tolyatti spends the urban investment set for the whole town
    cost = dict(tables.summary_rows(snap))[BY_NAME["public_cost_cumulative"].label][0]
    assert float(cost.split()[0].replace(",", "")) == pytest.approx(
        snap.a.last["public_cost_cumulative"] / scale, rel=1e-2)
    assert snap.a.last["spend_urban_environment"] / scale == pytest.approx(
        snap.a.cfg.urban.investment_per_step)
    assert charts.display("cfe_share", scale) == (100.0, "%")


def test_every_output_can_be_plotted_from_quarter_0_with_markers():
    runner = Runner(settings(support_end_step=24))
    assert {r["quarter"] for r in charts.series_values(runner.snapshot(), "cfe_share")} == {0}
    snap = runner.step()
    for name in charts.plottable_outputs():
        spec, values = charts.series_spec(snap, name), charts.series_values(snap, name)
        assert spec["$schema"].endswith("/v5.json") and spec["data"] == {"name": "series"}
        json.dumps([spec, values], allow_nan=False)  # what the widget sends
        assert len(values) == 2 * 2 and {v["quarter"] for v in values} == {0, 1}
        assert any(layer["mark"]["type"] == "point" for layer in spec["layer"])
    rules = {(r["kind"], r["q"]) for layer in spec["layer"]
             for r in layer.get("data", {}).get("values", []) if "kind" in r}
    assert rules == {("tased", 40), ("support", 24)}  # B (baseline) has neither


def test_each_run_has_a_network_with_stable_positions():
    runner = Runner(settings(scenario_b="joint"))
    snap = runner.snapshot()
    layouts = [network.SectorLayout(run.network) for run in snap.runs]
    first = [network.network_rows(run.network, lay) for run, lay in zip(snap.runs, layouts)]
    for _ in range(3):
        snap = runner.step()
    for run, layout, before in zip(snap.runs, layouts, first):
        rows = network.network_rows(run.network, layout)
        firms = [r for r in rows if r["k"] in "fc"]
        assert len(firms) == len(run.network.firms) and rows[-1] == {"k": "m", "quarter": 3}
        assert sum(r["k"] == "t" for r in rows) == len(run.network.ties)
        old = {r["id"]: (r["x"], r["y"], r["sector"]) for r in before if r["k"] in "fc"}
        stayed = [r for r in firms if r["id"] in old and old[r["id"]][2] == r["sector"]]
        assert stayed and all(old[r["id"]][:2] == (r["x"], r["y"]) for r in stayed)
        assert len({(r["x"], r["y"]) for r in firms}) == len(firms)  # no two on one spot
        spec = network.network_spec(run.label, run.network.sectors)
        assert run.label in json.dumps([spec, rows], allow_nan=False)


def test_the_description_says_the_question_a_and_b_each_plot_and_every_scenario():
    text = about.about_html()
    needles = ["The question", "A and B", "same town and", "higher = jobs spread"]
    needles += [f"<b>{n}</b>: {tables.esc(s['summary'])}" for n, s in scenarios().items()]
    needles += [tables.esc(charts.READING[name]) for name in charts.DEFAULT_OUTPUTS]
    assert all(needle in text for needle in needles), needles
    assert levers.scenario_summary("joint") == scenarios()["joint"]["summary"]


def test_the_page_never_uses_markdown_or_solaras_altair_component():
    """solara.Markdown loads KaTeX and FigureAltair vega@5 from a CDN: both fail offline."""
    for path in APP_DIR.glob("*.py"):
        assert not re.search(r"\b(Markdown|FigureAltair|AltairChart)\(", path.read_text()), path


def test_the_csvs_hold_the_records_and_firms_of_a_and_b():
    runner = Runner(settings(town="tagil"))
    for _ in range(2):
        snap = runner.step()
    rows = list(csv.DictReader(io.StringIO(tables.records_csv(snap))))
    assert [r["run"] for r in rows] == ["A"] * 3 + ["B"] * 3
    for run, model in zip(("A", "B"), (runner.model, runner.model.comparison)):
        got = [r for r in rows if r["run"] == run]
        for mine, theirs in zip(got, model.records):
            assert {k: float(mine[k]) for k in theirs} == pytest.approx(theirs, nan_ok=True)
        assert got[0]["town_scale"] == "0.2"
    firms = list(csv.DictReader(io.StringIO(tables.firms_csv(runner.firm_rows()))))
    expected = firm_rows(runner.model) + firm_rows(runner.model.comparison)
    assert len(firms) == len(expected)
    assert [f["firm_id"] for f in firms] == [str(e["firm_id"]) for e in expected]
    assert {f["step"] for f in firms} == {"2"}


# --------------------------------------------------------------------------- parameter sets


def test_a_parameter_set_is_a_list_of_overrides_and_loads_back():
    s = settings(town="tagil", scenario_a="business_led", seed=11, scenario_b="joint",
                 b_uses_levers=False, **MOVED)
    args = yaml.safe_load(levers.parameter_yaml(s, "A"))
    assert args[:3] == ["town=tagil", "scenario=business_led", "seed=11"]
    assert "tased.enabled=false" in args and "cluster.management_quality=0.9" in args
    loaded, notes = levers.parse_parameter_yaml(levers.parameter_yaml(s, "A"))
    assert not notes
    for name in ("town", "scenario_a", "seed", *MOVED):
        assert loaded[name] == s[name], name
    assert levers.cli_overrides(s, "B") == ["town=tagil", "scenario=joint", "seed=11"]


def test_a_bad_parameter_set_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="town"):
        levers.parse_parameter_yaml("- town=atlantis\n")
    with pytest.raises(ValueError, match="accepted range"):
        levers.parse_parameter_yaml("- cluster.management_quality=1.5\n")
    with pytest.raises(ValueError):
        levers.parse_parameter_yaml("just a sentence")
    loaded, notes = levers.parse_parameter_yaml("- scenario=joint\n- tased.min_jobs=5\n")
    assert loaded["scenario_a"] == "joint" and "tased.min_jobs" in notes[0]


# --------------------------------------------------------------------------- many seeds


def test_mean_and_confidence_interval():
    mean, lo, hi = multiseed.mean_ci(np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]]))
    half = 4.302652729911275 * 2.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert mean == pytest.approx([3.0, 2.0]) and hi == pytest.approx([3.0 + half, 2.0])
    assert lo == pytest.approx([3.0 - half, 2.0])
    mean, lo, hi = multiseed.mean_ci(np.array([[1.0, np.nan], [3.0, 4.0]]))
    assert mean == pytest.approx([2.0, 4.0]) and lo[1] == hi[1] == 4.0


def test_seeds_run_in_the_background_and_give_bands_and_paired_differences():
    updates = []
    run = multiseed.SeedRun(settings(seed=3), 3,
                            on_update=lambda r, done: updates.append((r.n, done)))
    started = time.perf_counter()
    run.start()
    assert time.perf_counter() - started < 0.5  # start does not wait for the seeds
    assert run.finished.wait(120) and run.error is None
    res = run.results
    assert res.seeds == [3, 4, 5] and updates[-1] == (3, True)
    a, b = (res.array(label, "members") for label in res.labels)
    assert a.shape == b.shape == (3, res.horizon + 1)
    mean, lo, hi = res.difference("members")
    assert mean == pytest.approx((a - b).mean(axis=0))
    assert np.all(lo <= mean + 1e-12) and np.all(mean <= hi + 1e-12)
    single = TownModel.from_settings(settings(seed=3))  # seed 3 of many = the single run
    single.run()
    assert a[0] == pytest.approx([r["members"] for r in single.records])
    json.dumps(res.band_rows("cfe_share") + res.difference_rows("cfe_share"), allow_nan=False)
    assert sum(res.final_table(["cfe_share"])[0][k] for k in ("a_higher", "b_higher")) <= 3


def test_a_seed_run_can_be_cancelled():
    run = multiseed.SeedRun(settings(), 50).start()
    run.cancel()
    assert run.finished.wait(60) and run.results.n < 50 and run.cancelled


# --------------------------------------------------------------------------- the page


def test_page_renders_explains_steps_plays_and_pauses_without_a_browser():
    import ipyvuetify as v
    import solara
    from solara.widgets.widgets import HTML

    from vega_chart import VegaChart

    def _button(rc, label):
        return next(w for w in rc.find(v.Btn).widgets if label in w.children)

    def _status(rc):
        return rc.find(v.Html, class_="run-status").widget.children[0]

    @solara.component
    def Served():  # the layout `solara run` puts around the page, which holds the sidebar
        with solara.AppLayout():
            page.Page()

    box, rc = solara.render(Served(), handle_error=False)
    try:
        tips = [w.children[0] for w in rc.find(v.Tooltip).widgets if w.children]
        assert all(any(t.startswith(lv.help) for t in tips) for lv in levers.LEVERS)
        assert any("The question" in (w.unsafe_innerHTML or "") for w in rc.find(HTML).widgets)
        _button(rc, "Step").click()
        _button(rc, "Step").click()
        assert _status(rc).startswith("Quarter 2 / ")
        drawn = rc.find(VegaChart).widgets
        assert len(drawn) == len(charts.DEFAULT_OUTPUTS) + 2  # and the networks of A and B
        assert sorted(len(c.values) for c in drawn)[0] == 2 * 3  # A and B, quarters 0-2

        # a typed value is a change the notice names until Reset applies it
        typed = rc.find(v.TextField, label="CMC quality q (as in scenario)").widget
        typed.v_model = "0.85"
        typed.fire_event("keyup.enter", None)
        notice = rc.find(v.Alert, class_="pending-warning").widget
        assert "CMC quality q" in str(notice.children)
        _button(rc, "Reset").click()
        assert not rc.find(v.Alert, class_="pending-warning").widgets
        assert _status(rc).startswith("Quarter 0 / ")

        _button(rc, "Play").click()
        deadline = time.monotonic() + 60
        while int(_status(rc).split()[1]) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        _button(rc, "Pause").click()
        time.sleep(0.2)
        paused_at = int(_status(rc).split()[1])
        time.sleep(0.3)
        assert paused_at >= 5 and int(_status(rc).split()[1]) == paused_at

        _button(rc, "Play").click()  # a Reset while playing stops the play at quarter 0
        _button(rc, "Reset").click()
        time.sleep(0.5)
        assert _status(rc).startswith("Quarter 0 / ") and _button(rc, "Play")
    finally:
        rc.close()
