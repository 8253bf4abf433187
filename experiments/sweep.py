"""Command line for experiments: `tased-experiment experiment=scenario_comparison`.

An experiment is a Hydra multirun over configs/sweep.yaml with one file of
configs/experiment/ selected. Each Hydra job is one design cell (a combination of swept
presets and parameters) and runs the cell's replications one after another; the joblib
launcher runs cells in parallel (`experiment.workers`). Seeds are `experiment.base_seed + k`
for k < `experiment.replications`, the same in every cell (common random numbers), so
results do not depend on the number of workers or the order of jobs.

The layout of a sweep directory is described in experiments.layout.

A finished run (run.json present) is never recomputed or overwritten: re-running a sweep
into the same directory resumes it. A run that raises is recorded and the other runs go on;
the command then exits 1 and lists the failed runs.
"""

from __future__ import annotations

import sys

import hydra

from experiments.aggregate import build
from experiments.jobs import (CONFIG_PATH, MAX_LISTED, OUTCOME, Outcome, read_progress,
                              register_schemas, run_cell)


def finish(outcome: Outcome) -> None:
    """Aggregate the sweep directory and record this invocation's failed runs."""
    if outcome.sweep_dir is None or outcome.finished:
        return
    outcome.finished = True
    outcome.failures = [x for x in read_progress(outcome.sweep_dir) if x["status"] != "done"]
    result = build(outcome.sweep_dir)
    outcome.report = result.report
    print(f"report: {result.report}")


_sweep = hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="sweep")(run_cell)


def main() -> None:
    register_schemas()
    try:
        _sweep()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            if OUTCOME.sweep_dir is not None:
                print("error: a job crashed; aggregating the runs that finished",
                      file=sys.stderr)
                finish(OUTCOME)
            raise
    try:
        finish(OUTCOME)
    except Exception as err:  # the runs are on disk: `tased-aggregate DIR` can try again
        OUTCOME.error = f"aggregation failed: {type(err).__name__}: {err}"
    if OUTCOME.error:
        print(f"error: {OUTCOME.error}", file=sys.stderr)
    if OUTCOME.failures:
        print(f"error: {len(OUTCOME.failures)} run(s) failed in {OUTCOME.sweep_dir} (each has "
              f"failed.json in its run directory; failures.csv lists them):", file=sys.stderr)
        by_error: dict[str, list] = {}
        for x in OUTCOME.failures:
            by_error.setdefault(x["error"], []).append(f"{x['cell']}/seed{x['seed']}")
        for error, runs in by_error.items():
            shown = ", ".join(runs[:MAX_LISTED])
            more = f" and {len(runs) - MAX_LISTED} more" if len(runs) > MAX_LISTED else ""
            print(f"  {error}\n    in {shown}{more}", file=sys.stderr)
    if OUTCOME.failures or OUTCOME.error:
        sys.exit(1)


if __name__ == "__main__":
    main()
