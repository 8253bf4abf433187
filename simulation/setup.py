"""Set-up (ODD 3.2): the initial town drawn from the configuration and the seed.

Sectors and their knowledge centres; the labour force, public jobs and unemployment; the CFE
and the incumbents with heavy-tailed sizes; markets calibrated so an average firm earns the
target margin and demand equals capacity plus room; the CFE's supplier ties and a few ties by
relatedness; universities and the three authorities.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.agents.authorities import (FederalAuthority, MunicipalAuthority,
                                           RegionalAuthority)
from simulation.agents.firm import Firm
from simulation.agents.university import University
from simulation.config import ConfigError
from simulation.mechanisms.diversification import new_knowledge
from simulation.mechanisms.market import CfeTaxes, calibrated_input_share
from simulation.mechanisms.network import link, tie_capacity
from simulation.sectors import build_sectors, reference_productivity, sector_totals
from simulation.state import FirmTable, TieTable
from simulation.town import CfeState, Market, Site, Town

if TYPE_CHECKING:
    from simulation.model import ClusterModel


def allocate_sizes(raw: np.ndarray, total: int, floor: int, cap: int) -> np.ndarray:
    """Integer firm sizes proportional to `raw`, each in [floor, cap], summing to `total`.

    Sizes above the cap are cut and the excess is spread over the other firms in proportion
    to their sizes; the rounding remainder goes to the largest uncapped firms, one job each.
    """
    floor = min(floor, total // max(1, len(raw)), cap)
    sizes = floor + np.asarray(raw, dtype=float) * (total - floor * len(raw)) / raw.sum()
    for _ in range(50):
        over = sizes > cap
        if not over.any():
            break
        excess = (sizes[over] - cap).sum()
        sizes[over] = cap
        free = ~over & (sizes < cap)
        sizes[free] += excess * sizes[free] / sizes[free].sum()
    out = np.clip(np.floor(sizes), floor, cap).astype(int)
    order = np.argsort(-(sizes - np.floor(sizes)), kind="stable")
    i = 0
    while out.sum() != total and i < 10 * len(out):
        j = order[i % len(out)]
        step = 1 if out.sum() < total else -1
        if floor <= out[j] + step <= cap:
            out[j] += step
        i += 1
    return out


def build(model: ClusterModel) -> None:
    cfg, rng = model.cfg, model.rng
    town = cfg.town
    model.sectors = build_sectors(cfg, rng)
    labour_force = int(round(town.population * town.participation))
    public_jobs = int(round(labour_force * town.public_jobs_share))
    model.town = Town(float(town.population), labour_force, public_jobs,
                      int(round(labour_force * town.skilled_share)), town.wage,
                      town.urban_quality,
                      unemployed=int(round(labour_force * town.unemployment)))
    model.site = Site(float(town.serviced_plots))
    model.firms = FirmTable(cfg.network.knowledge_dims, cfg.network.memory)
    model.ties = TieTable()
    model.cmc = None
    model.cfe_taxes = CfeTaxes()
    build_firms(model, rng)
    model.town.unemployed = labour_force - public_jobs - int(model.firms.employees.sum())
    calibrate_markets(model, rng)
    build_related_ties(model, rng)
    model.universities = [University(model, i, spec) for i, spec in enumerate(town.universities)]
    model.federal = FederalAuthority(model)
    model.region = RegionalAuthority(model)
    model.municipality = MunicipalAuthority(model)


def build_firms(model: ClusterModel, rng: np.random.Generator) -> None:
    """The CFE (row 0) and the incumbents: heavy-tailed sizes, productivity around the
    sector mean, R&D intensity around the sector's, knowledge near the sector's centre."""
    cfg, town, s = model.cfg, model.cfg.town, model.sectors
    t = model.town
    firm_jobs = t.labour_force - t.public_jobs - int(round(t.labour_force * town.unemployment))
    cfe_jobs = int(round(town.cfe_employment_share * (firm_jobs + t.public_jobs)))
    other_jobs = firm_jobs - cfe_jobs
    if other_jobs <= 0:
        raise ConfigError("town.cfe_employment_share: leaves no jobs for other firms; "
                          "lower it or public_jobs_share")
    counts = [sc.initial_firms for sc in town.sectors]
    sectors = np.repeat(np.arange(s.n), counts)
    rng.shuffle(sectors)
    raw = town.firm_size_min * (1.0 + rng.pareto(town.firm_size_alpha, len(sectors)))
    cap = max(1, min(int(cfe_jobs * town.largest_vs_cfe), town.firm_size_max))
    sizes = np.maximum(1, allocate_sizes(raw, other_jobs, town.firm_size_min, cap))
    disp, fc = cfg.firms.productivity_dispersion, cfg.firms
    cfe_a = town.cfe_productivity * s.productivity[s.cfe]
    cfe_worth = fc.initial_net_worth * cfe_a * cfe_jobs
    Firm(model, "cfe", sector=s.cfe, employees=cfe_jobs, productivity=cfe_a,
         knowledge=new_knowledge(model, rng, s.cfe)[0], rd_intensity=cfg.cfe.rd_intensity,
         net_worth=cfe_worth, initial_net_worth=cfe_worth, is_cfe=True, cfe_affiliated=True,
         capex=fc.capital_per_worker * cfe_jobs, investment=fc.capital_per_worker * cfe_jobs)
    a = s.productivity[sectors] * rng.lognormal(-disp**2 / 2, disp, len(sectors))
    knowledge = new_knowledge(model, rng, sectors)
    rd = s.rd_mean[sectors] * rng.lognormal(0.0, fc.rd_dispersion, len(sectors))
    threshold = rng.uniform(cfg.cluster.threshold_min, 1.0, len(sectors))
    worth = fc.initial_net_worth * a * sizes
    for i in range(len(sectors)):
        Firm(model, "incumbent", sector=sectors[i], employees=sizes[i], productivity=a[i],
             knowledge=knowledge[i], rd_intensity=rd[i], net_worth=worth[i],
             initial_net_worth=worth[i], capex=fc.capital_per_worker * sizes[i],
             investment=fc.capital_per_worker * sizes[i], joining_threshold=threshold[i])
    f = model.firms
    f.market_weight = f.productivity * f.employees  # initial shares = capacity shares
    model.cfe_state = CfeState(initial_jobs=cfe_jobs)


def calibrate_markets(model: ClusterModel, rng: np.random.Generator) -> None:
    """Input shares give an average firm the target margin; demand equals capacity plus room
    (less the CFE's procurement, which is part of its suppliers' sales)."""
    cfg, s, f = model.cfg, model.sectors, model.firms
    view = sector_totals(f, s, reference_productivity(cfg, s, 0))
    input_share = calibrated_input_share(view.mean_productivity, model.town.wage,
                                         cfg.taxes.contributions, cfg.firms.target_margin,
                                         s.rd_mean, cfg.firms.max_input_share)
    procurement = initial_suppliers(model, rng, input_share)
    room = np.array([sc.market_room for sc in cfg.town.sectors])
    room_abs = np.array([sc.market_room_abs for sc in cfg.town.sectors])
    base = np.maximum(0.0, view.capacity * (1.0 + room) - procurement) + model.scaled(room_abs)
    wage_bill = model.town.wage * (view.employment.sum() + model.town.public_jobs)
    model.market = Market(demand_x=np.zeros(s.n), demand_base=base, demand=base.copy(),
                          base_productivity=view.market_productivity.copy(),
                          input_share=input_share,
                          local_propensity=np.where(s.local_services, base / wage_bill, 0.0))


def initial_suppliers(model: ClusterModel, rng: np.random.Generator,
                      input_share: np.ndarray) -> np.ndarray:
    """Link the CFE to suppliers drawn by size; returns its local procurement by sector."""
    cfg, s, f = model.cfg, model.sectors, model.firms
    pool = np.flatnonzero(~f.is_cfe & s.supplier[f.sector])
    n = min(cfg.town.cfe_suppliers, len(pool))
    out = np.zeros(s.n)
    if n == 0:
        return out
    w = f.employees[pool].astype(float)
    chosen = np.sort(pool[rng.choice(len(pool), size=n, replace=False, p=w / w.sum())])
    link(model, np.zeros(n, dtype=int), chosen)
    total = cfg.cfe.local_procurement_share * input_share[s.cfe] * f.productivity[0] \
        * f.employees[0]
    capacity = f.productivity[chosen] * f.employees[chosen]
    np.add.at(out, f.sector[chosen], total * capacity / capacity.sum())
    return out


def build_related_ties(model: ClusterModel, rng: np.random.Generator) -> None:
    """A few ties by relatedness: a random firm, a sector by relatedness, a firm in it."""
    cfg, s, f = model.cfg, model.sectors, model.firms
    n = len(f)
    if n < 2:
        return
    pairs = int(cfg.network.initial_related_ties * n / 2)
    counts = np.bincount(f.sector[1:], minlength=s.n).astype(float)
    members = [np.flatnonzero((f.sector == k) & ~f.is_cfe) for k in range(s.n)]
    a = 1 + rng.integers(n - 1, size=pairs)
    w = s.relatedness[f.sector[a]] * counts
    cum = np.cumsum(w, axis=1)
    sector = (rng.random(pairs)[:, None] * cum[:, -1:] >= cum).sum(axis=1)
    pick = rng.random(pairs)
    degree = model.ties.degree(n)
    room = tie_capacity(model)
    tied: set[tuple[int, int]] = set()
    new_a, new_b = [], []
    for i, k, u in zip(a.tolist(), sector.tolist(), pick.tolist()):
        j = int(members[k][int(u * len(members[k]))])
        pair = (min(i, j), max(i, j))
        if i != j and pair not in tied and degree[i] < room[i] and degree[j] < room[j]:
            tied.add(pair)
            degree[i] += 1
            degree[j] += 1
            new_a.append(i)
            new_b.append(j)
    if new_a:
        link(model, np.array(new_a), np.array(new_b))
