"""cnnlib.plots.palette: every heat map of every figure uses the one palette, signed scales are
centred on 0, and the signed scale's two ends stay apart for deuteranopia and protanopia."""

from __future__ import annotations

import base64
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from cnnlib import plots as P
from cnnlib.plots import palette
from cnnlib.plots.builder import network_diagram, network_diagram_dict
from cnnlib.plots.kernels import grid_figure
from cnnlib.plots.training import live_figure
from cnnlib.shapes import stack_shapes
from cnnlib.spec import PRESETS, summarize

RNG = np.random.default_rng(0)
SIGNED_2D = RNG.normal(size=(6, 6))
POSITIVE_2D = RNG.random((6, 6))


def _curves() -> P.Curves:
    x = list(np.linspace(0, 2, 20))
    return P.Curves(
        name="run",
        batch_x=x,
        batch_loss=list(np.linspace(2.3, 0.3, 20)),
        epochs=[1, 2],
        train_loss=[1.0, 0.6],
        val_loss=[1.1, 0.7],
        train_acc=[0.5, 0.7],
        val_acc=[0.45, 0.65],
        lr_x=x,
        lr=[0.01] * 20,
    )


def _spec_rows():
    spec = PRESETS["LeNet-5"]
    return spec, summarize(spec)


STACK = [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "MaxPool2d", "kernel_size": 2}]
PAD = np.zeros((3, 3), dtype=bool)
PAD[0] = True

# Each figure function of cnnlib.plots, called on values of each kind it draws (signed and not).
FIGURES: dict[str, list[Callable[[], object]]] = {
    "batch_grid_figure": [lambda: P.batch_grid_figure(torch.rand(4, 1, 8, 8), [0, 1, 2, 3], list("abcd"))],
    "cam_figure": [lambda: P.cam_figure(POSITIVE_2D, POSITIVE_2D)],
    "comparison_figure": [  # two runs' lines, no heat map: nothing here may use a colour scale
        lambda: P.comparison_figure(
            P.Curves(
                "a",
                epochs=[1, 2],
                train_loss=[1.0, 0.5],
                val_loss=[1.1, 0.7],
                train_acc=[0.5, 0.8],
                val_acc=[0.4, 0.7],
            ),
            P.Curves("b", epochs=[1], train_loss=[0.9], val_loss=[1.0], train_acc=[0.6], val_acc=[0.5]),
            ("a", "b"),
        )
    ],
    "confusion_figure": [lambda: P.confusion_figure(np.array([[5, 1], [2, 7]]), ["a", "b"])],
    "feature_grid_figure": [
        lambda: P.feature_grid_figure(RNG.random((4, 5, 5)), [0, 1, 2, 3]),
        lambda: P.feature_grid_figure(RNG.normal(size=(4, 5, 5)), [3, 2, 1, 0]),
    ],
    "feature_maps_figure": [
        lambda: P.feature_maps_figure(
            [("conv1", RNG.random((3, 5, 5))), ("conv2", RNG.normal(size=(2, 3, 3)))]
        )
    ],
    "filters_figure": [
        lambda: P.filters_figure(RNG.normal(size=(4, 1, 3, 3))),
        lambda: P.filters_figure(RNG.normal(size=(4, 3, 3, 3))),
    ],
    "gallery_figure": [lambda: P.gallery_figure(RNG.random((3, 1, 8, 8)), ["a", "b", "c"])],
    "grad_norms_figure": [lambda: P.grad_norms_figure([("conv1.weight", 0.5), ("fc.weight", 0.1)])],
    "grid_figure": [
        lambda: grid_figure(SIGNED_2D[:3, :3], "kernel", signed=True, fractions=True),
        lambda: grid_figure(POSITIVE_2D[:3, :3], "patch", signed=False, padded=PAD),
        lambda: grid_figure(POSITIVE_2D[:3, :3], "auto"),
    ],
    "image_figure": [lambda: P.image_figure(POSITIVE_2D, padding=(1, 1, 1, 1), patch=([0, 1], [0, 1]))],
    "kernel_step_figure": [
        lambda: P.kernel_step_figure(torch.randn(3, 3), torch.randn(3, 3), torch.randn(3, 3), (1, 1))
    ],
    "live_figure": [lambda: live_figure(_curves(), [_curves()])],
    "live_figure_dict": [lambda: P.live_figure_dict(_curves(), [_curves()])],
    "loss_reveal_figure": [lambda: P.loss_reveal_figure(torch.tensor([0.2, 0.8]), torch.tensor([0.4, 0.6]))],
    "map_figure": [
        lambda: P.map_figure(SIGNED_2D, pixel=(1, 1), clickable=True),
        lambda: P.map_figure(POSITIVE_2D),
        lambda: P.map_figure(np.zeros((4, 4))),
    ],
    "network_diagram": [lambda: network_diagram(tuple(_spec_rows()[0].input_shape), _spec_rows()[1])],
    "network_diagram_dict": [
        lambda: network_diagram_dict(tuple(_spec_rows()[0].input_shape), _spec_rows()[1])
    ],
    "nll_figure": [lambda: P.nll_figure(torch.tensor([0.3, 1.2]), [0, 1], ["a", "b"], 0.75)],
    "per_class_figure": [lambda: P.per_class_figure([1, 0.5], [0.5, 1], [0.66, 0.66], ["x", "y"])],
    "probability_figure": [lambda: P.probability_figure(np.full(10, 0.1), [str(i) for i in range(10)])],
    "probs_figure": [
        lambda: P.probs_figure(
            torch.randn(2, 3), torch.softmax(torch.randn(2, 3), 1), [0, 2], list("abc"), [0, 1]
        )
    ],
    "spec_diagram": [lambda: P.spec_diagram(PRESETS["LeNet-5"].to_json(indent=None))],
    "stack_figure": [lambda: P.stack_figure(stack_shapes((1, 28, 28), STACK))],
    "step_figure": [lambda: P.step_figure(POSITIVE_2D[:3, :3], SIGNED_2D[:3, :3], SIGNED_2D[:3, :3], PAD)],
}


def _as_dict(fig: object) -> dict:
    return fig.to_plotly_json() if isinstance(fig, go.Figure) else fig  # type: ignore[return-value]


def _traces_with_colours(fig: dict) -> Iterator[dict]:
    """Every trace and every marker that carries a colour scale (the layout's template is only a
    default for traces that name none: each heat map here names its own)."""
    for trace in fig["data"]:
        yield trace
        if isinstance(trace.get("marker"), dict) and "colorscale" in trace["marker"]:
            yield trace["marker"]


def _values(z: object) -> np.ndarray:
    """A trace's z as numbers (plotly sends numpy arrays base64-encoded: {"dtype", "bdata", "shape"})."""
    if isinstance(z, dict) and "bdata" in z:
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        shape = z.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")] if shape else -1).astype(np.float64)
    return np.asarray(z if z is not None else [], dtype=np.float64)


def _norm(scale) -> list[tuple[float, str]]:
    return [(round(float(p), 4), str(c).replace(" ", "").lower()) for p, c in scale]


ALLOWED = {name: _norm(scale) for name, scale in palette.SCALES.items()}


def test_every_figure_function_is_checked():
    """Every figure function of every cnnlib.plots module, exported or not (a test-only one too)."""
    suffixes = ("_figure", "_figure_dict", "_diagram", "_diagram_dict")
    figures = {
        name
        for info in pkgutil.iter_modules(P.__path__)
        for name, value in vars(importlib.import_module(f"cnnlib.plots.{info.name}")).items()
        if name.endswith(suffixes) and not name.startswith("_") and inspect.isfunction(value)
        if value.__module__ == f"cnnlib.plots.{info.name}"
    }
    assert figures == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_heat_map_uses_the_palette_and_signed_ones_centre_on_zero(name):
    seen = 0
    for build in FIGURES[name]:
        fig = _as_dict(build())
        for t in _traces_with_colours(fig):
            if t.get("type") == "heatmap":
                assert "colorscale" in t, f"{name}: a heat map without the palette's scale"
            if "colorscale" not in t:
                continue
            seen += 1
            scale = _norm(t["colorscale"])
            kind = next((k for k, s in ALLOWED.items() if s == scale), None)
            if kind is None:
                assert palette.is_categories(t["colorscale"]), f"{name}: colour scale {scale[:3]}... not ours"
                continue
            if kind == "signed":
                zmid = t.get("zmid")
                assert zmid == 0 or (t.get("zmin") is not None and t["zmin"] == -t["zmax"]), name
                assert t["zmin"] == -t["zmax"] and t["zmax"] > 0, name
            else:
                assert t.get("zmin") == 0, f"{name}: a {kind} scale starts at 0"
                z = _values(t.get("z"))
                if z.size and not np.all(np.isnan(z)):
                    assert np.nanmin(z) >= 0, f"{name}: negative values on the {kind} scale"
    if name in (
        "cam_figure",
        "map_figure",
        "grid_figure",
        "step_figure",
        "filters_figure",
        "confusion_figure",
    ):
        assert seen, f"{name} drew no heat map"


def test_the_palette_names_its_scales_and_no_rainbow():
    assert set(palette.SCALES) == {"signed", "magnitude", "image"}
    assert palette.SIGNED[0][1] != palette.SIGNED[-1][1] and palette.SIGNED[5] == [0.5, "rgb(247,247,247)"]
    assert palette.MAGNITUDE[0][1] == "#440154" and palette.MAGNITUDE[-1][1] == "#fde725"  # viridis
    for scale in palette.SCALES.values():
        positions = [p for p, _ in scale]
        assert positions[0] == 0 and positions[-1] == 1 and positions == sorted(positions)
    for kind in palette.SCALES:
        assert palette.legend(kind).endswith(".")


def test_range_helpers():
    r = palette.signed_range(np.array([[-0.5, 2.0], [np.nan, 0.0]]))
    assert (r["zmin"], r["zmid"], r["zmax"]) == (-2.0, 0.0, 2.0) and r["colorscale"] is palette.SIGNED
    assert palette.signed_range(np.zeros(3))["zmax"] == 1.0  # all zero: still a range, 0 still white
    assert palette.signed_range(np.full(2, np.nan))["zmax"] == 1.0
    m = palette.magnitude_range(np.array([0.0, 3.0]))
    assert (m["zmin"], m["zmax"], m["colorscale"]) == (0.0, 3.0, palette.MAGNITUDE)
    assert palette.value_range(np.array([-1.0, 3.0]))["zmin"] == -3.0
    assert palette.value_range(np.array([0.0, 3.0]))["colorscale"] is palette.MAGNITUDE
    assert palette.is_categories(palette.categories(["#fff", "#000"]))
    assert not palette.is_categories(palette.MAGNITUDE)


# ---- colour-vision deficiency: Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
MACHADO = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
}


def _rgb(colour: str) -> np.ndarray:
    colour = colour.strip()
    if colour.startswith("#"):
        return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
    return np.array([float(v) for v in colour[colour.index("(") + 1 : -1].split(",")[:3]])


def _linear(rgb255: np.ndarray) -> np.ndarray:
    c = rgb255 / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65) from linear sRGB."""
    m = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = m @ np.clip(linear, 0.0, 1.0) / np.array([0.95047, 1.0, 1.08883])
    d = 6 / 29
    f = np.where(xyz > d**3, np.cbrt(xyz), xyz / (3 * d * d) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _distance(a: str, b: str, deficiency: str | None) -> float:
    la, lb = _linear(_rgb(a)), _linear(_rgb(b))
    if deficiency is not None:
        la, lb = MACHADO[deficiency] @ la, MACHADO[deficiency] @ lb
    return float(np.linalg.norm(_lab(la) - _lab(lb)))


@pytest.mark.parametrize("deficiency", [None, "deuteranopia", "protanopia"])
def test_signed_ends_stay_apart_for_colour_blind_eyes(deficiency):
    scale = palette.SIGNED
    # the two ends (most negative, most positive), and halfway out on each side
    assert _distance(scale[0][1], scale[-1][1], deficiency) > 30
    assert _distance(scale[2][1], scale[-3][1], deficiency) > 30


def test_the_simulation_does_merge_a_red_green_pair():
    """The check can fail: a red-green scale's ends nearly meet for the same eyes."""
    red, green = "rgb(215,48,39)", "rgb(26,152,80)"  # ColorBrewer RdYlGn's ends
    assert _distance(red, green, None) > 60
    assert _distance(red, green, "deuteranopia") < 30 and _distance(red, green, "protanopia") < 30
