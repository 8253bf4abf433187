"""Turn a sweep directory into tables, figures and a report: `tased-aggregate DIR`.

Outputs, written into DIR: table.parquet, summary.csv, failures.csv (when some runs failed or
were left out), figures/ and report.md. See experiments.data for the tables and
experiments.report for the report. Works on any sweep directory, including one whose sweep
failed or was interrupted.

Every finished run is verified against its folder, the sweep's config hash (sweep.json) and
the checksums of its files; a run that is corrupt or belongs elsewhere is left out of the
tables, listed in failures.csv and the report, and the command exits 1. Exit 2: DIR is not a
usable sweep directory (nothing is written).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.cli import (RunFailure, UsageError, check_output_dir, debug_requested,
                             run_command, split_flags)
from experiments.data import ID_COLUMNS, collect, describe, read_sweep_manifest
from experiments.layout import (FAILURES, FORMATS, MAX_REPLICATIONS, NAME_PATTERN, RUNS_DIR,
                                SUMMARY, TABLE, available_cpus)
from experiments.output import atomic_write, remove_temporary_files
from simulation.config.model import MAX_SEED
from simulation.outputs import BY_NAME
from simulation.presets import options as preset_options

MAX_LISTED = 6  # runs named on the terminal per problem (failures.csv has them all)


@dataclass
class BuildResult:
    report: Path
    table: Path
    summary: Path
    failures: Path | None
    finished: int
    failed: int
    left_out: list = field(default_factory=list)  # (run, reason) of runs left out
    not_run: int = 0  # runs of the design with no record yet


# --------------------------------------------------------------------------- settings


def _names(value: Any, key: str, known: Any, what: str) -> None:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{key}: {value!r} is not accepted; give a non-empty list of {what}")
    for i, name in enumerate(value):
        if not isinstance(name, str) or not known(name):
            raise ValueError(f"{key}[{i}]: {name!r} is not one of the {what} (see README, "
                             f"Outputs and Aggregating a sweep directory)")


def _number(value: Any, key: str, lo: float, integer: bool) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value != value or value < lo:
        what = "an integer" if integer else "a number"
        raise ValueError(f"{key}: {value!r} is not accepted; give {what} of at least {lo}")


def is_outcome(name: str) -> bool:
    """A per-run value summary.csv has: an output at the final quarter or a per-run summary."""
    return name not in ID_COLUMNS and describe(name) is not None


def is_series(name: str) -> bool:
    """An output of the per-step table."""
    return name in BY_NAME


#: experiment.options checked when present: (kind, minimum) or a name check
OPTION_CHECKS = {
    "late_window": ("int", 1), "pre_shock_quarters": ("int", 1),
    "hysteresis_lag": ("int", 1), "min_side": ("int", 1),
    "recovery_tolerance": ("number", 0), "size_bin": ("number", 1e-9),
}
OPTION_OUTPUTS = ("primary", "diffusion")


def check_analysis(s: dict, where: str = "experiment") -> None:
    """The analysis is one of experiments.report.ANALYSES (imports the plotting code)."""
    from experiments.report import ANALYSES

    if s.get("analysis") not in ANALYSES:
        raise ValueError(f"{where}.analysis: {s.get('analysis')!r} is not an analysis; "
                         f"accepted: {', '.join(ANALYSES)}")


def _check_run_settings(s: dict, where: str) -> None:
    """The settings that decide what runs and where (not needed to aggregate)."""
    reps = s.get("replications")
    if isinstance(reps, bool) or not isinstance(reps, int) or not 1 <= reps <= MAX_REPLICATIONS:
        raise ValueError(f"{where}.replications: {reps!r} is outside the accepted range "
                         f"[1, {MAX_REPLICATIONS}]")
    base = s.get("base_seed")
    if isinstance(base, bool) or not isinstance(base, int) or \
            not 0 <= base <= MAX_SEED - reps + 1:
        raise ValueError(f"{where}.base_seed: {base!r} is outside the accepted range "
                         f"[0, {MAX_SEED - reps + 1}] (seeds base_seed to "
                         f"base_seed + replications - 1)")
    workers, cpus = s.get("workers"), available_cpus()
    if isinstance(workers, bool) or not isinstance(workers, int) or \
            not (workers == -1 or 1 <= workers <= cpus):
        raise ValueError(f"{where}.workers: {workers!r} is not accepted; accepted 1 to {cpus} "
                         f"(the CPUs available), or -1 for all of them")
    size = s.get("chunk_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"{where}.chunk_size: {size!r} is not accepted; give the runs per "
                         f"job, an integer of at least 1, or 0 to choose it from the "
                         f"launcher's parallelism")
    if s.get("chunk") != -1:
        raise ValueError(f"{where}.chunk: {s.get('chunk')!r} is not accepted: tased-experiment "
                         f"sets it for each job; experiment.chunk_size sets the runs per job")
    if s.get("design") is not None and not isinstance(s.get("design"), dict):
        raise ValueError(f"{where}.design: {s.get('design')!r} is not a mapping; give "
                         f"{{name: NAME, ...options}} or leave it empty")
    if not isinstance(s.get("out_dir"), str) or not s["out_dir"].strip():
        raise ValueError(f"{where}.out_dir: an empty directory is not accepted; give a "
                         f"directory path")
    if not isinstance(s.get("force_new"), bool):
        raise ValueError(f"{where}.force_new: {s.get('force_new')!r} is not true or false")


def check_settings(s: dict, where: str = "experiment", analysis: bool = True,
                   run: bool = True) -> None:
    """Every experiment setting the sweep and its report use; ValueError naming the field.
    `analysis=False` leaves the analysis to check_analysis; `run=False` checks only what the
    report uses (aggregating a sweep made on another machine)."""
    name = s.get("name")
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise ValueError(f"{where}.name: {name!r} is not accepted; it names a directory: use "
                         f"letters, digits, '_' and '-' only")
    if run:
        _check_run_settings(s, where)
    scenarios = preset_options("scenario")
    if s.get("reference") not in scenarios:
        raise ValueError(f"{where}.reference: {s.get('reference')!r} is not a scenario; "
                         f"accepted: {', '.join(scenarios)}")
    _names(s.get("outcomes"), f"{where}.outcomes", is_outcome,
           "outputs and per-run summaries")
    _names(s.get("series"), f"{where}.series", is_series, "model outputs")
    formats = s.get("formats")
    if not isinstance(formats, list) or not formats:
        raise ValueError(f"{where}.formats: {formats!r} is not accepted; give a non-empty "
                         f"list of {', '.join(FORMATS)}")
    for i, fmt in enumerate(formats):
        if fmt not in FORMATS:
            raise ValueError(f"{where}.formats[{i}]: {fmt!r} is not a supported figure format; "
                             f"accepted: {', '.join(FORMATS)}")
    opts = s.get("options")
    if not isinstance(opts, dict):
        raise ValueError(f"{where}.options: {opts!r} is not a mapping")
    for key, (kind, lo) in OPTION_CHECKS.items():
        if key in opts:
            _number(opts[key], f"{where}.options.{key}", lo, kind == "int")
    for key in OPTION_OUTPUTS:
        if key in opts and not (isinstance(opts[key], str) and is_outcome(opts[key])):
            raise ValueError(f"{where}.options.{key}: {opts[key]!r} is not one of the outputs "
                             f"and per-run summaries")
    if "metrics" in opts:
        _names(opts["metrics"], f"{where}.options.metrics", is_outcome,
               "outputs and per-run summaries")
    if analysis:
        check_analysis(s, where)


# --------------------------------------------------------------------------- build


def build(sweep_dir: Path, figures: bool = True) -> BuildResult:
    """Write table, summary, failures, figures and report.md for a sweep directory."""
    from experiments.report import write_report  # matplotlib: only when there is work

    sweep_dir = Path(sweep_dir)
    data = collect(sweep_dir)
    remove_temporary_files(sweep_dir)  # left by an aggregation that was killed
    table_path, summary_path = sweep_dir / TABLE, sweep_dir / SUMMARY
    atomic_write(table_path, lambda p: data.table.to_parquet(p, index=False))
    atomic_write(summary_path, lambda p: data.summary.to_csv(p, index=False))
    failures_path = sweep_dir / FAILURES
    if len(data.failures):
        atomic_write(failures_path, lambda p: data.failures.to_csv(p, index=False))
    else:
        failures_path.unlink(missing_ok=True)
        failures_path = None
    report = write_report(data, figures=figures)
    left_out = list(data.left_out)
    return BuildResult(report, table_path, summary_path, failures_path,
                       int(len(data.summary)), int(len(data.failures)) - len(left_out),
                       left_out, int(data.not_run))


def check_sweep_dir(sweep_dir: Path) -> None:
    """UsageError unless DIR is a sweep directory this command can read and write."""
    if not sweep_dir.is_dir():
        what = "does not exist" if not sweep_dir.exists() else "is not a directory"
        raise UsageError(f"{sweep_dir} {what}; give a directory written by tased-experiment")
    if not (sweep_dir / RUNS_DIR).is_dir():
        raise UsageError(f"{sweep_dir} is not a sweep directory (no {RUNS_DIR}/ inside); give "
                         f"a directory written by tased-experiment")
    try:
        manifest = read_sweep_manifest(sweep_dir)
        check_settings(manifest.get("experiment", {}), f"{sweep_dir / 'sweep.json'}: experiment",
                       run=False)
    except ValueError as err:
        raise UsageError(str(err)) from None
    analysis = manifest.get("experiment", {}).get("analysis")
    if analysis in ("optimise", "claims"):  # experiments with their own loop and report
        raise UsageError(f"{sweep_dir} holds the {analysis} experiment, which writes its own "
                         f"report: run its tased-experiment command again (it resumes) instead "
                         f"of tased-aggregate")
    check_output_dir(str(sweep_dir), "sweep directory")


def left_out_message(left_out: list, where: Path) -> str:
    shown = "; ".join(f"{run}: {reason}" for run, reason in left_out[:MAX_LISTED])
    more = f"; and {len(left_out) - MAX_LISTED} more" if len(left_out) > MAX_LISTED else ""
    return (f"{len(left_out)} run(s) left out of the report in {where} ({FAILURES} lists "
            f"them): {shown}{more}. A corrupt run is moved aside and run again when the "
            f"sweep's command is re-run; a run of another cell, seed or configuration is "
            f"kept: move it away")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        raise UsageError(f"{message}; usage: tased-aggregate DIR [--no-figures] [--debug]")


def main(argv: list[str] | None = None) -> None:
    argv, flags = split_flags(list(sys.argv[1:] if argv is None else argv), {"--debug"})
    run_command(lambda: _main(argv), debug_requested(flags),
                "the runs are untouched; run tased-aggregate again")


def _main(argv: list[str]) -> int:
    parser = _Parser(
        prog="tased-aggregate",
        description="Aggregate a sweep directory into table.parquet, summary.csv, figures "
                    "and report.md (works on failed or interrupted sweeps too). Exit codes: "
                    "0 done, 1 some runs were left out (corrupt or not of this sweep) or the "
                    "aggregation failed, 2 DIR is not a usable sweep directory.")
    parser.add_argument("sweep_dir", type=Path, help="directory written by tased-experiment")
    parser.add_argument("--no-figures", action="store_true", help="tables and report only")
    parser.add_argument("--debug", action="store_true",
                        help="print the traceback of an error")
    args = parser.parse_args(argv)
    check_sweep_dir(args.sweep_dir)
    result = build(args.sweep_dir, figures=not args.no_figures)
    print(f"table: {result.table} ({result.finished} finished runs)")
    print(f"summary: {result.summary}")
    if result.failed:
        print(f"failures: {result.failures} ({result.failed} failed runs)", file=sys.stderr)
    if result.not_run:
        print(f"note: {result.not_run} run(s) of the design have not run yet; re-run the "
              f"sweep's command to resume", file=sys.stderr)
    print(f"report: {result.report}")
    if result.left_out:
        raise RunFailure(left_out_message(result.left_out, args.sweep_dir))
    return 0


if __name__ == "__main__":
    main()
