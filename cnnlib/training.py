"""Training: `TrainConfig` (every hyperparameter, validated) and `TrainingRun` (a background thread).

    run = TrainingRun(spec_or_model, load_dataset("shapes"), TrainConfig(epochs=3))
    run.start()
    snap = run.snapshot()          # a frozen, consistent copy of the metrics; poll it from the page
    run.stop()                     # takes effect within one batch; the model stays as it is
    run.wait(timeout=10)

The run waits for a training slot (cnnlib.slots: a process-wide limit on concurrent runs) with
status "queued", then trains on the chosen device with `torch.set_num_threads` set in its own
thread. Images stay uint8 until each batch is turned into floats, augmented (vectorised, one
random transform per image) and normalised, so memory stays small and the per-batch overhead over a
bare PyTorch loop is a few tensor ops and one `loss.item()`. A NaN or infinite loss stops the run
("failed") with a message naming the likely cause; early stopping restores the best weights.
Nothing here knows about Streamlit.
"""

from __future__ import annotations

import copy
import math
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.data import DatasetBundle, stratified_split
from cnnlib.device import describe_device, pick_device
from cnnlib.slots import SlotLimiter, Ticket, get_limiter, threads_per_run

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "step", "cosine", "onecycle")
AUGMENTATIONS = ("rotate", "shift", "flip", "color")
DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_LR = 1e6  # all up to this trains: a far too high rate is a lesson (the loss blows up, the run says why)
EXPLODED_LOSS = 1e3  # a finite batch loss above this (and 100x the first one) has blown up: stop like NaN
TYPICAL_LR = {"sgd": 0.05, "adam": 0.001, "adamw": 0.001}
MAX_EPOCHS = 500
MAX_BATCH_SIZE = 4096
MAX_PARAMETERS = 20_000_000  # a model bigger than this is too big for a shared classroom server
MAX_RUN_MEMORY_BYTES = 1_500_000_000  # estimated training memory of one run (weights, grads, activations)
MAX_LOSS_POINTS = 2000  # batch-loss history kept in a run (older points are averaged in pairs)
EVAL_BATCH_SIZE = 500

# Augmentation strengths (what the Training page's help text describes).
ROTATE_DEGREES = 15.0
SHIFT_FRACTION = 0.1
COLOR_STRENGTH = 0.3  # brightness, contrast and saturation factors in [0.7, 1.3]

STATUSES = ("ready", "queued", "running", "finished", "stopped", "failed", "early-stopped")
ACTIVE_STATUSES = ("queued", "running")
DONE_STATUSES = ("finished", "stopped", "failed", "early-stopped")


class ConfigError(ValueError):
    """A setting that cannot work; `.field` names the TrainConfig field (or "model"/"dataset")."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class TrainConfig:
    """Every hyperparameter of a training run. `validate(n)` checks it against a dataset of n images.

    The defaults are a sound start for small CNNs (Adam, lr 0.001, batch 64).
    """

    optimizer: str = "adam"  # "sgd" (with momentum), "adam", "adamw"
    lr: float = 1e-3
    momentum: float = 0.9  # SGD only
    batch_size: int = 64
    epochs: int = 5
    weight_decay: float = 0.0
    scheduler: str = "none"  # "none", "step", "cosine", "onecycle"
    step_size: int = 5  # StepLR: multiply lr by gamma every step_size epochs
    gamma: float = 0.5
    label_smoothing: float = 0.0
    augment: tuple[str, ...] = ()  # any of "rotate", "shift", "flip", "color"
    val_fraction: float = 0.1  # share of the training images held out for validation
    patience: int = 0  # early stopping: epochs without a better val loss before stopping; 0 = off
    seed: int = 0
    device: str = "auto"  # "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "mps"
    max_seconds: float | None = None  # wall-time cap (the server's own cap applies too)
    num_threads: int | None = None  # torch threads for this run; None: cores / concurrent runs

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["augment"] = list(self.augment)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = [k for k in d if k not in names]
        if unknown:
            raise ConfigError(f"Unknown training setting {unknown[0]!r}.", unknown[0])
        cfg = cls(**d)
        cfg.augment = tuple(cfg.augment) if isinstance(cfg.augment, (list, tuple)) else cfg.augment
        return cfg

    def train_val_sizes(self, dataset_size: int) -> tuple[int, int]:
        """(training images, validation images) after holding out `val_fraction`."""
        n_val = round(dataset_size * float(self.val_fraction)) if self.val_fraction else 0
        if self.val_fraction and dataset_size >= 2:
            n_val = min(max(n_val, 1), dataset_size - 1)
        return dataset_size - n_val, n_val

    def validate(self, dataset_size: int | None = None) -> TrainConfig:
        """Raise ConfigError (with `.field`) for any setting that cannot work; return self if all good.

        `dataset_size` is the number of training images before the validation split.
        """

        def number(name: str, lo: float, hi: float, *, lo_open: bool = False, hint: str = "") -> float:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"{_LABELS[name]} must be a number, got {value!r}.", name)
            if value < lo or (lo_open and value == lo) or value > hi:
                low = f"above {lo:g}" if lo_open else f"at least {lo:g}"
                raise ConfigError(
                    f"{_LABELS[name]} must be {low} and at most {hi:g}, got {value:g}.{hint}", name
                )
            return float(value)

        def whole(name: str, lo: int, hi: int, hint: str = "") -> int:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                    setattr(self, name, value)
                else:
                    raise ConfigError(f"{_LABELS[name]} must be a whole number, got {value!r}.", name)
            if not lo <= value <= hi:
                raise ConfigError(
                    f"{_LABELS[name]} must be from {lo:,} to {hi:,}, got {value:,}.{hint}", name
                )
            return int(value)

        def choice(name: str, options: Sequence[str]) -> None:
            value = getattr(self, name)
            if not isinstance(value, str) or value.lower() not in options:
                raise ConfigError(
                    f"{_LABELS[name]} must be one of {', '.join(options)}, got {value!r}.", name
                )
            setattr(self, name, value.lower())

        choice("optimizer", OPTIMIZERS)
        lr = self.lr
        if isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr <= 0:
            raise ConfigError(
                f"The learning rate must be above 0 (got {lr:g}): with 0 the weights never change, and a "
                "negative one climbs the loss instead of descending it. Try 0.001 for Adam or 0.05 for SGD.",
                "lr",
            )
        number("lr", 0.0, MAX_LR, lo_open=True, hint=" Typical values: 0.001 for Adam, 0.01 to 0.1 for SGD.")
        number("momentum", 0.0, 0.999)
        whole("epochs", 1, MAX_EPOCHS)
        whole("batch_size", 1, MAX_BATCH_SIZE)
        number("weight_decay", 0.0, 1.0)
        choice("scheduler", SCHEDULERS)
        whole("step_size", 1, MAX_EPOCHS)
        number("gamma", 0.0, 1.0, lo_open=True)
        number("label_smoothing", 0.0, 0.9)
        if isinstance(self.augment, str):
            self.augment = (self.augment,) if self.augment else ()
        if not isinstance(self.augment, (list, tuple, set, frozenset)):
            raise ConfigError(f"Augmentation must be a list of {', '.join(AUGMENTATIONS)}.", "augment")
        bad = [a for a in self.augment if a not in AUGMENTATIONS]
        if bad:
            raise ConfigError(
                f"Unknown augmentation {bad[0]!r}: choose from {', '.join(AUGMENTATIONS)}.", "augment"
            )
        self.augment = tuple(a for a in AUGMENTATIONS if a in self.augment)  # canonical order, no repeats
        number("val_fraction", 0.0, 0.5, hint=" 0.1 (10%) is typical.")
        whole("patience", 0, MAX_EPOCHS)
        if self.patience and not self.val_fraction:
            raise ConfigError(
                "Early stopping watches the validation loss: set a validation split above 0, or patience to 0.",
                "patience",
            )
        whole("seed", 0, 2**31 - 1)
        choice("device", DEVICES)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError(
                "CUDA (an NVIDIA GPU) is not available on this server: choose auto or cpu.", "device"
            )
        mps = getattr(torch.backends, "mps", None)
        if self.device == "mps" and not (mps is not None and mps.is_available()):
            raise ConfigError(
                "MPS (an Apple GPU) is not available on this server: choose auto or cpu.", "device"
            )
        if self.max_seconds is not None:
            number("max_seconds", 0.0, 7 * 24 * 3600, lo_open=True)
        if self.num_threads is not None:
            whole("num_threads", 1, 256)
        if dataset_size is not None:
            n_train, n_val = self.train_val_sizes(int(dataset_size))
            if n_train < 1 or (self.val_fraction and n_val < 1):
                raise ConfigError(
                    f"The dataset has only {dataset_size} training image(s): too few to train"
                    + (" and validate" if self.val_fraction else "")
                    + ".",
                    "val_fraction" if self.val_fraction else "dataset",
                )
            if self.batch_size > n_train:
                raise ConfigError(
                    f"Batch size {self.batch_size:,} is larger than the {n_train:,} training images"
                    + (f" (after holding out {n_val:,} for validation)" if n_val else "")
                    + f": choose at most {n_train:,}.",
                    "batch_size",
                )
        return self


_LABELS = {
    "lr": "The learning rate",
    "momentum": "Momentum",
    "batch_size": "The batch size",
    "epochs": "The number of epochs",
    "weight_decay": "Weight decay",
    "scheduler": "The scheduler",
    "step_size": "The StepLR step size",
    "gamma": "The StepLR gamma",
    "label_smoothing": "Label smoothing",
    "val_fraction": "The validation fraction",
    "patience": "Patience",
    "seed": "The seed",
    "device": "The device",
    "optimizer": "The optimizer",
    "max_seconds": "The time limit",
    "num_threads": "The number of threads",
}


# ----------------------------------------------------------------------------------------------
# Augmentation: one random transform per image, vectorised over the batch
# ----------------------------------------------------------------------------------------------


def augment_batch(
    x: torch.Tensor, augment: Sequence[str], generator: torch.Generator | None = None
) -> torch.Tensor:
    """Randomly transform each image of a float batch `[B, C, H, W]` in [0, 1] (its own parameters each).

    - "rotate": rotation by up to +-15 degrees about the centre, "shift": translation by up to
      10% of the width/height, both bilinear with black (0) fill: the same maps as
      `torchvision.transforms.v2.functional.affine(img, angle, translate, 1.0, [0, 0], BILINEAR)`
      per image (tested against it), done as one `affine_grid` + `grid_sample` for the batch.
    - "flip": horizontal flip with probability 0.5 (`v2.functional.horizontal_flip`).
    - "color": brightness, contrast (and saturation for colour images) factors in [0.7, 1.3], as
      `v2.functional.adjust_brightness/_contrast/_saturation`.
    Random numbers are drawn on the CPU from `generator`, so a seed gives the same batch anywhere.
    """
    if not augment:
        return x
    b, c, h, w = x.shape
    dev = x.device

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator).to(dev)

    if "rotate" in augment or "shift" in augment:
        angle = (rand(b) * 2 - 1) * ROTATE_DEGREES if "rotate" in augment else torch.zeros(b, device=dev)
        if "shift" in augment:
            tx = torch.round((rand(b) * 2 - 1) * SHIFT_FRACTION * w)  # pixels, whole as torchvision's
            ty = torch.round((rand(b) * 2 - 1) * SHIFT_FRACTION * h)
        else:
            tx = ty = torch.zeros(b, device=dev)
        x = _affine(x, angle, tx, ty)
    if "flip" in augment:
        flip = rand(b) < 0.5  # [B]
        x = torch.where(flip.view(b, 1, 1, 1), x.flip(-1), x)
    if "color" in augment:
        lo, hi = 1 - COLOR_STRENGTH, 1 + COLOR_STRENGTH
        bright = lo + (hi - lo) * rand(b, 1, 1, 1)
        x = (x * bright).clamp(0, 1)
        contrast = lo + (hi - lo) * rand(b, 1, 1, 1)
        mean = _grayscale(x).mean(dim=(1, 2, 3), keepdim=True)  # [B, 1, 1, 1]
        x = (contrast * x + (1 - contrast) * mean).clamp(0, 1)
        if c == 3:
            sat = lo + (hi - lo) * rand(b, 1, 1, 1)
            x = (sat * x + (1 - sat) * _grayscale(x)).clamp(0, 1)
    return x


def _grayscale(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, 1, H, W] with torchvision's weights (0.2989, 0.587, 0.114) for RGB."""
    if x.shape[1] == 1:
        return x
    r, g, b = x.unbind(dim=1)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(1)


def _affine(x: torch.Tensor, angle_deg: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    """Rotate each image by angle_deg[i] (counter-clockwise) about its centre, then shift by (tx, ty) pixels."""
    b, _, h, w = x.shape
    a = angle_deg * (math.pi / 180.0)
    cos, sin = torch.cos(a), torch.sin(a)
    # Inverse map in pixel units about the centre (y pointing down): in = R(-angle) (out - t), where a
    # counter-clockwise turn on screen is R(-angle) = [[cos, sin], [-sin, cos]] in these coordinates.
    # theta maps normalised output coords (align_corners=False: x_n = x / (w / 2)) to input coords.
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=x.dtype)  # [B, 2, 3]
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = sin * h / w
    theta[:, 1, 0] = -sin * w / h
    theta[:, 1, 1] = cos
    theta[:, 0, 2] = -(cos * tx + sin * ty) * 2 / w
    theta[:, 1, 2] = -(-sin * tx + cos * ty) * 2 / h
    grid = F.affine_grid(theta, [b, x.shape[1], h, w], align_corners=False)  # [B, H, W, 2]
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class AugmentPreview(NamedTuple):
    """Images for the page, uint8 `[n, H, W, C]` (C = 1 or 3), and their class names."""

    original: np.ndarray
    augmented: np.ndarray
    labels: list[str]


def augment_preview(
    bundle: DatasetBundle, augment: Sequence[str], n: int = 8, seed: int = 0, copies: int = 1
) -> AugmentPreview:
    """`n` training images and `copies` augmented versions of each (augmented: [n * copies, H, W, C])."""
    bad = [a for a in augment if a not in AUGMENTATIONS]
    if bad:
        raise ConfigError(
            f"Unknown augmentation {bad[0]!r}: choose from {', '.join(AUGMENTATIONS)}.", "augment"
        )
    g = torch.Generator().manual_seed(int(seed))
    count = max(1, min(int(n), len(bundle.train)))
    idx = torch.randperm(len(bundle.train), generator=g)[:count]
    images = bundle.train_images[idx]  # [n, C, H, W] uint8
    x = images.float().div(255).repeat_interleave(max(1, int(copies)), dim=0)  # [n * copies, C, H, W]
    out = augment_batch(x, tuple(augment), g)
    augmented = (out * 255).round().clamp(0, 255).to(torch.uint8)
    return AugmentPreview(
        images.permute(0, 2, 3, 1).numpy(),  # [n, H, W, C]
        augmented.permute(0, 2, 3, 1).numpy(),
        [bundle.classes[int(i)] for i in bundle.train_labels[idx]],
    )


# ----------------------------------------------------------------------------------------------
# Model checks
# ----------------------------------------------------------------------------------------------


def _resolve_model(model_or_spec: Any, seed: int) -> tuple[nn.Module, Any]:
    """(module, spec or None). A spec (ModelSpec or dict) is built with a seeded initialisation."""
    if isinstance(model_or_spec, nn.Module):
        return model_or_spec, None
    from cnnlib.spec import ModelSpec, build_model  # lazy: spec is optional for nn.Module callers

    spec = ModelSpec.from_dict(model_or_spec) if isinstance(model_or_spec, dict) else model_or_spec
    if not isinstance(spec, ModelSpec):
        raise ConfigError(
            f"Expected a ModelSpec, a spec dict or an nn.Module, got {type(model_or_spec).__name__}.", "model"
        )
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):  # seeded init without touching others' RNG
        torch.manual_seed(seed)
        model = build_model(spec)
    return model, spec


_INIT_LOCK = threading.Lock()


def check_model(model: nn.Module, bundle: DatasetBundle, batch_size: int = 64) -> int:
    """Check that the model takes the dataset's images and outputs one score per class, and fits the
    server; return its parameter count. Raises ConfigError (field "model") with what to change."""
    c, h, w = bundle.input_shape
    k = bundle.num_classes
    n_params = sum(p.numel() for p in model.parameters())
    if n_params > MAX_PARAMETERS:
        raise ConfigError(
            f"The model has {n_params:,} parameters; this server trains at most {MAX_PARAMETERS:,}. "
            "Use fewer channels or a smaller Linear layer (a pooling layer before Flatten helps most).",
            "model",
        )
    activations: list[int] = []

    def hook(_m: nn.Module, _inp: Any, out: Any) -> None:
        if isinstance(out, torch.Tensor):
            activations.append(out.numel() // 2)

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        dev = next((p.device for p in model.parameters()), torch.device("cpu"))
        with torch.no_grad():
            out = model(torch.zeros(2, c, h, w, device=dev))  # [2, K]
    except Exception as exc:
        raise ConfigError(
            f"The model cannot take this dataset's {c} x {h} x {w} images: {str(exc).splitlines()[0]}. "
            f"Set the model's input shape to {c} x {h} x {w} (the Model builder can adapt it).",
            "model",
        ) from None
    finally:
        for hd in handles:
            hd.remove()
        model.train(was_training)
    if tuple(out.shape) != (2, k):
        got = " x ".join(str(s) for s in out.shape[1:]) or "1"
        raise ConfigError(
            f"The model outputs {got} values per image but the dataset has {k} classes "
            f"({', '.join(bundle.classes[:6])}{', ...' if k > 6 else ''}): end the model with a Linear "
            f"layer whose out_features is {k}.",
            "model",
        )
    per_image = c * h * w + sum(activations)  # floats kept for backward, per image
    estimate = per_image * batch_size * 4 * 3 + n_params * 4 * 4  # activations+grads, weights+grads+Adam
    if estimate > MAX_RUN_MEMORY_BYTES:
        raise ConfigError(
            f"Training this model with batch size {batch_size} needs about {estimate / 1e9:.1f} GB of memory; "
            f"this server allows {MAX_RUN_MEMORY_BYTES / 1e9:.1f} GB per run. Lower the batch size or use "
            "fewer channels.",
            "model",
        )
    return n_params


# ----------------------------------------------------------------------------------------------
# The snapshot
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSnapshot:
    """A consistent copy of a run's progress, safe to read from any thread.

    Epoch lists have one entry per completed epoch. `batch_loss[i]` is the mean training loss of
    the batches ending at step `batch_step[i]` (1-based); up to MAX_LOSS_POINTS points are kept,
    older ones averaged in pairs, so a point may stand for several batches.
    """

    run_id: str
    name: str
    status: str  # one of STATUSES
    message: str  # one line for the student, e.g. why it stopped
    error: str | None  # the technical error, when status == "failed"
    queue_position: int | None  # 1 = next, while status == "queued"
    queue_wait: float | None  # estimated seconds until it starts, while queued
    epoch: int  # completed epochs
    epochs: int
    step: int  # completed batches
    total_steps: int
    steps_per_epoch: int
    batch_loss: tuple[float, ...]
    batch_step: tuple[int, ...]
    batch_lr: tuple[float, ...]
    train_loss: tuple[float, ...]
    train_acc: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_acc: tuple[float, ...]
    lr: tuple[float, ...]  # learning rate at the start of each epoch
    current_lr: float
    examples_per_sec: float
    elapsed: float  # seconds since training started (not counting the queue)
    eta: float | None  # seconds left, estimated
    test_accuracy: float | None
    test_loss: float | None
    best_epoch: int | None  # 1-based epoch whose weights are kept by early stopping
    device: str
    num_threads: int
    train_size: int
    val_size: int

    @property
    def progress(self) -> float:
        """0..1 share of the batches done."""
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class _Stop(Exception):
    """Raised inside the worker to leave the training loop."""


class TrainingRun:
    """Train a model on a DatasetBundle in a background daemon thread.

    `model` is a ModelSpec, a spec dict or an nn.Module (trained in place). The constructor
    validates the config and checks the model against the data (ConfigError, SpecError); nothing
    trains until `start()`. After the run `.model` is on the CPU in eval mode.
    """

    def __init__(
        self,
        model: Any,
        dataset: DatasetBundle,
        config: TrainConfig | None = None,
        *,
        name: str = "",
        slots: SlotLimiter | None = None,
    ) -> None:
        self.config = copy.deepcopy(config) if config is not None else TrainConfig()
        self.config.validate(len(dataset.train))
        self.bundle = dataset
        self.classes = list(dataset.classes)
        self.model, self.spec = _resolve_model(model, self.config.seed)
        self.num_params = check_model(self.model, dataset, self.config.batch_size)
        self.id = uuid.uuid4().hex[:8]
        self.name = name or f"run {self.id}"
        self.slots = slots if slots is not None else get_limiter()
        self.device = pick_device(self.config.device)
        self.num_threads = self.config.num_threads or threads_per_run(self.slots.max_runs)

        n = len(dataset.train)
        self.train_size, self.val_size = self.config.train_val_sizes(n)
        bs = self.config.batch_size
        self.steps_per_epoch = self.train_size // bs + (
            1 if self.train_size % bs > 1 else 0
        )  # drop a batch of 1
        self.total_steps = self.steps_per_epoch * self.config.epochs

        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._done_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticket: Ticket | None = None
        self._stop_reason: str | None = None
        self.test_probs: np.ndarray | None = None  # [N_test, K] after the run
        self._state: dict[str, Any] = {
            "status": "ready",
            "message": "Ready to train.",
            "error": None,
            "epoch": 0,
            "step": 0,
            "batch_loss": [],
            "batch_step": [],
            "batch_lr": [],
            "train_loss": [],
            "train_acc": [],
            "val_loss": [],
            "val_acc": [],
            "lr": [],
            "current_lr": float(self.config.lr),
            "examples_per_sec": 0.0,
            "t_start": None,
            "t_end": None,
            "test_accuracy": None,
            "test_loss": None,
            "best_epoch": None,
        }
        self._loss_stride = 1  # batches per kept loss point
        self._acc = [0.0, 0, 0.0]  # loss sum, batches, lr sum of the point being built

    # -- public API ----------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._state["status"]

    @property
    def done(self) -> bool:
        return self._state["status"] in DONE_STATUSES

    def start(self) -> TrainingRun:
        """Queue the run for a slot and start its thread. A run starts once; make a new one to retrain."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError(
                    "This run has already been started; create a new TrainingRun to train again."
                )
            self._ticket = self.slots.enqueue(self.name)
            self._state.update(status="queued", message="Waiting for a free training slot.")
            self._thread = threading.Thread(target=self._worker, name=f"training-{self.id}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> bool:
        """Ask the run to stop (within one batch; a queued run leaves the queue). True if it was active."""
        if self.done or self._thread is None:
            return False
        if self._stop_reason is None:
            self._stop_reason = "user"
        self._stop_event.set()
        if self._ticket is not None and self._ticket.state == "queued":
            self._ticket.cancel()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is done (True) or `timeout` seconds pass (False)."""
        if self._thread is None:
            return self.done
        return self._done_event.wait(timeout)

    def heartbeat(self) -> None:
        """The page is still watching. After the first call, a run not heard from for the limiter's
        heartbeat_timeout seconds (the session has gone) is stopped and frees its slot."""
        if self._ticket is not None:
            self._ticket.heartbeat()

    def snapshot(self) -> RunSnapshot:
        """A consistent, immutable copy of the progress (cheap: a few list copies under the lock)."""
        now = time.perf_counter()
        with self._lock:
            s = self._state
            status = s["status"]
            t_start, t_end = s["t_start"], s["t_end"]
            elapsed = 0.0 if t_start is None else (t_end if t_end is not None else now) - t_start
            step = s["step"]
            eta = None
            if status == "running" and step > 0 and elapsed > 0:
                eta = (self.total_steps - step) * elapsed / step
            elif status == "queued":
                eta = None
            elif status in DONE_STATUSES:
                eta = 0.0
            snap = RunSnapshot(
                run_id=self.id,
                name=self.name,
                status=status,
                message=s["message"],
                error=s["error"],
                queue_position=None,
                queue_wait=None,
                epoch=s["epoch"],
                epochs=self.config.epochs,
                step=step,
                total_steps=self.total_steps,
                steps_per_epoch=self.steps_per_epoch,
                batch_loss=tuple(s["batch_loss"]),
                batch_step=tuple(s["batch_step"]),
                batch_lr=tuple(s["batch_lr"]),
                train_loss=tuple(s["train_loss"]),
                train_acc=tuple(s["train_acc"]),
                val_loss=tuple(s["val_loss"]),
                val_acc=tuple(s["val_acc"]),
                lr=tuple(s["lr"]),
                current_lr=s["current_lr"],
                examples_per_sec=s["examples_per_sec"],
                elapsed=elapsed,
                eta=eta,
                test_accuracy=s["test_accuracy"],
                test_loss=s["test_loss"],
                best_epoch=s["best_epoch"],
                device=describe_device(self.device)
                if self.device.type != "cpu"
                else f"CPU · {self.num_threads} thread(s)",
                num_threads=self.num_threads,
                train_size=self.train_size,
                val_size=self.val_size,
            )
        if status == "queued" and self._ticket is not None:  # outside our lock: the limiter has its own
            position, wait = self._ticket.position, self._ticket.estimated_wait()
            if position:
                snap = replace(snap, queue_position=position, queue_wait=wait)
        return snap

    # -- the worker ------------------------------------------------------------------------------
    def _set(self, **kw: Any) -> None:
        with self._lock:
            self._state.update(kw)

    def _worker(self) -> None:
        ticket = self._ticket
        assert ticket is not None
        try:
            while not ticket.wait(timeout=0.25):
                if self._stop_event.is_set() or ticket.state == "cancelled" or ticket.is_stale():
                    stale = ticket.is_stale() and self._stop_reason is None
                    ticket.cancel()
                    self._set(
                        status="stopped",
                        message="Stopped: the page that started it was closed."
                        if stale
                        else "Cancelled while waiting in the queue.",
                    )
                    return
            if self._stop_event.is_set():  # stopped in the instant the slot came free
                self._set(status="stopped", message="Cancelled before training started.")
                return
            self._set(status="running", message="Setting up…")
            self._train(ticket)
        except BaseException as exc:  # never let the thread die silently
            self._set(status="failed", error=f"{type(exc).__name__}: {exc}", message=_friendly_error(exc))
        finally:
            ticket.release()
            try:
                self.model.to("cpu").eval()
            except Exception:
                pass
            with self._lock:
                if self._state["t_start"] is not None and self._state["t_end"] is None:
                    self._state["t_end"] = time.perf_counter()
            self._done_event.set()

    def _train(self, ticket: Ticket) -> None:
        cfg = self.config
        torch.set_num_threads(self.num_threads)
        dev = self.device
        g = torch.Generator().manual_seed(cfg.seed)  # data order, split and augmentation
        bundle = self.bundle
        model = self.model.to(dev)

        images = bundle.train_images.to(dev)  # [N, C, H, W] uint8 (no copy on the CPU)
        labels = bundle.train_labels.to(dev)  # [N]
        if self.val_size:
            train_idx, val_idx = stratified_split(bundle.train_labels, cfg.val_fraction, cfg.seed)
            if len(val_idx) != self.val_size:  # tiny classes: fall back to a plain random split
                perm = torch.randperm(len(bundle.train), generator=g)
                train_idx, val_idx = perm[self.val_size :], perm[: self.val_size]
            train_idx, val_idx = train_idx.to(dev), val_idx.to(dev)
        else:
            train_idx, val_idx = torch.arange(len(bundle.train), device=dev), None
        c = bundle.input_shape[0]
        mean = torch.tensor(bundle.mean, device=dev, dtype=torch.float32).view(1, c, 1, 1)
        std = torch.tensor(bundle.std, device=dev, dtype=torch.float32).view(1, c, 1, 1)
        augment = tuple(cfg.augment)

        optimizer = _make_optimizer(model, cfg)
        scheduler, per_batch = _make_scheduler(optimizer, cfg, self.total_steps)
        criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        cap = min(cfg.max_seconds or math.inf, self.slots.max_seconds or math.inf)

        bs, n_train = cfg.batch_size, self.train_size
        best_loss, best_state, bad_epochs = math.inf, None, 0
        t0 = time.perf_counter()
        with self._lock:
            self._state.update(status="running", message="Training…", t_start=t0)
        speed_mark = (t0, 0)  # (time, examples) for examples_per_sec
        examples = 0
        step = 0
        first_loss = math.nan  # the first batch's loss: the yardstick for "the loss exploded"
        final_status, final_message = "finished", ""
        try:
            for epoch in range(cfg.epochs):
                model.train()
                order = train_idx[torch.randperm(n_train, generator=g).to(dev)]  # [n_train]
                loss_sum, seen = 0.0, 0
                correct = torch.zeros((), dtype=torch.int64, device=dev)
                epoch_lr = optimizer.param_groups[0]["lr"]
                for i in range(self.steps_per_epoch):
                    if self._stop_event.is_set():
                        raise _Stop
                    idx = order[i * bs : (i + 1) * bs if i < self.steps_per_epoch - 1 else n_train]
                    xb = images.index_select(0, idx).float().div_(255)  # [B, C, H, W] in [0, 1]
                    if augment:
                        xb = augment_batch(xb, augment, g)
                    xb = xb.sub_(mean).div_(std)
                    yb = labels.index_select(0, idx)  # [B]
                    out = model(xb)  # [B, K]
                    loss = criterion(out, yb)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    lr_now = optimizer.param_groups[0]["lr"]
                    if per_batch:
                        scheduler.step()
                    lv = loss.item()  # the one sync per batch
                    if step == 0:
                        first_loss = lv
                    if not math.isfinite(lv) or (lv > EXPLODED_LOSS and lv > 100 * first_loss):
                        raise _Diverged(lv, epoch, i, lr_now, first_loss)
                    nb = idx.shape[0]
                    correct += (out.detach().argmax(1) == yb).sum()
                    loss_sum += lv * nb
                    seen += nb
                    examples += nb
                    step += 1
                    now = time.perf_counter()
                    tick = now - speed_mark[0] >= 0.5
                    with self._lock:
                        self._record_batch(lv, step, lr_now)
                        if tick:
                            self._state["examples_per_sec"] = (examples - speed_mark[1]) / (
                                now - speed_mark[0]
                            )
                    if tick:  # twice a second: tell the queue how long this run still needs
                        speed_mark = (now, examples)
                        ticket.set_remaining((self.total_steps - step) * (now - t0) / step)
                    if now - t0 > cap:
                        self._stop_reason = "time"
                        raise _Stop
                    if (step & 31) == 0 and ticket.is_stale():
                        self._stop_reason = "stale"
                        raise _Stop
                if not per_batch and scheduler is not None:
                    scheduler.step()
                train_loss, train_acc = loss_sum / max(1, seen), correct.item() / max(1, seen)
                val_loss = val_acc = None
                if val_idx is not None:
                    val_loss, val_acc = _evaluate(model, images, labels, val_idx, mean, std)
                with self._lock:
                    s = self._state
                    s["epoch"] = epoch + 1
                    s["train_loss"].append(train_loss)
                    s["train_acc"].append(train_acc)
                    if val_loss is not None:
                        s["val_loss"].append(val_loss)
                        s["val_acc"].append(val_acc)
                    s["lr"].append(epoch_lr)
                    s["current_lr"] = optimizer.param_groups[0]["lr"]
                speed_mark = (time.perf_counter(), examples)  # the speed counts training time only
                ticket.set_remaining(self._eta())
                if cfg.patience and val_loss is not None:
                    if val_loss < best_loss - 1e-4:
                        best_loss, bad_epochs = val_loss, 0
                        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                        self._set(best_epoch=epoch + 1)
                    else:
                        bad_epochs += 1
                        if bad_epochs >= cfg.patience and epoch + 1 < cfg.epochs:
                            model.load_state_dict(best_state)
                            best = self._state["best_epoch"]
                            final_status = "early-stopped"
                            final_message = (
                                f"Early stopping: the validation loss has not improved for {cfg.patience} "
                                f"epoch(s), so training stopped after epoch {epoch + 1} and kept the weights "
                                f"of epoch {best} (validation loss {best_loss:.4f})."
                            )
                            break
            else:
                if best_state is not None and cfg.patience:  # finished all epochs: keep the best weights
                    model.load_state_dict(best_state)
        except _Stop:
            final_status = "stopped"
            final_message = {
                "user": f"Stopped by you after {step:,} of {self.total_steps:,} batches; the model keeps "
                "the weights it had.",
                "time": f"Stopped at the time limit of {cap:.0f} s after {step:,} of {self.total_steps:,} "
                "batches; the model keeps the weights it had.",
                "stale": "Stopped: the page that started this run was closed.",
            }.get(self._stop_reason or "user", "Stopped.")
        except _Diverged as d:
            self._finish_failed(d)
            return

        t_train_end = time.perf_counter()
        with self._lock:
            s = self._state
            s["examples_per_sec"] = examples / max(1e-9, t_train_end - t0) if examples else 0.0
            s["t_end"] = t_train_end
            s["message"] = "Measuring accuracy on the test set…"
        if step > 0 and self._stop_reason != "stale":
            test_idx = torch.arange(len(bundle.test), device=dev)
            t_images, t_labels = bundle.test_images.to(dev), bundle.test_labels.to(dev)
            test_loss, test_acc, probs = _evaluate(
                model, t_images, t_labels, test_idx, mean, std, want_probs=True
            )
            self.test_probs = probs
            self._set(test_accuracy=test_acc, test_loss=test_loss)
            if final_status == "finished":
                final_message = f"Finished {cfg.epochs} epoch(s): test accuracy {test_acc:.1%}."
            else:
                final_message += f" Test accuracy {test_acc:.1%}."
            with self._lock:
                losses = list(self._state["batch_loss"])
            final_message += guessing_note(
                test_acc, chance_accuracy(bundle.test_labels), cfg, losses, step, self.steps_per_epoch
            )
        self._set(status=final_status, message=final_message)

    def _record_batch(self, loss: float, step: int, lr: float) -> None:
        """Add one batch loss to the history, averaging `_loss_stride` batches per point (lock held)."""
        acc = self._acc
        acc[0] += loss
        acc[1] += 1
        acc[2] += lr
        s = self._state
        s["step"] = step
        s["current_lr"] = lr
        if acc[1] >= self._loss_stride:
            s["batch_loss"].append(acc[0] / acc[1])
            s["batch_step"].append(step)
            s["batch_lr"].append(acc[2] / acc[1])
            acc[0], acc[1], acc[2] = 0.0, 0, 0.0
            if len(s["batch_loss"]) >= MAX_LOSS_POINTS:  # halve the history: average pairs
                for key in ("batch_loss", "batch_lr"):
                    v = s[key]
                    s[key] = [(v[j] + v[j + 1]) / 2 for j in range(0, len(v) - 1, 2)]
                st = s["batch_step"]
                s["batch_step"] = [st[j + 1] for j in range(0, len(st) - 1, 2)]
                self._loss_stride *= 2

    def _eta(self) -> float | None:
        with self._lock:
            t_start, step = self._state["t_start"], self._state["step"]
        if t_start is None or step == 0:
            return None
        return (self.total_steps - step) * (time.perf_counter() - t_start) / step

    def _finish_failed(self, d: _Diverged) -> None:
        if math.isnan(d.loss):
            what = "became NaN (not a number)"
        elif math.isinf(d.loss):
            what = "became infinite"
        else:
            what = f"exploded to {d.loss:,.0f} (it started at {d.first_loss:.3g})"
        cfg = self.config
        lr = f"{cfg.lr:g}"
        if cfg.scheduler != "none" and not math.isclose(d.lr, cfg.lr, rel_tol=1e-6):
            lr += f"; {d.lr:.3g} at that batch, as the {cfg.scheduler} scheduler set it"
        msg = (
            f"The loss {what} in epoch {d.epoch + 1}, batch {d.batch + 1}: the learning rate "
            f"({lr}) is most likely too high, so the weights blew up. Train again with a smaller "
            f"learning rate (try {smaller_lr(cfg.lr, cfg.optimizer):g})."
        )
        with self._lock:
            self._state.update(
                status="failed", message=msg, error=f"loss = {d.loss}", t_end=time.perf_counter()
            )


class _Diverged(Exception):
    def __init__(self, loss: float, epoch: int, batch: int, lr: float, first_loss: float) -> None:
        super().__init__(loss)
        self.loss, self.epoch, self.batch, self.lr, self.first_loss = loss, epoch, batch, lr, first_loss


def smaller_lr(lr: float, optimizer: str) -> float:
    """A learning rate to try after `lr` blew up: a tenth of it, or the optimizer's typical value if
    a tenth is still far above that (1e6 -> 0.001 for Adam, not 1e5)."""
    typical = TYPICAL_LR.get(optimizer, 0.001)
    return lr / 10 if lr / 10 <= 2 * typical else typical


def chance_accuracy(labels: torch.Tensor) -> float:
    """The accuracy of always answering the most common class of `labels` [N] (0 for no labels)."""
    if labels.numel() == 0:
        return 0.0
    return float(torch.bincount(labels).max()) / labels.numel()


def guessing_note(
    test_acc: float,
    chance: float,
    cfg: TrainConfig,
    batch_loss: Sequence[float],
    steps: int,
    steps_per_epoch: int,
) -> str:
    """A sentence for a run whose test accuracy is no better than guessing (else ""), with the likely cause.

    `batch_loss` is the run's per-batch loss history: a loss that jumped far above its start points
    at a learning rate too high (the weights were thrown where ReLUs never fire, and stay there).
    """
    if test_acc > chance + 0.02:
        return ""
    note = (
        f" That is no better than guessing (always answering the most common class scores {chance:.0%}): "
        "the network has not learned anything useful."
    )
    losses = [v for v in batch_loss if math.isfinite(v)]
    if steps < steps_per_epoch:
        return note + " It trained for less than one epoch: let it run longer."
    if losses and max(losses) > 3 * losses[0]:
        return note + (
            f" The loss jumped far above where it started: the learning rate ({cfg.lr:g}) is most likely "
            f"too high. Try {smaller_lr(cfg.lr, cfg.optimizer):g}."
        )
    return note + (
        f" Try a learning rate near {TYPICAL_LR.get(cfg.optimizer, 0.001):g} for this optimizer, more "
        "epochs, or a bigger model."
    )


def adaptation_notes(original: Any, adapted: Any) -> list[str]:
    """What `cnnlib.spec.adapt_to_dataset` changed in a model spec, one sentence each (for the page).

    Compares the input shape and the last Linear layer's out_features (the class count).
    """
    a = original.to_dict() if hasattr(original, "to_dict") else dict(original)
    b = adapted.to_dict() if hasattr(adapted, "to_dict") else dict(adapted)
    notes = []
    if list(a.get("input_shape", [])) != list(b.get("input_shape", [])):
        old, new = ("×".join(str(v) for v in d["input_shape"]) for d in (a, b))
        notes.append(f"input {old} → {new} (the dataset's image size)")

    def outputs(d: dict) -> int | None:
        linear = [layer for layer in d.get("layers", []) if layer.get("type") == "Linear"]
        return linear[-1].get("out_features") if linear else None

    if outputs(a) != outputs(b):
        notes.append(f"last Linear layer {outputs(a)} → {outputs(b)} outputs (one per class)")
    return notes


def _friendly_error(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in text.lower():
        return "Training ran out of memory: lower the batch size or use a smaller model."
    if isinstance(exc, RuntimeError) and ("shape" in text or "size" in text):
        return f"The model and the data do not fit together: {text.splitlines()[0]}"
    return f"Training failed: {type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int) -> tuple[Any, bool]:
    """(scheduler or None, steps per batch?). Cosine and one-cycle step every batch; StepLR every epoch."""
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma), False
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total_steps)), True
    if cfg.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=cfg.lr, total_steps=max(1, total_steps)
        ), True
    return None, False


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    idx: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    want_probs: bool = False,
) -> Any:
    """(mean cross-entropy, accuracy[, probs [N, K] numpy]) over images[idx], in eval mode."""
    was_training = model.training
    model.eval()
    loss_sum, correct, probs = 0.0, 0, []
    try:
        for start in range(0, idx.shape[0], EVAL_BATCH_SIZE):
            j = idx[start : start + EVAL_BATCH_SIZE]
            x = images.index_select(0, j).float().div_(255).sub_(mean).div_(std)  # [B, C, H, W]
            y = labels.index_select(0, j)
            out = model(x).float()  # [B, K]
            loss_sum += F.cross_entropy(out, y, reduction="sum").item()
            correct += int((out.argmax(1) == y).sum())
            if want_probs:
                probs.append(torch.softmax(out, dim=1).cpu())
    finally:
        model.train(was_training)
    n = max(1, idx.shape[0])
    result = (loss_sum / n, correct / n)
    if want_probs:
        return (*result, torch.cat(probs).numpy() if probs else np.zeros((0, 0), np.float32))
    return result


# ----------------------------------------------------------------------------------------------
# The default classroom demo
# ----------------------------------------------------------------------------------------------

DEMO_DATASET = "mnist-sample"
DEMO_SPEC: dict[str, Any] = {
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Flatten"},
        {"type": "Linear", "out_features": 64},
        {"type": "ReLU"},
        {"type": "Linear", "out_features": 10},
    ],
}
DEFAULT_DEMO = TrainConfig(optimizer="adam", lr=2e-3, batch_size=64, epochs=10, scheduler="onecycle")
