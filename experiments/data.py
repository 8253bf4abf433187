"""A sweep directory read into tables: `collect(DIR) -> SweepData`.

- `table`: one row per run x step; columns cell, every swept parameter (by its dotted name,
  e.g. `cluster.support_end_step`), scenario, town, seed, step, every output;
- `summary`: one row per finished run: the final step's outputs and the per-run summaries
  of `SUMMARY_OUTPUTS` (net new jobs, cumulative public cost by level and instrument, shock
  and support metrics);
- `failures`: one row per failed run (cell, seed, error).

Works on any sweep directory, including one whose sweep failed or was interrupted: finished
runs (run.json present) are read, failed runs listed, unfinished ones counted (`not_run`).
Only the runs of the design in sweep.json (its cells and seeds) are read, and each finished
run is verified (experiments.output.verify_run) against its folder, the cell's config hash in
sweep.json and the checksums of its files: a corrupt run or a run of another cell, seed or
configuration is left out of the tables and listed in `left_out` and `failures`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.layout import (FAILED_FILE, MANIFEST, MODEL_TABLE, RUN_FILE,
                                RUNS_DIR, SCENARIO_ORDER, ExperimentSettings, sort_key)
from experiments.output import read_json, verify_run
from simulation.fiscal import INSTRUMENTS, LEVELS
from simulation.outputs import BY_NAME, Output

ID_COLUMNS = ["cell", "scenario", "town", "seed"]

#: per-run summaries (summary.csv) besides each output's final value; with the model's
#: outputs (simulation.outputs) they are everything a report labels
SUMMARY_OUTPUTS: tuple[Output, ...] = (
    Output("non_cfe_jobs_change", "Net new jobs outside the CFE", "persons",
           "final minus initial non_cfe_jobs"),
    Output("cfe_share_change", "Change in CFE share", "share", "final minus initial cfe_share"),
    Output("employment_entropy_change", "Change in employment entropy", "nats",
           "final minus initial employment_entropy"),
    Output("public_cost", "Cumulative public cost", "mln RUB",
           "cumulative outlays plus tax expenditures at the final quarter"),
    *(Output(f"cost_{level}", f"Public cost, {level}", "mln RUB",
             f"cumulative {level} outlays plus tax expenditures") for level in LEVELS),
    *(Output(f"cost_{inst}", f"Cost of {inst.replace('_', ' ')}", "mln RUB",
             f"cumulative outlays on {inst.replace('_', ' ')}") for inst in INSTRUMENTS),
    Output("cost_tax_expenditure", "Tax expenditures, cumulative", "mln RUB",
           "cumulative revenue forgone through TASED rates"),
    Output("revenue_cumulative", "Tax revenue, cumulative", "mln RUB",
           "cumulative tax revenue collected"),
    Output("late_members", "Cluster size (mean of the last quarters)", "firms",
           "mean members over the last late_window quarters"),
    Output("late_member_diffusion", "Members that innovated or adopted in the last year "
           "(mean of the last quarters)", "share of members",
           "mean member_diffusion over the last late_window quarters"),
    Output("late_firm_diffusion", "Firms that innovated or adopted in the last year "
           "(mean of the last quarters)", "share of firms",
           "mean firm_diffusion over the last late_window quarters"),
    Output("unemployment_pre_shock", "Unemployment before the shock", "share of labour force",
           "mean unemployment in the pre_shock_quarters before a CFE shock"),
    Output("unemployment_peak", "Unemployment peak after the shock", "share of labour force",
           "highest unemployment from the shock on"),
    Output("unemployment_peak_rise", "Rise of unemployment to its peak", "share of labour force",
           "peak minus pre-shock unemployment"),
    Output("recovery_quarters", "Recovery time after the shock", "quarters",
           "quarters from the shock until unemployment is back within recovery_tolerance of "
           "its pre-shock level; empty if never"),
    Output("recovered", "Recovered within the horizon", "share of runs",
           "1 if unemployment recovered"),
    Output("members_at_support_end", "Cluster members when support ends", "firms",
           "members in the quarter public support ends"),
    Output("ties_at_support_end", "Ties when support ends", "ties",
           "ties in the quarter public support ends"),
    Output("cmc_at_support_end", "CMC exists when support ends", "share of runs",
           "1 if a CMC exists in the quarter public support ends"),
    Output("members_retained", "Members kept after support ends",
           "share of members at the end", "final members / members when support ends"),
    Output("cmc_founded", "A CMC was founded", "share of runs",
           "1 if a cluster management company existed at some quarter"),
    Output("cmc_first_quarter", "Quarter the first CMC appeared", "quarter",
           "first quarter with a CMC; empty if none"),
    Output("cluster_joins_total", "Firms that joined the cluster", "firms",
           "joins over the run (founders included)"),
    Output("cluster_leaves_total", "Members that left the cluster", "firms",
           "members that left over the run"),
)


def describe(name: str) -> Output | None:
    """The registered output or per-run summary of this name, if any."""
    return BY_NAME.get(name) or _SUMMARY_BY_NAME.get(name)


_SUMMARY_BY_NAME = {o.name: o for o in SUMMARY_OUTPUTS}

#: defaults of the per-run summaries; an experiment's `options` may override them
SUMMARY_DEFAULTS = {
    "late_window": 8,  # quarters averaged for "late" cluster size and diffusion
    "pre_shock_quarters": 4,  # quarters before the shock that define normal unemployment
    "recovery_tolerance": 0.01,  # recovered when unemployment is within this of normal
}


@dataclass
class SweepData:
    sweep_dir: Path
    manifest: dict
    settings: dict
    table: pd.DataFrame
    summary: pd.DataFrame
    failures: pd.DataFrame
    cells: list  # finished cells, in display order
    params: list  # parameter columns (swept overrides other than scenario and town)
    varying: list  # the swept parameters (town included) that take more than one value
    cell_params: dict  # cell -> {param: value} (town included when it was overridden)
    cell_scenario: dict  # cell -> scenario
    configs: dict = field(default_factory=dict)  # (cell, seed) -> resolved config
    versions: list = field(default_factory=list)  # model versions of the finished runs
    left_out: list = field(default_factory=list)  # (cell/seed, reason): corrupt or foreign
    not_run: int = 0  # runs of the design with neither run.json nor failed.json

    def option(self, name: str, default: Any = None) -> Any:
        return self.settings.get("options", {}).get(name, SUMMARY_DEFAULTS.get(name, default))


# --------------------------------------------------------------------------- per-run summaries


def run_metrics(df: pd.DataFrame, config: dict, options: dict) -> dict[str, float]:
    """Final-step outputs plus the per-run summaries of the reports."""
    opts = {**SUMMARY_DEFAULTS, **options}
    df = df.sort_values("step")
    first, last = df.iloc[0], df.iloc[-1]
    out = {c: float(last[c]) for c in df.columns
           if c not in ID_COLUMNS and c != "step" and pd.api.types.is_numeric_dtype(df[c])}
    out["non_cfe_jobs_change"] = float(last["non_cfe_jobs"] - first["non_cfe_jobs"])
    out["cfe_share_change"] = float(last["cfe_share"] - first["cfe_share"])
    out["employment_entropy_change"] = float(last["employment_entropy"]
                                             - first["employment_entropy"])
    out["public_cost"] = float(last["public_cost_cumulative"])
    for level in LEVELS:
        out[f"cost_{level}"] = float(df[f"spend_{level}"].sum()
                                     + df[f"tax_expenditure_{level}"].sum())
    for inst in INSTRUMENTS:
        out[f"cost_{inst}"] = float(df[f"spend_{inst}"].sum())
    out["cost_tax_expenditure"] = float(df["tax_expenditure_total"].sum())
    out["revenue_cumulative"] = float(df["revenue_total"].sum())
    late = df.tail(int(opts["late_window"]))
    out["late_members"] = float(late["members"].mean())
    out["late_member_diffusion"] = (float(late["member_diffusion"].mean())
                                    if out["late_members"] > 0 else math.nan)
    out["late_firm_diffusion"] = float(late["firm_diffusion"].mean())
    exists = df["cmc_exists"].to_numpy() > 0
    out["cmc_founded"] = float(exists.any())
    out["cmc_first_quarter"] = float(df["step"].to_numpy()[exists][0]) if exists.any() \
        else math.nan
    out["cluster_joins_total"] = float(df["cluster_joins"].sum())
    out["cluster_leaves_total"] = float(df["cluster_leaves"].sum())
    out.update(_shock_metrics(df, config, opts))
    out.update(_support_metrics(df, config))
    return out


def _shock_metrics(df: pd.DataFrame, config: dict, opts: dict) -> dict[str, float]:
    """Unemployment before, at the peak after, and recovery time from a CFE demand shock."""
    names = ["unemployment_pre_shock", "unemployment_peak", "unemployment_peak_rise",
             "recovery_quarters", "recovered"]
    shock = int(config.get("shock", {}).get("step", -1))
    if shock < 1:
        return dict.fromkeys(names, math.nan)
    u = df.set_index("step")["unemployment_rate"]
    pre_steps = [s for s in range(shock - int(opts["pre_shock_quarters"]), shock) if s in u.index]
    pre = float(u.loc[pre_steps].mean()) if pre_steps else float(u.iloc[0])
    after = u[u.index >= shock]
    peak_step = int(after.idxmax())
    peak = float(after.max())
    back = after[(after.index >= peak_step) & (after <= pre + float(opts["recovery_tolerance"]))]
    recovered = not back.empty
    return {"unemployment_pre_shock": pre, "unemployment_peak": peak,
            "unemployment_peak_rise": peak - pre,
            "recovery_quarters": float(back.index[0] - shock) if recovered else math.nan,
            "recovered": float(recovered)}


def _support_metrics(df: pd.DataFrame, config: dict) -> dict[str, float]:
    """The cluster when public support ends (step T) and what is left at the end."""
    names = ["members_at_support_end", "ties_at_support_end", "cmc_at_support_end",
             "members_retained"]
    cluster = config.get("cluster", {})
    end = int(cluster.get("support_end_step", -1))
    rows = df.set_index("step")
    if cluster.get("founder", "nobody") == "nobody" or end not in rows.index \
            or end >= int(rows.index.max()):
        return dict.fromkeys(names, math.nan)
    at = rows.loc[end]
    final = rows.iloc[-1]
    return {"members_at_support_end": float(at["members"]),
            "ties_at_support_end": float(at["ties"]),
            "cmc_at_support_end": float(at["cmc_exists"]),
            "members_retained": (float(final["members"] / at["members"])
                                 if at["members"] > 0 else math.nan)}


# --------------------------------------------------------------------------- collect


def settings_of(manifest: dict) -> dict:
    base = dataclasses.asdict(ExperimentSettings())
    base.update(manifest.get("experiment", {}))
    return base


def read_sweep_manifest(sweep_dir: Path) -> dict:
    """sweep.json with the design and its identity; ValueError naming the file if unusable."""
    path = Path(sweep_dir) / MANIFEST
    again = ("re-run the sweep's command: it writes sweep.json anew and verifies every "
             "finished run")
    if not path.is_file():
        raise ValueError(f"{path} is missing; {again}")
    try:
        manifest = read_json(path)
    except OSError as err:
        raise ValueError(f"{path} cannot be read ({err.strerror})") from None
    except ValueError as err:
        raise ValueError(f"{path.parent}/{err}; {again}") from None
    identity = manifest.get("identity")
    cells = identity.get("cells") if isinstance(identity, dict) else None
    if not isinstance(cells, dict) or not all(isinstance(v, dict) and isinstance(
            v.get("hash"), str) for v in cells.values()):
        raise ValueError(f"{path} has no identity of its cells (written by an older version, "
                         f"or edited): re-run the sweep into a new directory")
    seeds = manifest.get("seeds")
    if not isinstance(seeds, list) or not all(isinstance(x, int) and not isinstance(x, bool)
                                              for x in seeds):
        raise ValueError(f"{path}: seeds must be a list of integers")
    if not isinstance(manifest.get("experiment"), dict):
        raise ValueError(f"{path}: experiment must be a mapping of the experiment settings")
    return manifest


def collect(sweep_dir: Path) -> SweepData:
    sweep_dir = Path(sweep_dir)
    manifest = read_sweep_manifest(sweep_dir)
    settings = settings_of(manifest)
    design = manifest["identity"]["cells"]
    design_seeds = set(manifest["seeds"])
    cell_params: dict[str, dict] = {
        cell: {k: v for k, v in (info.get("params") or {}).items() if k != "scenario"}
        for cell, info in design.items()}
    cell_scenario: dict[str, str] = {}
    opts = settings.get("options", {})
    frames, rows, failures, configs, versions = [], [], [], {}, set()
    left_out: list[tuple[str, str]] = []
    recorded = 0
    for run_dir in sorted((sweep_dir / RUNS_DIR).glob("*/seed*")):
        cell = run_dir.parent.name
        match = re.fullmatch(r"seed(\d+)", run_dir.name)
        if cell not in design or not match or int(match[1]) not in design_seeds \
                or not run_dir.is_dir():
            continue  # not of this sweep's design (an earlier design's seeds, or stray)
        seed = int(match[1])
        name = f"{cell}/seed{seed}"
        if (run_dir / RUN_FILE).exists():
            recorded += 1
            check = verify_run(run_dir, cell, seed, design[cell]["hash"])
            meta = check.meta or {}
            if check.status == "ok":
                try:
                    df = pd.read_parquet(run_dir / MODEL_TABLE)
                    missing = [c for c in ("step", *ID_COLUMNS[1:]) if c not in df.columns]
                    if missing or df.empty:
                        raise ValueError(f"it lacks the column(s) {', '.join(missing)}"
                                         if missing else "it has no rows")
                    metrics = run_metrics(df, meta["config"], opts)
                except Exception as err:  # any unreadable table: leave the run out
                    why = (f"it lacks the column {err.args[0]!r}" if isinstance(err, KeyError)
                           else _short(err))
                    check.status = "corrupt"
                    check.reason = f"{MODEL_TABLE} cannot be used ({why})"
            if check.status != "ok":
                left_out.append((name, check.reason))
                failures.append({"cell": cell, **cell_params[cell], "town": meta.get("town"),
                                 "scenario": meta.get("scenario"), "seed": seed,
                                 "error_type": ("corrupt run" if check.status == "corrupt"
                                                else "run of another cell, seed or "
                                                     "configuration"),
                                 "error": check.reason})
                continue
            cell_scenario[cell] = meta["scenario"]
            configs[cell, seed] = meta["config"]
            versions.add(str(meta.get("version")))
            frames.append((cell, seed, df, metrics))
        elif (run_dir / FAILED_FILE).exists():
            recorded += 1
            try:
                fail = read_json(run_dir / FAILED_FILE)
            except (OSError, ValueError) as err:
                fail = {"error": f"{FAILED_FILE} cannot be read ({_short(err)})",
                        "error_type": "unreadable record"}
            cell_scenario.setdefault(cell, str(fail.get("scenario") or ""))
            failures.append({"cell": cell, **cell_params[cell], "town": fail.get("town"),
                             "scenario": fail.get("scenario"), "seed": seed,
                             "error_type": fail.get("error_type"), "error": fail.get("error")})
    dims = sorted({k for p in cell_params.values() for k in p})
    params = [k for k in dims if k != "town"]  # the table has its own town column
    finished = sorted({c for c, _, _, _ in frames}, key=lambda c: _cell_key(
        c, cell_scenario, cell_params, dims))
    order = {c: i for i, c in enumerate(finished)}
    frames.sort(key=lambda x: (order[x[0]], x[1]))
    tables = []
    for cell, seed, df, metrics in frames:
        ids = {"cell": cell, **{p: cell_params[cell].get(p) for p in params}}
        t = df.assign(**ids)
        tables.append(t)
        rows.append({**ids, "scenario": df["scenario"].iloc[0], "town": df["town"].iloc[0],
                     "seed": seed, **metrics})
    lead = ["cell", *params, "scenario", "town", "seed", "step"]
    if tables:
        table = pd.concat(tables, ignore_index=True)
        table = table[lead + [c for c in table.columns if c not in lead]]
    else:
        table = pd.DataFrame(columns=lead)
    summary = pd.DataFrame(rows)
    varying = [p for p in dims if len({json.dumps(cell_params[c].get(p), default=str)
                                       for c in finished}) > 1]
    return SweepData(sweep_dir, manifest, settings, table, summary,
                     pd.DataFrame(failures, columns=["cell", *params, "scenario", "town",
                                                     "seed", "error_type", "error"]),
                     finished, params, varying, cell_params, cell_scenario, configs,
                     sorted(versions), left_out, len(design) * len(design_seeds) - recorded)


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _cell_key(cell: str, scenarios: dict, params: dict, names: list) -> tuple:
    scen = scenarios.get(cell, "")
    rank = SCENARIO_ORDER.index(scen) if scen in SCENARIO_ORDER else len(SCENARIO_ORDER)
    return (rank, scen, *(sort_key(params[cell].get(n)) for n in names), cell)
