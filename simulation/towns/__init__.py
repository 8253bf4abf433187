"""Synthetic mono-towns: one town drawn from a category and a CFE sector, and the national set.

- ``categories``: the national facts (319 towns in Decree 709's three categories, 13.5 mln
  people) and every distribution a draw uses, with its source or marked as an assumption;
- ``templates``: the town presets' sector lists, one per CFE sector;
- ``generator``: ``draw_town`` (a seed -> a validated town, as a preset would state it) and the
  record ``TownTraits`` an allocation rule can observe;
- ``national``: the 319 towns ``t001``..``t319`` of a national seed (``national_sample``,
  ``national_town``) and samples stratified by category and size.
"""

from simulation.towns.categories import Category
from simulation.towns.generator import SyntheticTown, TownTraits, draw_town, to_config
from simulation.towns.national import (national_ids, national_plan, national_sample,
                                       national_town, sample_slots)
from simulation.towns.templates import CFE_SECTORS

__all__ = ["CFE_SECTORS", "Category", "SyntheticTown", "TownTraits", "draw_town",
           "national_ids", "national_plan", "national_sample", "national_town",
           "sample_slots", "to_config"]
