"""Plotly figures for the pages, one module per page; pure functions of their inputs.

Figures rebuilt on every view are built as plain dicts (plotly's validating constructors cost
tens of milliseconds of the interpreter lock a whole class shares).

This package's public face is this module; the modules inside it:

    kernels.py     Kernels: image, kernel and feature-map heatmaps with the patch drawn on
    shapes.py      Shape calculator: the stack chart (each layer's size, receptive field and jump)
    stack_png.py   Shape calculator: that chart as a PNG, every number written on it
    sliding.py     Shape calculator: the sliding window over the input grid, as a PNG
    builder.py     Model builder: the network diagram
    builder_picture.py  Model builder: that diagram as a PNG (no plotly.js)
    class_drawings.py  Class board: the class's drawn dataset, thumbnails per label, as a PNG
    training.py    Training while it trains: the live curves, earlier runs beside them
    curves.py      one run's history as those charts read it (Curves, from a run's snapshot)
    comparison.py  Training's comparison: two runs' curves overlaid
    evaluation.py  Training after a run: confusion matrix, per-class bars, filters, gallery
    landing.py     the landing page: a digit through the pretrained model, as one PNG
    blank.py       Training before its first run: the live chart's empty panels, as a PNG
    grids.py       Kernels: the step-through's grids with their numbers, as a PNG
    heatmaps.py    Kernels: the input and feature maps as canvas heat maps' payloads (no plotly.js)
    pictures.py    PNG pictures with numpy and Pillow: palettes to pixels, numbered grids
    step.py        Training in slow motion: the batch, probabilities, loss and gradients
    draw.py        Draw & predict: preprocessing steps, probabilities, feature maps, Grad-CAM
    invariance.py  Draw & predict: each class's probability along a shift/turn/scale, as a PNG
    palette.py     the one palette every heat map uses: SIGNED (RdBu, centred on 0) for signed
                   values, MAGNITUDE (viridis) for magnitudes, IMAGE (grey) for pictures
"""

from __future__ import annotations

from cnnlib.plots import (
    blank,
    builder,
    builder_picture,
    class_drawings,
    comparison,
    curves,
    draw,
    evaluation,
    grids,
    heatmaps,
    invariance,
    kernels,
    landing,
    palette,
    pictures,
    shapes,
    sliding,
    stack_png,
    step,
    training,
)
from cnnlib.plots.blank import *  # noqa: F403
from cnnlib.plots.builder import *  # noqa: F403
from cnnlib.plots.builder_picture import *  # noqa: F403
from cnnlib.plots.class_drawings import *  # noqa: F403
from cnnlib.plots.comparison import *  # noqa: F403
from cnnlib.plots.curves import *  # noqa: F403
from cnnlib.plots.draw import *  # noqa: F403
from cnnlib.plots.evaluation import *  # noqa: F403
from cnnlib.plots.grids import *  # noqa: F403
from cnnlib.plots.heatmaps import *  # noqa: F403
from cnnlib.plots.invariance import *  # noqa: F403
from cnnlib.plots.kernels import *  # noqa: F403
from cnnlib.plots.landing import *  # noqa: F403
from cnnlib.plots.palette import *  # noqa: F403
from cnnlib.plots.pictures import *  # noqa: F403
from cnnlib.plots.shapes import *  # noqa: F403
from cnnlib.plots.sliding import *  # noqa: F403
from cnnlib.plots.stack_png import *  # noqa: F403
from cnnlib.plots.step import *  # noqa: F403
from cnnlib.plots.training import *  # noqa: F403

__all__ = [
    *blank.__all__,
    *builder.__all__,
    *builder_picture.__all__,
    *class_drawings.__all__,
    *comparison.__all__,
    *curves.__all__,
    *draw.__all__,
    *evaluation.__all__,
    *grids.__all__,
    *heatmaps.__all__,
    *invariance.__all__,
    *kernels.__all__,
    *landing.__all__,
    *palette.__all__,
    *pictures.__all__,
    *shapes.__all__,
    *sliding.__all__,
    *stack_png.__all__,
    *step.__all__,
    *training.__all__,
]
