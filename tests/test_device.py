"""cnnlib.device: the device label without torch (the landing page stays light), exact once torch loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cnnlib import device as D

ROOT = Path(__file__).resolve().parents[1]


def _fake_driver(tmp_path: Path, models: list[str]) -> Path:
    proc = tmp_path / "gpus"
    for i, model in enumerate(models):
        folder = proc / f"0000:0{i}:00.0"
        folder.mkdir(parents=True)
        (folder / "information").write_text(f"Model: \t\t {model}\nIRQ:   \t 42\nGPU UUID: \t GPU-123\n")
    return proc


def test_importing_cnnlib_and_the_device_label_do_not_import_torch():
    code = (
        "import sys, cnnlib, cnnlib.device as d\n"
        "label = d.device_label()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print(label)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith(("CPU · ", "CUDA GPU", "Apple GPU"))


def test_guess_reads_the_nvidia_driver(tmp_path):
    proc = _fake_driver(tmp_path, ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"])
    none = tmp_path / "no-such-device"
    label = D.guess_device_label(proc=proc, dev=none, system="Linux", build="2.14.1")
    assert label == "CUDA GPU · NVIDIA H100 80GB HBM3"
    # a CPU-only torch build cannot use the GPU: the label says CPU
    cpu = D.guess_device_label(proc=proc, dev=none, system="Linux", build="2.13.0+cpu", cores=2)
    assert cpu == "CPU · 2 cores"


def test_guess_falls_back_to_the_device_file_then_the_cpu(tmp_path):
    dev = tmp_path / "nvidia0"
    dev.write_text("")
    empty = tmp_path / "gpus"  # missing: no /proc entries
    assert D.guess_device_label(proc=empty, dev=dev, system="Linux", build="2.14.1") == "CUDA GPU"
    assert D.guess_device_label(proc=empty, dev=tmp_path / "x", system="Linux", build=None, cores=1) == (
        "CPU · 1 core"
    )


def test_guess_on_apple_silicon_and_elsewhere(tmp_path, monkeypatch):
    none = tmp_path / "x"
    assert D.guess_device_label(proc=none, dev=none, system="Darwin", machine="arm64", build="2.14.1") == (
        "Apple GPU (MPS)"
    )
    assert D.guess_device_label(proc=none, dev=none, system="Darwin", machine="x86_64", build="2.14.1") == (
        D.cores_label()  # the server's cores: page runs use a thread each, training runs share them
    )
    assert D.guess_device_label(proc=none, dev=none, system="Windows", build="2.14.1").startswith("CPU · ")


def test_the_guess_matches_what_torch_says_here():
    """On this machine the label from the operating system is the one torch gives once loaded."""
    pytest.importorskip("torch")

    exact = D.describe_device(D.pick_device())
    guess = D.guess_device_label()
    assert D.device_label() == guess  # torch is loaded in this process: the exact label, the same words
    if D.pick_device().type == "cpu":
        assert guess == D.cores_label() and exact.startswith("CPU · ")
    else:
        assert guess == exact


def test_pick_and_available_devices():
    torch = pytest.importorskip("torch")

    assert D.pick_device("cpu") == torch.device("cpu")
    assert D.available_devices()[-1] == "cpu"
    assert D.pick_device("no-such-thing").type in ("cpu",)
    assert D.describe_device("cpu").startswith("CPU · ")
