"""The Training page's settings as a link: `?data=mnist_sample&model=lenet_5&opt=sgd&lr=0.05&epochs=8`.

Every hyperparameter has a short key; a missing key keeps the page's default (the demo's settings:
DEFAULT_DEMO on DEMO_DATASET with the demo CNN). A link never starts a run: the student presses
Train. Uploaded zips are never in links (`data=upload` is refused with that reason).

    data     shapes, mnist_sample, mnist, fashion_mnist, cifar10
    model    demo, a preset (simplecnn, lenet_5, ...) or a spec token (see cnnlib.spec.link)
    opt, lr, batch, epochs, wd (weight decay), sched (none, step, cosine, onecycle), ls (label
    smoothing), aug (e.g. "rotate,shift"), val (validation share), patience, seed, device: the
    settings the page shows
    images   how many training images (20 or more, or "all", the default), noise (the share of
             training labels shuffled, 0 to 1): overfitting on demand, `?images=200&noise=1`
    compare  "same run, but ...": the one change of run B (cnnlib.training.pair.parse_change), e.g.
             `compare=weight_decay:0.001`, `compare=dropout:0.5`, `compare=batchnorm`,
             `compare=augment:shift+rotate`; it opens the comparison, never starts it
"""

from __future__ import annotations

from cnnlib.data import DATASETS
from cnnlib.share import FRAME_KEYS, Field, LinkSchema, slug
from cnnlib.spec import format_model as format_spec_model
from cnnlib.spec import parse_model as parse_spec_model
from cnnlib.training.config import (
    AUGMENTATIONS,
    DEFAULT_DEMO,
    DEMO_DATASET,
    DEVICES,
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_LR,
    MAX_TRAIN_SIZE,
    MIN_TRAIN_SIZE,
    OPTIMIZERS,
    SCHEDULERS,
)
from cnnlib.training.pair import format_change, parse_change

__all__ = ["DEMO_MODEL", "TRAINING_LINK"]


DEMO_MODEL = "demo"


def parse_data(text: str) -> str:
    word = slug(text).replace("_", "-")
    if word == "upload":
        raise ValueError("an uploaded dataset is never in a link: upload the zip again")
    if word not in DATASETS:
        names = ", ".join(slug(n) for n in DATASETS if n != "upload")
        raise ValueError(f"{text[:40]!r} is not one of: {names}")
    return word


def parse_model(text: str) -> object:
    """ "demo" -> DEMO_MODEL; else a ModelSpec (a preset word or a token)."""
    return DEMO_MODEL if text.lower() == DEMO_MODEL else parse_spec_model(text)


def format_model(value: object) -> str:
    return DEMO_MODEL if value == DEMO_MODEL else format_spec_model(value)


def parse_augment(text: str) -> tuple[str, ...]:
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    bad = [w for w in words if w not in AUGMENTATIONS]
    if bad:
        raise ValueError(f"{bad[0][:20]!r} is not one of: {', '.join(AUGMENTATIONS)}")
    return tuple(a for a in AUGMENTATIONS if a in words)


def parse_images(text: str) -> int | None:
    """ "all" (or empty) -> None: every training image; else a whole number from MIN_TRAIN_SIZE."""
    word = text.strip().lower()
    if word in ("", "all"):
        return None
    try:
        n = int(word)
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not a whole number or 'all'") from None
    if not MIN_TRAIN_SIZE <= n <= MAX_TRAIN_SIZE:
        raise ValueError(f"{n:,} is outside {MIN_TRAIN_SIZE} to {MAX_TRAIN_SIZE:,} (or 'all')")
    return n


def format_images(value: int | None) -> str:
    return "all" if value is None else str(int(value))


def _choice(key: str, values: tuple[str, ...], default: str, label: str) -> Field:
    return Field(key, "choice", default, label, choices=tuple((v, v) for v in values))


d = DEFAULT_DEMO
TRAINING_LINK = LinkSchema(
    "training",
    (
        Field("data", "custom", DEMO_DATASET, "dataset", parse_fn=parse_data, format_fn=lambda v: slug(v)),
        Field("model", "custom", DEMO_MODEL, max_len=6000, parse_fn=parse_model, format_fn=format_model),
        _choice("opt", OPTIMIZERS, d.optimizer, "optimizer"),
        Field("lr", "float", d.lr, "learning rate", lo=1e-8, hi=MAX_LR),
        Field("batch", "int", d.batch_size, "batch size", lo=1, hi=MAX_BATCH_SIZE),
        Field("epochs", "int", d.epochs, lo=1, hi=MAX_EPOCHS),
        Field("wd", "float", d.weight_decay, "weight decay", lo=0, hi=1),
        _choice("sched", SCHEDULERS, d.scheduler, "scheduler"),
        Field("ls", "float", d.label_smoothing, "label smoothing", lo=0, hi=0.9),
        Field("aug", "custom", tuple(d.augment), "augmentation", parse_fn=parse_augment, format_fn=",".join),
        Field("val", "float", d.val_fraction, "validation share", lo=0, hi=0.5),
        Field(
            "images",
            "custom",
            d.train_size,
            "training images",
            max_len=12,
            parse_fn=parse_images,
            format_fn=format_images,
        ),
        Field("noise", "float", d.label_noise, "shuffled labels", lo=0, hi=1),
        Field("patience", "int", d.patience, "early-stopping patience", lo=0, hi=MAX_EPOCHS),
        Field("seed", "int", d.seed, lo=0, hi=2**31 - 1),
        _choice("device", DEVICES, d.device, "device"),
        Field(
            "compare",
            "custom",
            None,
            "comparison",
            max_len=60,
            parse_fn=parse_change,
            format_fn=format_change,
        ),
    ),
    title="Training",
    shared_keys=FRAME_KEYS,
)
del d
