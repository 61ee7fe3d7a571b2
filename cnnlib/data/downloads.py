"""torchvision downloads (MNIST, Fashion-MNIST, CIFAR-10): cached on disk, failing fast offline.

`load_torchvision(name, root, download)` reads a dataset from the cache folder (`root`, default
`default_data_root()`) or downloads it there. torchvision is imported inside the functions, only
when one of these datasets is asked for: it costs memory the other datasets do not need. Before a
download, a quick probe (`socket.create_connection`, `DOWNLOAD_TIMEOUT_S`) checks that a mirror is
reachable, so a classroom without internet gets a clear message in seconds naming the offline
datasets. A test that forces "offline" patches `socket.create_connection` (the socket module's,
as this module looks it up).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from cnnlib.data.bundle import DatasetBundle, DatasetError, make_bundle
from cnnlib.data.catalog import DATASETS, offline_alternatives

__all__ = ["default_data_root"]


DOWNLOAD_TIMEOUT_S = 5.0  # seconds to connect or wait for data before giving up
_DOWNLOAD_LOCK = threading.Lock()  # one download at a time; it also guards the socket timeout


def default_data_root() -> Path:
    """The download cache: $CNN_CLASSROOM_DATA, else ~/.cache/cnn-classroom."""
    env = os.environ.get("CNN_CLASSROOM_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cnn-classroom"


def _torchvision_class(name: str):
    from torchvision import datasets

    return {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}[
        name
    ]


def _open_torchvision(name: str, root: Path, train: bool, download: bool):
    cls = _torchvision_class(name)
    try:
        return cls(str(root), train=train, download=False)
    except RuntimeError:
        if not download:
            raise DatasetError(
                f"{DATASETS[name].title} is not in the cache folder {root}. Allow the download, or use "
                f"one of the offline datasets: {offline_alternatives()}."
            ) from None
    with _DOWNLOAD_LOCK:
        urls = list(getattr(cls, "mirrors", [])) or [getattr(cls, "url", "")]
        reason = _unreachable(urls)
        if reason is not None:
            raise DatasetError(_download_failed(name, reason))
        old_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # urllib uses it: an unreachable host fails fast
        try:
            root.mkdir(parents=True, exist_ok=True)
            return cls(str(root), train=train, download=True)
        except Exception as exc:  # URLError, socket errors, RuntimeError("Error downloading ...")
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise DatasetError(_download_failed(name, lines[-1] if lines else type(exc).__name__)) from None
        finally:
            socket.setdefaulttimeout(old_timeout)


def _download_failed(name: str, reason: str) -> str:
    return (
        f"{DATASETS[name].title} could not be downloaded (no internet connection? {reason[:160]}). "
        f"Use one of the offline datasets instead, which are built in: {offline_alternatives()}."
    )


def _unreachable(urls: Sequence[str], timeout: float | None = None) -> str | None:
    """None if one of the URLs' hosts accepts a connection within `timeout`, else the last error.

    A quick probe before torchvision's download, which would try every file on every mirror."""
    from urllib.parse import urlsplit

    reason = "no download address"
    for url in urls:
        parts = urlsplit(url)
        if not parts.hostname:
            continue
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout or DOWNLOAD_TIMEOUT_S).close()
            return None
        except OSError as exc:
            reason = f"{parts.hostname}: {exc.strerror or exc}"
    return reason


def _as_uint8_nchw(data) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(data))
    if t.ndim == 3:  # MNIST-like [N, H, W]
        return t.unsqueeze(1).to(torch.uint8).contiguous()  # [N, 1, H, W]
    return t.permute(0, 3, 1, 2).to(torch.uint8).contiguous()  # CIFAR [N, H, W, C] -> [N, C, H, W]


def load_torchvision(name: str, root: str | os.PathLike | None, download: bool) -> DatasetBundle:
    """ "mnist", "fashion-mnist" or "cifar10" from the cache under `root`, downloaded if missing and allowed."""
    root_path = Path(root).expanduser() if root is not None else default_data_root()
    train = _open_torchvision(name, root_path, True, download)
    test = _open_torchvision(name, root_path, False, download)
    classes = list(train.classes) if name == "cifar10" else DATASETS[name].classes
    assert classes is not None  # the catalog names the classes of every torchvision dataset
    return make_bundle(
        name,
        _as_uint8_nchw(train.data),
        torch.as_tensor(np.asarray(train.targets), dtype=torch.int64),
        _as_uint8_nchw(test.data),
        torch.as_tensor(np.asarray(test.targets), dtype=torch.int64),
        classes,
        title=DATASETS[name].title,
        source=f"torchvision.datasets, cached in {root_path}",
    )
