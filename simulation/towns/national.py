"""The national set: 319 synthetic mono-towns in Decree 709's categories, and samples of it.

Towns are identified `t001`..`t319`: category 1 first (`t001`-`t094`), then category 2
(`t095`-`t248`), then category 3 (`t249`-`t319`), so an id names the same category in every
set. A national seed fixes the set:

- the nation's own stream gives each town its CFE sector (exact counts in each category, in
  the proportions `categories.CFE_SECTOR_WEIGHTS`, largest remainders, in random order) and
  its population stratum: a permutation of 0..318, town k drawing its population within the
  k-th stratum's quantiles [s_k / 319, (s_k + 1) / 319) (Latin-hypercube sampling), which keeps
  the national total near 319 times the mean, 13.5 mln, in every set;
- each town has its own seed, derived from (national seed, town number), and draws the rest as
  `draw_town` does; `national_town(id, seed)` rebuilds one town without the others.

For an experiment, `national_sample(seed, n)` gives the whole set or a sample stratified by
category and size, each town with the weight of the national towns it stands for, and
`SyntheticTown.overrides()` the configuration overrides of one town.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

import simulation.towns.categories as cat
from simulation.towns.generator import SyntheticTown, draw_town

NATION = 0  # stream key of the nation's draws; towns are numbered from 1


def apportion(total: int, weights: list[float]) -> list[int]:
    """Integers in proportion to `weights` summing to `total` (largest remainders; ties to
    the first)."""
    w = np.asarray(weights, dtype=float)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(int)
    order = np.argsort(-(exact - out), kind="stable")
    out[order[:total - int(out.sum())]] += 1
    return [int(v) for v in out]


def national_ids() -> list[str]:
    return [f"t{k:03d}" for k in range(1, cat.TOTAL_TOWNS + 1)]


def town_number(town_id: str | int) -> int:
    """1..319 from an id `t001`..`t319` (or the number itself)."""
    k = town_id if isinstance(town_id, int) else (
        int(town_id[1:]) if str(town_id)[:1] == "t" and str(town_id)[1:].isdigit() else -1)
    if not 1 <= k <= cat.TOTAL_TOWNS:
        raise ValueError(f"town_id: {town_id!r} is not one of t001..t{cat.TOTAL_TOWNS}")
    return k


def town_seed(seed: int, number: int) -> int:
    """Town `number`'s own seed in the national set of `seed`."""
    state = np.random.SeedSequence([seed, number]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))  # below 2^63, a valid model seed as well


@dataclass(frozen=True)
class Slot:
    """A town's place in the national set, before its own draws."""

    number: int
    town_id: str
    category: int
    cfe_sector: str
    stratum: int  # its population stratum, 0..318
    seed: int


def national_plan(seed: int) -> list[Slot]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, NATION]))
    sectors = list(cat.CFE_SECTOR_WEIGHTS)
    weights = list(cat.CFE_SECTOR_WEIGHTS.values())
    plan_categories, plan_sectors = [], []
    for c, prof in cat.PROFILES.items():
        counts = apportion(prof.towns, weights)
        mine = np.repeat(sectors, counts)
        plan_categories += [int(c)] * prof.towns
        plan_sectors += [str(s) for s in rng.permutation(mine)]
    strata = rng.permutation(cat.TOTAL_TOWNS)
    return [Slot(number=k + 1, town_id=f"t{k + 1:03d}", category=plan_categories[k],
                 cfe_sector=plan_sectors[k], stratum=int(strata[k]),
                 seed=town_seed(seed, k + 1))
            for k in range(cat.TOTAL_TOWNS)]


def _town(slot: Slot) -> SyntheticTown:
    u = float(np.random.default_rng(slot.seed).random())  # the town's first draw
    quantile = (slot.stratum + u) / cat.TOTAL_TOWNS
    return draw_town(slot.category, slot.cfe_sector, slot.seed, quantile=quantile,
                     name=slot.town_id)


def national_town(town_id: str | int, seed: int) -> SyntheticTown:
    """Town `town_id` (`t001`..`t319`) of the national set of `seed`."""
    return _town(national_plan(seed)[town_number(town_id) - 1])


def sample_slots(seed: int, n: int | None = None,
                 stratified: bool = True) -> list[tuple[Slot, float]]:
    """The towns of a sample of n (all 319 if n is None) with their weights.

    Stratified: each category gets its share of n (largest remainders), and within it towns
    are taken at even steps through the population ranking from a random start (systematic
    sampling), so small and large towns are both in; weight = the category's towns / its
    sample. Otherwise a simple random sample, weight 319 / n."""
    plan = national_plan(seed)
    if n is None:
        return [(s, 1.0) for s in plan]
    if not 1 <= n <= cat.TOTAL_TOWNS:
        raise ValueError(f"n: {n!r} must lie in [1, {cat.TOTAL_TOWNS}]")
    rng = np.random.default_rng(np.random.SeedSequence([seed, NATION, n, int(stratified)]))
    if not stratified:
        chosen = np.sort(rng.choice(cat.TOTAL_TOWNS, size=n, replace=False))
        return [(plan[i], cat.TOTAL_TOWNS / n) for i in chosen]
    out = []
    per_category = apportion(n, [p.towns for p in cat.PROFILES.values()])
    for c, m in zip(cat.PROFILES, per_category):
        if m == 0:
            continue
        ranked = sorted((s for s in plan if s.category == c), key=lambda s: s.stratum)
        start = rng.random()
        picks = [int((start + i) * len(ranked) / m) for i in range(m)]
        out += [(ranked[i], len(ranked) / m) for i in picks]
    return sorted(out, key=lambda pair: pair[0].number)


def national_sample(seed: int, n: int | None = None,
                    stratified: bool = True) -> list[SyntheticTown]:
    """The national set of `seed` (n None) or a sample of n of its towns (`sample_slots`), in
    the order of their ids; `traits.weight` says how many national towns each stands for."""
    out = []
    for slot, weight in sample_slots(seed, n, stratified):
        town = _town(slot)
        out.append(dataclasses.replace(
            town, traits=dataclasses.replace(town.traits, weight=weight)))
    return out
