"""Model invariants (ODD section 3.6), reproducibility and behaviour of the mechanisms."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from simulation.agents.firm import Firm
from simulation.fiscal import INSTRUMENTS, LEVELS
from simulation.model import STAGES, ClusterModel
from simulation.state import ORIGINS
from simulation.presets import load_config, options

SCENARIOS = options("scenario")
TOWNS = options("town")


def stocks(m: ClusterModel) -> dict[str, float]:
    """The money stocks of the town's sectors (simulation.accounts)."""
    return {"firms": float(m.firms.net_worth.sum()), "households": m.town.household_wealth,
            "cmc": m.cmc.budget if m.cmc is not None else 0.0,
            **{lv: float(m.ledger.balance[i]) for i, lv in enumerate(LEVELS)}}


def check_money(m: ClusterModel, before: dict[str, float]) -> None:
    """In the quarter just simulated, every stock changed by its inflows less its outflows."""
    after = stocks(m)
    scale = max(1.0, float(np.abs(m.accounts.flows).sum()))
    for sector, value in after.items():
        change, net = value - before[sector], m.accounts.net_inflow(sector)
        assert abs(change - net) <= 1e-9 * scale, (sector, change, net)


def check_invariants(m: ClusterModel) -> None:
    f, ties = m.firms, m.ties
    n = len(f)
    assert (f.employees >= 0).all()
    # a firm's net worth: at entry, plus after-tax profits, subsidies and equity moved since
    assert np.allclose(f.net_worth, f.initial_net_worth + f.cum_profit + f.cum_subsidy
                       + f.cum_transfers, rtol=1e-9, atol=1e-6)
    if f.member.any():
        assert m.cmc is not None, "a member without a CMC"
        assert not m.sectors.local_services[f.sector[f.member]].any()
    resident = f.resident_since >= 0
    if resident.any():
        assert m.tased_active(), "a resident while the TASED is off"
        assert not f.cfe_affiliated[resident].any(), "the CFE or an affiliate became a resident"
    # ties join two live firms, once each
    assert ((0 <= ties.a) & (ties.a < ties.b) & (ties.b < n)).all()
    assert len(set((ties.a * n + ties.b).tolist())) == len(ties)
    # Mesa's registry holds exactly the live firms, each at its row
    assert len(m.agents_by_type[Firm]) == n
    assert all(a.row == r for r, a in enumerate(f.agents(np.arange(n))))
    # labour force identity: the unemployed pool, moved by every hire, firing, exit and
    # migration, equals the labour force less public jobs and firms' employees
    assert m.town.unemployed >= 0
    assert m.town.unemployed == m.town.labour_force - m.town.public_jobs - int(f.employees.sum())
    # public money: spending by level adds up to spending by instrument
    row = m.records[-1]
    by_instrument = sum(row[f"spend_{i}"] for i in INSTRUMENTS)
    assert sum(row[f"spend_{lv}"] for lv in LEVELS) == pytest.approx(by_instrument)


@pytest.mark.slow
@pytest.mark.parametrize("town", TOWNS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_invariants_and_money_hold_every_step(town, scenario, make_model):
    # outsourcing and a CFE shock exercise the flows of capital and of layoffs too
    m = make_model(town, scenario, seed=11, **{"cfe.outsourcing_rate": 0.1, "shock.step": 20})
    check_invariants(m)
    for _ in range(m.cfg.steps):
        before = stocks(m)
        m.step()
        check_money(m, before)
        check_invariants(m)
    assert len(m.records) == m.cfg.steps + 1


def test_same_seed_same_output_different_seed_different(make_model):
    runs = []
    for seed in (5, 5, 6):
        m = make_model("sokol", "top_down", seed=seed, steps=30)
        m.run()
        runs.append(pd.DataFrame(m.records))
    pd.testing.assert_frame_equal(runs[0], runs[1])
    assert not runs[0].equals(runs[2])


def test_scenario_label_is_never_read(make_model):
    """Scenarios act only through their instruments: relabelling changes nothing."""
    a = make_model("sokol", "top_down", seed=2, steps=24)
    b = make_model("sokol", "top_down", seed=2, steps=24)
    b.cfg.scenario = "baseline"
    a.run()
    b.run()
    pd.testing.assert_frame_equal(pd.DataFrame(a.records), pd.DataFrame(b.records))


def test_no_rule_mentions_a_scenario_name():
    """The label `cfg.scenario` is never read, and no scenario but the default is named."""
    files = [p for p in Path("simulation").rglob("*.py") if "config" not in p.parts]
    source = "".join(p.read_text() for p in files)  # config/ defines the instruments' Enums
    assert not re.search(r"cfg\.scenario|\.scenario\b(?!\s*:)", source)
    for name in set(SCENARIOS) - {"baseline"}:
        assert not re.search(rf"['\"]{name}['\"]", source), name


def test_common_random_numbers_share_the_demand_path(make_model):
    a = make_model("sokol", "baseline", seed=4, steps=20)
    b = make_model("sokol", "top_down", seed=4, steps=20)
    a.run()
    b.run()
    assert_allclose(a.market.demand_x, b.market.demand_x)  # the same demand shocks
    for key in ("cfe_share", "employment_entropy", "firms", "non_cfe_jobs", "ties"):
        assert a.records[0][key] == b.records[0][key]


def test_baseline_has_no_residents_cmc_or_public_cluster_money(make_model):
    m = make_model("sokol", "baseline", seed=1)
    m.run()
    df = pd.DataFrame(m.records)
    assert df["residents"].max() == 0
    assert df["cmc_exists"].max() == 0
    assert df[["spend_infrastructure", "spend_cmc_funding", "spend_membership_subsidy"]
              ].to_numpy().sum() == 0
    assert df["spend_urban_environment"].iloc[1:].min() > 0


def test_tased_attracts_residents_and_builds_plots(make_model):
    m = make_model("sokol", "tased_only", seed=1)
    m.run()
    df = pd.DataFrame(m.records)
    assert df["residents"].max() > 0
    assert df["tax_expenditure_total"].sum() > 0
    assert df["spend_infrastructure"].sum() > 0
    assert df["plots_serviced"].iloc[-1] > df["plots_serviced"].iloc[0]
    # the regime ends after tased.duration_steps: no residents afterwards
    end = m.cfg.tased.start_step + m.cfg.tased.duration_steps
    assert df.loc[df.step >= end, "residents"].max() == 0


def test_top_down_cmc_funded_only_until_support_ends(make_model):
    m = make_model("sokol", "top_down", seed=3, **{"cluster.support_end_step": 20})
    m.run()
    df = pd.DataFrame(m.records)
    assert df.loc[df.step == m.cfg.cluster.start_step, "cmc_exists"].item() == 1
    assert df.loc[df.step >= 20, "spend_cmc_funding"].sum() == 0
    assert df.loc[(df.step >= 4) & (df.step < 20), "spend_cmc_funding"].min() > 0


def test_cmc_dissolves_when_fees_cannot_cover_costs(make_model):
    m = make_model("sokol", "top_down", seed=3, **{"cluster.support_end_step": 12,
                                                   "cluster.public_funding": 30.0,
                                                   "cluster.running_cost": 20.0})
    m.run()
    df = pd.DataFrame(m.records)
    assert df.loc[df.step == 11, "cmc_exists"].item() == 1
    assert df["cmc_exists"].iloc[-1] == 0
    assert df["members"].iloc[-1] == 0


def test_business_led_founding_needs_enough_willing_firms(make_model):
    never = make_model("sokol", "business_led", seed=1, steps=20,
                       **{"cluster.min_founders": 10_000})
    never.run()
    assert max(r["cmc_exists"] for r in never.records) == 0
    easy = make_model("sokol", "business_led", seed=1, steps=20,
                      **{"cluster.min_founders": 2, "cluster.member_fee": 0.0,
                         "cluster.participation_cost": 0.0, "cluster.running_cost": 0.0})
    easy.run()
    founded = [r for r in easy.records if r["cmc_exists"]]
    assert founded and founded[0]["members"] >= 2


def test_cfe_demand_shock_cuts_cfe_jobs(make_model):
    calm = make_model("sokol", "baseline", seed=2, steps=24)
    hit = make_model("sokol", "baseline", seed=2, steps=24,
                     **{"shock.step": 8, "shock.size": 0.4, "shock.duration_steps": 8})
    calm.run()
    hit.run()
    assert hit.records[14]["cfe_employment"] < 0.9 * calm.records[14]["cfe_employment"]
    assert hit.records[14]["cfe_layoffs"] + hit.records[10]["cfe_layoffs"] > 0


def test_outsourcing_creates_linked_suppliers_that_never_become_residents(make_model):
    m = make_model("sokol", "tased_only", seed=1, steps=20, **{"cfe.outsourcing_rate": 0.2})
    start = m.firms.employees[0]
    m.run()
    f = m.firms
    outsourced = np.flatnonzero(f.origin == ORIGINS.index("outsourced"))
    assert len(outsourced)
    cfe_partners = set(m.ties.b[m.ties.a == 0].tolist())
    assert all(r in cfe_partners for r in outsourced)
    assert (f.parent[outsourced] == f.uid[0]).all()
    assert (f.resident_since[outsourced] < 0).all()
    assert m.cfe_state.outsourced_jobs <= m.cfg.cfe.outsourcing_max_share * start


def test_priority_rules(make_model):
    m = make_model("sokol", "top_down", seed=1)
    regional = m.region
    lq = regional.choose_priorities()
    kinds = m.sectors.kind[lq]
    assert lq.any() and set(kinds) <= {"core", "related", "supporting"}
    m.cfg.cluster.priority_rule = type(m.cfg.cluster.priority_rule)("all_sectors")
    assert regional.choose_priorities().all()
    m.cfg.cluster.priority_rule = type(m.cfg.cluster.priority_rule)("none")
    assert not regional.choose_priorities().any()


def test_designated_procurement_freezes_supplier_shares(make_model):
    """Under the designated rule suppliers' CFE sales follow their designated weights."""
    m = make_model("sokol", "top_down", seed=1, steps=10,
                   **{"cluster.procurement_rule": "designated"})
    m.run(6)
    assert m.cmc is not None
    m.time_step += 1
    for name, stage in STAGES[:4]:  # up to and including production and trade
        stage(m, m.stream(name))
    f, ties = m.firms, m.ties
    supply = ties.supply & (f.cfe_sales[ties.b] > 0)
    rows, weights = ties.b[supply], ties.weight[supply]
    got = f.cfe_sales[rows]
    slack = 1.0 + m.cfg.firms.sales_capacity_slack
    unconstrained = f.sales[rows] < 0.999 * f.productivity[rows] * f.employees[rows] * slack
    assert unconstrained.sum() >= 2
    ratio = got[unconstrained] / weights[unconstrained]
    assert_allclose(ratio, ratio[0], rtol=1e-9)


def test_membership_is_voluntary(make_model):
    """Nobody is enrolled by the authorities: a CMC with prohibitive costs stays empty."""
    m = make_model("sokol", "top_down", seed=1, steps=12,
                   **{"cluster.member_fee": 1000.0, "cluster.subsidy_budget": 0.0})
    m.run()
    assert m.cmc is not None and m.cmc.size == 0


def test_entry_responds_to_tased_benefits(make_model):
    """More potential investors pass the hurdle when the TASED regime is on (paired seeds)."""
    counts = {}
    for scenario in ("baseline", "tased_only"):
        counts[scenario] = 0
        for seed in range(4):
            m = make_model("sokol", scenario, seed=seed, steps=40)
            m.run()
            counts[scenario] += int((m.firms.origin == ORIGINS.index("investor")).sum()) + \
                sum(r["residents"] > 0 for r in m.records)
    assert counts["tased_only"] > counts["baseline"]


def test_regression_pinned_seed(make_model):
    """Pinned outcomes of one run; update deliberately when the model changes.

    Re-pinned when the cluster economics changed (the mechanisms changed, on purpose):
    investors value what the CMC's members and services offer instead of its existence, the
    CMC lives on fees and on public money paid only for costs fees leave uncovered,
    membership is valued as an annuity against fees and a switching cost, firms found a CMC
    with fees shared by size, outsourcing moves jobs and not competitiveness, projects are
    drawn heavy-tailed, money is booked between sectors and capital depreciates; R&D
    budgets, related sectors, supply-tie decay and the TASED law's checks (the levers'
    channels). Before: cfe_share 0.1942, entropy 2.150, members 46, firms 299, non-CFE jobs
    10,840, public cost 2,940 mln RUB."""
    m = make_model("sokol", "top_down", seed=3)
    m.run()
    last = m.records[-1]
    got = {k: last[k] for k in PINNED}
    assert_allclose([got[k] for k in PINNED], [PINNED[k] for k in PINNED], rtol=1e-6,
                    err_msg=str(got))


PINNED = {
    "cfe_share": 0.19001417202659981, "employment_entropy": 2.219509830085958, "members": 30.0,
    "firms": 312.0, "non_cfe_jobs": 10900.0, "public_cost_cumulative": 1930.9720481281445,
}
