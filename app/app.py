"""Interactive page: change the levers, watch the town change (Solara).

Start it from the repository root with

    solara run app/app.py --production

and open the address it prints. Each browser tab has its own model (a `Runner`).

How it stays safe while playing: Play steps the model in a worker thread; each step, under the
Runner's lock, ends with an immutable `Snapshot` (copies of the records, firm columns and
ties), and the page draws only snapshots. A draw can therefore never see a model half-way
through a step (the crash of SolaraViz's "Use Threads"), and the model never steps past its
horizon.
"""

from __future__ import annotations

import threading
import time

import reacton
import solara
from solara.server import settings as server_settings

import tables
from about import about_html
from charts import DEFAULT_OUTPUTS
from controls import ParameterSet, Settings
from levers import DEFAULTS, differences
from town_model import Runner, Snapshot
from views import Frame, ManySeeds, OneRun

TITLE = "Mono-town cluster lab"
server_settings.telemetry.mixpanel_enable = False  # the page sends no usage statistics

#: pause between quarters while playing (seconds). "fastest" does not wait for the page to
#: draw every quarter: the model steps on and the page draws the latest quarter every FRAME
#: seconds (the plots always hold the whole history).
SPEEDS = {"fastest": 0.0, "4 quarters/s": 0.25, "1 quarter/s": 1.0}
FRAME = 0.15

CSS = """
.run-status { font-size: 1.05rem; font-weight: 500; }
.run-timing { color: #555; font-size: 0.85rem; }
.chart-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
              gap: 10px 18px; width: 100%; }
.network-grid { display: flex; flex-wrap: wrap; gap: 8px 24px; width: 100%; }
.top-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr));
            gap: 12px 18px; width: 100%; align-items: start; margin: 8px 0; }
.chart-grid > *, .top-grid > * { min-width: 0; }
table.summary { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
table.summary th, table.summary td { border-bottom: 1px solid #e3e3e3; padding: 2px 6px; }
table.summary td:not(:first-child), table.summary th:not(:first-child) { text-align: right; }
table.glossary td:not(:first-child) { text-align: left; }
.summary-note { font-size: 0.8rem; color: #444; margin-bottom: 4px; }
.lever .v-input__slot { margin-bottom: 0; }
.lever .v-slider { margin-top: 0; }
.lever-input input { font-weight: 500; }
.lever-help { font-size: 0.75rem; color: #555; margin: -4px 0 6px 0; line-height: 1.2; }
.v-tooltip__content { max-width: 340px; }
.about { font-size: 0.9rem; columns: 2 380px; column-gap: 28px; }
.about p, .about li { break-inside: avoid; }
.about ul { margin: 0 0 6px 0; }
.param-yaml textarea { font-family: monospace; font-size: 0.8rem; }
"""


def status_text(snap: Snapshot) -> str:
    """"Quarter n / 60 (...)" and, for A, whether the regime and the cluster money run."""
    t, horizon = snap.time_step, snap.horizon
    text = f"Quarter {t} / {horizon} (year {t / 4:g} of {horizon / 4:g})"
    cal = snap.a.calendar
    flags = []
    if cal["tased"]:
        flags.append(f"TASED in force until quarter {cal['tased_end']}"
                     if cal["tased_start"] <= t < cal["tased_end"]
                     else f"TASED ended at quarter {cal['tased_end']}"
                     if t >= cal["tased_end"] else f"TASED from quarter {cal['tased_start']}")
    if cal["cluster_policy"]:
        flags.append(f"cluster programme from quarter {cal['cluster_start']}"
                     if t < cal["cluster_start"] else
                     f"public cluster money until quarter {cal['support_end']}"
                     if t < cal["support_end"] else "public cluster money ended")
    return text + (" · A: " + ", ".join(flags) if flags else "")


@solara.component
def Page():
    runner = solara.use_memo(lambda: Runner(DEFAULTS), [])  # one model per browser tab
    settings = solara.use_reactive(dict(DEFAULTS))
    applied = solara.use_reactive(dict(DEFAULTS))
    frame = solara.use_reactive(solara.use_memo(lambda: Frame(runner.snapshot()), []))
    outputs = solara.use_reactive(list(DEFAULT_OUTPUTS))
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("fastest")
    play = solara.use_ref(None)  # the stop event of the running Play
    last_update = solara.use_ref(0.0)  # ms the server spent on the last Step's page update
    # Changes made together redraw once: without this, each component that reads the frame
    # would redraw the page on its own (seven redraws a step).
    batch = reacton.core.get_render_context()

    def stop_playing():
        # no join: the worker may be drawing. It stops at its next check, and a Reset made
        # meanwhile is safe (the worker steps only the model it started with).
        if play.current is not None:
            play.current.set()
            play.current = None
        playing.value = False

    def reset(new_settings=None):
        start = time.perf_counter()
        with batch:
            stop_playing()
            if new_settings is not None:
                settings.value = new_settings
            snap = runner.reset(settings.value)
            applied.value = dict(settings.value)
            frame.value = Frame(snap, f"Reset: model built in "
                                      f"{1000 * (time.perf_counter() - start):.0f} ms")

    def step():
        start = time.perf_counter()
        snap = runner.step()
        model_ms = 1000 * (time.perf_counter() - start)
        # the server's share of a Step: the model, then the page update (drawing, diffing)
        # of the previous Step, measured after it was sent (one state change per step)
        with batch:
            frame.value = Frame(snap, f"Step: model {model_ms:.0f} ms; page update "
                                      f"{last_update.current:.0f} ms (previous step, server)")
        last_update.current = 1000 * (time.perf_counter() - start) - model_ms

    def start_playing():
        if play.current is not None or frame.value.snapshot.done:
            return
        stop = threading.Event()
        pause = SPEEDS[speed.value]
        generation, first = runner.generation, frame.value.snapshot.time_step

        def loop():
            begin = drawn = time.perf_counter()
            snap = frame.value.snapshot
            try:
                while not stop.is_set():
                    t = time.perf_counter()
                    snap = runner.step(generation)
                    if snap.generation != generation:
                        break  # a Reset came in
                    if (pause or snap.done or t - drawn >= FRAME) and not stop.is_set():
                        with batch:  # draws, in this thread
                            frame.value = Frame(snap, frame.value.timing)
                        drawn = time.perf_counter()
                    if snap.done:
                        break
                    wait = pause - (time.perf_counter() - t)
                    if wait > 0:
                        stop.wait(wait)
            finally:
                latest = runner.snapshot()
                timing = frame.value.timing
                if snap.generation == generation:
                    timing = (f"Play: {snap.time_step - first} quarters in "
                              f"{time.perf_counter() - begin:.1f} s (server)")
                with batch:
                    if play.current is stop:
                        play.current = None
                        playing.value = False
                    if frame.value.snapshot is not latest or timing != frame.value.timing:
                        frame.value = Frame(latest, timing)  # paused between drawings

        play.current = stop
        playing.value = True
        threading.Thread(target=loop, name="play", daemon=True).start()

    solara.Style(CSS)
    solara.Title(TITLE)
    with solara.AppBarTitle():
        solara.Text(TITLE)
    with solara.Sidebar():
        RunCard(frame, playing, speed, reset, step, start_playing, stop_playing, settings,
                applied)
        Settings(settings)
        ParameterSet(settings, load=reset)
    with solara.Details("About this model: the question, A and B, how to read the plots",
                        expand=True):
        solara.HTML(tag="div", unsafe_innerHTML=about_html(), classes=["about"])
    Status(frame)
    Notice(settings, applied)
    with solara.lab.Tabs():
        with solara.lab.Tab("One run"):
            OneRun(frame, outputs, runner, applied)
        with solara.lab.Tab("Many seeds"):
            ManySeeds(settings, outputs)
        with solara.lab.Tab("Outputs explained"):
            solara.HTML(tag="div", unsafe_innerHTML=tables.outputs_html())


# Small components that read the frame or the settings: only they redraw after a change.


@solara.component
def RunCard(frame, playing, speed, reset, step, start_playing, stop_playing, settings,
            applied):
    done = frame.value.snapshot.done
    pending = settings.value != applied.value
    with solara.Card("Run", margin=0):
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            solara.Button("Reset", icon_name="mdi-restart", on_click=lambda: reset(),
                          color="primary" if pending else None)
            solara.Button("Step", icon_name="mdi-step-forward", on_click=step,
                          disabled=playing.value or done)
            if playing.value:
                solara.Button("Pause", icon_name="mdi-pause", on_click=stop_playing)
            else:
                solara.Button("Play", icon_name="mdi-play", on_click=start_playing,
                              disabled=done)
        solara.Select("Play speed", values=list(SPEEDS), value=speed, disabled=playing.value,
                      classes=["lever-speed"])
        solara.Text(frame.value.timing, classes=["run-timing"])


@solara.component
def Status(frame):
    solara.Text(status_text(frame.value.snapshot), classes=["run-status"])


@solara.component
def Notice(settings, applied):
    """Says which controls differ from the run on screen until Reset applies them."""
    changed = differences(applied.value, settings.value)
    if changed:
        solara.Warning(f"Changed but not applied: {', '.join(changed)}. Press Reset to start "
                       "a run with them; the plots and tables show the run of the previous "
                       "settings.", dense=True, classes=["pending-warning"])
