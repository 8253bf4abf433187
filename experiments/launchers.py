"""The launchers a sweep can run on, chosen on the command line (`hydra/launcher=NAME`), and
how many jobs each runs at once.

| preset | runs the jobs | options (`hydra.launcher.KEY=VALUE`) |
|---|---|---|
| `joblib_workers` (default) | in `experiment.workers` local processes (joblib) | `experiment.workers` |
| `basic` | one after another in the command's own process | |
| `submitit_local` | each in its own local process, all at once (hydra#2323) | `timeout_min` |
| `slurm` | as a SLURM job array (submitit) | `array_parallelism`, `timeout_min`, `mem_gb`, `partition`, `cpus_per_task`, `account`, `qos`, `setup`, `additional_parameters` |
| `ray` | as Ray tasks, on a running cluster or a local Ray | `ray.init.address`, `ray.init.num_cpus` |

Each preset keeps its settings in its own config (hydra/launcher/NAME): a key shared by all
of them would break `hydra/launcher=basic`. A launcher chosen inside an experiment file is
applied too late and ignored (hydra#3231): choose it on the command line.

The submitit and Ray presets are stored under the plugins' own names after Hydra has scanned
its plugins (which registers the plugins' defaults), so these defaults replace them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.plugins import Plugins
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf

from experiments.layout import available_cpus

PROVIDER = "tased"
#: jobs per worker when the chunk size is chosen automatically: enough for the last jobs to
#: balance the load, few enough that each job's start-up (about 0.2 s) does not count
CHUNKS_PER_WORKER = 4
#: workers assumed on a Ray cluster whose size the command cannot know before it connects
RAY_CLUSTER_CPUS = 64
#: where submitit keeps its pickles and the jobs' logs, inside the sweep directory
SUBMITIT_FOLDER = "${hydra.sweep.dir}/jobs/.submitit/%j"
#: errors of a launcher that mean a worker process died (killed, out of memory, preempted)
WORKER_DIED = {"TerminatedWorkerError", "BrokenProcessPool", "UncompletedJobError",
               "WorkerCrashedError", "NodeDiedError", "LocalRayletDiedError"}


def _ray_init() -> dict:
    return {
        # host:port of a running cluster (`ray start --head`), "auto" for the one `ray start`
        # started on this machine, or "local": a new local Ray for this sweep alone
        "address": "local",
        "num_cpus": None,  # a local Ray only: CPUs it may use (null: all of them)
        "include_dashboard": False,
        # null: Ray's default; Ray refuses any value when it connects to a running cluster
        "object_store_memory": None,
        "logging_level": "WARNING",
    }


def register_launchers() -> None:
    """Store the presets (hydra/launcher group). Scans Hydra's plugins first, so the plugins'
    own defaults for `submitit_local` and `ray` are registered before these replace them."""
    Plugins.instance()
    store = ConfigStore.instance()
    store.store(group="hydra/launcher", name="joblib_workers",
                node=JobLibLauncherConf(n_jobs="${experiment.workers}"), provider=PROVIDER)
    try:
        from hydra_plugins.hydra_submitit_launcher.config import (LocalQueueConf,
                                                                  SlurmQueueConf)
    except ImportError:  # pragma: no cover - the cluster extras are not installed
        pass
    else:
        # a local job is not a cluster job: no time limit worth the name (a week)
        store.store(group="hydra/launcher", name="submitit_local", provider=PROVIDER,
                    node=LocalQueueConf(submitit_folder=SUBMITIT_FOLDER, timeout_min=10_080,
                                        cpus_per_task=1, name="tased"))
        store.store(group="hydra/launcher", name="slurm", provider=PROVIDER,
                    node=SlurmQueueConf(submitit_folder=SUBMITIT_FOLDER, timeout_min=240,
                                        mem_gb=4, cpus_per_task=1, tasks_per_node=1,
                                        nodes=1, partition=None, array_parallelism=64,
                                        max_num_timeout=2, name="tased"))
    try:
        from hydra_plugins.hydra_ray_launcher._config import RayConf, RayLauncherConf
    except ImportError:  # pragma: no cover
        pass
    else:
        store.store(group="hydra/launcher", name="ray", provider=PROVIDER,
                    node=RayLauncherConf(ray=RayConf(
                        init=_ray_init(),
                        # one CPU per job; a job whose worker died is tried again (its
                        # finished runs are skipped)
                        remote={"num_cpus": 1, "max_retries": 3})))


@dataclass
class Launcher:
    """What the sweep needs to know of the chosen launcher."""

    name: str
    parallelism: int  # jobs it runs at once (assumed where it cannot be known)
    all_at_once: bool = False  # starts every job at once (submitit_local, hydra#2323)
    label: str = ""  # for the sweep's first line
    notes: list = field(default_factory=list)


def _get(node: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        try:
            node = node[key]
        except (KeyError, TypeError, AttributeError):
            return default
        if node is None:
            return default
    return node


def describe(choice: str, launcher_cfg: Any, workers: int) -> Launcher:
    """The launcher chosen for a sweep (its composed `hydra.launcher` node) and how many jobs
    it runs at once."""
    cpus = available_cpus()
    if choice in ("joblib_workers", "joblib"):
        n = _get(launcher_cfg, "n_jobs", default=workers)
        n = cpus if int(n) < 0 else int(n)
        return Launcher(choice, n, label=f"{n} worker(s)")
    if choice == "basic":
        return Launcher(choice, 1, label="1 worker (hydra/launcher=basic)")
    if choice == "submitit_local":
        return Launcher(choice, cpus, all_at_once=True,
                        label="hydra/launcher=submitit_local (every job at once)")
    if choice in ("slurm", "submitit_slurm"):
        n = int(_get(launcher_cfg, "array_parallelism", default=256))
        part = _get(launcher_cfg, "partition", default="the default partition")
        return Launcher(choice, n, label=f"SLURM job array of at most {n} tasks at once "
                                         f"on {part}")
    if choice == "ray":
        address = _get(launcher_cfg, "ray", "init", "address")
        given = _get(launcher_cfg, "ray", "init", "num_cpus")
        if address in (None, "local"):
            n = int(given) if given else cpus
            return Launcher(choice, n, label=f"a local Ray of {n} CPU(s)")
        return Launcher(choice, int(given) if given else RAY_CLUSTER_CPUS,
                        label=f"the Ray cluster at {address}")
    return Launcher(choice, cpus, label=f"hydra/launcher={choice}")


def prepare_environment(choice: str) -> None:
    """Settings the launcher's processes inherit from this one."""
    if choice == "ray":
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report from here


def worker_died(err: BaseException) -> bool:
    """An error of the launcher meaning a worker process died while it ran a job."""
    seen, todo = set(), [err]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if type(e).__name__ in WORKER_DIED:
            return True
        todo += [e.__cause__, e.__context__]
    return False


def launcher_error(err: BaseException) -> bool:
    """An error of the launcher itself (submission refused, no cluster at the address)."""
    module = type(err).__module__.split(".")[0]
    return module in ("submitit", "ray", "joblib", "loky", "hydra_plugins") \
        or isinstance(err, ConnectionError)
