"""Command line for experiments: `tased-experiment experiment=scenario_comparison`.

An experiment is a Hydra multirun over configs/sweep.yaml with one file of
configs/experiment/ selected. Each Hydra job is one design cell (a combination of swept
presets and parameters) and runs the cell's replications one after another; the joblib
launcher runs cells in parallel (`experiment.workers`; `hydra/launcher=basic` runs them one
after another in this process). Seeds are `experiment.base_seed + k` for k <
`experiment.replications`, the same in every cell (common random numbers), so results do not
depend on the number of workers or the order of jobs.

Before anything is written, the command composes every cell's configuration and checks it,
the experiment settings (experiments.aggregate.check_settings) and the output directory. A
sweep directory that holds another experiment or configuration is refused, naming both;
`experiment.force_new=true` (or `--force-new`) moves it aside to `<dir>.old-<time>`. Resuming
verifies every finished run (experiments.output.verify_run): a corrupt one is moved to
`corrupt/<time>/` and run again, one of another cell, seed or configuration is kept, left out
of the report and reported.

The layout of a sweep directory is described in experiments.layout.

A run that raises is recorded and the other runs go on; the command then exits 1 and lists
the failed runs. Exit codes: 0 all runs finished, 1 some runs failed or were left out (or a
worker was killed, or the disk is full), 2 bad input (nothing written), 130/143 interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import hydra
from omegaconf import OmegaConf

from experiments.aggregate import build, check_analysis, check_settings, left_out_message
from experiments.cli import (RunFailure, UsageError, check_flags, check_output_dir, compose,
                             debug_requested, expand_jobs, hydra_context, is_group,
                             job_configs, parse_overrides, quiet_hydra, quote, resolved,
                             run_command,
                             split_flags)
from experiments.jobs import (CONFIG_PATH, MAIN_PID, MAX_LISTED, OUTCOME, Outcome, _json,
                              cell_hash, cell_name, cell_params, design_overrides,
                              experiment_file, model_config, model_data, read_progress,
                              record_failure, register_schemas, run_cell)
from experiments.layout import (CORRUPT_DIR, FAILED_FILE, MANIFEST, PROGRESS_FILE, RUN_FILE,
                                RUNNING_FILE, RUNS_DIR, available_cpus)
from experiments.output import (canonical, is_disk_error, one_line, project_version,
                                read_json, remove_temporary_files, source_revision,
                                verify_run)
from simulation.config import ConfigError

OWN_FLAGS = {"--debug", "--force-new"}
#: what Hydra may have left in a sweep directory before sweep.json was written
HYDRA_LEFTOVERS = {"jobs", "multirun.yaml", ".hydra"}
RESUME_HINT = "finished runs are kept; re-run the same command to resume"


@dataclass
class Plan:
    """Everything checked before the sweep writes anything."""

    sweep_dir: Path
    settings: dict
    cells: dict  # cell -> {"hash", "overrides", "params"}
    seeds: list
    identity: dict
    manifest: dict
    replace: bool = False  # move an existing sweep of another configuration aside
    finished: list = field(default_factory=list)  # (cell, seed) verified
    corrupt: list = field(default_factory=list)  # (cell, seed, reason)
    foreign: list = field(default_factory=list)  # (cell, seed, reason)
    workers: str = ""
    notes: list = field(default_factory=list)  # printed when the sweep starts


# --------------------------------------------------------------------------- checks


def make_plan(overrides: list[str], force_new: bool) -> Plan:
    """Compose and check every cell, the settings and the directory; write nothing."""
    with hydra_context():
        parsed = parse_overrides(overrides)
        cfg = compose("sweep", [o.input_line for o in parsed if not o.is_sweep_override()],
                      hydra_node=True)
        try:
            settings = OmegaConf.to_container(cfg.experiment, resolve=True)
            check_settings(settings, analysis=False)
        except (ValueError, ConfigError) as err:
            raise UsageError(str(err)) from None
        except Exception as err:
            raise UsageError(f"experiment: {one_line(err)}") from None
        sweep_dir = check_output_dir(resolved(cfg, "hydra.sweep.dir"), "hydra.sweep.dir")
        params = [f"{k}={v}" for k, v in (cfg.hydra.sweeper.get("params") or {}).items()]
        jobs = expand_jobs(parse_overrides(params) + parsed)
        cells: dict[str, dict] = {}
        for job, job_cfg in job_configs("sweep", jobs):
            cell = cell_name(job)
            if cell in cells:
                raise UsageError(
                    f"several jobs map to the same cell {cell!r}: they differ only in "
                    f"experiment settings or seed; set experiment.base_seed and "
                    f"experiment.replications instead of sweeping them")
            try:
                model = model_config(model_data(job_cfg))
            except ConfigError as err:
                raise UsageError(f"{err} (cell {cell}; nothing was run)") from None
            except Exception as err:
                raise UsageError(f"{one_line(err)} (cell {cell}; nothing was run)") from None
            choices = {o.key_or_group: o.value() for o in parse_overrides(job) if is_group(o)}
            plain = OmegaConf.to_container(job_cfg, resolve=True, enum_to_str=True)
            cells[cell] = {"hash": cell_hash(model), "overrides": design_overrides(job),
                           "params": cell_params(job, plain, choices)}
        launcher = cfg.hydra.runtime.choices.get("hydra/launcher", "")
    try:
        check_analysis(settings)  # last: it loads the plotting code
    except ValueError as err:
        raise UsageError(str(err)) from None
    base, reps = int(settings["base_seed"]), int(settings["replications"])
    seeds = list(range(base, base + reps))
    design = canonical({"experiment": settings["name"],
                        "cells": {c: v["hash"] for c, v in cells.items()}})
    identity = {"experiment": settings["name"], "town": str(cfg.town.name),
                "config_hash": hashlib.sha256(design.encode()).hexdigest()[:16],
                "cells": cells}
    workers = settings["workers"]
    manifest = {
        "experiment": settings,
        "command": " ".join(["tased-experiment", *sys.argv[1:]]),
        "overrides": [o.input_line for o in parsed if not o.is_hydra_override()],
        "sweeper_params": OmegaConf.to_container(cfg.hydra.sweeper.get("params") or {}),
        "town": str(cfg.town.name), "steps": int(cfg.steps), "cells": list(cells),
        "seeds": seeds, "total_runs": len(cells) * len(seeds),
        "version": project_version(), "source": source_revision(),
        "experiment_file": experiment_file(cfg.hydra.runtime.choices.get("experiment")),
        "identity": identity}
    plan = Plan(sweep_dir, settings, cells, seeds, identity, manifest)
    if launcher == "joblib_workers":
        n = available_cpus() if workers == -1 else workers
        plan.workers = f"{n} worker(s)"
    elif launcher == "basic":
        plan.workers = "1 worker (hydra/launcher=basic)"
    else:
        plan.workers = f"hydra/launcher={launcher}"
    _check_existing(plan, force_new or bool(settings.get("force_new")))
    return plan


def _check_existing(plan: Plan, force_new: bool) -> None:
    """Resume the same sweep, refuse another one; force_new moves any sweep aside."""
    d = plan.sweep_dir
    if not d.is_dir() or not any(d.iterdir()):
        return
    entries = {p.name for p in d.iterdir()}
    if not (d / MANIFEST).exists() and not (d / RUNS_DIR).is_dir():
        if entries <= HYDRA_LEFTOVERS:
            return
        shown = ", ".join(sorted(entries)[:4])  # never moved aside: it may be anything
        raise UsageError(f"hydra.sweep.dir: {d} is not empty ({shown}) and is not a sweep "
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


# --------------------------------------------------------------------------- writes


def prepare(plan: Plan) -> None:
    """The sweep's first writes: move an old sweep or corrupt runs aside, write sweep.json."""
    d = plan.sweep_dir
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if plan.replace:
        aside = d.with_name(f"{d.name}.old-{stamp}")
        try:
            d.rename(aside)
        except OSError as err:
            raise UsageError(f"hydra.sweep.dir: cannot move {d} aside to {aside.name} "
                             f"({err.strerror}); remove it yourself or write elsewhere") \
                from None
        print(f"note: the previous sweep in {d} was moved to {aside}", file=sys.stderr)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    d.mkdir(parents=True, exist_ok=True)
    remove_temporary_files(d)
    for cell, seed, reason in plan.corrupt:
        source = d / RUNS_DIR / cell / f"seed{seed}"
        target = d / CORRUPT_DIR / stamp / cell / f"seed{seed}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
        print(f"note: {cell}/seed{seed} is corrupt ({reason}); moved to "
              f"{target.relative_to(d)} and run again", file=sys.stderr)
    plan.manifest.update(already_done=len(plan.finished), started=time.time())
    _json(d / MANIFEST, plan.manifest)
    (d / PROGRESS_FILE).unlink(missing_ok=True)


def mark_killed_runs(plan: Plan) -> list[str]:
    """Record as failed every run whose worker died while running it (its .running marker
    names a process that is gone); returns them as cell/seed."""
    killed = []
    for marker in sorted((plan.sweep_dir / RUNS_DIR).glob(f"*/seed*/{RUNNING_FILE}")):
        run_dir = marker.parent
        cell, seed = run_dir.parent.name, run_dir.name[len("seed"):]
        try:
            pid = int(marker.read_text().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if (run_dir / RUN_FILE).exists() or _alive(pid) or cell not in plan.cells \
                or not seed.isdigit():
            continue
        error = (f"the worker process (pid {pid}) running it was killed before it finished; "
                 f"re-run the command to run it again")
        info = plan.cells[cell]
        known = {"scenario": info["params"].get("scenario"), "town": plan.identity["town"]}
        record_failure(run_dir, cell, info["overrides"], int(seed), known, error,
                       "WorkerKilled")
        marker.unlink(missing_ok=True)
        with open(plan.sweep_dir / PROGRESS_FILE, "a") as log:
            log.write(json.dumps({"cell": cell, "seed": int(seed), "status": "failed",
                                  "error": error, "time": time.time()}) + "\n")
        killed.append(f"{cell}/seed{seed}")
    return killed


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child has exited too
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


# --------------------------------------------------------------------------- the command


def finish(outcome: Outcome) -> None:
    """Aggregate the sweep directory and record this invocation's failed runs."""
    if outcome.sweep_dir is None or outcome.finished:
        return
    outcome.finished = True
    outcome.failures = [x for x in read_progress(outcome.sweep_dir) if x["status"] != "done"]
    result = build(outcome.sweep_dir)
    outcome.report = result.report
    outcome.left_out = result.left_out
    outcome.not_run = result.not_run
    print(f"report: {result.report}")


_sweep = hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="sweep")(run_cell)


def _worker_killed(err: BaseException) -> bool:
    names = {type(e).__name__ for e in (err, err.__cause__, err.__context__) if e is not None}
    return bool(names & {"TerminatedWorkerError", "BrokenProcessPool"})


def run_sweep(argv: list[str], flags: set[str]) -> int:
    register_schemas()
    overrides, info, _ = check_flags(argv, OWN_FLAGS)
    if info:  # --help, --cfg, --info: Hydra prints and runs nothing
        sys.argv = [sys.argv[0], *argv]
        _sweep()
        return 0
    plan = make_plan(overrides, "--force-new" in flags)
    prepare(plan)
    name, total = plan.settings["name"], len(plan.cells) * len(plan.seeds)
    skip = f" ({len(plan.finished)} already finished, skipped)" if plan.finished else ""
    print(f"[{name}] {len(plan.cells)} cells x {len(plan.seeds)} seeds = {total} runs{skip}, "
          f"{plan.workers} -> {plan.sweep_dir}", file=sys.stderr, flush=True)
    hydra_args = [a for a in overrides if not a.startswith("hydra.sweep.dir=")]
    sys.argv = [sys.argv[0], *hydra_args,
                f"hydra.sweep.dir={quote(str(plan.sweep_dir.resolve()))}"]
    os.environ[MAIN_PID] = str(os.getpid())
    OUTCOME.sweep_dir = plan.sweep_dir
    problems = []
    try:
        with quiet_hydra():
            _sweep()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise RunFailure(f"Hydra stopped the sweep (exit {stop.code}); {RESUME_HINT}") \
                from None
    except Exception as err:
        if is_disk_error(err) or not _worker_killed(err):
            raise
        killed = mark_killed_runs(plan)
        which = f" while running {', '.join(killed[:MAX_LISTED])}" if killed else ""
        problems.append(f"a worker process was killed{which}; the runs it was running are "
                        f"recorded as failed, the runs not started yet did not run; "
                        f"{RESUME_HINT}")
    try:
        finish(OUTCOME)
    except (KeyboardInterrupt, OSError):
        raise
    except Exception as err:  # the runs are on disk: `tased-aggregate DIR` can try again
        problems.append(f"aggregation failed: {one_line(err)}; the runs are kept: run "
                        f"tased-aggregate {plan.sweep_dir} to try again")
    if OUTCOME.left_out:
        problems.append(left_out_message(OUTCOME.left_out, plan.sweep_dir))
    if OUTCOME.not_run and not problems:
        problems.append(f"{OUTCOME.not_run} run(s) of the design did not run; {RESUME_HINT}")
    if OUTCOME.failures:
        problems.insert(0, failures_message(OUTCOME))
    if problems:
        raise RunFailure("; ".join(problems) + failure_details(OUTCOME))
    return 0


def failures_message(outcome: Outcome) -> str:
    return (f"{len(outcome.failures)} run(s) failed in {outcome.sweep_dir} (each has "
            f"{FAILED_FILE} in its run directory, failures.csv lists them; re-running the "
            f"command runs them again)")


def failure_details(outcome: Outcome) -> str:
    """The failed runs grouped by error, as indented lines below the error line."""
    by_error: dict[str, list] = {}
    for x in outcome.failures:
        by_error.setdefault(x["error"], []).append(f"{x['cell']}/seed{x['seed']}")
    lines = []
    for error, runs in by_error.items():
        shown = ", ".join(runs[:MAX_LISTED])
        more = f" and {len(runs) - MAX_LISTED} more" if len(runs) > MAX_LISTED else ""
        lines.append(f"\n  {error}\n    in {shown}{more}")
    return "".join(lines)


def main() -> None:
    argv, flags = split_flags(sys.argv[1:], OWN_FLAGS)
    run_command(lambda: run_sweep(argv, flags), debug_requested(flags), RESUME_HINT)


if __name__ == "__main__":
    main()
