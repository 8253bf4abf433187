"""The whole configuration of one run, its construction from plain data and its validation."""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from simulation.config.behaviour import (EntryConfig, FirmConfig, InnovationConfig,
                                         LabourConfig, NetworkConfig, UrbanConfig)
from simulation.config.fields import ClusterFounder, ConfigError, p
from simulation.config.policy import (CfeConfig, ClusterConfig, ShockConfig, TasedConfig,
                                      TaxConfig)
from simulation.config.town import TownConfig

MAX_SEED = 2**63 - 1
#: labels that become parts of directory names (town.name, scenario) accept these only
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class OutputConfig:
    #: firm table written at these steps, each at most `steps` (the final step is always added)
    firm_steps: list[int] = p([0], 0, None, "steps")


@dataclass
class ModelConfig:
    scenario: str = "baseline"  # label, never read by a rule
    steps: int = p(60, 1, 100_000, "quarters")
    seed: int = p(0, 0, MAX_SEED)
    town: TownConfig = field(default_factory=TownConfig)
    taxes: TaxConfig = field(default_factory=TaxConfig)
    tased: TasedConfig = field(default_factory=TasedConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    cfe: CfeConfig = field(default_factory=CfeConfig)
    shock: ShockConfig = field(default_factory=ShockConfig)
    firms: FirmConfig = field(default_factory=FirmConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    innovation: InnovationConfig = field(default_factory=InnovationConfig)
    entry: EntryConfig = field(default_factory=EntryConfig)
    labour: LabourConfig = field(default_factory=LabourConfig)
    urban: UrbanConfig = field(default_factory=UrbanConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


def build(data: Mapping[str, Any]) -> ModelConfig:
    """Plain data (a resolved Hydra config, a dict) -> a validated ModelConfig.

    OmegaConf merges the data into the typed schema (rejecting unknown keys and values of the
    wrong type, naming the field) and `to_object` builds the dataclasses; `validate` then
    checks every range and cross-field rule.
    """
    check_keys(data, ModelConfig, "")
    try:
        cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ModelConfig), data))
    except OmegaConfBaseException as err:
        raise ConfigError(omegaconf_message(err)) from None
    return validate(cfg)


def check_keys(data: Any, cls: type, path: str) -> None:
    """Reject keys the schema does not know, naming the full path (list items included): a
    ConfigError 'cluster.nonsense: unknown key; accepted keys: ...'."""
    if not isinstance(data, Mapping):
        return
    names = [f.name for f in dataclasses.fields(cls)]
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in names:
            raise ConfigError(f"{where}: unknown key; accepted keys: {', '.join(names)}")
        hint = hints[key]
        item = typing.get_args(hint)[0] if typing.get_origin(hint) is list else None
        if dataclasses.is_dataclass(hint):
            check_keys(value, hint, where)
        elif dataclasses.is_dataclass(item) and isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                check_keys(v, item, f"{where}[{i}]")


def omegaconf_message(err: OmegaConfBaseException) -> str:
    """One line naming the field: 'cluster.nonsense: unknown key; accepted keys: ...'."""
    where = getattr(err, "full_key", None) or "config"
    first = str(err).splitlines()[0].strip() if str(err) else type(err).__name__
    if isinstance(err, ConfigKeyError) or first.startswith("Key '"):
        cls = getattr(err, "object_type", None)
        accepted = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) \
            else []
        return f"{where}: unknown key" + (f"; accepted keys: {', '.join(accepted)}"
                                          if accepted else "")
    return f"{where}: {first}"


def validate(cfg: ModelConfig) -> ModelConfig:
    """Check every field against its range, then the cross-field rules. Returns cfg."""
    _check_ranges(cfg, "")
    for where, label in (("town.name", cfg.town.name), ("scenario", cfg.scenario)):
        if not isinstance(label, str) or not SAFE_NAME.fullmatch(label):
            raise ConfigError(f"{where}: {label!r} is not accepted; it names output "
                              f"directories: use letters, digits, '_' and '-' only")
    names = [s.name for s in cfg.town.sectors]
    if not names:
        raise ConfigError("town.sectors: at least one sector is required")
    if len(set(names)) != len(names):
        raise ConfigError(f"town.sectors: sector names must be unique, got {names}")
    if cfg.town.cfe_sector not in names:
        raise ConfigError(f"town.cfe_sector: {cfg.town.cfe_sector!r} is not one of {names}")
    for i, s in enumerate(cfg.town.sectors):
        for r in s.related:
            if r not in names:
                raise ConfigError(f"town.sectors[{i}].related: {r!r} is not one of {names}")
    if len(cfg.town.universities) > 2:
        raise ConfigError("town.universities: accepted 0 to 2 universities")
    if cfg.tased.start_step >= cfg.steps:
        raise ConfigError(f"tased.start_step: {cfg.tased.start_step} must be below steps "
                          f"({cfg.steps}), accepted range [0, {cfg.steps - 1}]")
    # every start step against the horizon; without a cluster policy the default start step
    # is unused, so only a value set on purpose is checked (a short run keeps the default)
    default_start = ClusterConfig.__dataclass_fields__["start_step"].default
    if cfg.cluster.start_step >= cfg.steps and (cfg.cluster.founder != ClusterFounder.nobody
                                                or cfg.cluster.start_step != default_start):
        raise ConfigError(f"cluster.start_step: {cfg.cluster.start_step} must be below steps "
                          f"({cfg.steps}), accepted range [0, {cfg.steps - 1}]")
    if cfg.shock.step >= cfg.steps:
        raise ConfigError(f"shock.step: {cfg.shock.step} must be below steps ({cfg.steps}) "
                          f"or -1 for none")
    for i, step in enumerate(cfg.output.firm_steps):
        if not 0 <= step <= cfg.steps:
            raise ConfigError(f"output.firm_steps[{i}]: {step} is outside the accepted range "
                              f"[0, {cfg.steps}]")
    if cfg.network.core_knowledge_min > cfg.network.core_knowledge_max:
        raise ConfigError("network.core_knowledge_min: must not exceed "
                          "network.core_knowledge_max")
    if cfg.town.public_jobs_share + cfg.town.unemployment >= 1.0:
        raise ConfigError("town.public_jobs_share: public jobs plus unemployment must leave "
                          "room for firms (sum below 1)")
    return cfg


def _check_ranges(node: Any, path: str) -> None:
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        where = f"{path}.{f.name}" if path else f.name
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if dataclasses.is_dataclass(value):
            _check_ranges(value, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    _check_ranges(item, f"{where}[{i}]")
                else:
                    _check_number(item, lo, hi, f"{where}[{i}]")
        else:
            _check_number(value, lo, hi, where)


def _check_number(value: Any, lo: float | None, hi: float | None, where: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    if value != value:  # NaN
        raise ConfigError(f"{where}: NaN is not accepted")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        accepted = f"at least {lo}" if hi is None else f"the accepted range [{lo}, {hi}]"
        raise ConfigError(f"{where}: {value} is outside {accepted}"
                          if hi is not None else f"{where}: {value} is below {lo}, accepted "
                          f"{accepted}")


def field_docs(cls: type = ModelConfig, path: str = "") -> list[dict]:
    """Rows (name, default, range, unit, source) for documentation and tests."""
    rows = []
    hints = _item_types(cls)
    for f in dataclasses.fields(cls):
        where = f"{path}.{f.name}" if path else f.name
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        item = hints.get(f.name)
        if dataclasses.is_dataclass(default):
            rows += field_docs(type(default), where)
        elif item is not None and dataclasses.is_dataclass(item):
            rows.append({"name": where, "default": default, "lo": None, "hi": None,
                         "unit": f"list of {item.__name__}", "source": ""})
            rows += field_docs(item, f"{where}[]")
        else:
            rows.append({"name": where, "default": default, "lo": f.metadata.get("lo"),
                         "hi": f.metadata.get("hi"), "unit": f.metadata.get("unit", ""),
                         "source": f.metadata.get("src", "")})
    return rows


def _item_types(cls: type) -> dict[str, type]:
    """Item types of the list fields of a dataclass (list[SectorConfig] -> SectorConfig)."""
    out = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = typing.get_args(hint)
        if typing.get_origin(hint) is list and args:
            out[name] = args[0]
    return out
