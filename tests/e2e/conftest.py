"""Browser-test harness: a real `streamlit run app.py` on a free loopback port, driven by Chromium.

The server is started once per test session and stopped after it. Tests skip with a one-line
reason where Debian's Chromium or the playwright package is missing. Screenshots go to
$E2E_ARTIFACTS (default: artifacts/screenshots).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from loadtest.chromium import CHROMIUM, CHROMIUM_ARGS
from loadtest.harness import streamlit_command

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the tests skip then
    PlaywrightTimeout = TimeoutError

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "artifacts" / "screenshots"))
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"
# Streamlit draws a skeleton where an element's code is still loading (a fresh browser context
# fetches the widget and plotly chunks); the script can be done while they are still there.
NO_SKELETON = "() => !document.querySelector(\"[data-testid='stSkeleton']\")"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_collection_modifyitems(config, items):
    reason = None
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed"
    # The page-opening tests first: the fresh server's first request is then a deep link.
    items.sort(key=lambda item: 0 if item.fspath.basename == "test_pages.py" else 1)
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


class App:
    """A `streamlit run app.py` of the tests' own on a loopback port, its class store at `db`."""

    def __init__(self, db: Path, port: int | None = None) -> None:
        self.db, self.port = db, port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> str:
        env = dict(os.environ, CNN_CLASSROOM_TEST="1", CNN_CLASSROOM_DB=f"sqlite:///{self.db}")
        # The server's log goes to a file: a pipe nobody reads fills up (64 KB) and then blocks every
        # writer, the training processes included (each run logs Streamlit's bare-mode warnings).
        self.log = self.db.parent / "server.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                streamlit_command("app.py", self.port),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(self.base + "/_stcore/health", timeout=1).read().strip() == b"ok":
                    return self.base
            except OSError:
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"streamlit did not answer /_stcore/health within 120 s (log: {self.log})")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)
        self.proc = None


@pytest.fixture(scope="session")
def server():
    """Start the app once for the browser tests; yield its base URL."""
    app = App(Path(tempfile.mkdtemp(prefix="cc-e2e-")) / "classes.db")  # a class store of its own
    try:
        yield app.start()
    finally:
        app.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        br = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield br
        br.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


def wait_idle(pg, settle: float = 0.4) -> None:
    """Wait until the script has finished its run (twice, to let reruns start) and all is drawn."""
    pg.wait_for_selector(IDLE, timeout=120_000)
    time.sleep(settle)
    pg.wait_for_selector(IDLE, timeout=120_000)
    pg.wait_for_function(NO_SKELETON, timeout=60_000)


def wait_rerun(pg, within: float = 3.0) -> None:
    """After an action whose rerun starts a moment later (the canvas sends its image after mouse up):
    wait until a run has started (at most `within` seconds), then until it is done."""
    try:
        pg.wait_for_selector(RUNNING, timeout=within * 1000)
    except PlaywrightTimeout:
        pass  # it had already finished, or nothing was sent
    wait_idle(pg, settle=0.3)


def open_page(pg, base: str, slug: str = "") -> None:
    pg.goto(f"{base}/{slug}")
    # The sidebar element exists before the script has run; wait for the frame's menu itself.
    pg.locator("[data-testid='stSidebar']").get_by_text("Home", exact=True).wait_for(timeout=120_000)
    pg.locator("h1").first.wait_for(timeout=120_000)
    wait_idle(pg)


def widget(key: str) -> str:
    """CSS for the widget with this key; "name_*" matches a key that starts with "name_" (keys that
    carry a version number)."""
    return f"[class*='st-key-{key[:-1]}']" if key.endswith("*") else f".st-key-{key}"


def choose(pg, key: str, option: str) -> None:
    """Pick `option` in the selectbox with key `key`.

    Scrolled into view first: the list closes when the page scrolls, which a click's own scroll does.
    """
    box = pg.locator(f"{widget(key)} input")
    box.scroll_into_view_if_needed()
    box.click()
    try:
        pg.get_by_role("option").first.wait_for(timeout=2_000)
    except PlaywrightTimeout:
        box.press("ArrowDown")  # the keyboard way to open it
    pg.get_by_role("option", name=option, exact=True).click()
    wait_idle(pg)


def type_into(pg, key: str, text: str) -> None:
    """Type `text` into the text or number input with key `key`, then Enter."""
    box = pg.locator(f"{widget(key)} input")
    box.fill(text)
    box.press("Enter")
    wait_idle(pg)


def upload(pg, key: str, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
    """Give the file uploader with key `key` one file, as if the student had picked it."""
    pg.locator(f"{widget(key)} input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    wait_idle(pg)


def screenshot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def assert_no_exception(pg) -> None:
    boxes = pg.locator("[data-testid='stException']")
    assert boxes.count() == 0, boxes.first.inner_text()
