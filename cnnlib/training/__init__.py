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
    selection.py   which images and labels a run trains on: validation split, train_size, label_noise
    compare.py     "same run, but ...": two configs that differ in one setting, and which
    evaluation.py  confusion matrix, per-class metrics, mistakes, filters, feature maps
    one_step/      one training step in slow motion (its own public face)
    link.py        the page's settings as a link (TRAINING_LINK)

`TrainedModel` (a trained model's spec, weights, classes and statistics as plain data) is
re-exported from cnnlib.trained, where cnnlib.inference reads it too without an import circle.
"""

from __future__ import annotations

from cnnlib.trained import (
    TrainedModel,
)
from cnnlib.training.advice import (
    adaptation_notes,
    chance_accuracy,
    guessing_note,
    smaller_lr,
)
from cnnlib.training.augment import (
    augment_batch,
    augment_preview,
)
from cnnlib.training.checks import (
    check_model,
)
from cnnlib.training.compare import (
    COMPARABLE,
    Comparison,
    differences,
    same_run_but,
)
from cnnlib.training.config import (
    DEFAULT_DEMO,
    DEMO_DATASET,
    DEMO_SPEC,
    MIN_TRAIN_SIZE,
    ConfigError,
    TrainConfig,
)
from cnnlib.training.evaluation import (
    Evaluation,
    confusion_matrix,
    conv_feature_maps,
    cpu_state_dict,
    evaluate,
    evaluation_from_probabilities,
    export_weights,
    first_layer_filters,
    load_exported,
    overfitting_flag,
    per_class_metrics,
    predict_proba,
)
from cnnlib.training.link import (
    DEMO_MODEL,
    TRAINING_LINK,
)
from cnnlib.training.run import (
    TrainingRun,
)
from cnnlib.training.selection import (
    TrainingData,
    noisy_labels,
    stratified_subset,
    training_data,
)
from cnnlib.training.slots import (
    QueueRefused,
    SlotLimiter,
    cpu_cores,
    get_limiter,
)
from cnnlib.training.snapshot import (
    MAX_LOSS_POINTS,
    RunSnapshot,
)
from cnnlib.training.worker import (
    backend_default,
    prewarm,
)

__all__ = [
    "COMPARABLE",
    "Comparison",
    "differences",
    "same_run_but",
    "DEMO_MODEL",
    "backend_default",
    "prewarm",
    "TRAINING_LINK",
    "ConfigError",
    "DEFAULT_DEMO",
    "DEMO_DATASET",
    "DEMO_SPEC",
    "Evaluation",
    "MAX_LOSS_POINTS",
    "MIN_TRAIN_SIZE",
    "QueueRefused",
    "RunSnapshot",
    "SlotLimiter",
    "TrainConfig",
    "TrainedModel",
    "TrainingData",
    "TrainingRun",
    "adaptation_notes",
    "augment_batch",
    "augment_preview",
    "chance_accuracy",
    "check_model",
    "confusion_matrix",
    "conv_feature_maps",
    "cpu_cores",
    "cpu_state_dict",
    "evaluate",
    "evaluation_from_probabilities",
    "export_weights",
    "first_layer_filters",
    "get_limiter",
    "guessing_note",
    "load_exported",
    "noisy_labels",
    "overfitting_flag",
    "per_class_metrics",
    "predict_proba",
    "smaller_lr",
    "stratified_subset",
    "training_data",
]
