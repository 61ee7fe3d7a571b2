"""The load test's pieces every phase uses: the pages, the servers, statistics, CPU and the plan."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.ws_client import (
    RunResult,
)

ROOT = Path(__file__).resolve().parents[1]


PAGES = ["landing", "kernels", "shape_calculator", "model_builder", "training", "draw_and_predict"]


ALL_PHASES = ["start", "idle", "one", "ten", "burst", "full", "class", "hostile", "browsers", "after"]


MAX_SESSIONS = 30


MAX_BROWSERS = 8


SPEED_RE = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)\s*(?:samples|images|imgs|img|examples|ex)\s*/\s*s", re.I)


SPEED_LABEL_RE = re.compile(r"speed|(?:images|img|samples)\s*/\s*s", re.I)


NUMBER_RE = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?")


DONE_RE = re.compile(r"\b(finished|done|complete[d]?|stopped|test accuracy)\b", re.I)


QUEUE_RE = re.compile(r"\b(queue|queued|waiting)\b", re.I)


QUEUE_POS_RE = re.compile(r"number\W*(\d+)\W*in the\s+queue", re.I)  # "You are **number 3** in the queue"


ANSWER_RE = re.compile(r"draw-answer|The network says", re.I)  # the Draw page's answer element


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no data."""
    if not values:
        return math.nan
    s = sorted(values)
    k = max(0, math.ceil(q / 100 * len(s)) - 1)
    return s[k]


def med(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


@dataclass
class Stats:
    """Everything one phase of one app measured."""

    render: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    exceptions: list[str] = field(default_factory=list)
    disconnects: list[str] = field(default_factory=list)
    errors_shown: list[str] = field(default_factory=list)
    train_click: list[float] = field(default_factory=list)  # Train pressed -> run finished
    train_ticks: list[float] = field(default_factory=list)  # fragment auto-rerun times
    throughput: list[float] = field(default_factory=list)  # samples/s read from the page, per run
    train_notes: list[str] = field(default_factory=list)
    queue_positions: set[int] = field(default_factory=set)
    canvas: list[float] = field(default_factory=list)  # drawing sent -> answer element received
    canvas_full: list[float] = field(default_factory=list)  # drawing sent -> whole rerun finished
    page_bytes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    canvas_notes: list[str] = field(default_factory=list)
    browser: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    browser_errors: list[str] = field(default_factory=list)
    sessions_done: int = 0
    settled: int = 0  # students finished, with or without error
    wall_s: float = 0.0

    def record(self, page: str, res: RunResult) -> None:
        self.render[page].append(res.seconds)
        self.page_bytes[page].append(res.bytes_in)
        self.exceptions.extend(f"{page}: {e}" for e in res.exceptions)
        self.errors_shown.extend(f"{page}: {e[:120]}" for e in res.errors_shown)

    def errors(self) -> int:
        return len(self.exceptions) + len(self.disconnects) + len(self.browser_errors)


def streamlit_command(script: str, port: int, *extra: str) -> list[str]:
    """`streamlit run` as every test server here starts it: headless, loopback, no file watcher."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        *extra,
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run <script>` on a free loopback port, from the repo root (on `cpus` only, if set)."""

    def __init__(
        self,
        script: str,
        log: Path,
        extra: list[str] | None = None,
        env: dict | None = None,
        cpus: str | None = None,
    ):
        self.script = script
        self.cpus = cpus  # e.g. "0": the server (and the processes it starts) pinned with taskset
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.extra = extra or []
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> float:
        cmd = streamlit_command(self.script, self.port, *self.extra)
        if self.cpus:  # taskset execs the server: same pid, and its children inherit the cores
            cmd = ["taskset", "-c", self.cpus, *cmd]
        t0 = time.perf_counter()
        self._logf = open(self.log, "w")  # noqa: SIM115
        env = {**os.environ, **self.env} if self.env else None
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self._logf, stderr=subprocess.STDOUT, env=env)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.script} exited with {self.proc.returncode}; see {self.log}")
            try:
                if urllib.request.urlopen(self.base + "/_stcore/health", timeout=1).read().strip() == b"ok":
                    return time.perf_counter() - t0
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.script} not healthy within {timeout} s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with contextlib.suppress(Exception):
            self._logf.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_threads(pid: int, window: float = 3.0) -> tuple[float, int]:
    """(CPU share of one core over `window` s, number of threads that used CPU in it)."""

    def per_task() -> dict[str, int]:
        out = {}
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                f = (task / "stat").read_text().rsplit(")", 1)[1].split()
                out[task.name] = int(f[11]) + int(f[12])
        return out

    c0, t0 = cpu_seconds(pid), per_task()
    time.sleep(window)
    c1, t1 = cpu_seconds(pid), per_task()
    busy = sum(1 for k, v in t1.items() if v - t0.get(k, v) > 2)  # > 2 ticks (20 ms)
    return (c1 - c0) / window, busy


@dataclass
class Plan:
    think: float
    train_watch: float
    timeout: float
    deadline: float
    draws: int = 2


def time_left(plan: Plan) -> float:
    return plan.deadline - time.monotonic()


async def think(plan: Plan, rng: random.Random) -> None:
    if plan.think > 0:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * plan.think)


def machine() -> str:
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    try:
        import importlib.metadata as md

        tv = md.version("torch")
        sv = md.version("streamlit")
    except Exception:  # noqa: BLE001
        tv = sv = "?"
    return (
        f"{os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}, torch {tv} on CPU, streamlit {sv}"
    )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
