"""A design's rows as data: JSON-safe values, the rows' hash, the cells' names and how a value
is shown in a table. Below `experiments.designs` and its generators, so a generator's analysis
can use them too."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from enum import Enum
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """A design value as JSON data: numpy numbers and arrays, Enums and dataclasses (a
    TownConfig) become numbers, lists and mappings."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def rows_hash(rows: list[dict[str, Any]]) -> str:
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def row_label(index: int, count: int) -> str:
    """The name of a design cell: d0000, d0001, ... (wider for more than 10,000 rows)."""
    return f"d{index:0{max(4, len(str(count - 1)))}d}"


def shown(value: Any) -> Any:
    """A row value as a table column holds it: a mapping by its name (or a short hash), a
    list as JSON text, anything else as it is."""
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str) and name:
            return name
        return "mapping-" + hashlib.sha1(json.dumps(value, sort_keys=True, default=str)
                                         .encode()).hexdigest()[:8]
    if isinstance(value, list):
        return json.dumps(value, default=str)
    return value
