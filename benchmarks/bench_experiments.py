"""Benchmark the experiments a teacher runs live (issue 26), with the figures a teacher would quote.

    .venv/bin/python benchmarks/bench_experiments.py                    # all three, 3 seeds
    .venv/bin/python benchmarks/bench_experiments.py --parts transfer --seeds 1

Each run goes through `TrainingRun` as the Training page starts it (the process backend, the page's
thread count); nothing is asserted, everything is printed with the load average beside it.

1. **Memorise** (Zhang et al. 2017): the Digit CNN on 200 MNIST-sample images with every label
   shuffled (label_noise=1) and clean: training and validation accuracy at the end, seconds.
2. **Regularise**: on the same 200 images, the Digit CNN without its dropout, and the same run with
   dropout before the classifier (p = 0.5) and weight decay 1e-3 (`with_dropout`, TrainConfig.weight_decay), over 3
   seeds: the gap between training and validation accuracy at the end, each seed and the mean.
3. **Transfer**: the synthetic shapes made grey and 28x28, 10, 50 and all images per class: the
   digit model's architecture from scratch against its trained layers frozen with a new head
   (`ComparisonJob` change "pretrained"), test accuracy and seconds of each.
"""

from __future__ import annotations

import argparse
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
    ComparisonJob,
    SlotLimiter,
    TrainConfig,
    TrainingRun,
    cpu_cores,
    with_dropout,
)

THREADS = int(os.environ.get("THREADS", 0)) or (1 if cpu_cores() <= 2 else 2)  # the page's rule


def load() -> str:
    try:
        return f"load {os.getloadavg()[0]:.1f}"
    except OSError:
        return "load ?"


def run(spec, bundle, cfg: TrainConfig) -> dict:
    t0 = time.perf_counter()
    r = TrainingRun(spec, bundle, cfg, slots=SlotLimiter(1)).start()
    r.wait()
    s = r.snapshot()
    return {
        "train": s.train_acc[-1] if s.train_acc else float("nan"),
        "val": s.val_acc[-1] if s.val_acc else float("nan"),
        "test": s.test_accuracy if s.test_accuracy is not None else float("nan"),
        "seconds": time.perf_counter() - t0,
        "status": s.status,
    }


def memorise(seeds: int, epochs: int) -> None:
    bundle = load_dataset(DEMO_DATASET)
    print(
        f"\n1. Memorise: Digit CNN, 200 MNIST-sample images, {epochs} epochs, Adam 0.002, batch 32 ({load()})"
    )
    print("   labels     seed  train acc  val acc  seconds")
    for noise, name in ((1.0, "shuffled"), (0.0, "clean")):
        for seed in range(seeds):
            cfg = TrainConfig(
                train_size=200,
                label_noise=noise,
                epochs=epochs,
                lr=0.002,
                batch_size=32,
                seed=seed,
                num_threads=THREADS,
            )
            got = run(DEMO_SPEC, bundle, cfg)
            print(f"   {name:9s}  {seed:4d}  {got['train']:9.1%}  {got['val']:7.1%}  {got['seconds']:7.1f}")


def regularise(seeds: int, epochs: int) -> None:
    bundle = load_dataset(DEMO_DATASET)
    print(
        f"\n2. Regularise: 200 images, {epochs} epochs; the gap is training minus validation accuracy ({load()})"
    )
    print("   seed  gap without  gap with dropout 0.5 + weight decay 1e-3  val without  val with")
    gaps: tuple[list[float], list[float]] = ([], [])
    for seed in range(seeds):
        base = TrainConfig(
            train_size=200, epochs=epochs, lr=0.002, batch_size=32, seed=seed, num_threads=THREADS
        )
        reg = TrainConfig(**{**base.to_dict(), "weight_decay": 1e-3, "augment": ()})
        a = run(with_dropout(DEMO_SPEC, 0), bundle, base)  # the Digit CNN without its dropout
        b = run(with_dropout(DEMO_SPEC, 0.5), bundle, reg)
        gaps[0].append(a["train"] - a["val"])
        gaps[1].append(b["train"] - b["val"])
        print(f"   {seed:4d}  {gaps[0][-1]:11.1%}  {gaps[1][-1]:41.1%}  {a['val']:11.1%}  {b['val']:8.1%}")
    print(f"   mean  {statistics.mean(gaps[0]):11.1%}  {statistics.mean(gaps[1]):41.1%}")


def transfer(seeds: int, epochs: int) -> None:
    shapes = load_dataset("shapes")
    k = shapes.num_classes
    print(
        f"\n3. Transfer: shapes as grey 28x28, {epochs} epochs; test accuracy, scratch vs frozen digit layers ({load()})"
    )
    print("   per class  seed  scratch  transfer  seconds (scratch, transfer)")
    for per_class in (10, 50, None):
        for seed in range(seeds):
            cfg = TrainConfig(
                train_size=per_class * k if per_class else None,
                epochs=epochs,
                lr=0.002,
                batch_size=min(32, (per_class or 64) * k // 2),
                seed=seed,
                num_threads=THREADS,
            )
            job = ComparisonJob.create(None, shapes, cfg, "pretrained", "frozen", slots=SlotLimiter(1))
            t0 = time.perf_counter()
            job.start()
            job.wait()
            (a, b), total = job.runs, time.perf_counter() - t0
            sa, sb = a.snapshot(), b.snapshot()
            print(
                f"   {per_class or 'all':>9}  {seed:4d}  {sa.test_accuracy or 0:7.1%}  {sb.test_accuracy or 0:8.1%}"
                f"  {sa.elapsed:.1f}, {sb.elapsed:.1f} (job {total:.1f})"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", nargs="+", default=["memorise", "regularise", "transfer"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--transfer-epochs", type=int, default=10)
    a = ap.parse_args()
    print(f"bench_experiments: {cpu_cores()} cores, {THREADS} torch thread(s) per run")
    if "memorise" in a.parts:
        memorise(1 if a.seeds < 1 else a.seeds, a.epochs)
    if "regularise" in a.parts:
        regularise(a.seeds, a.epochs)
    if "transfer" in a.parts:
        transfer(a.seeds, a.transfer_epochs)


if __name__ == "__main__":
    main()
