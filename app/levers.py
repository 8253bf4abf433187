"""The page's controls: label, explanation, widget and the config key each one sets.

This table is the single place that says what a control means. Default values come from the
model's own config schema (`simulation.config`), so the page starts where the command line
does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from simulation.config import ModelConfig, PriorityRule, ProcurementRule
from simulation.presets import options

AS_SCENARIO = "as in scenario"  # a control left here keeps the scenario preset's value
NO_COMPARISON = "none"


def _field(key: str) -> dataclasses.Field:
    """The schema field of a dotted config key, e.g. ``cluster.management_quality``."""
    node: Any = ModelConfig
    *parents, name = key.split(".")
    for part in parents:
        node = type(_fields(node)[part].default_factory())
    return _fields(node)[name]


def _fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def config_default(key: str) -> Any:
    """Default of a dotted config key (an Enum as its value)."""
    value = _field(key).default
    return value.value if isinstance(value, Enum) else value


def config_range(key: str) -> tuple[float, float]:
    """Accepted range (lo, hi) of a dotted config key, from the schema's field metadata."""
    meta = _field(key).metadata
    return meta["lo"], meta["hi"]


@dataclass(frozen=True)
class Lever:
    name: str  # keyword of TownModel
    label: str  # short text next to the widget
    help: str  # what the control means in the model
    widget: dict  # SolaraViz input spec without "label"
    key: str | None = None  # dotted config key the control overrides (None: not an override)
    convert: Callable[[Any], Any] | None = None  # widget value -> config value

    @property
    def default(self) -> Any:
        return self.widget["value"]

    def spec(self) -> dict:
        return {**self.widget, "label": self.label}


def _slider(key: str, step: float, hi: float | None = None, integer: bool = False) -> dict:
    lo, top = config_range(key)
    return {"type": "SliderInt" if integer else "SliderFloat", "value": config_default(key),
            "min": lo, "max": top if hi is None else hi, "step": step}


def _select(values: list[str], value: str) -> dict:
    return {"type": "Select", "value": value, "values": values}


SCENARIOS = options("scenario")
TOWNS = options("town")
HORIZON = config_default("steps")

LEVERS: tuple[Lever, ...] = (
    Lever("town", "Town",
          "Which mono-town to simulate. sokol: a small timber and pulp town; tagil: a steel "
          "town; tolyatti: a car-making city. The two large ones are represented by a sample "
          "of their firms, with population and budgets scaled alike. Sectors, firms and "
          "population come from the town preset.",
          _select(TOWNS, "sokol")),
    Lever("scenario_a", "Scenario A",
          "Governance scenario of configuration A. baseline: no policy; tased_only: TASED "
          "regime only; cluster_only: the authorities found and fund a cluster without TASED; "
          "top_down: TASED plus that state-led cluster; business_led: TASED, and firms found a "
          "cluster themselves once enough of them expect to gain; joint: TASED, firms found "
          "the cluster and public money matches their fees.",
          _select(SCENARIOS, "top_down")),
    Lever("seed", "Seed",
          "Random seed: one replication. A and B always share it, so they meet the same "
          "demand shocks and the same draws (common random numbers) and differ only by "
          "policy. Change it to see how much of a result is luck.",
          {"type": "SliderInt", "value": config_default("seed"), "min": 0, "max": 99,
           "step": 1}),
    Lever("tased", "TASED regime",
          "Territory of advancing development. On: for 10 years, new investors that meet the "
          "legal criteria (at least 10 new jobs and 2.5 mln RUB of investment, not the "
          "city-forming enterprise) pay lower profit tax and 7.6% social contributions, and "
          "the Monotown Fund co-finances serviced industrial plots.",
          _select([AS_SCENARIO, "on", "off"], AS_SCENARIO), key="tased.enabled",
          convert={"on": True, "off": False}.__getitem__),
    Lever("support_end_step", "Support ends (quarter)",
          "Quarter at which public cluster money stops: the grant to the cluster management "
          "company (CMC) and the membership and joint-project subsidies. End it early to see "
          f"whether a state-made cluster survives on its own. A run lasts {HORIZON} quarters.",
          _slider("cluster.support_end_step", 1, hi=HORIZON, integer=True),
          key="cluster.support_end_step"),
    Lever("management_quality", "CMC quality q",
          "Management quality q of the cluster management company, from 0 to 1. It scales "
          "the introductions the CMC brokers and the boost its services give to members' "
          "ability to absorb knowledge. Matters only while a CMC exists.",
          _slider("cluster.management_quality", 0.05), key="cluster.management_quality"),
    Lever("brokerage", "CMC brokerage",
          "Networking (principle 2): introductions the CMC arranges per member per quarter at "
          "q = 1. Introduced firms are candidates when members look for partners, so more "
          "brokerage means more ties and knowledge flows among members.",
          _slider("cluster.brokerage", 0.1, hi=3.0), key="cluster.brokerage"),
    Lever("urban_investment", "Urban investment",
          "Principle 3: municipal spending on the urban environment, mln RUB per quarter for "
          "the whole town. It raises urban quality, which attracts investors, keeps graduates "
          "in town and slows out-migration.",
          _slider("urban.investment_per_step", 1.0, hi=50.0), key="urban.investment_per_step"),
    Lever("outsourcing_rate", "CFE outsourcing / year",
          "Principle 5: share of the city-forming enterprise's (CFE) initial staff spun off "
          "each year into independent supplier firms tied to it, up to a quarter of its staff "
          "in all. Lowers the CFE's share of employment directly.",
          _slider("cfe.outsourcing_rate", 0.01), key="cfe.outsourcing_rate"),
    Lever("priority_rule", "Priority sectors",
          "Principle 1: whose cluster members get subsidies. location_quotient: sectors of "
          "the town's profile (core, related, supporting) that are concentrated here or more "
          "productive than the national average; all_sectors: everyone (support spread "
          "thin); none: no one.",
          _select([r.value for r in PriorityRule], config_default("cluster.priority_rule")),
          key="cluster.priority_rule"),
    Lever("procurement_rule", "CFE procurement",
          "Principle 6: how the CFE splits its local purchases among its suppliers while a "
          "cluster exists. open: by competitiveness, re-run every quarter; designated: fixed "
          "shares set when the cluster company was founded, whatever suppliers do later.",
          _select([r.value for r in ProcurementRule],
                  config_default("cluster.procurement_rule")),
          key="cluster.procurement_rule"),
    Lever("subsidy_budget", "Cluster subsidies",
          "Public money for membership and joint-R&D subsidies to priority-sector members "
          "while support lasts, mln RUB per quarter (70% federal, 30% regional). 'as in "
          "scenario' keeps the preset's amount.",
          _select([AS_SCENARIO, "0", "5", "10", "20", "40", "80"], AS_SCENARIO),
          key="cluster.subsidy_budget", convert=float),
    Lever("public_funding", "CMC grant",
          "Public operating grant to a CMC founded by the authorities (cluster_only, "
          "top_down) while support lasts, mln RUB per quarter. Without it the CMC lives on "
          "members' fees and dissolves if they do not cover its running cost.",
          _select([AS_SCENARIO, "0", "2.5", "5", "10", "20"], AS_SCENARIO),
          key="cluster.public_funding", convert=float),
    Lever("scenario_b", "Compare with (B)",
          "A second configuration run beside A on the same town and seed, drawn dashed on "
          "every plot: the paired comparison researchers use. 'none' runs A alone.",
          _select([NO_COMPARISON, *SCENARIOS], "baseline")),
    Lever("b_uses_levers", "B uses A's levers",
          "On: B gets every lever set above, so A and B differ only by scenario. Off: B runs "
          "its scenario exactly as the preset defines it; pick the same scenario for A and B "
          "to see what your lever changes do.",
          {"type": "Checkbox", "value": True}),
)

BY_NAME = {lever.name: lever for lever in LEVERS}
DEFAULTS = {lever.name: lever.default for lever in LEVERS}


def model_params() -> dict[str, dict]:
    """The `model_params` argument of SolaraViz: one input per lever."""
    return {lever.name: lever.spec() for lever in LEVERS}


def overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """Config overrides (dotted keys) for the levers in `settings`; 'as in scenario' is skipped."""
    out = {}
    for name, raw in settings.items():
        lever = BY_NAME[name]
        if lever.key is not None and raw != AS_SCENARIO:
            out[lever.key] = raw if lever.convert is None else lever.convert(raw)
    return out
