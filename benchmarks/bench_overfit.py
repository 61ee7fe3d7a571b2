"""Benchmark overfitting on demand: 200 training images, clean and with every label shuffled.

    .venv/bin/python benchmarks/bench_overfit.py              # 3 seeds, 30 epochs
    .venv/bin/python benchmarks/bench_overfit.py 5 40         # 5 seeds, 40 epochs

As the Training page runs it (TrainingRun, its process backend, 1 torch thread on a server of at
most 2 cores, else 2; `THREADS=n` in the environment overrides it): the demo's Digit CNN on
the bundled MNIST sample with TrainConfig(train_size=200, label_noise=0 or 1), Adam lr 0.002,
batch 32, the 400 validation images the default split holds out (measured on their true labels).
For each seed and setting it prints the last epoch's training and validation accuracy and their
gap, the largest gap, the first epoch the gap reached 0.10, the first epoch training accuracy
reached 90 %, the epoch of the lowest validation loss (after it the validation loss rises:
overfitting), the test accuracy, and the wall time from start() to the end of the run.
Memorisation (Zhang et al. 2017): with shuffled labels the training accuracy should pass 90 %
while validation stays near chance (10 %). Timings depend on what else runs on the machine; the
script prints the load average beside them.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cnnlib.data import load_dataset  # noqa: E402
from cnnlib.training import (  # noqa: E402
    DEMO_DATASET,
    DEMO_SPEC,
    SlotLimiter,
    TrainConfig,
    TrainingRun,
    cpu_cores,
)

TRAIN_SIZE = 200
THREADS = int(os.environ.get("THREADS", 0)) or (1 if cpu_cores() <= 2 else 2)  # the page's rule


def first(values, ok) -> str:
    """The 1-based epoch of the first value that passes `ok`, or "-"."""
    return next((str(i + 1) for i, v in enumerate(values) if ok(v)), "-")


def load() -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def one_run(bundle, noise: float, seed: int, epochs: int) -> dict:
    cfg = TrainConfig(
        train_size=TRAIN_SIZE,
        label_noise=noise,
        optimizer="adam",
        lr=2e-3,
        batch_size=32,
        epochs=epochs,
        seed=seed,
        num_threads=THREADS,
    )
    run = TrainingRun(DEMO_SPEC, bundle, cfg, slots=SlotLimiter(1))
    t0 = time.perf_counter()
    run.start()
    run.wait()
    wall = time.perf_counter() - t0
    s = run.snapshot()
    gaps = [t - v for t, v in zip(s.train_acc, s.val_acc, strict=False)]
    best = min(range(len(s.val_loss)), key=lambda i: s.val_loss[i]) + 1
    return {
        "status": s.status,
        "train": s.train_acc[-1],
        "val": s.val_acc[-1],
        "gap": gaps[-1],
        "max_gap": max(gaps),
        "gap_at": first(gaps, lambda g: g >= 0.10),
        "train90_at": first(s.train_acc, lambda a: a >= 0.90),
        "best_epoch": best,
        "test": s.test_accuracy,
        "seconds": wall,
    }


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    bundle = load_dataset(DEMO_DATASET)
    print(
        f"{TRAIN_SIZE} training images of {DEMO_DATASET}, {epochs} epochs, {THREADS} thread(s); load {load()}"
    )
    warm = one_run(bundle, 0.0, 99, 1)  # starts the forkserver: not timed below
    assert warm["status"] == "finished", warm
    for noise in (0.0, 1.0):
        rows = [one_run(bundle, noise, seed, epochs) for seed in range(seeds)]
        print(f"\nlabel_noise={noise:g}")
        print(
            "seed  train   val    gap  max gap  gap>=0.1 at  train>=90% at  min val loss at  test    seconds"
        )
        for seed, r in enumerate(rows):
            print(
                f"{seed:>4}  {r['train']:5.1%}  {r['val']:5.1%}  {r['gap']:+.2f}  {r['max_gap']:+7.2f}"
                f"  {r['gap_at']:>11}  {r['train90_at']:>13}  {r['best_epoch']:>15}  {r['test']:5.1%}"
                f"  {r['seconds']:7.1f}  {r['status']}"
            )
        mean = {k: statistics.mean(r[k] for r in rows) for k in ("train", "val", "gap", "test", "seconds")}
        print(
            f"mean  {mean['train']:5.1%}  {mean['val']:5.1%}  {mean['gap']:+.2f}"
            f"  {'':>7}  {'':>11}  {'':>13}  {'':>15}  {mean['test']:5.1%}  {mean['seconds']:7.1f}"
        )
    print(f"\nload after: {load()}")


if __name__ == "__main__":
    main()
