"""Building blocks of the configuration: the field helper, the error type and the Enums.

Every behavioural constant of the model is a dataclass field made with `p`, which records its
accepted range, unit and source. Sources: "CAL" = docs/CALIBRATION.md (public facts),
"est." = an estimate derived from those facts, "assumption" = a modelling choice to be explored
by sensitivity analysis. Units: money in mln RUB, time in quarters (one step), people in persons.
"""

from __future__ import annotations

import copy
from dataclasses import field
from enum import Enum
from typing import Any


class ConfigError(ValueError):
    """A configuration value outside its accepted range or of the wrong kind."""


class SectorKind(Enum):
    core = "core"
    related = "related"
    supporting = "supporting"
    new = "new"
    local_services = "local_services"


class ClusterFounder(Enum):
    """Who may found the cluster management company (CMC)."""

    nobody = "nobody"  # no cluster policy and no business-led founding
    authorities = "authorities"  # top-down: authorities found and fund it at cluster.start_step
    firms = "firms"  # business-led: founded when enough firms agree to pay fees
    joint = "joint"  # firms found it, public money matches their fees


class PriorityRule(Enum):
    """Principle 1: which sectors the authorities support."""

    location_quotient = "location_quotient"  # LQ > 1 or productivity above national
    all_sectors = "all_sectors"  # dissipation of forces
    none = "none"


class FeeBasis(Enum):
    """How the CMC shares its costs among members."""

    size = "size"  # in proportion to employees (membership-fee tiers by company size)
    flat = "flat"  # the same fee for every member


class ProcurementRule(Enum):
    """Principle 6: how the CFE splits local procurement among member suppliers."""

    open = "open"  # competition: shares follow competitiveness
    designated = "designated"  # shares frozen when the supplier was designated


def p(default: Any, lo: float | None = None, hi: float | None = None, unit: str = "",
      src: str = "assumption") -> Any:
    """A config field with its accepted range, unit and source."""
    meta = {"lo": lo, "hi": hi, "unit": unit, "src": src}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)
