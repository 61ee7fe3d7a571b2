"""One training step in slow motion: zero_grad, forward, loss, backward, optimizer step.

`SlowStep` holds a model, one batch, an optimizer and the cross-entropy criterion, and performs
the five steps of a PyTorch training loop one at a time, in order, recording what a student
should see at each: the logits and softmax probabilities, the loss built from each example's
-log p(true class), one chosen weight's value, gradient and update, and the update rule written
with the very numbers torch used (read back from the optimizer's state).

`first_batch` shows what a DataLoader's batch size and shuffle change: the first batch it yields.
Every number here is computed by torch; nothing here imports streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

STEPS: tuple[str, ...] = ("zero_grad", "forward", "loss", "backward", "step")
STEP_TITLES: dict[str, str] = {
    "zero_grad": "1 · Zero the gradients",
    "forward": "2 · Forward pass",
    "loss": "3 · Loss",
    "backward": "4 · Backward pass",
    "step": "5 · Optimizer step",
}
STEP_CODE: dict[str, str] = {
    "zero_grad": "optimizer.zero_grad()",
    "forward": "logits = model(x)",
    "loss": "loss = criterion(logits, y)",
    "backward": "loss.backward()",
    "step": "optimizer.step()",
}
# "... first" phrases for the out-of-order message.
_STEP_TODO: dict[str, str] = {
    "zero_grad": "zero the gradients",
    "forward": "do the forward pass",
    "loss": "compute the loss",
    "backward": "do the backward pass",
    "step": "take the optimizer step",
}
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw")


class StepError(ValueError):
    """A step that cannot run (out of order, bad batch, bad settings), with a student-readable message."""


# ----------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class OptimizerSettings:
    """The optimizer's hyperparameters. name: "sgd", "adam" or "adamw"."""

    name: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def validate(self) -> None:
        """Raise StepError with a clear message for a setting torch would refuse (or misuse)."""
        if self.name not in OPTIMIZERS:
            raise StepError(f"Unknown optimizer {self.name!r}: choose one of {', '.join(OPTIMIZERS)}.")
        if not math.isfinite(self.lr) or self.lr < 0:
            raise StepError(f"The learning rate must be a number ≥ 0 (got {self.lr}).")
        if not math.isfinite(self.weight_decay) or self.weight_decay < 0:
            raise StepError(f"Weight decay must be a number ≥ 0 (got {self.weight_decay}).")
        if self.name == "sgd":
            if not math.isfinite(self.momentum) or not 0 <= self.momentum < 1:
                raise StepError(f"Momentum must be in [0, 1) (got {self.momentum}).")
            if self.nesterov and self.momentum == 0:
                raise StepError("Nesterov momentum needs a momentum above 0.")
        else:
            b1, b2 = self.betas
            if not (0 <= b1 < 1 and 0 <= b2 < 1):
                raise StepError(f"Adam's betas must both be in [0, 1) (got {self.betas}).")
            if not self.eps > 0:
                raise StepError(f"Adam's epsilon must be above 0 (got {self.eps}).")

    def build(self, params: Sequence[nn.Parameter]) -> torch.optim.Optimizer:
        """A fresh torch optimizer over `params` with these settings (single-tensor implementation)."""
        self.validate()
        if self.name == "sgd":
            return torch.optim.SGD(
                params,
                lr=self.lr,
                momentum=self.momentum,
                weight_decay=self.weight_decay,
                nesterov=self.nesterov,
                foreach=False,
            )
        cls = torch.optim.Adam if self.name == "adam" else torch.optim.AdamW
        return cls(
            params, lr=self.lr, betas=self.betas, eps=self.eps, weight_decay=self.weight_decay, foreach=False
        )


@dataclass(frozen=True)
class WeightRef:
    """One scalar weight of the model: a parameter's name and an index into it."""

    name: str
    index: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.name}[{', '.join(str(i) for i in self.index)}]"


def trainable_parameters(model: nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every parameter that requires grad, in the model's order."""
    return [(n, tuple(p.shape)) for n, p in model.named_parameters() if p.requires_grad]


def default_weight(model: nn.Module) -> WeightRef:
    """The first conv kernel's first weight, [0, 0, 0, 0]; without a conv, the first trainable weight."""
    params = trainable_parameters(model)
    if not params:
        raise StepError(
            "This model has no parameters that require a gradient, so there is nothing to train: "
            "every weight is frozen (requires_grad=False) or the model has no weights at all."
        )
    for name, shape in params:
        if len(shape) == 4:
            return WeightRef(name, (0, 0, 0, 0))
    name, shape = params[0]
    return WeightRef(name, tuple(0 for _ in shape))


# ----------------------------------------------------------------------------------------------
# A batch, seen


@dataclass
class BatchView:
    """The first batch a DataLoader yields for a batch size, shuffle flag and seed."""

    images: torch.Tensor  # [B, C, H, W] as stored (uint8 pixels)
    labels: torch.Tensor  # [B] int64
    indices: torch.Tensor  # [B] positions in the dataset
    batch_size: int
    shuffle: bool
    seed: int
    dataset_size: int

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape)

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(self.dataset_size / self.batch_size)

    @property
    def last_batch_size(self) -> int:
        rest = self.dataset_size % self.batch_size
        return rest if rest else self.batch_size

    def label_counts(self, num_classes: int) -> list[int]:
        """How many images of each class the batch holds."""
        return torch.bincount(self.labels, minlength=num_classes).tolist()


def first_batch(
    images: torch.Tensor, labels: torch.Tensor, batch_size: int, shuffle: bool = True, seed: int = 0
) -> BatchView:
    """The first batch of `DataLoader(TensorDataset(...), batch_size, shuffle, generator=seed)`.

    images: [N, C, H, W]; labels: [N]. Without shuffle the batch is always the first `batch_size`
    images; with it, a seeded random draw (the same seed gives the same batch).
    """
    if images.ndim != 4:
        raise StepError(f"Images must be shaped [N, C, H, W]; got {list(images.shape)}.")
    n = int(images.shape[0])
    if n == 0:
        raise StepError("The dataset is empty: there is no batch to show.")
    if labels.shape != (n,):
        raise StepError(f"Expected {n} labels shaped [{n}], got {list(labels.shape)}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise StepError(f"The batch size must be a whole number ≥ 1 (got {batch_size!r}).")
    generator = torch.Generator().manual_seed(int(seed))
    loader = DataLoader(
        TensorDataset(torch.arange(n)), batch_size=batch_size, shuffle=shuffle, generator=generator
    )
    (indices,) = next(iter(loader))  # [B]
    return BatchView(
        images=images[indices],
        labels=labels[indices].long(),
        indices=indices,
        batch_size=batch_size,
        shuffle=bool(shuffle),
        seed=int(seed),
        dataset_size=n,
    )


# ----------------------------------------------------------------------------------------------
# Results of each step


@dataclass
class ZeroGradResult:
    grad_before: float | None  # the chosen weight's .grad before clearing (None: there was none)
    cleared: int  # how many parameter tensors had a gradient to clear
    round: int


@dataclass
class ForwardResult:
    logits: torch.Tensor  # [B, K]
    probs: torch.Tensor  # [B, K], softmax of the logits
    predicted: torch.Tensor  # [B]
    shown: list[int]  # which batch positions the page shows
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]

    def rows(self, labels: Sequence[int], classes: Sequence[str]) -> list[dict[str, Any]]:
        """For a table: per shown image, a row of logits and a row of softmax probabilities."""
        k = int(self.logits.shape[1])
        names = [str(c) for c in classes][:k] if len(classes) >= k else [str(j) for j in range(k)]
        out: list[dict[str, Any]] = []
        for i in self.shown:
            true = int(labels[i])
            for what, values in (("logit z", self.logits[i]), ("softmax p", self.probs[i])):
                row: dict[str, Any] = {
                    "image": i,
                    "true": names[true] if 0 <= true < k else str(true),
                    "": what,
                }
                row.update({name: round(float(v), 4) for name, v in zip(names, values.tolist(), strict=True)})
                out.append(row)
        return out

    def softmax_latex(self, i: int, true_class: int) -> str:
        """p(true class) of example i as a softmax with its numbers substituted."""
        z = self.logits[i].double()
        exps = torch.exp(z - z.max())  # shifted for stability; the ratio is the same
        k = int(z.shape[0])
        denom = float(torch.exp(z).sum())
        num = math.exp(float(z[true_class]))
        terms = " + ".join(f"e^{{{_f(float(v), 4)}}}" for v in z[: min(k, 3)])
        if k > 3:
            terms += r" + \cdots"
        p = float(exps[true_class] / exps.sum())
        # \rule{0pt}{1.3em}: a strut, so the numerator's raised exponent is not clipped at the top
        return (
            rf"p_{{{true_class}}} = \frac{{e^{{z_{{{true_class}}}}}}}{{\sum_{{j=0}}^{{{k - 1}}} e^{{z_j}}}}"
            rf" = \frac{{\rule{{0pt}}{{1.3em}}e^{{{_f(float(z[true_class]), 4)}}}}}{{{terms}}}"
            rf" = \frac{{{_f(num, 4)}}}{{{_f(denom, 4)}}} = {_f(p, 4)}"
        )


@dataclass
class LossResult:
    loss: float
    p_true: torch.Tensor  # [B] softmax probability of each example's true class
    nll_true: torch.Tensor  # [B] -log p(true class)
    per_example: torch.Tensor  # [B] criterion with reduction="none"
    labels: torch.Tensor  # [B]
    num_classes: int = 0

    @property
    def guess_loss(self) -> float:
        """The loss of a network that gives every class the same probability: log(classes)."""
        return math.log(self.num_classes) if self.num_classes else float("nan")

    def latex(self) -> str:
        b = int(self.nll_true.shape[0])
        parts = [_f(float(v), 4) for v in self.nll_true[: min(b, 4)]]
        inner = " + ".join(parts) + (r" + \cdots" if b > 4 else "")
        return (
            rf"L = \frac{{1}}{{{b}}}\sum_{{i=1}}^{{{b}}} -\log p_i(y_i)"
            rf" = \frac{{1}}{{{b}}}\left({inner}\right) = {_f(self.loss, 6)}"
        )


@dataclass
class BackwardResult:
    weight: WeightRef
    value: float
    grad: float
    kernel: torch.Tensor | None  # [kH, kW] the chosen weight's kernel (conv weights only)
    kernel_grad: torch.Tensor | None  # [kH, kW] its gradient
    grad_norms: list[tuple[str, float]]  # every trainable parameter's gradient norm


@dataclass
class UpdateRule:
    """The update of one weight, written with the numbers torch used."""

    optimizer: str  # "sgd" | "adam" | "adamw"
    lines: list[str]  # LaTeX, one equation per line
    terms: dict[str, float]  # every number in the lines, by name
    predicted_after: float  # the rule's result, computed in float64 from those numbers


@dataclass
class StepResult:
    weight: WeightRef
    before: float
    grad: float
    after: float  # read back from the model after optimizer.step()
    rule: UpdateRule
    kernel_before: torch.Tensor | None  # [kH, kW]
    kernel_after: torch.Tensor | None  # [kH, kW]
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass
class RevealResult:
    loss_before: float
    loss_after: float
    p_true_before: torch.Tensor  # [B]
    p_true_after: torch.Tensor  # [B]

    @property
    def went_down(self) -> bool:
        return self.loss_after < self.loss_before

    @property
    def direction(self) -> str:
        """One of: down, up, same (exactly equal, e.g. learning rate 0), blew up (NaN or infinite)."""
        if not math.isfinite(self.loss_after):
            return "blew up"
        if self.loss_after == self.loss_before:
            return "same"
        return "down" if self.went_down else "up"


# ----------------------------------------------------------------------------------------------
# The slow-motion step


class SlowStep:
    """Five steps of one training iteration, run one at a time, recording what each did.

    The model is trained in place (pass a fresh one). x: [B, C, H, W] normalised floats; y: [B]
    class indices. `optimizer` is an OptimizerSettings or a torch SGD/Adam/AdamW built on the model.
    After the optimizer step the next step is zero_grad again: a new round on the same batch,
    with the optimizer's state (momentum, Adam's moments) carried over.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        optimizer: OptimizerSettings | torch.optim.Optimizer | None = None,
        criterion: nn.CrossEntropyLoss | None = None,
        weight: WeightRef | None = None,
        n_show: int = 4,
        seed: int = 0,
    ) -> None:
        self.x, self.y = _check_batch(x, y)
        self.model = model
        self._params = dict(model.named_parameters())
        self.weight = weight if weight is not None else default_weight(model)
        self._param = self._check_weight(self.weight)
        if isinstance(optimizer, torch.optim.Optimizer):
            self.optimizer = optimizer
        else:
            self.optimizer = (optimizer or OptimizerSettings()).build(
                [p for p in model.parameters() if p.requires_grad]
            )
        self.kind = self._check_optimizer()
        self.criterion = criterion if criterion is not None else nn.CrossEntropyLoss()
        if not isinstance(self.criterion, nn.CrossEntropyLoss) or self.criterion.reduction != "mean":
            raise StepError("Slow motion shows the cross-entropy loss averaged over the batch.")
        if self.criterion.weight is not None:
            raise StepError("Slow motion does not show a class-weighted cross-entropy.")
        self.n_show = max(1, min(int(n_show), int(self.x.shape[0])))
        self.round = 1
        self._done: list[str] = []
        self._logits: torch.Tensor | None = None  # [B, K], in the graph
        self._loss: torch.Tensor | None = None
        self.seed = int(seed)  # seeds the dropout masks: the reveal reuses the forward pass's masks
        self._forward_seed = 0
        self.results: dict[str, Any] = {}

    # -- order ---------------------------------------------------------------------------------
    @property
    def next_step(self) -> str:
        return STEPS[len(self._done)]

    @property
    def done(self) -> list[str]:
        return list(self._done)

    @property
    def weight_title(self) -> str:
        """The chosen weight with its friendly layer name, e.g. "conv1.weight[0, 0, 0, 0]"."""
        return weight_title(self.model, self.weight)

    def run(self, name: str) -> Any:
        """Run the step called `name` ("zero_grad", "forward", "loss", "backward", "step")."""
        if name not in STEPS:
            raise StepError(f"Unknown step {name!r}: the steps are {', '.join(STEPS)}.")
        return getattr(self, {"loss": "compute_loss", "step": "optimizer_step"}.get(name, name))()

    def _enter(self, name: str) -> None:
        expected = self.next_step
        if name == expected:
            return
        if name in self._done:
            raise StepError(
                f"{STEP_TITLES[name]} is already done in this round; next: {_STEP_TODO[expected]}."
            )
        raise StepError(f"Can't {_STEP_TODO[name]} yet: {_STEP_TODO[expected]} first.")

    def _finish(self, name: str, result: Any) -> Any:
        self.results[name] = result
        self._done.append(name)
        if len(self._done) == len(STEPS):
            self._done = []
            self.round += 1
        return result

    # -- the five steps ------------------------------------------------------------------------
    def zero_grad(self) -> ZeroGradResult:
        """optimizer.zero_grad(): clear the gradients left by the previous backward pass."""
        self._enter("zero_grad")
        g = self._param.grad
        grad_before = None if g is None else float(g[self.weight.index])
        cleared = sum(1 for p in self._params.values() if p.grad is not None)
        self.optimizer.zero_grad(set_to_none=True)
        for key in ("forward", "loss", "backward", "step", "reveal"):
            self.results.pop(key, None)
        return self._finish("zero_grad", ZeroGradResult(grad_before, cleared, self.round))

    def forward(self) -> ForwardResult:
        """logits = model(x) in training mode; records the logits and their softmax."""
        self._enter("forward")
        self.model.train()
        try:
            self._forward_seed = self._mask_seed()
            with torch.random.fork_rng(devices=[]):  # seeded dropout masks, others' RNG untouched
                torch.manual_seed(self._forward_seed)
                logits = self.model(self.x)  # [B, K]
        except RuntimeError as exc:
            raise StepError(
                f"The model cannot take this batch shaped {list(self.x.shape)}: {_first_line(exc)}"
            ) from exc
        b = int(self.x.shape[0])
        if logits.ndim != 2 or logits.shape[0] != b:
            raise StepError(
                f"The model should output one row of class scores per image, shaped [{b}, classes]; "
                f"it outputs {list(logits.shape)}. End it with Flatten and Linear."
            )
        if logits.shape[1] < 2:
            raise StepError("The model outputs a single score per image; classification needs ≥ 2 classes.")
        if not torch.isfinite(logits).all():
            raise StepError(
                "The model's outputs are NaN or infinite: the weights blew up (the learning rate was far too "
                "large). Press Reset and choose a smaller learning rate."
            )
        self._logits = logits
        det = logits.detach()
        probs = torch.softmax(det, dim=1)  # [B, K]
        result = ForwardResult(
            logits=det.clone(),
            probs=probs,
            predicted=probs.argmax(dim=1),
            shown=list(range(self.n_show)),
            input_shape=tuple(self.x.shape),
            output_shape=tuple(logits.shape),
        )
        return self._finish("forward", result)

    def compute_loss(self) -> LossResult:
        """loss = cross_entropy(logits, y): the batch mean of -log p(true class)."""
        self._enter("loss")
        assert self._logits is not None
        k = int(self._logits.shape[1])
        bad = self.y[(self.y < 0) | (self.y >= k)]
        if bad.numel():
            raise StepError(
                f"Label {int(bad[0])} is out of range: the model has {k} outputs (classes 0..{k - 1}). "
                "Match the last Linear layer's out_features to the number of classes."
            )
        loss = self.criterion(self._logits, self.y)
        if not torch.isfinite(loss):
            raise StepError("The loss is not a finite number; the model's outputs are too large.")
        self._loss = loss
        det = self._logits.detach()
        log_p = F.log_softmax(det, dim=1)  # [B, K]
        nll = -log_p.gather(1, self.y[:, None])[:, 0]  # [B]
        per_example = F.cross_entropy(
            det, self.y, reduction="none", label_smoothing=self.criterion.label_smoothing
        )  # [B]
        result = LossResult(float(loss.detach()), torch.exp(-nll), nll, per_example, self.y.clone(), k)
        return self._finish("loss", result)

    def backward(self) -> BackwardResult:
        """loss.backward(): autograd fills every parameter's .grad with d loss / d weight."""
        self._enter("backward")
        assert self._loss is not None
        self._loss.backward()
        self._loss, self._logits = None, None  # the graph is freed after backward
        w = self._param
        grad = w.grad if w.grad is not None else torch.zeros_like(w)
        norms = [
            (n, float(p.grad.norm()) if p.grad is not None else 0.0)
            for n, p in self._params.items()
            if p.requires_grad
        ]
        result = BackwardResult(
            weight=self.weight,
            value=float(w.detach()[self.weight.index]),
            grad=float(grad[self.weight.index]),
            kernel=self._kernel(w.detach()),
            kernel_grad=self._kernel(grad.detach()),
            grad_norms=norms,
        )
        return self._finish("backward", result)

    def optimizer_step(self) -> StepResult:
        """optimizer.step(): move every weight against its gradient; shows the chosen weight's update."""
        self._enter("step")
        w, idx = self._param, self.weight.index
        before_t = w.detach().clone()
        before = float(before_t[idx])
        grad = float(w.grad[idx]) if w.grad is not None else 0.0
        group = self._group()
        state_before = {k: _at(v, idx) for k, v in self.optimizer.state.get(w, {}).items()}
        self.optimizer.step()
        after = float(w.detach()[idx])
        state_after = {k: _at(v, idx) for k, v in self.optimizer.state.get(w, {}).items()}
        if self.kind == "sgd":
            rule = _sgd_rule(before, grad, group, state_before, state_after)
        else:
            rule = _adam_rule(self.kind, before, grad, group, state_before, state_after)
        notes = []
        if group["lr"] == 0:
            notes.append(
                "The learning rate is 0, so every update is 0 × (…) = 0: no weight moved. The gradient "
                "says which way to go; the learning rate says how far, and 0 means not at all."
            )
        elif grad == 0 and after == before:
            notes.append(
                "This weight's gradient is 0: nudging it would not change the loss for this batch, "
                "so the step leaves it where it was (try another weight)."
            )
        result = StepResult(
            weight=self.weight,
            before=before,
            grad=grad,
            after=after,
            rule=rule,
            kernel_before=self._kernel(before_t),
            kernel_after=self._kernel(w.detach()),
            notes=notes,
        )
        self.results.pop("reveal", None)
        return self._finish("step", result)

    # -- predict, then reveal ------------------------------------------------------------------
    def reveal_loss_after(self) -> RevealResult:
        """The loss on the same batch with the updated weights (same dropout masks, buffers untouched)."""
        step = self.results.get("step")
        loss = self.results.get("loss")
        if step is None or loss is None:
            raise StepError("Take the optimizer step first; then the new loss can be revealed.")
        if "reveal" in self.results:
            return self.results["reveal"]
        buffers = {n: b.clone() for n, b in self.model.named_buffers()}
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=[]):
                torch.manual_seed(self._forward_seed)  # the forward pass's dropout masks
                self.model.train()
                logits = self.model(self.x)  # [B, K]
                new_loss = F.cross_entropy(logits, self.y, label_smoothing=self.criterion.label_smoothing)
                p_after = torch.softmax(logits, dim=1).gather(1, self.y[:, None])[:, 0]  # [B]
        finally:
            with torch.no_grad():
                for n, b in self.model.named_buffers():
                    b.copy_(buffers[n])
        result = RevealResult(loss.loss, float(new_loss), loss.p_true.clone(), p_after)
        self.results["reveal"] = result
        return result

    # -- helpers -------------------------------------------------------------------------------
    def _mask_seed(self) -> int:
        # the round, not the rounds before, decides the masks: same seed -> same masks per round
        return self.seed * 1000 + self.round

    def _check_weight(self, ref: WeightRef) -> nn.Parameter:
        if not any(p.requires_grad for p in self._params.values()):
            default_weight(self.model)  # raises the "nothing to train" message
        p = self._params.get(ref.name)
        if p is None:
            names = ", ".join(n for n, _ in trainable_parameters(self.model))
            raise StepError(f"The model has no parameter {ref.name!r}; choose one of: {names}.")
        if not p.requires_grad:
            raise StepError(f"{ref.name} is frozen (requires_grad=False); choose a weight that trains.")
        if len(ref.index) != p.ndim or any(not 0 <= i < s for i, s in zip(ref.index, p.shape, strict=True)):
            raise StepError(f"Index {list(ref.index)} does not fit {ref.name}, shaped {list(p.shape)}.")
        return p

    def _check_optimizer(self) -> str:
        opt = self.optimizer
        if not any(self._param is p for g in opt.param_groups for p in g["params"]):
            raise StepError(f"The optimizer does not update {self.weight.name}.")
        group = self._group()
        if isinstance(opt, torch.optim.SGD):
            if group.get("dampening", 0) != 0 or group.get("maximize", False):
                raise StepError("Slow motion shows SGD without dampening or maximize.")
            return "sgd"
        if isinstance(opt, torch.optim.Adam | torch.optim.AdamW):
            if group.get("amsgrad", False) or group.get("maximize", False):
                raise StepError("Slow motion shows Adam without amsgrad or maximize.")
            decoupled = isinstance(opt, torch.optim.AdamW) or group.get("decoupled_weight_decay", False)
            return "adamw" if decoupled else "adam"
        raise StepError(f"Slow motion shows SGD, Adam and AdamW, not {type(opt).__name__}.")

    def _group(self) -> dict[str, Any]:
        for g in self.optimizer.param_groups:
            if any(self._param is p for p in g["params"]):
                return g
        raise StepError(f"The optimizer does not update {self.weight.name}.")  # pragma: no cover

    def _kernel(self, t: torch.Tensor) -> torch.Tensor | None:
        """The [kH, kW] kernel slice holding the chosen weight, for conv weights."""
        if t.ndim != 4:
            return None
        o, i = self.weight.index[:2]
        return t[o, i].detach().clone()


# ----------------------------------------------------------------------------------------------
# Update rules written with numbers


def _sgd_rule(
    w: float, grad: float, group: dict[str, Any], before: dict[str, float], after: dict[str, float]
) -> UpdateRule:
    lr, mu, wd, nesterov = group["lr"], group["momentum"], group["weight_decay"], group["nesterov"]
    terms: dict[str, float] = {"w": w, "grad": grad, "lr": lr}
    lines: list[str] = []
    g = grad
    if wd:
        g = grad + wd * w
        terms.update(weight_decay=wd, g=g)
        lines.append(rf"g = \nabla_w L + \lambda w = {_f(grad)} + {_f(wd)} \times {_n(w)} = {_f(g)}")
    else:
        lines.append(rf"g = \nabla_w L = {_f(g)}")
    d = g
    if mu:
        buf_old = before.get("momentum_buffer")
        buf = after["momentum_buffer"]  # torch's buffer after the step
        terms.update(momentum=mu, buffer=buf)
        if buf_old is None:
            lines.append(rf"b = g = {_f(buf)} \quad\text{{(first step: the buffer starts as the gradient)}}")
        else:
            terms["buffer_before"] = buf_old
            lines.append(rf"b \leftarrow \mu b + g = {_f(mu)} \times {_n(buf_old)} + {_n(g)} = {_f(buf)}")
        d = buf
        if nesterov:
            d = g + mu * buf
            terms["direction"] = d
            lines.append(rf"d = g + \mu b = {_f(g)} + {_f(mu)} \times {_n(buf)} = {_f(d)}")
    predicted = w - lr * d
    sym = "d" if (mu and nesterov) else ("b" if mu else "g")
    lines.append(rf"w \leftarrow w - \eta\,{sym} = {_f(w)} - {_f(lr)} \times {_n(d)} = {_f(predicted, 8)}")
    return UpdateRule("sgd", lines, terms, predicted)


def _adam_rule(
    kind: str, w: float, grad: float, group: dict[str, Any], before: dict[str, float], after: dict[str, float]
) -> UpdateRule:
    lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    t = int(after["step"])
    m_old, v_old = before.get("exp_avg", 0.0), before.get("exp_avg_sq", 0.0)
    m, v = after["exp_avg"], after["exp_avg_sq"]  # torch's moment estimates after the step
    terms: dict[str, float] = {"w": w, "grad": grad, "lr": lr, "beta1": b1, "beta2": b2, "eps": eps, "t": t}
    lines: list[str] = []
    g, w0 = grad, w
    if wd and kind == "adamw":
        w0 = w * (1 - lr * wd)
        terms.update(weight_decay=wd, w_decayed=w0)
        lines.append(
            rf"w \leftarrow w\,(1 - \eta\lambda) = {_f(w)} \times (1 - {_f(lr)} \times {_f(wd)}) = {_f(w0)}"
        )
    elif wd:
        g = grad + wd * w
        terms.update(weight_decay=wd)
        lines.append(
            rf"g = \nabla_w L + \lambda w = {_f(grad)} + {_f(wd)} \times {_n(w)} = {_f(g)}, \quad t = {t}"
        )
    if not (wd and kind == "adam"):
        lines.append(rf"g = \nabla_w L = {_f(g)}, \quad t = {t}")
    terms["g"] = g
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    predicted = w0 - lr * m_hat / (math.sqrt(v_hat) + eps)
    terms.update(m_before=m_old, v_before=v_old, m=m, v=v, m_hat=m_hat, v_hat=v_hat)
    lines += [
        rf"m \leftarrow \beta_1 m + (1-\beta_1)\,g = {_f(b1)} \times {_n(m_old)} + {_f(1 - b1)} \times {_n(g)} = {_f(m)}",
        rf"v \leftarrow \beta_2 v + (1-\beta_2)\,g^2 = {_f(b2)} \times {_n(v_old)} + {_f(1 - b2)} \times {_n(g)}^2 = {_f(v)}",
        rf"\hat m = \frac{{m}}{{1-\beta_1^{{t}}}} = \frac{{{_f(m)}}}{{1 - {_f(b1)}^{{{t}}}}} = {_f(m_hat)}, \quad"
        rf"\hat v = \frac{{v}}{{1-\beta_2^{{t}}}} = \frac{{{_f(v)}}}{{1 - {_f(b2)}^{{{t}}}}} = {_f(v_hat)}",
        rf"w \leftarrow w - \eta\,\frac{{\hat m}}{{\sqrt{{\hat v}} + \epsilon}} = {_f(w0)} - {_f(lr)} \times "
        rf"\frac{{{_f(m_hat)}}}{{\sqrt{{{_f(v_hat)}}} + {_f(eps)}}} = {_f(predicted, 8)}",
    ]
    return UpdateRule(kind, lines, terms, predicted)


# ----------------------------------------------------------------------------------------------
# Checks and formatting


def _check_batch(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise StepError("The batch must be two tensors: images x [B, C, H, W] and labels y [B].")
    if x.ndim != 4:
        raise StepError(
            f"The images must be a 4-D batch [batch, channels, height, width]; got shape {list(x.shape)}."
        )
    if x.shape[0] == 0:
        raise StepError("The batch is empty: it needs at least one image.")
    if not x.is_floating_point():
        raise StepError(f"The images must be normalised floats, not {x.dtype}; normalise the pixels first.")
    if not torch.isfinite(x).all():
        raise StepError("The images contain NaN or infinity.")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise StepError(
            f"Expected one label per image, shaped [{x.shape[0]}]; got labels shaped {list(y.shape)}."
        )
    if y.is_floating_point() or y.dtype == torch.bool:
        raise StepError(f"Labels must be whole-number class indices, not {y.dtype}.")
    return x.detach(), y.long()


def _at(value: Any, idx: tuple[int, ...]) -> float:
    """A state entry at the chosen index (per-parameter tensors) or as is (scalars such as Adam's step)."""
    if isinstance(value, torch.Tensor):
        return float(value[idx]) if value.ndim else float(value)
    return float(value)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _f(x: float, digits: int = 6) -> str:
    """A number for LaTeX: `digits` significant digits, scientific notation as a × 10^k."""
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    if "e" in s:
        mant, exp = s.split("e")
        return rf"{mant} \times 10^{{{int(exp)}}}"
    return s


def _n(x: float, digits: int = 6) -> str:
    """Like _f, with parentheses around a negative number (for use after an operator)."""
    s = _f(x, digits)
    return f"({s})" if x < 0 else s


def fmt(x: float, digits: int = 6) -> str:
    """A number as plain text with `digits` significant digits (for metrics and tables)."""
    return f"{x:.{digits}g}"


# ----------------------------------------------------------------------------------------------
# From the app's model spec and dataset


def weight_from_flat(name: str, shape: Sequence[int], flat: int) -> WeightRef:
    """The weight at position `flat` of a parameter shaped `shape` counted in row-major order."""
    numel = math.prod(shape)
    if not 0 <= int(flat) < numel:
        raise StepError(f"{name} has {numel} weights: pick a position from 0 to {numel - 1}.")
    index = []
    rest = int(flat)
    for size in reversed(shape):
        rest, i = divmod(rest, size)
        index.append(i)
    return WeightRef(name, tuple(reversed(index)))


@dataclass
class SlowStepSetup:
    """A SlowStep built from a model spec and a dataset, with the batch it steps on."""

    slow: SlowStep
    batch: BatchView
    spec: Any  # the ModelSpec actually built (adapted to the dataset when needed)
    adapted: bool  # True: the spec's input shape or class count was changed to fit the dataset
    classes: list[str]


def setup_slow_step(
    spec: Any,
    bundle: Any,
    batch_size: int = 16,
    shuffle: bool = True,
    seed: int = 0,
    settings: OptimizerSettings | None = None,
    weight: WeightRef | None = None,
    n_show: int = 4,
) -> SlowStepSetup:
    """Build the model (seeded init) and the DataLoader's first batch, and wrap them in a SlowStep.

    spec: a ModelSpec, its dict, or None (the default preset). bundle: a cnnlib.data.DatasetBundle.
    A spec made for other images or another number of classes is adapted to the dataset; one that
    cannot be raises StepError with the reason.
    """
    from cnnlib.data import normalize
    from cnnlib.presets import DEFAULT_PRESET, PRESETS
    from cnnlib.spec import ModelSpec, SpecError, adapt_to_dataset, build_model

    try:
        if spec is None:
            spec = PRESETS[DEFAULT_PRESET]
        elif isinstance(spec, dict):
            spec = ModelSpec.from_dict(spec)
        fitted = adapt_to_dataset(spec, bundle.input_shape, len(bundle.classes))
        adapted = fitted.to_dict() != spec.to_dict()
        with torch.random.fork_rng(devices=[]):  # seeded init, others' RNG untouched
            torch.manual_seed(int(seed))
            model = build_model(fitted)
    except SpecError as exc:
        raise StepError(f"The session's model does not fit the {bundle.name} images: {exc}") from exc
    batch = first_batch(bundle.train_images, bundle.train_labels, batch_size, shuffle, seed)
    x = normalize(batch.images, bundle)  # [B, C, H, W] float
    slow = SlowStep(
        model, x, batch.labels, settings or OptimizerSettings(), weight=weight, n_show=n_show, seed=seed
    )
    return SlowStepSetup(slow, batch, fitted, adapted, list(bundle.classes))


def parameter_labels(model: nn.Module) -> dict[str, str]:
    """Friendly names for trainable parameters: "conv1.weight · layer 0 · [4, 1, 3, 3]"."""
    counts: dict[str, int] = {}
    short = {"Conv2d": "conv", "Linear": "fc", "BatchNorm2d": "bn", "ConvTranspose2d": "deconv"}
    module_names: dict[str, str] = {}
    for mod_name, mod in model.named_modules():
        kind = short.get(type(mod).__name__)
        if kind and mod_name:
            counts[kind] = counts.get(kind, 0) + 1
            module_names[mod_name] = f"{kind}{counts[kind]}"
    labels = {}
    for name, shape in trainable_parameters(model):
        mod_name, _, attr = name.rpartition(".")
        nice = module_names.get(mod_name, mod_name or "model")
        where = f" · layer {mod_name}" if mod_name.isdigit() else ""
        labels[name] = f"{nice}.{attr}{where} · {list(shape)}"
    return labels


def weight_title(model: nn.Module, ref: WeightRef) -> str:
    """A weight with its friendly layer name, e.g. "conv1.weight[0, 0, 0, 0]"."""
    nice = parameter_labels(model).get(ref.name, ref.name).split(" · ")[0]
    return f"{nice}[{', '.join(str(i) for i in ref.index)}]"
