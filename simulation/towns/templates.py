"""Sector templates of synthetic towns: the town presets' sector lists, one per CFE sector.

A synthetic town with CFE sector s takes the sectors of the preset `TEMPLATE_PRESETS[s]` (their
kinds, productivities, national shares, skill needs, demand, TASED eligibility and relatedness
links, all as the preset states them) and draws their firm counts and absolute market room
(`generator`). The presets are read from the package's YAML files
(`simulation/configs/town/`), so a template cannot drift from its preset.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TOWN_DIR = Path(__file__).resolve().parents[1] / "configs" / "town"

#: CFE sector -> the preset whose sector list is its template. Automotive has two presets;
#: Tolyatti's is taken (Chelny, the validation town, differs in one new sector:
#: construction materials instead of chemicals)
TEMPLATE_PRESETS = {"pulp_paper": "sokol", "steel": "tagil", "automotive": "tolyatti"}
CFE_SECTORS = tuple(TEMPLATE_PRESETS)


@functools.cache
def _preset(name: str) -> dict[str, Any]:
    return yaml.safe_load((TOWN_DIR / f"{name}.yaml").read_text())


def preset_data(name: str) -> dict[str, Any]:
    """A town preset as plain data (a copy: callers may change it)."""
    return copy.deepcopy(_preset(name))


@dataclass(frozen=True)
class Template:
    preset: str
    cfe_sector: str
    #: the real town's population (the preset's represented population / its scale)
    population: float
    sectors: tuple[dict[str, Any], ...]
    #: each sector's share of the preset's firms besides the CFE
    firm_shares: tuple[float, ...]

    def sector_data(self) -> list[dict[str, Any]]:
        """The template's sectors as plain data (a copy)."""
        return copy.deepcopy(list(self.sectors))


@functools.cache
def template(cfe_sector: str) -> Template:
    if cfe_sector not in TEMPLATE_PRESETS:
        raise ValueError(f"cfe_sector: {cfe_sector!r} is not one of {list(CFE_SECTORS)} "
                         "(the CFE sectors of the town presets)")
    name = TEMPLATE_PRESETS[cfe_sector]
    data = _preset(name)
    if data["cfe_sector"] != cfe_sector:
        raise ValueError(f"preset {name!r}: its CFE sector is {data['cfe_sector']!r}, "
                         f"not {cfe_sector!r}")
    sectors = tuple(data["sectors"])
    firms = [s["initial_firms"] for s in sectors]
    total = sum(firms)
    return Template(preset=name, cfe_sector=cfe_sector,
                    population=data["population"] / data.get("scale", 1.0),
                    sectors=sectors, firm_shares=tuple(f / total for f in firms))
