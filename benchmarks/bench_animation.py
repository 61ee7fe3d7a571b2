"""Benchmark: what the window player (pages/ui/window_player.py) costs the server.

Pressing play, pause, a step or the scrubber sends nothing to the server (tests/e2e/test_window_player.py
counts the websocket's messages): the whole animation costs the one rerun that ships its frames, when
the image, the kernel or the layer's settings change. This prints, for a 28x28 and a 64x64 image
(grey, and RGB as nn.Conv2d(in_channels=3)) with 3x3 and 7x7 kernels (padding "same": one frame per
input pixel):

- **frames**: `window_frames` + `payload_json`, CPU ms (best of 5), built once per process per input
  (pages/ui/figures.shared) and then reused by every student;
- **payload**: the JSON text's bytes, and gzipped (what a compressing websocket would carry);
- **rerun**: the Kernels page's rerun through AppTest (process CPU, median of the repeats), with the
  player and with it switched off, for a step-through slider move (the same frames re-sent) and for
  a kernel change whose frames are not cached yet (the rerun that pressing play needs at most).

    .venv/bin/python benchmarks/bench_animation.py [--repeats 15]

Nothing is asserted; the cores may be shared (the load average is printed).
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CNN_CLASSROOM_TEST", "1")

import numpy as np  # noqa: E402

from cnnlib import kernels as K  # noqa: E402


def cpu_ms(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best * 1000


def frames_table() -> list[str]:
    rng = np.random.default_rng(0)
    lines = [
        "| image | kernel | frames | frames + payload CPU | payload | gzipped |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size in (28, 64):
        for channels in (1, 3):
            image = rng.random((channels, size, size))
            for k in (3, 7):
                kernel = rng.normal(size=(channels, k, k))

                def build(i=image, w=kernel):
                    return K.payload_json(K.window_frames(i, w, 0.1, 1, "same"))

                text = build()
                t = cpu_ms(build)
                kind = "grey" if channels == 1 else "RGB"
                lines.append(
                    f"| {size}x{size} {kind} | {k}x{k} | {size * size} | {t:.1f} ms | {len(text) / 1024:.1f} KiB "
                    f"| {len(gzip.compress(text.encode())) / 1024:.1f} KiB |"
                )
    return lines


def page_reruns(repeats: int) -> list[str]:
    """The player's share of a Kernels page rerun: the CPU of `player.render` in the script thread
    (building or fetching the frames, the element and its data's JSON), through AppTest."""
    from streamlit.testing.v1 import AppTest  # noqa: F401  (imported before the pages)

    from pages.ui import figures
    from pages.ui.kernels import player
    from tests.conftest import open_app

    real, spent = player.render, []

    def timed(*args, **kwargs):
        t = time.thread_time()
        real(*args, **kwargs)
        spent.append(time.thread_time() - t)

    player.render = timed
    lines = [
        "| Kernels page rerun | the player's CPU (median) | bytes sent |",
        "| --- | --- | --- |",
    ]
    try:
        for source in ("MNIST digit", "Circle"):
            at = open_app("pages/1_kernels.py")
            at.selectbox(key="k_source").set_value(source).run()
            warm, cold = [], []
            for i in range(repeats):
                at.number_input(key="k_row").set_value(1 + i % 5)
                spent.clear()
                at.run()
                warm.append(sum(spent))
                with figures.SHARED._lock:  # drop the frames only: as if this kernel had never been played
                    for key in [k for k in figures.SHARED._items if k[1] == "build_payload"]:
                        del figures.SHARED._items[key]
                at.selectbox(key="k_preset").set_value(("Box blur", "Sobel y")[i % 2])
                spent.clear()
                at.run()
                cold.append(sum(spent))
            sent = sum(
                len(c.proto.json)
                for c in at.get("bidi_component")
                if "window_player" in c.proto.component_name
            )
            size = K.load_sample(source).pixels.shape[0]
            lines.append(
                f"| {size}x{size}, slider move (same frames re-sent) | {statistics.median(warm) * 1000:.2f} ms | {sent / 1024:.1f} KiB |"
            )
            lines.append(
                f"| {size}x{size}, new kernel (frames built) | {statistics.median(cold) * 1000:.2f} ms | {sent / 1024:.1f} KiB |"
            )
    finally:
        player.render = real
    lines.append("| pressing play, pause, step, scrub | 0 (no message to the server) | 0 |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print("\n".join(frames_table()))
    print()
    print("\n".join(page_reruns(args.repeats)))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
