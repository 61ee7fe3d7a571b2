"""Time the Kernels page's work: decoding an upload, the feature map, one pixel by hand, the figures.

Run: .venv/bin/python benchmarks/bench_kernels.py
Prints milliseconds (best of 5) and the size of each figure's JSON (what a rerun sends per chart).
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from cnnlib import kernels as K  # noqa: E402
from cnnlib import plots as P  # noqa: E402


def ms(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def main() -> None:
    rng = np.random.default_rng(0)
    for w, h, fmt in [(4032, 3024, "JPEG"), (2000, 1500, "PNG"), (640, 480, "WEBP")]:
        buf = io.BytesIO()
        Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8)).save(buf, fmt)
        data = buf.getvalue()
        print(
            f"load_image {w}x{h} {fmt:5s} ({len(data) / 2**20:5.1f} MB): {ms(lambda d=data: K.load_image(d)):7.1f} ms"
        )
    print()
    print(f"{'image':>9s} {'kernel':>6s} {'feature map':>12s} {'+relu+pool':>11s} {'by hand':>8s}  (ms)")
    for size in (28, 64, 256):
        image = rng.random((size, size))
        for k in (3, 7):
            kernel = rng.normal(size=(k, k))
            s = K.ConvSettings(padding="same", relu=True, pool="max")
            t_conv = ms(lambda i=image, ker=kernel: K.apply_kernel(i, ker, padding="same"))
            t_all = ms(lambda i=image, ker=kernel, st=s: K.feature_map(i, ker, st))
            t_hand = ms(
                lambda i=image, ker=kernel, c=size // 2: K.explain_position(i, ker, c, c, padding="same")
            )
            print(f"{size:>4d}x{size:<4d} {k:>4d}x{k} {t_conv:12.2f} {t_all:11.2f} {t_hand:8.2f}")
    print()
    for size in (28, 126, 254):
        fmap = rng.normal(size=(size, size))
        patch = K.patch_indices(1, 1, (3, 3))
        figs = {
            "input": lambda f=fmap, p=patch: P.image_figure(np.clip(f, 0, 1), padding=(1, 1, 1, 1), patch=p),
            "map+click": lambda f=fmap: P.map_figure(f, pixel=(1, 1), clickable=True),
        }
        for name, make in figs.items():
            t = ms(lambda m=make: m().to_json(), repeat=3)
            print(
                f"figure {name:9s} {size:>3d}x{size:<3d}: {t:7.1f} ms to build+serialise, {len(make().to_json()) / 1024:6.0f} KB"
            )


if __name__ == "__main__":
    main()
