"""Every rule against values computed by hand (docs/ODD.md section 3.4)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from simulation import rules
from simulation.config import TasedConfig, TaxConfig
from simulation.fiscal import Ledger

TASED, TAXES = TasedConfig(), TaxConfig()


def test_demand_process():
    assert rules.demand_shock(0.5, 0.8, 0.1, 1.0) == pytest.approx(0.5)
    # 100 * 1.01^2 * e^0 * (1 - 0.3)
    assert rules.external_demand(100, 0.01, 2, 0.0, 0.3) == pytest.approx(71.407)
    assert rules.capture_factor(1.1, 1.0, 2.0) == pytest.approx(1.21)


def test_demand_split():
    # sector 0: mean A = (1*1 + 3*2) / 4 = 1.75; sector 1 alone keeps its weight
    w = rules.replicator(np.array([1.0, 3.0, 2.0]), np.array([1.0, 2.0, 0.5]),
                         np.array([0, 0, 1]), 2, 0.5)
    assert_allclose(w, [1.0 * (1 + 0.5 * (1 / 1.75 - 1)), 3.0 * (1 + 0.5 * (2 / 1.75 - 1)), 2.0])
    assert w[:2].sum() == pytest.approx(4.0)  # market shares are conserved within a sector
    assert rules.replicator(np.array([1.0, 1.0]), np.array([0.1, 10.0]), np.array([0, 0]), 1,
                            5.0)[0] == 0.0
    assert rules.entry_weight(10.0, 6.0, 30.0) == pytest.approx(2.0)
    assert rules.entry_weight(10.0, 0.0, 0.0) == 10.0
    split = rules.split_by_weight(np.array([100.0, 50.0]), np.array([1.0, 3.0, 2.0]),
                                  np.array([0, 0, 1]), 2)
    assert_allclose(split, [25.0, 75.0, 50.0])
    empty = rules.split_by_weight(np.array([100.0]), np.array([0.0]), np.array([0]), 1)
    assert_allclose(empty, [0.0])


def test_allocate_sizes_respects_total_and_cap():
    sizes = rules.allocate_sizes(np.array([1.0, 1.0, 2.0, 100.0]), 40, 1, 15)
    assert sizes.sum() == 40 and sizes.max() <= 15 and sizes.min() >= 1
    # floor 1 each, then 36 in proportion 1:1:2:100 -> 1.35, 1.35, 1.69, 35.6; the 20.6 cut from
    # the largest is spread in proportion to the others' sizes -> 7.67, 7.67, 9.64; rounding
    assert list(sizes) == [8, 8, 9, 15]
    assert list(rules.allocate_sizes(np.array([1.0, 3.0]), 8, 0, 100)) == [2, 6]
    assert list(rules.allocate_sizes(np.array([1.0, 3.0]), 8, 2, 100)) == [3, 5]


def test_tased_tax_schedule():
    assert rules.profit_tax_rates(None, TASED, TAXES) == (0.03, 0.17)
    assert rules.profit_tax_rates(0, TASED, TAXES) == (0.0, 0.05)
    assert rules.profit_tax_rates(19, TASED, TAXES) == (0.0, 0.05)
    assert rules.profit_tax_rates(20, TASED, TAXES) == (0.02, 0.10)
    assert rules.profit_tax_rates(40, TASED, TAXES) == (0.03, 0.17)
    assert rules.contribution_rate(None, TASED, TAXES) == 0.30
    assert rules.contribution_rate(39, TASED, TAXES) == 0.076
    assert rules.contribution_rate(40, TASED, TAXES) == 0.30
    assert rules.property_rate(None, TASED, TAXES) == pytest.approx(0.0055)
    assert rules.property_rate(5, TASED, TAXES) == 0.0
    assert rules.property_rate(20, TASED, TAXES) == pytest.approx(0.0055)


def test_firm_accounts():
    # 100 * 0.5 - 10 * 1.0 * 1.3 - 2 - 3 = 32; tax 0.2 * 32
    assert_allclose(rules.firm_accounts(100, 10, 1.0, 0.5, 0.3, 2.0, 3.0, 0.2), (32, 6.4, 25.6))
    # a loss pays no profit tax
    assert_allclose(rules.firm_accounts(10, 10, 1.0, 0.5, 0.3, 2.0, 3.0, 0.2), (-13, 0, -13))
    # 1 - 0.06 - 0.01 - 0.12 * 1.3 / 1.0
    assert rules.calibrated_input_share(1.0, 0.12, 0.3, 0.06, 0.01) == pytest.approx(0.774)
    assert rules.calibrated_input_share(0.1, 0.12, 0.3, 0.06, 0.01) == 0.0


def test_cognitive_distance_and_gain():
    assert rules.cognitive_distance((0, 0, 0, 0), (1, 1, 1, 1)) == pytest.approx(1.0)
    assert rules.cognitive_distance((0, 0), (0.3, 0.4)) == pytest.approx(0.5 / math.sqrt(2))
    assert rules.converge((0.0, 1.0), (1.0, 0.0), 0.25) == (0.25, 0.75)
    assert rules.knowledge_gain(0.35, 0.35) == pytest.approx(1.0)
    assert rules.knowledge_gain(0.0, 0.35) == 0.0
    assert rules.knowledge_gain(0.7, 0.35) == pytest.approx(2 * math.exp(-1))
    # inverted U: peaks at the optimal distance
    assert rules.knowledge_gain(0.2, 0.35) < 1 > rules.knowledge_gain(0.6, 0.35)


def test_partner_choice():
    assert rules.tie_success_prob(0, 0, 0.3) == pytest.approx(0.3)
    assert rules.tie_success_prob(3, 1, 0.3) == pytest.approx(1 - 0.7 * math.exp(-1))
    assert rules.partner_score(0.5, 0.8, 0.5, 100, 0.02, 0.01) == pytest.approx(0.39)


def test_innovation():
    assert rules.absorptive_capacity(0.025, 0.05, 0.3, 0.0) == pytest.approx(0.65)
    assert rules.absorptive_capacity(0.025, 0.05, 0.3, 0.5) == 1.0
    p = rules.innovation_prob(0.01, math.e - 1, 0.5, 0.01, 0.4, 0.2)
    assert p == pytest.approx(1 - math.exp(-0.114))
    assert rules.bounded_spillover(40, 0.02, 40) == pytest.approx(0.8 / math.e)
    assert rules.bounded_spillover(30, 0.02, 40) < rules.bounded_spillover(40, 0.02, 40)
    assert rules.bounded_spillover(50, 0.02, 40) < rules.bounded_spillover(40, 0.02, 40)
    # 0.08 * (800 / 50)^-0.25 = 0.04; small firms keep the full s.d.
    assert_allclose(rules.innovation_step_sd(np.array([10.0, 800.0]), 0.08, 50.0, 0.25),
                    [0.08, 0.04])
    assert rules.expected_gain_of_draw(0.0, 0.08) == pytest.approx(0.08 / math.sqrt(2 * math.pi))
    assert rules.expected_gain_of_draw(0.1, 0.0) == 0.1


def test_relatedness_and_choice():
    rel = np.array([[1.0, 0.5], [0.5, 1.0]])
    assert_allclose(rules.relatedness_density(rel, np.array([30.0, 10.0])), [0.875, 0.625])
    assert_allclose(rules.sector_choice_probs(np.array([0.0, math.log(2)]), 1.0), [1 / 3, 2 / 3])
    assert_allclose(rules.sector_choice_probs(np.array([0.0, 5.0]), 1.0,
                                              np.array([True, False])), [1.0, 0.0])
    assert_allclose(rules.location_quotient(np.array([20.0, 80.0]), np.array([0.1, 0.8])),
                    [2.0, 1.0])


def test_entry():
    assert rules.entry_npv(np.array([1.03, 1.0609]), 0.03) == pytest.approx(2.0)
    assert rules.arrival_rate(2.0, {"a": 1.0}, {"a": math.log(3)}) == pytest.approx(6.0)
    ok = dict(capex=3.0, jobs=10, sector_eligible=True, cfe_affiliated=False,
              cfe_revenue_share=0.5, tased=TASED)
    assert rules.is_tased_eligible(**ok)
    for field, bad in [("capex", 2.4), ("jobs", 9), ("sector_eligible", False),
                       ("cfe_affiliated", True), ("cfe_revenue_share", 0.51)]:
        assert not rules.is_tased_eligible(**{**ok, field: bad}), field


def test_balanced_fee():
    # costs 2 + 0.05 * 10 = 2.5; grant 1, reserves 0.5 -> 1.0 over 10 members paying 1 + 1 match
    assert rules.balanced_fee(0.01, 2.0, 0.05, 10, 1.0, 1.0, 0.5) == pytest.approx(0.05)
    assert rules.balanced_fee(0.2, 2.0, 0.05, 10, 1.0, 1.0, 0.5) == 0.2  # the minimum binds
    assert rules.balanced_fee(0.2, 2.0, 0.05, 0, 0.0, 0.0, 0.0) == 0.2  # nobody to charge


def test_membership():
    # 0.01 * 0.03 * 100 * 8 + 0.025 - 0.1
    assert rules.membership_benefit(0.01, 100, 0.03, 8, 0.025, 0.1) == pytest.approx(0.165)
    assert rules.joins_by_contagion(2, 4, 0.5)
    assert not rules.joins_by_contagion(1, 4, 0.5)
    assert not rules.joins_by_contagion(0, 0, 0.1)


def test_labour_and_town():
    # u doubles: w* = 2^-0.1 = 0.933; a quarter of the gap closes
    assert rules.wage_update(1.0, 1.0, 0.10, 0.05, 0.1, 0.25) == pytest.approx(1 - 0.25 * (1 - 2 ** -0.1))
    # unemployment is floored at 1%: w* = 5^0.1
    assert rules.wage_update(1.0, 1.0, 0.0, 0.05, 0.1, 1.0) == pytest.approx(5 ** 0.1)
    assert rules.out_migration_rate(0.1, 0.05, 0.5, 0.002, 0.05, 0.004) == pytest.approx(0.0025)
    assert rules.out_migration_rate(0.0, 0.05, 1.0, 0.002, 0.05, 0.004) == 0.0
    assert rules.urban_quality_update(0.4, 10, 36_000, 0.05, 10, 0.01) == pytest.approx(0.411)
    assert rules.urban_quality_update(0.4, 0, 36_000, 0.05, 10, 0.01) == pytest.approx(0.396)


def test_ledger_books_by_level_and_instrument():
    ledger = Ledger()
    ledger.spend("federal", "infrastructure", 9.5)
    ledger.spend("regional", "infrastructure", 0.5)
    ledger.spend("municipal", "urban_environment", 2.0)
    assert Ledger.total(ledger.step_outlays) == 12.0
    assert Ledger.total(ledger.step_outlays, "federal") == 9.5
    assert Ledger.total(ledger.step_outlays, None, "infrastructure") == 10.0
    ledger.new_step()
    assert Ledger.total(ledger.step_outlays) == 0.0
    assert Ledger.total(ledger.total_outlays) == 12.0
    with pytest.raises(ValueError):
        ledger.spend("federal", "infrastructure", -1.0)
    with pytest.raises(KeyError):
        ledger.spend("federal", "bridges", 1.0)
