"""The model the page drives: configuration A, and a comparison B stepped in lockstep.

SolaraViz rebuilds the model with ``TownModel(**values_of_the_controls)``, so every argument is
a flat keyword with a default (the controls' defaults, see `levers.py`). No argument may be
called ``scenario``: SolaraViz fills a keyword of that name with a Mesa Scenario object.
"""

from __future__ import annotations

from simulation.model import ClusterModel
from simulation.presets import load_config

from levers import DEFAULTS, NO_COMPARISON, overrides

D = DEFAULTS


class TownModel(ClusterModel):
    """Configuration A (this model) and, unless ``scenario_b`` is "none", B in `comparison`.

    B has the same town and seed; it gets A's lever settings when ``b_uses_levers`` is true,
    otherwise it runs its scenario preset unchanged.
    """

    def __init__(self, town: str = D["town"], scenario_a: str = D["scenario_a"],
                 seed: int = D["seed"], tased: str = D["tased"],
                 support_end_step: int = D["support_end_step"],
                 management_quality: float = D["management_quality"],
                 brokerage: float = D["brokerage"],
                 urban_investment: float = D["urban_investment"],
                 outsourcing_rate: float = D["outsourcing_rate"],
                 priority_rule: str = D["priority_rule"],
                 procurement_rule: str = D["procurement_rule"],
                 subsidy_budget: str = D["subsidy_budget"],
                 public_funding: str = D["public_funding"],
                 scenario_b: str = D["scenario_b"],
                 b_uses_levers: bool = D["b_uses_levers"]) -> None:
        lever_overrides = overrides({
            "tased": tased, "support_end_step": support_end_step,
            "management_quality": management_quality, "brokerage": brokerage,
            "urban_investment": urban_investment, "outsourcing_rate": outsourcing_rate,
            "priority_rule": priority_rule, "procurement_rule": procurement_rule,
            "subsidy_budget": subsidy_budget, "public_funding": public_funding})
        seed = int(seed)
        super().__init__(load_config(town, scenario_a, {**lever_overrides, "seed": seed}))
        self.comparison: ClusterModel | None = None
        self.b_is_preset = not b_uses_levers
        if scenario_b != NO_COMPARISON:
            self.comparison = ClusterModel.from_presets(
                town, scenario_b, seed, lever_overrides if b_uses_levers else None)
        self.running = self.time_step < self.cfg.steps

    def step(self) -> None:
        super().step()
        if self.comparison is not None:
            self.comparison.step()
        self.running = self.time_step < self.cfg.steps

    def runs(self) -> list[tuple[str, ClusterModel]]:
        """(label, model) of A and, if present, B, for plots and tables."""
        out: list[tuple[str, ClusterModel]] = [(f"A: {self.cfg.scenario}", self)]
        if self.comparison is not None:
            preset = " (preset)" if self.b_is_preset else ""
            out.append((f"B: {self.comparison.cfg.scenario}{preset}", self.comparison))
        return out
