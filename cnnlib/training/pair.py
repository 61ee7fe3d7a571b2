"""Two runs as one job: "same run, but ..." trained in turn, and the table that compares them.

    job = ComparisonJob.create(spec, bundle, TrainConfig(train_size=200, epochs=8), "dropout", 0.5)
    job.start()                 # run A starts; when it finishes, the job starts run B
    job.runs, job.active        # the two TrainingRuns, the one training now (or None)
    job.table()                 # one row per run: the difference, accuracies, parameters, seconds

A comparison changes one thing (`CHANGES`): a training setting (`same_run_but`: weight decay, the
augmentation, fewer images, another optimizer, ...) or the model (dropout before the classifier,
batch norm after every convolution). Both runs keep the base's seed: the same first weights
(where the models agree), the same images in the same order. The two runs go one after the other,
through the same training slots as any run (on 2 cores there is one): a comparison never takes
two slots, and a student has one run queued or training at a time. Stopping the job stops both.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any

from cnnlib.data import DatasetBundle
from cnnlib.spec import ModelSpec
from cnnlib.training.compare import SETTING_NAMES, format_setting, same_run_but
from cnnlib.training.config import (
    AUGMENTATIONS,
    MAX_EPOCHS,
    MAX_LR,
    MAX_TRAIN_SIZE,
    MIN_TRAIN_SIZE,
    OPTIMIZERS,
    ConfigError,
    TrainConfig,
)
from cnnlib.training.run import TrainingRun
from cnnlib.training.slots import QueueRefused
from cnnlib.training.transfer import as_pretrained_input, parameter_split, transfer_model, transfer_spec

__all__ = [
    "CHANGES",
    "CHANGE_CHOICES",
    "ComparisonJob",
    "format_change",
    "parse_change",
    "with_batchnorm",
    "with_dropout",
]


CHANGES: dict[str, Any] = {  # what a student can change, and the value a comparison starts from
    "dropout": 0.5,
    "batchnorm": True,
    "weight_decay": 1e-3,
    "augment": ("shift", "rotate"),
    "train_size": 200,
    "optimizer": "sgd",
    "lr": 1e-2,
    "epochs": 10,
    "label_noise": 0.5,
    "seed": 1,
    "pretrained": "frozen",
}
CHANGE_CHOICES = {
    "augment": AUGMENTATIONS,
    "optimizer": OPTIMIZERS,
    "pretrained": ("frozen", "fine-tune"),
}  # the values a list change picks from
MODEL_CHANGES = {
    "dropout": "with dropout before the classifier",
    "batchnorm": "with batch norm after every convolution",
}


NUMBER_BOUNDS = {  # change -> (kind, low, high) of its value in a link
    "dropout": (float, 0.0, 0.95),
    "weight_decay": (float, 0.0, 1.0),
    "train_size": (int, MIN_TRAIN_SIZE, MAX_TRAIN_SIZE),
    "label_noise": (float, 0.0, 1.0),
    "lr": (float, 1e-8, MAX_LR),
    "epochs": (int, 1, MAX_EPOCHS),
    "seed": (int, 0, 2**31 - 1),
}


def parse_change(text: str) -> tuple[str, Any] | None:
    """A link's comparison, "weight_decay:0.001", "batchnorm", "augment:shift+rotate", "optimizer:sgd"
    -> (change, value); "" or "none" -> None. ValueError (in words) for anything else."""
    word, _, raw = text.strip().partition(":")
    change, raw = word.strip().lower(), raw.strip().lower()
    if change in ("", "none"):
        return None
    if change not in CHANGES:
        raise ValueError(f"{word[:20]!r} is not a change two runs can differ in: {', '.join(CHANGES)}")
    if change == "batchnorm":
        return change, True
    if change in CHANGE_CHOICES:
        options = CHANGE_CHOICES[change]
        words = [w for w in raw.replace(",", "+").split("+") if w] if change == "augment" else [raw]
        bad = [w for w in words if w not in options]
        if bad or not words:
            raise ValueError(f"{(bad or [''])[0][:20]!r} is not one of: {', '.join(options)}")
        return change, tuple(o for o in options if o in words) if change == "augment" else words[0]
    kind, lo, hi = NUMBER_BOUNDS[change]
    try:
        value = kind(raw) if kind is float else int(raw)
    except ValueError:
        raise ValueError(f"{raw[:20]!r} is not a number for {change}") from None
    if not lo <= value <= hi or value != value:
        span = f"{lo:,} to {hi:,}" if kind is int else f"{lo:g} to {hi:g}"
        raise ValueError(f"{change} must be from {span}, got {raw[:20]}")
    return change, value


def format_change(value: tuple[str, Any] | None) -> str:
    """(change, value) -> its link text (parse_change's inverse)."""
    if not value:
        return "none"
    change, v = value
    if change == "batchnorm":
        return change
    if change == "augment":
        return f"{change}:{'+'.join(v)}"
    return f"{change}:{v:g}" if isinstance(v, float) else f"{change}:{v}"


def _spec_dict(spec: ModelSpec | dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(spec.to_dict() if isinstance(spec, ModelSpec) else spec)


def with_dropout(spec: ModelSpec | dict[str, Any], p: float = 0.5) -> ModelSpec:
    """`spec` with dropout p before every Linear layer (the classifier's input): a Dropout there takes
    p, one is added where there is none; p = 0 takes the Dropout layers before Linear layers out
    (dropout off). ConfigError when nothing would change or there is no Linear layer."""
    p = float(p)
    if not 0 <= p < 1:
        raise ConfigError(f"Dropout's p must be from 0 (off) to below 1, got {p!r}.", "model")
    d = _spec_dict(spec)
    layers: list[dict[str, Any]] = []
    for layer in d["layers"]:
        if layer.get("type") == "Linear":
            before = layers[-1] if layers and layers[-1].get("type") == "Dropout" else None
            if before is not None and p == 0:
                layers.pop()
            elif before is not None:
                layers[-1] = {**before, "p": p}
            elif p > 0:
                layers.append({"type": "Dropout", "p": p})
        layers.append(layer)
    if not any(layer.get("type") == "Linear" for layer in layers):
        raise ConfigError(
            "This model has no Linear layer: there is no classifier to put dropout before.", "model"
        )
    if layers == d["layers"]:
        now = "no dropout" if p == 0 else f"dropout {p:g}"
        raise ConfigError(
            f"This model already has {now} before its Linear layers: choose another p.", "model"
        )
    return ModelSpec.from_dict({**d, "layers": layers})


def with_batchnorm(spec: ModelSpec | dict[str, Any]) -> ModelSpec:
    """`spec` with a BatchNorm2d after every Conv2d that has none."""
    d = _spec_dict(spec)
    layers: list[dict[str, Any]] = []
    src = d["layers"]
    for i, layer in enumerate(src):
        layers.append(layer)
        nxt = src[i + 1].get("type") if i + 1 < len(src) else None
        if layer.get("type") == "Conv2d" and nxt != "BatchNorm2d":
            layers.append({"type": "BatchNorm2d"})
    if len(layers) == len(src):
        raise ConfigError("This model has no convolution without batch norm after it: none to add.", "model")
    return ModelSpec.from_dict({**d, "layers": layers})


@dataclass(frozen=True)
class Row:
    """One line of the comparison's table."""

    run: str  # "A" or "B"
    setting: str  # what this run has, e.g. "weight decay 0.001"
    train_acc: float | None  # last epoch's training accuracy (0..1)
    val_acc: float | None
    test_acc: float | None
    params: int
    trainable: int  # parameters the optimizer changes (fewer than params when layers are frozen)
    seconds: float
    status: str


class ComparisonJob:
    """Run A, then run B (see the module). Build with `create`; `start()` once."""

    def __init__(
        self, run_a: TrainingRun, run_b: TrainingRun, change: str, labels: tuple[str, str], description: str
    ):
        self.runs = (run_a, run_b)
        self.change = change
        self.labels = labels
        self.description = description
        self._stopped = False
        self._b_started = False
        self._last_beat: float | None = None  # time.monotonic() of the page's last heartbeat
        self._thread: threading.Thread | None = None

    @classmethod
    def create(
        cls,
        spec: ModelSpec | dict[str, Any] | None,
        bundle: DatasetBundle,
        base: TrainConfig,
        change: str,
        value: Any = None,
        **run_kw: Any,
    ) -> ComparisonJob:
        """Two TrainingRuns that differ in `change` (a CHANGES key; `value` or its default).

        ConfigError (nothing built) when the change is unknown, not valid for this model or data,
        or equal to the base. `run_kw` goes to both TrainingRuns (slots, owner, backend, ...)."""
        if change not in CHANGES:
            raise ConfigError(f"{change!r} cannot be compared: choose one of {', '.join(CHANGES)}.", change)
        value = CHANGES[change] if value is None else value
        n = len(bundle.train)
        if change == "pretrained":
            return cls._transfer(bundle, base, value == "frozen", run_kw)
        if spec is None:
            raise ConfigError("Choose a model first.", "model")
        spec_a = ModelSpec.from_dict(_spec_dict(spec))
        if change in MODEL_CHANGES:
            cfg_a = copy.deepcopy(base).validate(n)
            cfg_b = copy.deepcopy(cfg_a)
            spec_b = with_dropout(spec_a, value) if change == "dropout" else with_batchnorm(spec_a)
            if change == "dropout":
                p = float(value)
                labels = (
                    "the model as built",
                    f"dropout before the classifier {'off' if p == 0 else f'p = {p:g}'}",
                )
            else:
                labels = ("the model as built", MODEL_CHANGES[change])
            description = f"same run, but {labels[1]}"
        else:
            cmp = same_run_but(base, change, value, dataset_size=n)
            cfg_a, cfg_b, spec_b = cmp.base, cmp.variant, spec_a
            name = SETTING_NAMES[change]
            labels = (
                f"{name} {format_setting(change, getattr(cfg_a, change))}",
                f"{name} {format_setting(change, getattr(cfg_b, change))}",
            )
            description = cmp.description
        run_a = TrainingRun(spec_a, bundle, cfg_a, name=f"A: {labels[0]}", **run_kw)
        run_b = TrainingRun(spec_b, bundle, cfg_b, name=f"B: {labels[1]}", **run_kw)
        return cls(run_a, run_b, change, labels, description)

    @classmethod
    def _transfer(
        cls, bundle: DatasetBundle, base: TrainConfig, freeze: bool, run_kw: dict[str, Any]
    ) -> ComparisonJob:
        """A: the digit model's architecture from scratch; B: its layers from the bundled model, a new
        head (cnnlib.training.transfer), on the data made the digit model's input."""
        from cnnlib.inference import PretrainedError, load_pretrained_bundle

        try:
            pre = load_pretrained_bundle()
        except PretrainedError as err:
            raise ConfigError(str(err), "model") from err
        data = as_pretrained_input(bundle, pre)
        cfg = copy.deepcopy(base).validate(len(data.train))
        spec = transfer_spec(pre.spec, data.num_classes)
        model_b, _ = transfer_model(pre, data.num_classes, freeze, seed=cfg.seed)
        how = "frozen" if freeze else "fine-tuned"
        labels = (
            "the digit model's layers from scratch",
            f"the digit model's trained layers, {how}, new head",
        )
        run_a = TrainingRun(spec, data, cfg, name="A: from scratch", **run_kw)
        run_b = TrainingRun(model_b, data, copy.deepcopy(cfg), name=f"B: transfer ({how})", **run_kw)
        run_b.spec = spec  # a module trains; its record keeps the spec, for Draw & predict
        return cls(run_a, run_b, "pretrained", labels, f"same run, but starting from {labels[1]}")

    def start(self) -> ComparisonJob:
        """Queue run A; a thread starts run B when A has finished (not when it stopped or failed)."""
        if self._thread is not None:
            raise RuntimeError("This comparison has already been started.")
        self.runs[0].start()
        self._thread = threading.Thread(target=self._in_turn, name="comparison", daemon=True)
        self._thread.start()
        return self

    def _in_turn(self) -> None:
        a, b = self.runs
        a.wait()
        if self._stopped or a.status not in ("finished", "early-stopped") or self._page_gone():
            return
        try:
            b.start()
        except QueueRefused:  # the student started another run in between: B waits for "Run both" again
            return
        self._b_started = True

    def _page_gone(self) -> bool:
        """Heartbeats were armed and none came for the slots' heartbeat timeout: nobody is watching."""
        timeout = self.runs[1].slots.heartbeat_timeout
        return (
            self._last_beat is not None
            and timeout is not None
            and time.monotonic() - self._last_beat > timeout
        )

    @property
    def active(self) -> TrainingRun | None:
        """The run queued or training now, or None."""
        a, b = self.runs
        if self._thread is not None and not a.done:
            return a
        return b if self._b_started and not b.done else None

    @property
    def done(self) -> bool:
        """Both runs are over, or A ended (stopped, failed) and B will not start."""
        if self._thread is None or self._thread.is_alive():
            return False
        return not self._b_started or self.runs[1].done

    def heartbeat(self) -> None:
        """The page is still watching: passed on to the runs (B does not start for a page that left)."""
        self._last_beat = time.monotonic()
        for run in self.runs:
            run.heartbeat()

    def stop(self) -> None:
        """Stop the run in progress; B never starts after a stop."""
        self._stopped = True
        for run in self.runs:
            run.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until both runs are done, or A ended without B (True), or `timeout` passes."""
        if self._thread is None:
            return False
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        return self.runs[1].wait(timeout) if self._b_started else True

    def table(self) -> list[Row]:
        """One row per run, from the runs' snapshots (None where a number is not known yet)."""
        rows = []
        for tag, run, label in zip("AB", self.runs, self.labels, strict=True):
            s = run.snapshot()
            rows.append(
                Row(
                    run=tag,
                    setting=label,
                    train_acc=s.train_acc[-1] if s.train_acc else None,
                    val_acc=s.val_acc[-1] if s.val_acc else None,
                    test_acc=s.test_accuracy,
                    params=int(run.num_params),
                    trainable=parameter_split(run.model)[0],
                    seconds=float(s.elapsed),
                    status=s.status,
                )
            )
        return rows
