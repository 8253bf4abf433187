"""Hostile input to the three console scripts: every bad option, name, deletion or directory is
one `error:` line naming the field and what is accepted, exit code 2, no traceback, and nothing
written (no output directory, no results/ in the working directory)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from experiments.layout import available_cpus
from test_hostile_support import TINY, assert_one_error, run

pytestmark = pytest.mark.slow


def nothing_written(tmp_path) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"], list(tmp_path.iterdir())


@pytest.fixture
def cwd(tmp_path):
    (tmp_path / "afile").write_text("not a directory")
    return tmp_path


# --------------------------------------------------------------------------- tased-sim

SIM = [
    # output directories
    ("hydra.run.dir={cwd}/afile", "hydra.run.dir: {cwd}/afile is a file, not a directory"),
    ("hydra.run.dir={cwd}/afile/run", "hydra.run.dir: {cwd}/afile/run cannot be created"),
    ("hydra.run.dir=/proc/tased/run", "hydra.run.dir: /proc/tased/run cannot be written"),
    ("hydra.run.dir=''", "hydra.run.dir: an empty directory is not accepted"),
    ("hydra.run.dir={cwd}", "hydra.run.dir: {cwd} is not empty (afile) and is not a run "
     "directory"),
    # names that become directories
    ("town.name=../../escaped", "town.name: '../../escaped' is not accepted"),
    ("town.name=..", "town.name: '..' is not accepted"),
    # deletions of required fields
    ("~steps", "steps: deleting a setting (~steps) is not accepted"),
    ("~seed", "seed: deleting a setting (~seed) is not accepted"),
    ("~town.population", "town.population: deleting a setting"),
    # start steps against the horizon, list items
    ("cluster.start_step=99", "cluster.start_step: 99 must be below steps (4)"),
    ("shock.step=10", "shock.step: 10 must be below steps (4)"),
    ("output.firm_steps=[-3,abc]", "output.firm_steps[1]: Value 'abc'"),
    ("output.firm_steps=[-3]", "output.firm_steps[0]: -3 is below 0"),
    ("output.firm_steps=[0,99]", "output.firm_steps[1]: 99 is outside the accepted range [0, 4]"),
    # values, syntax, flags
    ("seed=-1", "seed: -1 is outside the accepted range"),
    ("steps=1000000000", "steps: 1000000000 is outside the accepted range [1, 100000]"),
    ("steps=[1", "steps=[1: not a valid override"),
    ("seed=1,2", "seed=1,2: a sweep needs -m"),
    ("--frobnicate", "--frobnicate: unknown option"),
    ("--config-name=other", "--config-name=other: another config directory or name is not"),
]


@pytest.mark.parametrize("override, needle", SIM, ids=[c[0] for c in SIM])
def test_tased_sim_refuses_bad_input(cwd, override, needle):
    override, needle = override.format(cwd=cwd), needle.format(cwd=cwd)
    args = ["steps=4", override]
    if not override.startswith("hydra.run.dir"):
        args.append(f"hydra.run.dir={cwd / 'run'}")
    res = run("tased-sim", *args, cwd=cwd)
    assert_one_error(res, 2, needle)
    assert res.stdout == ""
    nothing_written(cwd)


@pytest.mark.parametrize("sweep, needle", [
    ("seed=1,abc", "seed: Value 'abc'"),
    ("cluster.management_quality=0.5,1.5", "cluster.management_quality: 1.5 is outside"),
    ("scenario=baseline,nope", "Could not find 'scenario/nope'"),
])
def test_tased_sim_multirun_checks_every_job_before_creating_its_directory(cwd, sweep, needle):
    res = run("tased-sim", "-m", "steps=4", sweep, cwd=cwd)  # default dir: results/multirun
    assert_one_error(res, 2, needle)
    nothing_written(cwd)


def test_tased_sim_refuses_to_overwrite_a_finished_run_unless_asked(cwd):
    out = cwd / "run"
    assert run("tased-sim", "steps=4", "seed=1", f"hydra.run.dir={out}", cwd=cwd).returncode == 0
    before = (out / "run.json").read_bytes()
    res = run("tased-sim", "steps=4", "seed=2", f"hydra.run.dir={out}", cwd=cwd)
    assert_one_error(res, 2, f"hydra.run.dir: {out} holds a finished run", "--overwrite")
    assert (out / "run.json").read_bytes() == before
    res = run("tased-sim", "steps=4", "seed=2", f"hydra.run.dir={out}", "--overwrite", cwd=cwd)
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "run.json").read_text())["seed"] == 2


def test_tased_sim_debug_shows_the_traceback(cwd):
    res = run("tased-sim", "steps=4", "~steps", "--debug", cwd=cwd)
    assert res.returncode == 2 and "Traceback" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("error: steps: deleting")


# --------------------------------------------------------------------------- tased-experiment

CPUS = available_cpus()
EXPERIMENT = [
    # sweep options
    ("experiment.workers=0", "experiment.workers: 0 is not accepted; accepted 1 to"),
    ("experiment.workers=-2", "experiment.workers: -2 is not accepted"),
    (f"experiment.workers={CPUS + 1}", f"experiment.workers: {CPUS + 1} is not accepted"),
    ("experiment.formats=[gif]", "experiment.formats[0]: 'gif' is not a supported figure"),
    ("experiment.formats=[]", "experiment.formats: [] is not accepted"),
    ("experiment.outcomes=[unknown_column]", "experiment.outcomes[0]: 'unknown_column'"),
    ("experiment.outcomes=[]", "experiment.outcomes: [] is not accepted"),
    ("experiment.series=[nope]", "experiment.series[0]: 'nope' is not one of the model outputs"),
    ("experiment.analysis=nope", "experiment.analysis: 'nope' is not an analysis; accepted:"),
    ("experiment.reference=nope", "experiment.reference: 'nope' is not a scenario; accepted:"),
    ("+experiment.options.late_window=abc", "experiment.options.late_window: 'abc'"),
    ("+experiment.options.primary=nope", "experiment.options.primary: 'nope'"),
    ("experiment.replications=0", "experiment.replications: 0 is outside the accepted range"),
    ("experiment.replications=-3", "experiment.replications: -3 is outside"),
    ("experiment.replications=100000000", "experiment.replications: 100000000 is outside"),
    ("experiment.replications=1,2", "several jobs map to the same cell"),
    ("seed=-1", "experiment.base_seed: -1 is outside the accepted range"),
    # names that become directories
    ("experiment.name=''", "experiment.name: '' is not accepted"),
    ("experiment.name=../../escaped", "experiment.name: '../../escaped' is not accepted"),
    ("town.name=../../escaped", "town.name: '../../escaped' is not accepted"),
    # deletions
    ("~seed", "seed: deleting a setting (~seed) is not accepted"),
    ("~steps", "steps: deleting a setting (~steps) is not accepted"),
    ("~experiment.outcomes", "experiment.outcomes: deleting a setting"),
    # directories
    ("hydra.sweep.dir=''", "hydra.sweep.dir: an empty directory is not accepted"),
    ("hydra.sweep.dir=/proc/tased/sweep", "hydra.sweep.dir: /proc/tased/sweep cannot be written"),
    ("hydra.sweep.dir={cwd}/afile", "hydra.sweep.dir: {cwd}/afile is a file"),
    ("experiment.out_dir=''", "experiment.out_dir: an empty directory is not accepted"),
    # every cell is checked before the first run
    ("cluster.management_quality=0.6,1.5", "cluster.management_quality: 1.5 is outside the "
     "accepted range [0.0, 1.0] (cell cluster.management_quality=1.5__scenario=baseline"),
    ("cluster.start_step=99", "cluster.start_step: 99 must be below steps (6)"),
    ("output.firm_steps=[-3,abc]", "output.firm_steps[1]: Value 'abc'"),
    ("firm_base.kinds=[nope]", "firm_base.kinds[0]: 'nope' is not a sector kind"),
    ("firm_base.scale=0", "firm_base.scale: 0.0 is outside the accepted range"),
    ("+cluster.nfirms=3", "cluster.nfirms: unknown key"),
    # groups, syntax, flags
    ("experiment=nope", "Could not find 'experiment/nope'"),
    ("scenario=baseline,nope", "Could not find 'scenario/nope'"),
    ("hydra/launcher=nope", "Could not find 'hydra/launcher/nope'"),
    ("--frobnicate", "--frobnicate: unknown option"),
]


@pytest.mark.parametrize("override, needle", EXPERIMENT, ids=[c[0] for c in EXPERIMENT])
def test_tased_experiment_refuses_bad_input_before_the_first_run(cwd, override, needle):
    override, needle = override.format(cwd=cwd), needle.format(cwd=cwd)
    args = ["steps=6", "experiment.replications=1", "experiment.workers=1", "scenario=baseline",
            override]
    if not override.startswith(("experiment.out_dir", "hydra.sweep.dir")):
        args.append(f"experiment.out_dir={cwd / 'out'}")
    res = run("tased-experiment", *args, cwd=cwd, timeout=120)
    assert_one_error(res, 2, needle)
    nothing_written(cwd)


# --------------------------------------------------------------------------- tased-aggregate


@pytest.mark.parametrize("args, needle", [
    (["{cwd}/missing"], "{cwd}/missing does not exist"),
    (["{cwd}/afile"], "{cwd}/afile is not a directory"),
    (["{cwd}"], "{cwd} is not a sweep directory (no runs/ inside)"),
    (["{cwd}", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ([], "the following arguments are required: sweep_dir"),
])
def test_tased_aggregate_refuses_bad_arguments(cwd, args, needle):
    res = run("tased-aggregate", *[a.format(cwd=cwd) for a in args], cwd=cwd)
    assert_one_error(res, 2, needle.format(cwd=cwd))
    nothing_written(cwd)


@pytest.mark.parametrize("name, flag", [("tased-sim", "--cfg job"), ("tased-sim", "--help"),
                                        ("tased-experiment", "--help"),
                                        ("tased-aggregate", "--help")])
def test_help_and_config_flags_print_and_write_nothing(cwd, name, flag):
    res = run(name, *flag.split(), cwd=cwd)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() and res.stderr == ""
    nothing_written(cwd)


def test_hydra_full_error_shows_the_traceback(cwd):
    res = run("tased-experiment", "experiment.workers=0", f"experiment.out_dir={cwd}/out",
              cwd=cwd, env={"HYDRA_FULL_ERROR": "1"})
    assert res.returncode == 2 and "Traceback" in res.stderr
    nothing_written(cwd)


def test_the_workers_limit_follows_the_cpus_and_minus_one_means_all(cwd):
    assert CPUS == len(os.sched_getaffinity(0)) if sys.platform == "linux" else CPUS >= 1
    res = run("tased-experiment", *TINY, "experiment.workers=-1", "experiment.replications=1",
              f"experiment.out_dir={cwd}/out", cwd=cwd)
    assert res.returncode == 0, res.stderr
    assert f"{CPUS} worker(s)" in res.stderr
