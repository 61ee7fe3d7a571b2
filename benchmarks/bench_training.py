"""Benchmark training: TrainingRun against a bare PyTorch loop run the way a user runs it, and the demo.

    .venv/bin/python benchmarks/bench_training.py            # every part
    .venv/bin/python benchmarks/bench_training.py overhead   # (a) only
    .venv/bin/python benchmarks/bench_training.py demo [N]   # (b) only, N seeds (default 3)
    .venv/bin/python benchmarks/bench_training.py startup    # (c) only

(a) The same model (the demo's Digit CNN, identical initial weights), data (the 4,000 mnist-sample
    training digits) and batch size, trained by a bare loop in a process of its own (a script's main thread,
    pre-normalised float tensors, randperm batches, forward/backward/step, loss.item(); best of 1 and
    2 threads) and by TrainingRun with its process backend (a child process's main thread, uint8
    batches normalised on the fly, events over a pipe) and its thread backend, alternating, several
    rounds. Prints examples/sec and the ratio (target >= 0.95 of the bare loop).
(b) The default demo, as the Training page starts it: DEMO_SPEC + DEFAULT_DEMO on mnist-sample
    with 2 threads. Prints the wall time from start() to the end and the test accuracy (target:
    >= 97% in under 60 s on 2 CPU cores).
(c) Train press to the first batch with a cold and a warm forkserver, and the memory (RSS, PSS,
    USS from /proc/<pid>/smaps_rollup) of this process, the forkserver and a training child.
Timings depend on what else runs on the machine; the script prints the load average beside them.
"""

from __future__ import annotations

import copy
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cnnlib.data import load_dataset, normalize  # noqa: E402
from cnnlib.spec import ModelSpec, build_model  # noqa: E402
from cnnlib.training import (  # noqa: E402
    DEFAULT_DEMO,
    DEMO_DATASET,
    DEMO_SPEC,
    SlotLimiter,  # noqa: E402
    TrainConfig,
    TrainingRun,
)

THREADS = 2


def load() -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def bare_loop(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, epochs: int, lr: float
) -> float:
    """A plain PyTorch loop over pre-normalised float data; returns examples/sec."""
    torch.set_num_threads(THREADS)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    crit = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(0)
    n = x.shape[0]
    model.train()
    t0 = time.perf_counter()
    seen = 0
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = x[idx], y[idx]  # [B, 1, 28, 28], [B]
            loss = crit(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()
            seen += idx.shape[0]
    return seen / (time.perf_counter() - t0)


def run_loop(model: nn.Module, bundle, batch_size: int, epochs: int, lr: float, backend: str, threads: int):
    """TrainingRun on the same model; returns (examples/sec over the training loop, incl. start/test)."""
    cfg = TrainConfig(
        optimizer="adam", lr=lr, batch_size=batch_size, epochs=epochs, val_fraction=0.0, num_threads=threads
    )
    r = TrainingRun(model, bundle, cfg, slots=SlotLimiter(1), backend=backend)
    t0 = time.perf_counter()
    r.start()
    while not r.wait(0.5):  # poll like the page does (twice a second)
        r.snapshot()
    wall = time.perf_counter() - t0
    s = r.snapshot()
    assert s.status == "finished", s.message
    return s.examples_per_sec, (s.train_size * epochs) / wall


def bare_process(threads: int, epochs: int, batch_size: int) -> float:
    """The bare loop as a user runs it: a script in a process of its own, its main thread."""
    out = subprocess.run(
        [sys.executable, __file__, "bare", str(threads), str(epochs), str(batch_size)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": str(threads)},
    )
    return float(out.stdout.strip().splitlines()[-1])


def bare_main(threads: int, epochs: int, batch_size: int) -> None:
    """`bench_training.py bare T E B`: print the bare loop's examples/s (the subprocess's side)."""
    global THREADS
    THREADS = threads
    bundle = load_dataset("mnist-sample")
    x, y = normalize(bundle.train_images, bundle), bundle.train_labels
    torch.manual_seed(0)
    model = build_model(ModelSpec.from_dict(DEMO_SPEC))
    bare_loop(copy.deepcopy(model), x[:512], y[:512], batch_size, 1, 1e-3)  # warm-up
    print(bare_loop(model, x, y, batch_size, epochs, 1e-3))


def overhead(rounds: int = 6, epochs: int = 3, batch_size: int = 64) -> None:
    bundle = load_dataset("mnist-sample")
    torch.manual_seed(0)
    base = build_model(ModelSpec.from_dict(DEMO_SPEC))
    run_loop(copy.deepcopy(base), bundle, batch_size, 1, 1e-3, "process", 2)  # start the forkserver
    print(
        f"(a) Digit CNN, mnist-sample 4,000 train, batch {batch_size}, {epochs} epoch(s) a round: a bare loop "
        "in its own process (best of 1 and 2 threads) vs TrainingRun in a child process (2 threads) and in a "
        "thread (best of 1 and 2 threads); alternating order"
    )
    rows = {k: [] for k in ("bare1", "bare2", "proc2", "thread1", "thread2", "proc2_wall")}
    jobs = {
        "bare1": lambda: bare_process(1, epochs, batch_size),
        "bare2": lambda: bare_process(2, epochs, batch_size),
        "proc2": lambda: run_loop(copy.deepcopy(base), bundle, batch_size, epochs, 1e-3, "process", 2),
        "thread1": lambda: run_loop(copy.deepcopy(base), bundle, batch_size, epochs, 1e-3, "thread", 1),
        "thread2": lambda: run_loop(copy.deepcopy(base), bundle, batch_size, epochs, 1e-3, "thread", 2),
    }
    order = list(jobs)
    for i in range(rounds):
        for name in order if i % 2 == 0 else order[::-1]:
            got = jobs[name]()
            if isinstance(got, tuple):
                rows[name].append(got[0])
                if name == "proc2":
                    rows["proc2_wall"].append(got[1])
            else:
                rows[name].append(got)
        print(
            f"    round {i + 1}: "
            + "  ".join(f"{k} {v[-1]:7.0f}" for k, v in rows.items() if v)
            + f"   ex/s (load {load()})"
        )
    bare = [max(a, b) for a, b in zip(rows["bare1"], rows["bare2"], strict=True)]
    thread = [max(a, b) for a, b in zip(rows["thread1"], rows["thread2"], strict=True)]
    med = statistics.median
    print(
        f"    median ex/s: bare process {med(bare):.0f} (1 thread {med(rows['bare1']):.0f}, 2 threads "
        f"{med(rows['bare2']):.0f}); TrainingRun process {med(rows['proc2']):.0f}; thread {med(thread):.0f} "
        f"(1 thread {med(rows['thread1']):.0f}, 2 threads {med(rows['thread2']):.0f})"
    )
    ratios = [p / b for p, b in zip(rows["proc2"], bare, strict=True)]
    tratios = [t / b for t, b in zip(thread, bare, strict=True)]
    print(
        f"    TrainingRun (process) / bare: median {med(ratios):.3f}, rounds {min(ratios):.3f}-{max(ratios):.3f} "
        f"(target >= 0.95); thread backend / bare: median {med(tratios):.3f}"
    )
    print(
        f"    TrainingRun (process) counting the fork, setup and the test-set pass: "
        f"{med(rows['proc2_wall']):.0f} ex/s ({med(rows['proc2_wall']) / med(bare):.3f} of bare)"
    )


def rss_pss_uss(pid: int) -> tuple[float, float, float]:
    """(RSS, PSS, USS) of a process in MB, from /proc/<pid>/smaps_rollup."""
    f = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        k, v = line.split(":", 1)
        f[k] = int(v.split()[0]) / 1024
    return f["Rss"], f["Pss"], f.get("Private_Clean", 0) + f.get("Private_Dirty", 0)


def startup_and_memory() -> None:
    """(c) Train press to first batch with a cold and a warm forkserver; the processes' memory."""
    from multiprocessing import forkserver

    bundle = load_dataset("mnist-sample")
    print("(c) Train press -> first batch, and memory (RSS / PSS / USS, MB)")
    me = os.getpid()
    print("    this process before any run: {:.0f} / {:.0f} / {:.0f}".format(*rss_pss_uss(me)))
    for label in ("cold forkserver", "warm", "warm"):
        r = TrainingRun(DEMO_SPEC, bundle, TrainConfig(epochs=3, num_threads=2), slots=SlotLimiter(1))
        t0 = time.perf_counter()
        r.start()
        while r.snapshot().step == 0 and not r.done:
            time.sleep(0.01)
        first = time.perf_counter() - t0
        time.sleep(0.5)
        child = rss_pss_uss(r.child_pid) if r.child_pid and Path(f"/proc/{r.child_pid}").exists() else None
        server_pid = forkserver._forkserver._forkserver_pid
        fs = rss_pss_uss(server_pid) if server_pid else None
        r.wait()
        print(
            f"    {label}: first batch after {first:.2f} s; forkserver "
            + ("{:.0f} / {:.0f} / {:.0f}".format(*fs) if fs else "-")
            + "; training child "
            + ("{:.0f} / {:.0f} / {:.0f}".format(*child) if child else "-")
        )
    print("    this process after the runs: {:.0f} / {:.0f} / {:.0f}".format(*rss_pss_uss(me)))


def demo(repeats: int = 1) -> None:
    bundle = load_dataset(DEMO_DATASET)
    cfg = copy.deepcopy(DEFAULT_DEMO)
    cfg.num_threads = THREADS
    print(
        f"(b) default demo: {DEMO_DATASET}, DEMO_SPEC, optimizer {cfg.optimizer}, lr {cfg.lr:g}, "
        f"batch {cfg.batch_size}, {cfg.epochs} epochs, scheduler {cfg.scheduler}, val {cfg.val_fraction:.0%}, "
        f"{THREADS} threads"
    )
    for i in range(repeats):
        cfg.seed = DEFAULT_DEMO.seed + i  # run 1 is exactly the default; later runs vary the seed
        r = TrainingRun(DEMO_SPEC, bundle, cfg, slots=SlotLimiter(1))
        t0 = time.perf_counter()
        r.start()
        while not r.wait(0.5):  # poll like the page does
            r.snapshot()
        wall = time.perf_counter() - t0
        s = r.snapshot()
        print(
            f"    run {i + 1} (seed {cfg.seed}): {s.status}, test accuracy {s.test_accuracy:.2%} in {wall:.1f} s "
            f"(training {s.elapsed:.1f} s, {s.examples_per_sec:.0f} ex/s; val acc by epoch "
            f"{', '.join(f'{v:.3f}' for v in s.val_acc)}; load {load()})"
        )
        print(
            f"    target: >= 97% in < 60 s -> {'MET' if s.test_accuracy >= 0.97 and wall < 60 else 'MISSED'}"
        )


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which == "bare":
        bare_main(*(int(a) for a in sys.argv[2:5]))
        raise SystemExit(0)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {load()}")
    if which in ("all", "overhead"):
        overhead()
    if which in ("all", "startup"):
        startup_and_memory()
    if which in ("all", "demo"):
        demo(int(sys.argv[2]) if len(sys.argv) > 2 else 3)
