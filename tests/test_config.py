"""Configuration: defaults validate, bad values are named, every parameter is used and documented."""

import dataclasses
import re
from pathlib import Path

import pytest

from simulation.config import ConfigError, ModelConfig, build, field_docs, validate
from simulation.presets import load_config, options


def test_every_preset_and_scenario_validates():
    for town in options("town"):
        for scenario in options("scenario"):
            cfg = load_config(town, scenario)
            assert cfg.town.name == town and cfg.scenario == scenario


@pytest.mark.parametrize("key, value, message", [
    ("steps", 0, r"steps: 0 is outside the accepted range \[1, 100000\]"),
    ("cluster.management_quality", 1.5, r"cluster.management_quality: 1.5 is outside"),
    ("cluster.member_fee", -1.0, r"cluster.member_fee: -1.0 is outside"),
    ("tased.start_step", 60, r"tased.start_step: 60 must be below steps"),
    ("shock.step", 99, r"shock.step: 99 must be below steps"),
    ("cluster.founder", "king", r"cluster.founder: Invalid value 'king', expected one of"),
    ("steps", "many", r"steps: Value 'many' of type 'str' could not be converted to Integer"),
    ("tased.enabled", "maybe", r"tased.enabled: Value 'maybe' is not a valid bool"),
    ("output.firm_steps", [0, 99], r"output.firm_steps\[1\]: 99 is outside the accepted range"),
    ("cluster.start_step", 60, r"cluster.start_step: 60 must be below steps"),
    ("cluster.nonsense", 1, r"cluster.nonsense: unknown key"),
])
def test_bad_values_name_the_field_and_range(key, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config("sokol", "top_down", {key: value})


def test_unknown_preset_is_named():
    with pytest.raises(ConfigError, match=r"town: 'huge' is not one of \['chelny', 'sokol'"):
        load_config("huge", "baseline")


def test_build_rejects_unknown_nested_keys():
    data = {"town": {"sectors": [{"name": "a", "colour": "red"}]}}
    with pytest.raises(ConfigError, match=r"town.sectors\[0\].colour: unknown key"):
        build(data)


def test_sector_cross_references_are_checked():
    cfg = load_config("sokol", "baseline")
    cfg.town.sectors[0].related = ["steel"]
    with pytest.raises(ConfigError, match=r"town.sectors\[0\].related: 'steel' is not one of"):
        validate(cfg)


def _simulation_source() -> str:
    return "".join(p.read_text() for p in Path("simulation").rglob("*.py")
                   if "config" not in p.parts)


def test_every_parameter_is_read_by_the_model():
    """No parameter exists only in the config: each leaf name is read somewhere."""
    source = _simulation_source()
    unused = [row["name"] for row in field_docs()
              if not re.search(rf"\.{row['name'].split('.')[-1]}\b", source)
              and row["name"] not in ("scenario",)]
    assert unused == []


def test_every_parameter_is_in_the_odd():
    odd = Path("docs/ODD.md").read_text()
    missing = [row["name"] for row in field_docs() if f"`{row['name']}`" not in odd
               and row["name"] not in ("scenario",)]
    assert missing == []


def test_dataclass_defaults_build_a_valid_config_with_a_town():
    cfg = load_config("sokol", "baseline")
    fresh = ModelConfig(town=cfg.town)
    assert validate(fresh) is fresh
    assert dataclasses.asdict(fresh)["steps"] == 60
