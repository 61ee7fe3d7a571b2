"""Choose the compute device (CUDA, then MPS, then CPU) and describe it in words."""

from __future__ import annotations

import torch


def pick_device(preference: str = "auto") -> torch.device:
    """Return the device to train on: "auto" picks CUDA, then MPS, then CPU.

    "cuda", "mps" or "cpu" ask for that device; one that is not available falls back to CPU.
    """
    pref = preference.lower()
    if pref in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if pref in ("auto", "mps") and mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_devices() -> list[str]:
    """Names of the devices usable here, "cpu" always last."""
    names = []
    if torch.cuda.is_available():
        names.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names + ["cpu"]


def describe_device(device: torch.device | str) -> str:
    """A short description for students: the GPU's name, or the CPU and its thread count."""
    dev = torch.device(device)
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"CUDA GPU · {torch.cuda.get_device_name(index)}"
    if dev.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU · {torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''}"
