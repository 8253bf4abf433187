"""Stage 8: cluster membership, business-led founding and dissolution (ODD 4.5).

A firm weighs the expected gain of membership (a higher innovation hazard from CMC services
and spillovers from related members, plus any subsidy) against the fee and its own cost of
taking part; a firm also joins when enough of its partners are members (threshold contagion,
Granovetter 1978). A member leaves after `cluster.leave_after` quarters in a row of a negative
expected gain. Without a CMC, firms found one (business-led or joint) when at least
`cluster.min_founders` expect a gain at the fee that would cover its costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.agents.cmc import ClusterManagementCompany, balanced_fee
from simulation.config import ClusterFounder
from simulation.mechanisms.learning import (absorptive_capacity, bounded_spillover,
                                            expected_gain_of_draw, innovation_prob,
                                            innovation_step_sd, related_members)

if TYPE_CHECKING:
    from simulation.model import ClusterModel


# --------------------------------------------------------------------------- rules


def membership_benefit(hazard_gain, labour_cost, draw_value, horizon: int, subsidy, cost):
    """Expected net quarterly gain: dh * E[max(0, dlogA)] * wL(1+c) * H + subsidy - cost.

    A process innovation that raises productivity by dlogA saves that share of the labour
    cost for the same sales; H quarters of that saving are counted.
    """
    return hazard_gain * draw_value * labour_cost * horizon + subsidy - cost


def joins_by_contagion(member_partners, partners, threshold):
    """Granovetter threshold: join when the member share of one's partners reaches theta."""
    partners = np.asarray(partners)
    share = np.divide(member_partners, partners, out=np.zeros(partners.shape),
                      where=partners > 0)
    return (partners > 0) & (share >= threshold)


def membership_benefits(model: ClusterModel, related: np.ndarray, quality: float,
                        intensity: float, fee: float,
                        counted: np.ndarray | None = None) -> np.ndarray:
    """Expected net gain of membership for every firm (ODD 4.5).

    `related` counts members by relatedness to each sector; `counted` marks the firms
    counted among them (by default: the members).
    """
    cfg, f = model.cfg, model.firms
    c, inn = cfg.cluster, cfg.innovation
    own = f.member if counted is None else counted
    agglo = bounded_spillover(related[f.sector] - own, c.agglomeration, c.congestion)
    ac0 = absorptive_capacity(f.rd_intensity, cfg.firms.rd_intensity_ki, inn.absorptive_base)
    ac1 = np.minimum(1.0, ac0 + c.service_absorptive * quality * intensity)
    base_inflow = f.last_inflow - agglo * f.member  # inflow without membership
    h1 = innovation_prob(f.rd_intensity, base_inflow + agglo, ac1, inn.base_hazard,
                         inn.rd_effect, inn.inflow_effect)
    h0 = innovation_prob(f.rd_intensity, base_inflow, ac0, inn.base_hazard, inn.rd_effect,
                         inn.inflow_effect)
    sd = innovation_step_sd(f.employees, inn.step_sd, inn.size_reference, inn.size_elasticity)
    value = expected_gain_of_draw(inn.step_mean, sd)
    labour_cost = model.town.wage * f.employees * (1.0 + cfg.taxes.contributions)
    subsidised = model.support_active() and c.subsidy_budget > 0
    subsidy = np.where(subsidised & model.region.priority[f.sector],
                       c.membership_subsidy_rate * fee, 0.0)
    return membership_benefit(h1 - h0, labour_cost, value, c.value_horizon_steps, subsidy,
                              fee + c.participation_cost)


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
    benefit = membership_benefits(model, related_members(model), cmc.quality,
                                  cmc.service_intensity, cmc.fee)
    local = model.sectors.local_services[f.sector]  # households' services stay out
    f.bad_membership_steps = np.where(f.member & (benefit < 0), f.bad_membership_steps + 1, 0)
    leavers = f.member & (local | (f.bad_membership_steps >= c.leave_after))
    partners_in, partners = member_partners(model)
    joiners = ~f.member & ~local & ((benefit > 0) | joins_by_contagion(
        partners_in, partners, f.joining_threshold))
    cmc.release(np.flatnonzero(leavers))
    cmc.admit(np.flatnonzero(joiners))
    cmc.set_fee()


def business_founding(model: ClusterModel) -> None:
    """Firms found a CMC when at least min_founders expect a net gain at the fee that would
    cover its costs; the would-be founders revise who is in over `founding_rounds` rounds."""
    c, f, s = model.cfg.cluster, model.firms, model.sectors
    match = c.match_ratio if model.support_active() else 0.0
    fee = c.member_fee
    industrial = ~s.local_services[f.sector]
    willing = np.zeros(len(f), dtype=bool)
    for _ in range(c.founding_rounds):
        related = s.relatedness @ np.bincount(f.sector[willing], minlength=s.n)
        gains = membership_benefits(model, related, c.management_quality, 1.0, fee, willing)
        willing = industrial & (gains > 0)
        fee = balanced_fee(c.member_fee, model.scaled(c.running_cost), c.service_cost_per_member,
                           int(willing.sum()), 0.0, match, 0.0)
    if willing.sum() >= c.min_founders:
        model.cmc = ClusterManagementCompany(model, c.founder, c.management_quality)
        model.cmc.fee = fee
        model.cmc.admit(np.flatnonzero(willing))
        model.region.priority = model.region.choose_priorities()
