"""Speed benchmark: the model's cost per firm-step against Mesa's own example models.

Everything runs in one process, so the ratios are comparable on a noisy machine:
- ClusterModel (top_down, the most active scenario) with about 100, 1,000 and 10,000 firms:
  the default town with its firm counts, population, supplier base, plots, universities and
  `town.scale` (public budgets and investor arrivals) multiplied alike, so every firm meets
  the same budgets and arrivals per firm as in the default town;
- BoltzmannWealth and VirusOnNetwork (shipped inside mesa) with the same agent counts.
After a warm-up, chunks of the three models are interleaved (ours, Boltzmann, Virus, ours, ...)
so that a change of load on the machine cannot skew one ratio; the cost per agent-step is the
mean over all timed chunks.

Then: one default-town run of 60 quarters per scenario (build + run, mean of repeats), and
the main job (`tased-experiment`, 120 runs, aggregation included) timed by its wall clock in
a fresh output directory.

Targets: cost per firm-step at 10,000 firms at most 2x Boltzmann's agent-step cost; at 10,000
at most 1.3x that at 1,000; a default-town run at most 0.2 s; the main job under 30 s.

Usage: python benchmarks/bench.py [--sizes 100 1000 10000] [--chunks 4] [--no-main-job]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth
from mesa.examples.basic.virus_on_network.model import VirusOnNetwork

from simulation.config import ModelConfig
from simulation.model import ClusterModel
from simulation.presets import load_config, options

WARM_UP = 8  # quarters before timing: the firm network forms in the first years
CHUNK = 4  # steps per timed chunk, the same for every model and size
TARGETS = {"boltzmann": 2.0, "scaling": 1.3, "default_run": 0.2, "main_job": 30.0}


def scaled_config(n_firms: int, scenario: str = "top_down", seed: int = 1) -> ModelConfig:
    """The default town scaled to about n_firms firms, with budgets per firm unchanged."""
    cfg = load_config("sokol", scenario, {"seed": seed})
    town = cfg.town
    k = n_firms / (sum(s.initial_firms for s in town.sectors) + 1)
    for s in town.sectors:
        s.initial_firms = round(s.initial_firms * k)
    town.population = max(3_000, int(town.population * k))
    town.cfe_suppliers = max(1, int(town.cfe_suppliers * k))
    town.serviced_plots = int(math.ceil(town.serviced_plots * k))
    town.scale = k
    cfg.cfe.max_suppliers = max(town.cfe_suppliers + 5, int(cfg.cfe.max_suppliers * k))
    for u in town.universities:
        u.capacity = int(math.ceil(u.capacity * k))
        u.graduates_per_step *= k
        u.spinoff_rate *= k
    return cfg


class Timed:
    """A model stepped in chunks: seconds and agent-steps accumulated over the timed chunks."""

    def __init__(self, model, count) -> None:
        self.model, self.count = model, count
        self.seconds = 0.0
        self.agent_steps = 0
        for _ in range(WARM_UP):
            model.step()

    def chunk(self) -> None:
        start = time.perf_counter()
        agents = 0
        for _ in range(CHUNK):
            self.model.step()
            agents += self.count(self.model)
        self.seconds += time.perf_counter() - start
        self.agent_steps += agents

    @property
    def per_agent_step(self) -> float:
        return self.seconds / self.agent_steps


def compare(n: int, chunks: int) -> tuple[float, float, float]:
    side = max(10, int(math.sqrt(n)))
    models = [
        Timed(ClusterModel(scaled_config(n)), lambda m: len(m.firms)),
        Timed(BoltzmannWealth(BoltzmannScenario(n=n, width=side, height=side, rng=1)),
              lambda m: len(m.agents)),
        Timed(VirusOnNetwork(num_nodes=n, rng=1), lambda m: len(m.agents)),
    ]
    for _ in range(chunks):
        for timed in models:
            timed.chunk()
    return tuple(t.per_agent_step for t in models)


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def default_runs(repeats: int) -> dict[str, float]:
    out = {}
    for scenario in options("scenario"):
        cfg = load_config("sokol", scenario, {"seed": 1})
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            ClusterModel(cfg).run()
            times.append(time.perf_counter() - start)
        out[scenario] = statistics.mean(times)
    return out


def main_job() -> float:
    """Wall time of `tased-experiment` (the main job) into a fresh directory."""
    script = Path(sys.executable).parent / "tased-experiment"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "experiments.sweep"]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([*command, f"experiment.out_dir={tmp}"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONHASHSEED": "0"})
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--chunks", type=int, default=4, help="timed chunks per model")
    parser.add_argument("--repeats", type=int, default=5, help="default-town runs per scenario")
    parser.add_argument("--no-main-job", action="store_true", help="skip timing the main job")
    args = parser.parse_args()

    rows = {n: compare(n, args.chunks) for n in args.sizes}
    print(f"{'agents':>8} {'model us/firm-step':>19} {'Boltzmann us':>13} {'Virus us':>9} "
          f"{'model/Boltzmann':>16} {'model/Virus':>12}")
    for n, (ours, boltz, virus) in rows.items():
        print(f"{n:>8} {ours * 1e6:>19.2f} {boltz * 1e6:>13.2f} {virus * 1e6:>9.2f} "
              f"{ours / boltz:>16.2f} {ours / virus:>12.2f}")
    if 10000 in rows:
        ratio = rows[10000][0] / rows[10000][1]
        print(f"model / Boltzmann at 10,000 agents = {ratio:.2f} (target <= "
              f"{TARGETS['boltzmann']}: {verdict(ratio, TARGETS['boltzmann'])})")
    if 1000 in rows and 10000 in rows:
        scaling = rows[10000][0] / rows[1000][0]
        print(f"cost per firm-step at 10,000 / at 1,000 firms = {scaling:.2f} (target <= "
              f"{TARGETS['scaling']}: {verdict(scaling, TARGETS['scaling'])})")

    print("\ndefault town (sokol), 60 quarters, build + run, mean of "
          f"{args.repeats} runs:")
    runs = default_runs(args.repeats)
    for scenario, seconds in runs.items():
        print(f"  {scenario:<13} {seconds:.3f} s")
    worst = max(runs.values())
    print(f"slowest scenario {worst:.3f} s (target <= {TARGETS['default_run']} s: "
          f"{verdict(worst, TARGETS['default_run'])})")

    if not args.no_main_job:
        seconds = main_job()
        print(f"\nmain job (tased-experiment, 120 runs with aggregation), wall time: "
              f"{seconds:.1f} s (target < {TARGETS['main_job']} s: "
              f"{verdict(seconds, TARGETS['main_job'])})")


if __name__ == "__main__":
    main()
