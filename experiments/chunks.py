"""Chunked replications: each Hydra job runs a chunk of the sweep's runs, not one cell.

The runs still to do are listed in a fixed order, seed by seed and, within a seed, the cells
in design order: (c0, s0), (c1, s0), ..., (c0, s1), ... A chunk is `chunk_size` consecutive
runs of that list, so every job mixes the cells (expensive and cheap cells share the load)
and an interrupted sweep has the first seeds of every cell. Results do not depend on the
chunks: every run is seeded by its own seed alone.

The command writes, before the jobs start, every cell's resolved configuration into its
cell.json and the list of runs to do (with the chunk size) into sweep.json; a job reads its
chunk from there, so the jobs need nothing but the sweep directory (on a filesystem every
worker sees) and their chunk number, `experiment.chunk`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from experiments.layout import CELL_FILE, RUNS_DIR
from experiments.output import atomic_write, read_json


def ordered_runs(cells: list[str], seeds: list[int], done: set) -> list[tuple[str, int]]:
    """The (cell, seed) runs not in `done`, seed by seed, cells in design order."""
    return [(c, s) for s in seeds for c in cells if (c, s) not in done]


def auto_chunk_size(pending: int, parallelism: int, per_worker: int,
                    all_at_once: bool = False) -> int:
    """Runs per job: about `per_worker` jobs per worker, or one job per worker for a
    launcher that starts every job at once."""
    jobs = max(1, parallelism) * (1 if all_at_once else per_worker)
    return max(1, math.ceil(pending / jobs))


def chunk_plan(cells: list[str], pending: list[tuple[str, int]], size: int) -> dict:
    """What sweep.json records of the chunks: their size and count and the runs to do, as
    [index of the cell in `cells`, seed]."""
    index = {c: i for i, c in enumerate(cells)}
    return {"size": size, "count": math.ceil(len(pending) / size) if pending else 0,
            "runs": [[index[c], s] for c, s in pending]}


def chunk_runs(manifest: dict, chunk: int) -> list[tuple[str, int]]:
    """The (cell, seed) runs of one chunk, from sweep.json."""
    plan = manifest.get("chunks") or {}
    size, runs, cells = int(plan.get("size", 1)), plan.get("runs", []), manifest["cells"]
    if not 0 <= chunk < max(1, math.ceil(len(runs) / size)):
        raise ValueError(f"experiment.chunk: {chunk} is not a chunk of this sweep "
                         f"({plan.get('count', 0)} chunks)")
    return [(cells[i], int(s)) for i, s in runs[chunk * size:(chunk + 1) * size]]


def write_cell(sweep_dir: Path, cell: str, info: dict, config: dict,
               row: dict | None = None) -> None:
    """runs/<cell>/cell.json: overrides, parameter values, design row and the resolved
    configuration (plain data, firm_base included) the jobs run."""
    cell_dir = Path(sweep_dir) / RUNS_DIR / cell
    cell_dir.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {"cell": cell, "overrides": info["overrides"],
                               "params": info["params"], "hash": info["hash"]}
    if row is not None:
        payload["design"] = row
    payload["config"] = config
    text = json.dumps(payload, indent=1, default=str)
    atomic_write(cell_dir / CELL_FILE, lambda p: Path(p).write_text(text))


def read_cell(sweep_dir: Path, cell: str) -> dict:
    """A cell's record as the command wrote it; ValueError naming the file if unusable."""
    path = Path(sweep_dir) / RUNS_DIR / cell / CELL_FILE
    data = read_json(path)
    if not isinstance(data.get("config"), dict):
        raise ValueError(f"{path}: no configuration; re-run the sweep's command")
    return data
