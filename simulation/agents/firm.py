"""Firm: a Mesa agent whose state is one row of the model's firm table.

The stages of the model act on whole columns of `model.firms` (simulation.state.FirmTable);
an agent is the handle on one firm for tests, the interactive page and anyone exploring the
model: ``firm.employees``, ``firm.member`` and every other column read (and write) its row.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from simulation.state import ORIGINS, FirmTable

if TYPE_CHECKING:
    from simulation.model import ClusterModel


class Firm(mesa.Agent):
    """One real firm: the CFE, an incumbent, or an entrant (investor, spinoff, outsourced unit)."""

    model: ClusterModel

    def __init__(self, model: ClusterModel, origin: str, **state: Any) -> None:
        super().__init__(model)
        state.setdefault("ramp_from", model.time_step)
        model.firms.append(uid=self.unique_id, agent=weakref.ref(self), origin=ORIGINS.index(origin),
                           born=model.time_step, **state)

    @property
    def row(self) -> int:
        return int(self.model.firms.row_of(self.unique_id))

    @property
    def alive(self) -> bool:
        return self.row >= 0

    @property
    def origin_name(self) -> str:
        return ORIGINS[self.origin]

    @property
    def partners(self) -> list[Firm]:
        """The firms this one has a tie with."""
        ties, row = self.model.ties, self.row
        rows = np.concatenate([ties.b[ties.a == row], ties.a[ties.b == row]])
        return self.model.firms.agents(rows)

    def resident_age(self) -> int | None:
        since = self.resident_since
        return None if since < 0 else self.model.time_step - int(since)


def _column_property(name: str) -> property:
    def get(firm: Firm) -> Any:
        return firm.model.firms.get(name, firm.row)

    def set_(firm: Firm, value: Any) -> None:
        firm.model.firms.set(name, firm.row, value)

    return property(get, set_, doc=getattr(FirmTable, name).doc)


for _column in FirmTable.columns():
    if _column.name not in ("uid", "agent"):
        setattr(Firm, _column.name, _column_property(_column.name))
