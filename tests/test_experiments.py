"""Experiments end to end: tiny versions of every experiment config through the real
`tased-experiment` and `tased-aggregate` commands, failures, resuming, serial = parallel."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.output import config_hash
from simulation.outputs import BY_NAME as REPORTERS
from simulation.presets import options
from test_hostile_support import FAILING_CELL, inject

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
STEPS = 8
SEEDS = 2
TINY = [f"steps={STEPS}", f"experiment.replications={SEEDS}", "experiment.formats=[png]",
        "experiment.workers=1"]


def command(name: str) -> list[str]:
    script = BIN / name
    if script.exists():
        return [str(script)]
    module = {"tased-experiment": "experiments.sweep", "tased-aggregate": "experiments.aggregate"}
    return [sys.executable, "-m", module[name]]


def run(name: str, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*command(name), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={**os.environ, **(env or {})})


def sweep(tmp_path: Path, experiment: str, *args: str, out: str = "out",
          env: dict | None = None):
    """Run an experiment into tmp_path/out; returns (result, sweep directory)."""
    res = run("tased-experiment", f"experiment={experiment}", *args,
              f"experiment.out_dir={tmp_path / out}", cwd=tmp_path, env=env)
    return res, tmp_path / out / experiment / TOWNS.get(experiment, "sokol")


def finished_runs(sweep_dir: Path) -> dict[Path, tuple[int, int]]:
    """run.json of every finished run with its inode and modification time."""
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(sweep_dir.glob("runs/*/seed*/run.json"))}


# (experiment, extra overrides, swept parameter columns, cells, a phrase of its answer,
#  the figure its analysis draws)
EXPERIMENTS = [
    ("scenario_comparison", [], [], 6, "Each scenario against the baseline", None),
    ("synergy", [], [], 4, "Interaction effect on employment entropy", "synergy_effects"),
    ("support_withdrawal", ["scenario=top_down,business_led", "cluster.support_end_step=4,6",
                            "cluster.management_quality=0.6", "cluster.running_cost=1.0,8.0"],
     ["cluster.running_cost", "cluster.support_end_step"], 8, "still exists at quarter 8",
     "survival_by_running_cost"),
    ("critical_mass", ["firm_base.scale=0.5,1.0", "entry.investor_rate=0.6,1.2"],
     ["entry.investor_rate", "firm_base.scale"], 4, "threshold", "critical_mass"),
    ("focus_vs_dissipation", ["scenario=top_down"], ["cluster.priority_rule"], 2,
     "location_quotient minus all_sectors", "focus_differences"),
    ("cfe_shock", ["scenario=baseline,top_down", "shock.step=3", "shock.duration_steps=2"],
     [], 2, "unemployment rises by", "shock_paths"),
    ("founding_map", ["cluster.management_quality=0.1,0.9", "cluster.running_cost=1.0,64.0"],
     ["cluster.management_quality", "cluster.running_cost"], 4, "at least half of the runs",
     "founding_map"),
    ("validation", ["experiment.options.quarter_residents=4",
                    "experiment.options.quarter_investment=8"],
     ["tased.infrastructure_per_step"], 2, "of the fact", None),
]
TOWNS = {"validation": "chelny"}  # experiments whose preset is not the default town


#: experiments with their own end-to-end tests (a design or a loop of their own)
COVERED_ELSEWHERE = {"sensitivity": "test_sensitivity.py",
                     "sensitivity_sobol": "test_sensitivity.py",
                     "optimise": "test_optimise.py", "claims": "test_claims.py",
                     "portfolio": "test_portfolio.py"}


def test_every_experiment_config_is_covered():
    assert sorted([e[0] for e in EXPERIMENTS] + list(COVERED_ELSEWHERE)) == options("experiment")
    here = Path(__file__).parent
    for name, test in COVERED_ELSEWHERE.items():
        assert f"experiment={name}" in (here / test).read_text(), (name, test)


@pytest.mark.parametrize("experiment, extra, params, cells, phrase, figure", EXPERIMENTS,
                         ids=[e[0] for e in EXPERIMENTS])
def test_tiny_experiment_writes_table_figures_and_report(tmp_path, experiment, extra, params,
                                                         cells, phrase, figure):
    res, out = sweep(tmp_path, experiment, *TINY, *extra)
    assert res.returncode == 0, res.stderr
    assert f"report: {out / 'report.md'}" in res.stdout
    assert f"{cells * SEEDS}/{cells * SEEDS} runs done" in res.stderr and "ETA" in res.stderr
    assert "Warning" not in res.stderr

    table = pd.read_parquet(out / "table.parquet")
    assert len(table) == cells * SEEDS * (STEPS + 1)
    assert {"cell", "scenario", "town", "seed", "step", *params, *REPORTERS} <= set(table.columns)
    assert table.groupby("cell")["seed"].unique().map(sorted).map(list).tolist() == \
        [[0, 1]] * cells  # the same seeds in every cell
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == cells * SEEDS
    assert {"public_cost", "cost_federal", "cost_infrastructure", "non_cfe_jobs_change",
            *params} <= set(summary.columns)

    report = (out / "report.md").read_text()
    for heading in ("## Answer", "## What was run", "## Key outcomes", "## Public cost (Q7)",
                    "## Figures"):
        assert heading in report
    assert phrase in report
    assert f"configs/experiment/{experiment}.yaml" in report and "seeds 0-1" in report
    for stem in ["final_outcomes", "public_cost", "network", figure]:
        if stem is not None:
            assert (out / "figures" / f"{stem}.png").stat().st_size > 10_000
            assert f"figures/{stem}.png" in report
    for link in [x.split("](")[1].split(")")[0] for x in report.splitlines() if x.startswith("![")]:
        assert (out / link).exists()


def test_main_job_figures_come_as_png_and_svg_with_paired_differences(tmp_path):
    res, out = sweep(tmp_path, "scenario_comparison", f"steps={STEPS}",
                     f"experiment.replications={SEEDS}", "scenario=baseline,joint",
                     "experiment.workers=2", "experiment.formats=[png,svg]")
    assert res.returncode == 0, res.stderr
    for stem in ["timeseries", "final_outcomes", "paired_differences", "public_cost", "network"]:
        assert (out / "figures" / f"{stem}.png").exists()
        assert (out / "figures" / f"{stem}.svg").read_text().lstrip().startswith("<?xml")
    report = (out / "report.md").read_text()
    assert "## Compared with baseline on the same seeds" in report
    assert "| joint |" in report


def test_failing_run_is_recorded_and_the_others_are_aggregated(tmp_path):
    # the model raises in every run of the cell with management quality 0.9 (fault injection)
    env = inject(tmp_path / "inject", FAILING_CELL)
    res, out = sweep(tmp_path, "scenario_comparison", *TINY, "scenario=top_down",
                     "cluster.management_quality=0.6,0.9", env=env)
    assert res.returncode == 1
    assert "2 run(s) failed" in res.stderr and "injected failure of the model" in res.stderr
    assert "cluster.management_quality=0.9__scenario=top_down__steps=8/seed0" in res.stderr
    assert len([x for x in res.stderr.splitlines() if x.startswith("error:")]) == 1
    bad = out / "runs" / "cluster.management_quality=0.9__scenario=top_down__steps=8"
    for seed in range(SEEDS):
        failed = json.loads((bad / f"seed{seed}" / "failed.json").read_text())
        assert "injected failure of the model" in failed["error"]
        assert failed["config"]["cluster"]["management_quality"] == 0.9
        assert failed["seed"] == seed and not (bad / f"seed{seed}" / "run.json").exists()
    good = out / "runs" / "cluster.management_quality=0.6__scenario=top_down__steps=8"
    assert all((good / f"seed{s}" / "run.json").exists() for s in range(SEEDS))

    table = pd.read_parquet(out / "table.parquet")
    assert set(table["cluster.management_quality"]) == {0.6}
    assert len(table) == SEEDS * (STEPS + 1)
    failures = pd.read_csv(out / "failures.csv")
    assert len(failures) == SEEDS and set(failures["cluster.management_quality"]) == {0.9}
    assert "## Failed runs" in (out / "report.md").read_text()

    # the standalone command rebuilds everything from the directory alone
    for name in ("table.parquet", "summary.csv", "report.md"):
        (out / name).unlink()
    agg = run("tased-aggregate", str(out), "--no-figures", cwd=tmp_path)
    assert agg.returncode == 0, agg.stderr
    assert "failures.csv (2 failed runs)" in agg.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "table.parquet"), table)
    assert "## Failed runs" in (out / "report.md").read_text()

    # without the fault, the same command runs the failed runs again and only them
    before = finished_runs(out)
    res, _ = sweep(tmp_path, "scenario_comparison", *TINY, "scenario=top_down",
                   "cluster.management_quality=0.6,0.9")
    assert res.returncode == 0, res.stderr
    assert f"({len(before)} already finished, skipped)" in res.stderr
    after = finished_runs(out)
    assert len(after) == 2 * SEEDS and {p: after[p] for p in before} == before
    assert not (out / "failures.csv").exists()


def test_a_value_out_of_range_in_one_cell_stops_the_sweep_before_anything_runs(tmp_path):
    res, out = sweep(tmp_path, "scenario_comparison", *TINY, "scenario=top_down",
                     "cluster.management_quality=0.6,1.5")
    assert res.returncode == 2
    assert res.stderr.startswith("error: cluster.management_quality: 1.5 is outside the "
                                 "accepted range [0.0, 1.0]")
    assert "cell cluster.management_quality=1.5__scenario=top_down__steps=8" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_aggregate_rejects_a_directory_that_is_not_a_sweep(tmp_path):
    res = run("tased-aggregate", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 2 and "not a sweep directory" in res.stderr


def test_interrupted_sweep_resumes_without_recomputing_finished_runs(tmp_path):
    args = ["steps=30", "experiment.replications=8", "experiment.workers=1",
            "experiment.formats=[png]", "scenario=baseline,tased_only"]
    out_root = tmp_path / "out"
    proc = subprocess.Popen([*command("tased-experiment"), "experiment=scenario_comparison",
                             *args, f"experiment.out_dir={out_root}"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    out = out_root / "scenario_comparison" / "sokol"
    deadline = time.monotonic() + 120
    while len(finished_runs(out)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # a crash: no chance to clean up
    proc.wait()
    before = finished_runs(out)
    assert 3 <= len(before) < 16, "the sweep was not interrupted mid-way"

    res = run("tased-experiment", "experiment=scenario_comparison", *args,
              f"experiment.out_dir={out_root}", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"({len(before)} already finished, skipped)" in res.stderr
    after = finished_runs(out)
    assert len(after) == 16
    assert {p: after[p] for p in before} == before  # same inode, same mtime: untouched
    recomputed = (out / "progress.log").read_text().splitlines()
    assert len(recomputed) == 16 - len(before)
    assert len(pd.read_parquet(out / "table.parquet")) == 16 * 31

    again = run("tased-experiment", "experiment=scenario_comparison", *args,
                f"experiment.out_dir={out_root}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "(16 already finished, skipped)" in again.stderr
    assert finished_runs(out) == after


def test_a_finished_run_of_another_configuration_is_never_overwritten(tmp_path):
    res, out = sweep(tmp_path, "scenario_comparison", *TINY, "scenario=baseline")
    assert res.returncode == 0, res.stderr
    # as if seed 1 had been run with another configuration (a sound run, hash and all)
    path = out / "runs" / "scenario=baseline__steps=8" / "seed1" / "run.json"
    meta = json.loads(path.read_text())
    meta["config"]["urban"]["investment_per_step"] += 1.0
    meta["config_hash"] = config_hash(meta["config"])
    path.write_text(json.dumps(meta))
    before = finished_runs(out)
    res, _ = sweep(tmp_path, "scenario_comparison", *TINY, "scenario=baseline")
    assert res.returncode == 1
    assert "1 run(s) left out of the report" in res.stderr
    assert "scenario=baseline__steps=8/seed1: its configuration" in res.stderr
    assert "is not this sweep's" in res.stderr
    assert finished_runs(out) == before and json.loads(path.read_text()) == meta
    assert len(pd.read_csv(out / "summary.csv")) == SEEDS - 1  # left out of the report


def test_a_corrupt_finished_run_is_moved_aside_and_run_again(tmp_path):
    res, out = sweep(tmp_path, "scenario_comparison", *TINY, "scenario=baseline")
    assert res.returncode == 0, res.stderr
    table = (out / "table.parquet").read_bytes()
    run_dir = out / "runs" / "scenario=baseline__steps=8" / "seed1"
    model = (run_dir / "model.parquet").read_bytes()
    (run_dir / "model.parquet").write_bytes(model[: len(model) // 2])  # truncated
    res, _ = sweep(tmp_path, "scenario_comparison", *TINY, "scenario=baseline")
    assert res.returncode == 0, res.stderr
    assert "scenario=baseline__steps=8/seed1 is corrupt (model.parquet does not match" \
        in res.stderr
    assert "(1 already finished, skipped)" in res.stderr
    assert (run_dir / "model.parquet").read_bytes() == model
    assert (out / "table.parquet").read_bytes() == table
    aside = list((out / "corrupt").glob("*/scenario=baseline__steps=8/seed1/model.parquet"))
    assert len(aside) == 1 and aside[0].read_bytes() == model[: len(model) // 2]


def test_serial_and_parallel_sweeps_give_identical_tables(tmp_path):
    common = [f"steps={STEPS}", "experiment.replications=3", "experiment.formats=[png]",
              "scenario=baseline,cluster_only,joint"]
    serial, a = sweep(tmp_path, "scenario_comparison", *common, "experiment.workers=1",
                      out="serial")
    parallel, b = sweep(tmp_path, "scenario_comparison", *common, "experiment.workers=2",
                        out="parallel")
    assert serial.returncode == 0, serial.stderr
    assert parallel.returncode == 0, parallel.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(a / "table.parquet"),
                                  pd.read_parquet(b / "table.parquet"))
    pd.testing.assert_frame_equal(pd.read_csv(a / "summary.csv"), pd.read_csv(b / "summary.csv"))
