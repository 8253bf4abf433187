"""Command line for one simulation: `tased-sim scenario=top_down town=sokol seed=7`.

Hydra composes configs/config.yaml with the chosen presets and overrides; the model runs;
the run directory receives the per-step table, the firm table, the resolved config and
run.json (seed, version, config hash, checksums, summary).

Bad input stops before anything runs, with one line naming the field and what it accepts,
exit code 2 and no output directory: every override and (with -m) every job's configuration
is composed and validated, and the run directory must be non-empty and writable. A directory
that already holds a finished run is refused unless `--overwrite` is given. A run that fails
exits 1 and leaves nothing behind (the run directory is removed if this command created it).
"""

from __future__ import annotations

import copy
import shutil
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.cli import (RunFailure, UsageError, check_flags, check_output_dir, compose,
                             debug_requested, expand_jobs, hydra_context, job_configs,
                             parse_overrides, quiet_hydra, quote, resolved, run_command,
                             split_flags)
from experiments.layout import (CONFIG_FILE, FAILED_FILE, FIRM_TABLE, MODEL_TABLE,
                                PROJECT_TABLE, RUN_FILE)
from experiments.output import one_line, simulate, summary_line, write_run
from simulation.config import ConfigError
from simulation.presets import CONFIG_DIR, register_schema, to_model_config

CONFIG_PATH = str(CONFIG_DIR)
OWN_FLAGS = {"--debug", "--overwrite"}


class _State:
    overwrite = False  # --overwrite: replace a finished run in the run directory
    created: Path | None = None  # the run directory, when this command creates it


def _model(cfg: DictConfig, where: str = "") -> None:
    """Validate the model part of a composed config (UsageError naming the field)."""
    data = copy.deepcopy(cfg)
    if "hydra" in data:
        with open_dict(data):
            del data["hydra"]
    try:
        to_model_config(data)
    except ConfigError as err:
        raise UsageError(f"{err}{where}") from None
    except Exception as err:  # interpolation and type errors of OmegaConf
        raise UsageError(f"{one_line(err)}{where}") from None


def check_arguments(argv: list[str]) -> list[str]:
    """Compose and validate the command line's config before Hydra creates any directory;
    returns the arguments for Hydra, with the checked output directory pinned."""
    overrides, info, multirun = check_flags(argv, OWN_FLAGS)
    if info:  # --help, --cfg, --info: Hydra prints and runs nothing
        return argv
    with hydra_context():
        parsed = parse_overrides(overrides)
        plain = [o.input_line for o in parsed if not o.is_sweep_override()]
        if multirun:
            cfg = compose("config", plain, hydra_node=True)
            jobs = expand_jobs(parsed)
            for job, job_cfg in job_configs("config", jobs):
                _model(job_cfg, f" (job {' '.join(job) or 'with no overrides'}; nothing was run)")
            key = "hydra.sweep.dir"
            out = check_output_dir(resolved(cfg, key), key)
            subdir = OmegaConf.to_container(cfg.hydra.sweep)["subdir"]  # unresolved
            if subdir == "${hydra.job.num}" and not _State.overwrite:
                for i in range(len(jobs)):
                    _refuse_finished(out / str(i), key)
        else:
            if len(plain) != len(parsed):
                raise UsageError(f"{next(o.input_line for o in parsed if o.is_sweep_override())}"
                                 f": a sweep needs -m (tased-sim -m ...) or tased-experiment")
            cfg = compose("config", plain, hydra_node=True)
            _model(cfg)
            key = "hydra.run.dir"
            out = check_output_dir(resolved(cfg, key), key)
            _refuse_foreign(out, key)
            if not _State.overwrite:
                _refuse_finished(out, key)
            if not out.exists():
                _State.created = out
    keep = [a for a in argv if not a.startswith(f"{key}=")]
    return [*keep, f"{key}={quote(str(out.resolve()))}"]


#: what a run directory holds (Hydra's record and log, the run's files)
RUN_ENTRIES = {".hydra", MODEL_TABLE, FIRM_TABLE, PROJECT_TABLE, CONFIG_FILE, RUN_FILE,
               FAILED_FILE}


def _refuse_foreign(run_dir: Path, key: str) -> None:
    """A run is written into a new or empty directory, or over a run: never among other
    files (e.g. `hydra.run.dir=.` in a repository)."""
    if not run_dir.is_dir():
        return
    other = sorted(p.name for p in run_dir.iterdir() if p.name not in RUN_ENTRIES
                   and not p.name.endswith(".log") and not p.name.startswith("."))
    if other:
        raise UsageError(f"{key}: {run_dir} is not empty ({', '.join(other[:4])}) and is not a "
                         f"run directory; give a new or empty directory")


def _refuse_finished(run_dir: Path, key: str) -> None:
    if (run_dir / RUN_FILE).exists():
        raise UsageError(f"{key}: {run_dir} holds a finished run; pass --overwrite to replace "
                         f"it, or give another directory")


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="config")
def run_one(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        model_cfg = to_model_config(cfg)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    if (out_dir / RUN_FILE).exists():
        if not _State.overwrite:
            raise UsageError(f"{out_dir} holds a finished run; pass --overwrite to replace it, "
                             f"or give another directory")
        (out_dir / RUN_FILE).unlink()  # the old run is no longer finished from here on
    start = time.perf_counter()
    try:
        tables = simulate(model_cfg)
    except Exception as err:
        raise RunFailure(f"the run failed: {type(err).__name__}: {one_line(err)}") from err
    meta = write_run(out_dir, model_cfg, tables, time.perf_counter() - start)
    print(summary_line(meta))
    print(f"output: {out_dir}")


def _run(argv: list[str]) -> int:
    register_schema()
    sys.argv = [sys.argv[0], *check_arguments(argv)]
    try:
        with quiet_hydra():
            run_one()
    except BaseException:
        if _State.created is not None and _State.created.exists():
            shutil.rmtree(_State.created, ignore_errors=True)  # nothing is kept of a failure
        raise
    return 0


def main() -> None:
    argv, flags = split_flags(sys.argv[1:], OWN_FLAGS)
    _State.overwrite = "--overwrite" in flags
    run_command(lambda: _run(argv), debug_requested(flags), "nothing was kept")


if __name__ == "__main__":
    main()
