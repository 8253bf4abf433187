"""Design generators: an experiment's cells from Python instead of (or besides) the grid of
`hydra.sweeper.params`.

`experiment.design: {name: NAME, ...options}` names a generator of `DESIGNS`. It receives the
experiment settings (the `experiment` node as a plain dict, its `design` options included) and
returns one dict per cell: dotted config key -> value. A value is a number, a string, a list
or a whole node (a mapping, e.g. the `town` of a synthetic town); a string for a config group
(`scenario`, `town`) selects that group's preset, as `scenario=top_down` does on the command
line. Every design cell runs under every cell of the grid (the grid is often empty: one cell).

Cells are named by their row, `d0000`, `d0001`, ... (after the grid cell's name when there is
a grid: `scenario=joint__d0003`); sweep.json records the design's name, its number of rows and
the hash of its rows. Each cell's row is in its cell.json, and its values are the cell's
parameters: columns of table.parquet and summary.csv, as swept parameters are (a mapping is
shown by its `name`).

Adding a design is one registration in `DESIGNS` below (`"name": function`), with
`function(settings: dict) -> list[dict[str, Any]]` raising ValueError (naming the option) for
bad options. The generator must be deterministic: the same settings give the same rows, so a
re-run of the command resumes the same cells.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from enum import Enum
from typing import Any

import numpy as np

from experiments.portfolio import portfolio_design
from experiments.sensitivity import morris_design, sobol_design

Design = Callable[[dict], list[dict[str, Any]]]

#: keys a design row may not set: seeds are the replications, the rest is not a model setting
RESERVED = ("seed", "experiment", "hydra")
MAX_CELLS = 100_000


def list_design(settings: dict) -> list[dict[str, Any]]:
    """Design `list`: the cells written out in `experiment.design.cells`, a list of mappings
    of dotted keys to values, e.g. `[{cluster.management_quality: 0.2}, {scenario: joint}]`."""
    cells = settings.get("design", {}).get("cells")
    if not isinstance(cells, list) or not cells:
        raise ValueError("experiment.design.cells: give a non-empty list of cells, each a "
                         "mapping of dotted keys to values, e.g. [{cluster.brokerage: 0.5}]")
    return cells


DESIGNS: dict[str, Design] = {
    "list": list_design,
    "morris": morris_design,  # experiments.sensitivity: Morris screening (Q5)
    "sobol": sobol_design,  # experiments.sensitivity: Sobol indices (Q5)
    "portfolio": portfolio_design,  # experiments.portfolio: national allocation
}


# --------------------------------------------------------------------------- rows


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


def design_rows(settings: dict) -> tuple[str, list[dict[str, Any]]] | None:
    """(name, rows) of the experiment's design, checked; None without a design. ValueError
    naming the field for an unknown design, bad options or a row that is not a mapping."""
    spec = settings.get("design")
    if spec is None or spec == {}:
        return None
    if not isinstance(spec, dict):
        raise ValueError(f"experiment.design: {spec!r} is not a mapping; give "
                         f"{{name: NAME, ...options}}")
    name = spec.get("name")
    if name not in DESIGNS:
        raise ValueError(f"experiment.design.name: {name!r} is not a design; accepted: "
                         f"{', '.join(sorted(DESIGNS))}")
    try:
        rows = DESIGNS[name](settings)
    except ValueError:
        raise
    except Exception as err:  # a generator's own failure: name the design
        raise ValueError(f"experiment.design ({name}): {type(err).__name__}: {err}") from None
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"experiment.design ({name}): the design gave no cells")
    if len(rows) > MAX_CELLS:
        raise ValueError(f"experiment.design ({name}): {len(rows)} cells, more than "
                         f"{MAX_CELLS:,}")
    out = []
    for i, row in enumerate(rows):
        where = f"experiment.design ({name}), cell {i}"
        if not isinstance(row, dict) or not row:
            raise ValueError(f"{where}: {row!r} is not a non-empty mapping of dotted keys to "
                             f"values")
        for key in row:
            if not isinstance(key, str) or not key.strip() or key.startswith(("+", "~")):
                raise ValueError(f"{where}: {key!r} is not a dotted config key")
            if any(key == r or key.startswith(r + ".") for r in RESERVED):
                raise ValueError(f"{where}: {key} cannot be set by a design (seeds are the "
                                 f"replications: experiment.base_seed, "
                                 f"experiment.replications)")
        out.append(plain(row))
    return name, out


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
