"""Plotly figures for the pages, one module per page; pure functions of their inputs.

Figures rebuilt on every view are built as plain dicts (plotly's validating constructors cost
tens of milliseconds of the interpreter lock a whole class shares).

This package's public face is this module; the modules inside it:

    landing.py     the landing page: a digit through the pretrained model, as one PNG
    kernels.py     Kernels: image, kernel and feature-map heatmaps with the patch drawn on
    shapes.py      Shape calculator: the sliding window and the stack
    sliding.py     Shape calculator: the sliding window as a PNG (what the page shows)
    builder.py     Model builder: the network diagram
    training.py    Training while it trains: the live curves, earlier runs beside them
    curves.py      one run's history as those charts read it (Curves, from a run's snapshot)
    evaluation.py  Training after a run: confusion matrix, per-class bars, filters, gallery
    blank.py       Training before its first run: the live chart's empty panels, as a PNG
    grids.py       Kernels: the step-through's grids with their numbers, as a PNG
    pictures.py    PNG pictures with numpy and Pillow: palettes to pixels, numbered grids
    step.py        Training in slow motion: the batch, probabilities, loss and gradients
    draw.py        Draw & predict: preprocessing steps, probabilities, feature maps, Grad-CAM
    palette.py     the one palette every heat map uses: SIGNED (RdBu, centred on 0) for signed
                   values, MAGNITUDE (viridis) for magnitudes, IMAGE (grey) for pictures
"""

from __future__ import annotations

from cnnlib.plots.blank import empty_live_picture
from cnnlib.plots.builder import (
    REF_WIDTH_PX,
    block_geometry,
    group_blocks,
    label_rows,
    label_width_px,
    network_diagram,
    network_diagram_dict,
    spec_diagram,
    thin_labels,
)
from cnnlib.plots.curves import Curves, curves_from_snapshot
from cnnlib.plots.draw import (
    OTHER_COLOUR,
    TOP_COLOUR,
    cam_figure,
    enlarge,
    feature_grid_figure,
    framed,
    mosaic,
    probability_figure,
)
from cnnlib.plots.evaluation import (
    confusion_figure,
    feature_maps_figure,
    filters_figure,
    gallery_figure,
    per_class_figure,
)
from cnnlib.plots.grids import grid_labels, step_picture
from cnnlib.plots.kernels import (
    PAD_CELL,
    PAD_TINT,
    can_click,
    grid_figure,
    image_figure,
    map_figure,
    step_figure,
)
from cnnlib.plots.landing import LANDING_PICTURE, SAMPLE_DIGIT_INDEX, landing_pipeline, pipeline_picture
from cnnlib.plots.palette import (
    IMAGE,
    MAGNITUDE,
    SCALES,
    SIGNED,
    categories,
    image_range,
    is_signed,
    legend,
    magnitude_range,
    signed_range,
    value_range,
)
from cnnlib.plots.pictures import colour_rgb, colourize, draw_grid, fitting_font, font, ink_for, to_png
from cnnlib.plots.shapes import (
    MAX_PICTURE_CELLS,
    picture_fits,
    sliding_figure,
    stack_figure,
)
from cnnlib.plots.sliding import sliding_picture
from cnnlib.plots.step import (
    TRUE_COLOR,
    batch_grid_figure,
    grad_norms_figure,
    kernel_step_figure,
    loss_reveal_figure,
    nll_figure,
    probs_figure,
)
from cnnlib.plots.training import (
    LIVE_POINTS,
    downsample,
    ema,
    epoch_ticks,
    live_figure,
    live_figure_dict,
)

__all__ = [
    "sliding_picture",
    "empty_live_picture",
    "LANDING_PICTURE",
    "SAMPLE_DIGIT_INDEX",
    "landing_pipeline",
    "pipeline_picture",
    "step_picture",
    "grid_labels",
    "to_png",
    "ink_for",
    "font",
    "fitting_font",
    "draw_grid",
    "colourize",
    "colour_rgb",
    "Curves",
    "IMAGE",
    "MAGNITUDE",
    "SCALES",
    "SIGNED",
    "LIVE_POINTS",
    "MAX_PICTURE_CELLS",
    "OTHER_COLOUR",
    "PAD_CELL",
    "PAD_TINT",
    "REF_WIDTH_PX",
    "TOP_COLOUR",
    "TRUE_COLOR",
    "batch_grid_figure",
    "block_geometry",
    "cam_figure",
    "categories",
    "can_click",
    "confusion_figure",
    "curves_from_snapshot",
    "downsample",
    "ema",
    "enlarge",
    "epoch_ticks",
    "feature_grid_figure",
    "feature_maps_figure",
    "filters_figure",
    "framed",
    "gallery_figure",
    "grad_norms_figure",
    "grid_figure",
    "group_blocks",
    "image_figure",
    "image_range",
    "is_signed",
    "kernel_step_figure",
    "label_rows",
    "label_width_px",
    "legend",
    "live_figure",
    "live_figure_dict",
    "loss_reveal_figure",
    "magnitude_range",
    "map_figure",
    "mosaic",
    "network_diagram",
    "network_diagram_dict",
    "nll_figure",
    "per_class_figure",
    "picture_fits",
    "probability_figure",
    "probs_figure",
    "signed_range",
    "sliding_figure",
    "spec_diagram",
    "stack_figure",
    "step_figure",
    "thin_labels",
    "value_range",
]
