"""Training page, the settings' words: the names a choice shows and the help a student reads on
hovering a setting's "?" (a sentence or two)."""

from __future__ import annotations

SCHEDULERS = {
    "none": "none (constant)",
    "step": "StepLR",
    "cosine": "cosine",
    "onecycle": "one-cycle",
}
AUGMENTS = {
    "rotate": "rotate ±15°",
    "shift": "shift ±10%",
    "flip": "flip left-right",
    "color": "colour jitter",
}
HELP = {
    "optimizer": "How the weights move downhill. SGD: straight against the gradient, with momentum. Adam: "
    "its own step size for every weight, a good default. AdamW: Adam with weight decay done properly.",
    "lr": "The size of each step. Adam: about 0.001; SGD: 0.01 to 0.1. Too large and the loss blows up "
    "(the run stops and says so); too small and it creeps.",
    "batch_size": "How many images the network sees before each weight update.",
    "epochs": "Passes over all the training images.",
    "weight_decay": "Pulls every weight a little towards 0 at each step, against overfitting (try 1e-4).",
    "scheduler": "Changes the learning rate during training. StepLR: halve it every 5 epochs. Cosine: "
    "glide smoothly down to 0. One-cycle: warm up to the learning rate, then glide down (fast and robust).",
    "label_smoothing": "Trains towards 90% sure instead of 100% (at 0.1): a model that is less over-confident.",
    "val_fraction": "Share of the training images held out to measure validation loss and accuracy.",
    "patience": "Epochs without a better validation loss before training stops and keeps the best weights.",
    "seed": "Fixes the random start: the same seed and settings train the same model again.",
    "device": "auto uses a GPU (CUDA or Apple MPS) when the server has one, else the CPU.",
    "augment": "Random changes to every training image, new each epoch: the model must learn shapes, not pixels.",
    "train_size": "Train on fewer images: this many of the training images, the same share of each class "
    "(the validation images stay the same). 0: all of them; else at least 20. A few hundred images are easy to learn by "
    "heart: watch the validation curve part from the training one.",
    "label_noise": "Shuffle some labels: this share of the training images gets a random class instead of its "
    "own (validation and test keep the true ones). Can the network memorise nonsense? At 1 the training "
    "accuracy climbs while validation stays at chance.",
}
