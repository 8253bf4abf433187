"""The town's sectors: fixed traits, relatedness, knowledge centres, and totals over firms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.config import ModelConfig, SectorKind
from simulation.state import FirmTable

PROFILE_KINDS = (SectorKind.core, SectorKind.related, SectorKind.supporting)


@dataclass
class Sectors:
    """Per-sector arrays, indexed like `cfg.town.sectors` (a firm's `sector` column)."""

    names: list[str]
    kind: np.ndarray  # SectorKind values as strings
    national_share: np.ndarray
    skill_need: np.ndarray
    tased_eligible: np.ndarray  # the law allows residents in this activity
    open_to_entry: np.ndarray
    supplier: np.ndarray  # related or supporting: can supply the CFE
    profile: np.ndarray  # core, related or supporting: the town's profile (principle 1)
    local_services: np.ndarray  # non-tradable: sells to households
    skill_intensive: np.ndarray
    rd_mean: np.ndarray  # mean R&D intensity of a firm in the sector
    productivity: np.ndarray  # configured mean productivity at the start
    national_ratio: np.ndarray  # national productivity / the town's configured one
    trend: np.ndarray
    volatility: np.ndarray
    persistence: np.ndarray
    relatedness: np.ndarray  # (n, n), 1 on the diagonal
    centre: np.ndarray  # (n, K) knowledge centre of each sector
    cfe: int  # the CFE's sector

    @property
    def n(self) -> int:
        return len(self.names)


def build_sectors(cfg: ModelConfig, rng: np.random.Generator) -> Sectors:
    town, firms_cfg, net = cfg.town, cfg.firms, cfg.network
    secs = town.sectors
    names = [s.name for s in secs]
    n = len(secs)
    kind = np.array([s.kind.value for s in secs])
    skill_need = np.array([s.skill_need for s in secs])
    skill_intensive = skill_need >= firms_cfg.skill_intensive
    cfe = names.index(town.cfe_sector)
    rel = np.full((n, n), town.relatedness_base)
    rel[kind[:, None] == kind[None, :]] = town.relatedness_same_kind
    for i, s in enumerate(secs):
        for name in s.related:
            j = names.index(name)
            rel[i, j] = rel[j, i] = town.relatedness_linked
    np.fill_diagonal(rel, 1.0)
    # knowledge: related sectors sit near the core sector's centre (cognitive proximity)
    k = net.knowledge_dims
    core = rng.uniform(net.core_knowledge_min, net.core_knowledge_max, size=k)
    directions = rng.normal(size=(n, k))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    spread = net.knowledge_spread * (1.0 - rel[:, cfe])
    centre = np.clip(core + spread[:, None] * directions, 0.0, 1.0)
    return Sectors(
        names=names, kind=kind,
        national_share=np.array([s.national_share for s in secs]),
        skill_need=skill_need,
        tased_eligible=np.array([s.tased_eligible for s in secs]),
        open_to_entry=np.array([s.open_to_entry for s in secs]),
        supplier=np.isin(kind, [SectorKind.related.value, SectorKind.supporting.value]),
        profile=np.isin(kind, [k.value for k in PROFILE_KINDS]),
        local_services=kind == SectorKind.local_services.value,
        skill_intensive=skill_intensive,
        rd_mean=np.where(skill_intensive, firms_cfg.rd_intensity_ki, firms_cfg.rd_intensity_mean),
        productivity=np.array([s.productivity for s in secs]),
        national_ratio=np.array([s.national_productivity for s in secs]),
        trend=np.array([s.demand_trend for s in secs]),
        volatility=np.array([s.demand_volatility for s in secs]),
        persistence=np.array([s.demand_persistence for s in secs]),
        relatedness=rel, centre=centre, cfe=cfe)


@dataclass
class SectorTotals:
    """Sums over the firms of each sector at one moment (a stage's view of the market)."""

    employment: np.ndarray
    capacity: np.ndarray  # output at full use: sum of productivity x output factor x employees
    mean_productivity: np.ndarray  # employment-weighted; the reference level if empty
    weight: np.ndarray  # sum of market weights
    firms: np.ndarray  # number of firms
    #: productivity weighted by market shares: the sector's competitiveness as its customers
    #: see it (outsourcing, which moves workers, not customers, leaves it alone)
    market_productivity: np.ndarray


def sector_totals(firms: FirmTable, sectors: Sectors, reference: np.ndarray) -> SectorTotals:
    n = sectors.n
    sec, emp = firms.sector, firms.employees
    employment = np.bincount(sec, weights=emp, minlength=n)
    mean = np.divide(np.bincount(sec, weights=emp * firms.productivity, minlength=n), employment,
                     out=reference.copy(), where=employment > 0)
    capacity = np.bincount(sec, weights=emp * firms.productivity * firms.output_factor,
                           minlength=n)
    weight = np.bincount(sec, weights=firms.market_weight, minlength=n)
    market = np.divide(np.bincount(sec, weights=firms.market_weight * firms.productivity,
                                   minlength=n), weight, out=mean.copy(), where=weight > 0)
    return SectorTotals(employment, capacity, mean, weight, np.bincount(sec, minlength=n),
                        market)


def reference_productivity(cfg: ModelConfig, sectors: Sectors, t: int) -> np.ndarray:
    """Configured sector productivity grown at the national rate (for empty sectors)."""
    return sectors.productivity * (1.0 + cfg.firms.national_productivity_growth) ** t


def national_productivity(cfg: ModelConfig, sectors: Sectors, t: int) -> np.ndarray:
    return sectors.national_ratio * reference_productivity(cfg, sectors, t)


def location_quotient(town_employment: np.ndarray, national_share: np.ndarray) -> np.ndarray:
    """LQ_s = (e_s / sum e) / national share_s."""
    total = town_employment.sum()
    share = town_employment / total if total > 0 else np.zeros_like(town_employment)
    return np.divide(share, national_share, out=np.zeros_like(share), where=national_share > 0)


def relatedness_density(relatedness: np.ndarray, employment: np.ndarray) -> np.ndarray:
    """density_s = sum_k R[s,k] e_k / sum_k e_k (Hidalgo et al. 2007; Neffke et al. 2011)."""
    total = employment.sum()
    if total <= 0:
        return np.zeros(relatedness.shape[0])
    return relatedness @ employment / total
