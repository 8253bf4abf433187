"""The command line, run for real in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simulation.outputs import BY_NAME as REPORTERS

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "experiments.run"]
ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_one_run_writes_tables_config_seed_and_version(tmp_path):
    out = tmp_path / "run"
    res = run_cli("scenario=top_down", "town=sokol", "seed=7", "cluster.management_quality=0.8",
                  "steps=24", "output.firm_steps=[0,12]", f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    assert "top_down / sokol / seed 7: CFE share" in res.stdout
    model = pd.read_parquet(out / "model.parquet")
    assert list(model["step"]) == list(range(25))
    assert set(REPORTERS) <= set(model.columns)
    firms = pd.read_parquet(out / "firms.parquet")
    assert sorted(firms["step"].unique()) == [0, 12, 24]
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["cluster"]["management_quality"] == 0.8 and cfg["seed"] == 7
    assert cfg["cluster"]["founder"] == "authorities"
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 7 and meta["version"] and meta["scenario"] == "top_down"
    assert meta["summary"]["cfe_share"] == pytest.approx(model["cfe_share"].iloc[-1])


def test_same_command_gives_identical_tables(tmp_path):
    for name in ("a", "b"):
        res = run_cli("seed=3", "steps=12", f"hydra.run.dir={tmp_path / name}")
        assert res.returncode == 0, res.stderr
    a = pd.read_parquet(tmp_path / "a" / "model.parquet")
    b = pd.read_parquet(tmp_path / "b" / "model.parquet")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("override, needle", [
    ("steps=abc", "steps"),
    ("steps=0", "steps: 0 is outside the accepted range [1, 100000]"),
    ("cluster.management_quality=1.5", "cluster.management_quality: 1.5 is outside"),
    ("cluster.member_fee=-2", "cluster.member_fee: -2.0 is outside"),
    ("urban.investment_per_step=-1", "urban.investment_per_step: -1.0 is outside"),
    ("tased.start_step=60", "tased.start_step: 60 must be below steps"),
    ("town=huge", "Could not find 'town/huge'"),
    ("scenario=nope", "Could not find 'scenario/nope'"),
    ("cluster.founder=king", "cluster.founder"),
    ("nfirms=3", "nfirms"),
    ("+cluster.nfirms=3", "cluster.nfirms: unknown key"),
    ("+town.sectors.0.colour=red", "colour"),
])
def test_bad_input_one_line_exit_2_no_output(tmp_path, override, needle):
    out = tmp_path / "run"
    res = run_cli(override, f"hydra.run.dir={out}")
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert needle in lines[0]
    assert not out.exists()
    assert res.stdout == ""
