"""Diversification (ODD 4.4): which sector a newcomer or a mover chooses, and how it joins it.

Principle of relatedness (Neffke, Henning and Boschma 2011; Hidalgo et al. 2007): the chance of
choosing a sector rises with its relatedness to what the town already does (and, for a
spinoff or a mover, to the sector it comes from). University links and cluster membership
widen what is reachable toward knowledge-intensive sectors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.sectors import SectorTotals, relatedness_density

if TYPE_CHECKING:
    from simulation.model import ClusterModel


def choose_sectors(model: ClusterModel, view: SectorTotals, rng: np.random.Generator | None,
                   allowed: np.ndarray, widen: np.ndarray, origins: np.ndarray | None = None,
                   uniforms: np.ndarray | None = None,
                   attraction: np.ndarray | None = None) -> np.ndarray:
    """Sectors drawn for several newcomers or movers at once: a logit choice,
    P(s) proportional to exp(beta * density_s) over allowed sectors, where density_s is the
    relatedness density to the town's employment, mixed with relatedness to each chooser's
    origin sector (if any) and widened toward knowledge-intensive sectors for choosers with
    a university link or cluster membership (`widen`, one flag per chooser).

    `allowed` is one mask for all choosers or one row each; `attraction` multiplies the
    weights of sectors the authorities court (principle 1); each choice uses one uniform
    draw (from `rng`, or given in `uniforms`).
    """
    e, s = model.cfg.entry, model.sectors
    density = np.tile(relatedness_density(s.relatedness, view.employment), (len(widen), 1))
    if origins is not None:
        density = (1.0 - e.origin_weight) * density + e.origin_weight * s.relatedness[origins]
    density += e.widen * np.outer(widen, s.skill_intensive)
    z = e.relatedness_weight * density
    weights = np.exp(z - z.max(axis=1, keepdims=True)) * allowed
    if attraction is not None:
        weights = weights * attraction
    weights[weights.sum(axis=1) == 0] = 1.0  # nothing allowed: uniform (callers check first)
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random(len(widen)) if uniforms is None else uniforms
    return (u[:, None] * cumulative[:, -1:] >= cumulative).sum(axis=1)


def entry_weight(capacity: float, sector_weights: float, sector_capacity: float) -> float:
    """A newcomer's replicator weight: its market share starts at its share of the sector's
    capacity."""
    if sector_weights <= 0 or sector_capacity <= 0:
        return capacity
    return capacity * sector_weights / sector_capacity


def join_sector(model: ClusterModel, row: int, capacity: float, view: SectorTotals) -> None:
    """Give the firm at `row` the market weight of `capacity` it brings to its sector (all of
    a newcomer's; a new project's addition); later newcomers of the same stage see it in
    `view`."""
    s = int(model.firms.sector[row])
    weight = entry_weight(capacity, view.weight[s], view.capacity[s])
    model.firms.market_weight[row] += weight
    view.weight[s] += weight
    view.capacity[s] += capacity


def new_knowledge(model: ClusterModel, rng: np.random.Generator, sectors: np.ndarray,
                  parent: np.ndarray | None = None, share: float = 0.0) -> np.ndarray:
    """Starting knowledge of new firms (rows): near their sector's centre, or a mix of that and
    a parent's knowledge with weight `share` on the parent."""
    net = model.cfg.network
    sectors = np.atleast_1d(sectors)
    own = model.sectors.centre[sectors] + rng.normal(0.0, net.knowledge_noise,
                                                     (len(sectors), net.knowledge_dims))
    if parent is not None:
        own = share * parent + (1.0 - share) * own
    return np.clip(own, 0.0, 1.0)
