"""The hostile student's inputs (issue 24), each one a function a child process runs under a memory cap.

Every case returns nothing and raises the refusal it expects; `run_cases` runs them in a fresh Python
process whose address space is capped (RLIMIT_AS) at what it already maps plus `HEADROOM_MB`, set
after torch is imported (the CUDA build of torch maps gigabytes of address space on import, so an
absolute cap would measure torch, not the case). Unpriced work would need far more than the
headroom and die with a MemoryError; a refusal that comes before the allocation passes. The child
reports each refusal, its peak-RSS growth and its CPU seconds as one JSON line.

Used by tests/hostile/test_catalogue.py and benchmarks/bench_hostile.py. The inputs are built
here, small: a pixel bomb is one blank 5000 x 5000 16-bit PNG (49 KB) repeated under many names.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADROOM_MB = 400  # address space a case may add to what the child maps after its imports
BOMB_SIDE = 5000


def png_bytes(width: int, height: int, mode: str = "RGB") -> bytes:
    """A blank PNG (16-bit grayscale for mode "I;16"): tiny on disk whatever its pixel count."""
    import numpy as np
    from PIL import Image

    if mode == "I;16":
        image = Image.fromarray(np.zeros((height, width), dtype=np.uint16))
    else:
        image = Image.new(mode, (width, height))
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def zip_of(content: bytes, n: int, classes: int = 2) -> bytes:
    """A zip of `n` copies of `content` named `c<k>/<i>.png` over `classes` class folders."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            zf.writestr(f"c{i % classes}/{i}.png", content)
    return buf.getvalue()


def tiny_images_zip(n: int = 5000) -> bytes:
    """The 838 KB zip of the issue: `n` tiny 8x8 PNGs in two folders (enlarged to 256 x 256 before)."""
    return zip_of(png_bytes(8, 8), n)


def pixel_bomb_zip(n: int = 4100) -> bytes:
    """The 1.4 MB zip of the issue: `n` blank 5000 x 5000 16-bit PNGs (25 Mpx each, ~0.6-1.3 s each before)."""
    return zip_of(png_bytes(BOMB_SIDE, BOMB_SIDE, "I;16"), n)


# A Conv2d with padding 500: 1,028 parameters, 272 MB of activations per image (issue item 3).
PADDED_SPEC = {
    "input_shape": [3, 32, 32],
    "layers": [
        {"type": "Conv2d", "out_channels": 32, "kernel_size": 3, "padding": 500},
        {"type": "ReLU"},
        {"type": "AdaptiveAvgPool2d", "output_size": 1},
        {"type": "Flatten"},
        {"type": "Linear", "out_features": 4},
    ],
}
DRAW_SPEC = {**PADDED_SPEC, "input_shape": [1, 28, 28]}
DRAW_SPEC["layers"] = [*PADDED_SPEC["layers"][:-1], {"type": "Linear", "out_features": 10}]
# The model as a link brings it (1x28x28, the MNIST sample's shape): a few hundred parameters
# whose activations need gigabytes. The browser test of hostile links and the load test's attacker send it.
OVERSIZED_LINK_SPEC = {
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 500},
        {"type": "AdaptiveAvgPool2d", "output_size": 1},
        {"type": "Flatten"},
        {"type": "Linear", "out_features": 10},
    ],
}
CRAFTED_TOKEN = "v1.eNqLjh4Fo2AUjIKhAWJHwSgYBaNgiAAAo1lerg"  # 47 characters, 1,200 nested lists


def read_zip(path: str) -> tuple[bytes]:
    return (Path(path).read_bytes(),)


def shapes_bundle() -> tuple:
    from cnnlib.data import load_dataset

    return (load_dataset("shapes", train_size=40, test_size=8),)


def padded_model() -> tuple:
    import torch

    from cnnlib.spec import ModelSpec, build_model

    model = build_model(ModelSpec.from_dict(PADDED_SPEC))  # 1,028 parameters: this is cheap
    return model, torch.zeros(1, 3, 32, 32)  # [1, C, H, W]


def case_tiny_images(data: bytes) -> None:
    from cnnlib.data import load_image_folder_zip

    load_image_folder_zip(data, image_size=256)


def case_pixel_bomb(data: bytes) -> None:
    from cnnlib.data import load_image_folder_zip

    load_image_folder_zip(data, image_size=32)


def case_stop(data: bytes) -> None:
    from cnnlib.data import load_image_folder_zip

    calls = iter(range(1_000_000))
    load_image_folder_zip(data, image_size=32, should_stop=lambda: next(calls) >= 3)


def case_train_oversized(bundle) -> None:
    from cnnlib.training import TrainConfig, TrainingRun

    TrainingRun(PADDED_SPEC, bundle, TrainConfig(epochs=1, batch_size=16), backend="thread")


def case_slow_motion(bundle) -> None:
    from cnnlib.training.one_step import setup_slow_step

    setup_slow_step(PADDED_SPEC, bundle, batch_size=16)


def case_feature_maps(model, x) -> None:
    from cnnlib.inference import feature_maps

    feature_maps(model, x)


def case_grad_cam(model, x) -> None:
    from cnnlib.inference import grad_cam

    grad_cam(model, x)


def case_draw_model() -> None:
    from cnnlib.inference import check_compatible

    compat = check_compatible(DRAW_SPEC, [str(d) for d in range(10)])
    if not compat.ok:
        raise ValueError(compat.message)


def case_crafted_link() -> None:
    from cnnlib.spec import spec_from_token

    spec_from_token(CRAFTED_TOKEN)


def case_control_unpriced() -> None:
    """The control: what the tiny-images zip cost before (5,000 x 3 x 256 x 256 bytes) dies under the cap."""
    import torch

    torch.ones(5000, 3, 256, 256, dtype=torch.uint8)  # [N, C, H, W], 983 MB


def case_fits(data: bytes) -> None:
    """An ordinary upload (the same tiny images at 32 x 32) still loads under the cap."""
    from cnnlib.data import load_image_folder_zip

    load_image_folder_zip(data, image_size=32)


# name -> (what to prepare before the measurement starts, the case itself)
CASES = {
    "tiny_images": (read_zip, case_tiny_images),
    "pixel_bomb": (read_zip, case_pixel_bomb),
    "stop": (read_zip, case_stop),
    "train_oversized": (shapes_bundle, case_train_oversized),
    "slow_motion": (shapes_bundle, case_slow_motion),
    "feature_maps": (padded_model, case_feature_maps),
    "grad_cam": (padded_model, case_grad_cam),
    "draw_model": (tuple, case_draw_model),
    "crafted_link": (tuple, case_crafted_link),
    "control_unpriced": (tuple, case_control_unpriced),
    "fits": (read_zip, case_fits),
}


def _child(runs: list[tuple[str, list[str]]], headroom_mb: int) -> list[dict]:
    """In the child: import, cap the address space, run the cases in turn, report (never raises).

    Peak RSS only grows, so each case's growth is measured against the peak before it: a case
    that allocates shows, and one that refuses first reads about 0.
    """
    import resource
    import time

    import torch  # noqa: F401 - mapped before the cap is set

    import cnnlib.data  # noqa: F401
    import cnnlib.inference  # noqa: F401
    import cnnlib.training  # noqa: F401

    # What the server has paid long before a student's input arrives: the meta kernels and
    # torch.func load on first use (~150 MB and 1.5 s of imports), the default model's summary.
    from cnnlib.spec import DEFAULT_PRESET, PRESETS, build_model, estimate_memory

    spec = PRESETS[DEFAULT_PRESET]
    estimate_memory(build_model(spec), 2, input_shape=spec.input_shape)
    vm_kb = int(next(line for line in open("/proc/self/status") if line.startswith("VmSize")).split()[1])
    cap = (vm_kb + headroom_mb * 1024) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    reports = []
    for name, args in runs:
        prepare, case = CASES[name]
        prepared = prepare(*args)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux
        cpu0 = time.process_time()
        error, message = None, ""
        try:
            case(*prepared)
        except MemoryError:
            error, message = "MemoryError", "the case ran into the memory cap: it allocated before refusing"
        except RuntimeError as exc:  # torch's allocator: "can't allocate memory"
            error = "MemoryError" if "allocate" in str(exc) else "RuntimeError"
            message = str(exc)
        except Exception as exc:  # the refusal we expect, checked by the caller
            error, message = type(exc).__name__, str(exc)
        reports.append(
            {
                "case": name,
                "error": error,
                "message": message,
                "peak_rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024,
                "cpu_s": time.process_time() - cpu0,
                "cap_mb": cap / 2**20,
            }
        )
        del prepared
    return reports


def run_cases(
    runs: list[tuple[str, list[str]]], headroom_mb: int = HEADROOM_MB, timeout: float = 300
) -> dict[str, dict]:
    """Run the cases [(name, args)] in one fresh Python process under the memory cap: name -> report."""
    code = (
        "import json; from tests.hostile.cases import _child; "
        f"print(json.dumps(_child({runs!r}, {int(headroom_mb)})))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "CNN_CLASSROOM_TRAIN_IN": "thread"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the hostile cases died (rc {done.returncode}): {done.stderr[-2000:]}")
    return {r["case"]: r for r in json.loads(lines[-1])}


def build_inputs(folder: Path) -> list[tuple[str, list[str]]]:
    """Write the zips into `folder`; every case with its arguments, in the order they run."""
    tiny, bomb = folder / "tiny_images.zip", folder / "pixel_bomb.zip"
    tiny.write_bytes(tiny_images_zip())
    bomb.write_bytes(pixel_bomb_zip())
    zips = {"tiny_images": tiny, "pixel_bomb": bomb, "stop": tiny, "fits": tiny}
    return [(name, [str(zips[name])] if name in zips else []) for name in CASES]
