"""Shared fixtures: configs built from the presets, and small models."""

import pytest

from simulation.model import ClusterModel
from simulation.presets import load_config


@pytest.fixture
def make_model():
    def build(town="sokol", scenario="baseline", **overrides):
        return ClusterModel(load_config(town, scenario, overrides))
    return build
