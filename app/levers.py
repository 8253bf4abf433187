"""The page's controls: label, explanation, widget and the config key each one sets, and the
parameter sets the page saves and loads (YAML lists of `tased-sim` overrides).

This table is the single place that says what a control means. A policy control the student
has not touched shows the value of the chosen scenario preset (the page starts where the
command line does) and overrides nothing; a control the student moves becomes an override of
one dotted config key, exactly as `tased-sim key=value` would.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

import yaml

from simulation.config import ModelConfig, PriorityRule, ProcurementRule
from simulation.presets import load_config, options, scenarios

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


def config_value(cfg: Any, key: str) -> Any:
    """The value of a dotted key in a ModelConfig (an Enum as its value)."""
    node = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node.value if isinstance(node, Enum) else node


@dataclass(frozen=True)
class Lever:
    """One control. ``kind`` is "select", "int", "float", "switch" or "seed".

    A policy lever (``key`` set) has no default of its own: untouched, it shows the preset's
    value. ``to_widget``/``to_config`` convert between the config value and the widget's
    (e.g. True <-> "on")."""

    name: str
    label: str
    help: str
    kind: str
    key: str | None = None  # dotted config key (None: a page setting, not an override)
    values: tuple[str, ...] = ()  # options of a select
    lo: float = 0.0  # the slider's range
    hi: float = 1.0
    step: float = 1.0
    limits: tuple[float, float] = (-math.inf, math.inf)  # what may be typed: the schema's
    default: Any = None  # default of a page setting (policy levers: None = as in scenario)
    to_widget: Callable[[Any], Any] = lambda v: v
    to_config: Callable[[Any], Any] = lambda v: v

    @property
    def policy(self) -> bool:
        return self.key is not None

    def clean(self, value: Any) -> Any:
        """A widget value in the lever's type (sliders send floats like 0.15000000000000002),
        a number within the accepted range (typed values may go beyond a slider's end)."""
        lo, hi = self.limits
        if self.kind in ("int", "seed"):
            value = value if isinstance(value, int) else int(round(float(value)))
            return int(min(max(value, lo), hi))
        if self.kind == "float":
            digits = max(0, -math.floor(math.log10(self.step))) if self.step < 1 else 0
            return round(min(max(float(value), lo), hi), digits + 4)
        if self.kind == "switch":
            return bool(value)
        return str(value)


def _slider(name, label, help, key, step, hi=None, integer=False) -> Lever:
    lo, top = config_range(key)
    return Lever(name, label, help, "int" if integer else "float", key, lo=lo,
                 hi=top if hi is None else hi, step=step, limits=(lo, top))


def _enum_select(name, label, help, key, enum: type[Enum]) -> Lever:
    return Lever(name, label, help, "select", key, values=tuple(e.value for e in enum))


SCENARIOS = tuple(scenarios())  # display order
TOWNS = tuple(options("town"))
HORIZON = config_default("steps")

LEVERS: tuple[Lever, ...] = (
    Lever("town", "Town",
          "Which mono-town to simulate. sokol: a small timber and pulp town; tagil: a steel "
          "town; tolyatti: a car-making city. The two large ones are represented by a sample "
          "of their firms and people (tagil 1/5, tolyatti 1/10): counts of firms and persons "
          "are the sample's, money on this page is for the whole town.",
          "select", values=TOWNS, default="sokol"),
    Lever("scenario_a", "Scenario A",
          "Governance scenario of configuration A (drawn solid). Its one-line description is "
          "shown under the box.", "select", values=SCENARIOS, default="top_down"),
    Lever("seed", "Seed",
          "Random seed: one replication. A and B always share it, so they meet the same "
          "demand shocks and the same draws (common random numbers) and differ only by "
          "policy. Change it to see how much of a result is luck, or use the Many seeds tab.",
          "seed", default=config_default("seed"), limits=config_range("seed")),
    Lever("tased", "TASED regime",
          "Territory of advancing development. On: for 10 years, new investors that meet the "
          "legal criteria (at least 10 new jobs and 2.5 mln RUB of investment, not the "
          "city-forming enterprise) pay lower profit tax and 7.6% social contributions, and "
          "the Monotown Fund co-finances serviced industrial plots.",
          "select", "tased.enabled", values=("on", "off"),
          to_widget=lambda v: "on" if v else "off", to_config=lambda v: v == "on"),
    _slider("support_end_step", "Support ends (quarter)",
            "Quarter at which public cluster money stops: the money for the cluster management "
            "company (CMC) and the membership and joint-project subsidies. End it early to "
            "see whether a state-made cluster survives on its own. A run lasts "
            f"{HORIZON} quarters.", "cluster.support_end_step", 1, hi=HORIZON, integer=True),
    _slider("management_quality", "CMC quality q",
            "Management quality q of the cluster management company, from 0 to 1. It scales "
            "the introductions the CMC brokers and the boost its services give to members' "
            "ability to absorb knowledge. Matters only while a CMC exists.",
            "cluster.management_quality", 0.05),
    _slider("brokerage", "CMC brokerage",
            "Networking (principle 2): introductions the CMC arranges per member per quarter "
            "at q = 1. Introduced firms are candidates when members look for partners, so "
            "more brokerage means more ties and knowledge flows among members.",
            "cluster.brokerage", 0.1, hi=3.0),
    _slider("urban_investment", "Urban investment (mln RUB/q)",
            "Principle 3: municipal spending on the urban environment, mln RUB per quarter "
            "for the whole town. It raises urban quality, which attracts investors, keeps "
            "graduates in town and slows out-migration.",
            "urban.investment_per_step", 1.0, hi=50.0),
    _slider("outsourcing_rate", "CFE outsourcing / year",
            "Principle 5: share of the city-forming enterprise's (CFE) initial staff spun off "
            "each year into independent supplier firms tied to it, up to a quarter of its "
            "staff in all. Lowers the CFE's share of employment directly.",
            "cfe.outsourcing_rate", 0.01),
    _enum_select("priority_rule", "Priority sectors",
                 "Principle 1: whose cluster members get subsidies. location_quotient: "
                 "sectors of the town's profile (core, related, supporting) that are "
                 "concentrated here or more productive than the national average; "
                 "all_sectors: everyone (support spread thin); none: no one.",
                 "cluster.priority_rule", PriorityRule),
    _enum_select("procurement_rule", "CFE procurement",
                 "Principle 6: how the CFE splits its local purchases among its suppliers "
                 "while a cluster exists. open: by competitiveness, re-run every quarter; "
                 "designated: fixed shares set when the cluster company was founded, whatever "
                 "suppliers do later.", "cluster.procurement_rule", ProcurementRule),
    _slider("subsidy_budget", "Cluster subsidies (mln RUB/q)",
            "Public money for membership and joint-R&D subsidies to priority-sector members "
            "while support lasts, mln RUB per quarter for the whole town (70% federal, 30% "
            "regional).", "cluster.subsidy_budget", 1.0, hi=100.0),
    _slider("public_funding", "CMC public money cap (mln RUB/q)",
            "Most the authorities pay a CMC they founded (cluster_only, top_down) each quarter "
            "while support lasts, for the whole town: they cover the costs members' fees do "
            "not, up to this cap; money not needed is not paid. After support ends the CMC "
            "lives on fees and dissolves if they do not cover its costs.",
            "cluster.public_funding", 0.5, hi=20.0),
    Lever("scenario_b", "Compare with (B)",
          "A second configuration run beside A on the same town and seed, drawn dashed on "
          "every plot: the paired comparison researchers use. 'none' runs A alone.",
          "select", values=(NO_COMPARISON, *SCENARIOS), default="baseline"),
    Lever("b_uses_levers", "B uses A's changed levers",
          "On: B gets every lever you changed above, so A and B differ only by scenario. "
          "Off: B runs its scenario exactly as the preset defines it; pick the same scenario "
          "for A and B to see what your lever changes do.", "switch", default=True),
)

BY_NAME = {lever.name: lever for lever in LEVERS}
#: settings of the page rather than config overrides
PAGE_SETTINGS = tuple(lever.name for lever in LEVERS if not lever.policy)
POLICY = tuple(lever for lever in LEVERS if lever.policy)
BY_KEY = {lever.key: lever for lever in POLICY}
#: the page's settings when it opens: policy levers None (as in the scenario preset)
DEFAULTS: dict[str, Any] = {lever.name: lever.default for lever in LEVERS}


def scenario_summary(name: str) -> str:
    return scenarios().get(name, {}).get("summary", "")


@functools.lru_cache(maxsize=64)
def preset_config(town: str, scenario: str) -> ModelConfig:
    """The command line's config for these presets (composed once per pair)."""
    return load_config(town, scenario)


def preset_widget_values(town: str, scenario: str) -> dict[str, Any]:
    """What each policy control shows when untouched: the preset's value, as a widget value."""
    cfg = preset_config(town, scenario)
    return {lever.name: lever.to_widget(config_value(cfg, lever.key)) for lever in POLICY}


def shown_value(settings: dict[str, Any], name: str) -> Any:
    """The value a control shows: the student's, or for an untouched policy lever the
    preset's value of scenario A."""
    value = settings.get(name)
    if value is None and BY_NAME[name].policy:
        return preset_widget_values(settings["town"], settings["scenario_a"])[name]
    return value


def overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """Config overrides (dotted keys) of the policy levers the student changed."""
    return {lever.key: lever.to_config(settings[lever.name]) for lever in POLICY
            if settings.get(lever.name) is not None}


def changed(settings: dict[str, Any]) -> list[str]:
    """Names of the policy levers the student changed."""
    return [lever.name for lever in POLICY if settings.get(lever.name) is not None]


def differences(applied: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """Labels of the controls whose value differs from the run's (for the notice)."""
    return [lever.label for lever in LEVERS
            if shown_value(settings, lever.name) != shown_value(applied, lever.name)]


# --------------------------------------------------------------------------- parameter sets


def _cli_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def cli_overrides(settings: dict[str, Any], run: str = "A") -> list[str]:
    """The `tased-sim` arguments that build configuration A or B of these settings."""
    if run == "A":
        scenario, levers = settings["scenario_a"], overrides(settings)
    elif run == "B" and settings["scenario_b"] != NO_COMPARISON:
        scenario = settings["scenario_b"]
        levers = overrides(settings) if settings["b_uses_levers"] else {}
    else:
        raise ValueError(f"no configuration {run!r} in these settings")
    head = [f"town={settings['town']}", f"scenario={scenario}", f"seed={int(settings['seed'])}"]
    return head + [f"{key}={_cli_value(value)}" for key, value in levers.items()]


def parameter_yaml(settings: dict[str, Any], run: str = "A") -> str:
    """A parameter set: a YAML list of `tased-sim` overrides, with how to use it."""
    args = cli_overrides(settings, run)
    head = (f"# Mono-town cluster lab: parameter set of configuration {run}.\n"
            "# A YAML list of tased-sim overrides. Run it from the repository root with\n"
            "#   sed -n 's/^- //p' THIS_FILE.yaml | xargs .venv/bin/tased-sim\n"
            "# or load it on the page (Parameter set > Load) to set the controls again.\n")
    return head + yaml.safe_dump(args, default_flow_style=False, sort_keys=False)


def parse_parameter_yaml(text: str | bytes) -> tuple[dict[str, Any], list[str]]:
    """Settings from a saved parameter set; returns (settings, notes on ignored entries).

    Accepts the page's list of `key=value` strings or a mapping of dotted keys. Page settings
    not in the file (B, 'B uses A's levers') keep their defaults; policy levers not in the
    file are 'as in scenario'. Raises ValueError on a file that is not a parameter set."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"not YAML: {err}") from None
    if isinstance(data, dict):
        pairs = [(str(k), v) for k, v in data.items()]
    elif isinstance(data, list) and all(isinstance(x, str) and "=" in x for x in data):
        pairs = [tuple(x.split("=", 1)) for x in data]
        pairs = [(k.strip(), yaml.safe_load(v)) for k, v in pairs]
    else:
        raise ValueError("expected a list of key=value lines (as the page saves) or a mapping "
                         "of dotted config keys")
    settings = dict(DEFAULTS)
    notes = []
    page_keys = {"town": "town", "scenario": "scenario_a", "seed": "seed"}
    for key, value in pairs:
        key = key.lstrip("+")
        if key in page_keys:
            lever = BY_NAME[page_keys[key]]
            if lever.kind == "select" and str(value) not in lever.values:
                raise ValueError(f"{key}: {value!r} is not one of {list(lever.values)}")
            settings[lever.name] = lever.clean(_in_limits(lever, key, value))
        elif key in BY_KEY:
            lever = BY_KEY[key]
            widget = lever.to_widget(value)
            if lever.kind == "select" and widget not in lever.values:
                raise ValueError(f"{key}: {value!r} is not one of {list(lever.values)}")
            if lever.kind in ("int", "float"):
                widget = lever.clean(_in_limits(lever, key, widget))
            settings[lever.name] = widget
        else:
            notes.append(f"{key}={value} is not a control of this page and was ignored")
    return settings, notes


def _in_limits(lever: Lever, key: str, value: Any) -> Any:
    if lever.kind in ("int", "float", "seed"):
        lo, hi = lever.limits
        if not lo <= float(value) <= hi:
            raise ValueError(f"{key}: {value} is outside the accepted range [{lo}, {hi}]")
    return value
