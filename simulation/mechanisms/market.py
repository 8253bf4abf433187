"""Stage 4: production and trade (ODD 4.1, 4.8, 4.12).

Sector demand is split among the town's firms by replicator market shares (Dosi et al. 2010);
customers a capacity-bound firm cannot serve buy from firms with spare capacity. The CFE buys
locally only from suppliers tied to it, under the cluster's procurement rule (principle 6).
Each firm's accounts: sales, inputs, wages with the contribution rate that applies to it, R&D,
fees, taxes by regime; profit moves its net worth. Taxes and tax expenditures go to the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.config import ProcurementRule
from simulation.mechanisms import tased
from simulation.mechanisms.demand import sector_demands
from simulation.sectors import reference_productivity, sector_totals

if TYPE_CHECKING:
    from simulation.model import ClusterModel


# --------------------------------------------------------------------------- rules


def replicator(weights: np.ndarray, productivity: np.ndarray, group: np.ndarray,
               n_groups: int, speed: float) -> np.ndarray:
    """Market-share weights after one quarter of replicator dynamics (Dosi et al. 2010):

    w_i' = w_i max(0, 1 + chi (A_i / A_bar_s - 1)),  A_bar_s = sum_s w A / sum_s w,

    so firms more productive than their sector's share-weighted mean gain market share.
    """
    sums = np.bincount(group, weights=weights, minlength=n_groups)
    mean = np.divide(np.bincount(group, weights=weights * productivity, minlength=n_groups), sums,
                     out=np.ones(n_groups), where=sums > 0)
    return weights * np.maximum(0.0, 1.0 + speed * (productivity / mean[group] - 1.0))


def split_by_weight(total: np.ndarray, weights: np.ndarray, group: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """Split total[g] among members of group g in proportion to weights (zero if no weight)."""
    sums = np.bincount(group, weights=weights, minlength=n_groups)
    share = np.divide(weights, sums[group], out=np.zeros_like(weights), where=sums[group] > 0)
    return share * total[group]


def firm_accounts(sales, employees, wage, input_share, contributions, overhead, other_costs,
                  profit_tax):
    """(profit before tax, profit tax, after-tax profit) of one quarter (scalars or arrays).

    pi = S - m*S - w*L*(1 + c) - F - other;  tax = t * max(pi, 0).
    """
    profit = sales * (1.0 - input_share) - wage * employees * (1.0 + contributions) \
        - overhead - other_costs
    tax = profit_tax * np.maximum(profit, 0.0)
    return profit, tax, profit - tax


def calibrated_input_share(productivity, wage: float, contributions: float, margin: float,
                           rd_intensity, cap: float):
    """Input share that gives a firm of mean productivity `margin` on sales at the start.

    m = 1 - margin - rd - w (1 + c) / A, clipped to [0, cap] (steady-state calibration).
    """
    return np.clip(1.0 - margin - rd_intensity - wage * (1.0 + contributions) / productivity,
                   0.0, cap)


# --------------------------------------------------------------------------- stage 4


def produce_and_trade(model: ClusterModel, rng: np.random.Generator) -> None:
    cfg, f, s = model.cfg, model.firms, model.sectors
    totals = sector_totals(f, s, reference_productivity(cfg, s, model.time_step))
    sec, a, emp = f.sector, f.productivity, f.employees.astype(float)
    demand = sector_demands(model, totals.mean_productivity, emp.sum())
    weights = f.market_weight.copy()
    limit = a * emp * (1.0 + cfg.firms.sales_capacity_slack)
    sales = np.minimum(split_by_weight(demand, weights, sec, s.n), limit)
    # customers a capacity-bound firm cannot serve buy from firms with spare capacity
    unmet = np.maximum(0.0, demand - np.bincount(sec, weights=sales, minlength=s.n))
    room = limit - sales
    sales += np.minimum(split_by_weight(unmet, room, sec, s.n), room)
    input_share = model.market.input_share[sec]
    input_share[0] = min(cfg.firms.max_input_share,
                         input_share[0] + model.cfe_state.extra_input_share)  # row 0: the CFE
    cfe_sales = procurement(model, sales, weights, limit)
    sales += cfe_sales
    # accounts (ODD 4.1, 4.8)
    t, tx = cfg.tased, cfg.taxes
    age = tased.resident_ages(f.resident_since, model.time_step)
    resident = age >= 0
    contrib = tased.contribution_rate(age, t, tx)
    tax_federal, tax_regional = tased.profit_tax_rates(age, t, tx)
    prop_rate = tased.property_rate(age, t, tx)
    rd = f.rd_intensity * sales
    fee = f.member * (model.cmc.fee if model.cmc is not None else 0.0)
    land = f.plot * tx.land_per_plot
    land_paid = np.where(resident & (prop_rate == 0), 0.0, land)
    wages = model.town.wage * emp
    other = cfg.firms.overhead + model.ties.degree(len(f)) * cfg.network.tie_cost + rd + fee \
        + prop_rate * f.capex + land_paid
    profit = sales * (1.0 - input_share) - wages * (1.0 + contrib) - other
    gain = np.maximum(profit, 0.0)
    after = profit - (tax_federal + tax_regional) * gain
    f.market_weight = replicator(weights, a, sec, s.n, cfg.firms.competition)
    f.sales, f.cfe_sales, f.profit, f.after_tax, f.rd_spend = sales, cfe_sales, profit, after, rd
    f.net_worth += after
    f.cum_profit += after
    f.loss_streak = np.where(after < 0, f.loss_streak + 1, 0)
    if model.cmc is not None:
        model.cmc.receive_fees(float(fee.sum()))
    _book_taxes(model, wages, contrib, gain, tax_federal, tax_regional, prop_rate, land,
                land_paid, resident)


def procurement(model: ClusterModel, sales: np.ndarray, weights: np.ndarray,
                limit: np.ndarray) -> np.ndarray:
    """The CFE's local purchases, split among the suppliers tied to it (ODD 4.12).

    Open rule: by competitiveness (market weights), every quarter. Designated rule, while a
    cluster exists: by the weights fixed when the CMC was founded. No supplier sells beyond
    its capacity.
    """
    cfg, ties = model.cfg, model.ties
    out = np.zeros(len(sales))
    supply = ties.supply
    if not supply.any():
        return out
    idx = ties.b[supply]  # the other end of a supply tie is the CFE, row 0
    buy = (cfg.cfe.local_procurement_share * model.market.input_share[model.sectors.cfe]
           + model.cfe_state.extra_input_share) * sales[0]
    designated = model.cmc is not None and \
        cfg.cluster.procurement_rule == ProcurementRule.designated
    w = ties.weight[supply] if designated else weights[idx]
    share = w / w.sum() if w.sum() > 0 else np.full(len(idx), 1.0 / len(idx))
    out[idx] = np.minimum(buy * share, np.maximum(0.0, limit[idx] - sales[idx]))
    return out


def _book_taxes(model: ClusterModel, wages, contrib, gain, tax_federal, tax_regional,
                prop_rate, land, land_paid, resident) -> None:
    tx, ledger, capital = model.cfg.taxes, model.ledger, model.firms.capex
    ledger.collect("federal", "profit", float((tax_federal * gain).sum()))
    ledger.collect("regional", "profit", float((tax_regional * gain).sum()))
    ledger.collect("federal", "contributions", float((wages * contrib).sum()))
    ledger.collect("regional", "property", float((prop_rate * capital).sum()))
    ledger.collect("municipal", "land", float(land_paid.sum()))
    income = tx.income * (wages.sum() + model.town.wage * model.town.public_jobs)
    ledger.collect("regional", "income", income * (1.0 - tx.income_municipal_share))
    ledger.collect("municipal", "income", income * tx.income_municipal_share)
    r = resident
    ledger.forgo("federal", "profit", float(((tx.profit_federal - tax_federal[r]) * gain[r]).sum()))
    ledger.forgo("regional", "profit",
                 float(((tx.profit_regional - tax_regional[r]) * gain[r]).sum()))
    ledger.forgo("federal", "contributions",
                 float(((tx.contributions - contrib[r]) * wages[r]).sum()))
    ledger.forgo("regional", "property",
                 float(((tx.property / 4.0 - prop_rate[r]) * capital[r]).sum()))
    ledger.forgo("municipal", "land", float((land[r] - land_paid[r]).sum()))
