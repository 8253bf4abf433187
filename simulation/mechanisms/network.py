"""Stage 6: partner search, joint projects and tie decay (ODD 4.2; SKIN, Cowan-Jonard-Zimmermann
2007; Nooteboom 2000).

A firm searches with a base probability, more often after a loss. Its candidates, in order:
past partners, the CFE (for suppliers), the cluster management company's introductions
(members only), then random local firms; the list is capped. It proposes to the best
candidate whose own score of it is positive too (mutual consent) and who has room for a tie.
Every tie then runs a joint project: success builds relational credit and knowledge flows both
ways; failure erodes credit, and a tie whose credit falls too low dissolves (supplier ties to
the CFE carry procurement and stay).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.mechanisms.learning import absorptive_capacities
from simulation.state import Neighbours

if TYPE_CHECKING:
    from simulation.model import ClusterModel


# --------------------------------------------------------------------------- rules


def cognitive_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of knowledge vectors in [0,1]^K (the last axis), scaled to [0, 1]."""
    a, b = np.asarray(a), np.asarray(b)
    return np.sqrt(((a - b) ** 2).sum(axis=-1) / a.shape[-1])


def knowledge_gain(distance, optimal: float):
    """Inverted U in cognitive distance (Nooteboom 2000): g = (d/d*) exp(1 - d/d*); g(d*) = 1.

    Novelty grows with distance, understandability falls with it.
    """
    z = np.asarray(distance) / optimal
    return z * np.exp(1.0 - z)


def tie_success_prob(credit, common_partners, base: float, trust_scale: float):
    """Chance a joint project succeeds: p = 1 - (1 - p0) exp(-(credit + common) / s).

    Relational credit and shared partners build trust (Cowan, Jonard, Zimmermann 2007); the
    partner search counts common partners, the quarterly project draw uses credit alone.
    """
    return 1.0 - (1.0 - base) * np.exp(-(np.asarray(credit) + common_partners) / trust_scale)


def partner_score(success_prob, gain, absorptive, sales, gain_value: float, tie_cost: float):
    """Expected quarterly value of a tie: p * g * AC * v * S - cost (SKIN partner choice)."""
    return success_prob * gain * absorptive * gain_value * sales - tie_cost


def converge_share(successes, rate: float):
    """Share of the way a firm moves toward the mean knowledge of its partners in this
    quarter's successful projects: 1 - (1 - r)^m for m successes (k' = k + r (k_b - k) per
    project, the partners' positions taken at the start of the quarter)."""
    return 1.0 - (1.0 - rate) ** np.asarray(successes)


# --------------------------------------------------------------------------- ties


def tie_capacity(model: ClusterModel) -> np.ndarray:
    """Ties each firm may hold: the CFE keeps up to `cfe.max_suppliers`, others `max_ties`."""
    cfg = model.cfg
    return np.where(model.firms.is_cfe, cfg.cfe.max_suppliers, cfg.network.max_ties)


def link(model: ClusterModel, ra, rb) -> None:
    """New ties between the firms at rows ra[i] and rb[i]. A tie of the CFE (row 0) with a
    related or supporting firm is a supply tie, weighted by the supplier's capacity."""
    f = model.firms
    ra, rb = np.atleast_1d(ra), np.atleast_1d(rb)
    other = np.where(ra == 0, rb, ra)
    supply = ((ra == 0) | (rb == 0)) & model.sectors.supplier[f.sector[other]]
    model.ties.link(ra, rb, credit=model.cfg.network.initial_credit, supply=supply,
                    weight=f.productivity[other] * f.employees[other])


def unlink(model: ClusterModel, mask: np.ndarray) -> None:
    """Dissolve the ties where `mask` is True; both firms remember each other."""
    if not mask.any():
        return
    ties, f = model.ties, model.firms
    a, b = ties.a[mask], ties.b[mask]
    f.remember(np.concatenate([a, b]), f.uid[np.concatenate([b, a])])
    ties.keep(~mask)


# --------------------------------------------------------------------------- stage 6


def search_and_collaborate(model: ClusterModel, rng: np.random.Generator) -> None:
    f, net = model.firms, model.cfg.network
    introductions = model.cmc.broker(rng) if model.cmc is not None else {}
    f.absorptive_capacity = absorptive_capacities(model)
    f.inflow = 0.0
    n = len(f)
    order = rng.permutation(n)
    draws = rng.random(n)
    picks = rng.integers(0, n, size=(n, net.random_candidates))
    related = rng.random((n, 2, net.related_candidates))
    p = np.where(f.loss_streak > 0, net.search_prob_unsatisfied, net.search_prob)
    turns = np.flatnonzero(draws < p[order])  # searchers' turns, in the shuffled order
    if len(turns):
        searchers = order[turns]
        picked = np.hstack([related_firms(model, searchers, related[turns]), picks[turns]])
        search(model, searchers, picked, introductions)
    collaborate(model, rng)


def related_firms(model: ClusterModel, searchers: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Firms of sectors that supply or buy from each searcher's (input-output relatedness):
    a sector other than its own drawn by relatedness times its number of firms, then a firm
    of it; `uniforms` holds two draws per candidate. -1 where there is none."""
    f, s = model.firms, model.sectors
    counts = np.bincount(f.sector, minlength=s.n)
    weight = s.relatedness[f.sector[searchers]] * counts
    weight[np.arange(len(searchers)), f.sector[searchers]] = 0.0
    cumulative = np.cumsum(weight, axis=1)
    total = cumulative[:, -1:]
    sector = (uniforms[:, 0, :, None] * total[:, :, None] >= cumulative[:, None, :]).sum(axis=2)
    sector = np.minimum(sector, s.n - 1)
    by_sector = np.argsort(f.sector, kind="stable")
    first = np.searchsorted(f.sector[by_sector], np.arange(s.n))
    rows = by_sector[np.minimum(first[sector] + (uniforms[:, 1] * counts[sector]).astype(int),
                                len(f) - 1)]
    return np.where((total > 0) & (counts[sector] > 0), rows, -1)


def candidates(model: ClusterModel, nb: Neighbours, searchers: np.ndarray, picks: np.ndarray,
               introductions: dict[int, list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Each searcher's candidate list, in order: past partners (the most recent
    `max_candidates`), the CFE (for suppliers), the CMC's introductions, then `picks` (firms
    of related sectors, then random local firms); without the searcher itself, its partners
    and repeats; capped at `max_candidates`. Returns (searcher index k, candidate row)
    pairs, in list order."""
    f, net = model.firms, model.cfg.network
    n, count = len(f), len(searchers)
    past = f.row_of(f.past_partners[searchers][:, -net.max_candidates:])
    cfe = np.where(model.sectors.supplier[f.sector[searchers]], 0, -1)[:, None]
    introduced = [f.row_of(introductions[u]) if u in introductions else ()
                  for u in f.uid[searchers].tolist()]
    intro = np.full((count, max(map(len, introduced), default=0)), -1)
    for k, rows in enumerate(introduced):
        intro[k, :len(rows)] = rows
    table = np.hstack([past, cfe, intro, picks])
    owner = np.repeat(np.arange(count), table.shape[1])
    cand = table.ravel()
    me = searchers[owner]
    key = me * n + cand
    order = np.argsort(key, kind="stable")  # a repeat comes after its first listing
    repeat = np.zeros(len(key), dtype=bool)
    repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
    valid = (cand >= 0) & (cand != me) & ~repeat
    valid[valid] = ~nb.tied(me[valid], cand[valid])
    rank = np.cumsum(valid.reshape(table.shape), axis=1).ravel()
    keep = valid & (rank <= net.max_candidates)
    return owner[keep], cand[keep]


def search(model: ClusterModel, searchers: np.ndarray, picks: np.ndarray,
           introductions: dict[int, list[int]]) -> None:
    """Each searcher, in turn, proposes to its best candidate that accepts (ODD 4.2).

    Candidates are listed and scored against the network as it stood when the search began;
    links made earlier in the round count for room and for who is already a partner.
    """
    f, ties = model.firms, model.ties
    n = len(f)
    nb = ties.neighbours(n)
    degree = nb.degree.tolist()
    capacity = tie_capacity(model).tolist()
    uid = f.uid
    owner, cand = candidates(model, nb, searchers, picks, introductions)
    if not len(cand):
        return
    me = searchers[owner]
    mine, theirs = _scores(model, nb, me, cand)
    # each searcher's candidates best first (ties broken by id)
    order = np.lexsort((uid[cand], -mine, owner))
    new_a, new_b = [], []
    made: set[int] = set()  # pairs linked in this round, as a * n + b with a < b
    start = np.searchsorted(owner[order], np.arange(len(searchers)))
    stop = np.append(start[1:], len(order))
    mine, theirs, cand = mine[order].tolist(), theirs[order].tolist(), cand[order].tolist()
    for k, i in enumerate(searchers.tolist()):
        if degree[i] >= capacity[i]:
            continue
        for x in range(start[k], stop[k]):
            if mine[x] <= 0:
                break
            j = cand[x]
            pair = i * n + j if i < j else j * n + i
            if degree[j] < capacity[j] and theirs[x] > 0 and pair not in made:
                made.add(pair)
                degree[i] += 1
                degree[j] += 1
                new_a.append(i)
                new_b.append(j)
                break
    if new_a:
        link(model, np.array(new_a), np.array(new_b))


def _scores(model: ClusterModel, nb: Neighbours, me: np.ndarray, cand: np.ndarray):
    """Each side's score of a tie between the firms at rows me[i] and cand[i]."""
    f, net = model.firms, model.cfg.network
    common = nb.common(me, cand)
    remembers = (f.past_partners[me] == f.uid[cand][:, None]).any(axis=1)
    remembered = (f.past_partners[cand] == f.uid[me][:, None]).any(axis=1)
    gain = knowledge_gain(cognitive_distance(f.knowledge[me], f.knowledge[cand]),
                          net.optimal_distance)

    def score(rows, credit):
        p = tie_success_prob(credit * net.past_partner_credit, common, net.success_base,
                             net.trust_scale)
        return partner_score(p, gain, f.absorptive_capacity[rows], f.sales[rows],
                             net.gain_value, net.tie_cost)

    return score(me, remembers), score(cand, remembered)


def collaborate(model: ClusterModel, rng: np.random.Generator) -> None:
    """A joint project on every tie: success adds credit and knowledge flows both ways
    (inflow and convergence); failure erodes a non-supply tie's credit until it dissolves."""
    f, ties, net = model.firms, model.ties, model.cfg.network
    m = len(ties)
    if m == 0:
        return
    ra, rb = ties.a, ties.b
    success = rng.random(m) < tie_success_prob(ties.credit, 0, net.success_base, net.trust_scale)
    ties.credit = np.where(success, ties.credit + 1.0, ties.credit)
    n = len(f)
    sa, sb = ra[success], rb[success]
    knowledge = f.knowledge.copy()
    gain = knowledge_gain(cognitive_distance(knowledge[sa], knowledge[sb]), net.optimal_distance)
    f.inflow += np.bincount(sa, gain, n) + np.bincount(sb, gain, n)
    wins = np.bincount(sa, minlength=n) + np.bincount(sb, minlength=n)
    if len(sa):
        partner_sum = np.column_stack([np.bincount(sa, knowledge[sb, d], n)
                                       + np.bincount(sb, knowledge[sa, d], n)
                                       for d in range(knowledge.shape[1])])
        learned = wins > 0
        target = partner_sum[learned] / wins[learned, None]
        share = converge_share(wins[learned], net.learning_rate)[:, None]
        f.knowledge[learned] = knowledge[learned] + share * (target - knowledge[learned])
    # a supply tie decays like any other once no trade flows over it
    failed = ~success & (~ties.supply | (f.cfe_sales[ties.b] == 0))
    ties.credit = np.where(failed, ties.credit * (1.0 - net.credit_decay), ties.credit)
    unlink(model, failed & (ties.credit < net.credit_min))
