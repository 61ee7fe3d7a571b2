"""`SlowStep`: one training iteration run one step at a time (zero_grad, forward, loss, backward, step).

It holds a model, one batch, an optimizer and the cross-entropy criterion, refuses a step out of
order with a message that says what comes first, and records what a student should see at each
step in the dataclasses of `cnnlib.training.one_step.results`, computed by torch. After the step, the loss
on the same batch (same dropout masks) can be revealed.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.training.one_step.results import (
    BackwardResult,
    ForwardResult,
    LossResult,
    RevealResult,
    StepResult,
    ZeroGradResult,
    adam_rule,
    sgd_rule,
)
from cnnlib.training.one_step.settings import (
    STEP_TITLES,
    STEPS,
    OptimizerSettings,
    StepError,
    WeightRef,
    default_weight,
    trainable_parameters,
    weight_title,
)

__all__ = ["SlowStep"]


_STEP_TODO: dict[str, str] = {
    "zero_grad": "zero the gradients",
    "forward": "do the forward pass",
    "loss": "compute the loss",
    "backward": "do the backward pass",
    "step": "take the optimizer step",
}


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
            rule = sgd_rule(before, grad, group, state_before, state_after)
        else:
            rule = adam_rule(self.kind, before, grad, group, state_before, state_after)
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
# Checks


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
