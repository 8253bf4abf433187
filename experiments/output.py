"""Running one configuration and writing its outputs atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from enum import Enum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from experiments.layout import CONFIG_FILE, FIRM_TABLE, MODEL_TABLE, RUN_FILE

YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available
from simulation.config import ModelConfig
from simulation.model import ClusterModel


def project_version() -> str:
    try:
        return version("tased-cluster")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"


def one_line(err: BaseException) -> str:
    """An error message and its causes on one line (Hydra's messages span several)."""
    texts = []
    while err is not None:
        text = str(err).split("Config search path")[0].strip()
        if text and text not in texts:
            texts.append(text)
        err = err.__cause__ or err.__context__
    parts = [p.strip().rstrip(".:") for t in texts for p in t.splitlines() if p.strip()
             and not p.strip().startswith(("object_type", "To append", "reference_type",
                                           "invalid literal"))
             and "$VALUE" not in p]
    return "; ".join(dict.fromkeys(parts)) or "invalid configuration"


def config_dict(cfg: ModelConfig) -> dict[str, Any]:
    """The resolved config as plain data (Enums as their values)."""
    def plain(x: Any) -> Any:
        if isinstance(x, Enum):
            return x.value
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, list):
            return [plain(v) for v in x]
        return x
    return plain(dataclasses.asdict(cfg))


def simulate(cfg: ModelConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one configuration; return the per-step and the firm-level tables."""
    model = ClusterModel(cfg)
    model.run()
    return pd.DataFrame(model.records), pd.DataFrame(model.firm_records)


def summarise(model_df: pd.DataFrame) -> dict[str, float]:
    first, last = model_df.iloc[0], model_df.iloc[-1]
    return {
        "cfe_share": float(last["cfe_share"]),
        "employment_entropy": float(last["employment_entropy"]),
        "members": float(last["members"]),
        "cmc_exists": float(last["cmc_exists"]),
        "residents": float(last["residents"]),
        "residents_max": float(model_df["residents"].max()),
        "non_cfe_jobs_change": float(last["non_cfe_jobs"] - first["non_cfe_jobs"]),
        "unemployment_rate": float(last["unemployment_rate"]),
        "population": float(last["population"]),
        "public_cost": float(last["public_cost_cumulative"]),
    }


def summary_line(meta: dict[str, Any]) -> str:
    s = meta["summary"]
    return (f"{meta['scenario']} / {meta['town']} / seed {meta['seed']}: "
            f"CFE share {s['cfe_share']:.3f}, employment entropy {s['employment_entropy']:.3f}, "
            f"cluster members {s['members']:.0f}, TASED residents {s['residents']:.0f} "
            f"(max {s['residents_max']:.0f}), non-CFE jobs {s['non_cfe_jobs_change']:+.0f}, "
            f"unemployment {s['unemployment_rate']:.1%}, "
            f"public cost {s['public_cost']:,.0f} mln RUB")


def atomic_write(path: Path, writer) -> None:
    """Write through `writer(temporary path)`, then move into place: a reader sees the old
    file or the whole new one, never a part."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(out_dir: Path, cfg: ModelConfig, model_df: pd.DataFrame,
              firm_df: pd.DataFrame, elapsed: float) -> dict[str, Any]:
    """Write the run's tables, resolved config and run.json (last, as the completion mark)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"scenario": cfg.scenario, "town": cfg.town.name, "seed": cfg.seed,
            "steps": cfg.steps, "version": project_version(), "elapsed_seconds": elapsed,
            "summary": summarise(model_df)}
    model_df = model_df.assign(scenario=cfg.scenario, town=cfg.town.name, seed=cfg.seed)
    atomic_write(out_dir / MODEL_TABLE, lambda p: model_df.to_parquet(p, index=False))
    atomic_write(out_dir / FIRM_TABLE, lambda p: firm_df.to_parquet(p, index=False))
    text = yaml.dump(config_dict(cfg), Dumper=YAML_DUMPER, sort_keys=False)
    atomic_write(out_dir / CONFIG_FILE, lambda p: Path(p).write_text(text))
    meta["config"] = config_dict(cfg)
    atomic_write(out_dir / RUN_FILE, lambda p: Path(p).write_text(json.dumps(meta, indent=1)))
    return meta
