"""Benchmark: what `pages/ui/runtime/widget_state.py` (value widgets look up their own key) saves per page view.

A/B in one process and one session: AppTest opens every page once through app.py (so the session
state holds what a student's does after a tour, ~40 keys), then for each page reruns it `--repeats`
times with the patch installed and as many times without it (`widget_state.uninstall()`), in
alternating order (ABBA), so drifts of the shared machine hit both alike. A rerun is what a click on
the page costs the script thread: the page's whole script, its widgets included, with the frame.

Figures are CPU milliseconds of this process per rerun (`time.process_time`: the script thread
and AppTest's own work, which is the same on both sides): median [min-max] of the repeats, and the
median and quartiles of the paired differences (off - on, same position in the alternation). Nothing asserted.

    .venv/bin/python benchmarks/bench_widget_state.py                  # 40 reruns per side and page
    .venv/bin/python benchmarks/bench_widget_state.py --repeats 100 --pages kernels,builder
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from streamlit.testing.v1 import AppTest  # noqa: E402

from loadtest.harness import loadavg, machine  # noqa: E402
from pages.ui.runtime import widget_state  # noqa: E402

PAGES = {
    "kernels": "pages/1_kernels.py",
    "shapes": "pages/2_shape_calculator.py",
    "builder": "pages/3_model_builder.py",
    "training": "pages/4_training.py",
    "draw": "pages/5_draw_and_predict.py",
}


def rerun_ms(at: AppTest) -> float:
    t0 = time.process_time()
    at.run()
    return (time.process_time() - t0) * 1000


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=40, help="reruns per side and page")
    ap.add_argument("--pages", default=",".join(PAGES), help="comma list of " + ", ".join(PAGES))
    args = ap.parse_args(argv)
    chosen = [p for p in args.pages.split(",") if p]
    print(f"{machine()}; load average {loadavg()}", flush=True)

    import pages.ui.frame  # noqa: F401  (installs the patches as the app does)

    assert widget_state.install() == len(widget_state.MODULES), "widget_state did not install"
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    for path in PAGES.values():  # the tour: every page's state in the session, caches warm
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
    print(f"session state after the tour: {len(at.session_state)} user keys\n")

    print("| page | patch on (ms CPU per rerun) | patch off | off - on: paired median [quartiles] |")
    print("| --- | --- | --- | --- |")
    for page in chosen:
        at.switch_page(PAGES[page]).run()
        for _ in range(3):  # warm-up reruns of this page
            at.run()
        on: list[float] = []
        off: list[float] = []
        for i in range(args.repeats):
            order = ("on", "off") if i % 2 == 0 else ("off", "on")
            for side in order:
                if side == "on":
                    widget_state.install()
                    on.append(rerun_ms(at))
                else:
                    widget_state.uninstall()
                    off.append(rerun_ms(at))
            assert not at.exception, (page, at.exception)
        widget_state.install()
        diff = [b - a for a, b in zip(on, off, strict=True)]
        q1, mid, q3 = statistics.quantiles(diff, n=4)
        print(f"| {page} | {spread(on)} | {spread(off)} | {mid:+.2f} [{q1:+.2f} to {q3:+.2f}] |", flush=True)
    print(f"\nload average after {loadavg()} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
