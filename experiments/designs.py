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

from collections.abc import Callable
from typing import Any

# the rows' helpers live below the generators; experiments.plan takes them from here
from experiments.design_rows import plain, row_label, rows_hash, shown  # noqa: F401
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





