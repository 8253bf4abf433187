"""The jobs of an experiment: each Hydra job runs one chunk of the sweep's runs
(experiments.chunks), one after another.

Seeds are `experiment.base_seed + k` for k < `experiment.replications`, the same in every cell
(common random numbers), so results do not depend on the launcher, the number of workers, the
chunks or the order of jobs. A job reads its runs from sweep.json and each cell's resolved
configuration from its cell.json (written by the command before the jobs start), rebuilds and
checks the configuration against the hash the command checked, and runs. Every run is written
as soon as it ends (experiments.output.write_run, atomically; run.json last, with the run's
identity). A finished run (run.json present) is never recomputed or overwritten here: the main
process (experiments.sweep) verifies the sweep directory before the jobs start, moving corrupt
runs aside, so re-running a sweep into the same directory resumes it. A run that raises is
recorded in failed.json and the other runs go on; a full disk stops the job (the error reaches
the main process). While a run runs, `.running` in its directory holds the worker's pid, so the
main process can tell which runs a killed worker was running.

A worker process exits by itself within a second when the main process is gone (killed),
so no worker outlives the sweep.

This module is what the workers import: it does not load the aggregation and plotting code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments import progress
from experiments.chunks import chunk_runs, read_cell
from experiments.launchers import register_launchers
from experiments.layout import (FAILED_FILE, MANIFEST, RUN_FILE, RUNNING_FILE, RUNS_DIR,
                                ExperimentSettings)
from experiments.output import (atomic_write, config_dict, config_hash, is_disk_error, one_line,
                                project_version, remove_temporary_files, simulate, write_run)
from simulation.config import ConfigError, ModelConfig, SectorKind, validate
from simulation.presets import CONFIG_DIR, register_schema, to_model_config

CONFIG_PATH = str(CONFIG_DIR)
MAX_LISTED = 6  # failed runs named per error on the terminal (failures.csv has them all)
#: the environment variable through which workers learn the main process's pid
MAIN_PID = "TASED_SWEEP_PID"
MAX_FIRM_SCALE = 100.0  # firm_base.scale: at most this many times the preset's firms
WATCH_EVERY = 0.5  # seconds between a worker's checks that the main process is alive

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
    """The sweep's schema and the launcher presets (experiments.launchers)."""
    register_schema()
    ConfigStore.instance().store(name="sweep_schema", node=SweepConfig)
    register_launchers()


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


def check_firm_base(firm_base: dict) -> tuple[float, list[str]]:
    """firm_base.scale and firm_base.kinds, checked (ConfigError naming the field)."""
    scale, kinds = firm_base.get("scale"), firm_base.get("kinds")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale != scale \
            or not 0 < scale <= MAX_FIRM_SCALE:
        raise ConfigError(f"firm_base.scale: {scale!r} is outside the accepted range "
                          f"(0, {MAX_FIRM_SCALE}]")
    accepted = [k.value for k in SectorKind]
    if not isinstance(kinds, list):
        raise ConfigError(f"firm_base.kinds: {kinds!r} is not a list; accepted items: "
                          f"{', '.join(accepted)}")
    for i, kind in enumerate(kinds):
        if kind not in accepted:
            raise ConfigError(f"firm_base.kinds[{i}]: {kind!r} is not a sector kind; "
                              f"accepted: {', '.join(accepted)}")
    return float(scale), list(kinds)


def model_config(data: dict) -> ModelConfig:
    """A job's config (plain data, experiment settings removed) as a validated ModelConfig."""
    data = dict(data)
    scale, kinds = check_firm_base(data.pop("firm_base"))
    return apply_firm_base(to_model_config(data), scale, kinds)


def model_data(cfg: DictConfig) -> dict:
    """A job's config as plain data, without Hydra's node and the experiment settings."""
    data = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    for key in ("hydra", "experiment"):
        data.pop(key, None)
    return data


def _json(path: Path, payload: dict) -> None:
    atomic_write(path, lambda p: Path(p).write_text(json.dumps(payload, indent=1,
                                                                 default=str)))


def cell_hash(cfg: ModelConfig) -> str:
    """The hash every run of a cell carries in run.json (its configuration without seed)."""
    return config_hash(config_dict(cfg))


def cell_params(overrides: list[str], plain: dict, choices: dict) -> dict:
    """The cell's parameter values: the chosen preset of a group override (scenario, town),
    the resolved value of any other design override."""
    params = {}
    for o in design_overrides(overrides):
        key = _key(o)
        if key in choices:
            params[key] = choices[key]
        else:
            node = plain
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            params[key] = node
    return params


def read_manifest(sweep_dir: Path) -> dict:
    path = sweep_dir / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


# --------------------------------------------------------------------------- one job

#: cells this process has rebuilt: cell -> (config, error, cell.json); a worker process that
#: runs several jobs (joblib, Ray) builds each cell's configuration once
_CELLS: dict[tuple[str, str], tuple] = {}


def load_cell(sweep_dir: Path, cell: str, expected: str | None) -> tuple:
    """(config, error, record) of a cell: its cell.json's configuration, validated and checked
    against the hash the command checked (`expected`)."""
    key = (str(sweep_dir), cell)
    if key in _CELLS and _CELLS[key][0] is not None:
        return _CELLS[key]
    try:
        record = read_cell(sweep_dir, cell)
    except (OSError, ValueError) as err:
        return None, err, {"overrides": [], "config": {}}
    try:
        base, error = model_config(record["config"]), None
        if expected is not None and cell_hash(base) != expected:
            raise RuntimeError(f"the configuration of cell {cell} (hash {cell_hash(base)}) is "
                               f"not the one checked before the sweep ({expected})")
    except Exception as err:  # one bad cell must not stop the sweep: each run records it
        base, error = None, err
    _CELLS[key] = (base, error, record)
    return _CELLS[key]


def run_chunk(cfg: DictConfig) -> None:
    """One Hydra job: the runs of chunk `experiment.chunk`, each written as it finishes."""
    watch_main_process()
    sweep_dir = Path(HydraConfig.get().sweep.dir)
    manifest = read_manifest(sweep_dir)
    identity = manifest.get("identity", {}).get("cells", {})
    source = manifest.get("source")
    for cell, seed in chunk_runs(manifest, int(cfg.experiment.chunk)):
        expected = identity.get(cell, {}).get("hash")
        base, base_error, record = load_cell(sweep_dir, cell, expected)
        run_dir = sweep_dir / RUNS_DIR / cell / f"seed{seed}"
        status, error = _run_one(run_dir, base, base_error, seed, record["config"], cell,
                                 record["overrides"], source)
        if status != "skipped":
            progress.record(sweep_dir, cell, seed, status, error)


def _run_one(run_dir: Path, base: ModelConfig | None, base_error: Exception | None, seed: int,
             data: dict, cell: str, overrides: list[str],
             source: str | None = None) -> tuple[str, str]:
    """Run and write one replication; returns (status, error). A finished run is skipped (the
    main process verified it); a full disk is raised, every other error recorded."""
    if (run_dir / RUN_FILE).exists():
        return "skipped", ""
    model_cfg = None
    if base is not None:
        model_cfg = copy.deepcopy(base)
        model_cfg.seed = seed
    run_dir.mkdir(parents=True, exist_ok=True)
    remove_temporary_files(run_dir)  # left by a process killed while writing
    marker = run_dir / RUNNING_FILE
    marker.write_text(str(os.getpid()))
    try:
        if base_error is not None:
            raise base_error
        start = time.perf_counter()
        tables = simulate(model_cfg)
        write_run(run_dir, model_cfg, tables, time.perf_counter() - start, cell=cell,
                  source=source)
        (run_dir / FAILED_FILE).unlink(missing_ok=True)
        return "done", ""
    except Exception as err:
        if is_disk_error(err):
            raise
        config = config_dict(model_cfg) if model_cfg is not None else dict(data, seed=seed)
        record_failure(run_dir, cell, overrides, seed, config, one_line(err),
                       type(err).__name__, traceback.format_exc(limit=6))
        return "failed", one_line(err)
    finally:
        marker.unlink(missing_ok=True)


def record_failure(run_dir: Path, cell: str, overrides: list[str], seed: int, config: dict,
                   error: str, error_type: str, trace: str = "") -> None:
    town = config.get("town")
    _json(run_dir / FAILED_FILE, {
        "cell": cell, "overrides": design_overrides(overrides), "seed": seed,
        "scenario": config.get("scenario"),
        "town": town.get("name") if isinstance(town, dict) else town,
        "error": error, "error_type": error_type, "traceback": trace,
        "version": project_version(), "config": config})


_watching = False


def watch_main_process() -> None:
    """In a worker process: exit as soon as the process that started it is gone (the main
    process was killed), instead of idling until loky's timeout."""
    global _watching
    main = os.environ.get(MAIN_PID, "")
    if _watching or not main.isdigit() or int(main) == os.getpid():
        return
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(WATCH_EVERY)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="tased-watch-main", daemon=True).start()
    _watching = True


# --------------------------------------------------------------------------- the sweep


@dataclass
class Outcome:
    """What the main process learns about the sweep it ran (for the exit code)."""

    sweep_dir: Path | None = None
    finished: bool = False
    failures: list = field(default_factory=list)
    report: Path | None = None
    error: str = ""
    left_out: list = field(default_factory=list)  # (cell/seed, reason) left out of the report
    not_run: int = 0  # runs of the design with neither run.json nor failed.json


OUTCOME = Outcome()


def experiment_file(choice: str | None) -> str:
    """The text of the experiment file the sweep used (kept with its results)."""
    path = Path(CONFIG_PATH) / "experiment" / f"{choice}.yaml"
    return path.read_text() if choice and path.exists() else ""
