"""Stage 4: production and trade (ODD 4.1, 4.8, 4.12).

Sector demand is split among the town's firms by replicator market shares (Dosi et al. 2010);
customers a capacity-bound firm cannot serve buy from firms with spare capacity. The CFE buys
locally only from suppliers tied to it, under the cluster's procurement rule (principle 6).
Each firm's accounts: sales, inputs, wages with the contribution rate that applies to it, R&D,
fees, taxes by regime; profit moves its net worth. Taxes and tax expenditures go to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    demand = sector_demands(model, totals.market_productivity, emp.sum())
    weights = f.market_weight.copy()
    limit = a * f.output_factor * emp * (1.0 + cfg.firms.sales_capacity_slack)
    sales = np.minimum(split_by_weight(demand, weights, sec, s.n), limit)
    # customers a capacity-bound firm cannot serve buy from firms with spare capacity
    unmet = np.maximum(0.0, demand - np.bincount(sec, weights=sales, minlength=s.n))
    room = limit - sales
    sales += np.minimum(split_by_weight(unmet, room, sec, s.n), room)
    input_share = model.market.input_share[sec]
    input_share[0] = min(cfg.firms.max_input_share,
                         input_share[0] + model.cfe_state.extra_input_share)  # row 0: the CFE
    inputs = input_share * sales
    cfe_sales = procurement(model, sales, weights, limit, inputs[0])
    sales += cfe_sales
    # accounts (ODD 4.1, 4.8)
    t, tx = cfg.tased, cfg.taxes
    age = tased.resident_ages(f.resident_since, model.time_step)
    resident = age >= 0
    contrib = tased.contribution_rate(age, t, tx, f.reduced_contributions)
    tax_federal, tax_regional = tased.profit_tax_rates(age, t, tx)
    prop_rate = tased.property_rate(age, t, tx)
    rd = f.rd_intensity * sales
    f.fee = np.where(f.member, model.cmc.fees(f.employees) if model.cmc is not None else 0.0, 0.0)
    wages = model.town.wage * emp
    paid = Taxes(contributions=wages * contrib, property=prop_rate * f.capex,
                 land=np.where(resident & (prop_rate == 0), 0.0, f.plot * tx.land_per_plot))
    ties = model.ties.degree(len(f)) * cfg.network.tie_cost
    profit = sales - inputs - wages - paid.contributions - cfg.firms.overhead - ties - rd \
        - f.fee - paid.property - paid.land
    gain = np.maximum(profit, 0.0)
    paid.profit_federal, paid.profit_regional = tax_federal * gain, tax_regional * gain
    after = profit - paid.profit_federal - paid.profit_regional
    f.market_weight = replicator(weights, a, sec, s.n, cfg.firms.competition)
    f.sales, f.cfe_sales, f.profit, f.after_tax, f.rd_spend = sales, cfe_sales, profit, after, rd
    f.net_worth += after
    f.cum_profit += after
    f.loss_streak = np.where(after < 0, f.loss_streak + 1, 0)
    f.sales_year += sales
    f.cfe_sales_year += cfe_sales
    if model.cmc is not None:
        model.cmc.receive_fees(float(f.fee.sum()))
    forgone = _forgone(model, wages, gain, contrib, tax_federal, tax_regional, prop_rate, resident)
    f.tax_forgone += forgone
    local = s.local_services[sec]
    book = model.accounts.pay
    local_purchases = float((sales - cfe_sales)[local].sum())
    book("outside", "firms", float((sales - cfe_sales)[~local].sum()), "sales to the outside")
    book("households", "firms", local_purchases, "local purchases")
    book("firms", "firms", float(cfe_sales.sum()), "CFE procurement")
    book("firms", "outside", float(inputs.sum() - cfe_sales.sum()), "materials")
    book("firms", "households", float(wages.sum()), "wages")
    book("firms", "outside", float(cfg.firms.overhead * len(f) + ties.sum() + rd.sum()),
         "overhead, ties and R&D")
    book("firms", "cmc", float(f.fee.sum()), "cluster fees")
    _collect_taxes(model, paid)
    households(model, float(wages.sum()), local_purchases)
    f.capex *= 1.0 - cfg.firms.depreciation


@dataclass
class Taxes:
    """Taxes each firm pays this quarter (arrays over firm rows)."""

    contributions: np.ndarray
    property: np.ndarray
    land: np.ndarray
    profit_federal: np.ndarray | None = None
    profit_regional: np.ndarray | None = None


def households(model: ClusterModel, firm_wages: float, local_purchases: float) -> None:
    """Households earn the wages of firms and public jobs and receive pensions and benefits
    (both paid from outside the town's accounts), pay income tax on wages, and spend
    (1 - saving rate) of what is left: the local services they buy in town, the rest outside.
    What they do not spend they save."""
    tx, town, cfg = model.cfg.taxes, model.town, model.cfg.town
    public_wages = town.wage * town.public_jobs
    transfers = cfg.transfer_per_inactive * max(0.0, town.population - town.labour_force)
    model.accounts.pay("outside", "households", public_wages, "public-sector wages")
    model.accounts.pay("outside", "households", transfers, "pensions and benefits")
    wages = firm_wages + public_wages
    tax = tx.income * wages
    model.ledger.collect("regional", "income", tax * (1.0 - tx.income_municipal_share),
                         "households")
    model.ledger.collect("municipal", "income", tax * tx.income_municipal_share, "households")
    disposable = wages + transfers - tax
    outside = max(0.0, (1.0 - cfg.household_saving_rate) * disposable - local_purchases)
    model.accounts.pay("households", "outside", outside, "consumption outside town")
    town.household_wealth += disposable - local_purchases - outside


def _collect_taxes(model: ClusterModel, paid: Taxes) -> None:
    """Book the firms' taxes by level; record the CFE's part of the town's tax revenue."""
    ledger, tx = model.ledger, model.cfg.taxes
    ledger.collect("federal", "profit", float(paid.profit_federal.sum()), "firms")
    ledger.collect("regional", "profit", float(paid.profit_regional.sum()), "firms")
    ledger.collect("federal", "contributions", float(paid.contributions.sum()), "firms")
    ledger.collect("regional", "property", float(paid.property.sum()), "firms")
    ledger.collect("municipal", "land", float(paid.land.sum()), "firms")
    cfe_income_tax = tx.income * model.town.wage * model.firms.employees[0]
    model.cfe_taxes = CfeTaxes(
        municipal=float(paid.land[0] + cfe_income_tax * tx.income_municipal_share),
        total=float(paid.profit_federal[0] + paid.profit_regional[0] + paid.contributions[0]
                    + paid.property[0] + paid.land[0] + cfe_income_tax))


@dataclass
class CfeTaxes:
    """Taxes collected this quarter on the CFE and its payroll (for the budget's dependence)."""

    municipal: float = 0.0
    total: float = 0.0


def _forgone(model: ClusterModel, wages, gain, contrib, tax_federal, tax_regional, prop_rate,
             resident) -> np.ndarray:
    """Tax expenditures on each firm this quarter (revenue not collected because of TASED
    rates), booked by level; returns them per firm."""
    tx, ledger, f = model.cfg.taxes, model.ledger, model.firms
    r = resident
    land = f.plot * tx.land_per_plot
    parts = {
        ("federal", "profit"): (tx.profit_federal - tax_federal) * gain,
        ("regional", "profit"): (tx.profit_regional - tax_regional) * gain,
        ("federal", "contributions"): (tx.contributions - contrib) * wages,
        ("regional", "property"): (tx.property / 4.0 - prop_rate) * f.capex,
        ("municipal", "land"): np.where(prop_rate == 0, land, 0.0),
    }
    out = np.zeros(len(f))
    for (level, tax), amount in parts.items():
        amount = np.where(r, amount, 0.0)
        ledger.forgo(level, tax, float(amount.sum()))
        out += amount
    return out


def procurement(model: ClusterModel, sales: np.ndarray, weights: np.ndarray,
                limit: np.ndarray, cfe_inputs: float) -> np.ndarray:
    """The CFE's local purchases, split among the suppliers tied to it (ODD 4.12); they are
    part of its inputs (`cfe_inputs`), the rest of which it buys outside.

    Open rule: every supplier, by competitiveness (market weights), every quarter. Designated
    rule, while the cluster has member suppliers: only members, by the weights fixed when
    each was designated (at the CMC's founding or when it joined). No supplier sells beyond
    its capacity.
    """
    cfg, ties = model.cfg, model.ties
    out = np.zeros(len(sales))
    supply = ties.supply
    if not supply.any():
        return out
    idx = ties.b[supply]  # the other end of a supply tie is the CFE, row 0
    buy = min(cfe_inputs, (cfg.cfe.local_procurement_share
                           * model.market.input_share[model.sectors.cfe]
                           + model.cfe_state.extra_input_share) * sales[0])
    member = model.firms.member[idx]
    designated = model.cmc is not None and member.any() and \
        cfg.cluster.procurement_rule == ProcurementRule.designated
    if designated:  # only member suppliers, by the weights they were designated at
        idx, w = idx[member], ties.weight[supply][member]
    else:
        w = weights[idx]
    share = w / w.sum() if w.sum() > 0 else np.full(len(idx), 1.0 / len(idx))
    out[idx] = np.minimum(buy * share, np.maximum(0.0, limit[idx] - sales[idx]))
    return out
