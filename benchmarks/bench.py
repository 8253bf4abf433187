"""Speed benchmark: the model's cost per firm-step against Mesa's own example models.

Runs everything in one process so the ratios are comparable on a noisy machine:
- ClusterModel (top_down scenario, the most active) with about 100, 1,000 and 10,000 firms,
  built by scaling the default town's firm counts and population;
- BoltzmannWealth and VirusOnNetwork (shipped inside mesa) with the same agent counts;
- one default-town run of 60 quarters per scenario.

Targets: firm-step cost at 10,000 firms <= 3x Boltzmann's agent-step cost; cost per firm-step at
10,000 firms <= 1.5x that at 1,000; a default-town run of 60 quarters under 1 second.

Usage: python benchmarks/bench.py [--sizes 100 1000 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import time

from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth
from mesa.examples.basic.virus_on_network.model import VirusOnNetwork

from simulation.config import ModelConfig
from simulation.model import ClusterModel
from simulation.presets import load_config

SCENARIOS = ("baseline", "tased_only", "cluster_only", "top_down", "business_led", "joint")


def scaled_config(n_firms: int, scenario: str = "top_down", seed: int = 1) -> ModelConfig:
    """The default town with firm counts, population and CFE supplier base scaled to n_firms."""
    cfg = load_config("sokol", scenario, {"seed": seed})
    base = sum(s.initial_firms for s in cfg.town.sectors) + 1
    k = n_firms / base
    for s in cfg.town.sectors:
        s.initial_firms = round(s.initial_firms * k)
    cfg.town.population = max(3_000, int(cfg.town.population * k))
    cfg.town.cfe_suppliers = max(1, int(cfg.town.cfe_suppliers * k))
    cfg.cfe.max_suppliers = max(cfg.town.cfe_suppliers + 5, int(cfg.cfe.max_suppliers * k))
    return cfg


WARM_UP = 8  # quarters before timing: the firm network forms in the first years
CHUNK = 8  # quarters per timed chunk, the same at every size


def per_agent_step(model, steps: int, repeats: int, count) -> float:
    """Best seconds per agent-step over `repeats` chunks of `steps` steps, after a warm-up."""
    for _ in range(WARM_UP):
        model.step()
    chunks = []
    for _ in range(repeats):
        agents = 0
        start = time.perf_counter()
        for _ in range(steps):
            model.step()
            agents += count(model)
        chunks.append((time.perf_counter() - start) / agents)
    return min(chunks)


def best(fn, repeats: int) -> float:
    return min(fn() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rows = []
    for n in args.sizes:
        steps = CHUNK
        ours = per_agent_step(ClusterModel(scaled_config(n)), steps, args.repeats,
                              lambda m: len(m.firms))
        side = max(10, int(math.sqrt(n)))
        boltz = per_agent_step(
            BoltzmannWealth(BoltzmannScenario(n=n, width=side, height=side, rng=1)), steps,
            args.repeats, lambda m: len(m.agents))
        virus = per_agent_step(VirusOnNetwork(num_nodes=n, rng=1), steps, args.repeats,
                               lambda m: len(m.agents))
        rows.append((n, ours, boltz, virus))

    print(f"{'agents':>8} {'model us/firm-step':>19} {'Boltzmann us':>13} {'Virus us':>9} "
          f"{'model/Boltzmann':>16} {'model/Virus':>12}")
    for n, ours, boltz, virus in rows:
        print(f"{n:>8} {ours * 1e6:>19.1f} {boltz * 1e6:>13.1f} {virus * 1e6:>9.1f} "
              f"{ours / boltz:>16.2f} {ours / virus:>12.2f}")
    by_n = {n: ours for n, ours, _, _ in rows}
    if 1000 in by_n and 10000 in by_n:
        scaling = by_n[10000] / by_n[1000]
        print(f"scaling: cost per firm-step at 10,000 / at 1,000 firms = {scaling:.2f} "
              f"(target <= 1.5)")
    if 10000 in by_n:
        ratio = by_n[10000] / next(b for n, _, b, _ in rows if n == 10000)
        print(f"model / Boltzmann at 10,000 agents = {ratio:.2f} (target <= 3)")

    print("\ndefault town (sokol), 60 quarters, build + run, best of repeats:")
    for scenario in SCENARIOS:
        cfg = load_config("sokol", scenario, {"seed": 1})

        def one_run() -> float:
            start = time.perf_counter()
            ClusterModel(cfg).run()
            return time.perf_counter() - start
        print(f"  {scenario:<13} {best(one_run, args.repeats):.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
