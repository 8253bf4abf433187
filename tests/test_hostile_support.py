"""Helpers of the hostile test suite (tests/test_hostile_*.py): the real console scripts in
subprocesses, checks of the one-line error path, fault injection, process trees, mounts.

Faults are injected into the real commands without touching their code: `inject` writes a
`sitecustomize.py` that Python imports at start-up in the command and in every worker process
(through PYTHONPATH), and patches a function of `experiments.output` there.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MODULES = {"tased-sim": "experiments.run", "tased-experiment": "experiments.sweep",
           "tased-aggregate": "experiments.aggregate"}
#: a tiny sweep: 1 cell (baseline) x 2 seeds of 6 quarters, in this process
TINY = ["steps=6", "experiment.replications=2", "experiment.workers=1",
        "experiment.formats=[png]", "scenario=baseline"]


def command(name: str) -> list[str]:
    script = BIN / name
    return [str(script)] if script.exists() else [sys.executable, "-m", MODULES[name]]


def environment(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HYDRA_FULL_ERROR", "PYTHONPATH", "TASED_SWEEP_PID")}
    return {**env, **(extra or {})}


def run(name: str, *args: str, cwd: Path, env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*command(name), *args], capture_output=True, text=True, cwd=cwd,
                          env=environment(env), timeout=timeout)


def start(name: str, *args: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    """The command in its own process group, output to files in cwd."""
    with open(cwd / f"{name}.out", "w") as out, open(cwd / f"{name}.err", "w") as err:
        return subprocess.Popen([*command(name), *args], cwd=cwd, env=environment(env),
                                stdout=out, stderr=err, start_new_session=True)


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


def assert_one_error(res: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Exit code, exactly one `error:` line naming every needle, no traceback; the line."""
    assert res.returncode == code, (res.returncode, res.stdout, res.stderr)
    errors = error_lines(res.stderr)
    assert len(errors) == 1, res.stderr
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def inject(directory: Path, code: str) -> dict:
    """Environment that runs `code` at start-up of every Python process (sitecustomize)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(textwrap.dedent(code))
    return {"PYTHONPATH": str(directory)}


#: simulate() raises for cluster.management_quality == 0.9 (a valid value)
FAILING_CELL = """
import experiments.output as out
_simulate = out.simulate
def simulate(cfg):
    if cfg.cluster.management_quality == 0.9:
        raise ValueError("injected failure of the model")
    return _simulate(cfg)
out.simulate = simulate
"""

#: the disk is full for every run from seed FULL_FROM on
DISK_FULL = """
import errno, os
import experiments.output as out
_atomic_write = out.atomic_write
def atomic_write(path, writer):
    seed = path.parent.name
    if seed.startswith("seed") and seed[4:].isdigit() and int(seed[4:]) >= {full_from}:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    return _atomic_write(path, writer)
out.atomic_write = atomic_write
"""


def files(directory: Path, pattern: str) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.glob(pattern)) if p.is_file()}


def run_files(sweep_dir: Path) -> dict[str, bytes]:
    """The bytes of every run's tables and config (run.json holds timings, left out)."""
    out = {}
    for name in ("model.parquet", "firms.parquet", "projects.parquet", "config.yaml"):
        out.update(files(sweep_dir, f"runs/*/seed*/{name}"))
    return out


def results(sweep_dir: Path) -> dict[str, bytes]:
    return {**run_files(sweep_dir), **files(sweep_dir, "table.parquet"),
            **files(sweep_dir, "summary.csv")}


def finished(sweep_dir: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(sweep_dir.glob("runs/*/seed*/run.json"))}


def wait_for(condition, timeout: float = 120, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


# --------------------------------------------------------------------------- processes


def stop_a_running_worker(sweep_dir: Path, proc: subprocess.Popen) -> tuple[int, str]:
    """Stop (SIGSTOP) a process while it runs a run of the sweep, as its `.running` marker
    names it; returns (its pid, the run as cell/seedK). Fails if the sweep ends first."""
    while True:
        assert wait_for(lambda: any(sweep_dir.glob("runs/*/seed*/.running"))
                        or proc.poll() is not None, timeout=300)
        assert proc.poll() is None, "the sweep ended before a worker could be stopped"
        for marker in sweep_dir.glob("runs/*/seed*/.running"):
            try:
                pid = int(marker.read_text())
                os.kill(pid, signal.SIGSTOP)
            except (OSError, ValueError):
                continue
            if marker.exists() and marker.read_text() == str(pid):
                return pid, f"{marker.parent.parent.name}/{marker.parent.name}"
            os.kill(pid, signal.SIGCONT)


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0]


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            parents.setdefault(st[0], []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    proc.wait(timeout=60)


def reap(proc: subprocess.Popen) -> None:
    """Make sure nothing of a test's command outlives it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(timeout=30)


# --------------------------------------------------------------------------- mounts


def can_mount() -> bool:
    """Root with the right to mount (a fresh CI machine or container may not have it)."""
    if os.geteuid() != 0:
        return False
    probe = Path(tempfile.gettempdir()) / f"tased-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], capture_output=True)
        return ok
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                   check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextlib.contextmanager
def read_only(path: Path):
    """path, bind-mounted read-only onto itself."""
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


needs_mount = pytest.mark.skipif(not can_mount(), reason="needs root allowed to mount (tmpfs, "
                                 "read-only bind mounts); the injected-fault tests cover the "
                                 "same paths without it")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_fault_injection_reaches_every_python_process(tmp_path):
    env = inject(tmp_path / "inject", "import os\nos.environ['TASED_INJECTED'] = 'yes'\n")
    code = "import os, subprocess, sys; print(os.environ.get('TASED_INJECTED'))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=environment(env), check=True)
    assert res.stdout.strip() == "yes"


def test_process_tree_helpers_see_children(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import subprocess, sys; "
                             "subprocess.run([sys.executable, '-c', 'import time; "
                             "time.sleep(30)'])"], start_new_session=True)
    try:
        assert wait_for(lambda: len(descendants(proc.pid)) == 1, timeout=20)
        child = descendants(proc.pid)[0]
        assert alive(child)
    finally:
        kill_group(proc)
    assert wait_for(lambda: not alive(child), timeout=10)
