"""The page's two views: one run of A and B (networks, table, plots, downloads) and many
seeds (mean bands and paired differences). Each component that reads the current `Frame`
is a leaf, so a step redraws only what changed."""

from __future__ import annotations

from dataclasses import dataclass

import solara

import charts
import network
import tables
from levers import NO_COMPARISON
from multiseed import SEED_COUNTS, SeedRun
from town_model import Runner, Snapshot
from vega_chart import Chart, Data


@dataclass(frozen=True)
class Frame:
    """What the page shows: a snapshot and how long it took to make (one state, one redraw)."""

    snapshot: Snapshot
    timing: str = ""


# --------------------------------------------------------------------------- one run


@solara.component
def Network(frame: solara.Reactive[Frame], index: int):
    snap = frame.value.snapshot
    run = snap.runs[index] if index < len(snap.runs) else None
    key = [snap.generation, run and run.label]
    layout = solara.use_memo(lambda: run and network.SectorLayout(run.network), key)
    data = solara.use_memo(lambda: run and Data(
        network.network_spec(run.label, run.network.sectors),
        network.network_rows(run.network, layout)), key + [snap.time_step])
    with solara.Div(classes=["network"]):  # a stable box: B's network comes and goes
        if run is not None:
            Chart(data, renderer="canvas")


@solara.component
def Summary(frame: solara.Reactive[Frame]):
    solara.HTML(tag="div", unsafe_innerHTML=tables.summary_html(frame.value.snapshot),
                classes=["summary-html"])


@solara.component
def SettingsInEffect(frame: solara.Reactive[Frame]):
    snap = frame.value.snapshot
    html = solara.use_memo(lambda: tables.settings_html(snap), [snap.generation])
    with solara.Details("Settings in effect (A and B)"):
        solara.HTML(tag="div", unsafe_innerHTML=html, classes=["settings-html"])


@solara.component
def Downloads(runner: Runner, applied: solara.Reactive[dict]):
    """CSVs of the run as it stands (read from the runner when clicked)."""
    s = applied.value
    stem = f"{s['town']}_{s['scenario_a']}_seed{s['seed']}"
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        solara.FileDownload(lambda: tables.records_csv(runner.snapshot()),
                            filename=f"{stem}_records.csv", mime_type="text/csv",
                            label="Records of A and B (CSV)")
        solara.FileDownload(lambda: tables.firms_csv(runner.firm_rows()),
                            filename=f"{stem}_firms.csv", mime_type="text/csv",
                            label="Firm table of A and B (CSV)")


@solara.component
def OutputChooser(outputs: solara.Reactive[list]):
    """Any output of the model's registry, listed by its label."""
    items = solara.use_memo(lambda: [{"text": charts.BY_NAME[n].label, "value": n}
                                     for n in charts.plottable_outputs()], [])
    solara.v.Select(label="Outcomes to plot", items=items, v_model=outputs.value,
                    on_v_model=lambda names: outputs.set([n for n in charts.plottable_outputs()
                                                          if n in names]),
                    multiple=True, chips=True, small_chips=True, deletable_chips=True,
                    class_="output-chooser")


@solara.component
def Plots(frame: solara.Reactive[Frame], outputs: solara.Reactive[list]):
    snap = frame.value.snapshot
    with solara.Div(classes=["chart-grid"]):
        for name in outputs.value:
            Chart(Data(charts.series_spec(snap, name), charts.series_values(snap, name))
                  ).key(name)


@solara.component
def OneRun(frame: solara.Reactive[Frame], outputs: solara.Reactive[list], runner: Runner,
           applied: solara.Reactive[dict]):
    with solara.Div(classes=["network-grid"]):
        Network(frame, 0)
        Network(frame, 1)
    with solara.Div(classes=["top-grid"]):
        with solara.Div():
            Summary(frame)
            SettingsInEffect(frame)
        with solara.Div():
            OutputChooser(outputs)
            Downloads(runner, applied)
    Plots(frame, outputs)


# --------------------------------------------------------------------------- many seeds


@solara.component
def ManySeeds(settings: solara.Reactive[dict], outputs: solara.Reactive[list]):
    n_seeds = solara.use_reactive(10)
    state = solara.use_reactive({"results": None, "done": True, "error": None, "n": 0,
                                 "settings": None})
    current = solara.use_ref(None)

    def start():
        if current.current is not None:
            current.current.cancel()
        s, n = dict(settings.value), int(n_seeds.value)
        state.value = {"results": None, "done": False, "error": None, "n": n, "settings": s}
        holder: list = []

        def update(results, done):
            run = holder[0]
            if current.current is not run:
                return  # a newer run replaced this one
            state.value = {"results": results.copy() if results is not None else None,
                           "done": done, "error": run.error, "n": n, "settings": s,
                           "cancelled": run.cancelled}

        holder.append(SeedRun(s, n, on_update=update))
        current.current = holder[0]
        holder[0].start()

    def cancel():
        if current.current is not None:
            current.current.cancel()

    st = state.value
    res = st["results"]
    running = not st["done"]
    solara.HTML(tag="div", unsafe_innerHTML=(
        "Runs A and B of the current settings on many seeds (first seed = the Seed control), "
        "to the horizon, in the background. Left: the mean over seeds with its 95% "
        "confidence band. Right: the paired difference A − B (same seed, common random "
        "numbers) with its 95% confidence interval: where the band excludes zero, the "
        "scenarios differ beyond luck."), classes=["lever-help"])
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.ToggleButtonsSingle(value=n_seeds, values=list(SEED_COUNTS))
        solara.Text("seeds")
        solara.Button("Run seeds", icon_name="mdi-play-box-multiple", color="primary",
                      on_click=start, disabled=running)
        solara.Button("Cancel", on_click=cancel, disabled=not running)
    if running or res is not None:
        done = res.n if res is not None else 0
        solara.ProgressLinear(value=100 * done / max(st["n"], 1) if running else False)
        s = st["settings"]
        what = f"A {s['scenario_a']}" + (f", B {s['scenario_b']}"
                                         if s["scenario_b"] != NO_COMPARISON else "")
        status = (f"{'Running' if running else 'Finished'}: {done} of {st['n']} seeds "
                  f"({what}, {s['town']}, seeds {s['seed']}–{int(s['seed']) + st['n'] - 1})")
        if not running and st.get("cancelled"):
            status = f"Cancelled after {done} seeds ({what})"
        if res is not None and not running:
            status += f" in {res.seconds:.1f} s"
        solara.Text(status, classes=["seed-status"])
    if st["error"] is not None:
        solara.Error(f"The seeds stopped with an error: {st['error']!r}")
    if res is not None and res.n > 0:
        SeedPlots(res, list(outputs.value))


@solara.component
def SeedPlots(res, outputs: list[str]):
    paired = len(res.labels) == 2
    esc = tables.esc
    rows = []
    for row in res.final_table(outputs):
        cells = "".join(f"<td>{m:,.3f}</td>" for m in row["means"])
        if paired:
            cells += (f"<td>{row['diff']:,.3f}</td><td>[{row['lo']:,.3f}, {row['hi']:,.3f}]</td>"
                      f"<td>{row['a_higher']} / {row['b_higher']}</td>")
        rows.append(f"<tr><td>{esc(charts.BY_NAME[row['name']].label)} ({esc(row['unit'])})"
                    f"</td>{cells}</tr>")
    head = "".join(f"<th>mean {esc(label)}</th>" for label in res.labels)
    if paired:
        head += "<th>A − B</th><th>95% CI</th><th>seeds A&gt;B / A&lt;B</th>"
    solara.HTML(tag="div", classes=["seed-table"], unsafe_innerHTML=(
        f"<b>At quarter {res.horizon}, over {res.n} seeds</b>"
        f'<table class="summary"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"))
    with solara.Div(classes=["chart-grid"]):
        for name in outputs:
            Chart(Data(charts.band_spec(name, res.labels, res.horizon, res.scale, res.n),
                       res.band_rows(name))).key(f"band-{name}")
            if paired:
                Chart(Data(charts.difference_spec(name, res.labels, res.horizon, res.scale,
                                                  res.n), res.difference_rows(name))
                      ).key(f"diff-{name}")
