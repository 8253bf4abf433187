"""Running one configuration and writing its outputs atomically, with the run's identity.

A finished run directory holds model.parquet, firms.parquet, projects.parquet, config.yaml and
run.json, written last. run.json carries the run's identity: cell (in a sweep), scenario, town, seed, the hash
of its resolved configuration (seed left out, so every seed of a cell shares it), the code
version and the SHA-256 of every file it wrote; `verify_run` checks a run against them.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import re
import subprocess
import tempfile
from enum import Enum
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import yaml

from experiments.layout import CONFIG_FILE, FIRM_TABLE, MODEL_TABLE, PROJECT_TABLE, RUN_FILE
from simulation.config import ModelConfig

if TYPE_CHECKING:  # imported when a run starts: a command that stops on bad input is quick
    import pandas as pd

YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available

#: errors of the file system that stop every later write too (a full disk, a read-only mount)
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO}
#: the files whose checksums run.json records
CHECKED_FILES = (MODEL_TABLE, FIRM_TABLE, PROJECT_TABLE, CONFIG_FILE)
#: what run.json must hold to be verified
IDENTITY_KEYS = ("cell", "scenario", "town", "seed", "config_hash", "version", "checksums",
                 "config")


def project_version() -> str:
    try:
        return version("tased-cluster")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"


@lru_cache(maxsize=1)
def source_revision() -> str:
    """The source tree's git commit (and whether it had uncommitted changes), if any."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                             capture_output=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, text=True, capture_output=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"git {sha}" + (" with uncommitted changes" if dirty else "")


def one_line(err: BaseException) -> str:
    """An error message and its causes on one line (Hydra's messages span several)."""
    texts = []
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        text = str(err).split("Config search path")[0].strip()
        if isinstance(err, OSError) and err.filename is not None and err.strerror:
            text = f"{err.filename}: {err.strerror}"
        if text and text not in texts:
            texts.append(text)
        err = err.__cause__ or err.__context__
    parts = [p.strip().rstrip(".:") for t in texts for p in t.splitlines() if p.strip()
             and not p.strip().startswith(("object_type", "To append", "reference_type",
                                           "invalid literal", "Either remove",
                                           "Or add a second"))
             and "$VALUE" not in p and p.strip() != "None"]
    # Hydra names the field last ("...; full_key: output.firm_steps[1]"): name it first
    keys = [p[len("full_key: "):] for p in parts if p.startswith("full_key: ")]
    parts = [p for p in parts if not p.startswith("full_key: ")
             and not re.match(r"Error merging override ", p)]
    text = "; ".join(dict.fromkeys(parts)) or "invalid configuration"
    return f"{keys[0]}: {text}" if keys and not text.startswith(keys[0]) else text


def is_disk_error(err: BaseException) -> bool:
    """A write failed for a reason every later write shares (full disk, read-only mount);
    pyarrow reports these as OSError without errno, so its message is read too."""
    if not isinstance(err, OSError):
        return False
    return err.errno in DISK_ERRORS or any(os.strerror(e) in str(err) for e in DISK_ERRORS)


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(config: dict[str, Any]) -> str:
    """Hash of a resolved configuration without its seed: the same for every seed of a cell."""
    data = {k: v for k, v in config.items() if k != "seed"}
    return hashlib.sha256(canonical(data).encode()).hexdigest()[:16]


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_temporary_files(directory: Path) -> None:
    """Remove what an interrupted atomic_write left behind (`.<name>.<random>`)."""
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") and entry.is_file() and any(
                entry.name.startswith(f".{name}.") for name in
                (*CHECKED_FILES, RUN_FILE, "failed.json", "cell.json", "sweep.json",
                 "table.parquet", "summary.csv", "failures.csv", "report.md")):
            entry.unlink(missing_ok=True)


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


class RunTables(NamedTuple):
    """What one run writes: per quarter, per firm (at `output.firm_steps` and the end) and
    per investment project."""

    model: pd.DataFrame
    firms: pd.DataFrame
    projects: pd.DataFrame


PROJECT_COLUMNS = ["kind", "key", "entered", "exited", "sector", "planned_jobs", "project_jobs",
                   "project_capex", "employees", "investment", "resident", "footloose",
                   "tax_forgone"]


def simulate(cfg: ModelConfig) -> RunTables:
    """Run one configuration; return its tables."""
    import pandas as pd

    from simulation import outputs
    from simulation.model import ClusterModel

    model = ClusterModel(cfg)
    model.run()
    return RunTables(pd.DataFrame(model.records), pd.DataFrame(model.firm_records),
                     pd.DataFrame(outputs.project_rows(model), columns=PROJECT_COLUMNS))


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
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as err:
        raise _naming(err, path) from None
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise _naming(err, path) from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _naming(err: OSError, path: Path) -> OSError:
    """The error with the file it concerns (pyarrow's errors name neither file nor errno)."""
    if err.filename is not None and err.errno is not None:
        return err
    code = err.errno or next((e for e in DISK_ERRORS if os.strerror(e) in str(err)), None)
    if code is None:
        return err
    return OSError(code, os.strerror(code), str(path))


def write_run(out_dir: Path, cfg: ModelConfig, tables: RunTables, elapsed: float,
              cell: str | None = None, source: str | None = None) -> dict[str, Any]:
    """Write the run's tables, resolved config and run.json (last, as the completion mark).

    run.json holds the run's identity: `cell` (None outside a sweep), scenario, town, seed,
    `config_hash` (config_hash of the resolved configuration), the code version and source
    revision, and the SHA-256 of every file written before it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    config = config_dict(cfg)
    meta = {"cell": cell, "scenario": cfg.scenario, "town": cfg.town.name, "seed": cfg.seed,
            "steps": cfg.steps, "config_hash": config_hash(config),
            "version": project_version(),
            "source": source_revision() if source is None else source,
            "elapsed_seconds": elapsed, "summary": summarise(tables.model)}
    model_df = tables.model.assign(scenario=cfg.scenario, town=cfg.town.name, seed=cfg.seed)
    atomic_write(out_dir / MODEL_TABLE, lambda p: model_df.to_parquet(p, index=False))
    atomic_write(out_dir / FIRM_TABLE, lambda p: tables.firms.to_parquet(p, index=False))
    atomic_write(out_dir / PROJECT_TABLE, lambda p: tables.projects.to_parquet(p, index=False))
    text = yaml.dump(config, Dumper=YAML_DUMPER, sort_keys=False)
    atomic_write(out_dir / CONFIG_FILE, lambda p: Path(p).write_text(text))
    meta["checksums"] = {name: file_checksum(out_dir / name) for name in CHECKED_FILES}
    meta["config"] = config
    atomic_write(out_dir / RUN_FILE, lambda p: Path(p).write_text(json.dumps(meta, indent=1)))
    return meta


@dataclasses.dataclass
class RunCheck:
    """What verify_run found: "ok", "corrupt" (unreadable or changed since it was written)
    or "mismatch" (a sound run that does not belong where it is)."""

    status: str
    reason: str = ""
    meta: dict | None = None


def read_json(path: Path) -> dict:
    """A JSON object from a file; ValueError naming the file if it is not one."""
    try:
        data = json.loads(Path(path).read_text())
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not valid JSON (not text)") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name} is not valid JSON ({err.msg} at line {err.lineno})") \
            from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def verify_run(run_dir: Path, cell: str | None, seed: int,
               expected_hash: str | None) -> RunCheck:
    """Check a finished run against its own record, its folder and the sweep's config hash."""
    try:
        meta = read_json(run_dir / RUN_FILE)
    except OSError as err:
        return RunCheck("corrupt", f"{RUN_FILE} cannot be read ({err.strerror})")
    except ValueError as err:
        return RunCheck("corrupt", str(err))
    missing = [k for k in IDENTITY_KEYS if k not in meta]
    if missing:
        return RunCheck("corrupt", f"{RUN_FILE} lacks {', '.join(missing)} (incomplete, or "
                                   f"written by an older version)")
    config, sums = meta["config"], meta["checksums"]
    if not isinstance(config, dict) or not isinstance(sums, dict) or \
            config_hash(config) != meta["config_hash"] or config.get("seed") != meta["seed"]:
        return RunCheck("corrupt", f"{RUN_FILE}: its configuration does not match its "
                                   f"config_hash (changed after it was written)")
    for name in CHECKED_FILES:
        path = run_dir / name
        if not path.is_file():
            return RunCheck("corrupt", f"{name} is missing")
        try:
            if file_checksum(path) != sums.get(name):
                return RunCheck("corrupt", f"{name} does not match its checksum in "
                                           f"{RUN_FILE} (truncated or changed)")
        except OSError as err:
            return RunCheck("corrupt", f"{name} cannot be read ({err.strerror})")
    if cell is not None and meta["cell"] != cell:
        return RunCheck("mismatch", f"{RUN_FILE} is a run of cell {meta['cell']!r}, not of "
                                    f"its folder's cell", meta)
    if meta["seed"] != seed:
        return RunCheck("mismatch", f"{RUN_FILE} is a run of seed {meta['seed']}, not of its "
                                    f"folder's seed {seed}", meta)
    if expected_hash is not None and meta["config_hash"] != expected_hash:
        return RunCheck("mismatch", f"its configuration (hash {meta['config_hash']}) is not "
                                    f"this sweep's (hash {expected_hash})", meta)
    return RunCheck("ok", "", meta)
