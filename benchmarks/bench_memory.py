"""Memory benchmark: what `import torch` costs, and the app's resident memory per session.

Prints figures, asserts nothing. From the repo root:

    .venv/bin/python benchmarks/bench_memory.py
    .venv/bin/python benchmarks/bench_memory.py --cpu-python /tmp/venv-torchcpu/bin/python --sessions 10

1. `import torch` (and torchvision) RSS in a fresh interpreter of this venv (the CUDA build of
   torch on PyPI's Linux wheel) and, with --cpu-python, in another interpreter holding the
   CPU-only wheel (e.g. a throwaway venv: `python -m venv /tmp/venv-torchcpu &&
   /tmp/venv-torchcpu/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl numpy`; torch alone:
   a torchvision from the index does not import beside that torch).
   Run by the CPU-only venv's interpreter (with the app's other requirements but no torchvision),
   parts 2 and 3 measure the app on the CPU-only build.
2. Where the app's memory goes: RSS in one fresh interpreter after each step (streamlit, torch,
   torchvision, plotly, the bundled datasets, the pretrained model), cumulative.
3. `streamlit run app.py` on a loopback port: RSS at start, idle after the first page view, after
   one session visited every page (caches warm), and with `--sessions` sessions open that each
   visited every page; per-session growth = (RSS with n open - RSS with 1 open) / (n - 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.harness import PAGES, Server  # noqa: E402
from loadtest.memory import MB, import_rss, rss_bytes  # noqa: E402
from loadtest.ws_client import StreamlitSession  # noqa: E402

BREAKDOWN = """
import json, pathlib, sys
sys.path.insert(0, {root!r})
def rss():
    for line in pathlib.Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
steps = [('python', rss())]
import streamlit; steps.append(('import streamlit', rss()))
import torch; steps.append(('import torch', rss()))
try:  # the app imports it only for optional downloads; the CPU-only torch wheel comes without it
    import torchvision; steps.append(('import torchvision', rss()))
except ImportError:
    pass
import plotly.graph_objects as go; go.Figure().to_json(); steps.append(('plotly (a figure)', rss()))
from cnnlib.data import load_dataset
b1 = load_dataset('shapes'); steps.append(('dataset shapes', rss()))
b2 = load_dataset('mnist-sample'); steps.append(('dataset mnist-sample', rss()))
from cnnlib.inference import load_pretrained
m = load_pretrained('mnist'); steps.append(('pretrained model', rss()))
print(json.dumps(steps))
"""


def breakdown() -> list[tuple[str, float]]:
    """Cumulative RSS (MB) of one fresh interpreter after each import or load."""
    env = dict(os.environ, OMP_NUM_THREADS="2")
    code = BREAKDOWN.format(root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    if out.returncode != 0:
        print("  breakdown failed:", out.stderr.strip().splitlines()[-1:])
        return []
    return json.loads(out.stdout.strip().splitlines()[-1])


async def visit_all(base: str) -> StreamlitSession:
    s = StreamlitSession(base, timeout=120)
    await s.connect()
    await s.run(page_name="")
    for page in PAGES[1:]:
        res = await s.open_page(page)
        if res.exceptions:
            print(f"  ! {page}: {res.exceptions[0][:120]}")
    return s


async def app_memory(n: int) -> dict[str, float]:
    server = Server("app.py", ROOT / "loadtest" / "logs" / "bench_memory.log")
    (ROOT / "loadtest" / "logs").mkdir(exist_ok=True)
    out: dict[str, float] = {}
    try:
        server.start()
        time.sleep(1)
        out["start"] = rss_bytes(server.pid) / MB
        s = StreamlitSession(server.base)
        await s.connect()
        await s.run(page_name="")
        await s.close()
        time.sleep(2)
        out["idle_after_first_view"] = rss_bytes(server.pid) / MB
        first = await visit_all(server.base)
        time.sleep(2)
        out["one_session_all_pages"] = rss_bytes(server.pid) / MB
        others = [await visit_all(server.base) for _ in range(n - 1)]  # one after another: steady state
        time.sleep(2)
        out[f"{n}_sessions_open"] = rss_bytes(server.pid) / MB
        out["per_session_mb"] = (out[f"{n}_sessions_open"] - out["one_session_all_pages"]) / max(1, n - 1)
        for sess in [first, *others]:
            await sess.close()
    finally:
        server.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpu-python", help="an interpreter with the CPU-only torch wheel")
    ap.add_argument("--sessions", type=int, default=10, help="sessions for the per-session growth (max 30)")
    ap.add_argument("--no-app", action="store_true", help="only the import figures")
    args = ap.parse_args()

    rows = []
    cuda = import_rss(sys.executable, "torch")
    rows.append((f"import torch {cuda['version']} (this venv)", cuda["after_mb"], cuda["delta_mb"]))
    try:
        tv = import_rss(sys.executable, "torchvision")
        rows.append(
            (f"import torchvision {tv['version']} (this venv, with torch)", tv["after_mb"], tv["delta_mb"])
        )
    except subprocess.CalledProcessError:
        print("(no torchvision in this interpreter: the app needs it only for optional downloads)")
    if args.cpu_python:
        cpu = import_rss(args.cpu_python, "torch")
        rows.append(
            (f"import torch {cpu['version']} (CPU-only wheel, torch alone)", cpu["after_mb"], cpu["delta_mb"])
        )
    print(f"{'fresh interpreter':<62}{'RSS MB':>9}{'added MB':>10}")
    for name, after, delta in rows:
        print(f"{name:<62}{after:>9.0f}{delta:>10.0f}")
    if args.cpu_python:
        print(f"CPU-only build saves {cuda['after_mb'] - cpu['after_mb']:.0f} MB on `import torch`")

    print("\nfresh interpreter, cumulative RSS after each step (MB)")
    prev = 0.0
    for name, mb in breakdown():
        print(f"  {name:<26}{mb:>8.0f}{mb - prev:>+8.0f}")
        prev = mb

    if not args.no_app:
        n = max(2, min(args.sessions, 30))
        mem = asyncio.run(app_memory(n))
        print("\nstreamlit run app.py (RSS MB)")
        for k, v in mem.items():
            print(f"  {k:<28}{v:>8.1f}")


if __name__ == "__main__":
    main()
