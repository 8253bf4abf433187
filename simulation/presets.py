"""Compose a ModelConfig from the YAML presets (the same files the command line uses).

`load_config` lets Python users, tests and the interactive page build exactly what the command
line builds, without Hydra's entry point. The presets ship inside the package
(`simulation/configs/`, also reachable as `configs/` at the repository's top), so an installed
package finds them from any directory. This is the only module of `simulation` that imports
Hydra; `ClusterModel.from_presets` imports it when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from simulation.config import ConfigError, ModelConfig, build, omegaconf_message

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
SCHEMA_NAME = "model_schema"


def register_schema() -> None:
    """Store the dataclass schema so YAML files and overrides are type-checked by Hydra."""
    ConfigStore.instance().store(name=SCHEMA_NAME, node=ModelConfig)


def options(group: str) -> list[str]:
    """Names of the YAML files of a config group (town, scenario, experiment)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def scenarios() -> dict[str, dict[str, str]]:
    """The scenarios in display order with their colour and one-line summary
    (configs/scenarios.yaml; one entry per file of configs/scenario/)."""
    table = yaml.safe_load((CONFIG_DIR / "scenarios.yaml").read_text())
    if sorted(table) != options("scenario"):
        raise ConfigError(f"configs/scenarios.yaml lists {sorted(table)}, but configs/scenario/ "
                          f"holds {options('scenario')}")
    return table


def compose_config(overrides: list[str], config_name: str = "config") -> DictConfig:
    register_schema()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return compose(config_name=config_name, overrides=overrides)


def to_model_config(cfg: DictConfig | dict) -> ModelConfig:
    """A resolved Hydra config (or plain data) -> validated ModelConfig."""
    data = cfg if isinstance(cfg, dict) else OmegaConf.to_container(cfg, resolve=True,
                                                                    enum_to_str=True)
    return build({k: v for k, v in data.items() if k != "hydra"})


def load_config(town: str = "sokol", scenario: str = "baseline",
                overrides: dict[str, Any] | None = None) -> ModelConfig:
    """The configuration the command line would build for these presets and overrides
    (dotted keys, e.g. {"cluster.management_quality": 0.8})."""
    for group, name in (("town", town), ("scenario", scenario)):
        if name not in options(group):
            raise ConfigError(f"{group}: {name!r} is not one of {options(group)}")
    cfg = compose_config([f"town={town}", f"scenario={scenario}"])
    for key, value in (overrides or {}).items():
        try:
            OmegaConf.update(cfg, key, value.value if hasattr(value, "value") else value,
                             merge=False)
        except OmegaConfBaseException as err:
            raise ConfigError(omegaconf_message(err)) from None
    return to_model_config(cfg)
