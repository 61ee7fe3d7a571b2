"""One training step in slow motion: zero_grad, forward, loss, backward, optimizer step.

`SlowStep` holds a model, one batch, an optimizer and the cross-entropy criterion, and performs
the five steps of a PyTorch training loop one at a time, in order, recording what a student
should see at each: the logits and softmax probabilities, the loss built from each example's
-log p(true class), one chosen weight's value, gradient and update, and the update rule written
with the very numbers torch used (read back from the optimizer's state).

`first_batch` shows what a DataLoader's batch size and shuffle change: the first batch it yields.
Every number here is computed by torch.

This package's public face is this module; the modules inside it:

    settings.py  STEPS, STEP_TITLES, STEP_CODE, StepError, OptimizerSettings, and the watched
                 weight: WeightRef, default_weight, weight_from_flat, weight_title
    results.py   what each step records (ForwardResult, LossResult, ...) and the formulas as
                 LaTeX with torch's numbers: softmax, loss, SGD and Adam update rules
    run.py       SlowStep: the five steps, in order, computed by torch
    modes.py     mode_comparison: what model.train() and model.eval() change (Dropout, BatchNorm2d)
    setup.py     first_batch (BatchView) and setup_slow_step (SlowStepSetup) for the app
"""

from __future__ import annotations

from cnnlib.training.one_step import modes, results, run, settings, setup
from cnnlib.training.one_step.modes import *  # noqa: F403
from cnnlib.training.one_step.results import *  # noqa: F403
from cnnlib.training.one_step.run import *  # noqa: F403
from cnnlib.training.one_step.settings import *  # noqa: F403
from cnnlib.training.one_step.setup import *  # noqa: F403

__all__ = [*modes.__all__, *results.__all__, *run.__all__, *settings.__all__, *setup.__all__]
