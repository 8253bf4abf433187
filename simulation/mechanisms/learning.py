"""Stage 7: knowledge and innovation (ODD 4.3, 4.4; Nelson-Winter 1982, Cohen-Levinthal 1990).

Knowledge flows in through ties (stage 6), from related firms in town, from a university link
and, for cluster members, from related members (bounded by congestion). The innovation hazard
rises with R&D and with that inflow, scaled by absorptive capacity; a success draws a new
productivity and the firm keeps the better of old and new. Imitation moves a firm toward its
most productive partner in its sector. Small firms with repeated losses may move into a related
sector (radical search).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from simulation.mechanisms.demand import shift_market
from simulation.mechanisms.diversification import choose_sectors, join_sector
from simulation.sectors import SectorTotals, reference_productivity, sector_totals

if TYPE_CHECKING:
    from simulation.model import ClusterModel


# --------------------------------------------------------------------------- rules


def absorptive_capacity(rd_intensity, rd_reference: float, base: float, service_boost=0.0):
    """Cohen-Levinthal: AC = base + (1 - base) * min(1, rd / rd_ref) + CMC services, <= 1."""
    ac = base + (1.0 - base) * np.minimum(1.0, rd_intensity / rd_reference) \
        if rd_reference > 0 else base
    return np.minimum(1.0, ac + service_boost)


def innovation_prob(rd_budget, inflow, absorptive, base: float, rd_effect: float,
                    rd_reference: float, rd_elasticity: float, inflow_effect: float):
    """P(innovation in a quarter) = 1 - exp(-(h0 + a (B / B_ref)^e + b AC ln(1 + inflow))).

    The chance of a successful search rises with the R&D budget B (Nelson & Winter 1982;
    SKIN), with diminishing returns (e < 1: the elasticity of innovations to R&D spending
    is 0.3-0.6, Hall, Griliches & Hausman 1986), so a larger firm innovates more often.
    Knowledge inflow has diminishing returns too (ln), so a hub with many ties does not
    innovate without bound; absorptive capacity AC scales what a firm can use
    (Cohen-Levinthal 1990).
    """
    budget = np.maximum(np.asarray(rd_budget, dtype=float), 0.0) / rd_reference
    return 1.0 - np.exp(-(base + rd_effect * budget ** rd_elasticity
                          + inflow_effect * absorptive * np.log1p(inflow)))


def hazard(model: ClusterModel, rd_budget, inflow, absorptive):
    """`innovation_prob` with the model's innovation parameters."""
    inn = model.cfg.innovation
    return innovation_prob(rd_budget, inflow, absorptive, inn.base_hazard, inn.rd_effect,
                           inn.rd_reference, inn.rd_elasticity, inn.inflow_effect)


def innovation_step_sd(employees, sd: float, reference: float, elasticity: float):
    """s.d. of a firm's log productivity draw: sd * (L / L_ref)^(-beta) above L_ref.

    A large firm's productivity is an average over many units, so its innovations move it less
    (growth volatility falls with size; Stanley et al. 1996, beta about 0.15-0.2).
    """
    return sd * np.maximum(1.0, np.asarray(employees) / reference) ** (-elasticity)


def bounded_spillover(n_related, per_firm: float, congestion: float):
    """Agglomeration inflow a * n * exp(-n / C): rises with related neighbours, then congests.

    Peaks at n = C with value a*C/e (Arthur 1990; Brenner 2001), so tipping is possible but not
    guaranteed.
    """
    return per_firm * n_related * np.exp(-np.asarray(n_related) / congestion)


def expected_gain_of_draw(mean: float, sd):
    """E[max(0, X)] for X ~ N(mean, sd): the value of keeping the better of old and new.

    sd * phi(mean / sd) + mean * Phi(mean / sd); max(0, mean) where sd = 0 (scalar or array).
    """
    sd = np.asarray(sd, dtype=float)
    safe = np.where(sd > 0, sd, 1.0)
    z = mean / safe
    gain = safe * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) + mean * ndtr(z)
    out = np.where(sd > 0, gain, max(0.0, mean))
    return float(out) if out.ndim == 0 else out


def absorptive_capacities(model: ClusterModel) -> np.ndarray:
    """Every firm's absorptive capacity, with the CMC's services for members."""
    f, cfg = model.firms, model.cfg
    boost = 0.0
    if model.cmc is not None:
        boost = f.member * (cfg.cluster.service_absorptive * model.cmc.quality
                            * model.cmc.intensity(np.arange(len(f))))
    return absorptive_capacity(f.rd_intensity, cfg.firms.rd_intensity_ki,
                               cfg.innovation.absorptive_base, boost)


def related_members(model: ClusterModel) -> np.ndarray:
    """Cluster members by relatedness to each sector: sum_k R[s, k] members_k."""
    f = model.firms
    counts = np.bincount(f.sector[f.member], minlength=model.sectors.n)
    return model.sectors.relatedness @ counts


# --------------------------------------------------------------------------- stage 7


def learn(model: ClusterModel, rng: np.random.Generator) -> None:
    cfg, f, s = model.cfg, model.firms, model.sectors
    inn = cfg.innovation
    n, t = len(f), model.time_step
    view = sector_totals(f, s, reference_productivity(cfg, s, t))
    related = s.relatedness @ view.firms
    u_innovate, u_imitate, u_university, u_move = rng.random((4, n))
    sd = innovation_step_sd(f.employees, inn.step_sd, inn.size_reference, inn.size_elasticity)
    draws = inn.step_mean + sd * rng.standard_normal(n)
    sec = f.sector
    university_knowledge = np.array([u.knowledge for u in model.universities] + [0.0])
    inflow = (f.inflow + inn.local_spillover * np.log1p(related[sec] - 1)
              + inn.university_effect * university_knowledge[f.university]
              + f.member * bounded_spillover(related_members(model)[sec] - 1,
                                             cfg.cluster.agglomeration, cfg.cluster.congestion))
    ac = absorptive_capacities(model)
    prob = hazard(model, f.rd_spend, inflow, ac)
    f.last_inflow = inflow
    # Nelson-Winter search: keep the better of old and new
    new = f.productivity * np.exp(draws)
    better = (u_innovate < prob) & (new > f.productivity)
    f.productivity = np.where(better, new, f.productivity)
    f.last_innovation = np.where(better, t, f.last_innovation)
    model.counts.innovations += int(better.sum())
    imitate(model, u_imitate < inn.imitation_prob * ac)
    link_universities(model, rng, (u_university < inn.university_link_prob)
                      & s.skill_intensive[sec])
    losses = f.loss_streak >= inn.loss_steps_for_radical
    small = f.employees <= inn.radical_max_size
    move_sectors(model, rng, np.flatnonzero(losses & small & (u_move < inn.radical_prob)
                                            & ~f.is_cfe), view)


def imitate(model: ClusterModel, imitators: np.ndarray) -> None:
    """Imitators close a share of the gap to their most productive same-sector partner; it is
    an adoption when that partner innovated within the diffusion window."""
    f, inn, t = model.firms, model.cfg.innovation, model.time_step
    ra, rb = model.ties.a, model.ties.b
    me = np.concatenate([ra, rb])
    other = np.concatenate([rb, ra])
    a = f.productivity.copy()
    keep = imitators[me] & (f.sector[me] == f.sector[other]) & (a[other] > a[me])
    me, other = me[keep], other[keep]
    if not len(me):
        return
    order = np.lexsort((a[other], me))  # by imitator, best partner last
    last = np.append(me[order][1:] != me[order][:-1], True)
    me, best = me[order][last], other[order][last]
    f.productivity[me] = a[me] + inn.imitation_share * (a[best] - a[me])
    adopted = me[t - f.last_innovation[best] < inn.diffusion_window]
    f.last_adoption[adopted] = t
    model.counts.adoptions += len(adopted)


def link_universities(model: ClusterModel, rng: np.random.Generator, seekers: np.ndarray) -> None:
    """Skill-intensive firms that seek a university link get one where there is room."""
    unis = model.universities
    if not unis:
        return
    f = model.firms
    choice = rng.integers(len(unis), size=len(f))
    partners = np.bincount(f.university[f.university >= 0], minlength=len(unis))
    for row in np.flatnonzero(seekers & (f.university < 0)):
        u = int(choice[row])
        if partners[u] < unis[u].capacity:
            f.university[row] = u
            partners[u] += 1


def move_sectors(model: ClusterModel, rng: np.random.Generator, rows: np.ndarray,
                 view: SectorTotals) -> None:
    """Radical search: the firms at `rows` move into related sectors (relatedness-driven
    diversification), keeping their productivity relative to their sector's mean; each takes
    its sales out of the old sector's market and brings its capacity to the new one's."""
    if not len(rows):
        return
    f, s = model.firms, model.sectors
    old = f.sector[rows]
    allowed = (np.arange(s.n)[None, :] != old[:, None]) & s.open_to_entry
    new = choose_sectors(model, view, rng, allowed, (f.university[rows] >= 0) | f.member[rows],
                         old)
    shift = model.cfg.innovation.move_knowledge_shift
    for row, was, now in zip(rows.tolist(), old.tolist(), new.tolist()):
        shift_market(model, was, -(f.sales[row] - f.cfe_sales[row]))
        f.sector[row] = now
        f.productivity[row] *= view.mean_productivity[now] / view.mean_productivity[was]
        f.knowledge[row] += shift * (s.centre[now] - f.knowledge[row])
        capacity = f.productivity[row] * f.employees[row]
        f.market_weight[row] = 0.0
        join_sector(model, row, capacity, view)
        shift_market(model, now, capacity)
    f.loss_streak[rows] = 0
    model.counts.sector_moves += len(rows)
