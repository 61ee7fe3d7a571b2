"""Benchmark: how long the bounded paths take, the timings the tests no longer assert (CONTRIBUTING:
speed is measured here, never in a test).

- a link of 100,000 keys parsed by a page's schema (tests/share/test_links.py: read up to MAX_KEYS + 1);
- a zip-bomb model token of 100,000 layers refused (tests/share/test_links.py: never decoded);
- a click (a rerun of the page a session is on) while six page opens queue for one admission slot
  (tests/app/test_admission.py: it never waits for the slot);
- a training child stopped mid-run: from `stop()` to the run's end (tests/training/test_worker.py).

Median [min-max] of `--repeats` runs each; nothing is asserted.

    .venv/bin/python benchmarks/bench_limits.py
    .venv/bin/python benchmarks/bench_limits.py --repeats 20 --skip-training
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlib.kernels import KERNELS_LINK  # noqa: E402
from cnnlib.share import pack  # noqa: E402
from cnnlib.spec import SpecError, spec_from_token  # noqa: E402
from loadtest.harness import loadavg, machine  # noqa: E402
from pages.ui.runtime.admission import PageGate  # noqa: E402


def spread(values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    m = statistics.median(values) * scale
    return f"{m:.3f} [{min(values) * scale:.3f}-{max(values) * scale:.3f}] {unit}"


def timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def link_keys() -> float:
    params = {f"k{i}": "x" * 100 for i in range(100_000)}
    return timed(lambda: KERNELS_LINK.parse(params))


BOMB = pack({"input_shape": [1, 28, 28], "layers": [{"type": "ReLU"}] * 100_000})


def zip_bomb() -> float:
    def refuse() -> None:
        try:
            spec_from_token(BOMB)
        except SpecError:
            return
        raise AssertionError("the bomb was accepted")

    return timed(refuse)


class _Session:
    pass


def click_while_opens_queue(hold_s: float = 0.02) -> float:
    """Six sessions open a page (each holds the one slot `hold_s`); a seventh, already on its page,
    clicks: the seconds from the click to its run."""
    gate = PageGate(1)
    started = threading.Event()

    def work() -> None:
        started.set()
        time.sleep(hold_s)

    threads = [threading.Thread(target=gate.run, args=(_Session(), "p", None, work)) for _ in range(6)]
    for t in threads:
        t.start()
    clicker = _Session()
    gate.opens_page(clicker, "p", None)
    started.wait(10)
    took = [0.0]
    t0 = time.perf_counter()
    gate.run(clicker, "p", None, lambda: took.__setitem__(0, time.perf_counter() - t0))
    for t in threads:
        t.join()
    return took[0]


def training_stop() -> float:
    from cnnlib.data import load_dataset
    from cnnlib.spec import PRESETS, adapt_to_dataset
    from cnnlib.training import SlotLimiter, TrainConfig, TrainingRun

    bundle = load_dataset("shapes", train_size=400, test_size=100)
    spec = adapt_to_dataset(PRESETS["TinyCNN"], bundle.input_shape, bundle.num_classes)
    config = TrainConfig(epochs=500, batch_size=8, num_threads=1, val_fraction=0.0)
    run = TrainingRun(spec, bundle, config, slots=SlotLimiter(2), backend="process").start()
    deadline = time.monotonic() + 60
    while run.snapshot().step < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    t0 = time.perf_counter()
    run.stop()
    run.wait(60)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--skip-training", action="store_true", help="leave out the training child's stop")
    args = ap.parse_args(argv)
    print(f"{machine()}; load average {loadavg()}\n", flush=True)
    cases = {
        "link of 100,000 keys parsed": link_keys,
        "zip-bomb token of 100,000 layers refused": zip_bomb,
        "click while 6 page opens queue (each 20 ms)": click_while_opens_queue,
    }
    if not args.skip_training:
        cases["training child: stop() to the run's end"] = training_stop
    print("| path | median [min-max] |\n| --- | --- |")
    for name, case in cases.items():
        case()  # warm-up
        print(f"| {name} | {spread([case() for _ in range(args.repeats)])} |", flush=True)
    print(f"\nload average after {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
