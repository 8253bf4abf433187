"""Launchers, chunks and designs: the same small sweep under the basic, joblib, submitit_local
and Ray launchers, each with a job killed mid-sweep and the same command run again, gives
byte-identical runs, table.parquet and summary.csv, without recomputing finished runs; the
SLURM preset's job array; chunk order and size; design cells (named, recorded, validated)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.chunks import auto_chunk_size, chunk_plan, chunk_runs, ordered_runs
from test_hostile_support import (alive, assert_one_error, finished, reap, results, run, start,
                                  stop_a_running_worker, wait_for)

pytestmark = pytest.mark.slow
#: 2 cells x 3 seeds of 12 quarters in 3 jobs of 2 runs
ARGS = ["steps=12", "experiment.replications=3", "experiment.formats=[png]",
        "scenario=baseline,tased_only", "experiment.chunk_size=2"]
RUNS = 6
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def sweep_dir(root: Path) -> Path:
    return root / "out" / "scenario_comparison" / "sokol"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep, never interrupted, in the command's own process."""
    root = tmp_path_factory.mktemp("reference")
    res = run("tased-experiment", *ARGS, "hydra/launcher=basic", f"experiment.out_dir={root}/out",
              cwd=root)
    assert res.returncode == 0, res.stderr
    assert "3 job(s) of up to 2 run(s)" in res.stderr
    return results(sweep_dir(root))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster():
    """One Ray head on this machine (`ray start --head --block`) for the Ray tests; stopped,
    with everything it started, by a SIGTERM to its own process."""
    port = _free_port()
    temp = Path(tempfile.mkdtemp(prefix="tr", dir="/tmp"))  # short: Ray's socket paths
    log = temp / "head.log"
    env = {**os.environ, **RAY_ENV}
    with open(log, "w") as out:
        head = subprocess.Popen([str(Path(sys.executable).parent / "ray"), "start", "--head",
                                 f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                                 "--disable-usage-stats", f"--temp-dir={temp}", "--block"],
                                stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        assert wait_for(lambda: "Ray runtime started" in log.read_text()
                        or head.poll() is not None, timeout=120), log.read_text()
        assert head.poll() is None, log.read_text()
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            reap(head)
        subprocess.run(["rm", "-rf", str(temp)], check=False)


LAUNCHERS = {
    "basic": ["hydra/launcher=basic"],
    "joblib": ["experiment.workers=2"],
    "submitit_local": ["hydra/launcher=submitit_local"],
    "ray": ["hydra/launcher=ray"],  # + the address of the shared Ray head
}


def _kill_a_running_job(d: Path, proc: subprocess.Popen) -> int:
    """Stop the process running a run (after one run has finished), then kill it -9."""
    assert wait_for(lambda: finished(d) or proc.poll() is not None, timeout=300)
    pid, _ = stop_a_running_worker(d, proc)
    os.kill(pid, signal.SIGKILL)
    return pid


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_each_launcher_resumes_a_killed_job_and_gives_identical_tables(tmp_path, reference,
                                                                      launcher, request):
    args = [*ARGS, *LAUNCHERS[launcher], f"experiment.out_dir={tmp_path}/out"]
    env = None
    if launcher == "ray":
        address = request.getfixturevalue("ray_cluster")
        args.append(f"hydra.launcher.ray.init.address={address}")
        env = RAY_ENV
    d = sweep_dir(tmp_path)
    proc = start("tased-experiment", *args, cwd=tmp_path, env=env)
    try:
        victim = _kill_a_running_job(d, proc)
        proc.wait(timeout=300)
    finally:
        reap(proc)
    err = (tmp_path / "tased-experiment.err").read_text()
    assert "Traceback" not in err, err
    if launcher == "basic":  # the job ran in the command's process: the command was killed
        assert victim == proc.pid and proc.returncode == -signal.SIGKILL
    elif launcher == "ray":  # Ray runs a task whose worker died again
        assert proc.returncode == 0, err
    else:
        assert proc.returncode == 1, err
        assert "a worker process was killed while running" in err
    assert wait_for(lambda: not alive(victim), timeout=10)
    before = finished(d)
    assert 0 < len(before) <= RUNS

    res = run("tased-experiment", *args, cwd=tmp_path, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    if len(before) < RUNS:
        assert f"({len(before)} already finished, skipped)" in res.stderr
    else:
        assert "nothing to run" in res.stderr
    after = finished(d)
    assert len(after) == RUNS and {p: after[p] for p in before} == before  # not recomputed
    assert results(d) == reference  # the runs' files, table.parquet and summary.csv
    assert not list(d.rglob(".running"))


def test_the_slurm_preset_submits_a_job_array_with_its_options(tmp_path):
    """No cluster here: a stand-in `sbatch` keeps the script submitit hands it and refuses."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text('#!/bin/sh\ncp "$1" "$SBATCH_COPY"\n'
                                    'echo "sbatch: error: no cluster here" >&2\nexit 1\n')
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    script = tmp_path / "array.sh"
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SBATCH_COPY": str(script)}
    res = run("tased-experiment", *ARGS[:-1], "hydra/launcher=slurm",
              "hydra.launcher.array_parallelism=3", "hydra.launcher.timeout_min=30",
              "hydra.launcher.mem_gb=2", "hydra.launcher.partition=short",
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path, env=env)
    assert_one_error(res, 1, "hydra/launcher=slurm failed", "no cluster here")
    assert "SLURM job array of at most 3 tasks at once on short" in res.stderr
    text = script.read_text()
    for line in ("#SBATCH --array=0-5%3", "#SBATCH --time=30", "#SBATCH --mem=2GB",
                 "#SBATCH --partition=short", "#SBATCH --cpus-per-task=1"):
        assert line in text, text
    assert f"{sweep_dir(tmp_path)}/jobs/.submitit/" in text
    # chunk_size 0 (automatic): about 4 jobs per array slot, at least one run each
    chunks = json.loads((sweep_dir(tmp_path) / "sweep.json").read_text())["chunks"]
    assert chunks["size"] == 1 and chunks["count"] == RUNS


def test_chunks_list_the_runs_seed_by_seed_and_cut_them_evenly():
    cells, seeds = ["a", "b", "c"], [0, 1]
    runs = ordered_runs(cells, seeds, done={("b", 0)})
    assert runs == [("a", 0), ("c", 0), ("a", 1), ("b", 1), ("c", 1)]
    manifest = {"cells": cells, "chunks": chunk_plan(cells, runs, 2)}
    assert manifest["chunks"]["count"] == 3
    assert [chunk_runs(manifest, k) for k in range(3)] == [runs[:2], runs[2:4], runs[4:]]
    with pytest.raises(ValueError, match="not a chunk of this sweep"):
        chunk_runs(manifest, 3)
    assert auto_chunk_size(120, 2, 4) == 15  # 8 jobs on 2 workers
    assert auto_chunk_size(120, 2, 4, all_at_once=True) == 60  # one job per CPU
    assert auto_chunk_size(57_420, 64, 4) == 225
    assert auto_chunk_size(0, 2, 4) == 1


DESIGN = ("experiment.design={name:list,cells:[{cluster.management_quality:0.2},"
          "{cluster.management_quality:0.8,urban.investment_per_step:3.0},{scenario:joint}]}")


def test_design_cells_are_named_recorded_and_tabulated(tmp_path):
    res = run("tased-experiment", "steps=6", "experiment.replications=2",
              "experiment.formats=[png]", "scenario=top_down", DESIGN,
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    d = sweep_dir(tmp_path)
    names = [f"scenario=top_down__steps=6__d000{i}" for i in range(3)]
    manifest = json.loads((d / "sweep.json").read_text())
    assert manifest["cells"] == names
    assert manifest["design"]["name"] == "list" and manifest["design"]["rows"] == 3
    assert len(manifest["design"]["hash"]) == 16
    cell = json.loads((d / "runs" / names[1] / "cell.json").read_text())
    assert cell["design"] == {"cluster.management_quality": 0.8,
                              "urban.investment_per_step": 3.0}
    assert cell["config"]["cluster"]["management_quality"] == 0.8
    joint = json.loads((d / "runs" / names[2] / "cell.json").read_text())
    assert joint["config"]["scenario"] == "joint"  # a group's name selects its preset
    assert joint["config"]["cluster"]["founder"] == "joint"
    summary = pd.read_csv(d / "summary.csv")
    assert {"cluster.management_quality", "urban.investment_per_step"} <= set(summary.columns)
    by_cell = summary.groupby("cell")["cluster.management_quality"].first()
    assert by_cell[names[0]] == 0.2 and by_cell[names[1]] == 0.8
    assert sorted(set(summary["scenario"])) == ["joint", "top_down"]
    table = pd.read_parquet(d / "table.parquet")
    assert set(table["urban.investment_per_step"].dropna()) == {3.0}


@pytest.mark.parametrize("design, needle", [
    ("{name:list,cells:[{cluster.management_quality:0.5},{cluster.management_quality:1.5}]}",
     "cluster.management_quality: 1.5 is outside the accepted range [0.0, 1.0] (cell "
     "scenario=baseline__steps=6__d0001; nothing was run)"),
    ("{name:list,cells:[{cluster.nonsense:1}]}", "cluster.nonsense"),
    ("{name:list,cells:[{seed:3}]}", "cell 0: seed cannot be set by a design"),
    ("{name:nope}", "experiment.design.name: 'nope' is not a design; accepted: list"),
    ("{name:list}", "experiment.design.cells: give a non-empty list"),
], ids=["range", "unknown key", "seed", "unknown design", "no cells"])
def test_a_bad_design_stops_the_sweep_before_anything_runs(tmp_path, design, needle):
    res = run("tased-experiment", "steps=6", "experiment.replications=1", "scenario=baseline",
              f"experiment.design={design}", f"experiment.out_dir={tmp_path}/out",
              cwd=tmp_path, timeout=120)
    assert_one_error(res, 2, needle)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("override, needle", [
    ("experiment.chunk_size=-1", "experiment.chunk_size: -1 is not accepted"),
    ("experiment.chunk=3", "experiment.chunk: 3 is not accepted: tased-experiment sets it"),
])
def test_chunk_settings_are_checked(tmp_path, override, needle):
    res = run("tased-experiment", "steps=6", "experiment.replications=1", override,
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path, timeout=120)
    assert_one_error(res, 2, needle)


def test_a_town_node_from_a_design_replaces_the_preset_town():
    """A design value that is a whole node (a synthetic town) replaces the preset's node, and
    the jobs rebuild the same configuration from cell.json."""
    from experiments.designs import DESIGNS
    from experiments.jobs import cell_hash, model_config, register_schemas
    from experiments.plan import plan_cells
    from experiments.cli import hydra_context
    from simulation.towns.national import national_sample

    town = national_sample(0, 1)[0]
    rows = [{"town": town.data["town"], "steps": 4}, {"town": "tagil"}]
    register_schemas()
    assert "list" in DESIGNS
    with hydra_context():
        cells, configs, design = plan_cells([["experiment=scenario_comparison"]], rows)
    first, second = list(cells)
    assert (first, second) == ("d0000", "d0001")
    assert cells[first]["params"] == {"town": town.town_id, "steps": 4}
    built = model_config(configs[first])
    assert built.town.name == town.town_id and built.steps == 4
    assert len(built.town.sectors) == len(town.data["town"]["sectors"])
    assert cell_hash(built) == cells[first]["hash"]
    assert model_config(configs[second]).town.name == "tagil"
    assert design[first]["town"]["name"] == town.town_id
