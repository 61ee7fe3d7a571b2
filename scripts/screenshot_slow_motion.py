"""Screenshots of the Training page's "One step in slow motion" tab, one per step, at 1280x800.

Starts `streamlit run app.py` on a free loopback port, opens /training in Chromium, walks the five
steps and the predict-then-reveal prompt, and saves PNGs to the folder given (default
artifacts/screenshots/slow_motion). Usage: .venv/bin/python scripts/screenshot_slow_motion.py [OUT]
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
STEPS = ["zero_grad", "forward", "loss", "backward", "step"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(base: str, timeout: float = 90) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the Streamlit server did not start")


def _idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=120_000)
    page.wait_for_timeout(700)  # let charts and LaTeX paint


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false"]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(base)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/training")
            _idle(page)
            page.get_by_role("tab", name="One step in slow motion").click()
            _idle(page)
            page.screenshot(path=str(out / "0_batch.png"))
            page.get_by_role("heading", name="A batch, seen").evaluate(
                "el => el.scrollIntoView({block: 'start'})"
            )
            page.wait_for_timeout(400)
            page.screenshot(path=str(out / "0_batch_grid.png"))
            for i, name in enumerate(STEPS, start=1):
                page.locator(f".st-key-step_{name} button").click()
                _idle(page)
                # the newest step's box: the last bordered container holding a step title
                title = page.get_by_role("heading", name=f"{i} · ").last
                title.evaluate("el => el.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(400)
                page.screenshot(path=str(out / f"{i}_{name}.png"))
            page.get_by_text("⬇️ down").click()
            _idle(page)
            page.locator(".st-key-reveal_loss button").click()
            _idle(page)
            page.get_by_role("heading", name="Predict, then reveal").evaluate(
                "el => el.scrollIntoView({block: 'start'})"
            )
            page.wait_for_timeout(400)
            page.screenshot(path=str(out / "6_reveal.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "artifacts" / "screenshots" / "slow_motion")
