"""Benchmark: the server CPU each page costs, ours against a bare Streamlit app.

Starts `streamlit run app.py` and the bare app (loadtest/bare_app/app.py, one-line pages) on free
loopback ports and talks to them with the load test's websocket client (loadtest/ws_client.py),
one session at a time, nothing else on the server. For every page it measures:

- **first view**: a new session opens the landing page by URL, then each page by its link (what
  the sidebar menu sends), after a warm-up visit, so shared caches are warm. One more session stays
  connected to each server throughout, as in class (the projector): when the last session of a
  server closes, Streamlit empties its bytecode cache and the next view recompiles the app's
  scripts (`--no-hold` measures that case). Server CPU is the
  process's CPU clock (utime + stime of all threads, exited ones included, read with
  `clock_getcpuclockid` at nanosecond resolution; /proc/<pid>/stat's 10 ms ticks if that fails)
  from sending the rerun to 50 ms after its `script_finished` (the last messages' send), minus the
  server's idle CPU rate over that window;
- **control change**: a typical control change on the page (ReLU on/off on Kernels, the input
  size on the Shape calculator, a layer's out_channels on the Model builder, the learning rate on
  Training, the channels per layer on Draw & predict), alternating between two values; the bare
  app's figure is a rerun of its one-line page;
- **stroke** (Draw & predict): the drawable canvas' value after a stroke, as the load test sends
  it (loadtest/run_load.py `draw`), alternating a 7 and a 1. A control or canvas drawn inside an
  `st.fragment` is sent as a rerun of that fragment, as a browser does;
- **cold**: the very first view of each page in a freshly started server (landing, then each page
  by link, in menu order), its time, server CPU and the RSS it adds, over `--cold` fresh servers.

    .venv/bin/python benchmarks/bench_page_cpu.py                 # 15 sessions per app, 2 cold starts
    .venv/bin/python benchmarks/bench_page_cpu.py --repeats 30 --cold 3 --json /tmp/pages.json
    git archive HEAD | tar -x -C /tmp/head && .venv/bin/python benchmarks/bench_page_cpu.py --baseline /tmp/head

All apps' servers run at once and each repeat visits them in turn (load drifts hit all alike).

Medians and min-max of the repeats; nothing is asserted. Cores may be shared: the load average is
printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest import harness  # noqa: E402
from loadtest.harness import PAGES, Server, cpu_seconds, loadavg, machine  # noqa: E402
from loadtest.memory import MB, rss_bytes  # noqa: E402
from loadtest.ws_client import (  # noqa: E402
    RunResult,
    StreamlitSession,
    canvas_state_json,
    digit_png,
    widget_state,
)

SETTLE_S = 0.05  # after script_finished: the event loop sends the run's last messages
SCRIPTS = {"ours": "app.py", "bare": "loadtest/bare_app/app.py"}


# --------------------------------------------------------------------------- the server's CPU clock


class CpuClock:
    """CPU seconds used so far by a process (all threads, exited ones included)."""

    class _Timespec(ctypes.Structure):
        _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]

    def __init__(self, pid: int):
        self.pid = pid
        self.precise = False
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            clock = ctypes.c_int()
            if libc.clock_getcpuclockid(pid, ctypes.byref(clock)) == 0:
                self._gettime, self._clock, self.precise = libc.clock_gettime, clock.value, True
        except (OSError, AttributeError):
            pass

    def __call__(self) -> float:
        if self.precise:
            ts = self._Timespec()
            if self._gettime(self._clock, ctypes.byref(ts)) == 0:
                return ts.sec + ts.nsec / 1e9
        return cpu_seconds(self.pid)


def idle_rate(clock: CpuClock, seconds: float = 1.0, windows: int = 4) -> float:
    """The server's CPU use with no session running (CPU seconds per second): the quietest of a few
    windows, so work the warm-up left running in the background (the builder's first summary,
    started once torch is loaded) is not taken for idle and subtracted from every view."""
    rates = []
    for _ in range(windows):
        c0, t0 = clock(), time.perf_counter()
        time.sleep(seconds)
        rates.append((clock() - c0) / (time.perf_counter() - t0))
    return min(rates)


async def measured(clock: CpuClock, idle: float, call) -> tuple[float, RunResult]:
    """(server CPU seconds, result) of one run: from the send to SETTLE_S after script_finished."""
    c0, t0 = clock(), time.perf_counter()
    res = await call()
    await asyncio.sleep(SETTLE_S)
    return clock() - c0 - idle * (time.perf_counter() - t0), res


# --------------------------------------------------------------------------- typical control changes


def find_widget(res: RunResult, pattern: str) -> str | None:
    """The id of the first widget whose user key matches the regex `pattern` (ids end in "-<key>")."""
    rx = re.compile(r"-" + pattern + r"$")
    for e in res.elements:
        k = e.WhichOneof("type")
        wid = getattr(getattr(e, k), "id", "") if k else ""
        if isinstance(wid, str) and rx.search(wid):
            return wid
    return None


def change(pattern: str, field: str, values: tuple) -> Callable:
    """An action: set the widget matching `pattern` to values[0], values[1], values[0], ..."""

    def make(res: RunResult, i: int):
        wid = find_widget(res, pattern)
        return None if wid is None else [widget_state(wid, **{field: values[i % 2]})]

    return make


ACTIONS: dict[str, Callable] = {
    "kernels": change("k_relu", "bool_value", (True, False)),
    "shape_calculator": change("sc_size_h", "string_value", ("32", "28")),
    "model_builder": change(r"bf_\d+_\d+_out_channels", "double_value", (24.0, 16.0)),
    "training": change("tr_lr", "double_value", (0.002, 0.001)),
    "draw_and_predict": change("draw_channels", "string_value", ("8", "16")),
}
STROKES = (digit_png(280, "7"), digit_png(280, "1"))


def stroke(res: RunResult, i: int):
    ids = res.components("drawable_canvas")
    return None if not ids else [widget_state(ids[0], json_value=canvas_state_json(STROKES[i % 2]))]


# --------------------------------------------------------------------------- phases


async def open_view(s: StreamlitSession, page: str) -> RunResult:
    return await (s.run(page_name="") if page == "landing" else s.open_page(page))


async def visit(
    base: str, clock: CpuClock, idle: float, out: dict, *, ours: bool, i: int, n: int, pages: list[str]
) -> None:
    """One new session: every page's first view, then `n` control changes (and strokes) on it."""
    s = StreamlitSession(base, timeout=120)
    await s.connect()
    try:
        for page in pages:
            cpu, res = await measured(clock, idle, lambda p=page: open_view(s, p))
            out["view", page].append(cpu)
            out["kb", page].append(res.bytes_in / 1024)
            out["errors"].extend(f"{page}: {e}" for e in res.exceptions)
            page_hash = s.pages.get(page, "")
            kinds = [("widget", ACTIONS.get(page))]
            if page == "draw_and_predict" and ours:
                kinds.insert(0, ("stroke", stroke))
            for kind, make in kinds:
                for j in range(n):
                    widgets = [] if not ours else (make(res, i * n + j) if make else None)
                    if widgets is None:  # no such control on the page
                        break
                    # A control inside a fragment reruns only that fragment, as a browser asks.
                    frag = res.fragment_of(widgets[0].id) if widgets else ""
                    cpu, res = await measured(
                        clock,
                        idle,
                        lambda w=widgets, h=page_hash, f=frag: s.run(
                            page_script_hash=h, widgets=w, fragment_id=f
                        ),
                    )
                    out["fragment " + kind, page].append(bool(frag))
                    out[kind, page].append(cpu)
                    out["kb " + kind, page].append(res.bytes_in / 1024)
                    out["errors"].extend(f"{page} {kind}: {e}" for e in res.exceptions)
    finally:
        await s.close()


def start_server(app: str, args, log: Path) -> Server:
    """run_load's Server for `app` ("ours", "bare" or "baseline"), from the folder that holds it."""
    root, script = (args.baseline, "app.py") if app == "baseline" else (ROOT, SCRIPTS[app])
    server = Server(script, log, extra=args.server_arg)
    saved, harness.ROOT = harness.ROOT, root  # Server starts `streamlit run` in harness.ROOT
    try:
        server.start()
    finally:
        harness.ROOT = saved
    return server


async def warm(args, log_dir: Path, out: dict) -> None:
    """All apps' servers up at once; each repeat visits them in turn, so load drifts hit all alike."""
    servers = {app: start_server(app, args, log_dir / f"bench_pages_{app}.log") for app in args.apps}
    held: list[StreamlitSession] = []
    try:
        if not args.no_hold:  # in class someone is always connected (the projector, say)
            for srv in servers.values():
                held.append(StreamlitSession(srv.base, timeout=120))
                await held[-1].connect()
                await held[-1].run(page_name="")
        clocks = {app: CpuClock(srv.pid) for app, srv in servers.items()}
        for app, srv in servers.items():  # warm-up: shared caches, figures, imports
            await visit(
                srv.base, clocks[app], 0.0, defaultdict(list), ours=app != "bare", i=0, n=2, pages=args.pages
            )
        idle = {app: idle_rate(clock) for app, clock in clocks.items()}
        series = {app: defaultdict(list) for app in servers}
        for i in range(args.repeats):
            for app, srv in servers.items():
                await visit(
                    srv.base,
                    clocks[app],
                    idle[app],
                    series[app],
                    ours=app != "bare",
                    i=i,
                    n=2,
                    pages=args.pages,
                )
        for app in servers:
            out[app] = {
                "idle_cpu_per_s": idle[app],
                "precise_clock": clocks[app].precise,
                "series": series[app],
            }
    finally:
        for session in held:
            await session.close()
        for srv in servers.values():
            srv.stop()


async def cold(app: str, log_dir: Path, args, out: dict) -> None:
    """Fresh servers: each page's very first view in the process, its time, CPU and added RSS."""
    series: dict = defaultdict(list)
    for _ in range(args.cold):
        server = start_server(app, args, log_dir / f"bench_pages_{app}_cold.log")
        try:
            await asyncio.sleep(1.0)
            series["rss_start"].append(rss_bytes(server.pid) / MB)
            clock = CpuClock(server.pid)
            s = StreamlitSession(server.base, timeout=180)
            await s.connect()
            try:
                for page in PAGES:
                    before, c0 = rss_bytes(server.pid), clock()
                    r = await open_view(s, page)
                    await asyncio.sleep(0.5)
                    series["s", page].append(r.seconds)
                    series["cpu", page].append(clock() - c0)
                    series["mb", page].append((rss_bytes(server.pid) - before) / MB)
            finally:
                await s.close()
        finally:
            server.stop()
    out[app + " cold"] = series


# --------------------------------------------------------------------------- report


def spread(values: list[float], scale: float = 1000.0, digits: int = 1) -> str:
    """ "median [min-max]" of the values times `scale`."""
    if not values:
        return "-"
    m = statistics.median(values) * scale
    return f"{m:.{digits}f} [{min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f}]"


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(a: list[float], b: list[float]) -> str:
    return f"{med(a) / med(b):.1f}x" if a and b else "-"


def table(out: dict, app: str, pages: list[str]) -> list[str]:
    """One app's warm figures against the bare app's, as a markdown table."""
    ours, bare = out.get(app, {}).get("series", {}), out.get("bare", {}).get("series", {})
    lines = [
        f"{app} (ms of server CPU: median [min-max] of the repeats; bare: the bare app in the same run)",
        "",
        "| page | first view | bare | ratio | control change | bare rerun | ratio | KB per first view |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for page in pages:
        o, b = ours.get(("view", page), []), bare.get(("view", page), [])
        ow, bw = ours.get(("widget", page), []), bare.get(("widget", page), [])
        lines.append(
            f"| {page} | {spread(o)} | {spread(b)} | {ratio(o, b)} | {spread(ow)} | {spread(bw)} | "
            f"{ratio(ow, bw)} | {med(ours.get(('kb', page), [])):,.0f} |"
        )
    strokes = ours.get(("stroke", "draw_and_predict"), [])
    if strokes:
        bw = bare.get(("widget", "draw_and_predict"), [])
        kb = med(ours.get(("kb stroke", "draw_and_predict"), []))
        lines.append(f"| draw_and_predict: a stroke | - | - | - | {spread(strokes)} | {spread(bw)} | "
                     f"{ratio(strokes, bw)} | {kb:,.0f} (per stroke) |")  # fmt: skip
    return lines + [""]


def cold_table(out: dict, app: str) -> list[str]:
    c = out.get(app + " cold")
    if not c:
        return []
    lines = [
        f"{app}, cold: the very first view of each page in a fresh server (menu order), "
        f"{len(c['rss_start'])} start(s); RSS at start {spread(c['rss_start'], 1, 0)} MB",
        "",
        "| page | first view s | server CPU s | RSS added MB |",
        "| --- | --- | --- | --- |",
    ]
    for page in PAGES:
        lines.append(
            f"| {page} | {spread(c['s', page], 1, 2)} | {spread(c['cpu', page], 1, 2)} | "
            f"{spread(c['mb', page], 1, 0)} |"
        )
    return lines + [""]


def report(out: dict, args) -> list[str]:
    lines: list[str] = []
    for app in args.apps:
        if app != "bare":
            lines += table(out, app, args.pages)
    for app in args.apps:
        lines += cold_table(out, app)
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=15, help="new sessions per app (each views every page)")
    ap.add_argument("--cold", type=int, default=2, help="fresh server starts for the cold first views")
    ap.add_argument("--apps", default="ours,bare", help="comma list of ours, bare, baseline")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="a copy of the app to compare with (e.g. `git archive HEAD | tar -x -C DIR`)",
    )
    ap.add_argument("--server-arg", action="append", default=[], help="extra `streamlit run` option")
    ap.add_argument(
        "--no-hold",
        action="store_true",
        help="no session held open beside the measured ones (Streamlit then empties its bytecode "
        "cache each time the last session closes and every view recompiles its scripts)",
    )
    ap.add_argument(
        "--pages", default=",".join(PAGES), help="pages to measure (the landing page opens first)"
    )
    ap.add_argument("--json", type=Path, help="write every sample here")
    args = ap.parse_args(argv)
    args.pages = ["landing", *(p for p in args.pages.split(",") if p and p != "landing")]
    args.apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    if args.baseline and "baseline" not in args.apps:
        args.apps.append("baseline")
    if "baseline" in args.apps and not args.baseline:
        ap.error("--baseline DIR is needed for the baseline app")
    return args


async def amain(args) -> dict:
    out: dict = {"machine": machine(), "loadavg_before": loadavg()}
    print(f"{out['machine']}; load average {out['loadavg_before']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_pages_") as tmp:
        t0 = time.perf_counter()
        await warm(args, Path(tmp), out)
        print(f"warm views measured in {time.perf_counter() - t0:.0f} s", flush=True)
        for app in args.apps if args.cold else []:
            await cold(app, Path(tmp), args, out)
    out["loadavg_after"] = loadavg()
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = asyncio.run(amain(args))
    for name in args.apps:
        info = out.get(name, {})
        print(
            f"{name}: idle server CPU {info.get('idle_cpu_per_s', float('nan')) * 1000:.2f} ms/s (subtracted); "
            f"ns CPU clock: {info.get('precise_clock')}; errors: {info.get('series', {}).get('errors', [])[:5]}"
        )
    print(
        f"load average before {out['loadavg_before']}, after {out['loadavg_after']} ({os.cpu_count()} cores)\n"
    )
    print("\n".join(report(out, args)))
    if args.json:

        def keys(d: dict) -> dict:
            return {" ".join(k) if isinstance(k, tuple) else k: v for k, v in d.items()}

        flat = {
            k: {kk: keys(vv) if isinstance(vv, dict) else vv for kk, vv in keys(v).items()}
            if isinstance(v, dict)
            else v
            for k, v in out.items()
        }
        args.json.write_text(json.dumps(flat, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
