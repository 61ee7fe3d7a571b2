"""Debian's Chromium as every browser run here launches it: the browser tests (tests/e2e) and the load
test's real tabs. `playwright install` cannot download a browser on this machine, so Playwright is
pointed at the system's (`apt-get install -y chromium`; CHROMIUM_PATH overrides the path)."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
