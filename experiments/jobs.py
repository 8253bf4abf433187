"""The jobs of an experiment: each Hydra job is one design cell and runs its replications.

Seeds are `experiment.base_seed + k` for k < `experiment.replications`, the same in every cell
(common random numbers), so results do not depend on the number of workers or the order of
jobs. Every run is written as soon as it ends (experiments.output.write_run, atomically;
run.json last). A finished run (run.json present) is never recomputed or overwritten: re-running
a sweep into the same directory resumes it. A run that raises is recorded in failed.json and
the other runs go on.

This module is what the workers import: it does not load the aggregation and plotting code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, read_write

from experiments.layout import (CELL_FILE, FAILED_FILE, MANIFEST, PROGRESS_FILE, RUN_FILE,
                                RUNS_DIR, ExperimentSettings)
from experiments.output import atomic_write, config_dict, one_line, project_version, simulate, \
    write_run
from simulation.config import ModelConfig, validate
from simulation.presets import CONFIG_DIR, register_schema, to_model_config

CONFIG_PATH = str(CONFIG_DIR)
PROGRESS_EVERY = 1.0  # seconds between a job's progress lines (failures and the end always)
MAX_LISTED = 6  # failed runs named per error on the terminal (failures.csv has them all)

# Overrides that never name a cell: experiment settings, seeds (the run directories carry
# them) and Hydra's own.
NOT_DESIGN = ("experiment", "seed", "hydra")


# --------------------------------------------------------------------------- schema


@dataclass
class FirmBase:
    """Scales the initial number of firms of the chosen sector kinds (Q3's firm base).

    The town presets give firms per sector; this multiplies `initial_firms` of every sector
    whose kind is listed (rounded), so a sweep can vary the specialised firm base with one
    number. The town's population and employment are unchanged.
    """

    scale: float = 1.0
    kinds: list = field(default_factory=lambda: ["related", "supporting"])


@dataclass
class SweepConfig(ModelConfig):
    experiment: ExperimentSettings = field(default_factory=ExperimentSettings)
    firm_base: FirmBase = field(default_factory=FirmBase)


def register_schemas() -> None:
    register_schema()
    ConfigStore.instance().store(name="sweep_schema", node=SweepConfig)


# --------------------------------------------------------------------------- cells


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~").split("@")[0]


def design_overrides(overrides: list[str]) -> list[str]:
    """The overrides that define a cell, sorted (experiment settings and seeds excluded)."""
    keep = [o for o in overrides
            if not any(_key(o) == k or _key(o).startswith(k + ".") for k in NOT_DESIGN)]
    return sorted(keep)


def cell_name(overrides: list[str]) -> str:
    """Directory name of a cell: its design overrides, readable, unique and path-safe."""
    items = design_overrides(overrides)
    if not items:
        return "default"
    text = "__".join(items)
    safe = re.sub(r"[^A-Za-z0-9._=,+-]", "-", text)
    if safe != text or len(safe) > 120:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        safe = f"{safe[:100]}-{digest}"
    return safe


def seeds(settings: Any) -> list[int]:
    return [int(settings.base_seed) + k for k in range(int(settings.replications))]


def apply_firm_base(cfg: ModelConfig, scale: float, kinds: list[str]) -> ModelConfig:
    """Scale `initial_firms` of the sectors of the listed kinds (rounded); validate again."""
    if scale != 1.0:
        for sector in cfg.town.sectors:
            if sector.kind.value in kinds:
                sector.initial_firms = int(round(sector.initial_firms * scale))
    return validate(cfg)


def model_config(data: dict) -> ModelConfig:
    """A job's config (plain data, experiment settings removed) as a validated ModelConfig."""
    data = dict(data)
    firm_base = data.pop("firm_base")
    return apply_firm_base(to_model_config(data), float(firm_base["scale"]),
                           list(firm_base["kinds"]))


def model_data(cfg: DictConfig) -> dict:
    """A job's config as plain data, without Hydra's node and the experiment settings."""
    data = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    for key in ("hydra", "experiment"):
        data.pop(key, None)
    return data


def _json(path: Path, payload: dict) -> None:
    atomic_write(path, lambda p: Path(p).write_text(json.dumps(payload, indent=1,
                                                                 default=str)))


def _same_config(meta: dict, cfg: ModelConfig) -> bool:
    return meta.get("config") == json.loads(json.dumps(config_dict(cfg)))


# --------------------------------------------------------------------------- progress


class Progress:
    """Runs done / total, elapsed time and ETA for the whole sweep, from any job.

    The callback writes the total and the start time to sweep.json; every finished or failed
    run appends one line to progress.log (an O_APPEND write of one short line), so every job
    can count the sweep's runs without talking to the others.
    """

    def __init__(self, sweep_dir: Path) -> None:
        self.log = sweep_dir / PROGRESS_FILE
        manifest = sweep_dir / MANIFEST
        info = json.loads(manifest.read_text()) if manifest.exists() else {}
        self.total = int(info.get("total_runs", 0))
        self.already = int(info.get("already_done", 0))
        self.started = float(info.get("started", time.time()))
        self.name = info.get("experiment", {}).get("name", "sweep")
        self.printed = 0.0
        self.workers = max(1, int(info.get("experiment", {}).get("workers", 1)))

    def record(self, cell: str, seed: int, status: str, error: str = "") -> None:
        line = json.dumps({"cell": cell, "seed": seed, "status": status, "error": error,
                           "time": time.time()})
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        self.report(force=status != "done")

    def report(self, force: bool = False) -> None:
        lines = read_progress(self.log.parent)
        last = self.already + len(lines) >= self.total
        if not (force or last or time.time() - self.printed >= PROGRESS_EVERY):
            return
        self.printed = time.time()
        new = len(lines)
        failed = sum(1 for x in lines if x["status"] != "done")
        done = min(self.already + new, self.total) if self.total else self.already + new
        elapsed = time.time() - self.started
        remaining = max(self.total - done, 0)
        # the rate between the first and the latest finished run leaves out the start-up
        span = lines[-1]["time"] - lines[0]["time"] if new > 2 * self.workers else 0.0
        rate = span / (new - 1) if span > 0 else (elapsed / new if new else 0.0)
        eta = _clock(rate * remaining) if new else "--"
        failures = f" ({failed} failed)" if failed else ""
        print(f"[{self.name}] {done}/{self.total or '?'} runs done{failures}, "
              f"elapsed {_clock(elapsed)}, ETA {eta}", file=sys.stderr, flush=True)


def read_progress(sweep_dir: Path) -> list[dict]:
    path = sweep_dir / PROGRESS_FILE
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


# --------------------------------------------------------------------------- one job


def run_cell(cfg: DictConfig) -> None:
    """One Hydra job: every replication of one design cell, each written as it finishes."""
    hc = HydraConfig.get()
    sweep_dir = Path(hc.sweep.dir)
    overrides = list(hc.overrides.task)
    cell = cell_name(overrides)
    cell_dir = sweep_dir / RUNS_DIR / cell
    cell_dir.mkdir(parents=True, exist_ok=True)
    plain = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    params = {}
    for o in design_overrides(overrides):
        key = _key(o)
        if key in hc.runtime.choices:
            params[key] = hc.runtime.choices[key]
        else:
            node = plain
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            params[key] = node
    _json(cell_dir / CELL_FILE, {"cell": cell, "overrides": design_overrides(overrides),
                                 "params": params})
    progress = Progress(sweep_dir)
    data = model_data(cfg)
    try:
        base, base_error = model_config(data), None
    except Exception as err:  # one bad cell must not stop the sweep: each run records it
        base, base_error = None, err
    for seed in seeds(cfg.experiment):
        run_dir = cell_dir / f"seed{seed}"
        status, error = _run_one(run_dir, base, base_error, seed, data, cell, overrides)
        if status != "skipped":
            progress.record(cell, seed, status, error)


def _run_one(run_dir: Path, base: ModelConfig | None, base_error: Exception | None, seed: int,
             data: dict, cell: str, overrides: list[str]) -> tuple[str, str]:
    """Run and write one replication; returns (status, error)."""
    model_cfg = None
    if base is not None:
        model_cfg = copy.deepcopy(base)
        model_cfg.seed = seed
    finished = run_dir / RUN_FILE
    if finished.exists():
        meta = json.loads(finished.read_text())
        if model_cfg is None or _same_config(meta, model_cfg):
            return "skipped", ""
        return "conflict", ("a finished run of a different configuration is already there "
                            "and is kept: write this sweep to another directory "
                            "(experiment.out_dir=...) or remove the old one")
    try:
        if base_error is not None:
            raise base_error
        start = time.perf_counter()
        model_df, firm_df = simulate(model_cfg)
        write_run(run_dir, model_cfg, model_df, firm_df, time.perf_counter() - start)
        (run_dir / FAILED_FILE).unlink(missing_ok=True)
        return "done", ""
    except Exception as err:
        run_dir.mkdir(parents=True, exist_ok=True)
        config = config_dict(model_cfg) if model_cfg is not None else dict(data, seed=seed)
        _json(run_dir / FAILED_FILE, {
            "cell": cell, "overrides": design_overrides(overrides), "seed": seed,
            "scenario": config.get("scenario"), "town": config.get("town", {}).get("name"),
            "error": one_line(err), "error_type": type(err).__name__,
            "traceback": traceback.format_exc(limit=6), "version": project_version(),
            "config": config})
        return "failed", one_line(err)


# --------------------------------------------------------------------------- the sweep


@dataclass
class Outcome:
    """What the main process learns about the sweep it ran (for the exit code)."""

    sweep_dir: Path | None = None
    finished: bool = False
    failures: list = field(default_factory=list)
    report: Path | None = None
    error: str = ""


OUTCOME = Outcome()


def expand_jobs(config: DictConfig) -> list[list[str]]:
    """The jobs' override lists, exactly as Hydra's basic sweeper will build them."""
    params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    arguments = params + list(config.hydra.overrides.task)
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    batches = BasicSweeper.split_arguments(parser.parse_overrides(arguments), None)
    return [list(job) for batch in batches for job in batch]


def _experiment_file(config: DictConfig) -> str:
    """The text of the experiment file the sweep used (kept with its results)."""
    choice = config.hydra.runtime.choices.get("experiment")
    path = Path(CONFIG_PATH) / "experiment" / f"{choice}.yaml"
    return path.read_text() if choice and path.exists() else ""


def source_revision() -> str:
    """The source tree's git commit (and whether it had uncommitted changes), if any."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                             capture_output=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, text=True, capture_output=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"git {sha}" + (" with uncommitted changes" if dirty else "")


class SweepCallback(Callback):
    """Writes the sweep's design before the jobs start (the command aggregates after they
    end, experiments.sweep.main)."""

    # Hydra turns exceptions in callbacks into warnings: stop the sweep explicitly instead.
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            self._start(config)
        except Exception as err:
            print(f"error: {one_line(err)}", file=sys.stderr)
            raise SystemExit(2) from err

    def _start(self, config: DictConfig) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        # Jobs re-resolve interpolations with their own overrides (a swept town would scatter
        # runs over several directories): pin the directory the main process resolved.
        with read_write(config.hydra.overrides):
            quoted = str(sweep_dir).replace("\\", "\\\\").replace("'", "\\'")
            config.hydra.overrides.hydra.append(f"hydra.sweep.dir='{quoted}'")
        jobs = expand_jobs(config)
        cells = [cell_name(job) for job in jobs]
        duplicates = sorted({c for c in cells if cells.count(c) > 1})
        if duplicates:
            raise ValueError(
                f"several jobs map to the same cell {duplicates[0]!r}: they differ only in "
                f"experiment settings or seed; set experiment.base_seed and "
                f"experiment.replications instead of sweeping them")
        settings = config.experiment
        run_seeds = seeds(settings)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        already = sum((sweep_dir / RUNS_DIR / c / f"seed{s}" / RUN_FILE).exists()
                      for c in cells for s in run_seeds)
        total = len(cells) * len(run_seeds)
        _json(sweep_dir / MANIFEST, {
            "experiment": OmegaConf.to_container(settings, resolve=True),
            "command": " ".join(["tased-experiment", *sys.argv[1:]]),
            "overrides": list(config.hydra.overrides.task),
            "sweeper_params": OmegaConf.to_container(config.hydra.sweeper.get("params") or {}),
            "town": str(config.town.name), "steps": int(config.steps),
            "cells": cells, "seeds": run_seeds, "total_runs": total, "already_done": already,
            "started": time.time(), "version": project_version(),
            "source": source_revision(), "experiment_file": _experiment_file(config)})
        (sweep_dir / PROGRESS_FILE).unlink(missing_ok=True)
        OUTCOME.sweep_dir = sweep_dir
        skip = f" ({already} already finished, skipped)" if already else ""
        print(f"[{settings.name}] {len(cells)} cells x {len(run_seeds)} seeds = {total} runs"
              f"{skip}, {settings.workers} worker(s) -> {sweep_dir}", file=sys.stderr,
              flush=True)
