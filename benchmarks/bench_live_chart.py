"""Benchmark: the Training page's live chart in a real browser (flicker-free updates and their lag).

Starts `streamlit run app.py` on a free loopback port, opens /training in headless Chromium,
presses Train (the default demo: MNIST sample, Digit CNN, 10 epochs), then for a while samples the
chart's DOM node. Prints:

- whether the chart's <div> is the same node through every update (it is tagged with a JS
  property once and checked on every sample: a remount would lose the tag),
- updates drawn per second,
- the lag from the server's snapshot of the run to the chart being redrawn in the browser
  (`data-stamp` vs `data-drawn-at`, same machine clock); add up to one poll interval (0.5 s) for
  the age of the data the snapshot reads,
- websocket bytes per second while training, and the run's training speed,
- what opening the page costs the network: websocket bytes of the first view and HTTP bytes of
  static files, and the same for a second page load in the same browser. Before any run the
  empty chart is a picture (issue 28), so a page load fetches no plotly.js: it is fetched
  (app/static/plotly-*.min.js.gz) when Train is pressed, and the time from the press to the live
  chart's first drawing is printed.

    .venv/bin/python benchmarks/bench_live_chart.py [--seconds 12]

Note: on one small machine the browser competes with training for the cores; a classroom's
browsers run on the students' laptops.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from loadtest.harness import streamlit_command  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
PROBE = """() => { const d = document.querySelector('div.cc-live-plotly');
  return d ? [d.ccTag || null, d.ccDraws || 0, +d.dataset.stamp, +d.dataset.drawnAt,
              document.querySelectorAll('div.cc-live-plotly').length] : null; }"""


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=12.0, help="how long to sample the chart")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    srv = subprocess.Popen(
        streamlit_command("app.py", port),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(base + "/_stcore/health", timeout=1).read().strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            br = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = br.new_page(viewport={"width": 1280, "height": 800})
            frames: list[int] = []
            static: list[tuple[str, int]] = []  # (file, bytes on the wire) of app/static requests

            pg.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(len(p))))
            pg.on(
                "requestfinished",
                lambda req: (
                    static.append((req.url.rsplit("/", 1)[-1], req.sizes()["responseBodySize"]))
                    if "/app/static/" in req.url
                    else None
                ),
            )
            for visit in ("first", "second"):
                frames.clear()
                static.clear()
                t0 = time.time()
                pg.goto(f"{base}/training")
                pg.wait_for_selector(IDLE, timeout=120_000)
                # Before a run the empty chart is a picture (no plotly.js until Train is pressed).
                pg.wait_for_selector("[data-testid=stMain] [data-testid=stImage] img", timeout=120_000)
                ready = time.time() - t0
                time.sleep(1.0)
                fetched = sum(n for _, n in static)
                print(
                    f"{visit} page load: empty chart ready {ready:5.1f} s; websocket {sum(frames) / 1e3:8.1f} kB; "
                    f"static files over HTTP {fetched / 1e3:8.1f} kB ({len(static)} request(s))"
                )
            t0 = time.time()
            pg.locator(".st-key-train_start button").click()
            pg.wait_for_selector("div.cc-live-plotly .main-svg", timeout=120_000)
            print(f"Train pressed: live chart drawn (plotly.js loaded) {time.time() - t0:5.1f} s")
            pg.wait_for_function(
                "() => (document.querySelector('div.cc-live-plotly') || {}).ccDraws >= 3", timeout=120_000
            )
            pg.evaluate("() => { document.querySelector('div.cc-live-plotly').ccTag = 'kept'; }")
            frames.clear()
            first = pg.evaluate(PROBE)
            lags, kept, t_start = [], True, time.time()
            while time.time() - t_start < a.seconds:
                time.sleep(0.25)
                r = pg.evaluate(PROBE)
                kept = kept and r is not None and r[0] == "kept" and r[4] == 1
                if r and r[3] and r[2]:
                    lags.append(r[3] - r[2])
            dt = time.time() - t_start
            last = pg.evaluate(PROBE)
            speed = pg.locator("[data-testid=stMetric]").nth(3).inner_text().replace("\n", " ")
            print(f"chart node kept (no remount)  {'yes' if kept else 'NO'}")
            print(f"updates drawn                 {(last[1] - first[1]) / dt:6.2f} per s")
            print(
                f"snapshot -> drawn lag         median {statistics.median(lags):.2f} s, "
                f"max {max(lags):.2f} s (+ up to 0.5 s poll interval)"
            )
            print(f"websocket traffic             {sum(frames) / dt / 1000:6.1f} kB/s")
            print(f"training speed (page metric)  {speed}")
            br.close()
    finally:
        srv.terminate()
        srv.wait(10)


if __name__ == "__main__":
    main()
