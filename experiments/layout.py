"""Names every part of `experiments` shares: files and folders of runs and sweeps, the
experiment settings, the scenarios' display order. Imports nothing else of `experiments`.

Layout of a sweep directory (default results/experiments/<experiment>/<town>/):

    sweep.json                 the design: cells, seeds, command, experiment settings
    runs/<cell>/cell.json      the cell's overrides, parameter values, design row and
                               resolved configuration (what the jobs run)
    runs/<cell>/seed<k>/       one run: model.parquet, firms.parquet, projects.parquet,
                               config.yaml, run.json
                               (written last, with the run's identity: cell, scenario, town,
                               seed, config hash, code version, checksums of its files), or
                               failed.json with the error and config
    corrupt/<time>/<cell>/seed<k>/   corrupt runs moved aside on resume (then run again)
    jobs/<n>/                  Hydra's record of each job (config, overrides, log)
    table.parquet, summary.csv, failures.csv, figures/, report.md   (from aggregation)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.presets import scenarios

# one run
MODEL_TABLE = "model.parquet"
FIRM_TABLE = "firms.parquet"
PROJECT_TABLE = "projects.parquet"  # one row per investment project (ODD 2.10)
CONFIG_FILE = "config.yaml"
RUN_FILE = "run.json"  # written last: its presence marks a finished run
FAILED_FILE = "failed.json"
RUNNING_FILE = ".running"  # the pid of the process running it, while it runs

# a sweep
MANIFEST = "sweep.json"
CELL_FILE = "cell.json"
PROGRESS_FILE = "progress.log"
RUNS_DIR = "runs"
TABLE = "table.parquet"
SUMMARY = "summary.csv"
FAILURES = "failures.csv"
REPORT = "report.md"
FIGURES = "figures"
CORRUPT_DIR = "corrupt"  # corrupt runs moved aside on resume

#: names that become directory names (town, experiment, scenario labels)
NAME_PATTERN = r"[A-Za-z0-9_-]+"
#: figure formats the report can draw
FORMATS = ("png", "svg", "pdf")
MAX_REPLICATIONS = 10_000

#: the scenarios in display order (configs/scenarios.yaml) and their colours in every figure
SCENARIOS = scenarios()
SCENARIO_ORDER = list(SCENARIOS)


@dataclass
class ExperimentSettings:
    """How an experiment is run and analysed (the `experiment` node of a sweep config)."""

    name: str = "experiment"
    #: the question (Q1-Q7 of the model's purpose) the experiment answers, for the report
    question: str = ""
    #: analysis of experiments/analysis.py that states the answer
    analysis: str = "scenario_comparison"
    #: parameters of that analysis
    options: dict = field(default_factory=dict)
    #: seeds per cell, 1 to MAX_REPLICATIONS
    replications: int = 20
    #: seeds are base_seed, base_seed + 1, ... in every cell (common random numbers)
    base_seed: int = 0
    #: cells run in parallel (joblib processes), at most the number of CPUs; -1 uses every
    #: CPU; 1 runs them one after another
    workers: int = -1
    #: runs per Hydra job: the (cell x seed) runs still to do, in a fixed order (seed by
    #: seed, the cells in design order), are cut into chunks of this many; 0 chooses it from
    #: the launcher's parallelism (experiments.chunks.auto_chunk_size)
    chunk_size: int = 0
    #: the chunk a Hydra job runs: set by tased-experiment for each job, never by hand
    chunk: int = -1
    #: cells from a design generator (experiments.designs.DESIGNS): {name: NAME, ...options};
    #: null: the cells are the grid of hydra.sweeper.params alone (typed Any, so that
    #: `experiment.design={name: list, cells: [...]}` can be given on the command line)
    design: Any = None
    out_dir: str = "results/experiments"
    #: start afresh: move an existing sweep directory aside (to <dir>.old-<time>); without
    #: it, a directory of another experiment or configuration is refused (also `--force-new`)
    force_new: bool = False
    #: scenario of the paired differences ("compared with baseline")
    reference: str = "baseline"
    #: final-step outcomes in the report's tables and bar charts
    outcomes: list = field(default_factory=lambda: [
        "cfe_share", "employment_entropy", "members", "cmc_exists", "ties",
        "non_cfe_jobs_change", "unemployment_rate", "public_cost"])
    #: outputs drawn as time series
    series: list = field(default_factory=lambda: [
        "cfe_share", "employment_entropy", "members", "ties", "unemployment_rate",
        "non_cfe_jobs", "residents", "public_cost_cumulative"])
    #: figure formats
    formats: list = field(default_factory=lambda: ["png"])


def available_cpus() -> int:
    """The CPUs this process may run on (what `experiment.workers=-1` uses)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def sort_key(value) -> tuple:
    """Numbers in numeric order before anything else in text order."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))
