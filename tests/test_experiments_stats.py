"""Statistics, cell naming and per-run summaries of the experiments layer, against
hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from experiments.data import run_metrics
from experiments.stats import (interaction, mean_ci, paired_difference, ratio_of_means,
                               share_ci, step_threshold)
from experiments.jobs import apply_firm_base, cell_name, design_overrides
from simulation.config import ConfigError
from simulation.outputs import BY_NAME as REPORTERS
from simulation.presets import load_config


def test_mean_ci_is_the_t_interval():
    e = mean_ci([1, 2, 3, 4, 5])
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, 4) * sd / sqrt(n)
    assert_allclose([e.mean, e.lo, e.hi], [3.0, 3.0 - half, 3.0 + half], rtol=1e-6)
    assert e.n == 5 and e.excludes_zero and e.sign() == 1


def test_mean_ci_edge_cases():
    same = mean_ci([0.1] * 6)
    assert same.mean == same.lo == same.hi == 0.1
    one = mean_ci([2.0, math.nan])
    assert one.mean == 2.0 and one.n == 1 and math.isnan(one.lo) and one.sign() == 0
    assert mean_ci([]).n == 0 and math.isnan(mean_ci([]).mean)
    assert mean_ci([-1.0, 1.0]).sign() == 0


def test_paired_difference_uses_common_seeds_only():
    treated = {0: 5.0, 1: 7.0, 2: 100.0}
    control = {0: 4.0, 1: 5.0, 3: -100.0}
    e = paired_difference(treated, control)
    assert e.n == 2 and e.mean == pytest.approx(1.5)


def test_interaction_is_the_difference_of_differences_per_seed():
    both, a, b, neither = {0: 10.0, 1: 12.0}, {0: 6.0, 1: 7.0}, {0: 3.0, 1: 4.0}, {0: 1.0, 1: 1.0}
    # seed 0: (10 - 6) - (3 - 1) = 2; seed 1: (12 - 7) - (4 - 1) = 2
    e = interaction(both, a, b, neither)
    assert e.mean == 2.0 and e.lo == e.hi == 2.0 and e.n == 2


@pytest.mark.parametrize("n", range(1, 41))
def test_share_ci_holds_the_share_at_zero_and_one(n):
    for flags in ([0] * n, [1] * n):
        e = share_ci(flags)
        assert 0.0 <= e.lo <= e.mean <= e.hi <= 1.0, e  # error bars never negative


def test_share_ci_is_the_wilson_interval():
    e = share_ci([0] * 10)
    z2 = 1.959964**2
    assert e.mean == 0.0 and e.lo == 0.0
    assert e.hi == pytest.approx(z2 / (10 + z2), rel=1e-5)
    full = share_ci([1] * 4)
    assert full.mean == 1.0 and full.hi == 1.0 and 0.4 < full.lo < 0.6


def test_ratio_of_means_needs_a_positive_denominator():
    assert ratio_of_means({0: 10.0, 1: 30.0}, {0: 1.0, 1: 3.0}) == pytest.approx(10.0)
    assert math.isnan(ratio_of_means({0: 10.0}, {0: -1.0}))


def test_step_threshold_finds_a_jump_and_not_a_line():
    x = np.arange(10, 60, dtype=float)
    wiggle = 0.01 * np.sin(x)  # deterministic noise
    step = step_threshold(x, 0.05 + 0.2 * (x > 30.5) + wiggle)
    assert step.found and 30 <= step.breakpoint <= 31
    assert step.jump.mean == pytest.approx(0.2, abs=0.02) and step.delta_bic > 10
    line = step_threshold(x, 0.05 + 0.004 * x + wiggle)
    assert not line.found
    few = step_threshold(x[:6], x[:6])
    assert not few.found and math.isnan(few.breakpoint)


def test_cells_are_named_by_sorted_design_overrides_only():
    job = ["scenario=top_down", "experiment=synergy", "experiment.replications=3", "seed=4",
           "cluster.support_end_step=12", "steps=8"]
    assert design_overrides(job) == ["cluster.support_end_step=12", "scenario=top_down",
                                     "steps=8"]
    assert cell_name(job) == "cluster.support_end_step=12__scenario=top_down__steps=8"
    assert cell_name(list(reversed(job))) == cell_name(job)
    assert cell_name(["experiment=x"]) == "default"
    odd = cell_name(["town.sectors=[{a: 1}]"])
    assert "/" not in odd and " " not in odd and odd != cell_name(["town.sectors=[{a: 2}]"])


def test_firm_base_scales_only_the_listed_sector_kinds():
    cfg = load_config("sokol", "baseline")
    before = {s.name: (s.kind.value, s.initial_firms) for s in cfg.town.sectors}
    apply_firm_base(cfg, 0.5, ["related", "supporting"])
    for s in cfg.town.sectors:
        kind, n = before[s.name]
        assert s.initial_firms == (round(n * 0.5) if kind in ("related", "supporting") else n)
    with pytest.raises(ConfigError, match="initial_firms"):
        apply_firm_base(cfg, -1.0, ["related"])


def _run_table(unemployment: list[float], members: list[float]) -> pd.DataFrame:
    n = len(unemployment)
    df = pd.DataFrame({name: np.zeros(n) for name in REPORTERS})
    df["step"] = np.arange(n)
    df["unemployment_rate"] = unemployment
    df["members"] = members
    df["cmc_exists"] = [float(m > 0) for m in members]
    df["non_cfe_jobs"] = np.linspace(1000, 1100, n)
    df["spend_federal"] = 1.0
    df["tax_expenditure_regional"] = 0.5
    df["spend_infrastructure"] = 1.0
    df["public_cost_cumulative"] = 1.5 * (df["step"] + 1)
    return df


def test_run_metrics_shock_recovery_and_support():
    u = [0.05, 0.05, 0.05, 0.05, 0.12, 0.10, 0.07, 0.055, 0.05, 0.05]
    members = [0, 0, 5, 8, 10, 12, 9, 7, 6, 6]
    config = {"shock": {"step": 4}, "cluster": {"founder": "authorities",
                                                  "support_end_step": 5}}
    m = run_metrics(_run_table(u, members), config, {"recovery_tolerance": 0.01})
    assert m["unemployment_pre_shock"] == pytest.approx(0.05)
    assert m["unemployment_peak_rise"] == pytest.approx(0.07)
    assert m["recovery_quarters"] == 3.0 and m["recovered"] == 1.0  # step 7 is within 1 p.p.
    assert m["members_at_support_end"] == 12.0 and m["members_retained"] == 0.5
    assert m["non_cfe_jobs_change"] == pytest.approx(100.0)
    assert m["cost_federal"] == 10.0 and m["cost_regional"] == 5.0
    assert m["cost_infrastructure"] == 10.0 and m["public_cost"] == 15.0
    none = run_metrics(_run_table(u, members), {"shock": {"step": -1},
                                               "cluster": {"founder": "nobody"}}, {})
    assert math.isnan(none["recovery_quarters"]) and math.isnan(none["members_at_support_end"])
