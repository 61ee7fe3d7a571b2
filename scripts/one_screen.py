"""The one-screen contract (issue 25) measured from the command line: per view and size, each key
element's top/bottom/left/right and how many px it is off screen, plus where the lesson bar and the
poll sit; screenshots in artifacts/screenshots/one_screen_<view>_<W>x<H>.png (key elements outlined).

Starts `streamlit run app.py` on a free loopback port with a class store of its own (the browser
tests' App) unless --base names a running app, then sets up the class as tests/e2e/test_one_screen.py
does (tests/e2e/one_screen.py: a teacher's projector view at 1920x1080 and 1280x720, a student at
1366x768, a lesson and an open poll).
Usage: .venv/bin/python scripts/one_screen.py [--views kernels draw] [--sizes 1920x1080 1366x768] [--base URL]
Exit status 1 when a key element is off screen or a view has none.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.conftest import App  # noqa: E402
from tests.e2e.one_screen import SIZES, VIEWS, Classroom, Measure, table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", nargs="+", choices=VIEWS, default=list(VIEWS))
    parser.add_argument("--sizes", nargs="+", choices=SIZES, default=list(SIZES))
    parser.add_argument("--base", help="a running app's address (default: start one)")
    parser.add_argument("--no-shots", action="store_true", help="measure only, no screenshots")
    args = parser.parse_args()
    app = None
    if args.base is None:
        app = App(Path(tempfile.mkdtemp(prefix="cc-one-screen-")) / "classes.db")
        base = app.start()
    else:
        base = args.base.rstrip("/")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            room = Classroom().setup(browser, base)
            try:
                measured: list[Measure] = []
                for view in args.views:
                    measured += room.run_view(view, tuple(args.sizes), shots=not args.no_shots).values()
            finally:
                room.close()
                browser.close()
    finally:
        if app is not None:
            app.stop()
    print(table(measured))
    problems = [p for m in measured for p in m.problems()]
    for p in problems:
        print("FAIL", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
