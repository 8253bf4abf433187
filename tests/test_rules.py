"""Every rule against values computed by hand (docs/ODD.md section 3.4), by mechanism."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from simulation import sectors
from simulation.agents.cmc import fees_by_size
from simulation.config import TasedConfig, TaxConfig
from simulation.accounts import Accounts
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
    # budget 4 mln RUB at reference 1 and elasticity 0.5: a = 0.01 * 4^0.5 = 0.02;
    # 0.01 + 0.02 + 0.2 * 0.5 * ln(e) = 0.13
    p = learning.innovation_prob(4.0, math.e - 1, 0.5, 0.01, 0.01, 1.0, 0.5, 0.2)
    assert p == pytest.approx(1 - math.exp(-0.13))
    # diminishing returns: four times the budget, twice the R&D term; a bigger firm
    # (budget) innovates more often
    low, high = learning.innovation_prob(np.array([1.0, 4.0]), 0.0, 0.0, 0.0, 0.01, 1.0, 0.5,
                                         0.0)
    assert -math.log(1 - high) == pytest.approx(2 * -math.log(1 - low)) and high > low
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


def test_fees_shared_by_size():
    # need 10 from firms of 100, 50, 2 employees with a minimum fee of 0.5: the two large pay
    # r L, the small one the minimum: r = (10 - 0.5) / 150; r * 2 < 0.5 holds
    rate = fees_by_size(np.array([2, 100, 50]), 10.0, 0.5)
    assert rate == pytest.approx(9.5 / 150)
    fees = np.maximum(0.5, rate * np.array([2, 100, 50]))
    assert fees.sum() == pytest.approx(10.0)
    assert fees_by_size(np.array([10, 100]), 0.8, 0.5) == 0.0  # minimum fees cover it
    # everyone above the minimum: r = need / total employees
    assert fees_by_size(np.array([100, 100]), 20.0, 0.5) == pytest.approx(0.1)


def test_membership():
    # dh * E[gain] * wL(1+c) * a(H, r) + subsidy - cost = 0.01 * 0.03 * 100 * 8 + 0.025 - 0.1
    assert cluster.membership_benefit(0.01, 0.03, 100, 8, 0.025, 0.1) == pytest.approx(0.165)
    # the annuity of the entry horizon: 1/1.03 + 1/1.03^2
    assert cluster.annuity(2, 0.03) == pytest.approx(1 / 1.03 + 1 / 1.03 ** 2)
    assert cluster.annuity(40, 0.0) == 40.0
    # join: a positive gain worth the switching cost (waived by contagion), unless waiting
    net = np.array([0.02, 0.02, 0.001, -0.01, 0.02])
    contagion = np.array([False, True, True, True, False])
    waiting = np.array([False, False, False, False, True])
    assert list(cluster.joins(net, 20.0, 0.2, contagion, waiting)) == \
        [True, True, True, False, False]
    assert list(cluster.joins(net, 20.0, 0.5, contagion, waiting)) == \
        [False, True, True, False, False]
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
    accounts = Accounts()
    ledger = Ledger(accounts)
    ledger.spend("federal", "infrastructure", 9.5, "outside")
    ledger.spend("regional", "infrastructure", 0.5, "outside")
    ledger.spend("municipal", "urban_environment", 2.0, "outside")
    ledger.collect("regional", "property", 3.0, "firms")
    assert Ledger.total(ledger.step_outlays) == 12.0
    assert Ledger.total(ledger.step_outlays, "federal") == 9.5
    assert Ledger.total(ledger.step_outlays, None, "infrastructure") == 10.0
    assert list(ledger.balance) == [-9.5, 2.5, -2.0]
    # every outlay and tax is a payment between sectors
    assert accounts.net_inflow("outside") == 12.0
    assert accounts.net_inflow("firms") == -3.0
    assert accounts.net_inflow("regional") == 2.5
    ledger.new_step()
    assert Ledger.total(ledger.step_outlays) == 0.0
    assert Ledger.total(ledger.total_outlays) == 12.0
    with pytest.raises(ValueError):
        ledger.spend("federal", "infrastructure", -1.0, "outside")
    with pytest.raises(KeyError):
        ledger.spend("federal", "bridges", 1.0, "outside")
    with pytest.raises(ValueError):
        accounts.pay("firms", "cmc", -1.0, "fees")
