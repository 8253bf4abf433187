"""Stage 8: cluster membership, business-led founding and dissolution (ODD 4.5).

A firm values membership like an investment (the entry horizon and discount rate): the
innovations that the CMC's services, introductions to partners and spillovers from related
members make more likely are worth the labour cost they save over that horizon; a subsidy
adds to it; its fee and its own cost of taking part are what it pays. It joins when that net
gain is positive and worth the one-off switching cost; enough member partners waive the
switching cost (threshold contagion, Granovetter 1978) but never make a loss-making membership
worth it. A member leaves after `cluster.leave_after` quarters in a row of a net loss and does
not rejoin for `cluster.rejoin_wait_steps` quarters. Without a CMC, firms found one
(business-led or joint) when at least `cluster.min_founders` expect a net gain at the fees
that would cover its costs, shared by size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.agents.cmc import ClusterManagementCompany, fees_by_size
from simulation.config import ClusterFounder, FeeBasis, ProcurementRule
from simulation.mechanisms.learning import (absorptive_capacity, bounded_spillover,
                                            expected_gain_of_draw, hazard, innovation_step_sd,
                                            related_members)

if TYPE_CHECKING:
    from simulation.model import ClusterModel


# --------------------------------------------------------------------------- rules


def annuity(horizon: int, rate: float) -> float:
    """Present value of 1 a quarter for `horizon` quarters: sum_{q=1..H} (1 + r)^-q."""
    return float(((1.0 + rate) ** -np.arange(1.0, horizon + 1)).sum())


def membership_benefit(hazard_gain, draw_value, labour_cost, annuity_factor: float, subsidy,
                       cost):
    """Expected net quarterly gain of membership:
    dh * E[max(0, dlogA)] * wL(1 + c) * a(H, r) + subsidy - cost.

    A process innovation that raises productivity by dlogA saves that share of the labour
    cost for the same sales, in each quarter of the horizon H, discounted at r like an
    investment (the annuity factor a); membership raises the chance of one by dh a quarter.
    """
    return hazard_gain * draw_value * labour_cost * annuity_factor + subsidy - cost


def joins_by_contagion(member_partners, partners, threshold):
    """Granovetter threshold: the member share of one's partners reaches theta."""
    partners = np.asarray(partners)
    share = np.divide(member_partners, partners, out=np.zeros(partners.shape),
                      where=partners > 0)
    return (partners > 0) & (share >= threshold)


def joins(net, value_factor: float, switching_cost: float, contagion, waiting):
    """Who joins: a positive net gain worth the switching cost over the horizon (the cost is
    waived for a firm whose partners are members enough), unless it left too recently."""
    return (net > 0) & ((net * value_factor >= switching_cost) | contagion) & ~waiting


# --------------------------------------------------------------------------- valuation


def membership_benefits(model: ClusterModel, related: np.ndarray, quality: float,
                        intensity, fees: np.ndarray, others,
                        counted: np.ndarray | None = None) -> np.ndarray:
    """Expected net quarterly gain of membership for every firm (ODD 4.5).

    `related` counts members by relatedness to each sector, `counted` marks the firms
    counted among them (by default the members), `others` how many other members each firm
    would meet (a number or an array; introductions need at least one), `intensity` the services the CMC would deliver
    to each (a share of its full programme) and `fees` each firm's fee as a member.
    """
    cfg, f = model.cfg, model.firms
    own = f.member if counted is None else counted
    inflow = f.last_inflow - bounded_spillover(related[f.sector] - own, cfg.cluster.agglomeration,
                                               cfg.cluster.congestion) * f.member
    return _benefit(model, f.sector, f.employees, f.rd_intensity, f.rd_spend, inflow,
                    related[f.sector] - own, quality, intensity, fees, others,
                    procurement_value(model))


def procurement_value(model: ClusterModel) -> np.ndarray:
    """What membership adds a quarter to a supplier's margin on the CFE's local purchases
    under the designated rule (principle 6): a member shares them by its designated weight
    (a firm that joins is designated at its present capacity); a non-member gets none. The
    sales earn the average margin (`firms.target_margin`)."""
    f, ties, c = model.firms, model.ties, model.cfg.cluster
    out = np.zeros(len(f))
    if model.cmc is None or c.procurement_rule != ProcurementRule.designated:
        return out
    supply = ties.supply
    rows = ties.b[supply]
    member = f.member[rows]
    weight = np.where(member, ties.weight[supply], f.productivity[rows] * f.employees[rows])
    shared = weight[member].sum() + np.where(member, 0.0, weight)
    out[rows] = np.divide(weight, shared, out=np.zeros(len(rows)), where=shared > 0) \
        * f.cfe_sales.sum() * model.cfg.firms.target_margin
    return out


def _benefit(model: ClusterModel, sector, employees, rd, rd_budget, inflow, related,
             quality: float, intensity, fees, others, procurement=0.0) -> np.ndarray:
    """The rule of `membership_benefit` for firms (or projects) with these traits; `inflow` is
    their knowledge inflow without membership, `related` the related members they would meet."""
    cfg = model.cfg
    c, inn = cfg.cluster, cfg.innovation
    agglo = bounded_spillover(related, c.agglomeration, c.congestion)
    introduced = np.where(np.asarray(others) > 0,
                          2.0 * quality * c.brokerage * inflow_per_tie(model), 0.0)
    ac0 = absorptive_capacity(rd, cfg.firms.rd_intensity_ki, inn.absorptive_base)
    ac1 = np.minimum(1.0, ac0 + c.service_absorptive * quality * intensity)
    h1 = hazard(model, rd_budget, inflow + agglo + introduced, ac1)
    h0 = hazard(model, rd_budget, inflow, ac0)
    sd = innovation_step_sd(employees, inn.step_sd, inn.size_reference, inn.size_elasticity)
    labour_cost = model.town.wage * employees * (1.0 + cfg.taxes.contributions)
    subsidised = model.support_active() and c.subsidy_budget > 0
    subsidy = np.where(subsidised & model.region.priority[sector],
                       c.membership_subsidy_rate * fees, 0.0)
    return membership_benefit(h1 - h0, expected_gain_of_draw(inn.step_mean, sd), labour_cost,
                              value_factor(model), subsidy + procurement,
                              fees + c.participation_cost)


def value_factor(model: ClusterModel) -> float:
    """The annuity factor of the entry horizon and discount rate (the same as investors')."""
    e = model.cfg.entry
    return annuity(e.horizon_steps, e.discount_rate)


def inflow_per_tie(model: ClusterModel) -> float:
    """Knowledge a tie brought in this quarter, on average over the town's ties (what a new
    partner met through the CMC is expected to bring)."""
    ties = len(model.ties)
    return float(model.firms.inflow.sum() / (2 * ties)) if ties else 0.0


def project_value(model: ClusterModel, sector: np.ndarray, jobs: np.ndarray,
                  productivity: np.ndarray) -> np.ndarray:
    """What joining the town's cluster is worth a quarter to investors' projects (never below
    0: joining is an option). It rests on what the CMC's members and services offer: a CMC
    without members offers nothing."""
    cmc = model.cmc
    if cmc is None or cmc.size == 0:
        return np.zeros(len(sector))
    f, s, c = model.firms, model.sectors, model.cfg.cluster
    counts = np.bincount(f.sector, minlength=s.n)
    inflow = np.divide(np.bincount(f.sector, f.last_inflow, s.n), counts,
                       out=np.full(s.n, f.last_inflow.mean()), where=counts > 0)
    rd = s.rd_mean[sector]
    sales = jobs * productivity
    steer = 1.0 + c.targeting * model.region.priority[sector]
    intensity = cmc.service_intensity * steer / cmc.weights(cmc.members).mean()
    net = _benefit(model, sector, jobs, rd, rd * sales, inflow[sector],
                   related_members(model)[sector], cmc.quality, intensity, cmc.fees(jobs),
                   cmc.size)
    return np.maximum(0.0, net)


def member_partners(model: ClusterModel) -> tuple[np.ndarray, np.ndarray]:
    """(partners that are members, all partners) of every firm."""
    f = model.firms
    n = len(f)
    ra, rb = model.ties.a, model.ties.b
    members = np.bincount(ra[f.member[rb]], minlength=n) + np.bincount(rb[f.member[ra]],
                                                                        minlength=n)
    return members, np.bincount(ra, minlength=n) + np.bincount(rb, minlength=n)


# --------------------------------------------------------------------------- stage 8


def membership(model: ClusterModel, rng: np.random.Generator) -> None:
    c, f = model.cfg.cluster, model.firms
    cmc = model.cmc
    if cmc is None:
        if c.founder in (ClusterFounder.firms, ClusterFounder.joint) and \
                model.calendar.cluster_policy_active(model.time_step):
            business_founding(model)
        return
    if not cmc.operate():
        cmc.dissolve()
        return
    net = membership_benefits(model, related_members(model), cmc.quality,
                              cmc.intensity(np.arange(len(f))), cmc.fees(f.employees),
                              cmc.size - f.member.astype(np.int64))
    local = model.sectors.local_services[f.sector]  # households' services stay out
    f.bad_membership_steps = np.where(f.member & (net < 0), f.bad_membership_steps + 1, 0)
    leavers = f.member & (local | (f.bad_membership_steps >= c.leave_after))
    partners_in, partners = member_partners(model)
    waiting = model.time_step - f.left_at < c.rejoin_wait_steps
    joiners = ~f.member & ~local & joins(net, value_factor(model), c.switching_cost,
                                         joins_by_contagion(partners_in, partners,
                                                            f.joining_threshold), waiting)
    cmc.release(np.flatnonzero(leavers))
    cmc.admit(np.flatnonzero(joiners))
    model.counts.joins += int(joiners.sum())
    model.counts.leaves += int(leavers.sum())
    cmc.set_fee()


def business_founding(model: ClusterModel) -> None:
    """Firms found a CMC when at least `min_founders` expect a net gain, worth the switching
    cost, at the fees that would cover its costs (shared by size, or equally) with its
    announced services; the would-be founders revise who is in over `founding_rounds`."""
    c, f, s = model.cfg.cluster, model.firms, model.sectors
    industrial = ~s.local_services[f.sector] & (model.time_step - f.left_at
                                                >= c.rejoin_wait_steps)
    willing = industrial.copy()
    factor = value_factor(model)
    for _ in range(c.founding_rounds):
        n = int(willing.sum())
        costs = model.scaled(c.running_cost) + c.service_cost_per_member * n
        need = model.region.fee_need(c.founder, costs, model.time_step)
        if c.fee_basis == FeeBasis.size:
            fees = np.maximum(c.member_fee,
                              fees_by_size(f.employees[willing], need, c.member_fee)
                              * f.employees)
        else:
            fees = np.full(len(f), max(c.member_fee, need / max(n, 1)))
        related = s.relatedness @ np.bincount(f.sector[willing], minlength=s.n)
        net = membership_benefits(model, related, c.management_quality, 1.0, fees, n - 1,
                                  willing)
        willing = industrial & (net > 0) & (net * factor >= c.switching_cost)
    if willing.sum() >= c.min_founders:
        model.cmc = ClusterManagementCompany(model, c.founder, c.management_quality)
        model.cmc.admit(np.flatnonzero(willing))
        model.cmc.set_fee()
        model.counts.joins += int(willing.sum())
        model.region.priority = model.region.choose_priorities()
