"""AppTest: drive the Kernels page through app.py and check the numbers it shows against cnnlib/torch."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnlib import kernels as K
from cnnlib.kernels.images import sample_dataset
from tests.app.plotly_specs import plotly_elements, plotly_specs
from tests.conftest import open_app, unlinked

PAGE = "pages/1_kernels.py"


def _open(source: str | None = "Text") -> AppTest:
    at = open_app(PAGE)
    if source is not None and at.selectbox(key="k_source").value != source:
        at.selectbox(key="k_source").set_value(source).run()
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def _number(at: AppTest, label: str) -> float:
    return float(_metric(at, label))


def _formulas(at: AppTest) -> list[str]:
    """The output size's formulas: built only while their section is open (KaTeX loads only then)."""
    if not at.latex:
        at.session_state["k_size_open"] = True  # a click on the section
        at.run()
    return [x.value for x in at.latex]


def map_panels(at: AppTest, key: str = "k_maps") -> list[dict]:
    """The panels our heat map element (pages/ui/heatmaps.py) was sent under `key`."""
    for c in at.get("bidi_component"):
        if "cc_heatmaps" in c.proto.component_name and c.proto.id.endswith(f"-{key}"):
            return json.loads(json.loads(c.proto.json)["panels"])
    return []


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _check_step_through(at: AppTest, plane: np.ndarray, kernel: np.ndarray, **conv) -> None:
    """The page's by-hand total and PyTorch value both equal the feature map computed here."""
    row, col = at.number_input(key="k_row").value, at.number_input(key="k_col").value
    expected = K.apply_kernel(plane, kernel, **conv)[row, col]
    assert _number(at, "= By hand") == pytest.approx(expected, abs=1e-4)
    assert _number(at, f"PyTorch at ({row}, {col})") == pytest.approx(expected, abs=1e-4)


def test_page_opens_with_a_digit_and_sobel_x():
    at = _open(source=None)
    assert at.title[0].value.endswith("Kernels")
    assert any("cross-correlation" in c.value for c in at.caption)
    assert at.selectbox(key="k_preset").value == "Sobel x"
    assert at.text_area(key="k_text").value == "-1  0  1\n-2  0  2\n-1  0  1"  # rows lined up
    source = at.selectbox(key="k_source").value
    plane = K.load_sample(source, 0).view()
    h, w = plane.shape
    assert _metric(at, "Input size") == f"{h} × {w}"
    assert _metric(at, "Feature map size") == f"{h - 2} × {w - 2}"
    _check_step_through(at, plane, K.KERNELS["Sobel x"])
    # the first pixel shown is the feature map's strongest response
    fmap = K.apply_kernel(plane, K.KERNELS["Sobel x"])
    assert abs(fmap[at.number_input(key="k_row").value, at.number_input(key="k_col").value]) == pytest.approx(
        np.abs(fmap).max()
    )
    assert not at.latex  # folded: no LaTeX, so no KaTeX in the browser
    assert any(r"\lfloor" in x and f"= {h - 2}" in x for x in _formulas(at))


def test_choose_a_preset_and_step_to_a_pixel():
    at = _open("Text")
    plane = K.load_sample("Text").view()
    at.selectbox(key="k_preset").set_value("Box blur").run()
    assert at.text_area(key="k_text").value.split("\n")[0] == "1/9 1/9 1/9"
    at.number_input(key="k_row").set_value(20).run()
    at.number_input(key="k_col").set_value(40).run()
    _check_step_through(at, plane, K.KERNELS["Box blur"])
    assert _metric(at, "Feature map size") == "46 × 94"  # a 48 x 96 image, 3x3 kernel, no padding
    assert _number(at, "Sum of the products") == pytest.approx(_number(at, "= By hand"))


def test_typing_weights_makes_a_custom_kernel():
    at = _open("Text")
    plane = K.load_sample("Text").view()
    at.selectbox(key="k_preset").set_value("Identity").run()
    at.text_area(key="k_text").input("0 0 1/2\n0 1 0\n0 0 0").run()
    assert at.selectbox(key="k_preset").value == "Custom (edited)"
    assert at.text_area(key="k_text").value == "  0   0 1/2\n  0   1   0\n  0   0   0"  # lined up again
    kernel = K.KERNELS["Identity"].copy()
    kernel[0, 2] = 0.5
    _check_step_through(at, plane, kernel)
    at.selectbox(key="k_preset").set_value("Identity").run()  # back to the preset
    assert at.text_area(key="k_text").value == "0 0 0\n0 1 0\n0 0 0"
    # a 5x5 typed (or pasted from numpy): the size picker follows, every digit typed is kept
    pasted = repr(np.full((5, 5), 0.123456789).tolist())
    at.text_area(key="k_text").input(pasted).run()
    assert at.radio(key="k_size").value == 5 and at.text_area(key="k_text").value == K.align_kernel_text(
        pasted
    )
    assert at.text_area(key="k_text").value.count("0.123456789") == 25  # every digit typed is kept
    _check_step_through(at, plane, np.full((5, 5), 0.123456789))
    at.selectbox(key="k_preset").set_value("Sobel x").run()  # a preset puts its size back
    assert at.radio(key="k_size").value == 3 and not _errors(at)


def test_typed_fractions_stay_as_typed():
    """Issue 25: typed 2/16 was rewritten as 1/8. The box keeps the teacher's text (lined up), the
    kernel is its value; a size change keeps it too."""
    at = _open("Text")
    plane = K.load_sample("Text").view()
    at.text_area(key="k_text").input("1/16 2/16 1/16\n2/16 4/16 2/16\n1/16 2/16 1/16").run()
    assert at.text_area(key="k_text").value == "1/16 2/16 1/16\n2/16 4/16 2/16\n1/16 2/16 1/16"
    kernel = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    _check_step_through(at, plane, kernel)
    at.radio(key="k_size").set_value(5).run()
    text = at.text_area(key="k_text").value
    assert text.count("2/16") == 4 and "1/8" not in text and len(text.splitlines()) == 5
    _check_step_through(at, plane, np.pad(kernel, 1))


@pytest.mark.parametrize(
    "text, message",
    [("-1 0 1\n-2 abc 2\n-1 0 1", "row 2, column 2 holds 'abc': not a number"), ("", "empty"), ("1 nan 1\n1 1 1\n1 1 1", "NaN"),
     ("1 1 1\n1 inf 1\n1 1 1", "infinite"), ("1/0 0 0\n0 0 0\n0 0 0", "divide"), ("1 0\n0 1", "2x2"),
     ("1 0 -1\n2 0\n1 0 -1", "Row 2 has 2 numbers"), ("1 0 -1", "1 row of 3 numbers"), ("9 " * 1500, "characters"),
     ("<b>1</b> 0 0\n0 0 0\n0 0 0", "not a number")],
)  # fmt: skip
def test_bad_weights_show_an_error_and_keep_the_last_good_kernel(text, message):
    at = _open("Text")
    plane = K.load_sample("Text").view()
    before = {k: at.session_state[k] for k in ("k_source", "k_stride", "k_padding", "k_size")}
    at.text_area(key="k_text").input(text).run()
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1 and message in errors[0], errors
    assert at.text_area(key="k_text").value == text  # kept as typed, to fix
    _check_step_through(at, plane, K.KERNELS["Sobel x"])  # still the last good kernel
    assert {k: at.session_state[k] for k in before} == before  # nothing else moved
    at.text_area(key="k_text").input("0 0 0\n0 1 0\n0 0 0").run()
    assert not _errors(at)
    _check_step_through(at, plane, K.KERNELS["Identity"])


def test_stride_and_padding_change_the_size_and_the_numbers():
    at = _open("Text")
    plane = K.load_sample("Text").view()
    at.number_input(key="k_stride").set_value(2).run()
    at.number_input(key="k_padding").set_value(1).run()
    assert _metric(at, "Feature map size") == "24 × 48"  # floor((48 + 2 - 2 - 1) / 2) + 1, same for 96
    latex = " ".join(_formulas(at))
    assert r"\frac{48 + 2\cdot 1 - 1\cdot(3-1) - 1}{2}" in latex and r"\frac{96 + 2\cdot 1" in latex
    at.number_input(key="k_row").set_value(0).run()
    at.number_input(key="k_col").set_value(47).run()  # a corner: the kernel hangs over the zero padding
    _check_step_through(at, plane, K.KERNELS["Sobel x"], stride=2, padding=1)
    at.radio(key="k_pad_mode").set_value("same").run()
    assert "needs stride 1" in _errors(at)[0]  # PyTorch refuses 'same' with stride 2
    assert any("last settings that worked" in c.value for c in at.caption)
    assert _metric(at, "Feature map size") == "24 × 48"
    at.number_input(key="k_stride").set_value(1).run()
    assert not _errors(at) and _metric(at, "Feature map size") == "48 × 96"
    _check_step_through(at, plane, K.KERNELS["Sobel x"], padding="same")


def test_pooling_window_bigger_than_the_map_is_refused():
    at = _open("Text")  # 48 x 96
    at.radio(key="k_size").set_value(7).run()
    at.number_input(key="k_dilation").set_value(6).run()  # spans 37 pixels
    assert not _errors(at) and _metric(at, "Feature map size") == "12 × 60"
    at.number_input(key="k_stride").set_value(8).run()
    at.radio(key="k_pool").set_value("max").run()
    at.radio(key="k_pool_size").set_value(3).run()  # a 2 x 8 map is too small for a 3 x 3 window
    assert "smaller than the 3x3 pooling window" in _errors(at)[0]
    assert not at.exception and _metric(at, "After pooling") == "1 × 4"  # the last settings that worked (2x2)


def test_kernel_that_does_not_fit_the_image_is_refused():
    at = _open("Upload your own…")
    small = _png(Image.fromarray((np.random.default_rng(0).random((20, 20)) * 255).astype(np.uint8)))
    at.file_uploader(key="k_upload").set_value(("small.png", small, "image/png")).run()
    at.radio(key="k_size").set_value(7).run()
    at.number_input(key="k_dilation").set_value(3).run()  # spans 19 pixels: fits in 20
    assert not _errors(at) and _metric(at, "Feature map size") == "2 × 2"
    at.number_input(key="k_dilation").set_value(4).run()  # spans 25 pixels: does not
    error = _errors(at)[0]
    assert "spans 25 pixels" in error and "doesn't fit" in error
    assert _metric(at, "Feature map size") == "2 × 2" and not at.exception
    at.number_input(key="k_padding").set_value(3).run()  # 20 + 6 >= 25: fits again
    assert not _errors(at) and _metric(at, "Feature map size") == "2 × 2"


def test_relu_bias_and_pooling():
    at = _open("Text")
    plane = K.load_sample("Text").view()
    at.number_input(key="k_bias").set_value(-0.5).run()
    at.toggle(key="k_relu").set_value(True).run()
    at.radio(key="k_pool").set_value("avg").run()
    assert _metric(at, "After pooling") == "23 × 47"
    _check_step_through(at, plane, K.KERNELS["Sobel x"], bias=-0.5)
    assert _number(at, "+ bias") == -0.5
    assert any("After ReLU" in m.value for m in at.markdown)
    assert any(r"{46 + 2\cdot 0 - 1\cdot(2-1) - 1}{2}" in x for x in _formulas(at))


def test_normalise_divides_by_the_sum():
    at = _open("Text")
    plane = K.load_sample("Text").view()
    at.selectbox(key="k_preset").set_value("Identity").run()
    at.text_area(key="k_text").input("1 1 1\n1 1 1\n1 1 1").run()
    _check_step_through(at, plane, np.ones((3, 3)))
    at.toggle(key="k_normalise").set_value(True).run()
    assert any("divided by 9" in c.value for c in at.caption)
    _check_step_through(at, plane, np.ones((3, 3)) / 9)


def test_colour_image_per_channel():
    at = _open("Colour shapes")
    image = K.load_sample("Colour shapes")
    at.radio(key="k_channel").set_value("Red").run()
    _check_step_through(at, image.view("Red"), K.KERNELS["Sobel x"])
    at.radio(key="k_channel").set_value("Grayscale").run()
    _check_step_through(at, image.view("Grayscale"), K.KERNELS["Sobel x"])


def _png(im: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


NOISE_PNG = _png(Image.fromarray((np.random.default_rng(1).random((40, 40)) * 255).astype(np.uint8)))


def test_uploads_good_and_bad():
    at = _open("Text")
    at.selectbox(key="k_source").set_value("Upload your own…").run()
    assert any("Choose a picture" in i.value for i in at.info)
    arr = (np.arange(40 * 30) % 251).astype(np.uint8).reshape(30, 40)
    at.file_uploader(key="k_upload").set_value(("ramp.png", _png(Image.fromarray(arr)), "image/png")).run()
    assert not _errors(at) and _metric(at, "Input size") == "30 × 40"
    _check_step_through(at, arr / 255.0, K.KERNELS["Sobel x"])
    bad = [
        ("notes.png", b"this is not an image", "not an image"),
        ("tiny.png", _png(Image.new("L", (1, 1))), "1 x 1 pixels"),
        ("cut.jpg", _png(Image.fromarray(arr), "JPEG")[:200], "truncated"),
        ("half.png", NOISE_PNG[: len(NOISE_PNG) // 2], "truncated"),
    ]
    for name, data, message in bad:
        at.file_uploader(key="k_upload").set_value((name, data, "image/png")).run()
        assert not at.exception
        assert message in _errors(at)[0], name
        assert _metric(at, "Input size") == "30 × 40"  # the last good image stays
    big = _png(Image.new("RGBA", (600, 300), (255, 0, 0, 128)))
    at.file_uploader(key="k_upload").set_value(("big.png", big, "image/png")).run()
    assert not _errors(at) and _metric(at, "Input size") == "128 × 256"
    notes = " ".join(c.value for c in at.caption)
    assert "Downscaled from 600 x 300" in notes and "white" in notes


def test_predict_then_reveal():
    at = _open("Text")
    at.selectbox(key="k_preset").set_value("Sobel y").run()
    at.toggle(key="k_predict").set_value(True).run()
    assert any("after you reveal" in i.value for i in at.info)
    assert [p["title"] for p in map_panels(at)] == ["Input"]  # the map is not even sent
    at.radio(key="k_guess").set_value("Finds horizontal edges").run()
    at.button(key="k_reveal").click().run()
    assert any(s.value.startswith("Right") for s in at.success)
    # Issue 25: the guess list and its button went on showing above the map (530 px below the input);
    # now they go, and the map is drawn in the same element as the input (level with it), the
    # verdict under them.
    assert not [r for r in at.radio if r.key == "k_guess"] and not [
        b for b in at.button if b.key == "k_reveal"
    ]
    assert [p["title"] for p in map_panels(at)] == ["Input", "Feature map (conv + bias)"]
    at.selectbox(key="k_preset").set_value("Box blur").run()  # a new kernel asks again
    assert any("after you reveal" in i.value for i in at.info)


def test_compare_and_state_survives_a_page_switch():
    at = _open("Text")
    at.selectbox(key="k_preset").set_value("Emboss").run()
    assert not [s for s in at.selectbox if s.key == "k_compare"]  # closed: not built
    at.session_state["k_compare_open"] = True  # a click on the expander
    at.run()
    at.selectbox(key="k_compare").set_value("Laplacian").run()
    assert not at.exception and not _errors(at)
    assert [p["title"] for p in map_panels(at, "k_compare_maps")] == ["Emboss", "Laplacian"]
    assert not plotly_elements(at)  # no plotly.js on this page
    at.switch_page("app.py").run()
    at.switch_page(PAGE).run()
    assert at.selectbox(key="k_compare").value == "Laplacian"  # still open, same kernel
    assert at.selectbox(key="k_preset").value == "Emboss"
    assert at.selectbox(key="k_source").value == "Text"
    assert at.text_area(key="k_text").value.startswith("-2 -1  0")


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height 8-bit gray pixels, with almost no data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_more_uploads_each_format_and_each_refusal_beside_the_uploader():
    at = _open("Upload your own…")
    rng = np.random.default_rng(3)
    rgb = Image.fromarray((rng.random((36, 44, 3)) * 255).astype(np.uint8))
    frames = [rgb.convert("P"), rgb.rotate(90).convert("P")]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    alpha = rgb.convert("RGBA")
    alpha.putalpha(Image.fromarray(np.full((36, 44), 100, np.uint8)))
    good = [
        ("photo.webp", _png(rgb, "WEBP"), None),
        ("photo.bmp", _png(rgb, "BMP"), None),
        ("anim.gif", gif.getvalue(), "first frame"),
        ("deep.png", _png(Image.fromarray((rng.random((36, 44)) * 65535).astype(np.uint16))), "16-bit"),
        ("glass.png", _png(alpha), "white"),
    ]
    for name, data, note in good:
        at.file_uploader(key="k_upload").set_value((name, data, "image/png")).run()
        assert not at.exception and not _errors(at), (name, _errors(at))
        assert _metric(at, "Input size") == "36 × 44", name
        if note:
            assert note in " ".join(c.value for c in at.caption), name
    bad = [
        ("huge.png", _png_header_only(50_000, 50_000), "claims 2.5 billion pixels"),
        ("big.png", _png_header_only(5_000, 5_000), "limit is 16.0 million"),
        ("empty.png", b"", "empty"),
        ("doc.png", _png(rgb, "TIFF"), "TIFF images are not supported"),
    ]
    for name, data, message in bad:
        at.file_uploader(key="k_upload").set_value((name, data, "image/png")).run()
        assert not at.exception and message in _errors(at)[0], (name, _errors(at))
        assert _metric(at, "Input size") == "36 × 44"  # the last good image stays
        assert any("last good image: **glass.png**" in c.value for c in at.sidebar.caption)
        assert any(message in e.value for e in at.sidebar.error)  # beside the uploader, in the sidebar


def test_same_kernel_twice_in_the_comparison_does_not_break_the_page():
    at = _open("Text")
    at.session_state["k_compare_open"] = True
    at.selectbox(key="k_preset").set_value("Sobel y").run()  # the comparison's default is Sobel y too
    assert not at.exception
    assert any("same kernel as above" in c.value for c in at.caption)


def test_step_through_jumps_to_the_strongest_pixel_when_the_image_or_size_changes():
    at = _open("Text")
    at.number_input(key="k_row").set_value(0).run()
    at.number_input(key="k_col").set_value(0).run()
    at.selectbox(key="k_preset").set_value("Laplacian").run()  # a new kernel keeps the pixel
    assert (at.number_input(key="k_row").value, at.number_input(key="k_col").value) == (0, 0)
    at.selectbox(key="k_source").set_value("Checkerboard").run()  # a new image: its strongest pixel
    plane = K.load_sample("Checkerboard").view()
    fmap = K.apply_kernel(plane, K.KERNELS["Laplacian"])
    pixel = (at.number_input(key="k_row").value, at.number_input(key="k_col").value)
    assert pixel == K.strongest_pixel(fmap)
    at.number_input(key="k_stride").set_value(2).run()  # a new size: again
    fmap = K.apply_kernel(plane, K.KERNELS["Laplacian"], stride=2)
    assert (at.number_input(key="k_row").value, at.number_input(key="k_col").value) == K.strongest_pixel(fmap)
    _check_step_through(at, plane, K.KERNELS["Laplacian"], stride=2)


def test_padding_and_dilation_are_explained_in_the_step_through():
    at = _open("Text")
    plane = K.load_sample("Text").view()
    assert not any("'pad' cells" in c for img in at.image for c in img.captions)  # no padding: nothing said
    at.number_input(key="k_padding").set_value(2).run()
    at.number_input(key="k_dilation").set_value(3).run()
    at.number_input(key="k_row").set_value(0).run()
    at.number_input(key="k_col").set_value(0).run()
    captions = unlinked(
        " ".join([c.value for c in at.caption] + [c for img in at.image for c in img.captions])
    )
    assert "'pad' cells lie in the zero padding" in captions and "every 3rd one (dilation 3)" in captions
    assert "Orange band: the zero padding" in captions
    _check_step_through(at, plane, K.KERNELS["Sobel x"], padding=2, dilation=3)


def test_missing_mnist_sample_is_explained_and_the_page_still_works(monkeypatch, tmp_path):
    """Without the bundled MNIST file the page opens on a pattern, says why, and refuses the digit clearly."""
    from cnnlib.data import load as D

    monkeypatch.setattr(D.load_mnist_sample, "__defaults__", (tmp_path / "missing.npz",))
    sample_dataset.cache_clear()
    try:
        at = open_app("pages/1_kernels.py")
        assert at.sidebar.selectbox(key="k_source").value == "Circle"
        assert any("MNIST digits could not be loaded" in c.value for c in at.sidebar.caption)
        at.sidebar.selectbox(key="k_source").set_value("MNIST digit").run()
        assert not at.exception
        assert any("could not be loaded on this server" in e.value for e in at.error)
    finally:
        sample_dataset.cache_clear()


def test_the_page_keeps_its_own_values_in_one_dict():
    """Each session-state key costs every value widget of every view (pages/ui/memory.py): besides its
    widgets' keys, the page keeps one."""
    from pages.ui.kernels.controls import MEMORY, PERSISTED

    at = _open("Text")
    at.text_area(key="k_text").input("1 2 1\n0 0 0\n-1 -2 -1").run()
    at.number_input(key="k_row").set_value(3).run()
    drawn = {w.key for kind in ("selectbox", "radio", "number_input", "slider", "toggle", "text_area")
             for w in getattr(at, kind) if w.key}  # fmt: skip
    keys = {k for k in at.session_state._state._state.filtered_state if k.startswith("k_")}
    figures = {"k_maps", "k_player"}  # the maps' and the window player's elements
    assert keys - drawn - set(PERSISTED) - figures == {MEMORY}
    assert {"image", "kernel", "settings", "saved", "pixel_context"} <= set(at.session_state[MEMORY])


def test_the_step_through_is_one_picture_with_its_patch_named():
    """The patch, kernel and products are a PNG (numbers written in, no Plotly), captioned."""
    at = _open("Text")
    at.number_input(key="k_row").set_value(1).run()
    at.number_input(key="k_col").set_value(2).run()
    captions = [c for img in at.image for c in img.captions]
    assert any(c.startswith("Patch: input rows 1…3, columns 2…4") for c in captions), captions
    assert not any("Products" in text for _, text in plotly_specs(at))  # no step chart left


def test_no_raw_html_in_markdown_and_the_box_styles_come_as_one_html_style():
    """Markdown with unsafe_allow_html makes each browser load rehype-raw (190 kB of JS, issue 28):
    the weights box's styles are one st.html of styles; its column beside the maps widens for a wide
    kernel (a 7x7 of fractions overflowed the box, issue 25)."""
    from pages.ui.kernels.controls import column_width

    at = _open("Text")
    assert not [m for m in at.markdown if m.proto.allow_html]
    assert not [c for c in at.caption if c.proto.allow_html]
    styles = " ".join(h.proto.body for h in at.get("html"))
    assert ".st-key-k_text textarea" in styles
    assert _weights_width(at) == column_width("", 16) == 14 * 16  # a 3x3 box fits the narrowest column
    wide = "\n".join(["1/49 " * 7] * 7)
    at.text_area(key="k_text").set_value(wide).run()
    assert _weights_width(at) == column_width(at.text_area(key="k_text").value, 16) > 14 * 16
    assert column_width("9" * 400, 16) == 30 * 16  # then the box scrolls sideways


def _weights_width(at: AppTest) -> int:
    """The weights column's width (px), the first fixed-width block of the page."""

    def walk(node):
        for child in getattr(node, "children", {}).values():
            proto = getattr(child, "proto", None)
            config = getattr(proto, "width_config", None) if type(child).__name__ == "Block" else None
            if config is not None and config.pixel_width:
                yield config.pixel_width
            yield from walk(child)

    return next(walk(at.main))
