"""The source paper's claims, tested: `tased-experiment experiment=claims` (`make claims`).

One command runs the question experiments listed in `experiment.options.runs` (each through
`tased-experiment`, into `<claims dir>/experiments/<label>/`, so each resumes on its own and has
its own report), then writes `<claims dir>/report.md`: one row per claim of
`experiment.options.claims` with the claim in one sentence, the measured effect with its 95%
confidence interval and the seeds used, a verdict, where the claim holds in a sensitivity
sample (PRIM, experiments.discovery) and the figure that shows it.

Verdicts come from the numbers (`verdict`, `combine`, `with_sample` below):

- a directional claim is **supported** when the 95% CI of its effect excludes zero in the
  claimed direction, and **not supported** otherwise (the CI includes zero, or the effect
  goes the other way);
- a claim measured under several conditions (scenarios, ends of support) that is supported
  under some and not others **depends** on them;
- where a sensitivity sample answers the same question, a claim that holds at between 20% and
  80% of the sampled design points, inside a PRIM box of density at least 80% that restricts
  some factor, **depends** on the parameters: the box says where it holds.

Kinds of measurement: `paired` (cells that differ in one parameter, per seed), `interaction`
(the 2x2 synergy), `survival` (share of runs whose CMC outlives the end of support, Wilson
CI), `threshold` (a step in diffusion against cluster size), `cost_per_job` (extra public
cost over extra non-CFE jobs against a reference scenario, bootstrap CI) and `share` (a share
of runs against a bound).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from experiments.cli import RunFailure, UsageError, quote
from experiments.discovery import DISCOVERY_FILE
from experiments.layout import FIGURES, MANIFEST, REPORT, SUMMARY
from experiments.output import atomic_write
from experiments.sensitivity import _canon
from experiments.stats import Estimate, interaction, mean_ci, paired_difference, share_ci, \
    step_threshold

RUNS_DIR = "experiments"
SUPPORTED, NOT_SUPPORTED, DEPENDS = "supported", "not supported", "depends"
NOT_MEASURED = "not measured"  # its run has not finished: no verdict
KINDS = ("paired", "interaction", "survival", "threshold", "cost_per_job", "share")
#: a claim that holds at a share of the sample between these depends on the parameters
DEPENDS_SHARE = (0.2, 0.8)
DENSITY_MIN = 0.8
BOOTSTRAP = 2000
#: command-line overrides of the claims command that are not handed to the experiments
OWN = ("experiment=", "experiment.out_dir", "experiment.options", "experiment.name",
       "experiment.question", "experiment.analysis", "experiment.outcomes",
       "experiment.series", "experiment.reference", "hydra", "+experiment", "experiment.design")


# --------------------------------------------------------------------------- verdicts


def verdict(e: Estimate, direction: int) -> tuple[str, str]:
    """A directional claim against its effect's 95% CI: (verdict, reason)."""
    if e.n < 2 or not np.isfinite(e.mean):
        return NOT_SUPPORTED, "too few runs to measure it"
    s = e.sign()
    if s == direction:
        return SUPPORTED, "the 95% CI excludes zero in the claimed direction"
    if s == -direction:
        return NOT_SUPPORTED, "the effect is significant in the opposite direction"
    return NOT_SUPPORTED, "the 95% CI includes zero"


def bound_verdict(e: Estimate, below: float | None = None,
                  above: float | None = None) -> tuple[str, str]:
    """A claim that a quantity lies below (or above) a bound: its whole CI must."""
    if e.n < 2 or not np.isfinite(e.mean):
        return NOT_SUPPORTED, "too few runs to measure it"
    if below is not None:
        if e.hi < below:
            return SUPPORTED, f"the 95% CI lies below {below:g}"
        if e.lo > below:
            return NOT_SUPPORTED, f"the 95% CI lies above {below:g}"
        return NOT_SUPPORTED, f"the 95% CI includes {below:g}"
    if e.lo > above:
        return SUPPORTED, f"the 95% CI lies above {above:g}"
    if e.hi < above:
        return NOT_SUPPORTED, f"the 95% CI lies below {above:g}"
    return NOT_SUPPORTED, f"the 95% CI includes {above:g}"


def combine(verdicts: list[str]) -> str:
    """Several conditions: supported (or not) under all of them, else depends."""
    if not verdicts:
        return NOT_SUPPORTED
    if all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    if all(v == NOT_SUPPORTED for v in verdicts):
        return NOT_SUPPORTED
    return DEPENDS


def with_sample(base: str, box: dict | None) -> tuple[str, str]:
    """The verdict once a sensitivity sample is taken into account (see the module)."""
    if not box or not box.get("points"):
        return base, ""
    share = box["holds"] / box["points"]
    lo, hi = DEPENDS_SHARE
    if lo <= share <= hi and box.get("limits") and box.get("density", 0) >= DENSITY_MIN:
        return DEPENDS, (f"it holds at {share:.0%} of the sampled design points, in the box "
                         f"{box.get('limits_text')}")
    return base, ""


# --------------------------------------------------------------------------- measurements


@dataclass
class Result:
    """One claim's row: what was measured and what it says."""

    id: str
    claim: str
    effect: str = "n/a"
    seeds: str = "n/a"
    verdict: str = NOT_SUPPORTED
    reason: str = ""
    where: str = "no sensitivity sample"
    figure: str = ""
    details: list = field(default_factory=list)  # (condition, effect text, verdict)


def load_run(run_dir: Path) -> pd.DataFrame | None:
    path = run_dir / SUMMARY
    if not path.is_file():
        return None
    s = pd.read_csv(path)
    if "non_cfe_jobs_change" in s.columns and "public_cost" in s.columns:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(s["public_cost"] > 0, s["non_cfe_jobs_change"] / s["public_cost"],
                             np.nan)
        s = pd.concat([s, pd.Series(ratio, index=s.index, name="jobs_per_rouble")], axis=1)
    return s


def param_columns(s: pd.DataFrame) -> list[str]:
    """The swept parameters of a summary (between `cell` and `scenario`) and the scenario."""
    cols = list(s.columns)
    return cols[1:cols.index("scenario")] + ["scenario"] if "scenario" in cols else []


def seeds_text(s: pd.DataFrame) -> str:
    seeds = sorted(int(x) for x in s["seed"].unique())
    if not seeds:
        return "n/a"
    run = seeds == list(range(seeds[0], seeds[-1] + 1))
    return (f"{seeds[0]}-{seeds[-1]}" if run and len(seeds) > 1 else
            ", ".join(map(str, seeds))) + f" ({len(seeds)})"


def _select(s: pd.DataFrame, column: str, value: Any) -> pd.DataFrame:
    return s[s[column].map(_canon) == _canon(value)]


def _by_seed(s: pd.DataFrame, metric: str) -> dict[int, float]:
    return {int(k): float(v) for k, v in zip(s["seed"], s[metric]) if np.isfinite(v)}


def _conditions(s: pd.DataFrame, parameter: str) -> list[tuple[str, pd.DataFrame]]:
    others = [c for c in param_columns(s) if c != parameter and s[c].nunique() > 1]
    if not others:
        return [("", s)]
    return [(", ".join(f"{k}={v}" for k, v in zip(others, key if isinstance(key, tuple)
                                                    else (key,))), g)
            for key, g in s.groupby(others, sort=False)]


def _fmt(v: float) -> str:
    from experiments.plots import fmt

    return fmt(v)


def _ci(e: Estimate, unit: str = "", signed: bool = True) -> str:
    from experiments.analysis import ci_text

    return ci_text(e, signed=signed) + (f" {unit}" if unit else "")


def _unit(metric: str) -> str:
    if metric == "jobs_per_rouble":
        return "jobs / mln RUB"
    from experiments.plots import unit

    return unit(metric)


def _label(metric: str) -> str:
    if metric == "jobs_per_rouble":
        return "net new non-CFE jobs per mln RUB of public cost"
    from experiments.plots import label, lower

    return lower(label(metric))


def measure_paired(c: dict, s: pd.DataFrame, r: Result) -> None:
    metric, parameter, direction = c["metric"], c["parameter"], int(c.get("direction", 1))
    verdicts, parts = [], []
    for name, g in _conditions(s, parameter):
        on, off = _select(g, parameter, c["on"]), _select(g, parameter, c["off"])
        if not len(on) or not len(off):
            continue
        e = paired_difference(_by_seed(on, metric), _by_seed(off, metric))
        v, why = verdict(e, direction)
        verdicts.append(v)
        text = f"{_ci(e, _unit(metric))}"
        parts.append(f"{name}: {text}" if name else text)
        r.details.append((name or "defaults", f"{_label(metric)}, {c['on']} minus {c['off']}: "
                                              f"{text}", f"{v} ({why})"))
    if not verdicts:
        r.reason = f"the run lacks the cells {parameter}={c['on']} / {c['off']}"
        return
    r.effect = (f"{_label(metric)}, {c['on']} minus {c['off']} (paired by seed): "
                + "; ".join(parts))
    r.verdict = combine(verdicts)
    r.reason = r.details[0][2].split(" (", 1)[1].rstrip(")") if len(verdicts) == 1 else (
        "the conditions disagree" if r.verdict == DEPENDS else f"{r.verdict} under every "
                                                                f"condition")


def measure_interaction(c: dict, s: pd.DataFrame, r: Result) -> None:
    metric = c.get("metric", "employment_entropy")
    roles = c.get("roles", {"both": "top_down", "a": "tased_only", "b": "cluster_only",
                            "neither": "baseline"})
    v = {k: _by_seed(_select(s, "scenario", name), metric) for k, name in roles.items()}
    if not all(v.values()):
        r.reason = "the run lacks one of the four scenarios of the 2x2 design"
        return
    e = interaction(v["both"], v["a"], v["b"], v["neither"])
    r.effect = (f"interaction on {_label(metric)}: ({roles['both']} - {roles['a']}) - "
                f"({roles['b']} - {roles['neither']}) = {_ci(e, _unit(metric))}")
    r.verdict, r.reason = verdict(e, int(c.get("direction", 1)))


def measure_survival(c: dict, s: pd.DataFrame, r: Result) -> None:
    scen = c.get("scenario", "top_down")
    d = _select(s, "scenario", scen)
    d = d[d["cmc_at_support_end"] == 1.0] if "cmc_at_support_end" in d.columns else d.iloc[:0]
    verdicts, parts = [], []
    key = "cluster.support_end_step"
    groups = d.groupby(key, sort=True) if key in d.columns else [("", d)]
    for end, g in groups:
        e = share_ci(g["cmc_exists"].tolist())
        v, why = bound_verdict(e, below=0.5)  # "dies": most CMCs are gone at the end
        verdicts.append(v)
        text = f"{e.mean:.0%} ({e.lo:.0%} to {e.hi:.0%}) of {e.n}"
        parts.append(f"support ends at quarter {end}: {text}")
        r.details.append((f"support ends at quarter {end}",
                          f"share of {scen} runs whose CMC, alive when support ended, is "
                          f"still there at the end: {text}", f"{v} ({why})"))
    if not verdicts:
        r.reason = f"no {scen} run had a CMC when support ended"
        return
    r.effect = (f"{scen}: share of runs whose CMC outlives the end of support (Wilson 95% CI); "
                + "; ".join(parts))
    r.verdict = combine(verdicts)
    r.reason = ("it dies in most runs (the 95% CI lies below 50%) whenever support ends"
                if r.verdict == SUPPORTED else
                "it survives in most runs or the share is not clearly below 50%"
                if r.verdict == NOT_SUPPORTED else
                "it depends on when support ends")


def measure_threshold(c: dict, s: pd.DataFrame, r: Result) -> None:
    lo, hi = c.get("range", [30, 50])
    fit = step_threshold(s["late_members"].to_numpy(float),
                         s["late_member_diffusion"].to_numpy(float),
                         min_side=int(c.get("min_side", 5)))
    if fit.found:
        r.effect = (f"a step in member diffusion of {_ci(fit.jump, 'share of members')} at "
                    f"about {_fmt(fit.breakpoint)} members (BIC better than a line by "
                    f"{_fmt(fit.delta_bic)}; {fit.n} runs)")
        inside = lo <= fit.breakpoint <= hi
        r.verdict = SUPPORTED if inside else NOT_SUPPORTED
        r.reason = (f"a threshold is found inside {lo}-{hi} members" if inside else
                    f"a threshold is found, but at {_fmt(fit.breakpoint)} members, outside "
                    f"{lo}-{hi}")
    else:
        r.effect = (f"no step found: cluster sizes {_fmt(fit.x_min)} to {_fmt(fit.x_max)} "
                    f"members, best step {_ci(fit.jump)} at {_fmt(fit.breakpoint)} (BIC "
                    f"difference {_fmt(fit.delta_bic)}, 10 needed; {fit.n} runs)")
        r.verdict, r.reason = NOT_SUPPORTED, "no threshold is found in the swept range"


def cost_per_job(cost: dict, jobs: dict, resamples: int = BOOTSTRAP,
                 seed: int = 0) -> tuple[float, float, float, Estimate]:
    """Extra public cost over extra non-CFE jobs (paired differences, by seed): the ratio of
    the mean differences with a percentile bootstrap 95% CI over seeds, and the jobs
    difference's t interval."""
    seeds = sorted(set(cost) & set(jobs))
    dc = np.array([cost[k] for k in seeds], float)
    dj = np.array([jobs[k] for k in seeds], float)
    e_jobs = mean_ci(dj)
    if len(seeds) < 2 or not dj.mean() > 0:
        return math.nan, math.nan, math.nan, e_jobs
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(seeds), size=(resamples, len(seeds)))
    num, den = dc[idx].mean(axis=1), dj[idx].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(den > 0, num / den, np.inf)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return float(dc.mean() / dj.mean()), float(lo), float(hi), e_jobs


def measure_cost_per_job(c: dict, s: pd.DataFrame, r: Result) -> None:
    on, off = _select(s, "scenario", c["on"]), _select(s, "scenario", c["off"])
    if not len(on) or not len(off):
        r.reason = f"the run lacks {c['on']} or {c['off']}"
        return
    cost = {k: v - _by_seed(off, "public_cost").get(k, math.nan)
            for k, v in _by_seed(on, "public_cost").items()}
    jobs = {k: v - _by_seed(off, "non_cfe_jobs_change").get(k, math.nan)
            for k, v in _by_seed(on, "non_cfe_jobs_change").items()}
    cost = {k: v for k, v in cost.items() if np.isfinite(v)}
    jobs = {k: v for k, v in jobs.items() if np.isfinite(v)}
    ratio, lo, hi, e_jobs = cost_per_job(cost, jobs)
    bench = float(c.get("benchmark", math.inf))
    e_cost = mean_ci(list(cost.values()))
    r.effect = (f"{c['on']} against {c['off']}: {_ci(e_jobs, 'extra non-CFE jobs')} for "
                f"{_ci(e_cost, 'mln RUB')} of extra public cost")
    if e_jobs.sign() <= 0:
        r.verdict, r.reason = NOT_SUPPORTED, "no significant gain in non-CFE jobs"
        return
    hi_text = _fmt(hi) if np.isfinite(hi) else "unbounded"
    r.effect += f": **{_fmt(ratio)} mln RUB per job** (bootstrap 95% CI {_fmt(lo)} to {hi_text})"
    if hi < bench:
        r.verdict, r.reason = SUPPORTED, f"the 95% CI lies below {bench:g} mln RUB per job"
    elif lo > bench:
        r.verdict, r.reason = NOT_SUPPORTED, f"the 95% CI lies above {bench:g} mln RUB per job"
    else:
        r.verdict, r.reason = NOT_SUPPORTED, f"the 95% CI includes {bench:g} mln RUB per job"


def measure_share(c: dict, s: pd.DataFrame, r: Result) -> None:
    d = _select(s, "scenario", c["scenario"]) if c.get("scenario") else s
    e = share_ci(d[c["metric"]].tolist())
    r.effect = (f"{c.get('scenario', '')}: {_label(c['metric'])} in {e.mean:.0%} of runs "
                f"(Wilson 95% CI {e.lo:.0%} to {e.hi:.0%}, {e.n} runs)")
    r.verdict, r.reason = bound_verdict(e, below=c.get("below"), above=c.get("above"))


MEASURES: dict[str, Callable[[dict, pd.DataFrame, Result], None]] = {
    "paired": measure_paired, "interaction": measure_interaction,
    "survival": measure_survival, "threshold": measure_threshold,
    "cost_per_job": measure_cost_per_job, "share": measure_share,
}


# --------------------------------------------------------------------------- settings


def check_options(settings: dict) -> tuple[dict, list[dict]]:
    """(runs, claims) of the claims experiment, checked; ValueError naming the field."""
    o = settings.get("options", {})
    where = "experiment.options"
    runs = o.get("runs")
    if not isinstance(runs, dict) or not runs:
        raise ValueError(f"{where}.runs: give a mapping of label -> list of tased-experiment "
                         f"overrides")
    for label, overrides in runs.items():
        if not isinstance(overrides, list) or not all(isinstance(x, str) for x in overrides) \
                or not any(x.startswith("experiment=") for x in overrides):
            raise ValueError(f"{where}.runs.{label}: give a list of overrides with "
                             f"experiment=NAME")
        if label == "claims" or "experiment=claims" in overrides:
            raise ValueError(f"{where}.runs.{label}: the claims experiment cannot run itself")
    claims = o.get("claims")
    if not isinstance(claims, list) or not claims:
        raise ValueError(f"{where}.claims: give a list of claims")
    need = {"paired": ("run", "parameter", "on", "off", "metric"),
            "interaction": ("run",), "survival": ("run",), "threshold": ("run",),
            "cost_per_job": ("run", "on", "off"), "share": ("run", "metric")}
    for i, c in enumerate(claims):
        at = f"{where}.claims[{i}]"
        if not isinstance(c, dict) or not c.get("id") or not c.get("claim"):
            raise ValueError(f"{at}: give id, claim, kind and run")
        if c.get("kind") not in KINDS:
            raise ValueError(f"{at}.kind: {c.get('kind')!r} is not accepted; accepted: "
                             f"{', '.join(KINDS)}")
        missing = [k for k in need[c["kind"]] if k not in c]
        if missing:
            raise ValueError(f"{at}: a {c['kind']} claim needs {', '.join(missing)}")
        if c["run"] not in runs:
            raise ValueError(f"{at}.run: {c['run']!r} is not one of the runs "
                             f"({', '.join(runs)})")
    return runs, claims


def passthrough(overrides: list[str]) -> list[str]:
    """The claims command's overrides handed to every question experiment (town, steps,
    seeds, workers, formats, model parameters)."""
    return [o for o in overrides if not o.startswith(OWN)]


def run_commands(runs: dict, overrides: list[str], replications: int,
                 claims_dir: Path) -> dict[str, list[str]]:
    """label -> the tased-experiment arguments of that question experiment."""
    common = passthrough(overrides)
    user_reps = any(o.startswith("experiment.replications=") for o in common)
    out = {}
    for label, own in runs.items():
        args = list(own)
        if not user_reps and not any(o.startswith("experiment.replications=") for o in own):
            args.append(f"experiment.replications={replications}")
        args += common
        args.append(f"hydra.sweep.dir={quote(str((claims_dir / RUNS_DIR / label).resolve()))}")
        out[label] = args
    return out


# --------------------------------------------------------------------------- the command


def run(plan, prepare: Callable) -> int:
    """`tased-experiment experiment=claims`: run the question experiments, then the report."""
    try:
        runs, claims = check_options(plan.settings)
    except ValueError as err:
        raise UsageError(str(err)) from None
    prepare(plan)
    d = plan.sweep_dir
    # only the runs some claim is measured on (or shows its figure from)
    needed = {c["run"] for c in claims} | {c["figure_run"] for c in claims
                                           if c.get("figure_run") in runs}
    commands = run_commands({k: v for k, v in runs.items() if k in needed},
                            plan.manifest["overrides"], int(plan.settings["replications"]), d)
    failed = []
    started = time.time()
    for i, (label, args) in enumerate(commands.items(), 1):
        shown = " ".join(a for a in args if not a.startswith("hydra.sweep.dir="))
        print(f"[claims] {i}/{len(commands)} {label}: tased-experiment {shown}",
              file=sys.stderr, flush=True)
        res = subprocess.run([sys.executable, "-m", "experiments.sweep", *args],
                             stdout=subprocess.DEVNULL, env=os.environ.copy())
        if res.returncode in (130, 143):
            raise KeyboardInterrupt("SIGINT" if res.returncode == 130 else "SIGTERM")
        if res.returncode != 0:
            failed.append(f"{label} (exit {res.returncode})")
    report = write_report(d, plan, runs, claims)
    print(f"[claims] {len(commands)} experiments in {time.time() - started:.0f} s",
          file=sys.stderr)
    print(f"report: {report}")
    if failed:
        raise RunFailure(f"{len(failed)} question experiment(s) did not finish cleanly: "
                         f"{', '.join(failed)}; the report uses the runs that finished. Re-run "
                         f"the command to resume them")
    return 0


def sample_boxes(paths: Any) -> dict[str, tuple[dict, Path]]:
    """PRIM boxes by question name from the first sensitivity directory that has each."""
    out: dict[str, tuple[dict, Path]] = {}
    for p in paths or []:
        f = Path(p) / DISCOVERY_FILE
        if not f.is_file():
            continue
        try:
            boxes = json.loads(f.read_text()).get("boxes", [])
        except (OSError, ValueError):
            continue
        for b in boxes:
            out.setdefault(b["name"], (b, Path(p)))
    return out


def evaluate(claims: list[dict], run_dir: Callable[[str], Path],
             boxes: dict[str, tuple[dict, Path]], here: Path) -> list[Result]:
    """Every claim's row from the runs' summaries and the sensitivity sample's boxes."""
    results = []
    for c in claims:
        r = Result(c["id"], " ".join(str(c["claim"]).split()))
        s = load_run(run_dir(c["run"]))
        if s is None or not len(s):
            r.verdict, r.reason = NOT_MEASURED, f"the run {c['run']!r} has not finished"
            results.append(r)
            continue
        r.seeds = seeds_text(s)
        MEASURES[c["kind"]](c, s, r)
        q = c.get("question")
        if q and q in boxes:
            box, where = boxes[q]
            share = box["holds"] / box["points"] if box.get("points") else math.nan
            r.where = (f"holds at {box['holds']}/{box['points']} design points ({share:.0%}) of "
                       f"{where.name}'s sample; box: {box.get('limits_text', 'n/a')} (coverage "
                       f"{_pct(box.get('coverage'))}, density {_pct(box.get('density'))})")
            prim_fig = where / FIGURES / f"prim_{q}.png"
            if prim_fig.exists():
                r.where += f" [PRIM]({os.path.relpath(prim_fig, here)})"
            v, why = with_sample(r.verdict, box)
            if v != r.verdict:
                r.verdict, r.reason = v, why
        elif q:
            r.where = ("no sensitivity sample answers it yet (tased-experiment "
                       "experiment=sensitivity)")
        else:
            r.where = "not a question of the sensitivity sample"
        fig_run = c.get("figure_run", c["run"])
        stem = c.get("figure")
        for cand in ([here / FIGURES / f"{stem}.png", run_dir(fig_run) / FIGURES /
                      f"{stem}.png"] if stem else []):
            if cand.exists():
                r.figure = f"[{stem}]({os.path.relpath(cand, here)})"
                break
        results.append(r)
    return results


def _pct(v: Any) -> str:
    return f"{v:.0%}" if isinstance(v, (int, float)) and np.isfinite(v) else "n/a"


def write_report(d: Path, plan, runs: dict, claims: list[dict]) -> Path:
    from experiments.analysis import md_table
    from experiments.plots import FigureWriter

    writer = FigureWriter(d / FIGURES, list(plan.settings.get("formats", ["png"])))
    run_dir = lambda label: d / RUNS_DIR / label  # noqa: E731
    principle_ids = [c for c in claims if str(c["id"]).startswith("principle")]
    if principle_ids:
        _principles_figure(writer, principle_ids, run_dir)
    boxes = sample_boxes(plan.settings["options"].get("sensitivity"))
    results = evaluate(claims, run_dir, boxes, d)
    town = plan.manifest.get("town", "")
    counts = {v: sum(r.verdict == v for r in results) for v in (SUPPORTED, NOT_SUPPORTED,
                                                                DEPENDS, NOT_MEASURED)}
    out = [f"# The source paper's claims in the model: {town}", "",
           "Each claim of the source paper (TASED plus a cluster formed with an active role of "
           "the authorities; six principles for building clusters), stated in one sentence and "
           "measured in the model on paired seeds (common random numbers): the effect with its "
           "95% confidence interval, the seeds used, a verdict computed from those numbers, "
           "where the claim holds in the sensitivity sample (PRIM) and the figure that shows "
           "it.", "",
           f"**{counts[SUPPORTED]} supported, {counts[NOT_SUPPORTED]} not supported, "
           f"{counts[DEPENDS]} depend on the conditions or parameters"
           + (f", {counts[NOT_MEASURED]} not measured (their runs did not finish)"
              if counts[NOT_MEASURED] else "") + ".**", "",
           "**These are model results, not forecasts.** They say what follows from the "
           "model's assumptions for a stylised town calibrated from public facts; they do not "
           "predict what will happen in a real mono-town.", "",
           "## The claims", "",
           md_table(["#", "claim", "measured effect (95% CI)", "seeds", "verdict",
                     "where it holds (PRIM)", "figure"],
                    [[i, r.claim, r.effect, r.seeds, f"**{r.verdict}**: {r.reason}"
                      if r.reason else f"**{r.verdict}**", r.where, r.figure or "-"]
                     for i, r in enumerate(results, 1)]), ""]
    detail_rows = [[r.id, cond, text, v] for r in results for cond, text, v in r.details]
    if detail_rows:
        out += ["## Claims measured under several conditions", "",
                md_table(["claim", "condition", "effect (95% CI)", "verdict"], detail_rows), ""]
    out += ["## How the verdicts are made", "",
            "- A directional claim is **supported** when the 95% confidence interval of its "
            "effect (a mean paired difference across seeds, t interval) excludes zero in the "
            "claimed direction; **not supported** when it includes zero or the effect goes the "
            "other way. Claims about shares use Wilson intervals, the cost per job a bootstrap "
            "interval over seeds, the critical mass a segmented regression (a step must beat "
            "a straight line by 10 in BIC).",
            "- A claim measured under several conditions **depends** when it is supported "
            "under some and not others.",
            f"- Where a sensitivity sample answers the same question "
            f"(`tased-experiment experiment=sensitivity`), a claim that holds at "
            f"{DEPENDS_SHARE[0]:.0%} to {DEPENDS_SHARE[1]:.0%} of the sampled design points, "
            f"inside a PRIM box of density at least {DENSITY_MIN:.0%}, **depends** on the "
            f"parameters; the box gives the region where it holds. The sample averages few "
            f"seeds per point, so a box near a 50% share can reflect noise.",
            "- The effect is measured at the model's defaults for the town unless the claim "
            "names other settings; 'not supported' means the model does not show the claim at "
            "these settings and seeds, not that it is false; more seeds "
            "(`experiment.replications=N`) narrow every interval.", ""]
    out += ["## What the model assumes", "",
            "- A stylised mono-town (preset `" + str(town) + "`) whose firms, households, "
            "authorities, universities and cluster management company act each quarter; "
            "outcomes are what their decisions add up to. No rule reads the scenario's name, "
            "sets a metric or forces a firm into the cluster (docs/ODD.md).",
            "- Facts (tax rates, the TASED rules, the town's size and structure) come from "
            "public sources (docs/CALIBRATION.md); behavioural parameters are estimates or "
            "assumptions with stated ranges; two entry parameters are calibrated to the "
            "Naberezhnye Chelny TASED.",
            "- Simplifications that matter here (docs/ODD.md, section 3.7): one aggregate "
            "household; capital financed outside the town's accounts; public jobs fixed; "
            "outsourced units count as jobs outside the CFE once spun off; migration responds "
            "to unemployment and urban quality only.", ""]
    out += ["## What was run", "",
            f"- Command: `{plan.manifest.get('command', '')}`",
            f"- Question experiments (each with its own report under `{RUNS_DIR}/<label>/`):"]
    for label, own in runs.items():
        rep = run_dir(label) / REPORT
        link = f" ([report]({os.path.relpath(rep, d)}))" if rep.exists() else " (not run yet)"
        out.append(f"  - `{label}`: `tased-experiment {' '.join(own)}`{link}")
    out.append("- Sensitivity samples read for PRIM boxes: "
               + (", ".join(sorted({str(p) for _, p in boxes.values()})) or "none found"))
    out.append("")
    if writer.saved:
        out += ["## Figures", ""]
        for stem, caption in writer.saved:
            out += [f"![{caption}]({FIGURES}/{stem}.png)", "", f"*{caption}*", ""]
    path = d / REPORT
    text = "\n".join(out).rstrip() + "\n"
    atomic_write(path, lambda p: Path(p).write_text(text))
    (d / "claims.json").write_text(json.dumps(
        [{"id": r.id, "claim": r.claim, "effect": r.effect, "seeds": r.seeds,
          "verdict": r.verdict, "reason": r.reason, "where": r.where} for r in results],
        indent=1))
    return path


PRINCIPLE_METRICS = ("employment_entropy", "non_cfe_jobs_change", "cfe_share", "members")


def _principles_figure(writer, claims: list[dict], run_dir: Callable[[str], Path]) -> None:
    """The six principles: lever on minus lever off per seed, mean with 95% CI."""
    from experiments import plots

    rows = []
    for c in claims:
        s = load_run(run_dir(c["run"]))
        if s is None or c.get("kind") != "paired":
            continue
        on, off = _select(s, c["parameter"], c["on"]), _select(s, c["parameter"], c["off"])
        if not len(on) or not len(off):
            continue
        rows.append((f"{c['id']}: {c['parameter'].split('.')[-1]} {c['on']} vs {c['off']}",
                     {m: paired_difference(_by_seed(on, m), _by_seed(off, m))
                      for m in PRINCIPLE_METRICS if m in s.columns}))
    if not rows:
        return

    def draw():
        from experiments.plots import label, unit, wrap

        fig, axes = plots._grid(len(PRINCIPLE_METRICS), ncols=2, width=5.2,
                                height=0.45 * len(rows) + 1.6)
        y = np.arange(len(rows))[::-1]
        for ax, m in zip(axes, PRINCIPLE_METRICS):
            for yi, (_, est) in zip(y, rows):
                e = est.get(m)
                if e is None or not np.isfinite(e.mean):
                    continue
                lo, hi = (e.lo, e.hi) if np.isfinite(e.lo) else (e.mean, e.mean)
                colour = "#009E73" if e.sign() > 0 else "#D55E00" if e.sign() < 0 else "#555555"
                ax.errorbar(e.mean, yi, xerr=plots.error_bar(e.mean, lo, hi), fmt="o",
                            color=colour, capsize=3)
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_yticks(y)
            ax.set_yticklabels([r[0] for r in rows], fontsize=7)
            ax.set_title(wrap(label(m), 40), fontsize=10)
            ax.set_xlabel(f"lever on minus off ({unit(m)})")
            ax.grid(axis="x", alpha=0.3)
        fig.suptitle("The six principles under top_down: lever on minus off, paired by seed "
                     "(95% CI; green/red: significant)", fontsize=10)
        return fig

    plots.custom(writer, draw, "principles",
                 "Each principle's lever on minus off under top_down on the same seeds: mean "
                 "paired difference with 95% CI (green: significantly higher, red: lower).")
