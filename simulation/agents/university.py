"""A university or research organisation: knowledge, joint projects, graduates, spinoffs.

Firms linked to it hold its index in their `university` column (at most `capacity` at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from simulation.config import UniversityConfig

if TYPE_CHECKING:
    from simulation.model import ClusterModel


class University(mesa.Agent):
    model: ClusterModel

    def __init__(self, model: ClusterModel, index: int, spec: UniversityConfig) -> None:
        super().__init__(model)
        self.index = index  # the value of a linked firm's `university` column
        self.name = spec.name
        self.knowledge = spec.knowledge
        self.capacity = spec.capacity
        self.graduates_per_step = spec.graduates_per_step
        self.spinoff_rate = spec.spinoff_rate

    def partners(self) -> int:
        return int((self.model.firms.university == self.index).sum())

    def has_room(self) -> bool:
        return self.partners() < self.capacity
