"""The page served by `solara run`, driven in Debian's chromium (apt-get install -y
chromium; never a browser downloader) as a student uses it: offline, no request to another
host, no console error; every control changes what the model runs, with a notice until Reset;
Play steps in a thread while the page draws and stops at the horizon; the CSVs hold the
model's records; a saved parameter set reproduces the run through `tased-sim`; many seeds
draw bands. Screenshots go to results/page/; Step and Play timings are printed, not asserted
(the machine is shared). Model numbers are never pinned: other work changes the mechanisms.
"""

import csv
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
import yaml
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
UI_TIMEOUT = 60_000  # milliseconds for the page to show a change
SHOTS = ROOT / "results" / "page"
sys.path.insert(0, str(ROOT / "app"))

from charts import DEFAULT_OUTPUTS  # noqa: E402
from levers import BY_NAME, DEFAULTS  # noqa: E402
from town_model import TownModel  # noqa: E402

from simulation.outputs import firm_rows  # noqa: E402
from simulation.presets import scenarios  # noqa: E402

N_CHARTS = len(DEFAULT_OUTPUTS) + 2  # the plots and the networks of A and B


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's package "
                    "(apt-get install -y chromium) or set CHROMIUM to its path")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--no-first-run", "--disable-sync"]}


@pytest.fixture(scope="session")
def base_url():  # pytest-playwright's own warns under pytest >= 9.2 (errors here)
    return None


@pytest.fixture(scope="module")
def served_page(tmp_path_factory):
    """`solara run app/app.py` in a subprocess; yields its address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("server") / "solara.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "solara", "run", "app/app.py", "--host", "127.0.0.1",
             "--port", str(port), "--production"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90  # seconds for the server to answer
        while not _answers(url):
            assert server.poll() is None, f"solara exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"solara did not answer:\n{log.read_text()}"
            time.sleep(0.5)
        yield url
    finally:
        server.kill()
        server.wait()


# --------------------------------------------------------------------------- helpers


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _open(page, url: str, width: int = 1400, height: int = 2200) -> list[str]:
    """Open the page; returns the list that collects every console error, script error,
    failed request and request to a host other than the page's own."""
    problems: list[str] = []
    host = urlsplit(url).netloc
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("request", lambda r: problems.append(f"request to another host: {r.url}")
            if urlsplit(r.url).netloc not in (host, "") else None)  # data: and blob: are ""
    page.on("requestfailed", lambda r: problems.append(f"failed request {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
            if r.status >= 400 else None)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url)
    expect(page.locator(".run-status")).to_contain_text("Quarter 0 / ", timeout=UI_TIMEOUT)
    _drawn(page, 0)
    return problems


#: JavaScript: have all charts of the open tab (plots and networks) drawn quarter q?
DRAWN = """(q, n) => { const c = Array.from(document.querySelectorAll(
    '.v-window-item--active .vega-chart'));
    return c.length === n && c.every(x => Number(x.dataset.drawnQuarter) === q); }"""


def _drawn(page, quarter: int, count: int = N_CHARTS) -> None:
    page.wait_for_function(f"([q, n]) => ({DRAWN})(q, n)", arg=[quarter, count],
                           timeout=UI_TIMEOUT, polling="raf")


def _timed_step(page, quarter: int) -> float:
    """Click Step in the page; seconds until every chart has drawn the quarter."""
    return page.evaluate(f"""([q, n]) => new Promise(resolve => {{
        const start = performance.now();
        Array.from(document.querySelectorAll('button'))
            .find(b => b.innerText.trim().toUpperCase() === 'STEP').click();
        (function poll() {{ ({DRAWN})(q, n) ? resolve((performance.now() - start) / 1000)
                                             : requestAnimationFrame(poll); }})();
    }})""", [quarter, N_CHARTS])


def _button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _reset(page) -> None:
    _button(page, "Reset").click()
    expect(page.locator(".run-status")).to_contain_text("Quarter 0 / ", timeout=UI_TIMEOUT)
    expect(page.locator(".pending-warning")).to_have_count(0)
    _drawn(page, 0)


def _select(page, name: str, option: str) -> None:
    page.locator(f".lever-{name} .v-select__slot").click()
    page.get_by_role("option", name=option, exact=True).click()


def _type(page, name: str, value) -> None:
    page.locator(f".lever-{name} input[type=text]").fill(str(value))
    page.locator(f".lever-{name} input[type=text]").press("Enter")


def _table(page, cls: str) -> dict[str, list[str]]:
    """Row name -> cells (A, B) of one of the page's tables."""
    return page.evaluate("""(cls) => Object.fromEntries(Array.from(
        document.querySelectorAll(`table.${cls} tbody tr`)).map(tr => {
            const cells = Array.from(tr.children).map(td => td.textContent.trim());
            return [cells[0], cells.slice(1)];
        }))""", cls)


def _download(page, label: str) -> str:
    with page.expect_download() as saved:
        page.get_by_text(label, exact=True).click()
    return Path(saved.value.path()).read_text()


def _same_records(text: str, model: TownModel) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    for run, m in (("A", model), ("B", model.comparison)):
        names = list(m.records[0])
        got = [[float(r[n]) for n in names] for r in rows if r["run"] == run]
        np.testing.assert_allclose(got, [[r[n] for n in names] for r in m.records],
                                   rtol=1e-12, equal_nan=True)


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)
    assert (SHOTS / name).stat().st_size > 20_000


# --------------------------------------------------------------------------- tests


def test_page_explains_itself_offline_and_stays_readable_at_1024_px(served_page, page,
                                                                    browser):
    problems = _open(page, served_page)
    about = page.locator(".about")
    expect(about).to_contain_text("The question")
    for name, scenario in scenarios().items():  # the six scenarios, one line each
        expect(about.locator("li", has_text=f"{name}:")).to_contain_text(scenario["summary"])
    page.locator(".lever-town .lever-info").hover()  # a tooltip at each control
    expect(page.locator(".v-tooltip__content").filter(has_text="Which mono-town")
           ).to_be_visible()
    for quarter in (1, 2):
        _timed_step(page, quarter)
    box = page.locator(".chart-grid .vega-chart canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    tooltip = page.locator("#vg-tooltip-element")
    expect(tooltip).to_contain_text("quarter", timeout=UI_TIMEOUT)  # hover values
    expect(tooltip).to_contain_text("A: top_down")
    _shoot(page, "page_1400.png")
    assert not problems, problems  # no CDN (KaTeX, vega), no script error

    hidpi = browser.new_page(device_scale_factor=2)
    problems = _open(hidpi, served_page, width=1024, height=2600)
    width = hidpi.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024, f"the page is {width} px wide at 1024 px"
    sizes = hidpi.evaluate("""Array.from(document.querySelectorAll('.vega-chart canvas'))
        .map(c => [c.width, c.getBoundingClientRect().width, c.getBoundingClientRect().right])""")
    assert len(sizes) == N_CHARTS
    for pixels, css, right in sizes:
        assert pixels == pytest.approx(2 * css, abs=2) and right <= 1024  # sharp, inside
    _shoot(hidpi, "page_1024.png")
    hidpi.close()
    assert not problems, problems  # the same at 1024 px on a HiDPI screen


def test_every_control_changes_what_the_model_runs_and_the_csvs_hold_it(served_page,
                                                                          page):
    problems = _open(page, served_page)
    _timed_step(page, 1)
    moved = {"town": "tagil", "scenario_a": "joint", "seed": 5, "tased": "off",
             "support_end_step": 20, "management_quality": 0.85, "brokerage": 4.5,
             "urban_investment": 12.0, "outsourcing_rate": 0.05,
             "priority_rule": "all_sectors", "procurement_rule": "designated",
             "subsidy_budget": 30.0, "public_funding": 2.5, "scenario_b": "tased_only"}
    for name, value in moved.items():
        (_select if BY_NAME[name].kind == "select" else _type)(page, name, value)
        # the settings-changed notice names it at once, mid-run; the run on screen stays
        expect(page.locator(".pending-warning")).to_contain_text(BY_NAME[name].label)
    expect(page.locator(".run-status")).to_contain_text("Quarter 1 / ")
    _reset(page)
    page.get_by_text("Settings in effect (A and B)").click()
    expect(page.locator("table.settings")).to_contain_text("tagil")
    rows = _table(page, "settings")
    expected = {"Town": "tagil", "Seed": "5", "TASED regime": "off",
                "Support ends (quarter)": "20", "CMC quality q": "0.85", "CMC brokerage": "4.5",
                "Urban investment": "12 mln RUB/q", "CFE outsourcing / year": "0.05",
                "Priority sectors": "all_sectors", "CFE procurement": "designated",
                "Cluster subsidies": "30 mln RUB/q", "CMC public money cap": "2.5 mln RUB/q"}
    assert rows["Scenario"] == ["joint", "tased_only"]
    for row, value in expected.items():  # A, and B which takes A's changed levers
        assert rows[row] == [value, value], row
    _timed_step(page, 1)
    (model := TownModel.from_settings({**DEFAULTS, **moved})).run(1)
    _same_records(_download(page, "Records of A and B (CSV)"), model)  # what ran, exactly
    firms = list(csv.DictReader(io.StringIO(_download(page, "Firm table of A and B (CSV)"))))
    for run, m in (("A", model), ("B", model.comparison)):
        mine = [(int(f["firm_id"]), float(f["net_worth"]), f["sector"], f["partners"])
                for f in firms if f["run"] == run]
        assert mine == [(t["firm_id"], t["net_worth"], t["sector"], t["partners"])
                        for t in firm_rows(m)]

    # B runs its bare preset; the slider moved by keyboard (Home: its lowest value)
    page.locator(".lever-b_uses_levers input[type=checkbox]").click(force=True)
    page.locator(".lever-management_quality [role=slider]").focus()
    page.keyboard.press("Home")
    for name in ("b_uses_levers", "management_quality"):
        expect(page.locator(".pending-warning")).to_contain_text(BY_NAME[name].label)
    _reset(page)
    expect(page.locator("table.settings th").last).to_have_text("B: tased_only (preset)")
    rows = _table(page, "settings")
    assert rows["CMC quality q"] == ["0", "0.6"] and rows["TASED regime"] == ["off", "on"]
    expect(page.locator(".summary-note")).to_contain_text("whole town")  # tagil is scaled
    assert not problems, problems


def test_play_steps_in_a_thread_while_drawing_and_stops_at_the_horizon(served_page, page):
    problems = _open(page, served_page)
    steps = [_timed_step(page, quarter) for quarter in range(1, 6)]
    print(f"\nStep in the browser, click to every chart drawn (1400 px): "
          f"{', '.join(f'{1000 * t:.0f}' for t in steps)} ms, median "
          f"{1000 * statistics.median(steps):.0f} ms; server: "
          f"{page.locator('.run-timing').inner_text()}")

    # Play in its thread, drawing every quarter, for 20 quarters while the mouse reads plots
    _select(page, "speed", "4 quarters/s")
    _button(page, "Play").click()
    box = page.locator(".chart-grid .vega-chart canvas").first.bounding_box()
    for x in np.linspace(0.2, 0.9, 12):  # reading values while the thread steps
        page.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(150)
    page.wait_for_function("Number(document.querySelector('.run-status').innerText"
                           ".split(' ')[1]) >= 20", timeout=UI_TIMEOUT)
    _button(page, "Pause").click()
    expect(_button(page, "Play")).to_be_enabled(timeout=UI_TIMEOUT)
    quarter = int(page.locator(".run-status").inner_text().split()[1])
    _drawn(page, quarter)
    expect(page.locator(".v-alert.error")).to_have_count(0)
    assert "Traceback" not in page.locator("body").inner_text()
    assert not problems, problems

    # from quarter 0 to the horizon at full speed: it stops there
    _reset(page)
    _select(page, "speed", "fastest")
    horizon = int(page.locator(".run-status").inner_text().split()[3])
    start = time.perf_counter()
    _button(page, "Play").click()
    _drawn(page, horizon)
    elapsed = time.perf_counter() - start
    expect(page.locator(".run-timing")).to_contain_text("Play:")
    print(f"Play from quarter 0 to {horizon} in the browser: {elapsed:.1f} s; server: "
          f"{page.locator('.run-timing').inner_text()}")
    expect(page.locator(".run-status")).to_contain_text(f"Quarter {horizon} / {horizon} ")
    expect(_button(page, "Play")).to_be_disabled()
    expect(_button(page, "Step")).to_be_disabled()
    last = page.evaluate("""Array.from(document.querySelectorAll('.vega-chart'))
        .filter(c => c.dataset.kind === 'series').map(c => Math.max(
            ...c.vegaView.data('series').map(r => r.quarter)))""")
    assert last == [horizon] * len(DEFAULT_OUTPUTS)
    assert _table(page, "outcomes")["Quarter"] == [str(horizon)] * 2
    _shoot(page, "end_of_run_1400.png")
    assert not problems, problems


def test_many_seeds_run_in_the_background_and_draw_bands(served_page, page):
    problems = _open(page, served_page)
    page.get_by_role("tab", name="Many seeds").click()
    _button(page, "5").click()  # 10 by default; 5 to keep the test short
    start = time.perf_counter()
    _button(page, "Run seeds").click()
    status = page.locator(".seed-status")
    expect(status).to_contain_text("Running", timeout=UI_TIMEOUT)
    page.get_by_role("tab", name="One run").click()  # the page stays usable meanwhile
    _timed_step(page, 1)
    page.get_by_role("tab", name="Many seeds").click()
    expect(status).to_contain_text("Finished: 5 of 5 seeds", timeout=180_000)
    print(f"\nFive seeds of A and B (sokol) in the background: "
          f"{time.perf_counter() - start:.1f} s ({status.inner_text()})")
    _drawn(page, int(page.locator(".run-status").inner_text().split()[3]),
           count=2 * len(DEFAULT_OUTPUTS))
    bands = page.evaluate("""Array.from(document.querySelectorAll('.vega-chart'))
        .filter(c => c.dataset.kind === 'band').map(c => c.vegaView.data('series')
        .filter(r => r.mean !== null).map(r => [r.lo, r.mean, r.hi]))""")
    assert len(bands) == len(DEFAULT_OUTPUTS)
    lo, mean, hi = np.concatenate([np.array(b, dtype=float) for b in bands]).T
    assert np.all(lo <= mean + 1e-9) and np.all(mean <= hi + 1e-9)
    assert np.mean(lo < hi) > 0.5  # the seeds differ: the band has a width
    expect(page.locator(".vega-chart[data-kind=difference]")).to_have_count(
        len(DEFAULT_OUTPUTS))
    expect(page.locator(".seed-table")).to_contain_text("95% CI")
    _shoot(page, "many_seeds_1400.png")
    assert not problems, problems


PARAMETERS = ["town=sokol", "scenario=top_down", "seed=4", "tased.enabled=false",
              "cluster.management_quality=0.8", "urban.investment_per_step=12.0"]


@pytest.mark.slow
def test_a_saved_parameter_set_reproduces_the_run_through_tased_sim(served_page, page,
                                                                    tmp_path):
    problems = _open(page, served_page)
    page.get_by_text("…or paste one").click()
    page.get_by_label("Parameter set (YAML)").fill(yaml.safe_dump(PARAMETERS))
    _button(page, "Load pasted").click()
    expect(page.locator(".param-message")).to_contain_text("Loaded", timeout=UI_TIMEOUT)
    expect(page.locator(".lever-management_quality input[type=text]")).to_have_value("0.8")
    expect(page.locator(".pending-warning")).to_have_count(0)  # the loaded set is running
    for quarter in range(1, 5):
        _timed_step(page, quarter)
    yaml_path = tmp_path / "saved.yaml"
    yaml_path.write_text(_download(page, "Save A"))
    assert yaml.safe_load(yaml_path.read_text()) == PARAMETERS
    rows = list(csv.DictReader(io.StringIO(_download(page, "Records of A and B (CSV)"))))
    page_a = [r for r in rows if r["run"] == "A"]

    # the command the parameter file documents, as a student would type it
    run_dir = tmp_path / "cli"
    done = subprocess.run(
        f"sed -n 's/^- //p' {yaml_path} | xargs {Path(sys.executable).parent}/tased-sim "
        f"hydra.run.dir={run_dir}", shell=True, cwd=ROOT, capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stderr
    cli = pd.read_parquet(run_dir / "model.parquet")
    names = [n for n in page_a[0] if n in cli.columns and n not in ("scenario", "town")]
    np.testing.assert_allclose(cli[names].iloc[:len(page_a)].to_numpy(dtype=float),
                               [[float(r[n]) for n in names] for r in page_a], rtol=1e-12,
                               equal_nan=True)
    assert not problems, problems
