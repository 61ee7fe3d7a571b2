"""The glossary: the words of CNNs and training, each in one or two plain sentences for a beginner.

`GLOSSARY` maps a term (lower case, its singular) to its entry; `FORMS` adds the other spellings a
page may use (British and American, a layer's PyTorch name). cnnlib.terms finds these words in a
page's text and links them to their entries.
"""

from __future__ import annotations

__all__ = ["GLOSSARY", "FORMS", "TITLES", "lookup", "title", "anchor"]


GLOSSARY: dict[str, str] = {
    "tensor": (
        "A grid of numbers with any number of dimensions, PyTorch's basic data type. A batch of images "
        "is a 4-D tensor shaped [batch, channels, height, width]."
    ),
    "channel": (
        "One layer of numbers stacked in an image or feature map: a grey image has 1 channel, a colour "
        "image 3 (red, green, blue), and a conv layer makes one output channel per kernel."
    ),
    "kernel": (
        "A small grid of weights, such as 3×3 (one grid per input channel), that slides over the input; at "
        "each position it multiplies the values under it by its weights and adds them up. A CNN learns its kernels."
    ),
    "feature map": (
        "What a conv layer outputs for one of its kernels (one output channel): high values where the "
        "kernel's pattern was found, low where it was not."
    ),
    "cross-correlation": (
        "What nn.Conv2d computes: at each position, multiply the kernel with the patch under it and sum. "
        "Textbook convolution flips the kernel first; CNNs skip the flip, since a learned kernel can "
        "just as well be learned flipped."
    ),
    "stride": (
        "How many pixels the kernel moves between positions. Stride 2 skips every other position, so the "
        "output is about half as wide and high."
    ),
    "padding": (
        "A border of zeros added around the input so the kernel can also sit on the edges. With stride 1 "
        "and padding (k − 1) / 2 for an odd k×k kernel, the output keeps the input's size ('same')."
    ),
    "dilation": (
        "Gaps between a kernel's taps: with dilation 2 a 3×3 kernel skips every other pixel and covers a "
        "5×5 area, still with 9 weights. Dilation 1 is the ordinary, gap-free kernel."
    ),
    "pooling": (
        "Shrinks a feature map by summing up each small window as one number: its largest value (max "
        "pooling) or its mean (average pooling). A pooling layer has no weights to learn."
    ),
    "relu": (
        "The activation max(0, x): negative values become 0, positive ones pass unchanged. Without such a "
        "non-linear step, a stack of layers would compute no more than a single linear layer."
    ),
    "activation": (
        "The values a layer outputs (a feature map is one), or the non-linear function such as ReLU "
        "applied after a layer. Pages that show 'activations' show a layer's output values."
    ),
    "parameter": (
        "A number the network learns: each weight of its kernels and linear layers, and each bias. A Conv2d "
        "has out_channels × (in_channels × k × k + 1) of them with its bias."
    ),
    "trainable": (
        "A parameter is trainable when the optimizer updates it (requires_grad=True in PyTorch). Batch "
        "norm's running mean and variance are not parameters but buffers: never trained, only tracked."
    ),
    "bias": (
        "A learned number added to a weighted sum, one per output channel of a conv layer or output of a "
        "linear layer. It lets an output be non-zero when every input is 0."
    ),
    "receptive field": (
        "The patch of the input image that can affect one value of a feature map. Every conv or pooling "
        "layer makes it bigger, so deeper layers see larger parts of the image."
    ),
    "logit": (
        "The raw score the network's last layer gives each class, any number from minus to plus "
        "infinity. Bigger means 'more likely', but it is not yet a probability."
    ),
    "softmax": (
        "Turns logits into probabilities: take e to the power of each logit and divide by their sum, so "
        "every value is between 0 and 1 and they add up to 1."
    ),
    "loss": (
        "One number saying how wrong the network is on a batch. For classification it is the "
        "cross-entropy: the average of −log(probability given to the true class); 0 means perfect."
    ),
    "cross-entropy": (
        "The classification loss: −log of the probability the network gave the true class, averaged over "
        "the batch. PyTorch's nn.CrossEntropyLoss takes the logits and applies softmax itself."
    ),
    "gradient": (
        "For every weight, how much the loss would change if that weight grew a tiny bit. Training moves "
        "each weight a small step against its gradient, downhill on the loss."
    ),
    "learning rate": (
        "How big a step each update takes (the η in w ← w − η·gradient). Too small and learning crawls; "
        "too large and the loss jumps around or blows up."
    ),
    "optimizer": (
        "The rule that turns gradients into weight updates after each batch, such as SGD, SGD with "
        "momentum or Adam. It holds the learning rate and the weight decay."
    ),
    "sgd": (
        "Stochastic gradient descent: after each batch, move every weight a step against its gradient, "
        "w ← w − η·gradient. 'Stochastic' because each batch is a random sample of the data."
    ),
    "momentum": (
        "An SGD option that steps along a running sum of past gradients (each old one shrunk by, say, 0.9) "
        "instead of the latest alone, like a ball rolling downhill: steadier, faster along a steady slope."
    ),
    "adam": (
        "An optimizer that keeps, for each weight, running averages of its gradient and of its squared "
        "gradient, and scales each step by them. Its usual learning rate is 0.001."
    ),
    "batch": (
        "The handful of images (32, say) the network looks at together before one weight update. Smaller "
        "batches give noisier but more frequent updates."
    ),
    "epoch": (
        "One full pass over the training set: every training image has been seen once. Training usually "
        "runs for several epochs."
    ),
    "one-cycle": (
        "A learning-rate schedule (PyTorch's OneCycleLR): the rate climbs from small to its maximum in the "
        "first part of training, then falls to almost zero by the end."
    ),
    "overfitting": (
        "Learning the training images by heart, noise included, instead of the general pattern: training "
        "accuracy keeps rising while validation accuracy stalls or falls."
    ),
    "validation accuracy": (
        "The share of held-out images the network gets right, used to choose epochs and settings. Test "
        "accuracy is measured on images never used for any choice, so it is the honest final score."
    ),
    "dropout": (
        "While training, sets a random share p of the values to 0 and scales the rest by 1 / (1 − p), so "
        "the network cannot lean on any single one. In evaluation it does nothing."
    ),
    "batch norm": (
        "Normalises each channel over the batch to mean 0 and variance 1, then scales and shifts it by two "
        "learned numbers per channel. In evaluation it uses averages kept while training."
    ),
    "weight decay": (
        "Shrinks every weight a little towards 0 at each update (an L2 penalty; AdamW applies it "
        "separately from the gradient). Smaller weights make overfitting less likely."
    ),
    "augmentation": (
        "Random changes to the training images each time they are used (small shifts, rotations, flips) "
        "so the network sees more variety and overfits less. Test images stay unchanged."
    ),
    "early stopping": (
        "Stopping training once the validation loss has not improved for a few epochs (the patience), "
        "and keeping the weights of the best epoch."
    ),
    "grad-cam": (
        "A heat map of where the network looked for a class: the last conv layer's feature maps, weighted "
        "by the gradient of the class score, summed and passed through ReLU. Hot means 'raised the score'."
    ),
    "normalisation": (
        "Each pixel (0 black to 1 white) becomes (pixel − mean) / std, with the dataset's mean and standard "
        "deviation. For MNIST, about 0.13 and 0.31, black becomes about −0.43 and white about 2.81."
    ),
    "model size": (
        "The memory the weights take: 4 bytes (a 32-bit float) per parameter, plus batch norm's running "
        "statistics. 100,000 parameters are 0.4 MB."
    ),
}

# Other spellings of a term, as a page may write them (plurals and case are matched anyway).
FORMS: dict[str, tuple[str, ...]] = {
    "cross-correlation": ("cross correlation",),
    "relu": ("ReLU",),
    "sgd": ("SGD",),
    "adam": ("Adam",),
    "optimizer": ("optimiser",),
    "one-cycle": ("one cycle", "OneCycleLR"),
    "overfitting": ("overfit", "overfits", "over-fitting"),
    "validation accuracy": ("val accuracy", "test accuracy"),
    "batch norm": ("batch normalisation", "batch normalization", "BatchNorm", "BatchNorm2d"),
    "normalisation": ("normalization", "normalise", "normalised", "normalize", "normalized"),
    "grad-cam": ("Grad-CAM", "GradCAM"),
    "dropout": ("Dropout2d",),
    "pooling": ("max pooling", "average pooling", "max-pooling"),
}

# How a term is written in a title (the glossary page's headings).
TITLES: dict[str, str] = {"relu": "ReLU", "sgd": "SGD", "adam": "Adam", "grad-cam": "Grad-CAM"}


def lookup(term: str) -> str:
    """The definition of `term` (case-insensitive); raises KeyError naming the known terms."""
    key = term.strip().lower()
    if key not in GLOSSARY:
        raise KeyError(f"No glossary entry for {term!r}; known terms: {', '.join(GLOSSARY)}.")
    return GLOSSARY[key]


def title(term: str) -> str:
    """The term as a heading writes it: 'ReLU', 'Grad-CAM', 'Feature map'."""
    return TITLES.get(term, term[:1].upper() + term[1:])


def anchor(term: str) -> str:
    """The term's anchor on the glossary page: 'feature map' -> 'feature-map'."""
    return "-".join(term.lower().replace("-", " ").split())
