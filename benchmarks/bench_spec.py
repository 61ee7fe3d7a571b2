"""Time cnnlib.spec on the presets: summarize (meta device, uncached and cached), build_model, code.

Run: .venv/bin/python benchmarks/bench_spec.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnlib import spec as S  # noqa: E402
from cnnlib.spec import PRESETS  # noqa: E402
from cnnlib.spec import analysis as spec_analysis  # noqa: E402


def ms(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def main() -> None:
    S.summarize(PRESETS["SimpleCNN"])  # warm torch's meta kernels once
    print(
        f"{'preset':26s} {'layers':>6s} {'summarize':>10s} {'cached':>8s} {'build':>8s} {'code':>8s}  (ms, best of 5)"
    )
    for name, spec in PRESETS.items():

        def fresh(spec=spec):
            spec_analysis.analyse_cached.cache_clear()
            S.summarize(spec)

        print(
            f"{name:26s} {len(spec.layers):6d} {ms(fresh):10.1f} {ms(lambda spec=spec: S.summarize(spec)):8.2f} "
            f"{ms(lambda spec=spec: S.build_model(spec)):8.1f} {ms(lambda spec=spec: S.to_pytorch_code(spec)):8.2f}"
        )
    big = S.ModelSpec.from_dict(
        {
            "input_shape": [3, 224, 224],
            "layers": [
                {"type": "Conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1},
                {"type": "Flatten"},
                {"type": "Linear", "out_features": 10},
            ],
        }
    )
    spec_analysis.analyse_cached.cache_clear()
    t = time.perf_counter()
    err = S.check(big)
    print(
        f"check() of a 32 M-parameter Linear on 3x224x224 (meta device, no memory): "
        f"{(time.perf_counter() - t) * 1000:.1f} ms -> {err.message[:60] if err else 'ok'}..."
    )


if __name__ == "__main__":
    main()
