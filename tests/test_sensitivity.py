"""Q5 global sensitivity (experiments.sensitivity) and scenario discovery
(experiments.discovery): the Morris and Sobol designs, the index code on functions whose
answer is known by hand, PRIM on data whose box is known, bad input, and the two commands
end to end on a tiny design (3 factors, 4 quarters, 2 seeds)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from experiments import discovery
from experiments import sensitivity as S
from test_hostile_support import assert_one_error, run

#: three factors: a number, an integer and a categorical lever
FACTORS = {
    "cfe.outsourcing_rate": {"range": [0.0, 0.2]},
    "cluster.support_end_step": {"range": [12, 60], "integer": True},
    "cluster.priority_rule": {"levels": ["location_quotient", "all_sectors", "none"]},
}
#: the same three factors out of the experiment file's
ONLY = ("experiment.design.only=[cfe.outsourcing_rate,cluster.support_end_step,"
        "cluster.priority_rule]")
TINY = ["steps=6", "town.scale=0.25", "experiment.replications=2", "experiment.workers=2",
        "experiment.formats=[png]", "experiment.options.resamples=100"]


def settings(**design) -> dict:
    return {"design": {"name": "morris", "scenario": "top_down", "compare": [],
                       "factors": FACTORS, "trajectories": 4, "seed": 1, **design}}


# --------------------------------------------------------------------------- designs


@pytest.mark.parametrize("r", [2, 5])
def test_morris_design_has_r_times_k_plus_one_points(r):
    d = S.morris_plan(settings(trajectories=r))
    assert d.x.shape == (r * (len(FACTORS) + 1), len(FACTORS))
    assert len(d.rows) == r * (len(FACTORS) + 1)


def test_design_values_stay_in_their_ranges_and_scenarios_double_the_cells():
    d = S.morris_plan(settings(trajectories=6))
    for row in d.rows:
        assert 0.0 <= row["cfe.outsourcing_rate"] <= 0.2
        assert isinstance(row["cluster.support_end_step"], int)
        assert 12 <= row["cluster.support_end_step"] <= 60
        assert row["cluster.priority_rule"] in FACTORS["cluster.priority_rule"]["levels"]
    levels = {row["cluster.priority_rule"] for row in d.rows}
    assert len(levels) >= 2  # the categorical factor does vary
    one = S.morris_design(settings(trajectories=6))
    two = S.morris_design(settings(trajectories=6, compare=["business_led"]))
    assert {c["scenario"] for c in one} == {"top_down"}
    assert {c["scenario"] for c in two} == {"top_down", "business_led"}
    assert len([c for c in two if c["scenario"] == "business_led"]) <= len(one)
    # business_led's preset wins over the sampled values of the keys it sets
    preset = S.scenario_values(["business_led"])["business_led"]
    for c in two:
        if c["scenario"] == "business_led":
            assert c["cluster.founder"] == preset["cluster.founder"]


def test_sobol_design_size_is_2n_times_k_plus_two(tmp_path):
    (tmp_path / S.SCREENING_FILE).write_text(json.dumps({
        "selected": ["cfe.outsourcing_rate", "cluster.priority_rule"], "factors": FACTORS,
        "scenario": "top_down", "compare": ["business_led"]}))
    s = {"design": {"name": "sobol", "screening": str(tmp_path), "samples": 4, "seed": 0}}
    d = S.sobol_plan(s)
    assert [f.name for f in d.factors] == ["cfe.outsourcing_rate", "cluster.priority_rule"]
    assert d.x.shape == (2 * 4 * (2 + 2), 2)
    assert d.scenarios == ["top_down", "business_led"]
    with pytest.raises(ValueError, match="experiment.design.samples: 6 is not a power of 2"):
        S.sobol_plan({"design": {**s["design"], "samples": 6}})


@pytest.mark.parametrize("factors, needle", [
    ({"cluster.nonsense": {"range": [0, 1]}}, "experiment.design.factors.cluster.nonsense: "
                                              "not a model parameter"),
    ({"cluster.management_quality": {"range": [0.0, 2.0]}},
     "experiment.design.factors.cluster.management_quality.range: [0.0, 2.0] leaves the "
     "accepted range [0.0, 1.0]"),
    ({"cluster.brokerage": {"range": [0.5, 0.1]}}, "lo < hi"),
    ({"cluster.priority_rule": {"levels": ["location_quotient", "everything"]}},
     "are not all accepted values"),
])
def test_bad_factors_name_the_field_and_the_accepted_range(factors, needle):
    with pytest.raises(ValueError) as err:
        S.morris_plan(settings(factors=factors))
    assert needle in str(err.value)


@pytest.mark.parametrize("option, needle", [
    ({"trajectories": 0}, "experiment.design.trajectories: 0 is not accepted; give an integer "
                          "of at least 2"),
    ({"levels": 1.5}, "experiment.design.levels: 1.5 is not accepted"),
    ({"only": ["cfe.outsourcing_rate", "tased.bogus"]},
     "experiment.design.only: tased.bogus not among the factors; accepted: "
     "cfe.outsourcing_rate, cluster.support_end_step, cluster.priority_rule"),
    ({"compare": ["nowhere"]}, "scenario 'nowhere' is not one of"),
])
def test_bad_design_options_name_the_field(option, needle):
    with pytest.raises(ValueError) as err:
        S.morris_plan(settings(**option))
    assert needle in str(err.value)
    only = S.morris_plan(settings(only=["cluster.priority_rule"]))
    assert [f.name for f in only.factors] == ["cluster.priority_rule"]


# --------------------------------------------------------------------------- indices


def _factors(k: int, lo: float = 0.0, hi: float = 1.0) -> list[S.Factor]:
    return [S.Factor(f"x{i}", lo, hi) for i in range(k)]


def test_morris_gives_a_factor_without_effect_mu_star_zero():
    from SALib.sample import morris

    fs = _factors(3)
    x = morris.sample(S.problem(fs), 20, num_levels=4, seed=3)
    y = 4.0 * x[:, 0] + 2.0 * x[:, 1] ** 2  # x2 has no effect; x0 is linear with slope 4
    t = S.morris_indices(fs, x, y, levels=4, resamples=100).set_index("factor")
    assert t.loc["x2", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc["x0", "mu_star"] == pytest.approx(4.0, rel=1e-9)  # slope x full range 1
    assert t.loc["x0", "sigma"] == pytest.approx(0.0, abs=1e-9)  # linear: no spread
    assert t.loc["x1", "sigma"] > 0  # quadratic: effects differ along x1
    assert S.screen({"y": t.reset_index()}, 0.1, 5) == ["x0", "x1"]


def test_sobol_indices_of_the_ishigami_function():
    """Ishigami (a = 7, b = 0.1): S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244."""
    from SALib.sample import sobol

    fs = _factors(3, -math.pi, math.pi)
    x = sobol.sample(S.problem(fs), 2048, calc_second_order=False, seed=1)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    t = S.sobol_indices(fs, y, resamples=200).set_index("factor")
    for name, s1, st in [("x0", 0.314, 0.558), ("x1", 0.442, 0.442), ("x2", 0.0, 0.244)]:
        assert t.loc[name, "S1"] == pytest.approx(s1, abs=0.05), name
        assert t.loc[name, "ST"] == pytest.approx(st, abs=0.05), name
        assert 0 < t.loc[name, "ST_conf"] < 0.1
    # a base point with a missing run is left out whole, not shifted
    y[5] = np.nan
    t2 = S.sobol_indices(fs, y, resamples=50)
    assert int(t2["base_points"].iloc[0]) == 2048 - 1


def test_replication_table_half_width_is_t_s_over_root_n():
    from scipy import stats

    rng = np.random.default_rng(0)
    per_seed = 1.0 + rng.normal(0.0, 2.0, size=(40, 10))
    t = S.replication_table(per_seed)
    pooled = float(np.sqrt(np.mean(per_seed.std(axis=1, ddof=1) ** 2)))
    assert t.attrs["pooled_sd"] == pytest.approx(pooled)
    for n in (2, 5, 20, 100):
        row = t[t["seeds"] == n].iloc[0]
        assert row["half_width"] == pytest.approx(stats.t.ppf(0.975, n - 1) * pooled
                                                  / math.sqrt(n))
    assert t["half_width"].is_monotonic_decreasing
    assert np.isnan(t.loc[t["seeds"] == 20, "observed"].iloc[0])  # only 10 seeds in the sample
    need = S.seeds_needed(t, 1.0)
    assert S.t_half_width(pooled, need) < 1.0 <= S.t_half_width(pooled, need - 1)


# --------------------------------------------------------------------------- discovery


def test_prim_recovers_a_known_box():
    rng = np.random.default_rng(4)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 1000), "b": rng.uniform(0, 10, 1000),
                      "c": rng.uniform(0, 1, 1000),
                      "d": rng.choice(["p", "q", "r"], 1000)})
    y = (x["a"] > 0.6) & (x["b"] < 4.0)  # true box: a in [0.6, 1], b in [0, 4]
    box = discovery.find_box(x, y.to_numpy(), "known", "a box", density_min=0.9)
    assert box.density >= 0.9
    assert box.coverage >= 0.8
    assert set(box.limits) <= {"a", "b", "c", "d"} and {"a", "b"} <= set(box.limits)
    assert box.limits["a"][0] == pytest.approx(0.6, abs=0.05)
    assert box.limits["b"][1] == pytest.approx(4.0, abs=0.5)
    assert "c" not in box.limits  # c has no bearing on y
    assert box.trajectory and all(0 <= cov <= 1 and 0 <= den <= 1
                                  for cov, den, _ in box.trajectory)


def test_prim_needs_enough_points_and_reports_trivial_answers():
    x = pd.DataFrame({"a": np.linspace(0, 1, 30)})
    assert "at least" in discovery.find_box(x.head(5), np.ones(5, bool)).note
    every = discovery.find_box(x, np.ones(30, bool))
    assert every.coverage == every.density == 1.0 and not every.limits
    assert discovery.find_box(x, np.zeros(30, bool)).holds == 0


# --------------------------------------------------------------------------- the commands


def test_unknown_factor_on_the_command_line_is_one_error_and_writes_nothing(tmp_path):
    res = run("tased-experiment", "experiment=sensitivity", *TINY,
              "experiment.design.factors={cluster.nonsense:{range:[0,1]}}",
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    assert_one_error(res, 2, "experiment.design.factors.cluster.nonsense")
    assert not (tmp_path / "out").exists()
    res = run("tased-experiment", "experiment=sensitivity", *TINY,
              "experiment.design.factors={cluster.management_quality:{range:[0.1,1.5]}}",
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    assert_one_error(res, 2, "cluster.management_quality.range", "accepted range [0.0, 1.0]")
    res = run("tased-experiment", "experiment=sensitivity_sobol", *TINY,
              f"experiment.out_dir={tmp_path}/out", cwd=tmp_path)
    assert_one_error(res, 2, "experiment.design.screening", "run the screening first")
    assert not (tmp_path / "out").exists()


def test_morris_then_sobol_end_to_end(tmp_path):
    out = tmp_path / "out"
    res = run("tased-experiment", "experiment=sensitivity", *TINY,
              "experiment.design.trajectories=3", ONLY,
              "experiment.options.max_factors=2",
              f"experiment.out_dir={out}", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    m = out / "sensitivity" / "sokol"
    report = (m / "report.md").read_text()
    assert "Morris screening of 3 factors under **top_down** on 2 seeds per design point: " \
           "12 design points (12 complete)" in report
    for heading in ("## Factors and their ranges", "## Morris indices per outcome",
                    "## How many seeds a claim needs", "## Where each answer holds (PRIM"):
        assert heading in report, heading
    for fig in ("morris.png", "replications.png"):
        assert (m / "figures" / fig).stat().st_size > 0
    morris = pd.read_csv(m / S.MORRIS_FILE)
    assert set(morris["factor"]) == set(FACTORS)
    assert (morris["trajectories"] == 3).all()
    screening = json.loads((m / S.SCREENING_FILE).read_text())
    assert screening["selected"] and set(screening["selected"]) <= set(FACTORS)
    assert json.loads((m / discovery.DISCOVERY_FILE).read_text())["boxes"]

    res = run("tased-experiment", "experiment=sensitivity_sobol", *TINY,
              "experiment.design.samples=2", f"experiment.out_dir={out}", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    s = out / "sensitivity_sobol" / "sokol"
    report = (s / "report.md").read_text()
    k = len(screening["selected"])
    assert (f"Sobol indices of {k} factors under **top_down** on 2 seeds per design point: "
            f"{4 * (k + 2)} design points ({4 * (k + 2)} complete)") in report
    for heading in ("## Sobol indices at N = 4 base points",
                    "## Convergence: total indices at N = 2 (the sample's first half) and at "
                    "N = 4", "## How many seeds a claim needs"):
        assert heading in report, heading
    assert (s / "figures" / "sobol.png").stat().st_size > 0
    sobol = pd.read_csv(s / S.SOBOL_FILE)
    assert set(sobol["factor"]) == set(screening["selected"])
    assert sorted(sobol["base_points_design"].unique()) == [2, 4]
