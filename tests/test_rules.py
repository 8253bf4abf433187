"""Every rule against values computed by hand (docs/ODD.md section 3.4), by mechanism."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from simulation import sectors
from simulation.agents.cmc import balanced_fee
from simulation.config import TasedConfig, TaxConfig
from simulation.fiscal import Ledger
from simulation.mechanisms import (cluster, demand, diversification, entry, labour, learning,
                                   market, migration, network, tased)
from simulation.setup import allocate_sizes

TASED, TAXES = TasedConfig(), TaxConfig()


def test_demand_process():
    assert demand.demand_shock(0.5, 0.8, 0.1, 1.0) == pytest.approx(0.5)
    # 100 * 1.01^2 * e^0 * (1 - 0.3)
    assert demand.external_demand(100, 0.01, 2, 0.0, 0.3) == pytest.approx(71.407)
    assert demand.capture_factor(1.1, 1.0, 2.0) == pytest.approx(1.21)


def test_demand_split():
    # sector 0: mean A = (1*1 + 3*2) / 4 = 1.75; sector 1 alone keeps its weight
    w = market.replicator(np.array([1.0, 3.0, 2.0]), np.array([1.0, 2.0, 0.5]),
                         np.array([0, 0, 1]), 2, 0.5)
    assert_allclose(w, [1.0 * (1 + 0.5 * (1 / 1.75 - 1)), 3.0 * (1 + 0.5 * (2 / 1.75 - 1)), 2.0])
    assert w[:2].sum() == pytest.approx(4.0)  # market shares are conserved within a sector
    assert market.replicator(np.array([1.0, 1.0]), np.array([0.1, 10.0]), np.array([0, 0]), 1,
                            5.0)[0] == 0.0
    assert diversification.entry_weight(10.0, 6.0, 30.0) == pytest.approx(2.0)
    assert diversification.entry_weight(10.0, 0.0, 0.0) == 10.0
    split = market.split_by_weight(np.array([100.0, 50.0]), np.array([1.0, 3.0, 2.0]),
                                  np.array([0, 0, 1]), 2)
    assert_allclose(split, [25.0, 75.0, 50.0])
    empty = market.split_by_weight(np.array([100.0]), np.array([0.0]), np.array([0]), 1)
    assert_allclose(empty, [0.0])


def test_allocate_sizes_respects_total_and_cap():
    sizes = allocate_sizes(np.array([1.0, 1.0, 2.0, 100.0]), 40, 1, 15)
    assert sizes.sum() == 40 and sizes.max() <= 15 and sizes.min() >= 1
    # floor 1 each, then 36 in proportion 1:1:2:100 -> 1.35, 1.35, 1.69, 35.6; the 20.6 cut from
    # the largest is spread in proportion to the others' sizes -> 7.67, 7.67, 9.64; rounding
    assert list(sizes) == [8, 8, 9, 15]
    assert list(allocate_sizes(np.array([1.0, 3.0]), 8, 0, 100)) == [2, 6]
    assert list(allocate_sizes(np.array([1.0, 3.0]), 8, 2, 100)) == [3, 5]


def test_tased_tax_schedule():
    def rates(age):
        return tuple(float(x) for x in tased.profit_tax_rates(age, TASED, TAXES))

    assert rates(-1) == (0.03, 0.17)  # not a resident
    assert rates(0) == (0.0, 0.05)
    assert rates(19) == (0.0, 0.05)
    assert rates(20) == (0.02, 0.10)
    assert rates(40) == (0.03, 0.17)
    assert_allclose(tased.contribution_rate(np.array([-1, 39, 40]), TASED, TAXES),
                    [0.30, 0.076, 0.30])
    assert_allclose(tased.property_rate(np.array([-1, 5, 20]), TASED, TAXES),
                    [0.0055, 0.0, 0.0055])
    assert_allclose(tased.resident_ages(np.array([-1, 3, 10]), 10), [-1, 7, 0])


def test_firm_accounts():
    # 100 * 0.5 - 10 * 1.0 * 1.3 - 2 - 3 = 32; tax 0.2 * 32
    assert_allclose(market.firm_accounts(100, 10, 1.0, 0.5, 0.3, 2.0, 3.0, 0.2), (32, 6.4, 25.6))
    # a loss pays no profit tax
    assert_allclose(market.firm_accounts(10, 10, 1.0, 0.5, 0.3, 2.0, 3.0, 0.2), (-13, 0, -13))
    # 1 - 0.06 - 0.01 - 0.12 * 1.3 / 1.0
    assert market.calibrated_input_share(1.0, 0.12, 0.3, 0.06, 0.01, 0.95) == \
        pytest.approx(0.774)
    assert market.calibrated_input_share(0.1, 0.12, 0.3, 0.06, 0.01, 0.95) == 0.0
    assert market.calibrated_input_share(1.0, 0.01, 0.3, 0.0, 0.0, 0.95) == 0.95  # the cap


def test_cognitive_distance_and_gain():
    assert network.cognitive_distance((0, 0, 0, 0), (1, 1, 1, 1)) == pytest.approx(1.0)
    assert network.cognitive_distance((0, 0), (0.3, 0.4)) == pytest.approx(0.5 / math.sqrt(2))
    assert_allclose(network.cognitive_distance(np.zeros((2, 2)), [[0.3, 0.4], [1.0, 1.0]]),
                    [0.5 / math.sqrt(2), 1.0])
    # one success moves a firm a share r of the way; two, 1 - (1 - r)^2
    assert_allclose(network.converge_share([0, 1, 2], 0.25), [0.0, 0.25, 0.4375])
    assert network.knowledge_gain(0.35, 0.35) == pytest.approx(1.0)
    assert network.knowledge_gain(0.0, 0.35) == 0.0
    assert network.knowledge_gain(0.7, 0.35) == pytest.approx(2 * math.exp(-1))
    # inverted U: peaks at the optimal distance
    assert network.knowledge_gain(0.2, 0.35) < 1 > network.knowledge_gain(0.6, 0.35)


def test_partner_choice():
    assert network.tie_success_prob(0, 0, 0.3, 4.0) == pytest.approx(0.3)
    assert network.tie_success_prob(3, 1, 0.3, 4.0) == pytest.approx(1 - 0.7 * math.exp(-1))
    assert network.partner_score(0.5, 0.8, 0.5, 100, 0.02, 0.01) == pytest.approx(0.39)


def test_innovation():
    assert learning.absorptive_capacity(0.025, 0.05, 0.3, 0.0) == pytest.approx(0.65)
    assert learning.absorptive_capacity(0.025, 0.05, 0.3, 0.5) == 1.0
    p = learning.innovation_prob(0.01, math.e - 1, 0.5, 0.01, 0.4, 0.2)
    assert p == pytest.approx(1 - math.exp(-0.114))
    assert learning.bounded_spillover(40, 0.02, 40) == pytest.approx(0.8 / math.e)
    assert learning.bounded_spillover(30, 0.02, 40) < learning.bounded_spillover(40, 0.02, 40)
    assert learning.bounded_spillover(50, 0.02, 40) < learning.bounded_spillover(40, 0.02, 40)
    # 0.08 * (800 / 50)^-0.25 = 0.04; small firms keep the full s.d.
    assert_allclose(learning.innovation_step_sd(np.array([10.0, 800.0]), 0.08, 50.0, 0.25),
                    [0.08, 0.04])
    assert learning.expected_gain_of_draw(0.0, 0.08) == pytest.approx(0.08 / math.sqrt(2 * math.pi))
    assert learning.expected_gain_of_draw(0.1, 0.0) == 0.1


def test_relatedness_and_choice():
    rel = np.array([[1.0, 0.5], [0.5, 1.0]])
    assert_allclose(sectors.relatedness_density(rel, np.array([30.0, 10.0])), [0.875, 0.625])
    assert_allclose(sectors.location_quotient(np.array([20.0, 80.0]), np.array([0.1, 0.8])),
                    [2.0, 1.0])


def test_entry():
    assert entry.entry_npv(np.array([1.03, 1.0609]), 0.03) == pytest.approx(2.0)
    assert entry.arrival_rate(2.0, {"a": 1.0}, {"a": math.log(3)}) == pytest.approx(6.0)
    ok = dict(capex=3.0, jobs=10, sector_eligible=True, cfe_affiliated=False,
              cfe_revenue_share=0.5, tased=TASED)
    assert tased.is_eligible(**ok)
    for field, bad in [("capex", 2.4), ("jobs", 9), ("sector_eligible", False),
                       ("cfe_affiliated", True), ("cfe_revenue_share", 0.51)]:
        assert not tased.is_eligible(**{**ok, field: bad}), field


def test_balanced_fee():
    # costs 2 + 0.05 * 10 = 2.5; grant 1, reserves 0.5 -> 1.0 over 10 members paying 1 + 1 match
    assert balanced_fee(0.01, 2.0, 0.05, 10, 1.0, 1.0, 0.5) == pytest.approx(0.05)
    assert balanced_fee(0.2, 2.0, 0.05, 10, 1.0, 1.0, 0.5) == 0.2  # the minimum binds
    assert balanced_fee(0.2, 2.0, 0.05, 0, 0.0, 0.0, 0.0) == 0.2  # nobody to charge


def test_membership():
    # 0.01 * 0.03 * 100 * 8 + 0.025 - 0.1
    assert cluster.membership_benefit(0.01, 100, 0.03, 8, 0.025, 0.1) == pytest.approx(0.165)
    assert_allclose(cluster.joins_by_contagion([2, 1, 0], [4, 4, 0], [0.5, 0.5, 0.1]),
                    [True, False, False])


def test_labour_and_town():
    # u doubles: w* = 2^-0.1 = 0.933; a quarter of the gap closes
    assert labour.wage_update(1.0, 1.0, 0.10, 0.05, 0.1, 0.25, 0.01) == \
        pytest.approx(1 - 0.25 * (1 - 2 ** -0.1))
    # unemployment is floored at 1%: w* = 5^0.1
    assert labour.wage_update(1.0, 1.0, 0.0, 0.05, 0.1, 1.0, 0.01) == pytest.approx(5 ** 0.1)
    assert migration.out_migration_rate(0.1, 0.05, 0.5, 0.002, 0.05, 0.004) == pytest.approx(0.0025)
    assert migration.out_migration_rate(0.0, 0.05, 1.0, 0.002, 0.05, 0.004) == 0.0
    assert migration.urban_quality_update(0.4, 10, 36_000, 0.05, 10, 36_000, 0.01) == \
        pytest.approx(0.411)
    assert migration.urban_quality_update(0.4, 0, 36_000, 0.05, 10, 36_000, 0.01) == \
        pytest.approx(0.396)
    # 60 graduates, half stay at U = 1; half of that depends on U: 30 * (0.5 + 0.5 * 0.4)
    assert migration.graduates_staying(60, 0.5, 0.5, 0.4) == 21


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
