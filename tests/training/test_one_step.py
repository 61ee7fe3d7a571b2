"""cnnlib.training.one_step: the five steps in slow motion, checked against a plain PyTorch training step."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cnnlib.plots.step import TRUE_COLOR
from cnnlib.training.one_step import (
    STEPS,
    OptimizerSettings,
    SlowStep,
    StepError,
    WeightRef,
    default_weight,
    first_batch,
    trainable_parameters,
)


def make_model(
    seed: int = 0, channels: int = 1, classes: int = 5, kernel: int = 3, bn: bool = False
) -> nn.Module:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Conv2d(channels, 3, kernel, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(3))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 4 * 4, classes)]
    return nn.Sequential(*layers)


def make_batch(
    seed: int = 0, b: int = 6, channels: int = 1, classes: int = 5
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, channels, 8, 8, generator=g)  # [B, C, 8, 8]
    y = torch.randint(0, classes, (b,), generator=g)  # [B]
    return x, y


def reference_optimizer(settings: OptimizerSettings, model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer a plain training loop would build, written out independently."""
    if settings.name == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=settings.lr,
            momentum=settings.momentum,
            weight_decay=settings.weight_decay,
            nesterov=settings.nesterov,
        )
    cls = torch.optim.Adam if settings.name == "adam" else torch.optim.AdamW
    return cls(
        model.parameters(),
        lr=settings.lr,
        betas=settings.betas,
        eps=settings.eps,
        weight_decay=settings.weight_decay,
    )


SETTINGS = [
    OptimizerSettings("sgd", lr=0.1),
    OptimizerSettings("sgd", lr=0.05, momentum=0.9),
    OptimizerSettings("sgd", lr=0.05, momentum=0.8, weight_decay=0.01),
    OptimizerSettings("sgd", lr=0.02, momentum=0.9, nesterov=True, weight_decay=1e-3),
    OptimizerSettings("adam", lr=0.01),
    OptimizerSettings("adam", lr=0.003, weight_decay=0.05, betas=(0.8, 0.99)),
    OptimizerSettings("adamw", lr=0.01, weight_decay=0.1),
]


def _close(a: float, b: float, rel: float = 1e-5, abs_: float = 1e-7) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@pytest.mark.parametrize(
    "settings", SETTINGS, ids=lambda s: f"{s.name}-m{s.momentum}-wd{s.weight_decay}-n{s.nesterov}"
)
def test_every_step_matches_a_plain_torch_training_loop(settings):
    """Three rounds; every shown number equals what the reference loop computes."""
    for case in range(2):
        model = make_model(seed=case)
        ref = copy.deepcopy(model)
        x, y = make_batch(seed=case)
        names = [n for n, _ in trainable_parameters(model)]
        name = names[case % len(names)]
        shape = dict(model.named_parameters())[name].shape
        index = tuple(int(torch.randint(0, s, (1,))) for s in shape)
        slow = SlowStep(model, x, y, settings, weight=WeightRef(name, index))
        ref_opt = reference_optimizer(settings, ref)
        ref_param = dict(ref.named_parameters())[name]
        for _round in range(3):
            slow.zero_grad()
            ref_opt.zero_grad()
            fwd = slow.forward()
            ref_logits = ref(x)
            torch.testing.assert_close(fwd.logits, ref_logits.detach())
            torch.testing.assert_close(fwd.probs, torch.softmax(ref_logits.detach(), dim=1))
            assert fwd.output_shape == (6, 5) and fwd.input_shape == (6, 1, 8, 8)
            loss = slow.compute_loss()
            ref_loss = F.cross_entropy(ref_logits, y)
            assert loss.loss == pytest.approx(ref_loss.item(), rel=1e-6)
            assert float(loss.nll_true.mean()) == pytest.approx(loss.loss, rel=1e-5)
            p = torch.softmax(ref_logits.detach(), dim=1)[torch.arange(6), y]
            torch.testing.assert_close(loss.p_true, p)
            torch.testing.assert_close(loss.nll_true, -torch.log(p))
            back = slow.backward()
            ref_loss.backward()
            assert back.grad == float(ref_param.grad[index])
            assert back.value == float(ref_param.detach()[index])
            before_all = {n: q.detach().clone() for n, q in model.named_parameters()}
            step = slow.optimizer_step()
            ref_opt.step()
            actual = dict(model.named_parameters())[name].detach()
            # the shown values are the model's, and equal the reference loop's
            assert step.after == float(actual[index]) == float(ref_param.detach()[index])
            assert step.before == float(before_all[name][index])
            assert step.change == float(actual[index]) - float(before_all[name][index])
            # the rule written with numbers gives the actual new weight
            assert _close(step.rule.predicted_after, step.after), (step.rule.lines, step.after)
            # the whole model moved as in the reference loop
            for n, q in ref.named_parameters():
                torch.testing.assert_close(dict(model.named_parameters())[n], q)
            _check_rule_terms(settings, step, ref_opt, ref_param, index)


def _check_rule_terms(settings, step, ref_opt, ref_param, index):
    terms = step.rule.terms
    state = ref_opt.state[ref_param]
    assert terms["lr"] == settings.lr and terms["grad"] == step.grad and terms["w"] == step.before
    if settings.name == "sgd":
        if settings.momentum:
            assert terms["buffer"] == float(state["momentum_buffer"][index])
    else:
        assert terms["m"] == float(state["exp_avg"][index])
        assert terms["v"] == float(state["exp_avg_sq"][index])
        t = int(state["step"])
        assert terms["t"] == t
        assert _close(terms["m_hat"], terms["m"] / (1 - settings.betas[0] ** t))
        assert _close(terms["v_hat"], terms["v"] / (1 - settings.betas[1] ** t))
    # the last LaTeX line ends with the result
    shown = f"{step.rule.predicted_after:.8g}"
    if "e" not in shown:
        assert step.rule.lines[-1].endswith(f"= {shown}")


def test_sgd_without_momentum_is_w_minus_lr_grad():
    model = make_model()
    x, y = make_batch()
    slow = SlowStep(model, x, y, OptimizerSettings("sgd", lr=0.1))
    for name in STEPS:
        res = slow.run(name)
    assert res.after == pytest.approx(res.before - 0.1 * res.grad, rel=1e-5, abs=1e-7)
    assert "0.1 \\times" in res.rule.lines[-1]


def test_adam_first_step_moves_about_lr():
    """Adam's first step: m̂ = g and v̂ = g², so the change is lr·g/(|g|+eps), about ±lr."""
    model = make_model()
    x, y = make_batch()
    slow = SlowStep(model, x, y, OptimizerSettings("adam", lr=0.01))
    for name in STEPS:
        res = slow.run(name)
    assert res.grad != 0
    assert abs(res.change) == pytest.approx(0.01, rel=1e-3)
    assert math.copysign(1, res.change) == -math.copysign(1, res.grad)
    assert res.rule.terms["m_hat"] == pytest.approx(res.grad, rel=1e-5)


def test_default_weight_is_first_conv_kernel():
    model = make_model()
    assert default_weight(model) == WeightRef("0.weight", (0, 0, 0, 0))
    lin = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    assert default_weight(lin) == WeightRef("1.weight", (0, 0))
    x, y = make_batch()
    slow = SlowStep(model, x, y)
    for name in STEPS[:4]:
        res = slow.run(name)
    torch.testing.assert_close(res.kernel, model[0].weight[0, 0].detach())
    torch.testing.assert_close(res.kernel_grad, model[0].weight.grad[0, 0])
    assert [n for n, _ in res.grad_norms] == ["0.weight", "0.bias", "4.weight", "4.bias"]


def test_out_of_order_steps_raise_and_change_nothing():
    model = make_model()
    x, y = make_batch()
    slow = SlowStep(model, x, y)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(StepError, match="do the forward pass first|zero the gradients first"):
        slow.compute_loss()
    slow.zero_grad()
    with pytest.raises(StepError, match="Can't compute the loss yet: do the forward pass first"):
        slow.compute_loss()
    with pytest.raises(StepError, match="Can't take the optimizer step yet: do the forward pass first"):
        slow.optimizer_step()
    with pytest.raises(StepError, match="already done"):
        slow.zero_grad()
    slow.forward()
    with pytest.raises(StepError, match="do the backward pass|compute the loss first"):
        slow.backward()
    slow.compute_loss()
    with pytest.raises(StepError, match="do the backward pass first"):
        slow.optimizer_step()
    with pytest.raises(StepError, match="Unknown step"):
        slow.run("jump")
    assert slow.next_step == "backward" and slow.done == ["zero_grad", "forward", "loss"]
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k])
    slow.backward()
    slow.optimizer_step()
    assert slow.next_step == "zero_grad" and slow.round == 2
    with pytest.raises(StepError, match="zero the gradients first"):
        slow.forward()


def test_second_round_zero_grad_reports_the_old_gradient():
    model = make_model()
    x, y = make_batch()
    slow = SlowStep(model, x, y, OptimizerSettings("sgd", lr=0.1, momentum=0.9))
    first = slow.zero_grad()
    assert first.grad_before is None and first.cleared == 0 and first.round == 1
    for name in STEPS[1:]:
        back = slow.run(name)
    second = slow.zero_grad()
    assert second.grad_before == back.grad and second.cleared == 4 and second.round == 2
    assert all(p.grad is None for p in model.parameters())
    assert "forward" not in slow.results and "step" not in slow.results


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_learning_rate_zero_changes_no_weight_and_says_why(name):
    model = make_model()
    x, y = make_batch()
    before = copy.deepcopy(model.state_dict())
    slow = SlowStep(
        model, x, y, OptimizerSettings(name, lr=0.0, momentum=0.9 if name == "sgd" else 0.0, weight_decay=0.1)
    )
    for step in STEPS:
        res = slow.run(step)
    assert res.grad != 0
    assert res.after == res.before and res.change == 0.0 and res.rule.predicted_after == res.before
    assert any("learning rate is 0" in note for note in res.notes)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (torch.zeros(0, 1, 8, 8), torch.zeros(0, dtype=torch.long), "empty"),
        (torch.zeros(1, 8, 8), torch.zeros(1, dtype=torch.long), "4-D batch"),
        (torch.zeros(2, 1, 1, 8, 8), torch.zeros(2, dtype=torch.long), "4-D batch"),
        (torch.zeros(2, 1, 8, 8, dtype=torch.uint8), torch.zeros(2, dtype=torch.long), "normalise"),
        (torch.full((2, 1, 8, 8), float("nan")), torch.zeros(2, dtype=torch.long), "NaN"),
        (torch.zeros(2, 1, 8, 8), torch.zeros(3, dtype=torch.long), "one label per image"),
        (torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, dtype=torch.long), "one label per image"),
        (torch.zeros(2, 1, 8, 8), torch.zeros(2), "whole-number"),
        ([[0.0]], torch.zeros(1, dtype=torch.long), "two tensors"),
    ],
)
def test_bad_batches_are_refused_clearly(x, y, message):
    with pytest.raises(StepError, match=message):
        SlowStep(make_model(), x, y)


def test_batch_the_model_cannot_take_fails_at_forward_without_advancing():
    model = make_model(channels=1)
    x, y = make_batch(channels=3)  # 3 channels into a 1-channel conv
    slow = SlowStep(model, x, y)
    slow.zero_grad()
    with pytest.raises(StepError, match=r"cannot take this batch shaped \[6, 3, 8, 8\]"):
        slow.forward()
    assert slow.next_step == "forward"
    x16 = torch.randn(2, 1, 16, 16)  # wrong height/width for the Linear
    slow = SlowStep(make_model(), x16, torch.zeros(2, dtype=torch.long))
    slow.zero_grad()
    with pytest.raises(StepError, match="cannot take"):
        slow.forward()


def test_labels_out_of_range_and_bad_outputs():
    x, y = make_batch(classes=9)
    y[0] = 8
    slow = SlowStep(make_model(classes=5), x, y)
    slow.zero_grad()
    slow.forward()
    with pytest.raises(StepError, match="Label 8 is out of range: the model has 5 outputs"):
        slow.compute_loss()
    assert slow.next_step == "loss"
    conv_only = nn.Sequential(nn.Conv2d(1, 2, 3))
    slow = SlowStep(conv_only, *make_batch())
    slow.zero_grad()
    with pytest.raises(StepError, match="one row of class scores per image"):
        slow.forward()
    one = nn.Sequential(nn.Flatten(), nn.Linear(64, 1))
    slow = SlowStep(one, *make_batch())
    slow.zero_grad()
    with pytest.raises(StepError, match="≥ 2 classes"):
        slow.forward()


def test_model_without_trainable_parameters_is_refused():
    x, y = make_batch()
    with pytest.raises(StepError, match="no parameters that require a gradient"):
        SlowStep(nn.Sequential(nn.Flatten()), x, y)
    frozen = make_model()
    for p in frozen.parameters():
        p.requires_grad_(False)
    with pytest.raises(StepError, match="no parameters that require a gradient"):
        SlowStep(frozen, x, y)
    partly = make_model()
    partly[0].weight.requires_grad_(False)
    with pytest.raises(StepError, match="frozen"):
        SlowStep(partly, x, y, weight=WeightRef("0.weight", (0, 0, 0, 0)))
    assert default_weight(partly) == WeightRef("0.bias", (0,))


def test_bad_weight_choices():
    x, y = make_batch()
    with pytest.raises(StepError, match="no parameter 'conv9.weight'"):
        SlowStep(make_model(), x, y, weight=WeightRef("conv9.weight", (0,)))
    with pytest.raises(StepError, match="does not fit 0.weight"):
        SlowStep(make_model(), x, y, weight=WeightRef("0.weight", (3, 0, 0, 0)))
    with pytest.raises(StepError, match="does not fit"):
        SlowStep(make_model(), x, y, weight=WeightRef("0.weight", (0, 0)))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (OptimizerSettings("sgd", lr=-0.1), "learning rate"),
        (OptimizerSettings("sgd", lr=float("nan")), "learning rate"),
        (OptimizerSettings("sgd", lr=float("inf")), "learning rate"),
        (OptimizerSettings("sgd", momentum=1.0), "Momentum"),
        (OptimizerSettings("sgd", momentum=-0.5), "Momentum"),
        (OptimizerSettings("sgd", nesterov=True), "Nesterov"),
        (OptimizerSettings("sgd", weight_decay=-1), "Weight decay"),
        (OptimizerSettings("adam", betas=(1.0, 0.999)), "betas"),
        (OptimizerSettings("adam", eps=0.0), "epsilon"),
        (OptimizerSettings("rmsprop"), "Unknown optimizer"),
    ],
)
def test_bad_optimizer_settings(settings, message):
    with pytest.raises(StepError, match=message):
        SlowStep(make_model(), *make_batch(), settings)


def test_optimizer_instances():
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    slow = SlowStep(model, *make_batch(), opt)
    assert slow.kind == "adam"
    for name in STEPS:
        res = slow.run(name)
    assert _close(res.rule.predicted_after, res.after)
    with pytest.raises(StepError, match="RMSprop"):
        other = make_model()
        SlowStep(other, *make_batch(), torch.optim.RMSprop(other.parameters()))
    m = make_model()
    with pytest.raises(StepError, match="does not update"):
        SlowStep(m, *make_batch(), torch.optim.SGD(m[-1].parameters(), lr=0.1))
    with pytest.raises(StepError, match="averaged"):
        SlowStep(make_model(), *make_batch(), criterion=nn.CrossEntropyLoss(reduction="sum"))


def test_zero_gradient_weight_is_explained():
    model = make_model()
    x, y = make_batch()
    with torch.no_grad():
        model[-1].weight[:, 0] = 0.0
    # a Linear input that is always 0 (weights of a dead feature) has zero gradient on its column:
    # make feature 0 dead by zeroing conv channel 0 and its bias below the ReLU
    with torch.no_grad():
        model[0].weight[0] = 0.0
        model[0].bias[0] = -1.0
    slow = SlowStep(model, x, y, weight=WeightRef("0.weight", (0, 0, 1, 1)))
    for name in STEPS:
        res = slow.run(name)
    assert res.grad == 0.0 and res.after == res.before
    assert any("gradient is 0" in n for n in res.notes)


def test_reveal_loss_after_matches_recomputation_and_keeps_buffers():
    model = make_model(bn=True)
    x, y = make_batch()
    slow = SlowStep(model, x, y, OptimizerSettings("sgd", lr=0.5))
    with pytest.raises(StepError, match="optimizer step first"):
        slow.reveal_loss_after()
    for name in STEPS:
        slow.run(name)
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    reveal = slow.reveal_loss_after()
    for n, b in model.named_buffers():
        assert torch.equal(b, buffers[n]), n
    ref = copy.deepcopy(model)
    ref.train()
    with torch.no_grad():
        expected = F.cross_entropy(ref(x), y)
    assert reveal.loss_after == pytest.approx(float(expected), rel=1e-6)
    assert reveal.loss_before == slow.results["loss"].loss
    assert reveal.went_down == (reveal.loss_after < reveal.loss_before)
    assert slow.reveal_loss_after() is reveal


def test_reveal_with_dropout_uses_the_same_masks():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 5))
    x, y = make_batch()
    slow = SlowStep(model, x, y, OptimizerSettings("sgd", lr=0.0))
    for name in STEPS:
        slow.run(name)
    reveal = slow.reveal_loss_after()
    assert reveal.loss_after == pytest.approx(reveal.loss_before, rel=1e-6)  # lr 0: same weights, same mask


def test_latex_shows_the_numbers():
    model = make_model()
    x, y = make_batch()
    slow = SlowStep(model, x, y)
    slow.zero_grad()
    fwd = slow.forward()
    loss = slow.compute_loss()
    tex = fwd.softmax_latex(0, int(y[0]))
    assert f"{float(loss.p_true[0]):.4g}" in tex
    assert f"{loss.loss:.6g}" in loss.latex()
    assert f"{float(loss.nll_true[0]):.4g}" in loss.latex()


def test_softmax_latex_of_a_blown_up_network():
    """Logits past e^709 (a Digit CNN stepped at learning rate 10 on one image) are shown shifted by
    the largest: math.exp raised OverflowError on the page."""
    from cnnlib.training.one_step.results import ForwardResult

    logits = torch.tensor([[1000.0, 990.0, -5.0], [-2000.0, -2010.0, -1990.0]])  # [2, 3]
    probs = torch.softmax(logits, dim=1)  # [2, 3]
    fwd = ForwardResult(logits, probs, probs.argmax(1), [0, 1], (3,), (3,))
    tex = fwd.softmax_latex(0, 1)
    assert "z_{1} - 1000" in tex and r"= 4.54 \times 10^{-5}" in tex  # p = e^-10 / (1 + e^-10 + e^-1005)
    tex = fwd.softmax_latex(1, 2)  # every e^z below e^-745 (0 in a float): shifted too
    assert "z_j - (-1990)" in tex and tex.split("=")[-1].startswith(" 1")


# ----------------------------------------------------------------------------------------------
# first_batch


def test_first_batch_without_shuffle_is_the_first_images():
    images = torch.arange(20, dtype=torch.uint8).reshape(20, 1, 1, 1).expand(20, 1, 2, 2).contiguous()
    labels = torch.arange(20) % 3
    view = first_batch(images, labels, 6, shuffle=False, seed=3)
    assert view.indices.tolist() == list(range(6))
    assert view.shape == (6, 1, 2, 2)
    assert view.labels.tolist() == labels[:6].tolist()
    assert view.batches_per_epoch == 4 and view.last_batch_size == 2
    assert view.label_counts(3) == [2, 2, 2]


def test_first_batch_with_shuffle_is_a_seeded_dataloaders_first_batch():
    images = torch.randint(0, 255, (50, 1, 3, 3), dtype=torch.uint8)
    labels = torch.randint(0, 4, (50,))
    for seed in range(5):
        view = first_batch(images, labels, 8, shuffle=True, seed=seed)
        loader = DataLoader(
            TensorDataset(images, labels),
            batch_size=8,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        xb, yb = next(iter(loader))
        assert torch.equal(view.images, xb) and torch.equal(view.labels, yb)
        assert torch.equal(images[view.indices], xb)
        assert sorted(set(view.indices.tolist())) == sorted(view.indices.tolist())  # no repeats
        again = first_batch(images, labels, 8, shuffle=True, seed=seed)
        assert torch.equal(again.indices, view.indices)
    assert not torch.equal(
        first_batch(images, labels, 8, True, 0).indices, first_batch(images, labels, 8, True, 1).indices
    )
    whole = first_batch(images, labels, 500, shuffle=True, seed=0)
    assert whole.shape[0] == 50 and sorted(whole.indices.tolist()) == list(range(50))
    assert whole.batches_per_epoch == 1


@pytest.mark.parametrize("bs", [0, -3, 2.5, True, "8"])
def test_first_batch_bad_batch_size(bs):
    with pytest.raises(StepError, match="batch size"):
        first_batch(torch.zeros(4, 1, 2, 2, dtype=torch.uint8), torch.zeros(4, dtype=torch.long), bs)


def test_first_batch_bad_data():
    with pytest.raises(StepError, match="empty"):
        first_batch(torch.zeros(0, 1, 2, 2), torch.zeros(0, dtype=torch.long), 4)
    with pytest.raises(StepError, match=r"\[N, C, H, W\]"):
        first_batch(torch.zeros(4, 2, 2), torch.zeros(4, dtype=torch.long), 4)
    with pytest.raises(StepError, match="labels"):
        first_batch(torch.zeros(4, 1, 2, 2), torch.zeros(3, dtype=torch.long), 4)


def test_huge_learning_rate_blows_up_with_a_clear_message():
    slow = SlowStep(make_model(), *make_batch(), OptimizerSettings("sgd", lr=1e30))
    for name in STEPS:
        slow.run(name)
    assert slow.reveal_loss_after().direction == "blew up"
    slow.zero_grad()
    with pytest.raises(StepError, match="learning rate was far too large"):
        slow.forward()
    assert slow.next_step == "forward"


# ----------------------------------------------------------------------------------------------
# figures and glossary


def test_step_figures_carry_the_numbers():
    from cnnlib import plots as plots_step

    slow = SlowStep(make_model(), *make_batch())
    for name in STEPS:
        slow.run(name)
    fwd, loss, back, step = (slow.results[k] for k in ("forward", "loss", "backward", "step"))
    classes = list("abcde")
    fig = plots_step.probs_figure(fwd.logits, fwd.probs, slow.y, classes, fwd.shown)
    assert len(fig.data) == len(fwd.shown)
    for trace, i in zip(fig.data, fwd.shown, strict=True):
        assert list(trace.y) == pytest.approx(fwd.probs[i].tolist())
        assert list(trace.customdata) == pytest.approx(fwd.logits[i].tolist())
        assert trace.marker.color[int(slow.y[i])] == TRUE_COLOR
    fig = plots_step.nll_figure(loss.nll_true, slow.y, classes, loss.loss)
    assert list(fig.data[0].y) == pytest.approx(loss.nll_true.tolist())
    assert fig.layout.shapes[0].y0 == loss.loss
    fig = plots_step.kernel_step_figure(step.kernel_before, back.kernel_grad, step.kernel_after, (0, 0))
    assert [t.z[0][0] for t in fig.data] == pytest.approx([step.before, back.grad, step.after])
    fig = plots_step.grad_norms_figure(back.grad_norms)
    assert list(fig.data[0].x) == pytest.approx([v for _, v in back.grad_norms])
    rev = slow.reveal_loss_after()
    fig = plots_step.loss_reveal_figure(rev.p_true_before, rev.p_true_after)
    assert list(fig.data[1].y) == pytest.approx(rev.p_true_after.tolist())


@pytest.mark.parametrize(("n", "channels"), [(1, 1), (16, 1), (32, 3), (40, 3)])
def test_batch_grid_shows_every_image_and_label(n, channels):
    from cnnlib.plots import batch_grid_figure

    images = torch.randint(0, 256, (n, channels, 12, 10), dtype=torch.uint8)
    labels = torch.randint(0, 3, (n,))
    fig = batch_grid_figure(images, labels, ["cat", "dog", "owl"])
    shown = min(n, 32)
    assert len(fig.layout.annotations) == shown
    assert fig.layout.annotations[0].text == f"0: <b>{['cat', 'dog', 'owl'][int(labels[0])]}</b>"
    canvas = fig.data[0].z  # the montage holds the first image's pixels unchanged
    first = images[0].expand(3, 12, 10).permute(1, 2, 0).numpy()
    label_h = max(8, 12 // 3)
    assert (canvas[label_h : label_h + 12, 0:10] == first).all()


def test_weight_from_flat_and_labels():
    from cnnlib.training.one_step import parameter_labels, weight_from_flat, weight_title

    for flat in range(36):
        ref = weight_from_flat("0.weight", (4, 1, 3, 3), flat)
        assert torch.arange(36).reshape(4, 1, 3, 3)[ref.index] == flat
    with pytest.raises(StepError, match="from 0 to 35"):
        weight_from_flat("0.weight", (4, 1, 3, 3), 36)
    model = make_model()
    labels = parameter_labels(model)
    assert labels["0.weight"].startswith("conv1.weight") and labels["4.bias"].startswith("fc1.bias")
    assert weight_title(model, WeightRef("4.weight", (2, 7))) == "fc1.weight[2, 7]"


def test_glossary_has_the_terms_in_plain_sentences():
    from cnnlib.glossary import GLOSSARY, lookup

    wanted = ["tensor", "channel", "feature map", "kernel", "stride", "padding", "logit", "softmax", "loss",
              "gradient", "epoch", "batch", "learning rate"]  # fmt: skip
    assert set(wanted) <= set(GLOSSARY)
    for term, text in GLOSSARY.items():
        assert 1 <= text.count(". ") + 1 <= 3 and text.endswith("."), term
        assert len(text) < 260, term
    assert lookup("  Learning Rate ") == GLOSSARY["learning rate"]
    with pytest.raises(KeyError, match="known terms"):
        lookup("hyperplane")
