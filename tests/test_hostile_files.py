"""Damaged, foreign and mixed files in a sweep directory: `tased-aggregate` verifies every run
against its folder, the sweep's config hash and its checksums; a corrupt or foreign run is
left out (listed in failures.csv and the report) with one `error:` line and exit 1, never
counted silently; an unusable sweep directory is exit 2 with nothing written. `tased-experiment`
refuses a directory holding another experiment or configuration, naming both, and resumes a
damaged one: corrupt runs are moved aside and run again, foreign runs kept and reported."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest

from experiments.output import config_hash, file_checksum
from test_hostile_support import (TINY, assert_one_error, finished, needs_mount, read_only,
                                  results, run, run_files)

pytestmark = pytest.mark.slow
BASE = "scenario=baseline__steps=6"
OTHER = "scenario=tased_only__steps=6"
ARGS = [*TINY[:-1], "scenario=baseline,tased_only"]  # 2 cells x 2 seeds


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One finished sweep, aggregated; every test works on its own copy."""
    root = tmp_path_factory.mktemp("sweep")
    res = run("tased-experiment", *ARGS, f"experiment.out_dir={root}/out", cwd=root)
    assert res.returncode == 0, res.stderr
    return root / "out" / "scenario_comparison" / "sokol"


@pytest.fixture
def sweep_dir(made, tmp_path):
    copy = tmp_path / "sokol"
    shutil.copytree(made, copy)
    return copy


def aggregate(sweep_dir, *args):
    return run("tased-aggregate", str(sweep_dir), "--no-figures", *args, cwd=sweep_dir.parent)


def rewrite_run_json(run_dir, change) -> None:
    path = run_dir / "run.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def drop_column(run_dir, column: str) -> None:
    """A model.parquet without a column, its checksum updated (so only reading notices)."""
    path = run_dir / "model.parquet"
    pd.read_parquet(path).drop(columns=[column]).to_parquet(path, index=False)
    rewrite_run_json(run_dir, lambda m: m["checksums"].update(
        {"model.parquet": file_checksum(path)}))


def other_configuration(meta: dict) -> None:
    meta["config"]["urban"]["investment_per_step"] += 1.0
    meta["config_hash"] = config_hash(meta["config"])


DAMAGE = {
    "truncated model.parquet": (
        lambda d: (d / "model.parquet").write_bytes((d / "model.parquet").read_bytes()[:999]),
        "model.parquet does not match its checksum"),
    "random model.parquet": (
        lambda d: (d / "model.parquet").write_bytes(os.urandom(4096)),
        "model.parquet does not match its checksum"),
    "run.json without model.parquet": (
        lambda d: (d / "model.parquet").unlink(), "model.parquet is missing"),
    "run.json without firms.parquet": (
        lambda d: (d / "firms.parquet").unlink(), "firms.parquet is missing"),
    "corrupt config.yaml": (
        lambda d: (d / "config.yaml").write_text("steps: [\n"),
        "config.yaml does not match its checksum"),
    "corrupt run.json": (
        lambda d: (d / "run.json").write_text('{"seed": 0, "cell": '),
        "run.json is not valid JSON"),
    "binary run.json": (
        lambda d: (d / "run.json").write_bytes(b"\xff\xfe\x00garbage"),
        "run.json is not valid JSON"),
    "run.json equal to {}": (
        lambda d: (d / "run.json").write_text("{}"), "run.json lacks cell, scenario"),
    "run.json a list": (
        lambda d: (d / "run.json").write_text("[1, 2]"), "run.json is not a JSON object"),
    "run.json config edited": (
        lambda d: rewrite_run_json(d, lambda m: m["config"].update(steps=99)),
        "its configuration does not match its config_hash"),
    "model.parquet missing a column": (
        lambda d: drop_column(d, "cfe_share"), "model.parquet cannot be used"),
    "model.parquet missing the step": (
        lambda d: drop_column(d, "step"), "lacks the column(s) step"),
    "a copy of another seed": (
        lambda d: [shutil.copy2(p, d / p.name) for p in (d.parent / "seed1").iterdir()],
        "run.json is a run of seed 1, not of its folder's seed 0"),
    "a run of another cell": (
        lambda d: [shutil.copy2(p, d / p.name)
                   for p in (d.parent.parent / OTHER / "seed0").iterdir()],
        f"run.json is a run of cell '{OTHER}', not of its folder's cell"),
    "a run of another configuration": (
        lambda d: rewrite_run_json(d, other_configuration), "is not this sweep's (hash"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_aggregate_leaves_out_a_damaged_or_foreign_run_and_says_so(sweep_dir, damage):
    run_dir = sweep_dir / "runs" / BASE / "seed0"
    harm, reason = DAMAGE[damage]
    harm(run_dir)
    res = aggregate(sweep_dir)
    line = assert_one_error(res, 1, "1 run(s) left out of the report", f"{BASE}/seed0: ", reason)
    assert line.index(f"{BASE}/seed0: ") < line.index(reason)
    summary = pd.read_csv(sweep_dir / "summary.csv")
    assert len(summary) == 3 and not ((summary["cell"] == BASE) & (summary["seed"] == 0)).any()
    failures = pd.read_csv(sweep_dir / "failures.csv")
    assert failures[["cell", "seed"]].values.tolist() == [[BASE, 0]]
    assert reason.split(" (")[0] in failures["error"].iloc[0]
    report = (sweep_dir / "report.md").read_text()
    assert "## Failed runs" in report and "3 finished, 1 failed" in report


def test_corrupt_failed_json_is_listed_as_a_failure(sweep_dir):
    run_dir = sweep_dir / "runs" / BASE / "seed1"
    for name in ("run.json", "model.parquet", "firms.parquet", "projects.parquet", "config.yaml"):
        (run_dir / name).unlink()
    (run_dir / "failed.json").write_text("{not json")
    res = aggregate(sweep_dir)
    assert res.returncode == 0, res.stderr
    assert "failures.csv (1 failed runs)" in res.stderr and "Traceback" not in res.stderr
    failures = pd.read_csv(sweep_dir / "failures.csv")
    assert "failed.json cannot be read" in failures["error"].iloc[0]


def test_corrupt_cell_json_does_not_matter(sweep_dir, made):
    (sweep_dir / "runs" / BASE / "cell.json").write_text("}{")
    res = aggregate(sweep_dir)
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(sweep_dir / "table.parquet"),
                                  pd.read_parquet(made / "table.parquet"))


def test_an_unfinished_run_is_counted_not_failed(sweep_dir):
    (sweep_dir / "runs" / OTHER / "seed1" / "run.json").unlink()
    res = aggregate(sweep_dir)
    assert res.returncode == 0, res.stderr
    assert "1 run(s) of the design have not run yet" in res.stderr
    assert len(pd.read_csv(sweep_dir / "summary.csv")) == 3


@pytest.mark.parametrize("damage, needle", [
    (lambda d: (d / "sweep.json").write_text("{"), "sweep.json is not valid JSON"),
    (lambda d: (d / "sweep.json").write_text("{}"), "sweep.json has no identity of its cells"),
    (lambda d: (d / "sweep.json").unlink(), "sweep.json is missing"),
    (lambda d: (d / "sweep.json").write_text(json.dumps(
        {**json.loads((d / "sweep.json").read_text()), "seeds": "0-1"})),
     "sweep.json: seeds must be a list of integers"),
    (lambda d: (d / "sweep.json").write_text(json.dumps(
        {**(m := json.loads((d / "sweep.json").read_text())),
         "experiment": {**m["experiment"], "outcomes": ["nope"]}})),
     "sweep.json: experiment.outcomes[0]: 'nope'"),
], ids=["corrupt", "empty", "missing", "bad seeds", "bad outcomes"])
def test_an_unusable_sweep_json_is_exit_2_and_nothing_written(sweep_dir, damage, needle):
    damage(sweep_dir)
    before = {p: p.stat().st_mtime_ns for p in sweep_dir.rglob("*") if p.is_file()}
    res = aggregate(sweep_dir)
    assert_one_error(res, 2, needle)
    assert {p: p.stat().st_mtime_ns for p in sweep_dir.rglob("*") if p.is_file()} == before


@needs_mount
def test_a_read_only_sweep_directory_is_exit_2(sweep_dir):
    with read_only(sweep_dir):
        res = aggregate(sweep_dir)
    assert_one_error(res, 2, f"sweep directory: {sweep_dir} cannot be written (Read-only "
                             f"file system)")


# --------------------------------------------------------------------------- one directory,
#                                                                              two sweeps


def test_another_experiment_is_refused_naming_both(sweep_dir):
    before = finished(sweep_dir)
    res = run("tased-experiment", "experiment=cfe_shock", *ARGS, "shock.step=3",
              f"hydra.sweep.dir={sweep_dir}", cwd=sweep_dir.parent)
    assert_one_error(res, 2, f"{sweep_dir} holds experiment 'scenario_comparison'",
                     "this command runs experiment 'cfe_shock'", "experiment.force_new=true")
    assert finished(sweep_dir) == before


def test_another_configuration_of_the_same_experiment_is_refused(sweep_dir):
    before = finished(sweep_dir)
    res = run("tased-experiment", *ARGS, "cluster.brokerage=0.5",
              f"hydra.sweep.dir={sweep_dir}", cwd=sweep_dir.parent)
    assert_one_error(res, 2, "holds experiment 'scenario_comparison' (configuration",
                     "this command runs experiment 'scenario_comparison' (configuration",
                     "--force-new")
    assert finished(sweep_dir) == before


def test_a_directory_that_is_not_a_sweep_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    res = run("tased-experiment", *ARGS, f"hydra.sweep.dir={tmp_path}", cwd=tmp_path)
    assert_one_error(res, 2, f"{tmp_path} is not empty (notes.txt) and is not a sweep directory")
    res = run("tased-experiment", *ARGS, f"hydra.sweep.dir={tmp_path}", "--force-new",
              cwd=tmp_path)  # --force-new moves sweep directories aside, nothing else
    assert_one_error(res, 2, f"{tmp_path} is not empty (notes.txt) and is not a sweep directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_sweep_whose_sweep_json_is_lost_resumes_verifying_every_run(sweep_dir, made, damage):
    if damage == "corrupt":
        (sweep_dir / "sweep.json").write_text('{"identity": ')
    else:
        (sweep_dir / "sweep.json").unlink()
    before = finished(sweep_dir)
    res = run("tased-experiment", *ARGS, f"hydra.sweep.dir={sweep_dir}", cwd=sweep_dir.parent)
    assert res.returncode == 0, res.stderr
    assert "every finished run is verified" in res.stderr
    assert "(4 already finished, skipped)" in res.stderr
    assert finished(sweep_dir) == before and results(sweep_dir) == results(made)


def test_a_sweep_of_an_older_version_is_refused(sweep_dir):
    manifest = json.loads((sweep_dir / "sweep.json").read_text())
    del manifest["identity"]
    (sweep_dir / "sweep.json").write_text(json.dumps(manifest))
    res = run("tased-experiment", *ARGS, f"hydra.sweep.dir={sweep_dir}", cwd=sweep_dir.parent)
    assert_one_error(res, 2, "holds a sweep written by an older version")


@pytest.mark.parametrize("how", [["experiment.force_new=true"], ["--force-new"]])
def test_force_new_moves_the_old_sweep_aside(sweep_dir, how):
    old = results(sweep_dir)
    res = run("tased-experiment", "experiment=cfe_shock", *ARGS, "shock.step=3", *how,
              f"hydra.sweep.dir={sweep_dir}", cwd=sweep_dir.parent)
    assert res.returncode == 0, res.stderr
    aside = [p for p in sweep_dir.parent.iterdir() if p.name.startswith("sokol.old-")]
    assert len(aside) == 1 and results(aside[0]) == old
    manifest = json.loads((sweep_dir / "sweep.json").read_text())
    assert manifest["experiment"]["name"] == "cfe_shock"
    assert "in CFE demand at quarter 3" in (sweep_dir / "report.md").read_text()


def test_resume_moves_corrupt_runs_aside_reruns_them_and_keeps_foreign_ones(sweep_dir, made):
    (sweep_dir / "runs" / BASE / "seed0" / "run.json").write_text("{}")  # corrupt
    (sweep_dir / "runs" / OTHER / "seed1" / "model.parquet").write_bytes(b"PAR1")  # corrupt
    foreign = sweep_dir / "runs" / BASE / "seed1"
    rewrite_run_json(foreign, other_configuration)
    kept = (foreign / "run.json").read_bytes()
    res = run("tased-experiment", *ARGS, f"hydra.sweep.dir={sweep_dir}", cwd=sweep_dir.parent)
    line = assert_one_error(res, 1, "1 run(s) left out of the report",
                            f"{BASE}/seed1: its configuration")
    assert "is corrupt" not in line
    assert f"note: {BASE}/seed0 is corrupt (run.json lacks" in res.stderr
    assert f"note: {OTHER}/seed1 is corrupt (model.parquet does not match" in res.stderr
    assert "(1 already finished, skipped)" in res.stderr
    assert (foreign / "run.json").read_bytes() == kept
    assert len(list((sweep_dir / "corrupt").glob("*/*/seed*"))) == 2
    redone = {k: v for k, v in run_files(sweep_dir).items()
              if not k.startswith(f"runs/{BASE}/seed1/")}
    assert redone == {k: v for k, v in run_files(made).items() if k in redone}
    assert len(redone) == 12  # 3 runs x (model, firms and projects tables, config.yaml)
