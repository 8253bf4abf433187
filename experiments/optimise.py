"""Policy optimisation under a budget: `tased-experiment experiment=optimise`.

Optuna 5 searches the lever settings of `experiment.options.levers` (ask/tell, NSGA-II or
multi-objective TPE) for two objectives: the outcome `options.objective` (net new non-CFE jobs
or diversification, maximised) against `options.cost` (cumulative public cost, minimised),
optionally under a budget cap (`options.budget`, a constraint: cost <= budget). Every trial
runs on the experiment's seeds, the same for every trial and for the six scenarios, which are
run too so the report can place them against the Pareto front (common random numbers: a
scenario and a trial on one seed share the town and the demand path).

Runs are evaluated in this process's own pool of `experiment.workers` processes (no Hydra
job per trial). The study lives in `study.db` (SQLite) in the experiment's directory and every
finished run is appended to `evaluations.jsonl`; re-running the command resumes: completed
trials are kept and never evaluated again, a trial a kill interrupted is recorded as failed and
its lever values are tried again first, and `options.trials` may be raised to extend a study.
The report (`report.md`, `trials.csv`, `scenarios.csv`, `figures/`) is written at the end.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from experiments.cli import RunFailure, UsageError, compose, hydra_context, process_alive
from experiments.layout import FIGURES, REPORT, available_cpus
from experiments.output import atomic_write, config_dict, one_line
from experiments.sensitivity import Factor, parse_factors, scenario_values
from experiments.stats import mean_ci, paired_difference
from simulation.config import ConfigError
from simulation.presets import options as preset_options

STUDY_FILE = "study.db"
STUDY_NAME = "optimise"
EVALUATIONS = "evaluations.jsonl"
LOCK_FILE = "optimise.pid"
TRIALS_FILE = "trials.csv"
SCENARIOS_FILE = "scenarios.csv"
#: outcomes kept for every run (besides the objective and the cost)
KEPT = ("non_cfe_jobs_change", "employment_entropy", "cfe_share", "public_cost", "cmc_exists",
        "members", "unemployment_rate")
OBJECTIVES = ("non_cfe_jobs_change", "employment_entropy")
#: the `scenario` label of a trial's runs (a label only: its levers say what it does)
TRIAL_LABEL = "optimised"
SAMPLERS = ("nsga2", "motpe")


# --------------------------------------------------------------------------- settings


def check_options(settings: dict) -> dict:
    """The optimisation's options, checked; ValueError naming the field."""
    o = settings.get("options", {})
    where = "experiment.options"
    objective = o.get("objective", "non_cfe_jobs_change")
    if objective not in OBJECTIVES:
        raise ValueError(f"{where}.objective: {objective!r} is not accepted; accepted: "
                         f"{', '.join(OBJECTIVES)}")
    if o.get("cost", "public_cost") != "public_cost":
        raise ValueError(f"{where}.cost: only public_cost (cumulative public cost) is accepted")
    trials = o.get("trials", 60)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"{where}.trials: {trials!r} is not accepted; give an integer of at "
                         f"least 1")
    sampler = o.get("sampler", "nsga2")
    if sampler not in SAMPLERS:
        raise ValueError(f"{where}.sampler: {sampler!r} is not accepted; accepted: "
                         f"{', '.join(SAMPLERS)}")
    population = o.get("population", 16)
    if isinstance(population, bool) or not isinstance(population, int) or population < 2:
        raise ValueError(f"{where}.population: {population!r} is not accepted; give an "
                         f"integer of at least 2")
    budget = o.get("budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not budget > 0):
        raise ValueError(f"{where}.budget: {budget!r} is not accepted; give a positive number "
                         f"(mln RUB) or null for no cap")
    seed = o.get("study_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"{where}.study_seed: {seed!r} is not accepted; give an integer of at "
                         f"least 0")
    scenarios = o.get("scenarios", preset_options("scenario"))
    if not isinstance(scenarios, list) or any(s not in preset_options("scenario")
                                              for s in scenarios):
        raise ValueError(f"{where}.scenarios: {scenarios!r} is not accepted; give a list of "
                         f"{', '.join(preset_options('scenario'))}")
    levers = parse_factors(o.get("levers"), f"{where}.levers")
    return {"objective": objective, "cost": "public_cost", "trials": trials,
            "sampler": sampler, "population": population,
            "budget": None if budget is None else float(budget), "study_seed": seed,
            "scenarios": list(scenarios), "levers": levers}


def distributions(levers: list[Factor]) -> dict:
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution)

    out = {}
    for f in levers:
        if f.levels:
            out[f.name] = CategoricalDistribution(list(f.levels))
        elif f.integer:
            out[f.name] = IntDistribution(int(f.lo), int(f.hi))
        else:
            out[f.name] = FloatDistribution(f.lo, f.hi)
    return out


def signature(opts: dict, seeds: list[int], base: dict) -> str:
    """What a study's trials depend on: a resumed study must have the same (the number of
    trials may change)."""
    from experiments.output import canonical, config_hash

    levers = {f.name: [f.lo, f.hi, list(f.levels), f.integer] for f in opts["levers"]}
    return canonical({"objective": opts["objective"], "cost": opts["cost"],
                      "budget": opts["budget"], "sampler": opts["sampler"],
                      "population": opts["population"], "study_seed": opts["study_seed"],
                      "levers": levers, "seeds": seeds, "base": config_hash(base)})


# --------------------------------------------------------------------------- evaluation


def with_values(base: dict, values: dict[str, Any]) -> dict:
    """A copy of a plain config with dotted keys set."""
    out = json.loads(json.dumps(base))
    for key, value in values.items():
        node = out
        *path, last = key.split(".")
        for part in path:
            node = node[part]
        node[last] = value
    return out


def evaluate(task: tuple) -> dict:
    """One run (in a worker process): (tag, seed, plain config) -> the kept outcomes."""
    from experiments.data import run_metrics
    from experiments.output import simulate
    from simulation.config import build

    tag, seed, data = task
    cfg = build(dict(data, seed=seed))
    start = time.perf_counter()
    df = simulate(cfg).model
    metrics = run_metrics(df, config_dict(cfg), {})
    return {"tag": tag, "seed": seed, "seconds": round(time.perf_counter() - start, 3),
            **{k: metrics[k] for k in KEPT}}


def _start_worker() -> None:
    from experiments.jobs import watch_main_process

    watch_main_process()


class Pool:
    """A bounded pool of worker processes (spawned: no fork of a threaded parent), or this
    process itself with one worker."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = None
        if workers > 1:
            from experiments.jobs import MAIN_PID

            os.environ[MAIN_PID] = str(os.getpid())  # workers exit when this process dies
            self.executor = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker)

    def submit(self, task: tuple) -> Future:
        if self.executor is not None:
            return self.executor.submit(evaluate, task)
        future: Future = Future()
        try:
            future.set_result(evaluate(task))
        except Exception as err:  # noqa: BLE001 - handed to the caller like a worker's error
            future.set_exception(err)
        return future

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)


class Log:
    """evaluations.jsonl: one line per finished run, appended (a kill loses at most the runs
    in flight)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:  # a line cut by a kill
                continue
        return out

    def append(self, record: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


# --------------------------------------------------------------------------- the study


def open_study(path: Path, opts: dict, sig: str, directions: list[str]):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if opts["sampler"] == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(population_size=opts["population"],
                                                seed=opts["study_seed"])
    else:
        sampler = optuna.samplers.TPESampler(seed=opts["study_seed"], multivariate=False,
                                             n_startup_trials=min(10, opts["trials"]))
    study = optuna.create_study(study_name=STUDY_NAME, storage=f"sqlite:///{path.resolve()}",
                                directions=directions, sampler=sampler, load_if_exists=True)
    old = study.user_attrs.get("signature")
    if old is None:
        study.set_user_attr("signature", sig)
    elif old != sig:
        raise UsageError(f"{path} holds a study of other settings (levers, objective, budget, "
                         f"sampler, seeds or the base configuration differ); nothing was run. "
                         f"Pass experiment.force_new=true (or --force-new) to move it aside and "
                         f"start afresh, or write elsewhere (experiment.out_dir=DIR)")
    return study


def recover(study) -> int:
    """Trials left RUNNING by a killed process: recorded as failed, their lever values queued
    to be tried again first. Returns how many."""
    from optuna.trial import TrialState

    stale = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
    for t in stale:
        study.tell(t.number, state=TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
    return len(stale)


def complete(study) -> list:
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]


def run_study(study, opts: dict, base: dict, seeds: list[int], pool: Pool, log: Log,
              progress: Callable[[str], None]) -> None:
    """Ask, evaluate on every seed, tell, until `trials` trials are complete."""
    dists = distributions(opts["levers"])
    in_flight: dict[int, dict] = {}  # trial number -> {"trial", "runs", "futures"}
    futures: dict[Future, int] = {}
    done = len(complete(study))
    capacity = max(1, pool.workers)
    started = time.time()
    first_done = done
    try:
        while done < opts["trials"] or in_flight:
            while done + len(in_flight) < opts["trials"] and len(in_flight) < capacity:
                trial = study.ask(dists)
                data = with_values(base, {**trial.params, "scenario": TRIAL_LABEL})
                entry = {"trial": trial, "runs": {}}
                in_flight[trial.number] = entry
                for seed in seeds:
                    futures[pool.submit((trial.number, seed, data))] = trial.number
            finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
            for fut in finished:
                number = futures.pop(fut)
                try:
                    result = fut.result()
                except Exception as err:
                    raise RunFailure(f"trial {number} failed: {one_line(err)}; finished "
                                     f"trials are kept, re-run the command to resume") from err
                log.append({"trial": number, **result})
                entry = in_flight[number]
                entry["runs"][result["seed"]] = result
                if len(entry["runs"]) == len(seeds):
                    _tell(study, entry["trial"], entry["runs"], opts)
                    del in_flight[number]
                    done += 1
                    rate = (time.time() - started) / max(done - first_done, 1)
                    progress(f"[optimise] {done}/{opts['trials']} trials done, elapsed "
                             f"{_clock(time.time() - started)}, ETA "
                             f"{_clock(rate * (opts['trials'] - done))}")
    finally:
        for fut in futures:
            fut.cancel()


def _tell(study, trial, runs: dict, opts: dict) -> None:
    seeds = sorted(runs)
    obj = [runs[s][opts["objective"]] for s in seeds]
    cost = [runs[s][opts["cost"]] for s in seeds]
    for key in KEPT:
        trial.set_user_attr(key, [runs[s][key] for s in seeds])
    trial.set_user_attr("seeds", seeds)
    if opts["budget"] is not None:
        trial.set_constraint("budget", float(np.mean(cost)) - opts["budget"])
    study.tell(trial, [float(np.mean(obj)), float(np.mean(cost))])


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def run_scenarios(opts: dict, base: dict, seeds: list[int], pool: Pool, log: Log,
                  progress: Callable[[str], None]) -> None:
    """The scenarios on the same seeds (each run once: finished runs are in the log)."""
    have = {(r["tag"], r["seed"]) for r in log.read() if "scenario" in r}
    values = scenario_values(opts["scenarios"])
    futures = {}
    for s in opts["scenarios"]:
        data = with_values(base, {k: v for k, v in values[s].items()})
        for seed in seeds:
            if (s, seed) not in have:
                futures[pool.submit((s, seed, data))] = s
    total, n = len(futures), 0
    for fut in list(futures):
        result = fut.result()
        log.append({"scenario": result["tag"], **result})
        n += 1
    if total:
        progress(f"[optimise] the {len(opts['scenarios'])} scenarios on {len(seeds)} seeds: "
                 f"{n} run(s) done")


# --------------------------------------------------------------------------- the front


def pareto_front(objective: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Indices of the points no other point dominates (at least as much objective for at most
    the cost, better in one), by increasing cost."""
    objective, cost = np.asarray(objective, float), np.asarray(cost, float)
    ok = np.flatnonzero(np.isfinite(objective) & np.isfinite(cost))
    front = []
    for i in ok:
        dominated = any((objective[j] >= objective[i]) and (cost[j] <= cost[i]) and
                        ((objective[j] > objective[i]) or (cost[j] < cost[i])) for j in ok)
        if not dominated:
            front.append(i)
    return np.array(sorted(front, key=lambda i: (cost[i], -objective[i])), dtype=int)


def trials_table(study, opts: dict) -> pd.DataFrame:
    rows = []
    for t in complete(study):
        obj = t.user_attrs.get(opts["objective"], [])
        cost = t.user_attrs.get(opts["cost"], [])
        e_obj, e_cost = mean_ci(obj), mean_ci(cost)
        rows.append({"trial": t.number, **{f.name: t.params.get(f.name)
                                          for f in opts["levers"]},
                     "objective": e_obj.mean, "objective_lo": e_obj.lo,
                     "objective_hi": e_obj.hi, "cost": e_cost.mean, "cost_lo": e_cost.lo,
                     "cost_hi": e_cost.hi,
                     "feasible": opts["budget"] is None or e_cost.mean <= opts["budget"],
                     **{k: float(np.mean(t.user_attrs.get(k, [math.nan]))) for k in KEPT},
                     "per_seed_objective": json.dumps(obj), "per_seed_cost": json.dumps(cost),
                     "seeds": json.dumps(t.user_attrs.get("seeds", []))})
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["on_front"] = False
        feasible = frame[frame["feasible"]]
        idx = pareto_front(feasible["objective"].to_numpy(), feasible["cost"].to_numpy())
        frame.loc[feasible.index[idx], "on_front"] = True
    return frame


def scenarios_table(log: Log, opts: dict, seeds: list[int]) -> pd.DataFrame:
    runs = [r for r in log.read() if "scenario" in r and r["seed"] in seeds]
    rows = []
    for s in opts["scenarios"]:
        mine = {r["seed"]: r for r in runs if r["scenario"] == s}
        obj = [mine[k][opts["objective"]] for k in seeds if k in mine]
        cost = [mine[k][opts["cost"]] for k in seeds if k in mine]
        e_obj, e_cost = mean_ci(obj), mean_ci(cost)
        rows.append({"scenario": s, "objective": e_obj.mean, "objective_lo": e_obj.lo,
                     "objective_hi": e_obj.hi, "cost": e_cost.mean, "cost_lo": e_cost.lo,
                     "cost_hi": e_cost.hi, "runs": len(obj),
                     "per_seed_objective": json.dumps({k: mine[k][opts["objective"]]
                                                       for k in seeds if k in mine}),
                     "per_seed_cost": json.dumps({k: mine[k][opts["cost"]]
                                                  for k in seeds if k in mine})})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the command


def run(plan, prepare: Callable) -> int:
    """`tased-experiment experiment=optimise`: check, prepare the directory, run the six
    scenarios and the study (resuming), write the report."""
    try:
        opts = check_options(plan.settings)
    except (ValueError, ConfigError) as err:
        raise UsageError(str(err)) from None
    base = base_config(plan)
    seeds = list(plan.seeds)
    workers = plan.settings["workers"]
    workers = available_cpus() if workers == -1 else int(workers)
    d = plan.sweep_dir
    lock = d / LOCK_FILE
    if lock.exists() and not plan.replace:
        pid = lock.read_text().strip()
        if pid.isdigit() and process_alive(int(pid)):
            raise UsageError(f"another optimisation (pid {pid}) is running in {d}; wait for it "
                             f"or stop it, then run the command again")
    prepare(plan)
    lock.write_text(str(os.getpid()))
    directions = ["maximize", "minimize"]
    sig = signature(opts, seeds, base)
    study = open_study(d / STUDY_FILE, opts, sig, directions)
    log = Log(d / EVALUATIONS)

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    retried = recover(study)
    have = len(complete(study))
    print(f"[optimise] {opts['trials']} trials x {len(seeds)} seeds "
          f"({have} already complete"
          + (f", {retried} interrupted trial(s) tried again" if retried else "")
          + f") and {len(opts['scenarios'])} scenarios, {workers} worker(s) -> {d}",
          file=sys.stderr, flush=True)
    pool = Pool(workers)
    try:
        run_scenarios(opts, base, seeds, pool, log, progress)
        run_study(study, opts, base, seeds, pool, log, progress)
    finally:
        pool.close()
    report = write_report(d, study, opts, seeds, log, plan)
    lock.unlink(missing_ok=True)
    print(f"report: {report}")
    return 0


def base_config(plan) -> dict:
    """The experiment's configuration (town, fixed overrides) as plain data: what every trial
    and scenario starts from."""
    from experiments.jobs import model_config, model_data

    with hydra_context():
        cfg = compose("sweep", [o for o in plan.manifest["overrides"]])
    try:
        return config_dict(model_config(model_data(cfg)))
    except ConfigError as err:
        raise UsageError(str(err)) from None



# --------------------------------------------------------------------------- the report


def write_report(d: Path, study, opts: dict, seeds: list[int], log: Log, plan) -> Path:
    from experiments import plots
    from experiments.analysis import md_table
    from experiments.plots import FigureWriter, fmt, label, lower, unit

    trials = trials_table(study, opts)
    scen = scenarios_table(log, opts, seeds)
    sampler = (f"NSGA-II (population {opts['population']})" if opts["sampler"] == "nsga2"
               else "multi-objective TPE")
    atomic_write(d / TRIALS_FILE, lambda p: trials.to_csv(p, index=False))
    atomic_write(d / SCENARIOS_FILE, lambda p: scen.to_csv(p, index=False))
    fig_dir = d / FIGURES
    writer = FigureWriter(fig_dir, list(plan.settings.get("formats", ["png"])))
    obj, cost = opts["objective"], opts["cost"]
    o_lab, o_unit = label(obj), unit(obj)
    o_low, c_low = lower(o_lab), lower(label(cost))
    front = trials[trials["on_front"]].sort_values("cost") if len(trials) else trials
    out = [f"# Optimise: {plan.manifest.get('town', '')}", "",
           f"**Question.** {plan.settings.get('question', '')}", "", "## Answer", ""]
    if not len(front):
        out += ["No trial has finished yet.", ""]
    else:
        lo, hi = front.iloc[0], front.iloc[-1]
        out.append(
            f"The search ran {len(trials)} trials of lever settings ({opts['sampler']}, "
            f"{len(seeds)} seeds each, the same seeds for every trial and scenario); "
            f"{len(front)} {'lies' if len(front) == 1 else 'lie'} on the Pareto front of "
            f"{o_low} against {c_low}"
            + (f" within the budget of {fmt(opts['budget'])} mln RUB" if opts["budget"] else "")
            + ".")
        out.append("")
        out.append(f"- Cheapest end of the front: trial {int(lo['trial'])}, "
                   f"{c_low} {_ci(lo, 'cost')} mln RUB, {o_low} "
                   f"{_ci(lo, 'objective')} {o_unit}.")
        out.append(f"- Highest {o_low} on the front: trial {int(hi['trial'])}, "
                   f"{_ci(hi, 'objective')} {o_unit} for {_ci(hi, 'cost')} mln RUB.")
        for line in _scenario_lines(trials, front, scen, opts):
            out.append(f"- {line}")
        out += ["", "Intervals are 95% t intervals across seeds; a comparison with a "
                "scenario is paired by seed. Front points are chosen on the seed means, so "
                "their values are slightly optimistic (the winner's curse): re-run a chosen "
                "setting on new seeds (`seed=100`) before relying on it.", ""]
    out += ["## What was run", "",
            f"- Command: `{plan.manifest.get('command', '')}`",
            f"- Objectives: maximise {o_low} ({o_unit}, mean over seeds), minimise "
            f"{c_low} (mln RUB, mean over seeds)"
            + (f"; constraint: {c_low} at most {fmt(opts['budget'])} mln RUB"
               if opts["budget"] else ""),
            f"- Sampler: {sampler}, "
            f"seed {opts['study_seed']}; Optuna study in `{STUDY_FILE}` (resumable)",
            f"- Seeds {seeds[0]}-{seeds[-1]} for every trial and scenario; town "
            f"{plan.manifest.get('town', '')}, {plan.manifest.get('steps', '')} quarters",
            f"- Files: `{TRIALS_FILE}` (every complete trial: levers, means and 95% CIs, "
            f"per-seed values), `{SCENARIOS_FILE}`, `{EVALUATIONS}` (every run)", ""]
    lever_rows = [[f"`{f.name}`", f.group, f.range_text()] for f in opts["levers"]]
    out += ["## Levers searched", "", md_table(["lever", "stands for", "range"], lever_rows),
            ""]
    if len(front):
        names = [f.name for f in opts["levers"]]
        rows = [[int(r["trial"]), _ci(r, "cost"), _ci(r, "objective"),
                 *(_lever_text(r[n]) for n in names)] for _, r in front.iterrows()]
        out += [f"## The Pareto front (by increasing cost; mean over seeds, 95% CI)", "",
                md_table(["trial", "public cost (mln RUB)", f"{o_lab} ({o_unit})",
                          *(n.split(".")[-1] for n in names)], rows), ""]
    if len(scen):
        rows = [[r["scenario"], _ci(r, "cost"), _ci(r, "objective"), r["runs"]]
                for _, r in scen.iterrows()]
        out += ["## The scenarios on the same seeds", "",
                md_table(["scenario", "public cost (mln RUB)", f"{o_lab} ({o_unit})", "runs"],
                         rows), ""]
    if len(trials):
        plots.custom(writer, lambda: _front_figure(trials, scen, opts), "pareto_front",
                     f"Every trial (grey; hollow: over the budget), the Pareto front (line) and "
                     f"the six scenarios on the same seeds (95% CI bars): {o_low} "
                     f"against cumulative public cost.")
        if len(front) > 1:
            plots.custom(writer, lambda: _levers_figure(front, opts), "front_levers",
                         "Lever values along the Pareto front, by the front point's public "
                         "cost.")
        out += ["## Figures", ""]
        for stem, caption in writer.saved:
            out += [f"![{caption}]({FIGURES}/{stem}.png)", "", f"*{caption}*", ""]
    out += ["## How to read this report", "",
            "- Each point is a lever setting run on the same seeds; its value is the mean "
            "over them. The front holds the settings no other setting beats on both "
            "objectives. A scenario below and to the right of the front is dominated: some "
            "setting gives more for less.",
            "- These are model results for a stylised town under the model's assumptions "
            "(docs/ODD.md), not forecasts.", ""]
    path = d / REPORT
    text = "\n".join(out).rstrip() + "\n"
    atomic_write(path, lambda p: Path(p).write_text(text))
    return path


def _ci(row, key: str) -> str:
    from experiments.plots import fmt

    lo, hi = row[f"{key}_lo"], row[f"{key}_hi"]
    if not np.isfinite(lo):
        return fmt(row[key])
    return f"{fmt(row[key])} ({fmt(lo)} to {fmt(hi)})"


def _lever_text(v: Any) -> str:
    from experiments.plots import fmt

    if isinstance(v, (float, np.floating)):
        return fmt(float(v))
    return str(v)


def _scenario_lines(trials: pd.DataFrame, front: pd.DataFrame, scen: pd.DataFrame,
                    opts: dict) -> list[str]:
    """For each scenario: the front point that gives at least as much for the least cost, and
    the paired differences against it."""
    from experiments.analysis import ci_text
    from experiments.plots import label, lower, unit

    lines = []
    for _, s in scen.iterrows():
        if not s["runs"]:
            continue
        better = front[(front["objective"] >= s["objective"]) & (front["cost"] <= s["cost"])]
        if not len(better):
            lines.append(f"{s['scenario']} is not dominated by any trial (on or beyond the "
                         f"front): {lower(label(opts['objective']))} {_ci(s, 'objective')}, "
                         f"cost {_ci(s, 'cost')} mln RUB.")
            continue
        best = better.sort_values("cost").iloc[0]
        s_obj = {int(k): v for k, v in json.loads(s["per_seed_objective"]).items()}
        s_cost = {int(k): v for k, v in json.loads(s["per_seed_cost"]).items()}
        seeds = json.loads(best["seeds"])
        b_obj = dict(zip(seeds, json.loads(best["per_seed_objective"])))
        b_cost = dict(zip(seeds, json.loads(best["per_seed_cost"])))
        d_obj = paired_difference(b_obj, s_obj)
        d_cost = paired_difference(b_cost, s_cost)
        sig = ("significantly on both" if d_obj.sign() > 0 and d_cost.sign() < 0 else
               "significantly more" if d_obj.sign() > 0 else
               "significantly cheaper" if d_cost.sign() < 0 else "neither significantly")
        lines.append(f"{s['scenario']} is dominated on the seed means: trial "
                     f"{int(best['trial'])} gives {ci_text(d_obj, signed=True)} "
                     f"{unit(opts['objective'])} of {lower(label(opts['objective']))} at "
                     f"{ci_text(d_cost, signed=True)} mln RUB of public cost against it "
                     f"(paired by seed, 95% CI: {sig}).")
    return lines


def _front_figure(trials: pd.DataFrame, scen: pd.DataFrame, opts: dict):
    import matplotlib.pyplot as plt

    from experiments import plots
    from experiments.plots import axis_label

    fig, ax = plt.subplots(figsize=(7.6, 5.4), layout="constrained")
    ok = trials["feasible"]
    ax.scatter(trials.loc[ok, "cost"], trials.loc[ok, "objective"], s=14, color="#999999",
               label="trial")
    if (~ok).any():
        ax.scatter(trials.loc[~ok, "cost"], trials.loc[~ok, "objective"], s=14,
                   facecolors="none", edgecolors="#999999", label="trial over the budget")
    front = trials[trials["on_front"]].sort_values("cost")
    ax.plot(front["cost"], front["objective"], "-o", color="black", markersize=4,
            linewidth=1.2, label="Pareto front", drawstyle="steps-post")
    for _, s in scen.iterrows():
        if not s["runs"]:
            continue
        err_x = [[max(s["cost"] - s["cost_lo"], 0)], [max(s["cost_hi"] - s["cost"], 0)]] \
            if np.isfinite(s["cost_lo"]) else None
        err_y = [[max(s["objective"] - s["objective_lo"], 0)],
                 [max(s["objective_hi"] - s["objective"], 0)]] \
            if np.isfinite(s["objective_lo"]) else None
        ax.errorbar(s["cost"], s["objective"], xerr=err_x, yerr=err_y, fmt="s", markersize=7,
                    color=plots.scenario_colour(s["scenario"]), capsize=3,
                    label=s["scenario"])
    if opts["budget"] is not None:
        ax.axvline(opts["budget"], color="#D55E00", linestyle="--", linewidth=1,
                   label="budget")
    ax.set_xlabel("Cumulative public cost (mln RUB, mean over seeds)")
    ax.set_ylabel(axis_label(opts["objective"]))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Lever settings: the Pareto front and the six scenarios", fontsize=10)
    return fig


def _levers_figure(front: pd.DataFrame, opts: dict):
    from experiments import plots

    levers = opts["levers"]
    fig, axes = plots._grid(len(levers), ncols=4, width=3.4, height=2.6)
    for ax, f in zip(axes, levers):
        values = front[f.name]
        if f.levels:
            cats = [str(v) for v in f.levels]
            ax.scatter(front["cost"], [cats.index(str(v)) for v in values], color="#0072B2",
                       s=16)
            ax.set_yticks(range(len(cats)), cats, fontsize=7)
            ax.set_ylim(-0.5, len(cats) - 0.5)
        else:
            ax.plot(front["cost"], values.astype(float), "-o", color="#0072B2", markersize=3,
                    linewidth=1)
            ax.set_ylim(f.lo - 0.05 * (f.hi - f.lo), f.hi + 0.05 * (f.hi - f.lo))
        ax.set_title(plots.wrap(f.name, 36), fontsize=8)
        ax.set_xlabel("public cost (mln RUB)", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Lever values along the Pareto front", fontsize=11)
    return fig
