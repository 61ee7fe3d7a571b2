"""Resident memory and threads of a server process, read from /proc (no psutil needed).

`RssSampler` samples `/proc/<pid>/status` (VmRSS, VmHWM, Threads) every 0.2 s in a daemon thread
and keeps the peak. Threads share their process' address space, so VmRSS already counts every
thread's memory. The server's training processes (a forkserver and one child per run) share most
of their pages with each other, so adding their RSS would count torch several times: the sampler
also records the PSS (proportional set size, each shared page split between its users) of the
server and all its descendants, which is what they cost together, and what made up its peak
(`pss_peak_parts`: each process's PSS, named server, forkserver, resource tracker, training child).
`mark(label)` / `peak_since(label)` give the peak over one phase of a load test.

Run as a script to measure what `import torch` costs in a fresh interpreter:
    .venv/bin/python loadtest/memory.py --import-torch [--python /tmp/venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

MB = 1024 * 1024


def _status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (bytes) and Threads of one process; {} if it is gone."""
    out: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(val.split()[0]) * 1024  # kB -> bytes
        elif key == "Threads":
            out[key] = int(val)
    return out


def children(pid: int) -> list[int]:
    """All descendant process ids of `pid` (via /proc/<pid>/task/*/children)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        p = stack.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(kids)
            stack.extend(kids)
    return found


def rss_bytes(pid: int) -> int:
    """Current resident memory of the process `pid` (its descendants not included)."""
    return _status(pid).get("VmRSS", 0)


def pss_parts(pid: int) -> dict[int, tuple[str, int]]:
    """PSS (bytes) of `pid` and each descendant, by pid, with a short name (server, forkserver,
    resource tracker, training child), read from /proc/<pid>/smaps_rollup, as smem does."""
    parts: dict[int, tuple[str, int]] = {}
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    parts[p] = (process_kind(p, pid), int(line.split()[1]) * 1024)
                    break
        except OSError:
            continue
    return parts


def process_kind(p: int, server: int) -> str:
    """ "server", "forkserver", "resource tracker" or "training child" (a forkserver's child)."""
    if p == server:
        return "server"
    try:
        cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "forkserver" in cmd:
        parent = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]
        return "forkserver" if int(parent) == server else "training child"
    return "other"


def pss_bytes(pid: int) -> int:
    """PSS of `pid` and all its descendants together (/proc/<pid>/smaps_rollup): their memory cost."""
    return sum(size for _, size in pss_parts(pid).values())


def hwm_bytes(pid: int) -> int:
    """The kernel's own peak RSS of the process (VmHWM) since it started."""
    return _status(pid).get("VmHWM", 0)


def thread_names(pid: int) -> Counter[str]:
    """Thread names (/proc/<pid>/task/*/comm) counted; Python threads show their OS name."""
    names: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            names[(task / "comm").read_text().strip()] += 1
        except OSError:
            continue
    return names


def thread_count(pid: int) -> int:
    return _status(pid).get("Threads", 0)


class RssSampler:
    """Background sampler of a process' RSS (every `interval` s), with per-phase peaks."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int, int, int]] = []  # (time, rss, threads, pss of the tree)
        self._marks: dict[str, int] = {}
        self.pss_peak = 0
        self.pss_peak_parts: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        rss = rss_bytes(self.pid)
        th = thread_count(self.pid)
        if rss:
            parts = pss_parts(self.pid)
            pss = sum(size for _, size in parts.values())
            with self._lock:
                self.samples.append((time.monotonic(), rss, th, pss))
                if pss > self.pss_peak:  # what made up the highest PSS seen
                    self.pss_peak, self.pss_peak_parts = pss, parts
        return rss

    def pss_peak_since(self, label: str) -> int:
        """Peak PSS of the server and its training processes since `mark(label)`."""
        with self._lock:
            window = self.samples[self._marks.get(label, 0) :]
        return max((s[3] for s in window), default=0)

    def mark(self, label: str) -> None:
        """Start a phase: later `peak_since(label)` looks at samples from here on."""
        with self._lock:
            self._marks[label] = len(self.samples)

    def peak_since(self, label: str, until: str | None = None) -> int:
        with self._lock:
            lo = self._marks.get(label, 0)
            hi = self._marks.get(until, len(self.samples)) if until else len(self.samples)
            window = self.samples[lo:hi]
        return max((s[1] for s in window), default=0)

    def max_threads_since(self, label: str) -> int:
        with self._lock:
            window = self.samples[self._marks.get(label, 0) :]
        return max((s[2] for s in window), default=0)

    def now(self) -> int:
        return self.sample()

    def between(self, t0: float, t1: float) -> list[int]:
        """RSS samples taken between two `time.monotonic()` readings."""
        with self._lock:
            return [s[1] for s in self.samples if t0 <= s[0] <= t1]


def import_rss(python: str, module: str = "torch") -> dict[str, float]:
    """RSS of a fresh interpreter before and after `import <module>` (MB)."""
    code = (
        "import json, pathlib\n"
        "def rss():\n"
        "    for l in pathlib.Path('/proc/self/status').read_text().splitlines():\n"
        "        if l.startswith('VmRSS'): return int(l.split()[1]) / 1024\n"
        "before = rss()\n"
        f"import {module}\n"
        f"v = getattr({module}, '__version__', '?')\n"
        "after = rss()\n"
        "print(json.dumps({'before_mb': before, 'after_mb': after, 'version': str(v)}))\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="2")
    out = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, env=env, timeout=300, check=True
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["delta_mb"] = res["after_mb"] - res["before_mb"]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--import-torch", action="store_true", help="measure `import torch` RSS")
    ap.add_argument("--module", default="torch")
    ap.add_argument("--python", default=sys.executable, help="interpreter to measure (e.g. a CPU-torch venv)")
    ap.add_argument("--pid", type=int, help="print RSS, peak and thread names of a running process")
    args = ap.parse_args()
    if args.pid:
        print(
            json.dumps(
                {
                    "rss_mb": rss_bytes(args.pid) / MB,
                    "hwm_mb": hwm_bytes(args.pid) / MB,
                    "threads": dict(thread_names(args.pid)),
                }
            )
        )
    if args.import_torch or not args.pid:
        print(json.dumps(import_rss(args.python, args.module)))


if __name__ == "__main__":
    main()
