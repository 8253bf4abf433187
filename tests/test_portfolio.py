"""The national portfolio: allocation rules against hand-computed shares, the potential score,
the instruments a mode gets, the design's cells and common random numbers, the estimator, and
the command end to end (a tiny real run, and bad options refused before anything is written)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.output import simulate
from experiments.portfolio import (BUDGET, CATEGORY_WEIGHTS, MONO_TOWN_CRITERION, RULES, UNIT,
                                   Mode, allocate, instruments, mode, national, options,
                                   pareto_front, portfolio_design, portfolio_plan,
                                   potential_score, resamples)
from simulation.config import build
from simulation.presets import CONFIG_DIR
from simulation.towns import TownTraits
from test_hostile_support import assert_one_error, run


def traits(town_id: str, category: int, population: int, cfe_share: float = 0.3,
           universities: int = 0) -> TownTraits:
    return TownTraits(town_id=town_id, category=category, cfe_sector="steel",
                      population=population, cfe_share=cfe_share, cfe_jobs=0,
                      unemployment=0.05, university=universities > 0,
                      universities=universities, municipal_budget=5.0, scale=1.0, firms=100,
                      seed=0, quantile=0.5)


#: three made-up towns: 10k people in category 1, 30k in 2, 60k in 3
TOWNS = [traits("a", 1, 10_000, 0.3, 0), traits("b", 2, 30_000, 0.2, 1),
         traits("c", 3, 60_000, 0.5, 2)]


def units(shares: dict[str, float]) -> int:
    return sum(round(v * UNIT) for v in shares.values())


# --------------------------------------------------------------------------- allocation


def test_equal_gives_equal_shares_that_sum_to_the_budget():
    shares = allocate(TOWNS, "equal", 90.0)
    assert shares == {"a": 30.0, "b": 30.0, "c": 30.0}
    # 100 mln RUB in thousands: 33,333 each and the one thousand left to the first town
    shares = allocate(TOWNS, "equal", 100.0)
    assert shares == {"a": 33.334, "b": 33.333, "c": 33.333}
    assert units(shares) == 100 * UNIT


def test_population_shares_are_proportional():
    shares = allocate(TOWNS, "population", 100.0)
    assert shares == {"a": 10.0, "b": 30.0, "c": 60.0}


def test_category_shares_follow_the_weights():
    # weights 1.5, 1.0, 0.5 of 3.0: 50, 33.333.., 16.666..; the thousand left goes to the
    # largest remainder (c's 0.67 thousand)
    shares = allocate(TOWNS, "category", 100.0)
    assert shares == {"a": 50.0, "b": 33.333, "c": 16.667}
    assert units(shares) == 100 * UNIT
    flat = allocate(TOWNS, "category", 30.0, {1: 1.0, 2: 1.0, 3: 1.0})
    assert flat == {"a": 10.0, "b": 10.0, "c": 10.0}


def test_potential_score_by_hand():
    # (P / 36,000)^0.5 (1 - CFE share) (1 + 0.5 universities)
    assert potential_score(traits("x", 2, 36_000, 0.3, 1)) == pytest.approx(1.0 * 0.7 * 1.5)
    assert potential_score(traits("y", 2, 144_000, 0.2, 0)) == pytest.approx(2.0 * 0.8)
    assert potential_score(traits("z", 2, 9_000, 0.5, 2)) == pytest.approx(0.5 * 0.5 * 2.0)


def test_potential_shares_are_proportional_to_the_score():
    scores = [potential_score(t) for t in TOWNS]
    shares = allocate(TOWNS, "potential", 1000.0)
    for t, s in zip(TOWNS, scores):
        assert shares[t.town_id] == pytest.approx(1000.0 * s / sum(scores), abs=1e-3)
    assert units(shares) == 1000 * UNIT


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_sums_to_the_budget_over_the_nation(rule):
    plan = portfolio_plan({"design": {"name": "portfolio", "towns": "all", "rules": [rule],
                                      "modes": ["business_led"]}})
    shares = [c.allocation for c in plan if c.rule]
    assert len(shares) == 319
    assert sum(round(a * UNIT) for a in shares) == round(BUDGET * UNIT)


def test_instruments_spend_the_allocation_in_the_presets_mix():
    top = mode("top_down")
    assert (top.infrastructure, top.public_funding, top.subsidy_budget) == (40.0, 5.0, 20.0)
    # federal: 40 x 40 quarters x 0.95 + (5 + 20) x 36 quarters x 0.7 = 1520 + 630
    assert top.federal_outlay == pytest.approx(2150.0)
    got = instruments(top, 215.0)
    assert got == {"tased.infrastructure_per_step": 4.0, "cluster.public_funding": 0.5,
                   "cluster.subsidy_budget": 2.0}
    business = mode("business_led")
    assert instruments(business, 152.0) == {"tased.infrastructure_per_step": 4.0,
                                            "cluster.public_funding": 0.0,
                                            "cluster.subsidy_budget": 0.0}
    none = Mode("none", 0.0, 0.0, 0.0, 40, 36, 0.95, 0.7)
    assert set(instruments(none, 100.0).values()) == {0.0}


# --------------------------------------------------------------------------- the design


def test_design_cells_and_one_town_in_all_its_cells():
    settings = {"design": {"name": "portfolio", "towns": 3, "rules": ["equal", "population"]}}
    plan = portfolio_plan(settings)
    assert len(plan) == 3 * (1 + 2 * 3)
    assert [c.row for c in plan] == portfolio_design(settings)
    assert sorted(c.traits.category for c in plan if not c.rule) == [1, 2, 3]
    for town in {c.traits.town_id for c in plan}:
        mine = [c for c in plan if c.traits.town_id == town]
        assert sum(c.mode == "baseline" for c in mine) == 1
        assert all(c.row["town"] == mine[0].row["town"] for c in mine)
        assert len({c.row["urban.investment_per_step"] for c in mine}) == 1
    # a sampled town gets its national share: the same as in the full set
    full = {(c.rule, c.mode, c.traits.town_id): c.allocation
            for c in portfolio_plan({"design": {"name": "portfolio", "towns": "all",
                                                "rules": ["equal", "population"]}})}
    for c in plan:
        if c.rule:
            assert full[c.rule, c.mode, c.traits.town_id] == c.allocation
    weights = {c.traits.town_id: c.traits.weight for c in plan}
    assert sum(weights.values()) == pytest.approx(319)


def model_config(row: dict, seed: int, steps: int):
    """A design row as the sweep builds it: the scenario preset, the row's values, the seed."""
    data = yaml.safe_load((CONFIG_DIR / "scenario" / f"{row['scenario']}.yaml").read_text())
    for key, value in row.items():
        if key == "scenario":
            continue
        *path, name = key.split(".")
        target = data
        for part in path:
            target = target.setdefault(part, {})
        target[name] = copy.deepcopy(value)
    return build({**data, "seed": seed, "steps": steps})


def test_common_random_numbers_across_cells():
    """The same town and seed give the same baseline run whichever design it is part of, and
    every cell of a town starts from the same town on the same seed."""
    one = portfolio_plan({"design": {"name": "portfolio", "towns": 3, "rules": ["equal"]}})
    other = portfolio_plan({"design": {"name": "portfolio", "towns": 3,
                                       "rules": ["potential"], "modes": ["joint"]}})
    base = next(c for c in one if c.mode == "baseline")
    same = next(c for c in other if c.mode == "baseline"
                and c.traits.town_id == base.traits.town_id)
    assert same.row == base.row
    a = simulate(model_config(base.row, seed=3, steps=4)).model
    b = simulate(model_config(same.row, seed=3, steps=4)).model
    pd.testing.assert_frame_equal(a, b)
    policy = next(c for c in one if c.mode == "top_down"
                  and c.traits.town_id == base.traits.town_id)
    p = simulate(model_config(policy.row, seed=3, steps=5)).model
    for column in ("non_cfe_jobs", "cfe_employment", "firms", "population"):
        assert p[column].iloc[0] == a[column].iloc[0], column


@pytest.mark.parametrize("spec, field", [
    ({"rules": ["equal", "lottery"]}, "experiment.design.rules"),
    ({"rules": []}, "experiment.design.rules"),
    ({"modes": ["anarchy"]}, "experiment.design.modes"),
    ({"modes": ["baseline"]}, "experiment.design.modes"),
    ({"budget": -5}, "experiment.design.budget"),
    ({"budget": 0}, "experiment.design.budget"),
    ({"towns": 0}, "experiment.design.towns"),
    ({"towns": 320}, "experiment.design.towns"),
    ({"towns": "some"}, "experiment.design.towns"),
    ({"national_seed": -1}, "experiment.design.national_seed"),
    ({"category_weights": {1: 1.0, 2: 1.0}}, "experiment.design.category_weights"),
    ({"category_weights": {1: 1.0, 2: -1.0, 3: 1.0}}, "experiment.design.category_weights.2"),
    ({"size": 3}, "experiment.design.size"),
])
def test_bad_options_name_the_field(spec, field):
    with pytest.raises(ValueError) as err:
        options({"design": {"name": "portfolio", **spec}})
    assert str(err.value).startswith(field + ":"), str(err.value)


def test_defaults_are_the_quick_design():
    o = options({"design": {"name": "portfolio"}})
    assert o["towns"] == 30 and o["budget"] == BUDGET and o["rules"] == list(RULES)
    assert o["category_weights"] == CATEGORY_WEIGHTS
    assert MONO_TOWN_CRITERION == 0.2


# --------------------------------------------------------------------------- the estimator


def test_national_total_weights_towns_and_resamples_seeds():
    weights = np.array([2.0, 2.0, 5.0])
    strata = np.array([1, 1, 2])
    values = np.array([[1.0, 3.0], [5.0, 7.0], [0.0, 2.0]])  # towns x seeds
    rs = resamples(weights, strata, 2, census=False, b=200, seed=1)
    point, by_seed, both = national(values, weights, rs)
    assert point == pytest.approx(2 * 2 + 2 * 6 + 5 * 1)
    # resampled seeds: every draw lies between all-first-seed and all-second-seed totals
    assert by_seed.min() >= 2 * 1 + 2 * 5 + 5 * 0 - 1e-9
    assert by_seed.max() <= 2 * 3 + 2 * 7 + 5 * 2 + 1e-9
    assert both is not None and both.max() <= 4 * 7 + 5 * 2 + 1e-9
    cat1, _, _ = national(values, weights, rs, strata == 1)
    assert cat1 == pytest.approx(16.0)
    census = resamples(weights, strata, 2, census=True, b=10)
    assert census.towns is None


def test_pareto_front():
    points = [(1.0, 10.0), (2.0, 5.0), (2.0, 20.0), (3.0, 20.0), (0.5, 0.0)]
    assert pareto_front(points) == [0, 2, 4]


# --------------------------------------------------------------------------- the command


@pytest.mark.slow
def test_tiny_portfolio_writes_report_figures_and_summary(tmp_path):
    out = tmp_path / "sweep"
    res = run("tased-experiment", "experiment=portfolio", "experiment.design.towns=3",
              "experiment.replications=2", "steps=6", "experiment.design.rules=[equal,potential]",
              "experiment.workers=2", f"hydra.sweep.dir={out}", cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 3 * (1 + 2 * 3) * 2
    assert sorted(summary["seed"].unique()) == [0, 1]
    assert summary["town"].nunique() == 3
    assert (summary["scenario"] == "baseline").sum() == 3 * 2
    assert set(summary["scenario"]) == {"baseline", "top_down", "business_led", "joint"}
    report = (out / "report.md").read_text()
    assert "Most national non-CFE jobs" in report and "By governance mode" in report
    assert "By allocation rule" in report and "Worst (category 1)" in report
    assert "What the portfolio assumes" in report
    assert "Outcomes by category" in report
    for stem in ("portfolio_categories", "portfolio_pareto"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 0


@pytest.mark.slow
def test_bad_option_is_one_error_and_writes_nothing(tmp_path):
    out = tmp_path / "sweep"
    res = run("tased-experiment", "experiment=portfolio", "experiment.design.rules=[equal,lottery]",
              f"hydra.sweep.dir={out}", cwd=tmp_path)
    line = assert_one_error(res, 2, "experiment.design.rules", "lottery", "potential")
    assert "equal, category, population, potential" in line
    res = run("tased-experiment", "experiment=portfolio", "experiment.design.towns=400",
              f"hydra.sweep.dir={out}", cwd=tmp_path)
    assert_one_error(res, 2, "experiment.design.towns", "1..319")
    assert not out.exists()
