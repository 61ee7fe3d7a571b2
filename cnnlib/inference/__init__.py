"""Inference on a drawn digit: MNIST-style preprocessing, prediction, and what the network looked at.

`preprocess_drawing` turns a canvas (RGBA, white ink on black) into what an MNIST model expects,
the way the MNIST digits themselves were made: crop to the ink, scale the longer side to 20 px
keeping the aspect ratio (antialiased), paste into 28x28 so the centre of mass sits in the middle,
then normalise with the dataset's mean and std. Every intermediate image is kept for display.

This package's public face is this module; the modules inside it:

    classify.py     preprocess_drawing, predict, answer, which models can read a drawing,
                    model_from_record: a trained model's record built again
    model_input.py  MNIST_MEAN, MNIST_STD, a tensor made ready for a model (batch, device, eval)
    uploads.py      read_image, flatten_paper, ImageInputError: an uploaded photo or scan
    explain.py      feature_maps, grad_cam, channel_order: what the network looked at
    invariance.py   transform_drawing, sweep, fgsm_nudge: the drawing shifted, turned, scaled or
                    nudged, and what the network says then (the invariance lesson)
    pretrained.py   load_pretrained, load_pretrained_bundle, PretrainedError: the bundled model
    link.py         the Draw & predict page's state as a link (DRAW_LINK)
"""

from __future__ import annotations

from cnnlib.inference import classify, explain, invariance, link, pretrained, uploads
from cnnlib.inference.classify import *  # noqa: F403
from cnnlib.inference.explain import *  # noqa: F403
from cnnlib.inference.invariance import *  # noqa: F403
from cnnlib.inference.link import *  # noqa: F403
from cnnlib.inference.pretrained import *  # noqa: F403
from cnnlib.inference.uploads import *  # noqa: F403

__all__ = [
    *classify.__all__,
    *explain.__all__,
    *invariance.__all__,
    *link.__all__,
    *pretrained.__all__,
    *uploads.__all__,
]
