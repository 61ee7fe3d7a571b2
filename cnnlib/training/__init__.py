"""Training: `TrainingRun` trains a model on a dataset in a background thread, and what comes after.

    run = TrainingRun(spec_or_model, load_dataset("shapes"), TrainConfig(epochs=3))
    run.start()
    snap = run.snapshot()          # a frozen, consistent copy of the metrics; poll it from the page
    run.stop()                     # takes effect within one batch; the model stays as it is
    run.wait(timeout=10)

This package's public face is this module; the modules inside it:

    run.py         TrainingRun: slots, the background thread, the run's state and snapshots;
                   `record()`: the trained model as a TrainedModel
    loop.py        the training loop itself, reporting by events
    tracking.py    what the loop tracks: progress and speed, early stopping
    worker.py      training in a forkserver child process (the default): events over a pipe
    config.py      TrainConfig, ConfigError, the demo's settings
    snapshot.py    RunSnapshot, the status names, LossCurve: the batch-loss history kept short
    optim.py       optimizers and learning-rate schedulers
    augment.py     vectorised augmentation on uint8 batches
    checks.py      a model's checks against the dataset (shape, classes, adaptation)
    advice.py      what a run's numbers mean: chance level, divergence, guessing
    slots.py       the process-wide limit on concurrent runs and its queue
    capacity.py    how many runs at once and where (process or thread), from the memory limit
    selection.py   which images and labels a run trains on: validation split, train_size, label_noise
    compare.py     "same run, but ...": two configs that differ in one setting, and which
    transfer.py    transfer learning: the digit model's layers, frozen or not, with a new head
    pair.py        ComparisonJob: the two runs of a comparison trained in turn, and their table
    evaluation.py  confusion matrix, per-class metrics, mistakes, filters, feature maps
    one_step/      one training step in slow motion (its own public face)
    link.py        the page's settings as a link (TRAINING_LINK)
    notebook.py    "Download as notebook": the run as a Jupyter notebook and its data, one zip

`TrainedModel` (a trained model's spec, weights, classes and statistics as plain data) lives in
cnnlib.trained (import it from there), where cnnlib.inference reads it too without an import circle.
"""

from __future__ import annotations

from cnnlib.training import (
    advice,
    augment,
    capacity,
    checks,
    config,
    evaluation,
    link,
    notebook,
    pair,
    run,
    selection,
    slots,
    snapshot,
    transfer,
    worker,
)
from cnnlib.training.advice import *  # noqa: F403
from cnnlib.training.augment import *  # noqa: F403
from cnnlib.training.capacity import *  # noqa: F403
from cnnlib.training.checks import *  # noqa: F403
from cnnlib.training.config import *  # noqa: F403
from cnnlib.training.evaluation import *  # noqa: F403
from cnnlib.training.link import *  # noqa: F403
from cnnlib.training.notebook import *  # noqa: F403
from cnnlib.training.pair import *  # noqa: F403
from cnnlib.training.run import *  # noqa: F403
from cnnlib.training.selection import *  # noqa: F403
from cnnlib.training.slots import *  # noqa: F403
from cnnlib.training.snapshot import *  # noqa: F403
from cnnlib.training.transfer import *  # noqa: F403
from cnnlib.training.worker import *  # noqa: F403

__all__ = [
    *advice.__all__,
    *augment.__all__,
    *capacity.__all__,
    *checks.__all__,
    *config.__all__,
    *evaluation.__all__,
    *link.__all__,
    *notebook.__all__,
    *pair.__all__,
    *run.__all__,
    *selection.__all__,
    *slots.__all__,
    *snapshot.__all__,
    *transfer.__all__,
    *worker.__all__,
]
