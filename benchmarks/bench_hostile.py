"""The hostile student's inputs (issue 24): peak RSS growth and CPU seconds of each refusal.

Runs tests/hostile/cases.py's catalogue in a child process under the same address-space cap as the
test (what the child maps after its imports + 400 MB), `--repeat` times, and prints one row per
case: the refusal, its peak-RSS growth and CPU seconds (median and spread). The figures before the
fix are the issue's, measured on the server (they cannot be rerun here: unpriced, they take GBs).

Run: .venv/bin/python benchmarks/bench_hostile.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile import cases  # noqa: E402

BEFORE = {  # issue 24, "What was found", on the main of that day
    "tiny_images": "16.3 GB peak, 2.0 GB held after (5,000 tiny PNGs at 256 px)",
    "pixel_bomb": "45-85 CPU-minutes, on after the tab closed (4,100 x 25 Mpx 16-bit PNGs)",
    "stop": "no stop: the decode went on after the tab closed",
    "train_oversized": "+1.96 GB, 18 s before the 'needs about 186.7 GB' refusal",
    "slow_motion": "+932 MB at batch 1, +2.79 GB at batch 3, no check",
    "feature_maps": "no check",
    "grad_cam": "no check",
    "draw_model": "no check (a trial forward pass on a 1x28x28 probe)",
    "crafted_link": "RecursionError with a traceback and server paths",
    "control_unpriced": "(control: the tiny-images dataset's 983 MB, allocated under the cap)",
    "fits": "(an ordinary upload: 5,000 tiny PNGs at 32 px)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = cases.build_inputs(Path(folder))
        sizes = {p.name: p.stat().st_size for p in Path(folder).iterdir()}
        results = [cases.run_cases(runs) for _ in range(args.repeat)]
    print("inputs: " + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sizes.items()))
    print(
        f"cap: {results[0]['fits']['cap_mb']:,.0f} MB of address space ({cases.HEADROOM_MB} MB above the imports)"
    )
    print(f"{'case':<18} {'refusal':<18} {'peak RSS +MB':>13} {'CPU s':>14}  before (issue 24)")
    for name in cases.CASES:
        rss = [r[name]["peak_rss_growth_mb"] for r in results]
        cpu = [r[name]["cpu_s"] for r in results]
        print(
            f"{name:<18} {results[0][name]['error'] or 'loaded':<18} "
            f"{statistics.median(rss):>7.1f} ±{(max(rss) - min(rss)) / 2:<4.1f} "
            f"{statistics.median(cpu):>7.3f} ±{(max(cpu) - min(cpu)) / 2:<5.3f}  {BEFORE.get(name, '')}"
        )


if __name__ == "__main__":
    main()
