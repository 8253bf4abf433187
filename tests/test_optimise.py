"""Policy optimisation (experiments.optimise): the Pareto front on hand-made points, a tiny
study end to end (front non-dominated, the six scenarios placed against it), resume after a
kill keeps the finished trials, and bad options are one error with nothing written."""

from __future__ import annotations

import json
import signal
import time

import numpy as np
import pandas as pd
import pytest

from experiments import optimise as O
from test_hostile_support import assert_one_error, kill_group, reap, run, start, wait_for

TINY = ["steps=6", "town.scale=0.25", "experiment.replications=2", "experiment.workers=2",
        "experiment.formats=[png]", "experiment.options.population=4"]


def test_pareto_front_on_hand_made_points():
    #            0    1    2    3    4    5
    jobs = [10.0, 20.0, 15.0, 30.0, 30.0, np.nan]
    cost = [1.0, 2.0, 3.0, 5.0, 6.0, 0.0]
    front = O.pareto_front(np.array(jobs), np.array(cost))
    # 2 is beaten by 1 (more jobs, less cost); 4 by 3 (same jobs, more cost); 5 is missing
    assert front.tolist() == [0, 1, 3]


def _dominated(i: int, obj: np.ndarray, cost: np.ndarray) -> bool:
    return bool(np.any((obj >= obj[i]) & (cost <= cost[i]) & ((obj > obj[i]) | (cost < cost[i]))))


def test_study_end_to_end_front_and_scenarios(tmp_path):
    res = run("tased-experiment", "experiment=optimise", *TINY,
              "experiment.options.trials=6", f"experiment.out_dir={tmp_path}/out",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    d = tmp_path / "out" / "optimise" / "sokol"
    trials = pd.read_csv(d / O.TRIALS_FILE)
    assert len(trials) == 6
    obj, cost = trials["objective"].to_numpy(), trials["cost"].to_numpy()
    on = trials["on_front"].to_numpy(bool)
    assert on.any()
    for i in range(len(trials)):  # the front is exactly the non-dominated trials
        assert on[i] == (not _dominated(i, obj, cost)), trials.loc[i]
    # the levers stay in their ranges
    assert trials["cfe.outsourcing_rate"].between(0.0, 0.2).all()
    assert trials["cluster.support_end_step"].between(12, 60).all()
    scen = pd.read_csv(d / O.SCENARIOS_FILE)
    assert sorted(scen["scenario"]) == sorted(["baseline", "tased_only", "cluster_only",
                                               "top_down", "business_led", "joint"])
    report = (d / "report.md").read_text()
    assert "## The Pareto front" in report and "## The scenarios on the same seeds" in report
    for s in scen["scenario"]:
        assert f"- {s} is " in report  # placed against the front
    assert (d / "figures" / "pareto_front.png").stat().st_size > 0
    assert (d / O.STUDY_FILE).is_file()
    # its report is its own: tased-aggregate refuses to overwrite it
    res = run("tased-aggregate", str(d), cwd=tmp_path)
    assert_one_error(res, 2, "writes its own report")
    assert (d / "report.md").read_text() == report


def _complete_trials(path) -> dict[int, dict]:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=O.STUDY_NAME, storage=f"sqlite:///{path}")
    return {t.number: {"params": t.params, "values": t.values}
            for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE}


def test_resume_after_kill_keeps_the_finished_trials(tmp_path):
    out = tmp_path / "out"
    d = out / "optimise" / "sokol"
    args = ["experiment=optimise", *TINY, "experiment.options.scenarios=[baseline]",
            f"experiment.out_dir={out}"]
    proc = start("tased-experiment", *args, "experiment.options.trials=400", cwd=tmp_path)
    try:
        log = d / O.EVALUATIONS

        def trial_runs() -> int:
            if not log.is_file():
                return 0
            return sum('"trial"' in line for line in log.read_text().splitlines())

        assert wait_for(lambda: trial_runs() >= 6 or proc.poll() is not None, timeout=240)
        kill_group(proc, signal.SIGKILL)
    finally:
        reap(proc)
    before = _complete_trials(d / O.STUDY_FILE)
    assert 2 <= len(before) < 400
    runs_before = trial_runs()
    res = run("tased-experiment", *args, f"experiment.options.trials={len(before) + 2}",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"({len(before)} already complete" in res.stderr
    after = _complete_trials(d / O.STUDY_FILE)
    assert len(after) == len(before) + 2
    for number, t in before.items():  # kept as they were, never evaluated again
        assert after[number] == t
    records = [json.loads(line) for line in log.read_text().splitlines()]
    for number in before:
        assert sum(r.get("trial") == number for r in records) == 2  # one run per seed
    assert trial_runs() <= runs_before + 2 * 2 + 2 * 2  # the new trials (and a retried one)
    assert len(pd.read_csv(d / O.TRIALS_FILE)) == len(before) + 2


@pytest.mark.parametrize("option, needle", [
    ({"trials": 0}, "experiment.options.trials: 0 is not accepted; give an integer of at least 1"),
    ({"sampler": "grid"}, "experiment.options.sampler: 'grid' is not accepted; accepted: nsga2, "
                          "motpe"),
    ({"budget": -5}, "experiment.options.budget: -5 is not accepted; give a positive number"),
    ({"objective": "happiness"}, "accepted: non_cfe_jobs_change, employment_entropy"),
    ({"levers": {"cluster.brokerage": {"range": [0.0, 20.0]}}},
     "experiment.options.levers.cluster.brokerage.range: [0.0, 20.0] leaves the accepted range"),
])
def test_bad_options_name_the_field_and_the_accepted_values(option, needle):
    good = {"levers": {"cluster.brokerage": {"range": [0.0, 1.0]}}}
    assert O.check_options({"options": good})["trials"] >= 1
    with pytest.raises(ValueError) as err:
        O.check_options({"options": {**good, **option}})
    assert needle in str(err.value)


def test_bad_option_on_the_command_line_is_one_error_and_writes_nothing(tmp_path):
    res = run("tased-experiment", "experiment=optimise", *TINY, "experiment.options.trials=0",
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    assert_one_error(res, 2, "experiment.options.trials", "at least 1")
    assert not (tmp_path / "out").exists()
