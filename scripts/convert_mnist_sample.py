"""Convert the shared 5,000-digit MNIST sample into the app's bundled file.

Reads `../shared/data/mnist_5k.csv.gz` (one digit a row: 784 pixels 0-255, row by row, 28x28,
then the label) and writes `cnnlib/data/files/mnist_sample.npz` (compressed, uint8) with a fixed,
stratified train/test split: 400 training and 100 test digits of each class (seeded, so the
split is the same every time). The app reads only the .npz; this script is kept so the file can
be made again:

    .venv/bin/python scripts/convert_mnist_sample.py [--source PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "mnist_5k.csv.gz"
DEFAULT_OUT = ROOT / "cnnlib" / "data" / "files" / "mnist_sample.npz"
TEST_PER_CLASS = 100
SPLIT_SEED = 20240607


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return images [N, 28, 28] uint8 and labels [N] uint8 from the CSV (784 pixels, then the label)."""
    with gzip.open(path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64)  # [N, 785]
    if table.ndim != 2 or table.shape[1] != 785:
        raise ValueError(f"expected 785 columns (784 pixels + label), got shape {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError("pixel values must be 0-255 and labels 0-9")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def stratified_split(labels: np.ndarray, test_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): `test_per_class` random test digits of each class, the rest to train."""
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test_idx.append(idx[:test_per_class])
        train_idx.append(idx[test_per_class:])
    # Shuffle within each split so the stored order mixes the classes.
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    return train, test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    images, labels = read_csv(args.source)
    train, test = stratified_split(labels, TEST_PER_CLASS, SPLIT_SEED)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        train_images=images[train],  # [4000, 28, 28] uint8
        train_labels=labels[train],  # [4000] uint8
        test_images=images[test],  # [1000, 28, 28] uint8
        test_labels=labels[test],  # [1000] uint8
    )
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): "
        f"{len(train)} train / {len(test)} test, per class train {np.bincount(labels[train]).tolist()}"
    )


if __name__ == "__main__":
    main()
