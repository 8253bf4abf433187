"""What `tased-experiment` checks and decides before it writes anything: the cells (the grid of
swept overrides times the rows of a design), each cell's configuration, the experiment
settings, the output directory, the launcher and the chunks of runs its jobs run.

A grid cell is named by its overrides (`cluster.support_end_step=12__scenario=top_down`); a
design cell by its row (`d0003`, after the grid cell's name when there is a grid). Every
cell's configuration is composed and validated here: a bad value in any cell stops the
command with one line naming the field and the cell, and nothing is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from experiments.aggregate import check_analysis, check_settings
from experiments.chunks import auto_chunk_size, chunk_plan, ordered_runs
from experiments.cli import (UsageError, check_output_dir, compose, expand_jobs,
                             hydra_context, is_group, job_configs, parse_overrides, resolved)
from experiments.designs import design_rows, row_label, rows_hash, shown
from experiments.jobs import (apply_firm_base, cell_hash, cell_name, cell_params,
                              check_firm_base, design_overrides, experiment_file)
from experiments.launchers import CHUNKS_PER_WORKER, Launcher, describe
from experiments.layout import MANIFEST, RUN_FILE, RUNS_DIR
from experiments.output import (canonical, config_dict, one_line, project_version, read_json,
                                source_revision, verify_run)
from simulation.config import ConfigError, ModelConfig, check_keys
from simulation.presets import CONFIG_DIR

#: what Hydra may have left in a sweep directory before sweep.json was written
HYDRA_LEFTOVERS = {"jobs", "multirun.yaml", ".hydra"}


@dataclass
class Plan:
    """Everything checked before the sweep writes anything."""

    sweep_dir: Path
    settings: dict
    cells: dict  # cell -> {"hash", "overrides", "params"}
    seeds: list
    identity: dict
    manifest: dict
    launcher: Launcher
    configs: dict = field(default_factory=dict)  # cell -> resolved configuration (plain)
    rows: dict = field(default_factory=dict)  # cell -> its design row
    fixed: list = field(default_factory=list)  # the command's overrides that are no sweep
    replace: bool = False  # move an existing sweep of another configuration aside
    finished: list = field(default_factory=list)  # (cell, seed) verified
    corrupt: list = field(default_factory=list)  # (cell, seed, reason)
    foreign: list = field(default_factory=list)  # (cell, seed, reason)
    pending: list = field(default_factory=list)  # (cell, seed) to run, in chunk order
    chunk_size: int = 1
    notes: list = field(default_factory=list)  # printed when the sweep starts

    @property
    def chunks(self) -> int:
        return -(-len(self.pending) // self.chunk_size)


# --------------------------------------------------------------------------- cells


#: the model config's sections (typed nodes) and their schemas
SECTIONS = {name: kind for name, kind in typing.get_type_hints(ModelConfig).items()
            if dataclasses.is_dataclass(kind)}


def cell_model(job_cfg: DictConfig) -> tuple[dict, ModelConfig]:
    """(plain configuration for cell.json, validated ModelConfig) of a composed job config.

    The typed config is turned into its dataclasses directly (OmegaConf has checked every
    key and type while composing), which is several times faster than building it again from
    plain data; the jobs build it from the plain data and check that the hashes agree."""
    for name, kind in SECTIONS.items():  # a key added with `+` composes but is unknown
        node = job_cfg.get(name)
        if isinstance(node, DictConfig):
            check_keys(OmegaConf.to_container(node), kind, name)
    obj = OmegaConf.to_object(job_cfg)
    base = ModelConfig(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(ModelConfig)})
    firm_base = dataclasses.asdict(obj.firm_base)
    data = {**config_dict(base), "firm_base": firm_base}
    scale, kinds = check_firm_base(firm_base)
    return data, apply_firm_base(base, scale, kinds)


def _assign(cfg: DictConfig, key: str, value: Any) -> None:
    """Set a design value: a mapping replaces the whole node (a fresh node of its schema
    type, so nothing of the preset's node is left), anything else the value."""
    if isinstance(value, dict):
        node = OmegaConf.select(cfg, key)
        kind = OmegaConf.get_type(node) if isinstance(node, DictConfig) else None
        if kind is not None and dataclasses.is_dataclass(kind):
            value = OmegaConf.merge(OmegaConf.structured(kind), value)
    OmegaConf.update(cfg, key, value, merge=False)


def _groups(row: dict) -> dict:
    """The row's choices of a config group (a string for `scenario`, `town`)."""
    return {k: v for k, v in row.items() if isinstance(v, str) and (CONFIG_DIR / k).is_dir()}


def expand_cells(jobs: list[list[str]], rows: list[dict] | None) -> list[tuple]:
    """(cell, overrides, job config, params, row) of every cell: each grid job, times each
    design row when there is a design."""
    out = []
    if rows is None:
        for job, job_cfg in job_configs("sweep", jobs):
            choices = {o.key_or_group: o.value() for o in parse_overrides(job) if is_group(o)}
            out.append((cell_name(job), job, job_cfg, choices, None))
        return out
    combined, meta = [], []
    for job in jobs:
        for i, row in enumerate(rows):
            groups = _groups(row)
            keep = [o for o in job if o.split("=", 1)[0] not in groups]
            combined.append(keep + [f"{k}={v}" for k, v in groups.items()])
            grid = cell_name(job)
            label = row_label(i, len(rows))
            meta.append((label if grid == "default" else f"{grid}__{label}", job, row))
    for (cell, job, row), (composed, job_cfg) in zip(meta, job_configs("sweep", combined)):
        choices = {o.key_or_group: o.value() for o in parse_overrides(job) if is_group(o)}
        for key, value in row.items():
            if key in _groups(row):
                continue
            try:
                _assign(job_cfg, key, value)
            except OmegaConfBaseException as err:
                raise UsageError(f"{key}: {one_line(err)} (cell {cell}; nothing was run)") \
                    from None
        out.append((cell, job, job_cfg, choices, row))
    return out


def plan_cells(jobs: list[list[str]], rows: list[dict] | None) -> tuple[dict, dict, dict]:
    """(cells, configs, rows) of the sweep, every cell's configuration validated."""
    cells: dict[str, dict] = {}
    configs: dict[str, dict] = {}
    design: dict[str, dict] = {}
    for cell, job, job_cfg, choices, row in expand_cells(jobs, rows):
        if cell in cells:
            raise UsageError(
                f"several jobs map to the same cell {cell!r}: they differ only in "
                f"experiment settings or seed; set experiment.base_seed and "
                f"experiment.replications instead of sweeping them")
        try:
            data, model = cell_model(job_cfg)
        except ConfigError as err:
            raise UsageError(f"{err} (cell {cell}; nothing was run)") from None
        except Exception as err:
            raise UsageError(f"{one_line(err)} (cell {cell}; nothing was run)") from None
        params = cell_params(job, data, choices)
        if row is not None:
            params.update({k: shown(v) for k, v in row.items()})
            design[cell] = row
        cells[cell] = {"hash": cell_hash(model), "overrides": design_overrides(job),
                       "params": params}
        configs[cell] = data
    return cells, configs, design


# --------------------------------------------------------------------------- the plan


def _container(node) -> dict:
    """A config node (or nothing) as plain data: an experiment without a grid has no params."""
    return OmegaConf.to_container(node) if isinstance(node, DictConfig) else dict(node or {})


def make_plan(overrides: list[str], force_new: bool) -> Plan:
    """Compose and check every cell, the settings and the directory; write nothing."""
    with hydra_context():
        parsed = parse_overrides(overrides)
        fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
        cfg = compose("sweep", fixed, hydra_node=True)
        try:
            settings = OmegaConf.to_container(cfg.experiment, resolve=True)
            check_settings(settings, analysis=False)
            design = design_rows(settings)
        except (ValueError, ConfigError) as err:
            raise UsageError(str(err)) from None
        except Exception as err:
            raise UsageError(f"experiment: {one_line(err)}") from None
        sweep_dir = check_output_dir(resolved(cfg, "hydra.sweep.dir"), "hydra.sweep.dir")
        choice = cfg.hydra.runtime.choices.get("experiment")
        if "hydra/launcher" in experiment_file(choice):
            raise UsageError(f"configs/experiment/{choice}.yaml selects a launcher, which "
                             f"Hydra ignores there (hydra#3231); choose it on the command "
                             f"line (hydra/launcher=NAME)")
        params = [f"{k}={v}" for k, v in (cfg.hydra.sweeper.get("params") or {}).items()]
        jobs = expand_jobs(parse_overrides(params) + parsed)
        cells, configs, rows = plan_cells(jobs, design[1] if design else None)
        launcher = describe(cfg.hydra.runtime.choices.get("hydra/launcher", ""),
                            cfg.hydra.launcher, int(settings["workers"]))
    try:
        check_analysis(settings)  # last: it loads the plotting code
    except ValueError as err:
        raise UsageError(str(err)) from None
    base, reps = int(settings["base_seed"]), int(settings["replications"])
    seeds = list(range(base, base + reps))
    digest = canonical({"experiment": settings["name"],
                        "cells": {c: v["hash"] for c, v in cells.items()}})
    identity = {"experiment": settings["name"], "town": str(cfg.town.name),
                "config_hash": hashlib.sha256(digest.encode()).hexdigest()[:16],
                "cells": cells}
    manifest = {
        "experiment": settings,
        "command": " ".join(["tased-experiment", *sys.argv[1:]]),
        "overrides": [o.input_line for o in parsed if not o.is_hydra_override()],
        "sweeper_params": _container(cfg.hydra.sweeper.get("params")),
        "design": ({"name": design[0], "rows": len(design[1]), "hash": rows_hash(design[1])}
                   if design else None),
        "town": str(cfg.town.name), "steps": int(cfg.steps), "cells": list(cells),
        "seeds": seeds, "total_runs": len(cells) * len(seeds),
        "launcher": launcher.name, "parallelism": launcher.parallelism,
        "version": project_version(), "source": source_revision(),
        "experiment_file": experiment_file(choice),
        "identity": identity}
    plan = Plan(sweep_dir, settings, cells, seeds, identity, manifest, launcher, configs, rows,
                [o for o in fixed if not o.startswith("hydra.sweep.dir=")])
    _check_existing(plan, force_new or bool(settings.get("force_new")))
    choose_chunks(plan)
    return plan


def choose_chunks(plan: Plan) -> None:
    """The runs to do, in their fixed order, and the runs per job."""
    done = {(c, s) for c, s in plan.finished} | {(c, s) for c, s, _ in plan.foreign}
    plan.pending = ordered_runs(list(plan.cells), plan.seeds, done)
    size = int(plan.settings.get("chunk_size") or 0)
    if size <= 0:
        size = auto_chunk_size(len(plan.pending), plan.launcher.parallelism,
                               CHUNKS_PER_WORKER, plan.launcher.all_at_once)
    plan.chunk_size = size
    if plan.launcher.all_at_once and plan.chunks > plan.launcher.parallelism:
        plan.notes.append(f"{plan.launcher.name} starts all {plan.chunks} jobs at once "
                          f"(hydra#2323) on {plan.launcher.parallelism} CPU(s); a larger "
                          f"experiment.chunk_size (or 0, the default) runs fewer")
    plan.manifest["chunks"] = chunk_plan(list(plan.cells), plan.pending, size)


def _check_existing(plan: Plan, force_new: bool) -> None:
    """Resume the same sweep, refuse another one; force_new moves any sweep aside."""
    d = plan.sweep_dir
    if not d.is_dir() or not any(d.iterdir()):
        return
    entries = {p.name for p in d.iterdir()}
    if not (d / MANIFEST).exists() and not (d / RUNS_DIR).is_dir():
        if entries <= HYDRA_LEFTOVERS:
            return
        shown_ = ", ".join(sorted(entries)[:4])  # never moved aside: it may be anything
        raise UsageError(f"hydra.sweep.dir: {d} is not empty ({shown_}) and is not a sweep "
                         f"directory; nothing was run. Write the sweep to a new or empty "
                         f"directory (experiment.out_dir=DIR or hydra.sweep.dir=DIR)")
    if force_new:
        plan.replace = True
        return
    new = plan.identity
    try:
        old = read_json(d / MANIFEST).get("identity")
    except (OSError, ValueError) as err:
        # every run carries its identity: verify each against this command's cells
        why = f"{MANIFEST} is unreadable ({err})" if (d / MANIFEST).exists() \
            else f"there is no {MANIFEST}"
        plan.notes.append(f"in {d} {why}; it is written anew and every finished run is "
                          f"verified against this command's configuration")
        _verify_existing(plan)
        return
    if not isinstance(old, dict) or not isinstance(old.get("cells"), dict):
        conflict = f"{d} holds a sweep written by an older version (no identity in {MANIFEST})"
    elif old.get("experiment") == new["experiment"] and \
            old.get("config_hash") == new["config_hash"]:
        _verify_existing(plan)
        return
    else:
        conflict = (f"{d} holds experiment {old.get('experiment')!r} (configuration "
                    f"{old.get('config_hash')}, {len(old['cells'])} cells"
                    f"{_difference(old['cells'], new['cells'])})")
    here = (f"this command runs experiment {new['experiment']!r} (configuration "
            f"{new['config_hash']}, {len(new['cells'])} cells)")
    raise UsageError(f"{conflict}, but {here}; nothing was run. Resume that sweep with its own "
                     f"command, pass experiment.force_new=true (or --force-new) to move it "
                     f"aside to {d.name}.old-<time> and start afresh, or write elsewhere "
                     f"(experiment.out_dir=DIR or hydra.sweep.dir=DIR)")


def _difference(old: dict, new: dict) -> str:
    only_old = sorted(set(old) - set(new))
    only_new = sorted(set(new) - set(old))
    changed = sorted(c for c in set(old) & set(new)
                     if isinstance(old[c], dict) and old[c].get("hash") != new[c]["hash"])
    if changed:
        return f"; cell {changed[0]} has another configuration there"
    if only_old or only_new:
        return (f"; cells only there: {', '.join(only_old[:3]) or 'none'}; only here: "
                f"{', '.join(only_new[:3]) or 'none'}")
    return ""


def _verify_existing(plan: Plan) -> None:
    """Verify every finished run of the design (reads only)."""
    seeds = set(plan.seeds)
    for cell, info in plan.cells.items():
        cell_dir = plan.sweep_dir / RUNS_DIR / cell
        if not cell_dir.is_dir():
            continue
        for run_dir in sorted(cell_dir.glob("seed*")):
            match = re.fullmatch(r"seed(\d+)", run_dir.name)
            if not match or int(match[1]) not in seeds or not (run_dir / RUN_FILE).exists():
                continue
            seed = int(match[1])
            check = verify_run(run_dir, cell, seed, info["hash"])
            if check.status == "ok":
                plan.finished.append((cell, seed))
            elif check.status == "corrupt":
                plan.corrupt.append((cell, seed, check.reason))
            else:
                plan.foreign.append((cell, seed, check.reason))

