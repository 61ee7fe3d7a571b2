"""What each slow-motion step records, and the formulas that explain it, with torch's numbers put in.

One dataclass per step (`ZeroGradResult`, `ForwardResult`, `LossResult`, `BackwardResult`,
`StepResult`, then `RevealResult` for the loss after the update). `ForwardResult.softmax_latex`,
`LossResult.latex` and the update rules (`sgd_rule`, `adam_rule`, returning an `UpdateRule`) write
the formulas as LaTeX with the very numbers torch computed; `fmt` formats a number as plain text.
Nothing here runs a model: `cnnlib.training.one_step.run.SlowStep` fills these in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from cnnlib.training.one_step.settings import WeightRef

__all__ = ["fmt"]


@dataclass
class ZeroGradResult:
    grad_before: float | None  # the chosen weight's .grad before clearing (None: there was none)
    cleared: int  # how many parameter tensors had a gradient to clear
    round: int


EXP_LIMIT = 700.0  # e^710 overflows a float64 (math.exp raises); e^-745 underflows to 0


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
        p = float(exps[true_class] / exps.sum())
        top = float(z.max())
        if abs(top) > EXP_LIMIT:  # e^z overflows a float (a blown-up network): show the shifted powers
            shift = _n(top, 4)
            return (
                rf"p_{{{true_class}}} = \frac{{e^{{z_{{{true_class}}} - {shift}}}}}"
                rf"{{\sum_{{j=0}}^{{{k - 1}}} e^{{z_j - {shift}}}}}"
                rf" = \frac{{{_f(float(exps[true_class]), 4)}}}{{{_f(float(exps.sum()), 4)}}} = {_f(p, 4)}"
                r"\quad\text{(every logit minus the largest: the same ratio, powers a float can hold)}"
            )
        denom = float(torch.exp(z).sum())
        num = math.exp(float(z[true_class]))
        terms = " + ".join(f"e^{{{_f(float(v), 4)}}}" for v in z[: min(k, 3)])
        if k > 3:
            terms += r" + \cdots"
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
# Update rules written with numbers


def sgd_rule(
    w: float, grad: float, group: dict[str, Any], before: dict[str, float], after: dict[str, float]
) -> UpdateRule:
    """torch.optim.SGD's update of weight `w` (momentum, Nesterov, weight decay), from its state before/after."""
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


def adam_rule(
    kind: str, w: float, grad: float, group: dict[str, Any], before: dict[str, float], after: dict[str, float]
) -> UpdateRule:
    """Adam's or AdamW's (`kind`) update of weight `w`, from the moments torch holds before/after the step."""
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
# Formatting


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
