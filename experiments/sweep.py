"""Command line for experiments: `tased-experiment experiment=scenario_comparison`.

An experiment is a Hydra multirun over configs/sweep.yaml with one file of
configs/experiment/ selected. Its design cells are the combinations of swept presets and
parameters (the file's hydra.sweeper.params and any sweep on the command line), times the
rows of its design generator if it has one (experiments.designs). Seeds are
`experiment.base_seed + k` for k < `experiment.replications`, the same in every cell (common
random numbers).

Before anything is written, the command composes every cell's configuration and checks it,
the experiment settings (experiments.aggregate.check_settings) and the output directory
(experiments.plan). A sweep directory that holds another experiment or configuration is
refused, naming both; `experiment.force_new=true` (or `--force-new`) moves it aside to
`<dir>.old-<time>`. Resuming verifies every finished run (experiments.output.verify_run): a
corrupt one is moved to `corrupt/<time>/` and run again, one of another cell, seed or
configuration is kept, left out of the report and reported.

The runs still to do are then cut into chunks (experiments.chunks) and Hydra runs one job per
chunk on the chosen launcher (experiments.launchers: joblib processes by default, the
command's own process, submitit's local processes or SLURM job arrays, Ray); results do not
depend on the launcher, the chunks or the order of jobs. This process prints the progress and
aggregates at the end.

The layout of a sweep directory is described in experiments.layout.

A run that raises is recorded and the other runs go on; the command then exits 1 and lists
the failed runs. Exit codes: 0 all runs finished, 1 some runs failed or were left out (or a
worker was killed, or the disk is full), 2 bad input (nothing written), 130/143 interrupted.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import hydra

from experiments.aggregate import build, left_out_message
from experiments.chunks import write_cell
from experiments.cli import (RunFailure, UsageError, check_flags, debug_requested,
                             process_alive, quiet_hydra, quote, run_command, split_flags)
from experiments.jobs import (CONFIG_PATH, MAIN_PID, MAX_LISTED, OUTCOME, Outcome, _json,
                              record_failure, register_schemas, run_chunk)
from experiments.launchers import launcher_error, prepare_environment, worker_died
from experiments.layout import (CORRUPT_DIR, FAILED_FILE, MANIFEST, PROGRESS_FILE, RUN_FILE,
                                RUNNING_FILE, RUNS_DIR)
from experiments.output import is_disk_error, one_line, remove_temporary_files
from experiments.plan import Plan, make_plan
from experiments.progress import Printer, read_progress

OWN_FLAGS = {"--debug", "--force-new"}
RESUME_HINT = "finished runs are kept; re-run the same command to resume"


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
    for cell, info in plan.cells.items():  # what the jobs run
        write_cell(d, cell, info, plan.configs[cell], plan.rows.get(cell))
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
        if (run_dir / RUN_FILE).exists() or process_alive(pid) or cell not in plan.cells \
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


_sweep = hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="sweep")(run_chunk)


def launch(plan: Plan, printer: Printer) -> list[str]:
    """Run one Hydra job per chunk on the chosen launcher; the problems to report."""
    sys.argv = [sys.argv[0], *plan.fixed, "hydra.sweeper.params=null",
                f"experiment.chunk=range(0,{plan.chunks})",
                f"hydra.sweep.dir={quote(str(plan.sweep_dir.resolve()))}"]
    os.environ[MAIN_PID] = str(os.getpid())
    prepare_environment(plan.launcher.name)
    try:
        with quiet_hydra():
            _sweep()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise RunFailure(f"Hydra stopped the sweep (exit {stop.code}); {RESUME_HINT}") \
                from None
    except Exception as err:
        if is_disk_error(err):
            raise
        if not worker_died(err):
            if launcher_error(err):
                raise RunFailure(f"hydra/launcher={plan.launcher.name} failed: "
                                 f"{one_line(err)}; {RESUME_HINT}") from err
            raise
        printer.stop()
        killed = mark_killed_runs(plan)
        which = f" while running {', '.join(killed[:MAX_LISTED])}" if killed else ""
        return [f"a worker process was killed{which}; the runs it was running are recorded "
                f"as failed, the jobs not finished yet stop with this command; "
                f"{RESUME_HINT}"]
    return []


def run_sweep(argv: list[str], flags: set[str]) -> int:
    register_schemas()
    overrides, info, _ = check_flags(argv, OWN_FLAGS)
    if info:  # --help, --cfg, --info: Hydra prints and runs nothing
        sys.argv = [sys.argv[0], *argv]
        _sweep()
        return 0
    plan = make_plan(overrides, "--force-new" in flags)
    from experiments.report import RUNNERS  # the report imports every analysis

    runner = RUNNERS.get(plan.settings.get("analysis"))
    if runner is not None:  # an experiment with its own loop (optimise, claims)
        return runner(plan, prepare)
    prepare(plan)
    name, total = plan.settings["name"], len(plan.cells) * len(plan.seeds)
    skip = f" ({len(plan.finished)} already finished, skipped)" if plan.finished else ""
    jobs = (f", {plan.chunks} job(s) of up to {plan.chunk_size} run(s)" if plan.pending
            else ", nothing to run")
    print(f"[{name}] {len(plan.cells)} cells x {len(plan.seeds)} seeds = {total} runs{skip}, "
          f"{plan.launcher.label}{jobs} -> {plan.sweep_dir}", file=sys.stderr, flush=True)
    OUTCOME.sweep_dir = plan.sweep_dir
    problems = []
    if plan.pending:
        printer = Printer(plan.sweep_dir, name, total, len(plan.finished),
                          plan.launcher.parallelism).start()
        try:
            problems += launch(plan, printer)
        finally:
            printer.stop()
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
