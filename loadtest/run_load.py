"""Classroom load test: N virtual students against CNN Classroom and against a bare app.

Run by hand (not in CI), from the repo root:

    .venv/bin/python loadtest/run_load.py                      # N=30, both apps, all phases
    .venv/bin/python loadtest/run_load.py -n 10 --browsers 0 --phases start,idle,one,full
    .venv/bin/python loadtest/run_load.py --markdown loadtest/logs/run.md --json loadtest/logs/run.json

It starts `streamlit run app.py` (ours) and then `streamlit run loadtest/bare_app/app.py` (a bare
app with as many one-line pages), each on a free loopback port, from the repo root so both read
the same .streamlit/config.toml. Every virtual student is a websocket client speaking
Streamlit's protocol (loadtest/ws_client.py): it opens the landing page by URL, then every page
through its page-link hash, the way the sidebar menu does. A share of students press Train (the
button with key "train_start"; fragment auto-reruns are replayed like a browser's timers) and a
share draw a digit (the drawable canvas' widget value is sent as the browser would); one more tab
reloads the Training page ten times (a new session each time). A few real Chromium tabs
(Playwright) open every page by URL on top.

Phases (--phases, in this order): start (RSS once healthy), idle (after one page view),
one (1 session browsing), ten (10), burst (K sessions press Train in the same second; ours
only), full (N sessions: browse, train, draw), after (all closed: RSS settles, CPU and threads
show whether a training thread is left).

Figures: time to first render per page (rerun sent -> script_finished), median and 95th
percentile, ours vs bare; training throughput per run (read from the page); canvas prediction
latency; errors (exception elements, disconnects, timeouts); server RSS from /proc (sampled
every 0.2 s). Everything is bounded: at most 30 sessions, 8 browsers, and --max-seconds overall.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.memory import MB, RssSampler, hwm_bytes, thread_count, thread_names  # noqa: E402
from loadtest.ws_client import (  # noqa: E402
    ClientError,
    RunResult,
    StreamlitSession,
    canvas_state_json,
    digit_png,
    widget_state,
)

PAGES = ["landing", "kernels", "shape_calculator", "model_builder", "training", "draw_and_predict"]
ALL_PHASES = ["start", "idle", "one", "ten", "burst", "full", "after"]
MAX_SESSIONS = 30
MAX_BROWSERS = 8
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SPEED_RE = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)\s*(?:samples|images|imgs|img|examples|ex)\s*/\s*s", re.I)
SPEED_LABEL_RE = re.compile(r"speed|(?:images|img|samples)\s*/\s*s", re.I)
NUMBER_RE = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?")
DONE_RE = re.compile(r"\b(finished|done|complete[d]?|stopped|test accuracy)\b", re.I)
QUEUE_RE = re.compile(r"\b(queue|queued|waiting)\b", re.I)
QUEUE_POS_RE = re.compile(r"number\W*(\d+)\W*in the\s+queue", re.I)  # "You are **number 3** in the queue"
ANSWER_RE = re.compile(r"draw-answer|The network says", re.I)  # the Draw page's answer element


# --------------------------------------------------------------------------- statistics


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


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run <script>` on a free loopback port, from the repo root."""

    def __init__(self, script: str, log: Path, extra: list[str] | None = None):
        self.script = script
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.extra = extra or []
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> float:
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            *self.extra,
        ]
        t0 = time.perf_counter()
        self._logf = open(self.log, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self._logf, stderr=subprocess.STDOUT)
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


# --------------------------------------------------------------------------- students


@dataclass
class Plan:
    think: float
    train_watch: float
    timeout: float
    deadline: float
    draws: int = 2


def _time_left(plan: Plan) -> float:
    return plan.deadline - time.monotonic()


async def _think(plan: Plan, rng: random.Random) -> None:
    if plan.think > 0:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * plan.think)


async def watch_training(
    s: StreamlitSession, stats: Stats, page_hash: str, plan: Plan, first: RunResult
) -> None:
    """Replay the page's fragment auto-reruns (the browser's timers) while training runs."""
    texts = first.texts()
    t_end = time.monotonic() + min(plan.train_watch, max(0.0, _time_left(plan)))
    speeds: list[float] = []
    saw_queue = any(QUEUE_RE.search(t) for t in texts)
    while time.monotonic() < t_end and s.auto_reruns:
        fid, interval = next(iter(s.auto_reruns.items()))
        await asyncio.sleep(max(0.1, interval))
        r = await s.run(page_script_hash=page_hash, fragment_id=fid, is_auto_rerun=True)
        stats.train_ticks.append(r.seconds)
        stats.exceptions.extend(f"training tick: {e}" for e in r.exceptions)
        texts = r.texts()
        saw_queue = saw_queue or any(QUEUE_RE.search(t) for t in texts)
        for label, value in r.metrics():  # e.g. "Speed (images/s)" = "2,149"
            m = NUMBER_RE.search(value)
            if SPEED_LABEL_RE.search(label) and m:
                speeds.append(float(m.group(0).replace(",", "")))
        for t in texts:
            stats.queue_positions.update(int(m.group(1)) for m in QUEUE_POS_RE.finditer(t))
            for m in SPEED_RE.finditer(t):
                speeds.append(float(m.group(1).replace(",", "")))
        if any(DONE_RE.search(t) for t in texts) and speeds:
            break
    if speeds:
        stats.throughput.append(speeds[-1])
    else:
        stats.train_notes.append("no samples/s shown" + (" (queued)" if saw_queue else ""))
    if saw_queue:
        stats.train_notes.append("saw a queue message")


async def press_train(s: StreamlitSession, stats: Stats, res: RunResult, plan: Plan, barrier=None) -> None:
    wid = res.widget_id("train_start")
    if wid is None:
        stats.train_notes.append("no Train button (key train_start) on the page")
        return
    page_hash = s.pages.get("training", "")
    if barrier is not None:
        await barrier.wait()
    r = await s.run(page_script_hash=page_hash, widgets=[widget_state(wid, trigger_value=True)])
    stats.train_click.append(r.seconds)
    stats.record("training (Train pressed)", r)
    await watch_training(s, stats, page_hash, plan, r)
    stop = r.widget_id("train_stop")
    if barrier is not None and stop is not None:  # burst students press Stop at the end
        r2 = await s.run(page_script_hash=page_hash, widgets=[widget_state(stop, trigger_value=True)])
        stats.record("training (Stop pressed)", r2)


async def draw(s: StreamlitSession, stats: Stats, res: RunResult, plan: Plan) -> None:
    ids = res.components("drawable_canvas")
    if not ids:
        stats.canvas_notes.append("no drawable canvas on the page")
        return
    page_hash = s.pages.get("draw_and_predict", "")
    for i in range(plan.draws):
        png = digit_png(280, "7" if i % 2 == 0 else "1")
        r = await s.run(
            page_script_hash=page_hash, widgets=[widget_state(ids[0], json_value=canvas_state_json(png))]
        )
        answer = r.first_matching(ANSWER_RE)
        if answer is None:
            stats.canvas_notes.append("no answer element after drawing")
        else:
            stats.canvas.append(answer)
        stats.canvas_full.append(r.seconds)
        stats.record("draw (prediction)", r)
        await asyncio.sleep(0.3)


async def student(
    i: int, base: str, role: str, stats: Stats, plan: Plan, hold: asyncio.Event, rng: random.Random
) -> None:
    s = StreamlitSession(base, timeout=plan.timeout)
    ok = False
    try:
        await s.connect()
        stats.record("landing", await s.run(page_name=""))
        for page in PAGES[1:]:
            if _time_left(plan) <= 0:
                stats.disconnects.append(f"student {i}: stopped by the time cap before {page}")
                break
            await _think(plan, rng)
            res = await s.open_page(page)
            stats.record(page, res)
            if page == "training" and role == "train":
                await press_train(s, stats, res, plan)
            elif page == "draw_and_predict" and role == "draw":
                await draw(s, stats, res, plan)
        else:
            ok = True
    except ClientError as exc:
        stats.disconnects.append(f"student {i}: {exc}")
    finally:
        stats.settled += 1
    try:
        if ok:
            stats.sessions_done += 1
            await hold.wait()  # keep the tab open until the whole phase has been measured
    finally:
        await s.close()


async def burst_student(
    i: int, base: str, stats: Stats, plan: Plan, barrier: asyncio.Barrier, hold: asyncio.Event
) -> None:
    s = StreamlitSession(base, timeout=plan.timeout)
    ok = False
    try:
        await s.connect()
        await s.run(page_name="")
        res = await s.open_page("training")
        await press_train(s, stats, res, plan, barrier=barrier)
        ok = True
    except ClientError as exc:
        stats.disconnects.append(f"burst student {i}: {exc}")
        with contextlib.suppress(Exception):
            await barrier.abort()
    except asyncio.BrokenBarrierError:
        stats.disconnects.append(f"burst student {i}: barrier broken (another burst student failed)")
    finally:
        stats.settled += 1
    try:
        if ok:
            stats.sessions_done += 1
            await hold.wait()
    finally:
        await s.close()


# --------------------------------------------------------------------------- browsers


async def browser_students(base: str, k: int, stats: Stats, plan: Plan) -> None:
    """k real Chromium tabs: open the landing page, then each page from the sidebar menu."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        stats.browser_errors.append("playwright not installed")
        return
    idle = "[data-testid='stApp'][data-test-script-state='notRunning']"

    content = "[data-testid='stMainBlockContainer'] [data-testid='stElementContainer']"

    async def one(br, j: int) -> None:
        ctx = await br.new_context(viewport={"width": 1280, "height": 800})
        pg = await ctx.new_page()
        pg.set_default_timeout(plan.timeout * 1000)
        try:
            for page in PAGES:
                if _time_left(plan) <= 0:
                    break
                t0 = time.perf_counter()
                await pg.goto(base + "/" + ("" if page == "landing" else page))
                await pg.wait_for_selector(content)
                await pg.wait_for_selector(idle)
                stats.browser[page].append(time.perf_counter() - t0)
                n = await pg.locator("[data-testid='stException']").count()
                if n:
                    stats.browser_errors.append(f"browser {j} {page}: {n} exception box(es)")
                await asyncio.sleep(plan.think)
        except Exception as exc:  # noqa: BLE001
            stats.browser_errors.append(f"browser {j}: {type(exc).__name__}: {str(exc)[:160]}")
        finally:
            await ctx.close()

    async with async_playwright() as pw:
        br = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*(one(br, j) for j in range(k)))
        finally:
            await br.close()


# --------------------------------------------------------------------------- phases


async def crowd(
    base: str,
    n: int,
    plan: Plan,
    *,
    train_share: float,
    draw_share: float,
    browsers: int,
    seed: int,
    reloaders: int = 0,
    reloads: int = 10,
) -> tuple[Stats, asyncio.Event, list[asyncio.Task]]:
    """n students at once (plus `browsers` Chromium tabs); all stay open until all are done."""
    stats = Stats()
    rng = random.Random(seed)
    n_train = round(n * train_share)
    n_draw = round(n * draw_share)
    roles = ["train"] * n_train + ["draw"] * n_draw + ["browse"] * (n - n_train - n_draw)
    rng.shuffle(roles)
    hold = asyncio.Event()
    t0 = time.perf_counter()
    tasks = [
        asyncio.create_task(student(i, base, roles[i], stats, plan, hold, random.Random(seed + i)))
        for i in range(n)
    ]
    btask = asyncio.create_task(browser_students(base, browsers, stats, plan)) if browsers else None
    rtasks = [asyncio.create_task(reloader(j, base, stats, plan, reloads)) for j in range(reloaders)]

    async def all_done() -> None:
        while stats.settled < n:
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(all_done(), timeout=max(1.0, _time_left(plan)))
    except TimeoutError:
        stats.disconnects.append(f"phase hit the time cap with {n - stats.settled} sessions unfinished")
    if btask:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(btask, timeout=max(1.0, _time_left(plan)))
    await asyncio.gather(*rtasks, return_exceptions=True)
    stats.wall_s = time.perf_counter() - t0
    return stats, hold, tasks


async def reloader(j: int, base: str, stats: Stats, plan: Plan, reloads: int) -> None:
    """A browser that reloads the Training page again and again: a new session each time."""
    for k in range(reloads):
        if _time_left(plan) <= 0:
            return
        s = StreamlitSession(base, timeout=plan.timeout)
        try:
            await s.connect()
            r = await s.run(page_name="training")
            stats.record("training (reload)", r)
        except ClientError as exc:
            stats.disconnects.append(f"reloader {j} reload {k}: {exc}")
        finally:
            await s.close()


async def cpu_per_page(server: Server, plan: Plan, visits: int = 2) -> dict[str, float]:
    """Server CPU seconds (all threads) one page view costs, one session alone, caches warm.

    Each visit opens a new session on the landing page, then every page by its link, and reads
    the server's utime+stime around each run: what one student's click costs the shared cores.
    """
    cost: dict[str, list[float]] = defaultdict(list)
    for _ in range(visits):
        s = StreamlitSession(server.base, timeout=plan.timeout)
        try:
            await s.connect()
            for page in PAGES:
                c0 = cpu_seconds(server.pid)
                if page == "landing":
                    await s.run(page_name="")
                else:
                    await s.open_page(page)
                await asyncio.sleep(0.05)  # let the send of the last messages finish
                cost[page].append(cpu_seconds(server.pid) - c0)
        finally:
            await s.close()
    return {k: statistics.mean(v) for k, v in cost.items()}


async def release(hold: asyncio.Event, tasks: list[asyncio.Task]) -> None:
    hold.set()
    for t in tasks:
        if not t.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(t), 10)
            t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def burst(base: str, k: int, plan: Plan) -> tuple[Stats, asyncio.Event, list[asyncio.Task]]:
    stats = Stats()
    barrier = asyncio.Barrier(k)
    hold = asyncio.Event()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(burst_student(i, base, stats, plan, barrier, hold)) for i in range(k)]

    async def all_done() -> None:
        while stats.settled < k:
            await asyncio.sleep(0.1)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_done(), timeout=max(1.0, _time_left(plan)))
    stats.wall_s = time.perf_counter() - t0
    return stats, hold, tasks


async def measure_app(name: str, server: Server, args, plan: Plan, out: dict) -> None:
    """Run the chosen phases against one started server; fill out[name]."""
    res: dict = {"port": server.port, "mem_mb": {}, "phases": {}}
    out[name] = res
    sampler = RssSampler(server.pid).start()
    mem = res["mem_mb"]
    phases = args.phases
    is_ours = name == "ours"
    say = lambda m: print(f"[{name} {time.strftime('%H:%M:%S')}] {m}", flush=True)  # noqa: E731

    await asyncio.sleep(1.0)
    mem["start"] = sampler.now() / MB
    res["threads_start"] = thread_count(server.pid)
    say(f"start: {mem['start']:.0f} MB")

    if "idle" in phases:
        s = StreamlitSession(server.base, timeout=plan.timeout)
        await s.connect()
        r = await s.run(page_name="")
        res["first_view_s"] = r.seconds
        await s.close()
        await asyncio.sleep(3)
        mem["idle"] = sampler.now() / MB
        res["threads_idle"] = thread_count(server.pid)
        say(f"idle after one page view: {mem['idle']:.0f} MB (first view {r.seconds:.2f} s)")

    for label, n in (("one", 1), ("ten", 10)):
        if label not in phases or _time_left(plan) <= 0:
            continue
        sampler.mark(label)
        st, hold, tasks = await crowd(
            server.base, n, plan, train_share=0, draw_share=0, browsers=0, seed=args.seed
        )
        await asyncio.sleep(1)
        mem[f"{label}_open"] = sampler.now() / MB
        mem[f"{label}_peak"] = sampler.peak_since(label) / MB
        res["phases"][label] = summarize(st)
        await release(hold, tasks)
        say(f"{n} session(s) browsing: peak {mem[f'{label}_peak']:.0f} MB, {st.errors()} errors")
        if label == "one":  # every page seen once: shared caches (datasets, models) are loaded
            await asyncio.sleep(3)
            mem["warm_idle"] = sampler.now() / MB
            say(f"warm idle (caches loaded, no session open): {mem['warm_idle']:.0f} MB")
            res["cpu_per_view"] = await cpu_per_page(server, plan, visits=2)
            say(
                "server CPU per page view, warm: "
                + ", ".join(f"{k} {v:.2f} s" for k, v in res["cpu_per_view"].items())
            )

    if "burst" in phases and is_ours and _time_left(plan) > 0:
        sampler.mark("burst")
        st, hold, tasks = await burst(server.base, args.burst, plan)
        mem["burst_peak"] = sampler.peak_since("burst") / MB
        res["threads_burst_max"] = sampler.max_threads_since("burst")
        res["phases"]["burst"] = summarize(st)
        await release(hold, tasks)
        say(f"{args.burst} pressing Train together: peak {mem['burst_peak']:.0f} MB, {st.errors()} errors")
        await asyncio.sleep(2)

    if "full" in phases and _time_left(plan) > 0:
        sampler.mark("full")
        st, hold, tasks = await crowd(
            server.base,
            args.sessions,
            plan,
            train_share=args.train_share if is_ours else 0,
            draw_share=args.draw_share if is_ours else 0,
            browsers=args.browsers,
            reloaders=args.reloaders,
            seed=args.seed,
        )
        await asyncio.sleep(1)
        mem["full_open"] = sampler.now() / MB
        mem["full_peak"] = sampler.peak_since("full") / MB
        res["threads_full_max"] = sampler.max_threads_since("full")
        res["phases"]["full"] = summarize(st)
        await release(hold, tasks)
        say(
            f"{args.sessions} sessions: peak {mem['full_peak']:.0f} MB, wall {st.wall_s:.0f} s, {st.errors()} errors"
        )

    if "after" in phases:
        sampler.mark("after")
        t_after = time.monotonic()
        timeline = []
        settle = args.settle if is_ours else min(args.settle, 10.0)  # the bare app trains nothing
        checkpoints = sorted({c for c in (5.0, 30.0, 65.0, 125.0, settle) if c <= settle})
        for c in checkpoints:
            await asyncio.sleep(max(0.0, t_after + c - 3.0 - time.monotonic()))
            cpu, busy = await asyncio.to_thread(busy_threads, server.pid, 3.0)
            point = {
                "t": round(time.monotonic() - t_after),
                "rss_mb": sampler.now() / MB,
                "cpu_share": cpu,
                "busy_threads": busy,
                "threads": thread_count(server.pid),
            }
            timeline.append(point)
            say(
                f"after +{point['t']} s: {point['rss_mb']:.0f} MB, CPU {cpu * 100:.0f}% of a core, "
                f"{busy} busy thread(s), {point['threads']} threads"
            )
        last = timeline[-1] if timeline else {}
        mem["after"] = last.get("rss_mb", sampler.now() / MB)
        res["after_timeline"] = timeline
        res["after_cpu_share"] = last.get("cpu_share", 0.0)
        res["after_busy_threads"] = last.get("busy_threads", 0)
        res["threads_after"] = thread_count(server.pid)
        res["thread_names_after"] = dict(thread_names(server.pid))
        # One more visitor: the app still answers, and the session store drops expired sessions.
        s = StreamlitSession(server.base, timeout=plan.timeout)
        try:
            await s.connect()
            r = await s.run(page_name="")
            res["probe_after_s"] = r.seconds
            res["probe_after_exceptions"] = r.exceptions
        except ClientError as exc:
            res["probe_after_exceptions"] = [str(exc)]
        finally:
            await s.close()
        await asyncio.sleep(2)
        mem["after_probe"] = sampler.now() / MB
        say(
            f"probe visit after the load: {res.get('probe_after_s', float('nan')):.2f} s, {mem['after_probe']:.0f} MB"
        )
    mem["hwm"] = hwm_bytes(server.pid) / MB
    mem["peak_sampled"] = max((s[1] for s in sampler.samples), default=0) / MB
    sampler.stop()


def summarize(st: Stats) -> dict:
    pages = {}
    for page, v in st.render.items():
        pages[page] = {"n": len(v), "median": med(v), "p95": pct(v, 95), "max": max(v)}
    browser = {p: {"n": len(v), "median": med(v), "p95": pct(v, 95)} for p, v in st.browser.items()}
    return {
        "wall_s": st.wall_s,
        "sessions_done": st.sessions_done,
        "pages": pages,
        "browser": browser,
        "exceptions": st.exceptions,
        "disconnects": st.disconnects,
        "browser_errors": st.browser_errors,
        "errors_shown": st.errors_shown[:20],
        "errors": st.errors(),
        "train_click": {
            "n": len(st.train_click),
            "median": med(st.train_click),
            "p95": pct(st.train_click, 95),
        },
        "train_ticks": {
            "n": len(st.train_ticks),
            "median": med(st.train_ticks),
            "p95": pct(st.train_ticks, 95),
        },
        "throughput": st.throughput,
        "train_notes": sorted(set(st.train_notes)),
        "queue_positions": sorted(st.queue_positions),
        "canvas": {"n": len(st.canvas), "median": med(st.canvas), "p95": pct(st.canvas, 95)},
        "canvas_full": {
            "n": len(st.canvas_full),
            "median": med(st.canvas_full),
            "p95": pct(st.canvas_full, 95),
        },
        "page_kb": {p: round(statistics.mean(v) / 1024, 1) for p, v in st.page_bytes.items() if v},
        "canvas_notes": sorted(set(st.canvas_notes)),
    }


# --------------------------------------------------------------------------- report


def inprocess_prediction(repeats: int = 30) -> dict | None:
    """Fallback when the page has no canvas yet: cnnlib.inference latency in this process."""
    try:
        import numpy as np
        from PIL import Image

        from cnnlib.inference import load_pretrained, predict, preprocess_drawing
    except Exception as exc:  # noqa: BLE001
        return {"error": f"cnnlib.inference not importable: {exc}"}
    import io

    rgba = np.asarray(Image.open(io.BytesIO(digit_png(280, "7"))).convert("RGBA"))
    model, _spec, _classes = load_pretrained("mnist")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pre = preprocess_drawing(rgba)
        predict(model, pre.tensor)
        times.append(time.perf_counter() - t0)
    return {"n": repeats, "median": med(times), "p95": pct(times, 95)}


def fmt(x: float, unit: str = "s") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if unit == "s" and abs(x) < 0.1:
        return f"{x * 1000:.1f} ms"
    return f"{x:.2f} {unit}".strip()


def report(out: dict, args) -> list[str]:
    """Print the figures; return the markdown table lines."""
    ours, bare = out.get("ours", {}), out.get("bare", {})
    of = ours.get("phases", {}).get("full", {})
    bf = bare.get("phases", {}).get("full", {})
    lines = ["| what | ours | bare | ratio | target | met? |", "| --- | --- | --- | --- | --- | --- |"]
    print(
        "\n=== time to first render, N =",
        args.sessions,
        "websocket sessions (rerun sent -> script_finished) ===",
    )
    print(
        f"{'page':<20}{'ours med':>10}{'bare med':>10}{'ratio':>7}{'ours p95':>10}{'bare p95':>10}{'ratio':>7}"
        f"{'ours KB':>9}{'n':>5}"
    )
    for page in PAGES:
        o = of.get("pages", {}).get(page)
        b = bf.get("pages", {}).get(page)
        if not o:
            continue
        om, op = o["median"], o["p95"]
        bm, bp = (b["median"], b["p95"]) if b else (math.nan, math.nan)
        rm, rp = om / bm if bm else math.nan, op / bp if bp else math.nan
        kb = of.get("page_kb", {}).get(page, math.nan)
        print(
            f"{page:<20}{om:>10.2f}{bm:>10.2f}{rm:>7.1f}{op:>10.2f}{bp:>10.2f}{rp:>7.1f}{kb:>9.0f}{o['n']:>5}"
        )
        lines.append(
            f"| {page}: median first render | {fmt(om)} | {fmt(bm)} | {rm:.1f}x | <= 2x | {'yes' if rm <= 2 else 'NO'} |"
        )
        lines.append(
            f"| {page}: p95 first render | {fmt(op)} | {fmt(bp)} | {rp:.1f}x | <= 3x | {'yes' if rp <= 3 else 'NO'} |"
        )
    oc, bc = ours.get("cpu_per_view", {}), bare.get("cpu_per_view", {})
    if oc:
        print("server CPU seconds per page view (1 session alone, warm caches):")
        for page in PAGES:
            if page in oc:
                b = bc.get(page, math.nan)
                print(
                    f"  {page:<18} ours {oc[page]:.3f}  bare {b:.3f}  ratio {oc[page] / b if b else math.nan:.0f}x"
                )
                lines.append(
                    f"| {page}: server CPU per view (1 session, warm) | {oc[page]:.3f} s | {b:.3f} s | "
                    f"{oc[page] / b if b else math.nan:.0f}x | (info) | - |"
                )
    for label in (
        "training (Train pressed)",
        "draw (prediction)",
        "training (Stop pressed)",
        "training (reload)",
    ):
        o = of.get("pages", {}).get(label)
        if o:
            print(f"{label:<26} median {o['median']:.2f} s, p95 {o['p95']:.2f} s (n={o['n']})")
    if of.get("browser"):
        print("real Chromium tabs (page opened by URL -> script idle):")
        for page in PAGES:
            o, b = of["browser"].get(page), bf.get("browser", {}).get(page)
            if o:
                print(
                    f"  {page:<18} ours med {o['median']:.2f} p95 {o['p95']:.2f}  |  bare "
                    f"{(b or {}).get('median', math.nan):.2f} / {(b or {}).get('p95', math.nan):.2f}"
                )
                lines.append(
                    f"| {page}: Chromium tab, median (p95) | {fmt(o['median'])} ({fmt(o['p95'])}) | "
                    f"{fmt((b or {}).get('median', math.nan))} ({fmt((b or {}).get('p95', math.nan))}) | "
                    f"{o['median'] / (b or {}).get('median', math.nan):.1f}x | (info) | - |"
                )
    # training
    tp = of.get("throughput", []) + ours.get("phases", {}).get("burst", {}).get("throughput", [])
    burst = ours.get("phases", {}).get("burst", {})
    print("\n=== training ===")
    for lab, ph in (("full", of), ("burst", burst)):
        if ph:
            print(
                f"{lab}: Train-press run {fmt(ph['train_click']['median'])} median / {fmt(ph['train_click']['p95'])} p95 "
                f"(n={ph['train_click']['n']}); live ticks {fmt(ph['train_ticks']['median'])} / "
                f"{fmt(ph['train_ticks']['p95'])} (n={ph['train_ticks']['n']}); samples/s per run: "
                f"{[round(x) for x in ph['throughput']]}; queue positions shown: {ph['queue_positions']}; "
                f"notes: {ph['train_notes']}"
            )
    if tp:
        lines.append(
            f"| training throughput per run (samples/s, min / median / max) | {min(tp):.0f} / {med(tp):.0f} / "
            f"{max(tp):.0f} | - | - | (info) | - |"
        )
    if burst:
        lines.append(
            f"| {args.burst} students press Train in the same second: Train-press run median (p95) | "
            f"{fmt(burst['train_click']['median'])} ({fmt(burst['train_click']['p95'])}) | - | - | (info) | - |"
        )
        lines.append(
            f"| live training update (fragment rerun) median (p95) | {fmt(burst['train_ticks']['median'])} "
            f"({fmt(burst['train_ticks']['p95'])}) | - | - | (info) | - |"
        )
    # canvas
    cv = of.get("canvas", {})
    print("\n=== canvas ===")
    if cv and cv.get("n"):
        cf = of["canvas_full"]
        print(f"drawing sent -> answer shown: median {fmt(cv['median'])}, p95 {fmt(cv['p95'])} (n={cv['n']})")
        print(f"drawing sent -> whole page rerun done: median {fmt(cf['median'])}, p95 {fmt(cf['p95'])}")
        lines.append(
            f"| canvas answer (drawing sent -> answer element received) p95 (median) | {fmt(cv['p95'])} "
            f"({fmt(cv['median'])}) | - | - | < 1 s | {'yes' if cv['p95'] < 1 else 'NO'} |"
        )
        lines.append(
            f"| canvas: whole Draw page rerun after a stroke (Grad-CAM, feature maps) p95 (median) | "
            f"{fmt(cf['p95'])} ({fmt(cf['median'])}) | - | - | (info) | - |"
        )
        ip = out.get("inprocess_prediction") or {}
        if "p95" in ip:
            print(
                f"in-process floor, no server (preprocess_drawing + predict): median {fmt(ip['median'])}, p95 {fmt(ip['p95'])}"
            )
            lines.append(
                f"| floor: preprocess_drawing + predict in-process, no server, p95 (median) | {fmt(ip['p95'])} "
                f"({fmt(ip['median'])}) | - | - | (info) | - |"
            )
    else:
        ip = out.get("inprocess_prediction")
        print(
            f"no canvas measured over the websocket ({of.get('canvas_notes')}); in-process cnnlib.inference: {ip}"
        )
        if ip and "p95" in ip:
            lines.append(
                f"| prediction latency in-process (preprocess + predict), p95 | {fmt(ip['p95'])} | - | - | < 1 s | "
                f"{'yes' if ip['p95'] < 1 else 'NO'} (page not measured) |"
            )
    # errors
    print("\n=== errors ===")
    for name, ph in (("ours", of), ("bare", bf)):
        if ph:
            print(
                f"{name}: {ph['errors']} ({len(ph['exceptions'])} exceptions, {len(ph['disconnects'])} disconnects/timeouts, "
                f"{len(ph['browser_errors'])} browser); st.error boxes shown: {len(ph['errors_shown'])}"
            )
            for e in (ph["exceptions"] + ph["disconnects"] + ph["browser_errors"])[:8]:
                print("   ", e[:200])
    total_err = of.get("errors", 0) + sum(
        ours.get("phases", {}).get(p, {}).get("errors", 0) for p in ("one", "ten", "burst")
    )
    lines.append(
        f"| errors (exceptions, disconnects, timeouts), all phases | {total_err} | {bf.get('errors', '-')} | - | 0 | "
        f"{'yes' if total_err == 0 else 'NO'} |"
    )
    # memory
    print("\n=== server memory (RSS, MB) ===")
    keys = [
        "start",
        "idle",
        "one_peak",
        "warm_idle",
        "ten_peak",
        "burst_peak",
        "full_open",
        "full_peak",
        "after",
        "after_probe",
        "hwm",
    ]
    print(f"{'':<8}" + "".join(f"{k:>12}" for k in keys))
    for name in ("ours", "bare"):
        m = out.get(name, {}).get("mem_mb", {})
        if m:
            print(f"{name:<8}" + "".join(f"{m.get(k, math.nan):>12.0f}" for k in keys))
    om, bm = ours.get("mem_mb", {}), bare.get("mem_mb", {})
    names = {
        "start": "RSS at start (healthy, no session)",
        "idle": "RSS idle after the first page view",
        "one_peak": "RSS peak, 1 session browsing every page",
        "ten_peak": "RSS peak, 10 sessions browsing",
        "burst_peak": f"RSS peak, {args.burst} students pressing Train together",
        "full_peak": f"RSS peak, {args.sessions} sessions (browse, train, draw)",
        "warm_idle": "RSS warm idle (every page seen once, no session open)",
        "after": f"RSS {args.settle:.0f} s after the load (all tabs closed; bare: 10 s)",
        "after_probe": "RSS after one more visit at the end",
    }
    for k, label in names.items():
        if k in om:
            b = bm.get(k)
            ratio = f"{om[k] / b:.1f}x" if b else "-"
            tgt = "< 2048 MB" if k in ("full_peak", "burst_peak") else "-"
            met = ("yes" if om[k] < 2048 else "NO") if tgt != "-" else "-"
            if k in ("after", "after_probe") and "warm_idle" in om:
                tgt = "near warm idle (+25%)"
                met = "yes" if om[k] <= om["warm_idle"] * 1.25 else "NO"
            lines.append(f"| {label} | {om[k]:.0f} MB | {fmt(b, 'MB')} | {ratio} | {tgt} | {met} |")
    if "ten_open" in om and "one_open" in om:
        per = (om["ten_open"] - om["one_open"]) / 9
        perb = (bm.get("ten_open", math.nan) - bm.get("one_open", math.nan)) / 9
        print(f"per-session growth (10 open vs 1 open): ours {per:.1f} MB, bare {perb:.1f} MB")
        lines.append(
            f"| per-session RSS growth (10 open vs 1 open, /9) | {per:.1f} MB | {perb:.1f} MB | - | small | - |"
        )
    if "full_open" in om and "warm_idle" in om:
        per = (om["full_open"] - om["warm_idle"]) / args.sessions
        perb = (bm.get("full_open", math.nan) - bm.get("warm_idle", math.nan)) / args.sessions
        print(
            f"per-session growth ({args.sessions} open vs warm idle): ours {per:.1f} MB, bare {perb:.1f} MB"
        )
        lines.append(
            f"| per-session RSS growth ({args.sessions} open incl. trainers vs warm idle, /{args.sessions}) | "
            f"{per:.1f} MB | {perb:.1f} MB | - | small | - |"
        )
    if "after_cpu_share" in ours:
        left = ours["after_cpu_share"] < 0.05
        print(
            f"after the load: ours uses {ours['after_cpu_share'] * 100:.1f}% of a core, {ours['after_busy_threads']} busy "
            f"thread(s); threads {ours.get('threads_after')} (idle {ours.get('threads_idle')}, start "
            f"{ours.get('threads_start')}); names {ours.get('thread_names_after')}"
        )
        lines.append(
            f"| training threads left after the load (CPU use / threads vs idle) | {ours['after_cpu_share'] * 100:.1f}% CPU, "
            f"{ours.get('threads_after')} threads (idle {ours.get('threads_idle')}) | "
            f"{bare.get('after_cpu_share', math.nan) * 100:.1f}% CPU, {bare.get('threads_after', '-')} threads | - | none | "
            f"{'yes' if left else 'NO'} |"
        )
    return lines


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


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--sessions", type=int, default=30, help="students in the full phase (max 30)")
    ap.add_argument(
        "--browsers", type=int, default=2, help="real Chromium tabs on top in the full phase (max 8)"
    )
    ap.add_argument("--phases", default=",".join(ALL_PHASES), help=f"comma list of {ALL_PHASES}")
    ap.add_argument("--apps", default="ours,bare", help="ours, bare or both (comma list)")
    ap.add_argument("--train-share", type=float, default=0.2, help="share of students who press Train")
    ap.add_argument("--draw-share", type=float, default=0.3, help="share of students who draw")
    ap.add_argument("--burst", type=int, default=6, help="students pressing Train in the same second")
    ap.add_argument("--train-watch", type=float, default=20, help="seconds a trainer watches live updates")
    ap.add_argument("--reloaders", type=int, default=1, help="tabs reloading Training 10x in the full phase")
    ap.add_argument("--think", type=float, default=0.5, help="mean pause between pages (s)")
    ap.add_argument(
        "--settle",
        type=float,
        default=70,
        help="seconds to watch after the load (a run whose tab closed stops after the 60 s heartbeat timeout)",
    )
    ap.add_argument("--timeout", type=float, default=90, help="per-run timeout (s): a longer run is an error")
    ap.add_argument("--max-seconds", type=float, default=600, help="cap per app on the whole measurement (s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra `streamlit run` option for both apps, e.g. --server-arg=--runner.postScriptGC=false",
    )
    ap.add_argument("--json", type=Path, help="write all figures as JSON here")
    ap.add_argument("--markdown", type=Path, help="write the results table as markdown here")
    args = ap.parse_args(argv)
    args.sessions = max(1, min(args.sessions, MAX_SESSIONS))
    args.browsers = max(0, min(args.browsers, MAX_BROWSERS))
    args.burst = max(1, min(args.burst, MAX_SESSIONS))
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    bad = set(args.phases) - set(ALL_PHASES)
    if bad:
        ap.error(f"unknown phases {sorted(bad)}")
    args.apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    return args


async def amain(args) -> dict:
    out: dict = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "loadavg_before": loadavg(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    print(f"{out['date']}  {out['machine']}  load {out['loadavg_before']}", flush=True)
    logs = ROOT / "loadtest" / "logs"
    logs.mkdir(exist_ok=True)
    scripts = {"ours": "app.py", "bare": "loadtest/bare_app/app.py"}
    for name in args.apps:
        server = Server(scripts[name], logs / f"{name}.log", extra=args.server_arg)
        t = server.start()
        out.setdefault("startup_s", {})[name] = t
        print(f"[{name}] healthy after {t:.1f} s on {server.base} (pid {server.pid})", flush=True)
        plan = Plan(
            think=args.think,
            train_watch=args.train_watch,
            timeout=args.timeout,
            deadline=time.monotonic() + args.max_seconds,
        )
        try:
            await measure_app(name, server, args, plan, out)
        finally:
            out[name]["loadavg_end"] = loadavg()
            server.stop()
    if "ours" in out:  # the floor of the canvas answer (and the fallback when no canvas was measured)
        out["inprocess_prediction"] = await asyncio.to_thread(inprocess_prediction)
    out["loadavg_after"] = loadavg()
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = asyncio.run(amain(args))
    lines = report(out, args)
    print(f"\nload average before {out['loadavg_before']}, after {out['loadavg_after']}")
    print("\n" + "\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    if args.markdown:
        extra = f" Extra server options: {' '.join(args.server_arg)}." if args.server_arg else ""
        head = [
            f"Measured {out['date']} on {out['machine']}; load average before {out['loadavg_before']}, "
            f"after {out['loadavg_after']}.{extra}",
            "",
        ]
        args.markdown.write_text("\n".join(head + lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
