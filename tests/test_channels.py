"""The levers' channels (ODD 4.2-4.12): each against hand-computed values, then at work in the
model: priority sectors, designated procurement, supplier search, innovation with size,
TASED eligibility as the law reads, joint-project subsidies, retirement."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from simulation.config import PriorityRule
from simulation.mechanisms import network, tased
from simulation.state import ORIGINS


def _investors_in_priority(make_model, rule: str, seeds: range) -> float:
    """Share of investors (over runs) that entered a sector of the town's LQ priorities."""
    inside = total = 0
    for seed in seeds:
        m = make_model("sokol", "top_down", seed=seed, steps=40,
                       **{"cluster.priority_rule": rule, "entry.investor_rate": 8.0})
        focus = make_model("sokol", "top_down", seed=seed, steps=5)
        focus.run()
        priority = focus.region.priority
        m.run()
        f = m.firms
        investors = f.origin == ORIGINS.index("investor")
        inside += int(priority[f.sector[investors]].sum())
        total += int(investors.sum())
    return inside / total


# --------------------------------------------------------------------------- 1 priorities


def test_courting_shares_one_effort_among_the_priority_sectors(make_model):
    m = make_model("sokol", "top_down", seed=1, steps=6)
    m.run()
    open_ = np.array([False] + [True] * 7 + [False] * 4)
    m.region.priority = np.zeros(12, dtype=bool)
    m.region.priority[[0, 1, 2]] = True  # sector 0 is closed to investors: 2 courted of 7
    assert_allclose(m.region.courting(open_), [1] + [1 + 1.0 * 7 / 2] * 2 + [1] * 9)
    m.region.priority[:] = True  # spreading the same effort tilts nothing
    weights = m.region.courting(open_)
    assert_allclose(weights[open_], weights[open_][0])
    m.cfg.cluster.founder = type(m.cfg.cluster.founder)("firms")  # no public cluster policy
    assert_allclose(m.region.courting(open_), 1.0)


def test_focusing_priorities_draws_investors_to_them(make_model):
    seeds = range(4)
    focus = _investors_in_priority(make_model, "location_quotient", seeds)
    spread = _investors_in_priority(make_model, "all_sectors", seeds)
    assert focus > spread


def test_cmc_steers_services_and_introductions_to_priority_members(make_model):
    m = make_model("sokol", "top_down", seed=1, steps=8, **{"cluster.targeting": 1.0})
    m.run()
    cmc, f = m.cmc, m.firms
    members = cmc.members
    prio = m.region.priority[f.sector[members]]
    assert prio.any() and (~prio).any()
    weights = 1.0 + prio  # targeting 1
    assert_allclose(cmc.intensity(members), cmc.service_intensity * weights / weights.mean())
    intro = cmc.broker(np.random.default_rng(5))
    starts = np.array([len(v) for k, v in intro.items()])
    assert starts.sum() > 0
    m.cfg.cluster.priority_rule = PriorityRule.all_sectors
    m.region.priority = m.region.choose_priorities()
    assert_allclose(cmc.intensity(members), cmc.service_intensity)


# --------------------------------------------------------------------------- 2 procurement


def test_designated_procurement_buys_from_members_only(make_model):
    for rule, only_members in (("designated", True), ("open", False)):
        m = make_model("sokol", "top_down", seed=2, steps=12, **{"cluster.procurement_rule": rule})
        m.run()
        f, ties = m.firms, m.ties
        suppliers = ties.b[ties.supply]
        buying = suppliers[f.cfe_sales[suppliers] > 0]
        assert len(buying)
        if only_members:
            assert f.member[buying].all()
        else:
            assert (~f.member[buying]).any()


# --------------------------------------------------------------------------- 3 search


def test_search_lists_firms_of_related_sectors(make_model):
    m = make_model("sokol", "baseline", seed=1, steps=2)
    m.run()
    f, s = m.firms, m.sectors
    searchers = np.arange(1, len(f), 7)
    u = np.random.default_rng(3).random((len(searchers), 2, 6))
    rows = network.related_firms(m, searchers, u)
    mine = f.sector[searchers][:, None]
    found = rows >= 0
    assert found.any()
    theirs = f.sector[np.where(found, rows, 0)]
    assert (theirs[found] != np.broadcast_to(mine, rows.shape)[found]).all()
    # drawn by relatedness: more often from a linked sector than from an unrelated one
    rel = s.relatedness[np.broadcast_to(mine, rows.shape)[found], theirs[found]]
    assert rel.mean() > s.relatedness[~np.eye(s.n, dtype=bool)].mean()


def test_supply_ties_decay_without_trade(make_model):
    """Under the designated rule non-member suppliers sell the CFE nothing, so their supply
    ties decay and dissolve; under the open rule they trade and keep them."""
    kept = {}
    for rule in ("designated", "open"):
        m = make_model("sokol", "top_down", seed=4, steps=40,
                       **{"cluster.procurement_rule": rule})
        m.run()
        f, ties = m.firms, m.ties
        kept[rule] = int((ties.supply & ~f.member[ties.b]).sum())
    assert kept["designated"] < kept["open"]


# --------------------------------------------------------------------------- 4 innovation


def test_bigger_budgets_innovate_more_often(make_model):
    m = make_model("sokol", "baseline", seed=1, steps=40)
    innovated = np.zeros(0, dtype=bool)
    budgets = np.zeros(0)
    for _ in range(40):
        before = m.firms.last_innovation.copy()
        m.step()
        n = len(before)
        innovated = np.append(innovated, m.firms.last_innovation[:n] == m.time_step)
        budgets = np.append(budgets, m.firms.rd_spend[:n])
    big = budgets > np.quantile(budgets, 0.9)
    small = budgets < np.quantile(budgets, 0.5)
    assert innovated[big].mean() > innovated[small].mean()


# --------------------------------------------------------------------------- 5 TASED law


def test_contribution_window(make_model):
    m = make_model("sokol", "tased_only", seed=1, steps=4)
    t = m.cfg.tased
    assert list(tased.in_window(m, np.array([0, 11, 12, 30]))) == [True, True, False, False]
    assert_allclose(tased.contribution_rate(np.array([5, 5]), t, m.cfg.taxes,
                                            np.array([True, False])), [0.076, 0.30])
    t.contribution_window = False  # the 2022 relaxation
    assert tased.in_window(m, np.array([30])).all()


def test_outsourced_units_are_affiliates_until_sold(make_model):
    m = make_model("sokol", "tased_only", seed=1, steps=40,
                   **{"cfe.outsourcing_rate": 0.2, "cfe.divest_after_steps": 12})
    seen_affiliated = False
    for _ in range(40):
        m.step()
        f = m.firms
        units = f.origin == ORIGINS.index("outsourced")
        young = units & (m.time_step - f.born < 12)
        assert f.cfe_affiliated[young].all()
        assert (f.resident_since[units & f.cfe_affiliated] < 0).all()
        seen_affiliated |= bool(young.any())
    assert seen_affiliated
    f = m.firms
    old = (f.origin == ORIGINS.index("outsourced")) & (m.time_step - f.born >= 12)
    assert not f.cfe_affiliated[old].any()


def test_residents_are_checked_every_year_against_the_cfe_revenue_limit(make_model):
    m = make_model("sokol", "tased_only", seed=1, steps=30)
    m.run(12)
    f = m.firms
    residents = np.flatnonzero(f.resident_since >= 0)
    if not len(residents):
        pytest.skip("no resident in this run")
    r = residents[0]
    # a resident that sold most to the CFE over its year loses residency at its anniversary
    f.resident_since[r] = m.time_step - 3
    f.sales_year[r], f.cfe_sales_year[r] = 10.0, 9.0
    m.step()
    assert f.resident_since[m.firms.row_of(m.firms.uid[r])] < 0 or \
        m.firms.resident_since[m.firms.row_of(int(m.firms.uid[r]))] < 0


def test_existing_firms_apply_with_a_new_project_and_keep_their_headcount(make_model):
    m = make_model("sokol", "tased_only", seed=2, steps=40, **{"entry.expansion_rate": 0.2})
    applied = 0
    for _ in range(40):
        m.step()
        applied += m.counts.new_projects
        f = m.firms
        incumbents = (f.origin == ORIGINS.index("incumbent")) & (f.resident_since >= 0)
        assert (f.employees[incumbents] >= 0).all()
    assert applied > 0
    f = m.firms
    became = (f.origin == ORIGINS.index("incumbent")) & f.ever_resident
    assert became.any()


# --------------------------------------------------------------------------- 6, 7


def test_joint_project_subsidy_pays_the_joint_share_of_rnd(make_model):
    m = make_model("sokol", "top_down", seed=1, steps=10,
                   **{"cluster.subsidy_budget": 1e5, "cluster.membership_subsidy_rate": 0.0})
    m.run(9)
    f = m.firms
    before = f.cum_subsidy.copy()
    from simulation.mechanisms.cluster import member_partners
    inside, partners = member_partners(m)
    m.region.pay_subsidies()
    paid = f.cum_subsidy - before
    eligible = f.member & m.region.priority[f.sector] & (inside > 0)
    expected = np.where(eligible, m.cfg.cluster.joint_project_rate * f.rd_spend * inside
                        / np.maximum(partners, 1), 0.0)
    assert eligible.any()
    assert_allclose(paid, expected, rtol=1e-9, atol=1e-12)


def test_retirement_draws_from_the_employed_and_the_unemployed(make_model):
    m = make_model("sokol", "baseline", seed=1, steps=2, **{"labour.retirement_rate": 0.05})
    m.run(1)
    from simulation.mechanisms.migration import update_town
    employed = int(m.firms.employees.sum())
    update_town(m, np.random.default_rng(0))
    lost = employed - int(m.firms.employees.sum())
    assert lost == pytest.approx(0.05 * employed, rel=0.15)  # binomial around r * employed
    df = pd.DataFrame(m.records)
    assert len(df) == 2
