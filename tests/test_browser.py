"""The interactive page served by `solara run`, driven in Debian's chromium.

Needs the `chromium` package (apt-get install -y chromium); the browser is never downloaded.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
STARTUP_TIMEOUT = 90  # seconds for the server to answer
UI_TIMEOUT = 60_000  # milliseconds for the page to show a change


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's package "
                    "(apt-get install -y chromium) or set CHROMIUM to its path")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def base_url():
    # Replaces pytest-playwright's fallback fixture, an instance-method session fixture that
    # pytest >= 9.2 warns about (an error here, where warnings are errors).
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_page(tmp_path_factory):
    """`solara run app/app.py` in a subprocess; yields its address."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "solara.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "solara", "run", "app/app.py", "--host", "127.0.0.1",
             "--port", str(port), "--production"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"solara exited with {server.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"solara did not answer within {STARTUP_TIMEOUT} s:\n"
                            f"{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _plot_sources(page) -> list[str]:
    return page.locator(".vue-grid-item img").evaluate_all("imgs => imgs.map(i => i.src)")


def _step(page, times: int, start: int) -> None:
    for t in range(start + 1, start + times + 1):
        page.get_by_role("button", name="Step").click()
        page.get_by_text(f"Time: {float(t)}").wait_for(timeout=UI_TIMEOUT)


def _reset(page) -> None:
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("Time: 0.0").wait_for(timeout=UI_TIMEOUT)


def _summary_row(page, name: str):
    """The value cells of a row of the summary table: A, then B."""
    row = page.locator("tr", has=page.locator("td", has_text=re.compile(f"^{name}$")))
    return row.locator("td:not(:first-child)")


def _cost(page) -> float:
    """A's cumulative public cost in mln RUB, as the summary table shows it."""
    text = _summary_row(page, "Public cost, cumulative").first.inner_text()
    return float(text.split()[0].replace(",", ""))


def _choose(page, label: str, option: str) -> None:
    """Pick an option of one of the page's select boxes (by its label)."""
    page.locator(".v-select", has=page.get_by_text(label, exact=True)) \
        .locator(".v-select__slot").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_page_steps_redraws_and_responds_to_a_lever(served_page, page, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 2200})  # the whole main area
    page.goto(served_page)
    page.locator(".vue-grid-item img").first.wait_for(timeout=UI_TIMEOUT)
    _reset(page)
    page.wait_for_function("n => document.querySelectorAll('.vue-grid-item img').length >= n",
                           arg=7, timeout=UI_TIMEOUT)
    before = _plot_sources(page)
    assert len(before) == 7  # network and six outcome plots

    _step(page, 3, start=0)
    page.wait_for_function(
        "old => Array.from(document.querySelectorAll('.vue-grid-item img'))"
        ".every((img, i) => img.src !== old[i])", arg=before, timeout=UI_TIMEOUT)
    expect(_summary_row(page, "Quarter")).to_have_text(["3", "3"], timeout=UI_TIMEOUT)
    expect(_summary_row(page, "TASED regime")).to_have_text(["on", "off"])  # top_down, baseline
    cost_with_tased = _cost(page)

    # Switch the TASED regime off (for A, and for B, which shares A's levers): no serviced
    # plots are built, so the public cost after three quarters is lower.
    _choose(page, "TASED regime", "off")
    _reset(page)
    _step(page, 3, start=0)
    expect(_summary_row(page, "Quarter")).to_have_text(["3", "3"], timeout=UI_TIMEOUT)
    expect(_summary_row(page, "TASED regime")).to_have_text(["off", "off"])
    assert _cost(page) < cost_with_tased

    shot = tmp_path / "app.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
