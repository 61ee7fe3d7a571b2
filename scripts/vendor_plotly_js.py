"""Write static/plotly-cartesian-<version>.min.js.gz: plotly.js's cartesian partial bundle from npm.

Every Plotly figure of the app loads plotly.js from this static file (pages/ui/live_plotly.py). The
bundle is the npm package `plotly.js-cartesian-dist-min` at the version of the plotly.js the
installed `plotly` package ships (figures are built by that package's Python side). The script
downloads the package's tarball from the npm registry, checks the registry's SHA-512 integrity,
and prints the file's SHA-256: put it in `BUNDLE_SHA256` (tests/app/test_static_plotly.py checks
the static file against it). Older bundles in static/ are removed. Never run by the app itself:
the app writes nothing under its folder (Community Cloud restarts an app whose files change).

    .venv/bin/python scripts/vendor_plotly_js.py
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pages.ui.live_plotly import (  # noqa: E402
    BUNDLE_FILE,
    BUNDLE_PACKAGE,
    BUNDLE_SHA256,
    STATIC_DIR,
    bundle_bytes,
    bundle_name,
    bundle_url,
    plotly_js_version,
    sha256,
)


def main() -> None:
    version = plotly_js_version()
    meta = json.load(
        urllib.request.urlopen(f"https://registry.npmjs.org/{BUNDLE_PACKAGE}/{version}", timeout=60)
    )
    tgz = urllib.request.urlopen(bundle_url(), timeout=120).read()
    algo, digest = meta["dist"]["integrity"].split("-", 1)
    if base64.b64encode(hashlib.new(algo, tgz).digest()).decode() != digest:
        raise SystemExit(f"{bundle_url()}: the tarball does not match the registry's {algo} integrity")
    with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
        js = tar.extractfile(f"package/{BUNDLE_FILE}").read()
    if f"v{version}" not in js[:200].decode("utf-8", "replace"):
        raise SystemExit(f"{BUNDLE_FILE} is not plotly.js v{version}")
    STATIC_DIR.mkdir(exist_ok=True)
    target = STATIC_DIR / bundle_name()
    for old in STATIC_DIR.glob("plotly-*.min.js.gz"):
        if old != target:
            old.unlink()
            print(f"removed {old.name}")
    data = bundle_bytes(js)
    target.write_bytes(data)
    print(f"wrote {target.relative_to(STATIC_DIR.parent)}: {len(data):,} bytes ({len(js):,} unzipped)")
    print(
        f"sha256 of {BUNDLE_FILE}: {sha256(js)}"
        + ("" if sha256(js) == BUNDLE_SHA256 else "  <- new: update BUNDLE_SHA256")
    )


if __name__ == "__main__":
    main()
