"""Benchmark: the browser's CPU and memory for a first view of each page, ours against a bare app.

Starts `streamlit run app.py` and the bare app (loadtest/bare_app/app.py: a landing page and five
one-line pages) on free loopback ports, then opens every page by its address in a fresh Chromium
context (an empty HTTP cache: a student's first visit), at 1x and at 4x CPU throttling (CDP
`Emulation.setCPUThrottlingRate`; 4x stands for a school Chromebook). For each view it reads:

- **CPU**: CDP `Performance.getMetrics` `TaskDuration` (seconds the renderer's main thread was busy)
  once the page is idle: the script has finished, no skeleton is left, and TaskDuration has grown
  by less than 20 ms over the last second (so work deferred after the first paint, such as a chart
  library loaded late, is counted);
- **heap**: `JSHeapUsedSize` after a garbage collection (`HeapProfiler.collectGarbage`), read after
  the CPU figure;
- **JS**: bytes of JavaScript the page fetched over HTTP (encoded, as on the wire), and the
  static files of the app (app/static/...).

The servers run at once; each repeat visits every page of both apps in turn, so a drift in the
machine's load hits both alike. Prints medians with min-max over the repeats and the ratio to the
bare app's page (the bare app's landing page for ours if a page has no twin). Nothing is asserted.

    .venv/bin/python benchmarks/bench_browser.py                       # 3 repeats, 1x and 4x
    .venv/bin/python benchmarks/bench_browser.py --repeats 5 --pages kernels training --rates 4
    .venv/bin/python benchmarks/bench_browser.py --json /tmp/browser.json
    git archive HEAD | tar -x -C /tmp/head && .venv/bin/python benchmarks/bench_browser.py --baseline /tmp/head

`--baseline DIR` adds a third app: another checkout's app.py (e.g. the commit before a change),
started from that folder, measured in the same run. The viewport is 1366x768 (a school laptop).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest import harness  # noqa: E402
from loadtest.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from loadtest.harness import Server, loadavg, machine  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
NO_SKELETON = "() => !document.querySelector(\"[data-testid='stSkeleton']\")"
PAGES = {  # name -> address
    "landing": "",
    "Kernels": "kernels",
    "Shape calculator": "shape_calculator",
    "Model builder": "model_builder",
    "Training": "training",
    "Draw & predict": "draw_and_predict",
}
# Something each of our pages draws once its own content is there (a cold deep link's first run can
# end before the page is drawn); the bare app's pages have one line of text.
READY = {
    "landing": "[data-testid='stPageLink']",
    "Kernels": "[data-testid='stMain'] h1",
    "Shape calculator": "[data-testid='stMain'] h1",
    "Model builder": "[data-testid='stMain'] h1",
    "Training": "[data-testid='stMain'] h1",
    "Draw & predict": "[data-testid='stMain'] h1",
}
QUIET_S, QUIET_CPU_S, MAX_WAIT_S = 1.0, 0.020, 90.0


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def view(browser, url: str, ready: str | None, rate: float) -> dict[str, float]:
    """One first view of `url` in a fresh context at `rate`x CPU throttling."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        pg = ctx.new_page()
        js = {"all": 0, "static": 0}

        def finished(req) -> None:
            try:
                size = req.sizes()["responseBodySize"]
            except Exception:  # noqa: BLE001 - a request of a closed page
                return
            if req.resource_type == "script" or req.url.endswith(".js") or ".js." in req.url:
                js["all"] += size
            if "/app/static/" in req.url:
                js["static"] += size

        pg.on("requestfinished", finished)
        cdp = ctx.new_cdp_session(pg)
        cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        t0 = time.perf_counter()
        pg.goto(url, wait_until="commit")
        pg.wait_for_selector(IDLE, timeout=MAX_WAIT_S * 1000)
        if ready:
            pg.wait_for_selector(ready, timeout=MAX_WAIT_S * 1000)
        pg.wait_for_selector(IDLE, timeout=MAX_WAIT_S * 1000)
        pg.wait_for_function(NO_SKELETON, timeout=MAX_WAIT_S * 1000)
        # Idle: TaskDuration grows by less than QUIET_CPU_S over QUIET_S (a late chart library counts).
        history = [(time.perf_counter(), metrics(cdp)["TaskDuration"])]
        while time.perf_counter() - t0 < MAX_WAIT_S:
            time.sleep(0.25)
            history.append((time.perf_counter(), metrics(cdp)["TaskDuration"]))
            old = [v for t, v in history if t <= history[-1][0] - QUIET_S]
            if old and history[-1][1] - old[-1] < QUIET_CPU_S and pg.evaluate(NO_SKELETON):
                break
        cpu = history[-1][1]
        wall = time.perf_counter() - t0
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        cdp.send("HeapProfiler.collectGarbage")
        heap = metrics(cdp)["JSHeapUsedSize"]
        return {
            "cpu": cpu,
            "heap_mb": heap / 1e6,
            "js_kb": js["all"] / 1e3,
            "static_kb": js["static"] / 1e3,
            "wall": wall,
        }
    finally:
        ctx.close()


def fmt(values: list[float], digits: int = 2) -> str:
    med = statistics.median(values)
    if len(values) < 2:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def start(script: str, root: Path, log: Path, env: dict) -> Server:
    server = Server(script, log, env=env)
    saved, harness.ROOT = harness.ROOT, root  # Server starts `streamlit run` in harness.ROOT
    try:
        server.start()
    finally:
        harness.ROOT = saved
    return server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rates", type=float, nargs="+", default=[1.0, 4.0], help="CPU throttling rates")
    ap.add_argument(
        "--pages", nargs="+", default=None, help="page addresses (kernels, training, ...; '' for landing)"
    )
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout to measure beside this one")
    ap.add_argument("--no-bare", action="store_true", help="skip the bare app")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    pages = {k: v for k, v in PAGES.items() if a.pages is None or v in a.pages or k in a.pages}
    tmp = Path(tempfile.mkdtemp(prefix="cc-bench-browser-"))
    env = {"CNN_CLASSROOM_DB": f"sqlite:///{tmp / 'classes.db'}"}
    apps: dict[str, tuple[str, Path]] = {"ours": ("app.py", ROOT)}
    if a.baseline:
        apps["baseline"] = ("app.py", a.baseline.resolve())
    if not a.no_bare:
        apps["bare"] = ("loadtest/bare_app/app.py", ROOT)
    print(f"machine: {machine()}; load average before: {loadavg()}")
    servers: dict[str, Server] = {}
    results: dict[str, dict[str, dict[float, list[dict]]]] = {}
    try:
        for name, (script, root) in apps.items():
            servers[name] = start(script, root, tmp / f"{name}.log", env)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # Warm-up: every page of every app once (the servers' first runs import and build caches).
            for name, srv in servers.items():
                for page, slug in pages.items():
                    view(browser, f"{srv.base}/{slug}", READY[page] if name != "bare" else None, 1.0)
            for r in range(a.repeats):
                for rate in a.rates:
                    for page, slug in pages.items():
                        for name, srv in servers.items():
                            got = view(
                                browser, f"{srv.base}/{slug}", READY[page] if name != "bare" else None, rate
                            )
                            results.setdefault(name, {}).setdefault(page, {}).setdefault(rate, []).append(got)
                print(f"  repeat {r + 1}/{a.repeats} done; load average {loadavg()}", flush=True)
            browser.close()
    finally:
        for srv in servers.values():
            srv.stop()
    print(f"load average after: {loadavg()}")
    print(
        f"\nBrowser CPU (TaskDuration, s) per first page view, 1366x768, median (min-max) of {a.repeats}:\n"
    )
    others = [n for n in apps if n != "bare"]
    head = ["page"]
    for rate in a.rates:
        for n in others:
            head.append(f"{n} {rate:g}x")
            if "bare" in apps:
                head.append(f"/bare {rate:g}x")
        if "bare" in apps:
            head.append(f"bare {rate:g}x")
    head += [f"{n} heap MB" for n in apps] + [f"{n} JS kB" for n in apps]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for page in pages:
        row = [page]
        for rate in a.rates:
            bare = [v["cpu"] for v in results["bare"][page][rate]] if "bare" in apps else None
            for n in others:
                vals = [v["cpu"] for v in results[n][page][rate]]
                row.append(fmt(vals))
                if bare:
                    row.append(f"{statistics.median(vals) / statistics.median(bare):.1f}x")
            if bare:
                row.append(fmt(bare))
        for n in apps:
            row.append(fmt([v["heap_mb"] for v in results[n][page][a.rates[0]]], 1))
        for n in apps:
            row.append(f"{statistics.median([v['js_kb'] for v in results[n][page][a.rates[0]]]):.0f}")
        print("| " + " | ".join(row) + " |")
    if a.json:
        a.json.write_text(json.dumps({"rates": a.rates, "results": results}, indent=1))
        print(f"\nwritten {a.json}")
    os.environ.pop("CNN_CLASSROOM_DB", None)


if __name__ == "__main__":
    main()
