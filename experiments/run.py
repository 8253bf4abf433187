"""Command line for one simulation: `tased-sim scenario=top_down town=sokol seed=7`.

Hydra composes configs/config.yaml with the chosen presets and overrides; the model runs;
the run directory receives the per-step table, the firm table, the resolved config and
run.json (seed, version, summary). Bad input stops before anything runs, with one line naming
the field and what it accepts, exit code 2 and no output directory.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments.output import one_line, simulate, summary_line, write_run
from simulation.config import ConfigError
from simulation.presets import CONFIG_DIR, compose_config, register_schema, to_model_config

CONFIG_PATH = str(CONFIG_DIR)


def check_arguments(argv: list[str]) -> None:
    """Compose and validate the command line's config before Hydra creates any directory."""
    if any(a in ("-m", "--multirun") for a in argv):
        return  # each job of a sweep validates its own config
    if any(a.startswith("-") for a in argv):
        return  # --help, --cfg and other Hydra flags
    overrides = [a for a in argv if not a.lstrip("+~").startswith("hydra")]
    try:
        to_model_config(compose_config(overrides))
    except Exception as err:  # Hydra's own composition errors and ours, as one line
        print(f"error: {one_line(err)}", file=sys.stderr)
        sys.exit(2)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="config")
def run_one(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        model_cfg = to_model_config(cfg)
    except ConfigError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        sys.exit(2)
    start = time.perf_counter()
    model_df, firm_df = simulate(model_cfg)
    meta = write_run(out_dir, model_cfg, model_df, firm_df, time.perf_counter() - start)
    print(summary_line(meta))
    print(f"output: {out_dir}")


def main() -> None:
    register_schema()
    check_arguments(sys.argv[1:])
    run_one()


if __name__ == "__main__":
    main()
