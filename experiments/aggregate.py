"""Turn a sweep directory into tables, figures and a report: `tased-aggregate DIR`.

Outputs, written into DIR: table.parquet, summary.csv, failures.csv (when some runs failed),
figures/ and report.md. See experiments.data for the tables and experiments.report for the
report. Works on any sweep directory, including one whose sweep failed or was interrupted.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from experiments.data import collect
from experiments.layout import FAILURES, RUNS_DIR, SUMMARY, TABLE
from experiments.output import atomic_write
from experiments.report import write_report


@dataclass
class BuildResult:
    report: Path
    table: Path
    summary: Path
    failures: Path | None
    finished: int
    failed: int


# --------------------------------------------------------------------------- build


def build(sweep_dir: Path, figures: bool = True) -> BuildResult:
    """Write table, summary, failures, figures and report.md for a sweep directory."""
    sweep_dir = Path(sweep_dir)
    data = collect(sweep_dir)
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
    return BuildResult(report, table_path, summary_path, failures_path,
                       int(len(data.summary)), int(len(data.failures)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="tased-aggregate",
        description="Aggregate a sweep directory into table.parquet, summary.csv, figures "
                    "and report.md (works on failed or interrupted sweeps too).")
    parser.add_argument("sweep_dir", type=Path, help="directory written by tased-experiment")
    parser.add_argument("--no-figures", action="store_true", help="tables and report only")
    args = parser.parse_args(argv)
    if not (args.sweep_dir / RUNS_DIR).is_dir():
        print(f"error: {args.sweep_dir} is not a sweep directory (no {RUNS_DIR}/ inside)",
              file=sys.stderr)
        sys.exit(2)
    result = build(args.sweep_dir, figures=not args.no_figures)
    print(f"table: {result.table} ({result.finished} finished runs)")
    print(f"summary: {result.summary}")
    if result.failures is not None:
        print(f"failures: {result.failures} ({result.failed} failed runs)", file=sys.stderr)
    print(f"report: {result.report}")


if __name__ == "__main__":
    main()

