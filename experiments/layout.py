"""Names every part of `experiments` shares: files and folders of runs and sweeps, the
experiment settings, the scenarios' display order. Imports nothing else of `experiments`.

Layout of a sweep directory (default results/experiments/<experiment>/<town>/):

    sweep.json                 the design: cells, seeds, command, experiment settings
    runs/<cell>/cell.json      the cell's overrides and parameter values
    runs/<cell>/seed<k>/       one run: model.parquet, firms.parquet, config.yaml, run.json
                               (written last), or failed.json with the error and config
    jobs/<n>/                  Hydra's record of each job (config, overrides, log)
    table.parquet, summary.csv, failures.csv, figures/, report.md   (from aggregation)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.presets import scenarios

# one run
MODEL_TABLE = "model.parquet"
FIRM_TABLE = "firms.parquet"
CONFIG_FILE = "config.yaml"
RUN_FILE = "run.json"  # written last: its presence marks a finished run
FAILED_FILE = "failed.json"

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
    replications: int = 20
    #: seeds are base_seed, base_seed + 1, ... in every cell (common random numbers)
    base_seed: int = 0
    #: cells run in parallel (joblib processes); 1 runs them one after another
    workers: int = 2
    out_dir: str = "results/experiments"
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


def sort_key(value) -> tuple:
    """Numbers in numeric order before anything else in text order."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))
