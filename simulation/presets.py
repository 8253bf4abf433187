"""Compose a ModelConfig from the YAML presets in configs/ (the same files Hydra uses).

`load_config` lets Python users, tests and the interactive page build exactly what the command
line builds, without Hydra's entry point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from simulation.config import ConfigError, ModelConfig, from_dict, validate

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
SCHEMA_NAME = "model_schema"


def register_schema() -> None:
    """Store the dataclass schema so YAML files and overrides are type-checked by Hydra."""
    ConfigStore.instance().store(name=SCHEMA_NAME, node=ModelConfig)


def options(group: str) -> list[str]:
    """Names of the YAML files of a config group (town, scenario, experiment)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def compose_config(overrides: list[str], config_name: str = "config") -> DictConfig:
    register_schema()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return compose(config_name=config_name, overrides=overrides)


def to_model_config(cfg: DictConfig | dict) -> ModelConfig:
    """Resolved Hydra config -> validated ModelConfig (rejects unknown keys, e.g. `+x=1`)."""
    data = cfg if isinstance(cfg, dict) else OmegaConf.to_container(
        cfg, resolve=True, enum_to_str=True)
    data = {k: v for k, v in data.items() if k != "hydra"}
    return validate(from_dict(data))


def set_dotted(data: dict, key: str, value: Any) -> None:
    node = data
    parts = key.split(".")
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{'.'.join(parts[:i + 1])}: unknown key")
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise ConfigError(f"{key}: unknown key")
    node[parts[-1]] = value.value if hasattr(value, "value") and not isinstance(value, (int, float)) else value


def load_config(town: str = "sokol", scenario: str = "baseline",
                overrides: dict[str, Any] | None = None) -> ModelConfig:
    """The configuration the command line would build for these presets and overrides."""
    for group, name in (("town", town), ("scenario", scenario)):
        if name not in options(group):
            raise ConfigError(f"{group}: {name!r} is not one of {options(group)}")
    data = OmegaConf.to_container(compose_config([f"town={town}", f"scenario={scenario}"]),
                                  resolve=True, enum_to_str=True)
    for key, value in (overrides or {}).items():
        set_dotted(data, key, value)
    return to_model_config(data)
