"""Benchmark training: TrainingRun's overhead over a bare PyTorch loop, and the default classroom demo.

    .venv/bin/python benchmarks/bench_training.py            # both parts
    .venv/bin/python benchmarks/bench_training.py overhead   # (a) only
    .venv/bin/python benchmarks/bench_training.py demo [N]   # (b) only, N seeds (default 3)

(a) The same model (the demo CNN, identical initial weights), data (the 4,000 mnist-sample training
    digits), batch size and thread count, trained for a few epochs by a bare loop (pre-normalised
    float tensors, randperm batches, forward/backward/step, loss.item()) and by TrainingRun
    (uint8 batches normalised on the fly, metrics under a lock, stop checks), alternating, several
    rounds in one process. Prints examples/sec of each and the ratio (target >= 0.95).
(b) The default demo, as the Training page starts it: DEMO_SPEC + DEFAULT_DEMO on mnist-sample
    with 2 threads. Prints the wall time from start() to the end and the test accuracy (target:
    >= 97% in under 60 s on 2 CPU cores).
Timings depend on what else runs on the machine; the script prints the load average beside them.
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import threading
import time

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


def run_loop(model: nn.Module, bundle, batch_size: int, epochs: int, lr: float) -> tuple[float, float]:
    """TrainingRun on the same model; returns (examples/sec over the training loop, incl. start/test)."""
    cfg = TrainConfig(
        optimizer="adam", lr=lr, batch_size=batch_size, epochs=epochs, val_fraction=0.0, num_threads=THREADS
    )
    r = TrainingRun(model, bundle, cfg, slots=SlotLimiter(1))
    t0 = time.perf_counter()
    r.start()
    r.wait()
    wall = time.perf_counter() - t0
    s = r.snapshot()
    assert s.status == "finished", s.message
    return s.examples_per_sec, s.step and (s.train_size * epochs) / wall


def in_thread(fn, *args):
    """Run fn(*args) in a fresh thread (as TrainingRun does) and return its result."""
    out = []
    th = threading.Thread(target=lambda: out.append(fn(*args)))
    th.start()
    th.join()
    return out[0]


def overhead(rounds: int = 10, epochs: int = 1, batch_size: int = 64) -> None:
    bundle = load_dataset("mnist-sample")
    x = normalize(bundle.train_images, bundle)  # [4000, 1, 28, 28] float, done once for the bare loop
    y = bundle.train_labels
    torch.manual_seed(0)
    base = build_model(ModelSpec.from_dict(DEMO_SPEC))
    # Warm up once (first-call costs: allocator, optimizer imports).
    in_thread(bare_loop, copy.deepcopy(base), x[:512], y[:512], batch_size, 1, 1e-3)
    bare, ours, ours_wall = [], [], []
    print(
        f"(a) overhead: demo CNN, mnist-sample 4,000 train, batch {batch_size}, {epochs} epoch(s) a round, "
        f"{THREADS} threads; both in a worker thread, alternating order"
    )
    for i in range(rounds):

        def b_run():
            return in_thread(bare_loop, copy.deepcopy(base), x, y, batch_size, epochs, 1e-3)

        def o_run():
            return run_loop(copy.deepcopy(base), bundle, batch_size, epochs, 1e-3)

        if i % 2 == 0:
            b = b_run()
            o, ow = o_run()
        else:
            o, ow = o_run()
            b = b_run()
        bare.append(b)
        ours.append(o)
        ours_wall.append(ow)
        print(
            f"    round {i + 1}: bare {b:7.0f} ex/s   TrainingRun {o:7.0f} ex/s   ratio {o / b:.3f}   (load {load()})"
        )
    mb, mo = statistics.median(bare), statistics.median(ours)
    pairs = [o / b for o, b in zip(ours, bare, strict=True)]
    print(
        f"    median: bare {mb:.0f} ex/s, TrainingRun {mo:.0f} ex/s, ratio {mo / mb:.3f} "
        f"(median of per-round ratios {statistics.median(pairs):.3f}; target >= 0.95)"
    )
    print(
        f"    TrainingRun counting thread start, setup and the test-set pass: "
        f"{statistics.median(ours_wall):.0f} ex/s ({statistics.median(ours_wall) / mb:.3f} of bare)"
    )


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
        r.wait()
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
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {load()}")
    if which in ("all", "overhead"):
        overhead()
    if which in ("all", "demo"):
        demo(int(sys.argv[2]) if len(sys.argv) > 2 else 3)
