"""The glossary: the words of CNNs and training, each in one or two plain sentences for a beginner."""

from __future__ import annotations

GLOSSARY: dict[str, str] = {
    "tensor": (
        "A grid of numbers with any number of dimensions, PyTorch's basic data type. A batch of images "
        "is a 4-D tensor shaped [batch, channels, height, width]."
    ),
    "channel": (
        "One layer of numbers stacked in an image or feature map: a grey image has 1 channel, a colour "
        "image 3 (red, green, blue), and a conv layer makes one output channel per kernel."
    ),
    "feature map": (
        "The image a conv layer outputs for one of its kernels: bright where the kernel's pattern was "
        "found, dark where it was not."
    ),
    "kernel": (
        "A small grid of weights (e.g. 3×3) that slides over the image; at each position it multiplies "
        "the pixels under it by its weights and adds them up. A CNN learns its kernels."
    ),
    "stride": (
        "How many pixels the kernel moves between positions. Stride 2 skips every other position, so the "
        "output is about half as wide and high."
    ),
    "padding": (
        "A border of zeros added around the input so the kernel can also sit on the edges; with the right "
        "padding the output keeps the input's size."
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
    "gradient": (
        "For every weight, how much the loss would change if that weight grew a tiny bit. Training moves "
        "each weight a small step against its gradient, downhill on the loss."
    ),
    "epoch": (
        "One full pass over the training set: every training image has been seen once. Training usually "
        "runs for several epochs."
    ),
    "batch": (
        "The handful of images (e.g. 32) the network looks at together before one weight update. Smaller "
        "batches give noisier but more frequent updates."
    ),
    "learning rate": (
        "How big a step each update takes (the η in w ← w − η·gradient). Too small and learning crawls; "
        "too large and the loss jumps around or blows up."
    ),
}


def lookup(term: str) -> str:
    """The definition of `term` (case-insensitive); raises KeyError naming the known terms."""
    key = term.strip().lower()
    if key not in GLOSSARY:
        raise KeyError(f"No glossary entry for {term!r}; known terms: {', '.join(GLOSSARY)}.")
    return GLOSSARY[key]
