"""Typed configuration of the model: defaults, units, sources and validation.

Every behavioural constant of the model is a field of one of these dataclasses, with its
accepted range, unit and source; YAML files under ``simulation/configs/`` hold only what differs
from the defaults.

- ``fields``: the field helper ``p``, ``ConfigError`` and the Enums of categorical choices;
- ``town``: sectors, universities and the town preset;
- ``policy``: taxes, the TASED regime, the cluster programme, the CFE, shocks;
- ``behaviour``: firms, network, innovation, entry, labour, urban environment;
- ``model``: ``ModelConfig``, ``build`` (plain data -> validated config), ``validate``.
"""

from simulation.config.behaviour import (EntryConfig, FirmConfig, InnovationConfig,
                                         LabourConfig, NetworkConfig, UrbanConfig)
from simulation.config.fields import (ClusterFounder, ConfigError, FeeBasis, PriorityRule,
                                      ProcurementRule, SectorKind)
from simulation.config.model import (ModelConfig, OutputConfig, build, check_keys, field_docs,
                                     omegaconf_message, validate)
from simulation.config.policy import (CfeConfig, ClusterConfig, ShockConfig, TasedConfig,
                                      TaxConfig)
from simulation.config.town import SectorConfig, TownConfig, UniversityConfig

__all__ = [
    "CfeConfig", "ClusterConfig", "ClusterFounder", "ConfigError", "EntryConfig", "FeeBasis",
    "FirmConfig",
    "InnovationConfig", "LabourConfig", "ModelConfig", "NetworkConfig", "OutputConfig",
    "PriorityRule", "ProcurementRule", "SectorConfig", "SectorKind", "ShockConfig",
    "TasedConfig", "TaxConfig", "TownConfig", "UniversityConfig", "UrbanConfig", "build",
    "check_keys", "field_docs", "omegaconf_message", "validate",
]
