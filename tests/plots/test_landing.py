"""The landing page's picture: drawn from given arrays, and computed by the bundled model."""

import io
from pathlib import Path

import numpy as np
from PIL import Image

from cnnlib.plots.landing import SAMPLE_DIGIT_INDEX, landing_pipeline, pipeline_picture
from cnnlib.plots.palette import MAGNITUDE
from cnnlib.plots.pictures import colour_rgb


def test_picture_draws_digit_maps_and_the_top_bar():
    digit = np.zeros((28, 28))
    digit[4:24, 13:15] = 1.0  # a "1"
    maps = np.zeros((8, 28, 28))
    maps[0, 10, 10] = 2.0
    probs = np.full(10, 0.02)
    probs[1] = 0.82
    img = np.asarray(pipeline_picture(digit, maps, probs, [str(i) for i in range(10)], height=260))
    assert img.shape[0] == 260 and img.dtype == np.uint8
    assert (img[34 + 5, 25] == 0).all() and (
        img[34 + 95, 20 + 95] == 255
    ).all()  # the digit: black, ink white
    low = colour_rgb(str(MAGNITUDE[0][1]))
    assert (np.all(img == low, axis=-1)).sum() > 1000  # feature maps drawn in the palette's 0 colour
    assert (np.all(img == (31, 95, 191), axis=-1)).sum() > 300  # the top class's bar, highlighted


def test_landing_pipeline_is_the_model_on_the_sample_digit():
    png = landing_pipeline()
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size[0] > 800 and img.size[1] == 260
    assert len(png) < 60_000  # light: one small PNG on the landing page
    assert landing_pipeline() == png  # deterministic: the same for everyone
    assert SAMPLE_DIGIT_INDEX == 10


def test_landing_digit_is_read_right():
    from cnnlib.data import load_dataset
    from cnnlib.inference import load_pretrained_bundle, predict

    bundle = load_pretrained_bundle()
    data = load_dataset("mnist-sample").test
    x = ((data.images[SAMPLE_DIGIT_INDEX].float() / 255.0 - bundle.mean) / bundle.std)[None]
    assert int(np.argmax(predict(bundle.model, x))) == int(data.labels[SAMPLE_DIGIT_INDEX]) == 7


def test_bundled_landing_picture_is_the_computed_one():
    from cnnlib.plots.landing import LANDING_PICTURE

    assert LANDING_PICTURE.read_bytes() == landing_pipeline()  # rebuild: scripts/make_landing_picture.py


def test_the_landing_page_reads_the_bundled_picture():
    import cnnlib
    from cnnlib.plots.landing import LANDING_PICTURE

    assert LANDING_PICTURE == Path(cnnlib.__file__).parent / "data" / "files" / "landing_pipeline.png"
