"""The README's picture and the first-impression screenshots (issue 25), taken in Chromium.

Starts `streamlit run app.py` on a free loopback port (the browser tests' App), then saves to the
folder given (default artifacts/screenshots): readme_projector.png (the Kernels page in the
projector view at 1920x1080, the README's top picture), and the landing and Glossary pages at
1920x1080 and 1366x768, plus the Glossary page opened at one entry (glossary#stride).
Usage: .venv/bin/python scripts/screenshot_readme.py [OUT]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.conftest import App, open_page, wait_idle  # noqa: E402

SHOTS = [  # (page and params, file name, width, height)
    ("kernels?present=1", "readme_projector", 1920, 1080),
    ("", "landing_1920x1080", 1920, 1080),
    ("glossary", "glossary_1920x1080", 1920, 1080),
    ("", "landing_1366x768", 1366, 768),
    ("glossary", "glossary_1366x768", 1366, 768),
    ("glossary#stride", "glossary_stride_1366x768", 1366, 768),
]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = App(Path(tempfile.mkdtemp(prefix="cc-shots-")) / "classes.db")
    base = app.start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for slug, name, width, height in SHOTS:
                ctx = browser.new_context(viewport={"width": width, "height": height})
                pg = ctx.new_page()
                pg.set_default_timeout(120_000)
                if "present=1" in slug:  # the projector view folds the sidebar, menu and all
                    pg.goto(f"{base}/{slug}")
                    pg.locator("h1").first.wait_for()
                    wait_idle(pg)
                else:
                    open_page(pg, base, slug)
                time.sleep(1.0)  # images and fonts settle
                wait_idle(pg)
                pg.screenshot(path=str(out / f"{name}.png"))
                print(out / f"{name}.png")
                ctx.close()
            browser.close()
    finally:
        app.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "artifacts" / "screenshots")
