"""Write static/plotly-<version>.min.js.gz from the installed `plotly` package (run after upgrading plotly).

The Training page's live chart loads plotly.js from this static file (pages/ui/live_plotly.py);
tests/app/test_static_plotly.py checks that the file matches the installed plotly byte for byte.
Older bundles in static/ are removed. Never run by the app itself: the app writes nothing under
its folder (Community Cloud restarts an app whose files change).

    .venv/bin/python scripts/vendor_plotly_js.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pages.ui.live_plotly import STATIC_DIR, bundle_bytes, bundle_name, installed_plotly_js  # noqa: E402


def main() -> None:
    STATIC_DIR.mkdir(exist_ok=True)
    target = STATIC_DIR / bundle_name()
    for old in STATIC_DIR.glob("plotly-*.min.js.gz"):
        if old != target:
            old.unlink()
            print(f"removed {old.name}")
    data = bundle_bytes()
    target.write_bytes(data)
    size = installed_plotly_js().stat().st_size
    print(f"wrote {target.relative_to(STATIC_DIR.parent)}: {len(data):,} bytes ({size:,} unzipped)")


if __name__ == "__main__":
    main()
