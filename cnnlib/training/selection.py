"""Which training images a run sees, and with which labels: the validation split, a smaller
training set (`TrainConfig.train_size`) and shuffled labels (`TrainConfig.label_noise`).

    data = training_data(bundle.train_labels, cfg, bundle.num_classes, g)
    data.train_idx   # [n_train] positions in bundle.train the run trains on
    data.val_idx     # [n_val] positions it validates on (None without a validation split)
    data.labels      # [N] the labels the loop reads: the bundle's, but noised at data.train_idx

The order is fixed so that each setting changes one thing only:

1. The validation split is carved out of the training images first, exactly as without these
   settings (stratified by class, seeded), so a smaller or noisier training set is measured on the
   very same validation images.
2. `train_size` keeps N of the images left (`stratified_subset`): each class in proportion to its
   share of them, the images of a class picked at random (seeded by `cfg.seed`).
3. `label_noise` replaces a fraction of those N labels (`noisy_labels`): exactly
   round(label_noise * N) of them, picked at random, get a class drawn uniformly from all K classes.
   A draw may land on the true class, so on average label_noise * (K - 1) / K of the training
   labels end up wrong (0.9 of them for 10 classes at label_noise 1.0), as in Zhang et al. 2017,
   "Understanding deep learning requires rethinking generalization". Validation and test labels are
   never touched: the validation images are outside train_idx and the test set is another tensor.

Subset and noise draw from generators of their own (seeded from `cfg.seed`), so the data order and
augmentation of a run without them are unchanged, and the same seed picks the same N images with
or without noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnlib.data import stratified_split
from cnnlib.training.config import TrainConfig

__all__ = ["training_data"]


SUBSET_STREAM = 0x5EED_0001  # added to cfg.seed: the generator that picks the training subset
NOISE_STREAM = 0x5EED_0002  # ... and the one that picks and draws the replaced labels


@dataclass(frozen=True)
class TrainingData:
    """The images and labels one run trains and validates on (indices into the bundle's train set)."""

    train_idx: torch.Tensor  # [n_train] int64
    val_idx: torch.Tensor | None  # [n_val] int64, disjoint from train_idx
    labels: torch.Tensor  # [N] int64: the bundle's labels, noised at train_idx only
    replaced: torch.Tensor  # [n_train] bool: which training labels were replaced by a random draw


def stratified_subset(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Positions of `n` of `labels` [M], each class in proportion to its count, picked at random.

    A class of count m_c gets floor(n * m_c / M) images, and the n left over go one each to the
    classes with the largest remainders (ties: the lower class first), so the counts add up to n
    and differ from the exact proportion by less than one. The same seed picks the same images.
    """
    m = int(labels.numel())
    if not 0 <= n <= m:
        raise ValueError(f"cannot pick {n} of {m} images")
    classes, counts = torch.unique(labels, return_counts=True)  # [C], [C]
    exact = counts.double() * n / m  # [C]
    take = exact.floor().long()  # [C]
    short = n - int(take.sum())
    if short:
        order = sorted(range(len(classes)), key=lambda i: (-(exact[i] - take[i]).item(), i))
        for i in order[:short]:
            take[i] += 1
    g = torch.Generator().manual_seed(int(seed))
    picked = []
    for c, k in zip(classes.tolist(), take.tolist(), strict=True):
        idx = torch.nonzero(labels == c).flatten()  # [m_c]
        picked.append(idx[torch.randperm(len(idx), generator=g)[:k]])
    chosen = torch.cat(picked) if picked else torch.zeros(0, dtype=torch.long)
    return chosen[torch.randperm(len(chosen), generator=g)]  # [n], classes mixed


def noisy_labels(
    labels: torch.Tensor, fraction: float, num_classes: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(new labels [M], replaced [M] bool): round(fraction * M) positions picked at random get a
    class drawn uniformly from 0..num_classes-1 (which may be their own); the rest keep theirs."""
    m = int(labels.numel())
    k = round(float(fraction) * m)
    g = torch.Generator().manual_seed(int(seed))
    where = torch.randperm(m, generator=g)[:k]  # [k]
    drawn = torch.randint(0, num_classes, (k,), generator=g, dtype=labels.dtype)  # [k]
    out = labels.clone()
    out[where.to(labels.device)] = drawn.to(labels.device)
    replaced = torch.zeros(m, dtype=torch.bool, device=labels.device)
    replaced[where.to(labels.device)] = True
    return out, replaced


def training_data(
    labels: torch.Tensor, cfg: TrainConfig, num_classes: int, g: torch.Generator
) -> TrainingData:
    """The run's training and validation positions and the labels it trains on (see the module).

    `labels` [N] are the bundle's training labels (on the CPU); `g` is the run's generator, used
    only by the plain random split that stands in for the stratified one when classes are tiny
    (as the loop always did).
    """
    n = int(labels.numel())
    n_train_all, n_val = cfg.train_val_sizes(n, subset=False)
    if n_val:
        train_idx, val_idx = stratified_split(labels, cfg.val_fraction, cfg.seed)
        if len(val_idx) != n_val:  # tiny classes: fall back to a plain random split
            perm = torch.randperm(n, generator=g)
            train_idx, val_idx = perm[n_val:], perm[:n_val]
    else:
        train_idx, val_idx = torch.arange(n), None
    n_train = cfg.train_val_sizes(n)[0]
    if n_train < n_train_all:
        train_idx = train_idx[stratified_subset(labels[train_idx], n_train, cfg.seed + SUBSET_STREAM)]
    replaced = torch.zeros(len(train_idx), dtype=torch.bool)
    if cfg.label_noise:
        noisy, replaced = noisy_labels(
            labels[train_idx], cfg.label_noise, num_classes, cfg.seed + NOISE_STREAM
        )
        labels = labels.clone()
        labels[train_idx] = noisy
    return TrainingData(train_idx, val_idx, labels, replaced)
