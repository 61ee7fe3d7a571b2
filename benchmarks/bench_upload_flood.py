"""The upload flood of issue 24 (item 5): one client PUTs 40 files of 20 MB, never reruns, and leaves.

For each mode, a fresh `streamlit run app.py` (loadtest/harness.py's command) with the patch of
pages/ui/runtime/uploads_release.py switched off (`CNN_CLASSROOM_RELEASE_UPLOADS=0`, Streamlit as it is),
on without its per-session cap (the release alone, as for a student who uploads and closes the
tab), and on: one websocket session opens the landing page (for its session id), then PUTs
`--files` x `--mb` MB of random bytes to `/_stcore/upload_file/<session>/<file>` with a self-made
XSRF cookie/header pair, as the issue's attacker did, closes the websocket, and the server's RSS is
read before the flood, after it, and `--after` seconds after the close. Prints one row per mode and
repeat, with the PUTs' status codes (204 stored, 413 refused past the session's cap).

Run: .venv/bin/python benchmarks/bench_upload_flood.py [--repeat 1] [--files 40] [--mb 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from loadtest.harness import Server, machine  # noqa: E402
from loadtest.ws_client import StreamlitSession, put_file  # noqa: E402

MODES = {  # name: the server's environment
    "off (Streamlit 1.67 as it is)": {"CNN_CLASSROOM_RELEASE_UPLOADS": "0"},
    "on, release only (no cap)": {
        "CNN_CLASSROOM_RELEASE_UPLOADS": "1",
        "CNN_CLASSROOM_UPLOAD_SESSION_MB": "100000",
    },
    "on (uploads_release)": {"CNN_CLASSROOM_RELEASE_UPLOADS": "1"},
}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def flood(server: Server, files: int, data: bytes, after: list[float]) -> dict:
    session = StreamlitSession(server.base)
    await session.connect()
    await session.run()  # the landing page: the session id comes with new_session
    assert session.session_id, "no session id"
    await asyncio.sleep(1.0)
    row: dict = {"before": rss_mb(server.pid)}
    t0 = time.perf_counter()
    codes = Counter()
    for _ in range(files):
        codes[await asyncio.to_thread(put_file, server.port, session.session_id, data)] += 1
    row["flood_s"] = time.perf_counter() - t0
    row["codes"] = dict(codes)
    row["after_flood"] = rss_mb(server.pid)
    await session.close()
    closed = time.perf_counter()
    for wait in sorted(after):
        await asyncio.sleep(max(0.0, closed + wait - time.perf_counter()))
        row[f"+{wait:g}s"] = rss_mb(server.pid)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--mb", type=float, default=20.0, help="MB (10**6 bytes) per file")
    parser.add_argument("--after", default="10,60", help="seconds after the close to read RSS")
    args = parser.parse_args()
    after = [float(x) for x in args.after.split(",") if x]
    data = os.urandom(int(args.mb * 1e6))
    print(f"machine: {machine()}")
    print(f"flood: {args.files} PUTs x {args.mb:g} MB from one session, never a rerun, then the tab closes")
    cols = ["before", "after_flood"] + [f"+{w:g}s" for w in sorted(after)]
    print(f"{'mode':<32} " + " ".join(f"{c:>12}" for c in cols) + "   PUT codes, flood time (RSS in MB)")
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            for i, (mode, env) in enumerate(MODES.items()):
                server = Server("app.py", Path(folder) / f"server-{i}.log", env=env)
                server.start()
                try:
                    row = asyncio.run(flood(server, args.files, data, after))
                finally:
                    server.stop()
                print(
                    f"{mode:<32} "
                    + " ".join(f"{row[c]:>12,.0f}" for c in cols)
                    + f"   {row['codes']}, {row['flood_s']:.1f} s"
                )


if __name__ == "__main__":
    main()
