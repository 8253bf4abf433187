"""The claims report (experiments.claims): verdicts from hand-made numbers, bad options, and a
tiny `tased-experiment experiment=claims` that writes report.md with one row per claim."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments import claims as C
from experiments.stats import Estimate
from test_hostile_support import assert_one_error, run


# --------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize("estimate, direction, expected", [
    (Estimate(0.5, 0.2, 0.8, 10), 1, C.SUPPORTED),  # CI excludes zero, claimed direction
    (Estimate(-0.5, -0.8, -0.2, 10), -1, C.SUPPORTED),
    (Estimate(0.1, -0.2, 0.4, 10), 1, C.NOT_SUPPORTED),  # CI includes zero
    (Estimate(-0.5, -0.8, -0.2, 10), 1, C.NOT_SUPPORTED),  # significant the other way
    (Estimate(0.5, 0.2, 0.8, 1), 1, C.NOT_SUPPORTED),  # one seed measures nothing
])
def test_directional_verdict(estimate, direction, expected):
    assert C.verdict(estimate, direction)[0] == expected


def test_bound_verdict_needs_the_whole_interval_on_the_claimed_side():
    assert C.bound_verdict(Estimate(0.1, 0.0, 0.3, 20), below=0.5)[0] == C.SUPPORTED
    assert C.bound_verdict(Estimate(0.4, 0.2, 0.6, 20), below=0.5)[0] == C.NOT_SUPPORTED
    assert C.bound_verdict(Estimate(0.9, 0.7, 1.0, 20), above=0.5)[0] == C.SUPPORTED


def test_mixed_conditions_depend():
    assert C.combine([C.SUPPORTED, C.SUPPORTED]) == C.SUPPORTED
    assert C.combine([C.NOT_SUPPORTED, C.NOT_SUPPORTED]) == C.NOT_SUPPORTED
    assert C.combine([C.SUPPORTED, C.NOT_SUPPORTED]) == C.DEPENDS


def _summary(effects: dict[float, list[float]]) -> pd.DataFrame:
    """A summary.csv of two scenarios under each value of a second parameter: top_down's
    entropy exceeds baseline's by the given per-seed differences."""
    rows = []
    for brokerage, diffs in effects.items():
        for seed, d in enumerate(diffs):
            for scen, v in (("baseline", 1.0 + 0.01 * seed), ("top_down", 1.0 + 0.01 * seed + d)):
                rows.append({"cell": f"{scen}_{brokerage}", "cluster.brokerage": brokerage,
                             "scenario": scen, "town": "sokol", "seed": seed,
                             "employment_entropy": v})
    return pd.DataFrame(rows)


CLAIM = {"id": "x", "claim": "top_down diversifies more", "kind": "paired", "run": "r",
         "parameter": "scenario", "on": "top_down", "off": "baseline",
         "metric": "employment_entropy", "direction": 1}


@pytest.mark.parametrize("effects, expected", [
    ({0.0: [0.10, 0.12, 0.11, 0.09]}, C.SUPPORTED),
    ({0.0: [0.10, -0.12, 0.05, -0.04]}, C.NOT_SUPPORTED),
    ({0.0: [-0.10, -0.12, -0.11, -0.09]}, C.NOT_SUPPORTED),
    ({0.0: [0.10, 0.12, 0.11, 0.09], 0.5: [0.10, -0.12, 0.05, -0.04]}, C.DEPENDS),
    ({0.0: [0.10, 0.12, 0.11, 0.09], 0.5: [0.20, 0.22, 0.21, 0.19]}, C.SUPPORTED),
])
def test_paired_claim_on_hand_made_runs(effects, expected):
    r = C.Result("x", "claim")
    C.measure_paired(CLAIM, _summary(effects), r)
    assert r.verdict == expected, (r.effect, r.reason)
    assert len(r.details) == len(effects)
    if len(effects) == 1:
        mean = sum(next(iter(effects.values()))) / 4
        assert f"{mean:.3g}".lstrip("0") in r.effect.replace("+", "")


def test_a_sample_box_turns_a_partial_claim_into_depends():
    box = {"points": 100, "holds": 50, "limits": {"a": [0, 1]}, "density": 0.9,
           "limits_text": "a in [0, 1]"}
    assert C.with_sample(C.SUPPORTED, box)[0] == C.DEPENDS
    assert C.with_sample(C.SUPPORTED, {**box, "holds": 95})[0] == C.SUPPORTED
    assert C.with_sample(C.NOT_SUPPORTED, {**box, "density": 0.5})[0] == C.NOT_SUPPORTED


# --------------------------------------------------------------------------- the command

#: two claims measured on the scenario comparison (the only run they need)
CLAIMS = ("experiment.options.claims=["
          "{id:diversifies,claim:'top_down diversifies more than baseline',kind:paired,"
          "run:scenario_comparison,parameter:scenario,on:top_down,off:baseline,"
          "metric:employment_entropy,direction:1,figure:paired_differences},"
          "{id:business,claim:'business does not found a cluster',kind:share,"
          "run:scenario_comparison,scenario:business_led,metric:cmc_founded,below:0.5}]")
#: the scenario comparison of three scenarios only
THREE = ("experiment.options.runs.scenario_comparison=['experiment=scenario_comparison',"
         "'scenario=baseline,top_down,business_led']")
TINY = ["steps=6", "town.scale=0.25", "experiment.replications=2", "experiment.workers=2",
        "experiment.formats=[png]"]


def test_claims_command_writes_one_row_per_claim(tmp_path):
    res = run("tased-experiment", "experiment=claims", *TINY, CLAIMS, THREE,
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    d = tmp_path / "out" / "claims"
    report = (d / "report.md").read_text()
    table = [line for line in report.splitlines() if line.startswith("| ")]
    rows = [line for line in table[1:] if not line.startswith("|---")]
    ids = [r for r in rows if "top_down diversifies more than baseline" in r
           or "business does not found a cluster" in r]
    assert len(ids) == 2, report
    for r in ids:
        assert any(v in r for v in (C.SUPPORTED, C.NOT_SUPPORTED, C.DEPENDS))
        assert "0-1 (2)" in r  # the seeds used
    assert "not forecasts" in report
    assert (d / "experiments" / "scenario_comparison" / "summary.csv").is_file()
    assert not (d / "experiments" / "synergy").exists()  # no claim needs it


def test_claims_bad_options_are_one_error(tmp_path):
    res = run("tased-experiment", "experiment=claims", *TINY,
              "experiment.options.claims=[{id:a,claim:b,kind:guess,run:scenario_comparison}]",
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    assert_one_error(res, 2, "experiment.options.claims[0].kind", "accepted: paired")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("claim, needle", [
    ({"id": "a", "claim": "b", "kind": "share", "run": "nowhere", "metric": "x"},
     "experiment.options.claims[0].run: 'nowhere' is not one of the runs (cmp)"),
    ({"id": "a", "claim": "b", "kind": "paired", "run": "cmp", "metric": "x"},
     "experiment.options.claims[0]: a paired claim needs parameter, on, off"),
    ({"claim": "b", "kind": "share", "run": "cmp"}, "experiment.options.claims[0]: give id"),
])
def test_bad_claims_name_the_field(claim, needle):
    runs = {"cmp": ["experiment=scenario_comparison"]}
    with pytest.raises(ValueError) as err:
        C.check_options({"options": {"runs": runs, "claims": [claim]}})
    assert needle in str(err.value)
    with pytest.raises(ValueError, match="the claims experiment cannot run itself"):
        C.check_options({"options": {"runs": {"x": ["experiment=claims"]}, "claims": [claim]}})
