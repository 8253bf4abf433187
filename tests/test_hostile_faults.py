"""Faults: kill -9 of a sweep at several moments (the resumed result is byte-identical to an
uninterrupted one), a killed worker (reported as failed, resumable), SIGTERM/SIGINT/SIGKILL of
the main process (no worker outlives it by more than a few seconds), a full disk and a
read-only mount (one error line, finished runs intact), the basic launcher, and memory over
2,000 runs in one process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from experiments.output import verify_run
from test_hostile_support import (DISK_FULL, FAILING_CELL, TINY, alive, assert_one_error,
                                  descendants, error_lines, finished, inject, kill_group,
                                  needs_mount, read_only, reap, results, run, start,
                                  stop_a_running_worker, tmpfs, wait_for)

pytestmark = pytest.mark.slow
#: 2 cells x 6 seeds of 24 quarters: long enough to be interrupted mid-way
ARGS = ["steps=24", "experiment.replications=6", "experiment.formats=[png]",
        "scenario=baseline,tased_only"]
RUNS = 12
ORPHAN_GRACE = 5.0  # seconds a worker may outlive the main process


def sweep_dir(root):
    return root / "out" / "scenario_comparison" / "sokol"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same sweep, never interrupted, one worker."""
    root = tmp_path_factory.mktemp("reference")
    res = run("tased-experiment", *ARGS, "experiment.workers=1", f"experiment.out_dir={root}/out",
              cwd=root, timeout=600)
    assert res.returncode == 0, res.stderr
    return results(sweep_dir(root))


def n_finished(d) -> int:
    return len(list(d.glob("runs/*/seed*/run.json")))


MOMENTS = {
    "before the first run": lambda d: (d / "sweep.json").exists(),
    "while a run is written": lambda d: any(d.glob("runs/*/seed[1-9]/.running")),
    "after 3 runs": lambda d: n_finished(d) >= 3,
    "during aggregation": lambda d: n_finished(d) == RUNS,
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_kill_9_at_any_moment_then_resume_gives_identical_results(tmp_path, reference, moment):
    d = sweep_dir(tmp_path)
    proc = start("tased-experiment", *ARGS, "experiment.workers=2",
                 f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    try:
        assert wait_for(lambda: MOMENTS[moment](d) or proc.poll() is not None, timeout=300)
        kids = descendants(proc.pid)
        kill_group(proc)
        assert proc.returncode == -signal.SIGKILL, "the sweep ended before the kill"
        assert not (d / "report.md").exists()
        assert wait_for(lambda: not any(alive(k) for k in kids), timeout=ORPHAN_GRACE)
    finally:
        reap(proc)
    res = run("tased-experiment", *ARGS, "experiment.workers=1",
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr
    assert results(d) == reference
    assert not list(d.rglob(".*.parquet.*")) and not list(d.rglob(".running"))


@pytest.mark.parametrize("sig, code", [(signal.SIGKILL, -signal.SIGKILL),
                                       (signal.SIGTERM, 128 + signal.SIGTERM),
                                       (signal.SIGINT, 128 + signal.SIGINT)],
                         ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_killing_the_main_process_leaves_no_worker_behind(tmp_path, sig, code):
    d = sweep_dir(tmp_path)
    proc = start("tased-experiment", *ARGS, "experiment.workers=2",
                 f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    try:
        assert wait_for(lambda: len(list(d.glob("runs/*/seed*/.running"))) >= 2
                        or proc.poll() is not None, timeout=300)
        kids = descendants(proc.pid)
        assert kids, "no worker process was started"
        os.kill(proc.pid, sig)  # the main process only, as a parent killed from outside
        proc.wait(timeout=60)
        gone = time.monotonic()
        assert wait_for(lambda: not any(alive(k) for k in kids), timeout=ORPHAN_GRACE), \
            [k for k in kids if alive(k)]
        assert time.monotonic() - gone < ORPHAN_GRACE
    finally:
        reap(proc)
    assert proc.returncode == code
    stderr = (tmp_path / "tased-experiment.err").read_text()
    assert "Traceback" not in stderr
    if sig != signal.SIGKILL:
        errors = error_lines(stderr)
        assert errors == [f"error: interrupted ({signal.Signals(sig).name}); finished runs are "
                          f"kept; re-run the same command to resume"], stderr
    for path in finished(d):  # whatever finished is whole
        assert verify_run(path.parent, path.parent.parent.name,
                          int(path.parent.name[4:]), None).status == "ok"


def test_a_killed_worker_is_reported_as_failed_and_resumable(tmp_path, reference):
    d = sweep_dir(tmp_path)
    proc = start("tased-experiment", *ARGS, "experiment.workers=2",
                 f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    try:
        pid, victim = stop_a_running_worker(d, proc)
        os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=300)
    finally:
        reap(proc)
    stderr = (tmp_path / "tased-experiment.err").read_text()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and "TerminatedWorkerError" not in stderr
    errors = error_lines(stderr)
    assert len(errors) == 1 and "a worker process was killed while running" in errors[0]
    assert victim in errors[0] and "re-run the same command to resume" in errors[0]
    failed = json.loads((d / "runs" / victim / "failed.json").read_text())
    assert failed["error_type"] == "WorkerKilled"
    assert (d / "report.md").exists() and (d / "failures.csv").exists()
    res = run("tased-experiment", *ARGS, "experiment.workers=2",
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr
    assert results(d) == reference and not (d / "failures.csv").exists()


# --------------------------------------------------------------------------- disks


def check_intact(d, at_least: int) -> int:
    done = finished(d)
    assert len(done) >= at_least
    for path in done:
        assert verify_run(path.parent, path.parent.parent.name, int(path.parent.name[4:]),
                          None).status == "ok"
    return len(done)


@needs_mount
def test_a_disk_that_fills_during_a_sweep_is_one_error_line(tmp_path):
    with tmpfs(tmp_path / "disk", "400k") as disk:
        args = [*TINY, "experiment.replications=12", f"experiment.out_dir={disk}"]
        res = run("tased-experiment", *args, cwd=tmp_path)
        assert_one_error(res, 1, "No space left on device", "finished runs are kept",
                         "re-run the same command to resume")
        d = disk / "scenario_comparison" / "sokol"
        done = check_intact(d, 1)
        assert done < 12
        subprocess.run(["mount", "-o", "remount,size=20m", str(disk)], check=True)
        res = run("tased-experiment", *args, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert f"({done} already finished, skipped)" in res.stderr
        check_intact(d, 12)


def test_a_full_disk_in_the_workers_is_one_error_line(tmp_path):
    # injected: every write of seed 2 and later fails with ENOSPC, in both worker processes
    env = inject(tmp_path / "inject", DISK_FULL.format(full_from=2))
    args = [*TINY[:-2], "experiment.workers=2", "experiment.replications=4",
            "scenario=baseline,tased_only", f"experiment.out_dir={tmp_path}/out"]
    res = run("tased-experiment", *args, cwd=tmp_path, env=env)
    assert_one_error(res, 1, "No space left on device", "seed2/", "finished runs are kept")
    d = sweep_dir(tmp_path)
    assert check_intact(d, 4) == 4
    res = run("tased-experiment", *args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "(4 already finished, skipped)" in res.stderr
    check_intact(d, 8)


@needs_mount
def test_tased_sim_on_a_full_disk_is_one_error_line_and_leaves_nothing(tmp_path):
    with tmpfs(tmp_path / "disk", "48k") as disk:
        res = run("tased-sim", "steps=4", f"hydra.run.dir={disk}/run", cwd=tmp_path)
        assert_one_error(res, 1, "No space left on device", "nothing was kept")
        assert not (disk / "run").exists()


@needs_mount
@pytest.mark.parametrize("name, key", [("tased-sim", "hydra.run.dir"),
                                       ("tased-experiment", "hydra.sweep.dir")])
def test_a_read_only_output_directory_is_refused_before_anything_runs(tmp_path, name, key):
    (tmp_path / "ro").mkdir()
    with read_only(tmp_path / "ro"):
        res = run(name, *(TINY if name == "tased-experiment" else ["steps=4"]),
                  f"{key}={tmp_path}/ro/out", cwd=tmp_path)
    assert_one_error(res, 2, f"{key}: {tmp_path}/ro/out cannot be written (Read-only file "
                             f"system)")


#: every directory whose path holds READONLY behaves as on a read-only mount
READ_ONLY = """
import errno, os, tempfile
_mkdtemp, _mkstemp = tempfile.mkdtemp, tempfile.mkstemp
def _check(dir):
    if dir is not None and "READONLY" in str(dir):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
def mkdtemp(suffix=None, prefix=None, dir=None):
    _check(dir)
    return _mkdtemp(suffix, prefix, dir)
def mkstemp(suffix=None, prefix=None, dir=None, text=False):
    _check(dir)
    return _mkstemp(suffix, prefix, dir, text)
tempfile.mkdtemp, tempfile.mkstemp = mkdtemp, mkstemp
"""


@pytest.mark.parametrize("name", ["tased-sim", "tased-experiment", "tased-aggregate"])
def test_a_read_only_directory_is_refused_without_a_mount_too(tmp_path, name):
    env = inject(tmp_path / "inject", READ_ONLY)
    target = tmp_path / "READONLY"
    if name == "tased-aggregate":
        res = run("tased-experiment", *TINY, "experiment.replications=1",
                  f"hydra.sweep.dir={target}", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        before = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
        res = run(name, str(target), cwd=tmp_path, env=env)
        assert_one_error(res, 2, f"sweep directory: {target} cannot be written (Read-only file "
                                 f"system)")
        assert {p: p.stat().st_mtime_ns for p in target.rglob("*")} == before
        return
    target.mkdir()
    key = "hydra.run.dir" if name == "tased-sim" else "hydra.sweep.dir"
    args = ["steps=4"] if name == "tased-sim" else TINY
    res = run(name, *args, f"{key}={target}/out", cwd=tmp_path, env=env)
    assert_one_error(res, 2, f"{key}: {target}/out cannot be written (Read-only file system)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["READONLY", "inject"]
    assert not any(target.iterdir())


def test_a_failing_model_in_tased_sim_is_exit_1_and_leaves_nothing(tmp_path):
    env = inject(tmp_path / "inject", FAILING_CELL)
    res = run("tased-sim", "steps=4", "cluster.management_quality=0.9",
              f"hydra.run.dir={tmp_path}/run", cwd=tmp_path, env=env)
    assert_one_error(res, 1, "the run failed: ValueError: injected failure of the model")
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- launchers, memory


def test_the_basic_launcher_is_selectable_and_gives_the_same_tables(tmp_path):
    common = [*TINY[:-2], "experiment.replications=2", "scenario=baseline,tased_only"]
    basic = run("tased-experiment", *common, "hydra/launcher=basic",
                f"experiment.out_dir={tmp_path}/basic", cwd=tmp_path)
    assert basic.returncode == 0, basic.stderr
    assert "1 worker (hydra/launcher=basic)" in basic.stderr
    joblib = run("tased-experiment", *common, "experiment.workers=2",
                 f"experiment.out_dir={tmp_path}/joblib", cwd=tmp_path)
    assert joblib.returncode == 0, joblib.stderr
    assert "2 worker(s)" in joblib.stderr
    assert results(tmp_path / "basic" / "scenario_comparison" / "sokol") == \
        results(tmp_path / "joblib" / "scenario_comparison" / "sokol")


MEMORY = """
import gc, json, os
from experiments.output import simulate
from simulation.presets import load_config

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

cfg = load_config("sokol", "baseline", {"steps": 2})
for seed in range(300):  # warm-up: imports, caches, allocator pools
    cfg.seed = seed
    simulate(cfg)
gc.collect()
before = rss()
for seed in range(300, 2300):
    cfg.seed = seed
    simulate(cfg)
gc.collect()
print(json.dumps({"before": before, "after": rss()}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_memory_is_flat_over_2000_runs_in_one_process(tmp_path):
    res = subprocess.run([sys.executable, "-c", MEMORY], capture_output=True, text=True,
                         timeout=900, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rss = json.loads(res.stdout)
    growth = (rss["after"] - rss["before"]) / rss["before"]
    assert growth < 0.05, f"RSS grew {growth:.1%} over 2,000 runs ({rss})"
