"""Choose the compute device (CUDA, then MPS, then CPU) and describe it in words.

Importing this module does not import torch (about 1 s and 300-500 MB of a server's memory):
`device_label()` names the device from what the operating system shows (the NVIDIA driver's
files, Apple silicon, the installed torch build) until a lesson page has loaded torch, and
exactly, from torch, after that. The functions that return a `torch.device` import torch.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["pick_device", "available_devices", "describe_device", "device_label"]


NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")  # one folder per GPU, each with an "information" file
NVIDIA_DEV = Path("/dev/nvidia0")


def pick_device(preference: str = "auto") -> torch.device:
    """Return the device to train on: "auto" picks CUDA, then MPS, then CPU.

    "cuda", "mps" or "cpu" ask for that device; one that is not available falls back to CPU.
    """
    import torch

    pref = preference.lower()
    if pref in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if pref in ("auto", "mps") and mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_devices() -> list[str]:
    """Names of the devices usable here, "cpu" always last."""
    import torch

    names: list[str] = []
    if torch.cuda.is_available():
        names.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names + ["cpu"]


def cpu_label(threads: int) -> str:
    return f"CPU · {threads} thread{'s' if threads != 1 else ''}"


def cores_label(cores: int | None = None) -> str:
    """The server's CPU in words: its cores (page runs use one thread each; training runs share the cores)."""
    n = max(1, cores or os.cpu_count() or 1)
    return f"CPU · {n} core{'s' if n != 1 else ''}"


def describe_device(device: torch.device | str) -> str:
    """A short description for students: the GPU's name, or the CPU and its thread count."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"CUDA GPU · {torch.cuda.get_device_name(index)}"
    if dev.type == "mps":
        return "Apple GPU (MPS)"
    return cpu_label(torch.get_num_threads())


def torch_build() -> str | None:
    """The installed torch's version string ("2.13.0+cpu" for a CPU-only wheel); None if not installed."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def nvidia_gpu_names(proc: Path = NVIDIA_PROC) -> list[str]:
    """The models the NVIDIA driver lists in /proc (Linux), e.g. ["NVIDIA H100 80GB HBM3"]; [] if none."""
    names: list[str] = []
    try:
        folders = sorted(proc.iterdir())
    except OSError:
        return names
    for folder in folders:
        try:
            text = (folder / "information").read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model" and value.strip():
                names.append(value.strip())
                break
    return names


def guess_device_label(
    proc: Path = NVIDIA_PROC,
    dev: Path = NVIDIA_DEV,
    system: str | None = None,
    machine: str | None = None,
    build: str | None = "",
    cores: int | None = None,
) -> str:
    """What `describe_device(pick_device())` will say, from the operating system alone (no torch).

    A CUDA GPU when the NVIDIA driver shows one (its model from /proc, or /dev/nvidia0) and the
    installed torch is not a CPU-only build; Apple's GPU on Apple silicon; else the CPU with the
    machine's cores (`cores` stands in for them). The arguments stand in for this machine's in tests.
    """
    build = torch_build() if build == "" else build
    cpu_only = build is not None and "+cpu" in build
    system = system or platform.system()
    machine = machine or platform.machine()
    if not cpu_only and system == "Linux":
        names = nvidia_gpu_names(proc)
        if names:
            return f"CUDA GPU · {names[0]}"
        if dev.exists():
            return "CUDA GPU"
    if not cpu_only and system == "Darwin" and machine == "arm64":
        return "Apple GPU (MPS)"
    return cores_label(cores)


@lru_cache(maxsize=1)
def _exact_label() -> str:
    device = pick_device()
    return cores_label() if device.type == "cpu" else describe_device(device)


@lru_cache(maxsize=1)
def _guessed_label() -> str:
    return guess_device_label()


def device_label() -> str:
    """The compute device in words, cheap on every call: guessed until torch is loaded, then exact.

    Never imports torch itself unless something already has (a lesson page): the landing page
    stays light. If another thread is still importing torch, this waits for it to finish.
    """
    if "torch" not in sys.modules:
        return _guessed_label()
    return _exact_label()
