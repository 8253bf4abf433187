"""Progress of a sweep: the jobs record each run they finish, the command prints the lines.

Every finished or failed run appends one JSON line to progress.log in the sweep directory (an
O_APPEND write of one short line, safe from many processes and, on a shared filesystem, from
many machines). The command's own process reads the new lines and prints "runs done / total,
elapsed, ETA" at most once a second, at once when a run failed, and once at the end, whatever
the launcher: jobs on a cluster do not print to the command's terminal.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from experiments.layout import PROGRESS_FILE

PROGRESS_EVERY = 1.0  # seconds between progress lines (failures and the end always)
POLL_EVERY = 0.2  # seconds between reads of progress.log


def record(sweep_dir: Path, cell: str, seed: int, status: str, error: str = "") -> None:
    """Append one run's outcome to progress.log (called by the jobs)."""
    line = json.dumps({"cell": cell, "seed": seed, "status": status, "error": error,
                       "time": time.time()})
    fd = os.open(Path(sweep_dir) / PROGRESS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def read_progress(sweep_dir: Path) -> list[dict]:
    path = Path(sweep_dir) / PROGRESS_FILE
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Printer:
    """Prints the sweep's progress lines from a thread of the command's process."""

    def __init__(self, sweep_dir: Path, name: str, total: int, already: int,
                 workers: int) -> None:
        self.path = Path(sweep_dir) / PROGRESS_FILE
        self.name, self.total, self.already = name, total, already
        self.workers = max(1, workers)
        self.started = time.time()
        self.lines: list[dict] = []
        self.offset = 0
        self.printed_at = 0.0
        self.printed_count = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tased-progress", daemon=True)

    def start(self) -> Printer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and print the last line if anything changed since."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._read()
        if self.lines and len(self.lines) != self.printed_count:
            self._print()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_EVERY):
            try:
                failed = self._read()
            except (OSError, ValueError):
                continue
            due = time.time() - self.printed_at >= PROGRESS_EVERY
            if self.lines and len(self.lines) != self.printed_count and (failed or due):
                self._print()

    def _read(self) -> bool:
        """Read the lines appended since; True if one of them is a failure."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return False
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        self.offset += end
        new = [json.loads(x) for x in data[:end].decode().splitlines() if x.strip()]
        self.lines += new
        return any(x["status"] != "done" for x in new)

    def _print(self) -> None:
        lines = self.lines
        self.printed_at, self.printed_count = time.time(), len(lines)
        new = len(lines)
        failed = sum(1 for x in lines if x["status"] != "done")
        done = min(self.already + new, self.total) if self.total else self.already + new
        elapsed = time.time() - self.started
        remaining = max(self.total - done, 0)
        # the rate between the first and the latest finished run leaves out the start-up
        span = lines[-1]["time"] - lines[0]["time"] if new > 2 * self.workers else 0.0
        rate = span / (new - 1) if span > 0 else (elapsed / new if new else 0.0)
        eta = clock(rate * remaining) if new else "--"
        failures = f" ({failed} failed)" if failed else ""
        print(f"[{self.name}] {done}/{self.total or '?'} runs done{failures}, "
              f"elapsed {clock(elapsed)}, ETA {eta}", file=sys.stderr, flush=True)
