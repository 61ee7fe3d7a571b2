"""Memory benchmark: what `import torch` costs, and the app's resident memory per session.

Prints figures, asserts nothing. From the repo root:

    .venv/bin/python benchmarks/bench_memory.py
    .venv/bin/python benchmarks/bench_memory.py --cpu-python /tmp/venv-torchcpu/bin/python --sessions 10
    /tmp/venv-cpu/bin/python benchmarks/bench_memory.py --training --no-app   # the CPU-only build

1. `import torch` (and torchvision) RSS in a fresh interpreter of this venv (the CUDA build of
   torch on PyPI's Linux wheel) and, with --cpu-python, in another interpreter holding the
   CPU-only wheel (e.g. a throwaway venv: `python -m venv /tmp/venv-torchcpu &&
   /tmp/venv-torchcpu/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl numpy`; torch alone:
   a torchvision from the index does not import beside that torch).
   Run by the CPU-only venv's interpreter (with the app's other requirements but no torchvision),
   parts 2 and 3 measure the app on the CPU-only build.
2. Where the app's memory goes: RSS in one fresh interpreter after each step (streamlit, torch,
   torchvision, plotly, the bundled datasets, the pretrained model), cumulative.
3. With --training: what training costs beside a process that has torch loaded (a server), PSS
   at its peak, process by process: in forkserver children (the forkserver and resource tracker,
   paid once, and the child) and in a thread of the process itself (issue 28: on Cloud's 690 MB
   only the thread fits; cnnlib.training.capacity plans with these figures).
4. `streamlit run app.py` on a loopback port: RSS at start, idle after the first page view, after
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

TRAINING = """
import json, os, sys, time
sys.path.insert(0, {root!r})
import torch  # the server has torch loaded too: the training processes share its file pages
from cnnlib.data import load_dataset
from cnnlib.spec import DEFAULT_PRESET, PRESETS
from cnnlib.training import TrainConfig, TrainingRun
from loadtest.memory import pss_parts
bundle = load_dataset('mnist-sample')
me = os.getpid()
base = pss_parts(me)[me][1]
run = TrainingRun(PRESETS[DEFAULT_PRESET], bundle, TrainConfig(epochs={epochs}), backend={backend!r})
run.start()
peak = {{}}
while not run.done:
    for pid, (kind, size) in pss_parts(me).items():
        kind = 'this process' if pid == me else kind
        peak[kind] = max(peak.get(kind, 0), size)
    time.sleep(0.1)
print(json.dumps({{'base': base, 'peak': peak, 'status': run.status}}))
"""


def training_footprint(python: str, backend: str, epochs: int = 1) -> dict:
    """PSS (MB) of an interpreter with torch, before and while it trains the Digit CNN on the MNIST
    sample for `epochs` with `backend` ("process": forkserver and child; "thread": in itself), peak
    per process kind."""
    env = dict(os.environ, OMP_NUM_THREADS="1", CNN_CLASSROOM_TRAIN_IN=backend)
    code = TRAINING.format(root=str(ROOT), epochs=epochs, backend=backend)
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return {"base": res["base"] / MB, **{k: v / MB for k, v in res["peak"].items()}, "status": res["status"]}


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
    ap.add_argument(
        "--training",
        action="store_true",
        help="the training processes' PSS: forkserver and child vs a run in a thread (minutes)",
    )
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

    if args.training:
        print("\ntraining the Digit CNN on the MNIST sample, 1 epoch: peak PSS (MB) per process")
        for backend in ("process", "thread"):
            fig = training_footprint(sys.executable, backend)
            parts = ", ".join(f"{k} {v:.0f}" for k, v in fig.items() if isinstance(v, float))
            print(f"  {backend:<8} {parts} ({fig.get('status', fig.get('error'))})")
        print("  (process: the forkserver and resource tracker are paid once, a child per run at once;")
        print("   thread: the growth of 'this process' over 'base' is the run's own cost)")

    if not args.no_app:
        n = max(2, min(args.sessions, 30))
        mem = asyncio.run(app_memory(n))
        print("\nstreamlit run app.py (RSS MB)")
        for k, v in mem.items():
            print(f"  {k:<28}{v:>8.1f}")


if __name__ == "__main__":
    main()
